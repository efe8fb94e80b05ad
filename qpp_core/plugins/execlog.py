"""``execlog``: log every executed instruction (QEMU's contrib/plugins/execlog.c).

One line per instruction, written once the instruction has run so that its memory
accesses (and, with ``reg=``, register changes) can be appended::

    0, 0x401000, 0xe5894855, "push rbp", store, 0x7ffffffee4f8

Fields: vcpu, address, the instruction's first (up to) 4 bytes read as a little-endian
u32 (QEMU prints the host-endian word), disassembly in capstone's syntax (QEMU uses its
own disassembler; mnemonics may differ), then ``load|store, 0xADDR`` per access.

* ``ifilter=STR`` (repeatable): log only instructions whose disassembly contains STR;
  ``ifilter=!STR`` drops them instead (QEMU's ``ifilter`` forms);
* ``afilter=ADDR`` (repeatable, hex): log only the instruction at ADDR;
* ``reg=NAME`` (repeatable, ``*``/``?`` globs): after each logged instruction, print the
  named registers that changed, one per line as ``  NAME -> 0xVALUE``.

Very slow: one Python call per executed instruction (and per memory access).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from qpp_core import (
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_MEM_RW,
    Arg,
    Instruction,
    MemInfo,
    RegisterDescriptor,
    TranslationBlock,
    hookimpl,
    qemu_plugin_get_registers,
    qemu_plugin_outs,
    qemu_plugin_read_register_int,
    qemu_plugin_register_vcpu_insn_exec_cb,
    qemu_plugin_register_vcpu_mem_cb,
)

qemu_plugin_version = 2


def _hex_addr(text: str) -> int:
    return int(text, 16)


_hex_addr.__name__ = "hex address"

qemu_plugin_args = {
    "ifilter": Arg(
        str,
        None,
        "log instructions whose disassembly contains STR (!STR: that do not)",
        multiple=True,
    ),
    "afilter": Arg(_hex_addr, None, "log the instruction at this hex address", multiple=True),
    "reg": Arg(str, None, "print changes of these registers (globs allowed)", multiple=True),
}

_state: dict[str, Any] = {}


@hookimpl
def qemu_plugin_install(args: Any) -> None:
    filters = list(args.get("ifilter") or [])
    _state.clear()
    _state.update(
        include=[f for f in filters if not f.startswith("!")],
        exclude=[f[1:] for f in filters if f.startswith("!")],
        addrs=set(args.get("afilter") or []),
        reg_patterns=list(args.get("reg") or []),
        regs=None,  # resolved lazily: the guest's registers exist once it is loaded
        last=[],  # the pending line's parts
        values={},
    )


def _wanted(insn: Instruction) -> bool:
    include, exclude, addrs = _state["include"], _state["exclude"], _state["addrs"]
    if not include and not addrs and not exclude:
        return True
    disas = insn.disas()
    if any(s in disas for s in exclude):
        return False
    if not include and not addrs:
        return True
    return any(s in disas for s in include) or insn.vaddr in addrs


def _registers() -> list[RegisterDescriptor]:
    regs = _state["regs"]
    if regs is None:
        pats = [p.lower() for p in _state["reg_patterns"]]
        regs = [
            r
            for r in qemu_plugin_get_registers()
            if any(fnmatch.fnmatchcase(r.name.lower(), p) for p in pats)
        ]
        _state["regs"] = regs
    return list(regs)


def _flush(regs: bool = True) -> None:
    """Write the pending instruction's line (with register changes when ``regs``)."""
    last: list[str] = _state["last"]
    if not last:
        return
    line = "".join(last)
    if regs and _state["reg_patterns"]:
        values: dict[str, int] = _state["values"]
        for reg in _registers():
            value = qemu_plugin_read_register_int(reg)
            if values.get(reg.name) != value:
                values[reg.name] = value
                line += f"\n  {reg.name} -> 0x{value:x}"
    last.clear()
    qemu_plugin_outs(line + "\n")


def _insn(vcpu_index: int, text: str) -> None:
    _flush()
    _state["last"].extend((f"{vcpu_index}, ", text))


def _mem(vcpu_index: int, info: MemInfo, vaddr: int, userdata: Any) -> None:
    kind = "store" if info.is_store else "load"
    _state["last"].append(f", {kind}, 0x{vaddr:08x}")


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    flags = QEMU_PLUGIN_CB_R_REGS if _state["reg_patterns"] else QEMU_PLUGIN_CB_NO_REGS
    for insn in tb.insns:
        if not _wanted(insn):
            continue
        opcode = int.from_bytes(insn.data[:4].ljust(4, b"\0"), "little")
        text = f'0x{insn.vaddr:x}, 0x{opcode:x}, "{insn.disas()}"'
        qemu_plugin_register_vcpu_insn_exec_cb(insn, _insn, flags, userdata=text)
        qemu_plugin_register_vcpu_mem_cb(insn, _mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW)


@hookimpl
def qemu_plugin_atexit() -> None:
    # registers are not readable once the guest is gone: the last line has no changes
    _flush(regs=False)
