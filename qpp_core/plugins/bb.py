"""``bb``: count executed blocks and instructions (QEMU's tests/plugin/bb.c).

Prints ``bb's: N, insns: M`` at exit. ``inline=on|off`` (default on): inline adds on the
block (folded, one Python call per executed block) or one execution callback per block.
``idle`` and per-vcpu output are not meaningful in user mode with one vcpu.
"""

from __future__ import annotations

from typing import Any

from qpp_core import (
    QEMU_PLUGIN_INLINE_ADD_U64,
    Arg,
    TranslationBlock,
    hookimpl,
    qemu_plugin_bool_parse,
    qemu_plugin_outs,
    qemu_plugin_register_vcpu_tb_exec_cb,
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu,
    qemu_plugin_scoreboard_new,
    qemu_plugin_scoreboard_u64_in_struct,
    qemu_plugin_u64_sum,
)

qemu_plugin_version = 2
qemu_plugin_args = {
    "inline": Arg(bool, True, "count with inline adds (off: one callback per block)"),
}

_state: dict[str, Any] = {}


@hookimpl
def qemu_plugin_install(id: int, args: Any) -> None:
    score = qemu_plugin_scoreboard_new(16)
    raw = args.get("inline", "on") if hasattr(args, "get") else "on"
    _state.clear()
    _state.update(
        inline=qemu_plugin_bool_parse("inline", str(raw)),
        bbs=qemu_plugin_scoreboard_u64_in_struct(score, 0),
        insns=qemu_plugin_scoreboard_u64_in_struct(score, 8),
        counts=[0, 0],
    )


def _exec(vcpu_index: int, n_insns: int) -> None:
    counts = _state["counts"]
    counts[0] += 1
    counts[1] += n_insns


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    n = tb.n_insns
    if _state["inline"]:
        qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, QEMU_PLUGIN_INLINE_ADD_U64, _state["bbs"], 1
        )
        qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, QEMU_PLUGIN_INLINE_ADD_U64, _state["insns"], n
        )
    else:
        qemu_plugin_register_vcpu_tb_exec_cb(tb, _exec, userdata=n)


def totals() -> tuple[int, int]:
    """(blocks, instructions) executed so far."""
    if _state["inline"]:
        return qemu_plugin_u64_sum(_state["bbs"]), qemu_plugin_u64_sum(_state["insns"])
    counts = _state["counts"]
    return counts[0], counts[1]


@hookimpl
def qemu_plugin_atexit() -> None:
    bbs, insns = totals()
    qemu_plugin_outs(f"bb's: {bbs}, insns: {insns}\n")


@hookimpl
def qpp_batch_result() -> dict[str, int]:
    """``qpp batch``: this run's counts (``insns`` also becomes the job's count)."""
    bbs, insns = totals()
    return {"bbs": bbs, "insns": insns}


@hookimpl
def qpp_batch_merge(results: list[tuple[str, Any]]) -> dict[str, int]:
    """``qpp batch``: the totals over every job."""
    return {
        "bbs": sum(int(data["bbs"]) for _, data in results),
        "insns": sum(int(data["insns"]) for _, data in results),
        "jobs": len(results),
    }
