"""``stoptrigger``: end the guest at an instruction count or address (QEMU's
contrib/plugins/stoptrigger.c).

* ``icount=N[:CODE]``: once N instructions have executed, exit with status CODE
  (default 0) before the next one runs, logging ``icount reached at 0xPC, exiting``
  (PC: the instruction that would have run next);
* ``addr=A[:CODE]`` (repeatable; A in hex, ``0x`` optional): exit with status CODE
  (default 0) when the instruction at A is about to run, logging
  ``0xA reached, exiting``.

Other plugins' atexit callbacks still run, as with QEMU's ``exit()``. Instructions are
counted per block (one Python call per executed block): the guest stops at the start of
the block holding the (N+1)-th instruction, and the log names that instruction. A system
call always ends a block, so no syscall past the N-th instruction runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qpp_core.api import qemu_plugin_outs
from qpp_core.hookspecs import hookimpl
from qpp_core.instrument import api
from qpp_core.instrument.handles import TranslationBlock
from qpp_core.loading.args import Arg
from qpp_core.plugins._guest import exit_guest


@dataclass(frozen=True)
class Trigger:
    """A parsed ``VALUE[:CODE]`` argument."""

    value: int
    code: int


def _trigger(base: int) -> Any:
    def parse(text: str) -> Trigger:
        value, _, code = text.partition(":")
        try:
            return Trigger(int(value, base), int(code, 0) if code else 0)
        except ValueError:
            kind = "a count" if base == 10 else "a hex address"
            raise ValueError(f"expected {kind}, optionally followed by :EXIT_CODE") from None

    parse.__name__ = "N[:code]" if base == 10 else "ADDR[:code]"
    return parse


qemu_plugin_version = 2
qemu_plugin_args = {
    "icount": Arg(_trigger(10), None, "exit after N instructions, with status CODE"),
    "addr": Arg(
        _trigger(16), None, "exit when ADDR (hex) is reached, with status CODE", multiple=True
    ),
}

_state: dict[str, Any] = {}


@hookimpl
def qemu_plugin_install(args: Any) -> None:
    icount = args.get("icount")
    addrs = args.get("addr") or []
    _state.clear()
    _state.update(icount=icount, executed=0, stopped=False, addrs={t.value: t.code for t in addrs})


def _stop(code: int, message: str) -> None:
    if _state["stopped"]:
        return
    _state["stopped"] = True
    qemu_plugin_outs(message)
    exit_guest(code)


def _block(vcpu_index: int, tb_insns: tuple[int, ...]) -> None:
    trig: Trigger = _state["icount"]
    done = _state["executed"]
    if done + len(tb_insns) > trig.value:
        _stop(trig.code, f"icount reached at 0x{tb_insns[trig.value - done]:x}, exiting\n")
    _state["executed"] = done + len(tb_insns)


def _addr(vcpu_index: int, vaddr: int) -> None:
    _stop(_state["addrs"][vaddr], f"0x{vaddr:x} reached, exiting\n")


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    if _state["icount"] is not None:
        addrs = tuple(insn.vaddr for insn in tb.insns)
        api.qemu_plugin_register_vcpu_tb_exec_cb(tb, _block, userdata=addrs)
    if _state["addrs"]:
        for insn in tb.insns:
            if insn.vaddr in _state["addrs"]:
                api.qemu_plugin_register_vcpu_insn_exec_cb(insn, _addr, userdata=insn.vaddr)
