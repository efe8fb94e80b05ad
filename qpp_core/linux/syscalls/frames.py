"""Writing a signal frame on the guest's stack and reading it back in ``sigreturn``.

The frame is the kernel's own (:mod:`.frame_layouts` holds each architecture's layout), so
a handler reads the interrupted registers in ``uc_mcontext``, may change them (advance the
pc past a faulting instruction, set a register, edit ``uc_sigmask``), and ``sigreturn``
resumes with what the frame then holds, as Linux does. Nothing about the interrupted
context is kept in qpp: ``siglongjmp`` out of a handler simply abandons its frame.
"""

from __future__ import annotations

import errno
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...machine.arch.base import UcError
from ...machine.regbatch import RegisterBatch
from .frame_layouts import SIGNAL_ABIS, FrameLayout, SignalAbi, Slot
from .frame_regs import FrameRegisters

if TYPE_CHECKING:
    from .kernel import LinuxKernel

SS_ONSTACK = 1
SS_DISABLE = 2


@dataclass(frozen=True)
class Delivery:
    """What a frame is built for: the handler, how it was installed, what it receives."""

    sig: int
    handler: int
    flags: int
    restorer: int  #: where the handler returns (sa_restorer or qpp's trampoline)
    siginfo: bytes
    old_mask: int  #: the mask sigreturn restores
    fault_address: int = 0


def signal_abi(k: LinuxKernel) -> SignalAbi:
    return SIGNAL_ABIS[k.arch_name]


def layout_for(sabi: SignalAbi, flags: int) -> FrameLayout:
    """The rt frame for SA_SIGINFO handlers (and on targets with only that one)."""
    if flags & sabi.sa_siginfo or sabi.plain is None:
        return sabi.rt
    return sabi.plain


def _reg(k: LinuxKernel, name: str) -> int:
    return k.m.arch.registers[name]


_REGISTERS: dict[tuple[str, int], FrameRegisters] = {}


def _words(*reg_ids: int) -> RegisterBatch:
    """A batch of these registers (built once per list: ids are unique per architecture)."""
    batch = _WORDS.get(reg_ids)
    if batch is None:
        batch = _WORDS[reg_ids] = RegisterBatch(reg_ids)
    return batch


_WORDS: dict[tuple[int, ...], RegisterBatch] = {}


def _registers(k: LinuxKernel, frame: FrameLayout, pc_reg: str) -> FrameRegisters:
    """``frame``'s register mover on the guest's architecture (built on first use)."""
    key = (k.arch_name, id(frame))
    regs = _REGISTERS.get(key)
    if regs is None:
        regs = _REGISTERS[key] = FrameRegisters(frame, pc_reg, lambda name: _reg(k, name))
    return regs


def _slot_bytes(slot: Slot, value: int) -> bytes:
    if slot.signed and value >> 31 & 1:
        value |= ~0xFFFF_FFFF
    return (value & ((1 << (8 * slot.size)) - 1)).to_bytes(slot.size, "little")


def on_altstack(k: LinuxKernel, sp: int) -> bool:
    """Whether ``sp`` is inside the guest's alternate signal stack."""
    from . import sigstate

    base, _flags, size = sigstate.state(k).altstack
    return bool(size) and base < sp <= base + size


def set_altstack(k: LinuxKernel, sp_now: int, sp: int, flags: int, size: int) -> int:
    """Linux's do_sigaltstack: set the alternate signal stack from a ``stack_t``'s words
    while the guest's stack pointer is ``sp_now``; 0, or the errno (EPERM while running
    on it, EINVAL for bad flags, ENOMEM for a stack too small)."""
    from . import sigstate

    mode = (flags & 0xFFFFFFFF) & 0x7FFFFFFF  # without SS_AUTODISARM
    if on_altstack(k, sp_now):
        return errno.EPERM
    if mode not in (0, 1, 2):  # 0, SS_ONSTACK, SS_DISABLE
        return errno.EINVAL
    st = sigstate.state(k)
    if mode == 2:
        st.altstack = (0, 0, 0)
    elif size < sigstate.SIG_ABI[k.arch_name].minsigstksz:
        return errno.ENOMEM
    else:
        st.altstack = (sp, flags & 0x80000000, size)
    return 0


