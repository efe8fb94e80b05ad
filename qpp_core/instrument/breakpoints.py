"""One-shot breakpoints: a callback right before the instruction at an address next runs,
ahead of that instruction's other callbacks (``qemu_plugin_register_vcpu_breakpoint_cb``).
The breakpoints themselves are entries of the code table (:class:`.Tables`)."""

from __future__ import annotations

from qpp_core.instrument.cache import BlockCache
from qpp_core.instrument.context import Context
from qpp_core.instrument.handles import ExecCallback
from qpp_core.instrument.hooks import CodeHooks, HookSet
from qpp_core.instrument.plan import BlockPlan
from qpp_core.instrument.tables import Tables


class Breakpoints:
    """Registering breakpoints, and entering the running block again for one."""

    def __init__(
        self,
        tables: Tables,
        code_hooks: CodeHooks,
        cache: BlockCache,
        hooks: HookSet,
        ctx: Context,
    ) -> None:
        self.tables = tables
        self.code_hooks = code_hooks
        self.cache = cache
        self.hooks = hooks
        self.ctx = ctx

    def register(self, vaddr: int, entry: ExecCallback) -> None:
        """Run ``entry`` once, right before the instruction at ``vaddr`` next
        executes, ahead of that instruction's other callbacks.

        The instruction's translation is dropped when it carried no code hook yet. From a
        tb exec callback of the block holding the address, that block is entered again
        (its inline ops and tb callbacks are not repeated), so the breakpoint applies to
        this very execution of the block; from elsewhere, it applies from the next time
        the address is reached in a block that starts after the call.
        """
        tables, code_hooks, ctx = self.tables, self.code_hooks, self.ctx
        had_hook = vaddr in tables.code_table and code_hooks.covered(vaddr)
        tables.breakpoints.setdefault(vaddr, []).append(entry)
        tables.rebuild_code(vaddr)
        if had_hook:
            return
        if not code_hooks.covered(vaddr):
            code_hooks.cover(vaddr, vaddr)
        if not ctx.live or ctx.finished:
            return
        self.hooks.uc.ctl_remove_cache(vaddr, vaddr + 1)
        plan = self.cache.blocks.get(ctx.cur[0])
        if ctx.tb_ctx[0] and plan is not None and plan.vaddr <= vaddr < plan.vaddr + plan.size:
            self._reenter(plan)

    def _reenter(self, plan: BlockPlan) -> None:
        """From the block hook: make unicorn enter ``plan``'s block again, retranslated,
        without repeating what the block hook did for it."""
        skip = BlockPlan(plan.tb)
        blocks = self.cache.blocks

        def restore() -> None:
            if blocks.get(plan.vaddr) is skip:
                blocks[plan.vaddr] = plan

        skip.extra = restore
        blocks[plan.vaddr] = skip
        self.hooks.uc.ctl_remove_cache(plan.vaddr, plan.vaddr + plan.size)
        self.hooks.leave_for_new_hooks(plan.vaddr | (1 if plan.tb.thumb else 0))
