"""The ``qemu_plugin_*`` instrumentation functions, as in QEMU's ``qemu-plugin.h``.

Names, argument order and meaning follow QEMU, so that a C plugin ports line by line;
where C needs an out-parameter Python returns a value instead (``read_register`` returns
``bytes``, the syscall filter returns the result or ``None``). :mod:`qpp_core` re-exports
everything listed in ``__all__``.

Context rules, enforced with a :class:`~qpp_core.errors.QppUsageError` that says what to
do instead:

* functions taking an ``id`` need the id the plugin received at install;
* execution, memory and inline registrations take a block or instruction handle and work
  only inside the translation callback that received that block;
* registers are readable only from callbacks registered with ``QEMU_PLUGIN_CB_R_REGS`` or
  ``QEMU_PLUGIN_CB_RW_REGS`` (and vcpu / syscall callbacks), writable only with ``RW``.

Callback signatures (``vcpu_index``: the running guest thread's vcpu, 0 for the first):

* vcpu init / exit: ``cb(id, vcpu_index)``; translation: ``cb(id, tb)``;
* tb / insn exec: ``cb(vcpu_index, userdata)``;
  memory: ``cb(vcpu_index, info, vaddr, userdata)``;
* syscall: ``cb(id, vcpu_index, num, a1, ..., a8)``; syscall return:
  ``cb(id, vcpu_index, num, ret)``; syscall filter: same as syscall, returns the result to
  skip the call with, or ``None``;
* discontinuity: ``cb(id, vcpu_index, type, from_pc, to_pc)``; flush: ``cb(id)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from qpp_core.errors import QppUsageError
from qpp_core.instrument import vcpus
from qpp_core.instrument.core import Instrumentation
from qpp_core.instrument.handles import (
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
    QEMU_PLUGIN_COND_ALWAYS,
    QEMU_PLUGIN_COND_EQ,
    QEMU_PLUGIN_COND_GE,
    QEMU_PLUGIN_COND_GT,
    QEMU_PLUGIN_COND_LE,
    QEMU_PLUGIN_COND_LT,
    QEMU_PLUGIN_COND_NE,
    QEMU_PLUGIN_COND_NEVER,
    QEMU_PLUGIN_DISCON_ALL,
    QEMU_PLUGIN_DISCON_EXCEPTION,
    QEMU_PLUGIN_DISCON_HOSTCALL,
    QEMU_PLUGIN_DISCON_INTERRUPT,
    QEMU_PLUGIN_INLINE_ADD_U64,
    QEMU_PLUGIN_INLINE_STORE_U64,
    QEMU_PLUGIN_MEM_R,
    QEMU_PLUGIN_MEM_RW,
    QEMU_PLUGIN_MEM_W,
    U64,
    CbFlags,
    Cond,
    DisconType,
    ExecCallback,
    InlineOp,
    InlineRecord,
    Instruction,
    MemCallback,
    MemInfo,
    MemRW,
    RegisterDescriptor,
    Scoreboard,
    TranslationBlock,
)
from qpp_core.instrument.plan import make_cond
from qpp_core.session import LoadedPlugin, PluginId, active_plugin, current_session

# === helpers ==============================================================================


def _instr() -> Instrumentation:
    session = current_session()
    instr = session.instrumentation
    if instr is None:
        raise QppUsageError(
            "no guest is loaded: instrumentation functions work once `qpp run` has "
            "loaded the guest (from qemu_plugin_install on)"
        )
    assert isinstance(instr, Instrumentation)
    return instr


def _plugin(id: PluginId | int) -> tuple[Instrumentation, LoadedPlugin]:
    instr = _instr()
    return instr, instr.session.plugin(id)


def _handle_owner(handle: TranslationBlock | Instruction, what: str) -> LoadedPlugin | None:
    tb = handle.tb if isinstance(handle, Instruction) else handle
    if not isinstance(tb, TranslationBlock):
        raise QppUsageError(f"{what}: expected a block or instruction handle, got {handle!r}")
    tb.check_open(what)
    return active_plugin()


def _flags(flags: CbFlags | int) -> CbFlags:
    try:
        return CbFlags(int(flags))
    except ValueError:
        raise QppUsageError(f"unknown callback flags {flags!r}: use QEMU_PLUGIN_CB_*") from None


def _op(op: InlineOp | int) -> InlineOp:
    try:
        return InlineOp(int(op))
    except ValueError:
        raise QppUsageError(f"unknown inline op {op!r}: use QEMU_PLUGIN_INLINE_*") from None


def _rw(rw: MemRW | int) -> MemRW:
    value = int(rw)
    if value not in (1, 2, 3):
        raise QppUsageError(f"unknown memory access kind {rw!r}: use QEMU_PLUGIN_MEM_R/W/RW")
    return MemRW(value)


def _entry(entry: U64) -> U64:
    if not isinstance(entry, U64):
        raise QppUsageError(
            f"inline ops need a scoreboard entry (qemu_plugin_scoreboard_u64), got {entry!r}"
        )
    if entry.score.freed:
        raise QppUsageError("this scoreboard was freed")
    return entry


def _cond_key(cond: Cond | int, entry: U64, imm: int) -> tuple[Any, ...]:
    return (int(cond), id(entry.score), entry.slot, int(imm))


def _callable(cb: Any, what: str) -> None:
    if not callable(cb):
        raise QppUsageError(f"{what}: the callback must be callable, got {cb!r}")


# === global events ========================================================================


def qemu_plugin_register_vcpu_init_cb(id: PluginId, cb: Callable[[PluginId, int], Any]) -> None:
    """Call ``cb(id, vcpu_index)`` when a vcpu starts (at once if it already has)."""
    instr, plugin = _plugin(id)
    instr.register_global("vcpu_init", plugin, cb)


def qemu_plugin_register_vcpu_exit_cb(id: PluginId, cb: Callable[[PluginId, int], Any]) -> None:
    """Call ``cb(id, vcpu_index)`` when the vcpu exits (the guest process ended)."""
    instr, plugin = _plugin(id)
    instr.register_global("vcpu_exit", plugin, cb)


def qemu_plugin_register_vcpu_tb_trans_cb(
    id: PluginId, cb: Callable[[PluginId, TranslationBlock], Any]
) -> None:
    """Call ``cb(id, tb)`` for each block before it first executes.

    Registered during the run, it also sees blocks translated before (they are flushed
    and announced again)."""
    instr, plugin = _plugin(id)
    instr.register_global("tb_trans", plugin, cb)


def qemu_plugin_register_vcpu_syscall_cb(id: PluginId, cb: Callable[..., Any]) -> None:
    """Call ``cb(id, vcpu_index, num, a1, ..., a8)`` before each system call."""
    instr, plugin = _plugin(id)
    instr.register_global("syscall", plugin, cb)


def qemu_plugin_register_vcpu_syscall_ret_cb(id: PluginId, cb: Callable[..., Any]) -> None:
    """Call ``cb(id, vcpu_index, num, ret)`` after each system call (skipped ones too)."""
    instr, plugin = _plugin(id)
    instr.register_global("syscall_ret", plugin, cb)


def qemu_plugin_register_vcpu_syscall_filter_cb(
    id: PluginId, cb: Callable[..., int | None]
) -> None:
    """Call ``cb(id, vcpu_index, num, a1, ..., a8)`` before each system call; a non-None
    result skips the call and is what the guest gets (negative errno for failure).

    The first plugin (newest first) that returns a value wins; the syscall-return
    callbacks still run."""
    instr, plugin = _plugin(id)
    instr.register_global("syscall_filter", plugin, cb)


def qemu_plugin_register_vcpu_discon_cb(
    id: PluginId, type: DisconType | int, cb: Callable[..., Any]
) -> None:
    """Call ``cb(id, vcpu_index, type, from_pc, to_pc)`` on control-flow discontinuities.

    In user mode the only ones are system-call traps, reported as
    ``QEMU_PLUGIN_DISCON_EXCEPTION`` from the trapping instruction to where the guest
    resumes."""
    instr, plugin = _plugin(id)
    instr.register_global("discon", plugin, cb, discon=DisconType(int(type)))


def qemu_plugin_register_flush_cb(id: PluginId, cb: Callable[[PluginId], Any]) -> None:
    """Call ``cb(id)`` whenever translated code is dropped (handles become stale)."""
    instr, plugin = _plugin(id)
    instr.register_global("flush", plugin, cb)


def qemu_plugin_flush_translations() -> None:
    """Drop every translated block: all blocks are announced again when they next run."""
    _instr().flush_all("requested by a plugin")


# === execution callbacks ==================================================================


def _add_cond_callback(
    callbacks: list[ExecCallback],
    owner: LoadedPlugin | None,
    cb: Callable[[int, Any], Any],
    flags: CbFlags | int,
    cond: Cond | int,
    entry: U64,
    imm: int,
    userdata: Any,
) -> None:
    """Append a conditional exec callback (a ``NEVER`` condition registers nothing)."""
    condition = Cond(int(cond))
    if condition is Cond.NEVER:
        return
    callbacks.append(
        ExecCallback(
            owner,
            cb,
            _flags(flags),
            userdata,
            make_cond(condition, _entry(entry), imm),
            _cond_key(cond, entry, imm),
            (condition, entry, int(imm)),
        )
    )


def qemu_plugin_register_vcpu_tb_exec_cb(
    tb: TranslationBlock,
    cb: Callable[[int, Any], Any],
    flags: CbFlags | int = QEMU_PLUGIN_CB_NO_REGS,
    userdata: Any = None,
) -> None:
    """Call ``cb(vcpu_index, userdata)`` each time ``tb`` starts executing."""
    owner = _handle_owner(tb, "qemu_plugin_register_vcpu_tb_exec_cb")
    _callable(cb, "qemu_plugin_register_vcpu_tb_exec_cb")
    tb.exec_cbs.append(ExecCallback(owner, cb, _flags(flags), userdata))


def qemu_plugin_register_vcpu_tb_exec_cond_cb(
    tb: TranslationBlock,
    cb: Callable[[int, Any], Any],
    flags: CbFlags | int,
    cond: Cond | int,
    entry: U64,
    imm: int,
    userdata: Any = None,
) -> None:
    """Like the tb exec callback, but only when ``entry <cond> imm`` holds then."""
    owner = _handle_owner(tb, "qemu_plugin_register_vcpu_tb_exec_cond_cb")
    _callable(cb, "qemu_plugin_register_vcpu_tb_exec_cond_cb")
    _add_cond_callback(tb.exec_cbs, owner, cb, flags, cond, entry, imm, userdata)


def qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
    tb: TranslationBlock, op: InlineOp | int, entry: U64, imm: int
) -> None:
    """Apply ``op`` (add or store ``imm``) to the vcpu's ``entry`` each time ``tb`` runs."""
    owner = _handle_owner(tb, "qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu")
    tb.inline.append(InlineRecord(owner, _op(op), _entry(entry), int(imm)))