def altstack_words(k: LinuxKernel, sp: int) -> tuple[int, int, int]:
    """(ss_sp, ss_flags, ss_size) as sigaltstack and uc_stack report them at ``sp``."""
    from . import sigstate

    base, flags, size = sigstate.state(k).altstack
    if on_altstack(k, sp):
        flags |= SS_ONSTACK
    elif not size:
        flags |= SS_DISABLE
    return base, flags, size


def push_frame(k: LinuxKernel, d: Delivery, *, in_trap: bool, onstack: bool) -> int:
    """Save the CPU in a new frame on the guest stack and enter the handler; the pc the
    frame holds (where the interrupted code resumes when the handler returns).

    ``in_trap``: from inside a syscall's hook (x86_64's pc is then short of the resume
    point). ``onstack``: SA_ONSTACK, the frame goes on the alternate stack if there is one
    and the guest is not on it yet.
    """
    from . import sigstate

    sabi = signal_abi(k)
    frame = layout_for(sabi, d.flags)
    uc = k.m.uc
    advance = sabi.pc_advance_in_trap if in_trap else 0
    sp_reg, pc_reg = _reg(k, sabi.sp_reg), _reg(k, sabi.pc_reg)
    fp_reg = _reg(k, "x29") if sabi.frame_record is not None else pc_reg
    sp_now, pc_now, fp = _words(sp_reg, pc_reg, fp_reg).read_words(uc)
    stack_words = altstack_words(k, sp_now)
    base, _flags, size = sigstate.state(k).altstack
    switch = onstack and size and not on_altstack(k, sp_now)
    sp = base + size if switch else sp_now - sabi.red_zone
    addr = (sp - frame.size) & -sabi.align
    if sabi.return_slot:
        addr -= 8  # as after a call: the return address at a 16-byte boundary less 8

    buf = bytearray(frame.size)
    resume = pc_now + advance
    _registers(k, frame, sabi.pc_reg).save(uc, buf)
    for slot in frame.slots:
        if slot.reg == sabi.pc_reg:
            buf[slot.offset : slot.offset + slot.size] = _slot_bytes(slot, resume)
    for off, n, value in frame.constants:
        buf[off : off + n] = value.to_bytes(n, "little")
    for off, target in frame.pointers:
        struct.pack_into("<Q" if k.m.arch.bits == 64 else "<I", buf, off, addr + target)
    nsig_bytes = sigstate.SIG_ABI[k.arch_name].sigset_size
    buf[frame.sigmask : frame.sigmask + nsig_bytes] = d.old_mask.to_bytes(nsig_bytes, "little")
    word = k.m.arch.word
    if frame.oldmask is not None:
        buf[frame.oldmask : frame.oldmask + word] = (d.old_mask & k.m.arch.mask).to_bytes(
            word, "little"
        )
    if frame.fault_address is not None:
        buf[frame.fault_address : frame.fault_address + word] = d.fault_address.to_bytes(
            word, "little"
        )
    if frame.stack is not None:
        ss_sp, ss_flags, ss_size = stack_words
        if word == 8:  # {ss_sp, int ss_flags, ss_size}
            packed = struct.pack("<QIIQ", ss_sp, ss_flags, 0, ss_size)
        elif sigstate.SIG_ABI[k.arch_name].stack_flags_last:  # mips: {ss_sp, ss_size, flags}
            packed = struct.pack("<III", ss_sp, ss_size, ss_flags)
        else:
            packed = struct.pack("<III", ss_sp, ss_flags, ss_size)
        buf[frame.stack : frame.stack + len(packed)] = packed
    if frame.info is not None:
        buf[frame.info : frame.info + len(d.siginfo)] = d.siginfo
    if sabi.return_slot:
        buf[0:8] = d.restorer.to_bytes(8, "little")
    if sabi.frame_record is not None:
        struct.pack_into("<QQ", buf, sabi.frame_record, fp, d.restorer)
    uc.mem_write(addr, bytes(buf))

    args = k.m.arch.syscall.args
    siginfo = bool(d.flags & sabi.sa_siginfo)
    entry = [
        (args[0], d.sig),
        (args[1], addr + frame.info if siginfo and frame.info is not None else 0),
        (args[2], addr + frame.context),
        *(
            (_reg(k, name), d.handler if what == "handler" else 0)
            for name, what in sabi.extra_entry_regs
        ),
    ]
    if sabi.return_reg is not None:
        entry.append((_reg(k, sabi.return_reg), d.restorer))
    if sabi.frame_record is not None:
        entry.append((fp_reg, addr + sabi.frame_record))
    entry.append((sp_reg, addr))
    # (arm: unicorn takes bit 0 of a written pc as the Thumb state, as a bx would)
    entry.append((pc_reg, d.handler - advance))
    _words(*(r for r, _ in entry)).write_words(uc, [v for _, v in entry])
    return int(resume)


