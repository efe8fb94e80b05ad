"""Exact guest exit: a plugin ends the guest before the instruction about to run."""

from __future__ import annotations

from qpp_core.instrument.cache import BlockCache
from qpp_core.instrument.context import Context
from qpp_core.instrument.tables import Tables
from qpp_core.instrument.thumb_it import ThumbIt
from qpp_core.ports import MachinePort


class ExactExit:
    """``qemu_plugin_exit_guest``: stop, take back counts of what will not run."""

    def __init__(
        self,
        machine: MachinePort,
        ctx: Context,
        cache: BlockCache,
        tables: Tables,
        it: ThumbIt,
    ) -> None:
        self.machine = machine
        self.ctx = ctx
        self.cache = cache
        self.tables = tables
        self.it = it
        #: code addresses carry the Thumb bit (arm)
        self.thumb_bit = machine.arch.thumb_state is not None

    def exit_guest(self, status: int) -> None:
        """End the guest with ``status`` before the instruction about to run (a plugin's
        ``exit()`` in QEMU); atexit callbacks still run.

        From an insn exec callback or a breakpoint the instruction does not run; from a tb
        exec callback the block does not run; from a memory callback the accessing
        instruction is the last to count. Inline adds applied at the block's start for
        instructions that will not run are taken back, so counts stop exactly there. No
        further callback, syscall or memory event is delivered.
        """
        ctx = self.ctx
        if ctx.exiting:
            return
        ctx.exiting = True
        plan = self.cache.blocks.get(ctx.cur[0])
        if plan is not None and ctx.live and not ctx.finished:
            pc = ctx.read_pc() & ~1 if self.thumb_bit else ctx.read_pc()
            if ctx.tb_ctx[0]:
                pc = plan.vaddr
            elif ctx.in_mem:
                pc = next((i.vaddr for i in plan.tb.insns if i.vaddr > pc), plan.vaddr + plan.size)
            if plan.vaddr <= pc < plan.vaddr + plan.size:
                self.cache.take_back(plan, pc, whole=pc == plan.vaddr)
        self.it.clear()
        tables = self.tables
        tables.code_table.clear()
        tables.code_fast.clear()
        tables.code_own.clear()
        tables.mem_table.clear()
        self.cache.blocks.clear()
        tables.breakpoints.clear()
        self.machine.exit(status)
