"""Compiling registered callbacks into the closures the dispatchers call.

A list of execution callbacks becomes one closure that runs them in order, with the
register access each asked for, attributing an exception to its plugin; an instruction's
memory callbacks and memory inline operations become one closure per access.
"""

from __future__ import annotations

from collections.abc import Callable

from qpp_core.instrument.context import Context
from qpp_core.instrument.failures import Failures
from qpp_core.instrument.handles import ExecCallback, InlineOp, Instruction, MemInfo, MemRW
from qpp_core.instrument.plan import disabled

#: a memory dispatcher: (access, address, size, value)
MemDispatcher = Callable[[int, int, int, int], None]


def compile_exec(
    ctx: Context, failures: Failures, entries: list[ExecCallback], event: str
) -> Callable[[], None]:
    """One closure running ``entries`` in order, attributing errors to their plugin."""
    plugin_failed = failures.plugin_failed
    if len(entries) == 1 and entries[0].cond is None:
        e = entries[0]
        fn, ud, flags = e.fn, e.userdata, int(e.flags)

        def run_one() -> None:
            ctx.regs = flags
            try:
                fn(ctx.vcpu_index, ud)
            except BaseException as exc:
                plugin_failed(e.owner, event, exc)

        return run_one
    items = [(e, e.fn, e.userdata, int(e.flags), e.cond) for e in entries]

    def run_all() -> None:
        for e, fn, ud, flags, cond in items:
            if ctx.exiting:
                return
            if cond is not None and not cond():
                continue
            ctx.regs = flags
            try:
                fn(ctx.vcpu_index, ud)
            except BaseException as exc:
                plugin_failed(e.owner, event, exc)

    return run_all


def compile_mem(
    ctx: Context,
    failures: Failures,
    insn: Instruction,
    *,
    sign: bool,
    big_endian: bool,
    write: int,
    with_ops: bool = True,
) -> MemDispatcher | None:
    """The dispatcher of one instruction's memory callbacks and (``with_ops``) inline ops;
    ``write`` is the access kind of a store, ``sign`` whether the load sign-extends."""
    plugin_failed = failures.plugin_failed
    cbs = [c for c in insn.mem_cbs if not disabled(c.owner)]
    ops = [
        (r.rw, r.op, r.entry.score.live, r.entry.slot, r.imm)
        for r in insn.mem_inline
        if with_ops and not disabled(r.owner)
    ]
    if not cbs and not ops:
        return None

    def on_access(access: int, address: int, size: int, value: int) -> None:
        is_store = access == write
        rw = MemRW.W if is_store else MemRW.R
        for want, op, vals, slot, imm in ops:
            if want & rw:
                if op is InlineOp.ADD_U64:
                    vals[slot] += imm
                else:
                    vals[slot] = imm
        if cbs:
            info = MemInfo(size, is_store, value & ((1 << (8 * size)) - 1), sign, big_endian)
            ctx.in_mem = True
            try:
                for c in cbs:
                    if c.rw & rw and not ctx.exiting:
                        ctx.regs = int(c.flags)
                        try:
                            c.fn(ctx.vcpu_index, info, address, c.userdata)
                        except BaseException as exc:
                            plugin_failed(c.owner, "mem", exc)
            finally:
                ctx.in_mem = False

    return on_access