def qemu_plugin_register_vcpu_insn_exec_cb(
    insn: Instruction,
    cb: Callable[[int, Any], Any],
    flags: CbFlags | int = QEMU_PLUGIN_CB_NO_REGS,
    userdata: Any = None,
) -> None:
    """Call ``cb(vcpu_index, userdata)`` each time ``insn`` executes (before it runs)."""
    owner = _handle_owner(insn, "qemu_plugin_register_vcpu_insn_exec_cb")
    _callable(cb, "qemu_plugin_register_vcpu_insn_exec_cb")
    insn.exec_cbs.append(ExecCallback(owner, cb, _flags(flags), userdata))


def qemu_plugin_register_vcpu_insn_exec_cond_cb(
    insn: Instruction,
    cb: Callable[[int, Any], Any],
    flags: CbFlags | int,
    cond: Cond | int,
    entry: U64,
    imm: int,
    userdata: Any = None,
) -> None:
    """Like the insn exec callback, but only when ``entry <cond> imm`` holds then."""
    owner = _handle_owner(insn, "qemu_plugin_register_vcpu_insn_exec_cond_cb")
    _callable(cb, "qemu_plugin_register_vcpu_insn_exec_cond_cb")
    _add_cond_callback(insn.exec_cbs, owner, cb, flags, cond, entry, imm, userdata)


def qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
    insn: Instruction, op: InlineOp | int, entry: U64, imm: int
) -> None:
    """Apply ``op`` to the vcpu's ``entry`` each time ``insn`` executes.

    Folded per block at translation time (one application at block start), but exact as
    QEMU for what reads the entry during the block: a conditional callback sees the ops
    of the earlier instructions and those of its own registered before it, never those
    still to come (its condition is corrected per block, ``plan.exact_conds``). Plugin
    code reading the entry directly mid-block sees the whole block's contribution."""
    owner = _handle_owner(insn, "qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu")
    insn.inline.append(InlineRecord(owner, _op(op), _entry(entry), int(imm)))


def qemu_plugin_register_vcpu_mem_cb(
    insn: Instruction,
    cb: Callable[[int, MemInfo, int, Any], Any],
    flags: CbFlags | int = QEMU_PLUGIN_CB_NO_REGS,
    rw: MemRW | int = QEMU_PLUGIN_MEM_RW,
    userdata: Any = None,
) -> None:
    """Call ``cb(vcpu_index, info, vaddr, userdata)`` after each access ``insn`` makes."""
    owner = _handle_owner(insn, "qemu_plugin_register_vcpu_mem_cb")
    _callable(cb, "qemu_plugin_register_vcpu_mem_cb")
    insn.mem_cbs.append(MemCallback(owner, cb, _flags(flags), _rw(rw), userdata))


