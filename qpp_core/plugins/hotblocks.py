"""``hotblocks``: the most executed translation blocks (QEMU's contrib/plugins/hotblocks.c).

At exit prints how many distinct blocks were seen, then the ``limit`` most executed
ones (most executions first), with QEMU's layout::

    collected 310 entries in the hash table
    pc, tcount, icount, ecount
    0x0000000000401a2c, 1, 5, 1000

``tcount`` is how often the block was translated (a flush retranslates), ``icount``
its instruction count, ``ecount`` how often it ran. Blocks are keyed by start address
and instruction count, as QEMU does. Executions are counted with a per-block inline add
(``inline=on``, the default here: QEMU's default is a callback, the numbers are the same
and the inline add runs on qpp's native fast path); ``inline=off`` uses an execution
callback per block.
``limit=N`` (an addition; QEMU prints 20) prints N blocks, 0 for all of them.
"""

from __future__ import annotations

from typing import Any

from qpp_core import (
    QEMU_PLUGIN_INLINE_ADD_U64,
    U64,
    Arg,
    TranslationBlock,
    hookimpl,
    qemu_plugin_outs,
    qemu_plugin_register_vcpu_tb_exec_cb,
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu,
    qemu_plugin_scoreboard_new,
    qemu_plugin_scoreboard_u64,
    qemu_plugin_u64_sum,
)

qemu_plugin_version = 2
qemu_plugin_args = {
    "inline": Arg(bool, True, "count with inline adds (off: an execution callback per block)"),
    "limit": Arg(int, 20, "how many blocks to print; 0 prints every block"),
}


class ExecCount:
    """One block: start address, instruction count, translations and executions."""

    __slots__ = ("entry", "exec_count", "insns", "start_addr", "trans_count")

    def __init__(self, start_addr: int, insns: int, entry: U64 | None) -> None:
        self.start_addr = start_addr
        self.insns = insns
        self.trans_count = 0
        self.exec_count = 0
        self.entry = entry

    @property
    def ecount(self) -> int:
        """How often the block ran (inline scoreboard or callback count)."""
        if self.entry is not None:
            return int(qemu_plugin_u64_sum(self.entry))
        return self.exec_count


#: (program, start, instructions) -> its counts; program counts the process's execve calls,
#: so that blocks of two programs at one address stay apart
_blocks: dict[tuple[int, int, int], ExecCount] = {}
_opts: dict[str, Any] = {}
_program = [0]


@hookimpl
def qemu_plugin_install(args: Any) -> None:
    _blocks.clear()
    _opts.clear()
    _program[0] = 0
    _opts["inline"] = bool(args.get("inline", True))
    _opts["limit"] = int(args.get("limit", 20))


def _exec(vcpu_index: int, rec: ExecCount) -> None:
    rec.exec_count += 1


@hookimpl
def qpp_guest_exec() -> None:
    """A new program: its blocks are new blocks, wherever they lie."""
    _program[0] += 1


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    key = (_program[0], tb.vaddr, tb.n_insns)
    rec = _blocks.get(key)
    if rec is None:
        entry = None
        if _opts["inline"]:
            entry = qemu_plugin_scoreboard_u64(qemu_plugin_scoreboard_new(8))
        rec = _blocks[key] = ExecCount(tb.vaddr, tb.n_insns, entry)
    rec.trans_count += 1
    if rec.entry is not None:
        qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, QEMU_PLUGIN_INLINE_ADD_U64, rec.entry, 1
        )
    else:
        qemu_plugin_register_vcpu_tb_exec_cb(tb, _exec, userdata=rec)


def blocks() -> list[tuple[int, int, int, int]]:
    """``(pc, tcount, icount, ecount)`` of every block, most executed first."""
    rows = [(r.start_addr, r.trans_count, r.insns, r.ecount) for r in _blocks.values()]
    rows.sort(key=lambda row: (-row[3], row[0], row[2]))
    return rows


@hookimpl
def qemu_plugin_atexit() -> None:
    rows = blocks()
    limit = _opts["limit"] if _opts["limit"] > 0 else len(rows)
    out = [f"collected {len(rows)} entries in the hash table\n"]
    if rows:
        out.append("pc, tcount, icount, ecount\n")
        out.extend(f"0x{pc:016x}, {tc}, {ic}, {ec}\n" for pc, tc, ic, ec in rows[:limit])
    else:
        out.append("no blocks executed\n")
    qemu_plugin_outs("".join(out))


@hookimpl
def qpp_batch_result() -> dict[str, Any]:
    """``qpp batch``: ``{"blocks": [[pc, tcount, icount, ecount], ...]}``."""
    return {"blocks": [list(row) for row in blocks()]}


@hookimpl
def qpp_batch_merge(results: list[tuple[str, Any]]) -> dict[str, Any]:
    """``qpp batch``: translations and executions summed per block (pc, icount), as a
    table of the same shape, most executed first. Blocks of different programs at one
    address add up: merge jobs that run the same program."""
    table: dict[tuple[int, int], list[int]] = {}
    for _, data in results:
        for pc, tcount, icount, ecount in data["blocks"]:
            entry = table.setdefault((pc, icount), [0, 0])
            entry[0] += tcount
            entry[1] += ecount
    rows = [[pc, tc, ic, ec] for (pc, ic), (tc, ec) in table.items()]
    rows.sort(key=lambda row: (-row[3], row[0], row[2]))
    return {"blocks": rows}
