"""``stoptrigger``: end the guest at an instruction count or address (QEMU's
contrib/plugins/stoptrigger.c).

* ``icount=N[:CODE]``: once exactly N instructions have executed, exit with status CODE
  (default 0) before the next one runs, logging ``icount reached at 0xPC, exiting``
  (PC: the instruction that would have run next);
* ``addr=A[:CODE]`` (repeatable; A in hex, ``0x`` optional): exit with status CODE
  (default 0) when the instruction at A is about to run (it does not run), logging
  ``0xA reached, exiting``.

Other plugins' atexit callbacks still run, as with QEMU's ``exit()``, and their counts
stop at the same instruction (an ``insn`` plugin in the same run reports exactly N).

Cost: one Python call per executed block (icount), or per execution of a block holding
a target address (addr); nothing per instruction. When the stop falls inside the block
that starts, a one-shot breakpoint on that instruction
(:func:`~qpp_core.instrument.qemu_plugin_register_vcpu_breakpoint_cb`) ends the guest
there with :func:`~qpp_core.instrument.qemu_plugin_exit_guest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qpp_core import (
    Arg,
    TranslationBlock,
    hookimpl,
    qemu_plugin_exit_guest,
    qemu_plugin_outs,
    qemu_plugin_register_vcpu_breakpoint_cb,
    qemu_plugin_register_vcpu_tb_exec_cb,
)


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
def qemu_plugin_install(id: int, args: Any) -> None:
    icount = args.get("icount")
    addrs = args.get("addr") or []
    _state.clear()
    _state.update(
        id=id,
        icount=icount,
        executed=0,
        armed=False,
        stopped=False,
        addrs={t.value: t.code for t in addrs},
        pending=set(),
    )


def _stop(code: int, message: str) -> None:
    if _state["stopped"]:
        return
    _state["stopped"] = True
    qemu_plugin_outs(message)
    qemu_plugin_exit_guest(_state["id"], code)


def _exit_at(vcpu_index: int, what: tuple[int, str]) -> None:
    _stop(*what)


def _stop_before(vaddr: int, first: int, code: int, message: str) -> None:
    """Stop right before ``vaddr``, an instruction of the block starting at ``first``."""
    if vaddr == first:
        _stop(code, message)
    else:
        qemu_plugin_register_vcpu_breakpoint_cb(
            _state["id"], vaddr, _exit_at, userdata=(code, message)
        )


def _block(vcpu_index: int, tb_insns: tuple[int, ...]) -> None:
    if _state["armed"]:
        return
    trig: Trigger = _state["icount"]
    done = _state["executed"]
    if done + len(tb_insns) > trig.value:
        _state["armed"] = True
        pc = tb_insns[trig.value - done]
        _stop_before(pc, tb_insns[0], trig.code, f"icount reached at 0x{pc:x}, exiting\n")
    _state["executed"] = done + len(tb_insns)


def _addr_block(vcpu_index: int, targets: tuple[int, tuple[int, ...]]) -> None:
    first, addrs = targets
    for vaddr in addrs:
        if vaddr not in _state["pending"]:
            _state["pending"].add(vaddr)  # the breakpoint stays until reached
            message = f"0x{vaddr:x} reached, exiting\n"
            _stop_before(vaddr, first, _state["addrs"][vaddr], message)


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    if _state["icount"] is not None:
        addrs = tuple(insn.vaddr for insn in tb.insns)
        qemu_plugin_register_vcpu_tb_exec_cb(tb, _block, userdata=addrs)
    if _state["addrs"]:
        hits = tuple(i.vaddr for i in tb.insns if i.vaddr in _state["addrs"])
        if hits:
            qemu_plugin_register_vcpu_tb_exec_cb(tb, _addr_block, userdata=(tb.vaddr, hits))