def qemu_plugin_register_vcpu_mem_inline_per_vcpu(
    insn: Instruction, rw: MemRW | int, op: InlineOp | int, entry: U64, imm: int
) -> None:
    """Apply ``op`` to the vcpu's ``entry`` on each access of kind ``rw`` by ``insn``."""
    owner = _handle_owner(insn, "qemu_plugin_register_vcpu_mem_inline_per_vcpu")
    insn.mem_inline.append(InlineRecord(owner, _op(op), _entry(entry), int(imm), _rw(rw)))


# === scoreboards ==========================================================================


def qemu_plugin_scoreboard_new(element_size: int = 8) -> Scoreboard:
    """A per-vcpu scoreboard of ``element_size`` bytes (u64 slots, zeroed)."""
    return Scoreboard(element_size)


def qemu_plugin_scoreboard_free(score: Scoreboard) -> None:
    """Release a scoreboard (inline ops already registered keep their storage)."""
    score.freed = True


def qemu_plugin_scoreboard_u64(score: Scoreboard) -> U64:
    """The u64 at offset 0 of each vcpu's element."""
    return score.entry(0)


def qemu_plugin_scoreboard_u64_in_struct(score: Scoreboard, offset: int) -> U64:
    """The u64 at byte ``offset`` of each vcpu's element."""
    return score.entry(offset)


def qemu_plugin_u64_add(entry: U64, vcpu_index: int, added: int) -> None:
    entry.add(vcpu_index, added)


def qemu_plugin_u64_get(entry: U64, vcpu_index: int) -> int:
    return entry.get(vcpu_index)


def qemu_plugin_u64_set(entry: U64, vcpu_index: int, value: int) -> None:
    entry.set(vcpu_index, value)


def qemu_plugin_u64_sum(entry: U64) -> int:
    """The entry summed over all vcpus, wrapped to 64 bits."""
    return entry.sum()


