"""``mem``: count guest memory accesses (QEMU's tests/plugin/mem.c).

Arguments as in QEMU: ``inline=on|off`` (default off), ``callback=on|off`` (default on
unless inline), ``track=r|w|rw`` (default rw). Prints ``inline mem accesses: N`` and/or
``callback mem accesses: N`` at exit. Memory accesses are counted when they happen (one
Python call per access: unicorn reports each one).
"""

from __future__ import annotations

from typing import Any

from qpp_core import (
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_INLINE_ADD_U64,
    Arg,
    MemInfo,
    MemRW,
    PluginArgumentError,
    TranslationBlock,
    hookimpl,
    qemu_plugin_bool_parse,
    qemu_plugin_outs,
    qemu_plugin_register_vcpu_mem_cb,
    qemu_plugin_register_vcpu_mem_inline_per_vcpu,
    qemu_plugin_scoreboard_new,
    qemu_plugin_scoreboard_u64,
    qemu_plugin_u64_sum,
)

qemu_plugin_version = 2
qemu_plugin_args = {
    "inline": Arg(bool, False, "count with inline adds"),
    "callback": Arg(bool, None, "count with a callback per access (default: on unless inline)"),
    "track": Arg(str, "rw", "which accesses: r, w or rw"),
}

_state: dict[str, Any] = {}
_TRACK = {"r": MemRW.R, "w": MemRW.W, "rw": MemRW.RW}


@hookimpl
def qemu_plugin_install(id: int, args: Any) -> None:
    get = args.get if hasattr(args, "get") else (lambda k, d=None: d)
    inline = qemu_plugin_bool_parse("inline", str(get("inline") or "off"))
    callback_arg = get("callback")
    callback = qemu_plugin_bool_parse(
        "callback", str("off" if inline else "on") if callback_arg is None else str(callback_arg)
    )
    track = str(get("track") or "rw")
    if track not in _TRACK:
        raise PluginArgumentError(f"track={track}: expected r, w or rw")
    score = qemu_plugin_scoreboard_new(8)
    _state.clear()
    _state.update(
        inline=inline,
        callback=callback,
        rw=_TRACK[track],
        entry=qemu_plugin_scoreboard_u64(score),
        count=[0],
    )


def _on_mem(vcpu_index: int, info: MemInfo, vaddr: int, userdata: Any) -> None:
    _state["count"][0] += 1


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    rw = _state["rw"]
    for insn in tb.insns:
        if _state["inline"]:
            qemu_plugin_register_vcpu_mem_inline_per_vcpu(
                insn, rw, QEMU_PLUGIN_INLINE_ADD_U64, _state["entry"], 1
            )
        if _state["callback"]:
            qemu_plugin_register_vcpu_mem_cb(insn, _on_mem, QEMU_PLUGIN_CB_NO_REGS, rw)


def totals() -> tuple[int, int]:
    """(inline count, callback count) so far."""
    return qemu_plugin_u64_sum(_state["entry"]), _state["count"][0]


@hookimpl
def qemu_plugin_atexit() -> None:
    inline, callback = totals()
    out = ""
    if _state["inline"]:
        out += f"inline mem accesses: {inline}\n"
    if _state["callback"]:
        out += f"callback mem accesses: {callback}\n"
    qemu_plugin_outs(out)


@hookimpl
def qpp_batch_result() -> dict[str, int]:
    """``qpp batch``: this run's access counts, as the run printed them."""
    inline, callback = totals()
    result = {}
    if _state["inline"]:
        result["inline"] = inline
    if _state["callback"]:
        result["callback"] = callback
    return result


@hookimpl
def qpp_batch_merge(results: list[tuple[str, Any]]) -> dict[str, int]:
    """``qpp batch``: each count summed over every job."""
    merged: dict[str, int] = {}
    for _, data in results:
        for key, value in data.items():
            merged[key] = merged.get(key, 0) + int(value)
    merged["jobs"] = len(results)
    return merged
