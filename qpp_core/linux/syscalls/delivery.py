"""Running guest signal handlers, at the end of a system call.

A signal the guest should handle (its ``SIGCHLD`` when a child ends, a ``kill`` or
``raise`` of itself, ``SIGPIPE``) is made pending; when a system call returns and the
signal is not blocked, the handler is called as the kernel calls it: the whole CPU
context is saved, the handler runs on the guest's stack with ``(sig, siginfo, ucontext)``
and returns through the guest's ``sa_restorer`` (or qpp's trampoline, in the page where
qemu-user keeps its own) into ``rt_sigreturn``, which restores the context, the interrupted
call's result included, and the signal mask.

This is the minimal form of delivery: the saved context lives in qpp, not in a kernel
``rt_sigframe`` on the guest stack, so a handler that reads or edits ``uc_mcontext``, an
alternate signal stack, and asynchronous delivery in the middle of a block are not
emulated yet (issue: signal frames).
"""

from __future__ import annotations

import errno
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from ...machine.signals import target_signal_number
from . import sigstate
from .process import CHILD_SIGNALS
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

#: a handler's return value meaning "the registers are already what they must be"
KEEP_REGISTERS = -(1 << 62)

SA_SIGINFO = {"mipsel": 8}  # elsewhere 4
SA_RESTORER = 0x04000000
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000
SI_USER = 0
CLD_EXITED = 1

#: the ``rt_sigreturn`` trampoline per architecture, written into the page qemu-user keeps
#: for its own (little-endian machine code: ``mov NR, reg; trap``)
TRAMPOLINES = {
    "x86_64": bytes.fromhex("b80f000000") + bytes.fromhex("0f05"),  # mov $15,%eax; syscall
    "aarch64": struct.pack("<II", 0xD2801168, 0xD4000001),  # mov x8,#139; svc #0
    "riscv64": struct.pack("<II", 0x08B00893, 0x00000073),  # li a7,139; ecall
    "arm": struct.pack("<II", 0xE3A070AD, 0xEF000000),  # mov r7,#173; svc #0
    "mipsel": struct.pack("<II", 0x24021061, 0x0000000C),  # li v0,4193; syscall
}
#: stack bytes a leaf function may use below the stack pointer (x86_64's red zone)
RED_ZONE = {"x86_64": 128}
#: unicorn moves x86_64's pc past the ``syscall`` instruction after its hook returns, so a
#: pc written inside the hook is written this much short
PC_ADVANCE_AFTER_TRAP = {"x86_64": 2}
SIGINFO_SIZE = 128
UCONTEXT_SIZE = 1024


@dataclass
class _Frame:
    context: Any  #: unicorn's saved CPU context
    mask: bytes  #: the signal mask to restore
    in_trap: bool  #: saved inside a syscall's hook (else at a fault, between engine runs)


@dataclass
class _State:
    pending: set[int] = field(default_factory=set)
    frames: list[_Frame] = field(default_factory=list)
    #: rt_sigsuspend's caller's mask, restored when the handler that ended it returns
    suspended_mask: bytes | None = None


_STATES: WeakKeyDictionary[LinuxKernel, _State] = WeakKeyDictionary()


def _state(k: LinuxKernel) -> _State:
    st = _STATES.get(k)
    if st is None:
        st = _STATES[k] = _State()
    return st


def install_trampoline(k: LinuxKernel, addr: int) -> None:
    """Write the ``rt_sigreturn`` trampoline at ``addr`` (a page of the guest's)."""
    k.m.uc.mem_write(addr, TRAMPOLINES[k.arch_name])
    k.sigtramp = addr


def post(k: LinuxKernel, sig: int) -> None:
    """Guest signal ``sig`` (guest numbering), whose disposition is a handler, is pending."""
    _state(k).pending.add(sig)


def _blocked(k: LinuxKernel, sig: int) -> bool:
    mask = int.from_bytes(sigstate.state(k).mask or b"\0", "little")
    return bool(mask >> (sig - 1) & 1)


def _deliverable(k: LinuxKernel) -> int | None:
    """The pending signal a handler would run for now, if any (SIGCHLDs become pending)."""
    if CHILD_SIGNALS.pending:
        chld = sigstate.guest_sigchld(k)
        if sigstate.disposition(k, chld) > sigstate.SIG_IGN:
            CHILD_SIGNALS.take()
            post(k, chld)
    st = _STATES.get(k)
    if st is None:
        return None
    return next((sig for sig in sorted(st.pending) if not _blocked(k, sig)), None)


