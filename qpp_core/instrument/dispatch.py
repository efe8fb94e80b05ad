"""The dispatchers unicorn calls: the block, code and memory hooks' Python functions.

These are the hot paths. Each factory binds what its dispatcher needs to locals once, when
the hook is made, so a block costs the plan's folded operations and a callback one frame
between unicorn and the plugin. The block hook runs a block's
:class:`~qpp_core.instrument.plan.BlockPlan`, translating the block the first time it runs;
the code hook reads the code table; the memory hook looks the accessing instruction up by
pc in the memory table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from qpp_core.instrument.context import Context
from qpp_core.instrument.failures import Failures
from qpp_core.instrument.hooks import CodeHook, MemHook
from qpp_core.instrument.plan import BlockPlan

if TYPE_CHECKING:
    from qpp_core.machine.blockstop import StopFlag

#: Thumb IT tracking as the dispatchers see it: the IT regions pending (a list that is
#: true while any is), what delivers them, and the addresses with IT actions
ItTracking = tuple[list[Any], Callable[[], None], Mapping[int, Any]]


def block_hook(
    ctx: Context,
    blocks: Mapping[int, BlockPlan],
    translate: Callable[[int, int], BlockPlan | None],
    it: ItTracking,
    failures: Failures,
    stop_req: StopFlag | None,
    emu_stop: Callable[[], None],
) -> CodeHook:
    """The block hook: announce a new block, then apply its plan. First, when the
    machine's stop request ``stop_req`` says so (a signal's handler is to run, a time
    slice is over), it stops the engine with ``emu_stop`` and the block runs afterwards,
    from its start, so no part of it runs or counts twice (see
    :mod:`qpp_core.machine.blockstop`)."""
    pending, flush_pending, _ = it
    cur = ctx.cur
    tb_ctx = ctx.tb_ctx
    hook_failed = failures.hook_failed
    stop_now = stop_req.stop_now if stop_req is not None else None

    def on_block(handle: int, address: int, size: int, key: int) -> None:
        if stop_now is not None and stop_now():
            emu_stop()  # a signal's handler (or the next thread) first; the block afterwards
            return
        cur[0] = address
        try:
            if pending:
                flush_pending()
            plan = blocks.get(address)
            if plan is None or plan.size != size:
                plan = translate(address, size)
                if plan is None:
                    return
            stores = plan.stores
            if stores:
                for cell, vals, slot in plan.snaps:  # for exact conditions
                    cell[0] = vals[slot]
            for vals, slot, imm in plan.adds:
                vals[slot] += imm
            if stores:
                for vals, slot, imm in stores:
                    vals[slot] = imm
            if plan.extra is not None:
                tb_ctx[0] = True
                plan.extra()
                tb_ctx[0] = False
        except BaseException as exc:
            tb_ctx[0] = False
            hook_failed(exc)

    return on_block


def stop_first(hook: CodeHook, stop_req: StopFlag, emu_stop: Callable[[], None]) -> CodeHook:
    """``hook`` behind the stop request's test, which also records the block that starts:
    where the machine looks for the instruction a CPU exception came from when unicorn's
    pc does not say (mips, ``Arch.trapping_insn``). It comes before a mips replay guard's
    bookkeeping, so a block stopped for a signal leaves no trace there."""

    stop_now = stop_req.stop_now

    def on_block_stop_first(handle: int, address: int, size: int, key: int) -> None:
        if stop_now():
            emu_stop()
            return
        stop_req.last = address
        stop_req.last_size = size
        hook(handle, address, size, key)

    return on_block_stop_first


def code_hook(
    ctx: Context,
    fast: Mapping[int, tuple[Any, Any, int, Any]],
    table: Mapping[int, Callable[[], None]],
    it: ItTracking | None,
    failures: Failures,
) -> CodeHook:
    """The code hook over the covered intervals: the code table's entry at the pc
    (``it``: Thumb IT blocks are tracked, through the full table; else the fast one)."""
    if it is None:
        cb_failed = failures.code_cb_failed

        def on_code(handle: int, address: int, size: int, key: int) -> None:
            # the hot path: one frame between unicorn and the plugin's callback
            entry = fast.get(address)
            if entry is not None:
                fn, ud, flags, owner = entry
                ctx.regs = flags
                try:
                    fn(ctx.vcpu_index, ud)
                except BaseException as exc:
                    cb_failed(owner, exc)

        return on_code
    pending, flush_pending, it_actions = it
    hook_failed = failures.hook_failed

    def on_code_arm(handle: int, address: int, size: int, key: int) -> None:
        try:
            if pending and address not in it_actions:
                flush_pending()
            fn = table.get(address)
            if fn is not None:
                fn()
        except BaseException as exc:
            hook_failed(exc)

    return on_code_arm


def mem_hook(
    ctx: Context, table: Mapping[int, Callable[[int, int, int, int], None]], failures: Failures
) -> MemHook:
    """The memory hook: the memory table's dispatcher of the accessing instruction."""
    read_pc = ctx.read_pc
    hook_failed = failures.hook_failed

    def on_mem(handle: int, access: int, address: int, size: int, value: int, key: int) -> None:
        fn = table.get(read_pc())
        if fn is not None:
            try:
                fn(access, address, size, value)
            except BaseException as exc:
                hook_failed(exc)

    return on_mem