def pop_frame(k: LinuxKernel, rt: bool) -> tuple[int, int] | None:
    """``sigreturn``/``rt_sigreturn`` (from inside its trap): restore the registers the
    frame at the stack pointer holds; (the mask to restore, the pc the guest resumes at),
    or None if the frame cannot be read (Linux then kills with SIGSEGV)."""
    from . import sigstate

    sabi = signal_abi(k)
    frame = sabi.rt if rt or sabi.plain is None else sabi.plain
    uc = k.m.uc
    sp_reg = _reg(k, sabi.sp_reg)
    addr = _words(sp_reg).read_words(uc)[0] - (8 if sabi.return_slot else 0)
    try:
        buf = bytes(uc.mem_read(addr, frame.size))
    except UcError:  # the frame is not readable
        return None
    pc = 0
    for slot in frame.slots:
        if slot.reg == sabi.pc_reg:
            raw = buf[slot.offset : slot.offset + slot.size]
            pc = int.from_bytes(raw, "little") & (0xFFFF_FFFF if slot.signed else -1)
    _registers(k, frame, sabi.pc_reg).restore(uc, buf)
    if sabi.thumb_cpsr is not None:
        cpsr_slot = next(s for s in frame.slots if s.reg == sabi.thumb_cpsr)
        cpsr = int.from_bytes(buf[cpsr_slot.offset : cpsr_slot.offset + 4], "little")
        pc = pc & ~1 | (cpsr >> 5 & 1)
    _words(_reg(k, sabi.pc_reg)).write_words(uc, [pc - sabi.pc_advance_in_trap])
    if frame.stack is not None:  # restore_altstack: uc_stack, as sigaltstack would set it
        _restore_altstack(k, buf[frame.stack :])
    size = sigstate.SIG_ABI[k.arch_name].sigset_size
    return int.from_bytes(buf[frame.sigmask : frame.sigmask + size], "little"), pc


def _restore_altstack(k: LinuxKernel, raw: bytes) -> None:
    """sigreturn takes the alternate stack from the frame's ``uc_stack`` (a handler may
    have changed it) with the stack pointer just restored; as in Linux, a refusal
    (EPERM on the alternate stack, EINVAL, ENOMEM) leaves it as it was."""
    from . import sigstate

    sp_now = _words(k.m.arch.sp).read_words(k.m.uc)[0]
    if k.m.arch.word == 8:  # {ss_sp, int ss_flags, ss_size}
        sp, flags, _pad, size = struct.unpack_from("<QIIQ", raw)
    elif sigstate.SIG_ABI[k.arch_name].stack_flags_last:  # mips: {ss_sp, ss_size, flags}
        sp, size, flags = struct.unpack_from("<III", raw)
    else:
        sp, flags, size = struct.unpack_from("<III", raw)
    set_altstack(k, sp_now, sp, flags, size)