def qemu_plugin_num_vcpus() -> int:
    """How many vcpus ran so far (each guest thread is one; indexes are reused as QEMU
    reuses them)."""
    return vcpus.STATE.count


# === the guest program and its end ========================================================


@dataclass(frozen=True)
class _Image:
    path: str
    start_code: int
    end_code: int
    entry: int


@lru_cache(maxsize=8)
def _read_image(path: str, entry: int) -> _Image:
    from qpp_core.linux.elf import read_elf

    img = read_elf(path)
    bias = entry - img.entry
    code = [s for s in img.segments if s.prot & 4] or list(img.segments)
    start = min(s.vaddr for s in code) + bias
    end = max(s.vaddr + s.memsz for s in code) + bias
    return _Image(os.path.realpath(path), start, end, entry)


def _image() -> _Image:
    machine = _instr().machine
    path = getattr(getattr(getattr(machine, "kernel", None), "opts", None), "binary", None)
    if path is None:
        raise QppUsageError("the guest's executable is unknown (no guest program loaded)")
    return _read_image(str(path), int(machine.entry))


def qemu_plugin_path_to_binary() -> str:
    """The guest executable's absolute path (symbolic links resolved)."""
    return _image().path


def qemu_plugin_start_code() -> int:
    """The lowest loaded address of the executable's executable segments."""
    return _image().start_code


def qemu_plugin_end_code() -> int:
    """The end (exclusive) of the executable's executable segments, as loaded."""
    return _image().end_code


def qemu_plugin_entry_code() -> int:
    """The executable's entry point, as loaded."""
    return _image().entry


def qemu_plugin_guest_bits() -> int:
    """The guest's word size in bits: 64 or 32 (not in QEMU's header)."""
    bits: int = _instr().arch.bits
    return bits


def qemu_plugin_exit_guest(id: PluginId | int, status: int) -> None:
    """End the guest now with exit ``status``, as a QEMU plugin's ``exit(status)`` does:
    the atexit callbacks still run and the process exits with ``status & 0xff``
    (not in QEMU's header).

    Exact at instruction granularity: from an insn exec callback or a breakpoint the
    instruction does not run (and no callback after this one on it); from a tb exec
    callback the block does not run; from a memory callback the accessing instruction is
    the last one. Inline counts stop at the same point, and no later syscall happens.
    """
    instr, _ = _plugin(id)
    instr.exit_guest(int(status))


def qemu_plugin_register_vcpu_breakpoint_cb(
    id: PluginId | int,
    vaddr: int,
    cb: Callable[[int, Any], Any],
    flags: CbFlags | int = QEMU_PLUGIN_CB_NO_REGS,
    userdata: Any = None,
) -> None:
    """Call ``cb(vcpu_index, userdata)`` once, right before the instruction at ``vaddr``
    next executes, ahead of its other callbacks (not in QEMU's header).

    Usable from any callback. Registered from a tb exec callback for an instruction of
    the block starting, it fires within this very execution of the block: with
    :func:`qemu_plugin_exit_guest`, that stops a guest exactly mid-block at the cost of
    one Python call per block. Costs nothing elsewhere (one code hook on that address)."""
    instr, plugin = _plugin(id)
    _callable(cb, "qemu_plugin_register_vcpu_breakpoint_cb")
    instr.register_breakpoint(int(vaddr), ExecCallback(plugin, cb, _flags(flags), userdata))


# === block and instruction queries ========================================================


def qemu_plugin_tb_n_insns(tb: TranslationBlock) -> int:
    return tb.n_insns


def qemu_plugin_tb_vaddr(tb: TranslationBlock) -> int:
    return tb.vaddr


def qemu_plugin_tb_size(tb: TranslationBlock) -> int:
    """The block's size in bytes (not in QEMU's header; handy for coverage tools)."""
    return tb.size