def signal_waiting(k: LinuxKernel) -> bool:
    """Whether a handler is due: a blocking call then ends with EINTR (no SA_RESTART yet)."""
    st = _STATES.get(k)
    return bool(CHILD_SIGNALS.pending or (st is not None and st.pending)) and (
        _deliverable(k) is not None
    )


def deliver_pending(k: LinuxKernel) -> None:
    """At the end of a system call: run the handler of one pending, unblocked signal."""
    sig = _deliverable(k)
    st = _STATES.get(k)
    if sig is None:
        if st is not None and st.suspended_mask is not None:  # rt_sigsuspend ended anyway
            sigstate.state(k).mask, st.suspended_mask = st.suspended_mask, None
        return
    assert st is not None
    st.pending.discard(sig)
    _run_handler(k, sig)


#: how often a waiting ``rt_sigsuspend`` looks again (a host signal also ends the wait)
WAIT_SLICE = 0.02


@handles("rt_sigsuspend", "pause")
def sys_sigsuspend(k: LinuxKernel, a: Args) -> int:
    """Wait, with rt_sigsuspend's mask, until a handler is to run; then EINTR, as Linux.

    The signals that come are a guest child's SIGCHLD and those the guest sends itself
    (from another guest process too: they are host processes); a host signal that ends
    the guest ends the wait.
    """
    sst = sigstate.state(k)
    size = sigstate.SIG_ABI[k.arch_name].sigset_size
    if k.table.get(k.m.uc.reg_read(k.m.arch.syscall.number)) == "rt_sigsuspend":
        if a[1] != size:
            return -errno.EINVAL
        _state(k).suspended_mask = sst.mask or bytes(size)
        sst.mask = k.read(a[0], size)
    while _deliverable(k) is None:
        if k.m.host_signal is not None:
            break
        time.sleep(WAIT_SLICE)
    return -errno.EINTR


def _action(k: LinuxKernel, sig: int) -> tuple[int, int, int, int]:
    """(handler, flags, restorer, mask) of the guest's ``struct sigaction``."""
    sa = sigstate.SIG_ABI[k.arch_name]
    raw = sigstate.state(k).actions.get(sig, bytes(sa.action_size))
    w = k.m.arch.word
    fmt = "<Q" if w == 8 else "<I"

    def word(off: int) -> int:
        return int(struct.unpack_from(fmt, raw, off)[0])

    if k.arch_name == "mipsel":  # flags (int), handler, mask
        flags = int(struct.unpack_from("<I", raw, 0)[0])
        return word(4), flags, 0, int.from_bytes(raw[8:24], "little")
    if k.arch_name == "riscv64":  # handler, flags, mask: no sa_restorer
        return word(0), word(w), 0, int.from_bytes(raw[2 * w : 2 * w + 8], "little")
    return word(0), word(w), word(2 * w), int.from_bytes(raw[3 * w : 3 * w + 8], "little")


def post_host_signal(k: LinuxKernel, host_sig: int) -> bool:
    """A host signal (a timer's, or sent to qpp) for which the guest has a handler: post it
    (True); the handler runs at the next block boundary or system call end."""
    sig = target_signal_number(k.arch_name, host_sig)
    if sigstate.disposition(k, sig) <= sigstate.SIG_IGN:
        return False
    post(k, sig)
    return True


def deliver_posted(k: LinuxKernel) -> bool:
    """Between two engine runs: run the handler of a posted, unblocked signal (True)."""
    st = _STATES.get(k)
    if st is None or not st.pending:
        return False
    sig = _deliverable(k)
    if sig is None:
        return False
    st.pending.discard(sig)
    _run_handler(k, sig, in_trap=False)
    return True


def deliver_fault(k: LinuxKernel, host_sig: int, addr: int | None, code: int) -> bool:
    """A synchronous fault: run the guest's handler for it now, if it has one it does not
    block (a blocked or ignored fault signal kills the guest, as Linux forces it)."""
    sig = target_signal_number(k.arch_name, host_sig)
    if sigstate.disposition(k, sig) <= sigstate.SIG_IGN or _blocked(k, sig):
        return False
    _run_handler(k, sig, in_trap=False, addr=addr or 0, code=code)
    return True


