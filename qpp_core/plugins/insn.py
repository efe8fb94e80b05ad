"""``insn``: count executed guest instructions (QEMU's tests/plugin/insn.c).

Prints ``total insns: N`` at exit, preceded by ``cpu I insns: N`` for each vCPU when the
guest ran several threads (each thread is a vCPU), as QEMU's plugin prints them.
Arguments, as in QEMU:

* ``inline=on|off`` (default on): count with an inline add on every instruction, folded
  per block by qpp (no Python per instruction); ``off`` uses one execution callback per
  instruction instead (slow, same count);
* ``sizes=on``: also print how many instructions of each length ran;
* ``match=STR`` (repeatable in QEMU; here comma-free, one string): report each executed
  instruction whose disassembly contains ``STR``, with how often it ran;
* ``trace=on``: log each executed instruction's address and disassembly (very slow).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from qpp_core import (
    QEMU_PLUGIN_INLINE_ADD_U64,
    Arg,
    TranslationBlock,
    hookimpl,
    qemu_plugin_bool_parse,
    qemu_plugin_num_vcpus,
    qemu_plugin_outs,
    qemu_plugin_register_vcpu_insn_exec_cb,
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu,
    qemu_plugin_scoreboard_new,
    qemu_plugin_scoreboard_u64,
    qemu_plugin_u64_get,
    qemu_plugin_u64_sum,
)

qemu_plugin_version = 2
qemu_plugin_args = {
    "inline": Arg(bool, True, "count with inline adds (off: one callback per instruction)"),
    "sizes": Arg(bool, False, "also count instructions per length"),
    "match": Arg(str, None, "report executed instructions whose disassembly contains this"),
    "trace": Arg(bool, False, "log every executed instruction (very slow)"),
}

_state: dict[str, Any] = {}


def _arg(args: Any, key: str, default: str) -> str:
    try:
        value = args.get(key, default)
    except AttributeError:
        value = dict(args).get(key, default)
    return str(value) if value is not None else default


def _flag(args: Any, key: str, default: bool) -> bool:
    raw = _arg(args, key, "")
    if raw == "":
        return default
    return qemu_plugin_bool_parse(key, raw)


@hookimpl
def qemu_plugin_install(id: int, args: Any) -> None:
    score = qemu_plugin_scoreboard_new(8)
    _state.clear()
    _state.update(
        id=id,
        inline=_flag(args, "inline", True),
        sizes=_flag(args, "sizes", False),
        trace=_flag(args, "trace", False),
        match=_arg(args, "match", "") or None,
        score=score,
        count=qemu_plugin_scoreboard_u64(score),
        callback_count=[0],
        size_counts=Counter(),
        matches={},
    )


def _count_cb(vcpu_index: int, userdata: Any) -> None:
    _state["callback_count"][0] += 1


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    inline = _state["inline"]
    entry = _state["count"]
    match = _state["match"]
    for insn in tb.insns:
        if inline:
            qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                insn, QEMU_PLUGIN_INLINE_ADD_U64, entry, 1
            )
        else:
            qemu_plugin_register_vcpu_insn_exec_cb(insn, _count_cb)
        if _state["sizes"]:
            qemu_plugin_register_vcpu_insn_exec_cb(insn, _size_cb, userdata=insn.size)
        if match is not None and match in insn.disas():
            key = (insn.vaddr, insn.disas())
            _state["matches"].setdefault(key, [0])
            qemu_plugin_register_vcpu_insn_exec_cb(insn, _match_cb, userdata=key)
        if _state["trace"]:
            qemu_plugin_register_vcpu_insn_exec_cb(
                insn, _trace_cb, userdata=f"0x{insn.vaddr:x}: {insn.disas()}\n"
            )


def _size_cb(vcpu_index: int, size: int) -> None:
    _state["size_counts"][size] += 1


def _match_cb(vcpu_index: int, key: tuple[int, str]) -> None:
    _state["matches"][key][0] += 1


def _trace_cb(vcpu_index: int, line: str) -> None:
    qemu_plugin_outs(line)


def total() -> int:
    """The count so far (tests and other plugins may ask)."""
    if _state.get("inline", True):
        return int(qemu_plugin_u64_sum(_state["count"]))
    return int(_state["callback_count"][0])


@hookimpl
def qemu_plugin_atexit() -> None:
    lines = []
    for size, n in sorted(_state["size_counts"].items()):
        lines.append(f"len {size} bytes: {n} insns\n")
    for (vaddr, disas), (n,) in sorted(_state["matches"].items()):
        lines.append(f"0x{vaddr:x}: {disas} executed {n} times\n")
    n_vcpus = qemu_plugin_num_vcpus()
    if n_vcpus > 1 and _state.get("inline", True):
        for i in range(n_vcpus):
            lines.append(f"cpu {i} insns: {qemu_plugin_u64_get(_state['count'], i)}\n")
    lines.append(f"total insns: {total()}\n")
    qemu_plugin_outs("".join(lines))


@hookimpl
def qpp_batch_result() -> dict[str, int]:
    """``qpp batch``: this run's count (it becomes the job record's instruction count)."""
    return {"insns": total()}


@hookimpl
def qpp_batch_merge(results: list[tuple[str, Any]]) -> dict[str, int]:
    """``qpp batch``: the total over every job."""
    return {"insns": sum(int(data["insns"]) for _, data in results), "jobs": len(results)}