def qemu_plugin_tb_get_insn(tb: TranslationBlock, idx: int) -> Instruction:
    return tb.insn(idx)


def qemu_plugin_insn_data(insn: Instruction) -> bytes:
    return insn.data


def qemu_plugin_insn_size(insn: Instruction) -> int:
    return insn.size


def qemu_plugin_insn_vaddr(insn: Instruction) -> int:
    return insn.vaddr


def qemu_plugin_insn_haddr(insn: Instruction) -> None:
    """Host addresses do not exist for a Python plugin: always ``None``."""
    return None


def qemu_plugin_insn_disas(insn: Instruction) -> str:
    return insn.disas()


def qemu_plugin_insn_symbol(insn: Instruction) -> str | None:
    return insn.symbol()


# === memory access queries ================================================================


def qemu_plugin_mem_size_shift(info: MemInfo) -> int:
    return info.size_shift


def qemu_plugin_mem_is_sign_extended(info: MemInfo) -> bool:
    return info.sign_extended


def qemu_plugin_mem_is_big_endian(info: MemInfo) -> bool:
    return info.big_endian


def qemu_plugin_mem_is_store(info: MemInfo) -> bool:
    return info.is_store


def qemu_plugin_mem_get_value(info: MemInfo) -> int:
    """The value loaded or stored, zero-extended to the access size."""
    return info.value


def qemu_plugin_get_hwaddr(info: MemInfo, vaddr: int) -> None:
    """User mode has no physical addresses: always ``None``."""
    return None


# === registers and guest memory ===========================================================


def qemu_plugin_get_registers() -> list[RegisterDescriptor]:
    """Every guest register: ``handle`` (for read/write), ``name``, ``feature``."""
    return _instr().registers()


def _reg_handle(handle: RegisterDescriptor | int) -> int:
    return handle.handle if isinstance(handle, RegisterDescriptor) else int(handle)


def qemu_plugin_read_register(handle: RegisterDescriptor | int) -> bytes:
    """The register's value as target-endian bytes of the guest word size (or wider)."""
    instr = _instr()
    value = instr.read_register(_reg_handle(handle))
    width: int = instr.arch.bits // 8
    while value >> (8 * width):
        width *= 2
    order: Literal["little", "big"] = "little" if instr.arch.little_endian else "big"
    return (value & ((1 << (8 * width)) - 1)).to_bytes(width, order)


def qemu_plugin_read_register_int(handle: RegisterDescriptor | int) -> int:
    """The register's value as an unsigned integer (Pythonic form of the above)."""
    return _instr().read_register(_reg_handle(handle))


def qemu_plugin_write_register(handle: RegisterDescriptor | int, value: bytes | int) -> None:
    """Write a register from target-endian bytes or an int (needs ``RW_REGS``)."""
    instr = _instr()
    if isinstance(value, (bytes, bytearray)):
        order: Literal["little", "big"] = "little" if instr.arch.little_endian else "big"
        value = int.from_bytes(value, order)
    instr.write_register(_reg_handle(handle), int(value))


def qemu_plugin_read_memory_vaddr(addr: int, length: int) -> bytes | None:
    """Guest memory at virtual ``addr``; ``None`` when it is not mapped (QEMU's false)."""
    try:
        data: bytes = _instr().machine.read_memory(addr, length)
        return bytes(data)
    except QppUsageError:
        raise
    except Exception:
        return None


def qemu_plugin_write_memory_vaddr(addr: int, data: bytes) -> bool:
    """Write guest memory at virtual ``addr``; ``False`` when it is not mapped."""
    try:
        _instr().machine.write_memory(addr, bytes(data))
    except QppUsageError:
        raise
    except Exception:
        return False
    return True