def _run_handler(
    k: LinuxKernel, sig: int, *, in_trap: bool = True, addr: int = 0, code: int | None = None
) -> None:
    """Call the guest's handler for ``sig``; ``in_trap``: from inside a syscall's hook."""
    m = k.m
    uc = m.uc
    arch = m.arch
    handler, flags, restorer, sa_mask = _action(k, sig)
    sst = sigstate.state(k)
    size = sigstate.SIG_ABI[k.arch_name].sigset_size
    own = _state(k)
    old_mask = own.suspended_mask or sst.mask or bytes(size)
    own.suspended_mask = None
    own.frames.append(_Frame(uc.context_save(), old_mask, in_trap))
    blocked = int.from_bytes(old_mask, "little") | sa_mask
    if not flags & SA_NODEFER:
        blocked |= 1 << (sig - 1)
    sst.mask = (blocked & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    if flags & SA_RESETHAND:
        sst.actions.pop(sig, None)

    sp = uc.reg_read(arch.sp) - RED_ZONE.get(k.arch_name, 0)
    uctx = (sp - UCONTEXT_SIZE) & ~15
    info = (uctx - SIGINFO_SIZE) & ~15
    if code is None:
        code = CLD_EXITED if sig == sigstate.guest_sigchld(k) else SI_USER
    siginfo = bytearray(SIGINFO_SIZE)
    if k.arch_name == "mipsel":  # si_signo, si_code, si_errno
        struct.pack_into("<iii", siginfo, 0, sig, code, 0)
    else:
        struct.pack_into("<iii", siginfo, 0, sig, 0, code)
    if addr:  # si_addr: the union's first member
        struct.pack_into(
            "<Q" if arch.bits == 64 else "<I", siginfo, 16 if arch.bits == 64 else 12, addr
        )
    uc.mem_write(info, bytes(siginfo))
    uc.mem_write(uctx, bytes(UCONTEXT_SIZE))
    ret = restorer if flags & SA_RESTORER and restorer else k.sigtramp
    sp = info & ~15
    regs = arch.registers
    args = arch.syscall.args
    uc.reg_write(args[0], sig)
    uc.reg_write(args[1], info if flags & SA_SIGINFO.get(k.arch_name, 4) else 0)
    uc.reg_write(args[2], uctx if flags & SA_SIGINFO.get(k.arch_name, 4) else 0)
    if k.arch_name == "x86_64":
        sp -= 8  # the return address, as a call leaves it: the handler sees rsp % 16 == 8
        uc.mem_write(sp, struct.pack("<Q", ret))
        uc.reg_write(regs["rax"], 0)
    else:
        uc.reg_write(regs["ra"] if "ra" in regs else regs["lr"], ret)
    if k.arch_name == "mipsel":
        sp -= 16  # o32: the caller's argument save area
        uc.reg_write(regs["t9"], handler)  # PIC code finds its GOT through t9
    uc.reg_write(arch.sp, sp)
    # (arm: unicorn takes bit 0 of a written pc as the Thumb state, as a bx would)
    advance = PC_ADVANCE_AFTER_TRAP.get(k.arch_name, 0) if in_trap else 0
    uc.reg_write(arch.pc, handler - advance)
    m.request_restart()


def sigreturn(k: LinuxKernel) -> int:
    """``rt_sigreturn``: back to where the signal interrupted, registers and mask as then."""
    st = _STATES.get(k)
    if st is None or not st.frames:
        k.m.kill(11, "rt_sigreturn without a signal frame")  # Linux: SIGSEGV
        return KEEP_REGISTERS
    frame = st.frames.pop()
    uc = k.m.uc
    uc.context_restore(frame.context)
    advance = PC_ADVANCE_AFTER_TRAP.get(k.arch_name, 0)
    if advance and not frame.in_trap:  # rt_sigreturn's own trap moves the pc on
        uc.reg_write(k.m.arch.pc, uc.reg_read(k.m.arch.pc) - advance)
    sigstate.state(k).mask = frame.mask
    k.m.request_restart()
    return KEEP_REGISTERS
