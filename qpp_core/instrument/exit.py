"""Exact guest exit: a plugin ends the guest before the instruction about to run."""

from __future__ import annotations

from qpp_core.instrument.state import State


class ExitMixin(State):
    """``qemu_plugin_exit_guest``: stop, take back counts of what will not run."""

    def exit_guest(self, status: int) -> None:
        """End the guest with ``status`` before the instruction about to run (a plugin's
        ``exit()`` in QEMU); atexit callbacks still run.

        From an insn exec callback or a breakpoint the instruction does not run; from a tb
        exec callback the block does not run; from a memory callback the accessing
        instruction is the last to count. Inline adds applied at the block's start for
        instructions that will not run are taken back, so counts stop exactly there. No
        further callback, syscall or memory event is delivered.
        """
        if self.exiting:
            return
        self.exiting = True
        plan = self.blocks.get(self._cur[0])
        if plan is not None and self._live and not self.finished:
            pc = self._read_pc() & ~1 if self._is_arm else self._read_pc()
            if self._tb_ctx[0]:
                pc = plan.vaddr
            elif self._in_mem:
                pc = next((i.vaddr for i in plan.tb.insns if i.vaddr > pc), plan.vaddr + plan.size)
            if plan.vaddr <= pc < plan.vaddr + plan.size:
                self._take_back(plan, pc, whole=pc == plan.vaddr)
        self._flush_it_pending_silently()
        self.code_table.clear()
        self._code_fast.clear()
        self._code_own.clear()
        self.mem_table.clear()
        self.blocks.clear()
        self._breakpoints.clear()
        self.machine.exit(status)