__all__ = [
    "QEMU_PLUGIN_CB_NO_REGS",
    "QEMU_PLUGIN_CB_RW_REGS",
    "QEMU_PLUGIN_CB_R_REGS",
    "QEMU_PLUGIN_COND_ALWAYS",
    "QEMU_PLUGIN_COND_EQ",
    "QEMU_PLUGIN_COND_GE",
    "QEMU_PLUGIN_COND_GT",
    "QEMU_PLUGIN_COND_LE",
    "QEMU_PLUGIN_COND_LT",
    "QEMU_PLUGIN_COND_NE",
    "QEMU_PLUGIN_COND_NEVER",
    "QEMU_PLUGIN_DISCON_ALL",
    "QEMU_PLUGIN_DISCON_EXCEPTION",
    "QEMU_PLUGIN_DISCON_HOSTCALL",
    "QEMU_PLUGIN_DISCON_INTERRUPT",
    "QEMU_PLUGIN_INLINE_ADD_U64",
    "QEMU_PLUGIN_INLINE_STORE_U64",
    "QEMU_PLUGIN_MEM_R",
    "QEMU_PLUGIN_MEM_RW",
    "QEMU_PLUGIN_MEM_W",
    "U64",
    "CbFlags",
    "Cond",
    "DisconType",
    "InlineOp",
    "Instruction",
    "MemInfo",
    "MemRW",
    "RegisterDescriptor",
    "Scoreboard",
    "TranslationBlock",
    "qemu_plugin_end_code",
    "qemu_plugin_entry_code",
    "qemu_plugin_exit_guest",
    "qemu_plugin_flush_translations",
    "qemu_plugin_get_hwaddr",
    "qemu_plugin_get_registers",
    "qemu_plugin_guest_bits",
    "qemu_plugin_insn_data",
    "qemu_plugin_insn_disas",
    "qemu_plugin_insn_haddr",
    "qemu_plugin_insn_size",
    "qemu_plugin_insn_symbol",
    "qemu_plugin_insn_vaddr",
    "qemu_plugin_mem_get_value",
    "qemu_plugin_mem_is_big_endian",
    "qemu_plugin_mem_is_sign_extended",
    "qemu_plugin_mem_is_store",
    "qemu_plugin_mem_size_shift",
    "qemu_plugin_num_vcpus",
    "qemu_plugin_path_to_binary",
    "qemu_plugin_read_memory_vaddr",
    "qemu_plugin_read_register",
    "qemu_plugin_read_register_int",
    "qemu_plugin_register_flush_cb",
    "qemu_plugin_register_vcpu_breakpoint_cb",
    "qemu_plugin_register_vcpu_discon_cb",
    "qemu_plugin_register_vcpu_exit_cb",
    "qemu_plugin_register_vcpu_init_cb",
    "qemu_plugin_register_vcpu_insn_exec_cb",
    "qemu_plugin_register_vcpu_insn_exec_cond_cb",
    "qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu",
    "qemu_plugin_register_vcpu_mem_cb",
    "qemu_plugin_register_vcpu_mem_inline_per_vcpu",
    "qemu_plugin_register_vcpu_syscall_cb",
    "qemu_plugin_register_vcpu_syscall_filter_cb",
    "qemu_plugin_register_vcpu_syscall_ret_cb",
    "qemu_plugin_register_vcpu_tb_exec_cb",
    "qemu_plugin_register_vcpu_tb_exec_cond_cb",
    "qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu",
    "qemu_plugin_register_vcpu_tb_trans_cb",
    "qemu_plugin_scoreboard_free",
    "qemu_plugin_scoreboard_new",
    "qemu_plugin_scoreboard_u64",
    "qemu_plugin_scoreboard_u64_in_struct",
    "qemu_plugin_start_code",
    "qemu_plugin_tb_get_insn",
    "qemu_plugin_tb_n_insns",
    "qemu_plugin_tb_size",
    "qemu_plugin_tb_vaddr",
    "qemu_plugin_u64_add",
    "qemu_plugin_u64_get",
    "qemu_plugin_u64_set",
    "qemu_plugin_u64_sum",
    "qemu_plugin_write_memory_vaddr",
    "qemu_plugin_write_register",
]
