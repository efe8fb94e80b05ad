"""One-shot breakpoints: a callback right before the instruction at an address next runs,
ahead of that instruction's other callbacks (``qemu_plugin_register_vcpu_breakpoint_cb``)."""

from __future__ import annotations

from collections.abc import Callable

from qpp_core.instrument.handles import ExecCallback
from qpp_core.instrument.plan import BlockPlan
from qpp_core.instrument.state import State


class BreakpointsMixin(State):
    """Registering breakpoints and running them (once) from the code table."""

    def register_breakpoint(self, vaddr: int, entry: ExecCallback) -> None:
        """Run ``entry`` once, right before the instruction at ``vaddr`` next
        executes, ahead of that instruction's other callbacks.

        The instruction's translation is dropped when it carried no code hook yet. From a
        tb exec callback of the block holding the address, that block is entered again
        (its inline ops and tb callbacks are not repeated), so the breakpoint applies to
        this very execution of the block; from elsewhere, it applies from the next time
        the address is reached in a block that starts after the call.
        """
        if entry.owner is not None:
            self._own(entry.owner)
        had_hook = vaddr in self.code_table and self._covered(vaddr)
        self._breakpoints.setdefault(vaddr, []).append(entry)
        self._rebuild_code(vaddr)
        if had_hook:
            return
        if not self._covered(vaddr):
            self._cover(vaddr, vaddr)
        if not self._live or self.finished:
            return
        self.uc.ctl_remove_cache(vaddr, vaddr + 1)
        plan = self.blocks.get(self._cur[0])
        if self._tb_ctx[0] and plan is not None and plan.vaddr <= vaddr < plan.vaddr + plan.size:
            self._reenter(plan)

    def _reenter(self, plan: BlockPlan) -> None:
        """From the block hook: make unicorn enter ``plan``'s block again, retranslated,
        without repeating what the block hook did for it."""
        skip = BlockPlan(plan.tb)
        blocks = self.blocks

        def restore() -> None:
            if blocks.get(plan.vaddr) is skip:
                blocks[plan.vaddr] = plan

        skip.extra = restore
        blocks[plan.vaddr] = skip
        self.uc.ctl_remove_cache(plan.vaddr, plan.vaddr + plan.size)
        if self._hooks_deleted:
            self._hooks_deleted = False
            self.machine.request_restart()
        else:
            self.uc.reg_write(self.arch.pc, plan.vaddr | (1 if plan.tb.thumb else 0))

    def _with_breakpoints(self, addr: int, own: Callable[[], None] | None) -> Callable[[], None]:
        """The code-table entry at ``addr``: its breakpoints (once), then ``own``."""
        me = self

        def run() -> None:
            entries = me._breakpoints.pop(addr, None)
            if entries:
                me._rebuild_code(addr)  # one-shot: gone before they run
                me._compile_exec(entries, "breakpoint")()
            if own is not None and not me.exiting:
                own()

        return run
