"""Exact counts when a block ends early at an instruction that raises (a fault, a CPU
exception), as in QEMU, whose inline operations run before their instruction.

The machine reports such an instruction (its ``signal_observer``, see :mod:`.guest_events`)
before the guest's handler runs: the instruction counts, the block's later ones did not
run, so their inline adds, applied at the block's start, are taken back. An instruction
unicorn cannot translate at all ends unicorn's block before it, while QEMU's block holds
it and counts it: it runs here as a block of its own.
"""

from __future__ import annotations

from qpp_core.instrument.cache import BlockCache
from qpp_core.instrument.context import Context
from qpp_core.instrument.hooks import HookSet


class CpuExceptions:
    """Take-backs and the raising instruction's own block (see the module docstring)."""

    def __init__(self, ctx: Context, cache: BlockCache, hooks: HookSet, thumb_bit: bool) -> None:
        self.ctx = ctx
        self.cache = cache
        self.hooks = hooks
        #: code addresses carry the Thumb bit (arm)
        self.thumb_bit = thumb_bit

    def block_cut(self, pc: int) -> None:
        """The running block ended at the instruction at ``pc``: the inline adds of the
        block's later instructions are taken back."""
        ctx = self.ctx
        plan = self.cache.blocks.get(ctx.cur[0])
        if plan is None or not ctx.live or ctx.finished:
            return
        pc = pc & ~1 if self.thumb_bit else pc
        if plan.vaddr <= pc < plan.vaddr + plan.size:
            after = next((i.vaddr for i in plan.tb.insns if i.vaddr > pc), None)
            if after is not None:
                self.cache.take_back(plan, after)

    def insn_raised(self, pc: int) -> None:
        """An instruction unicorn cannot translate raised at ``pc`` (SIGILL): when it
        follows the block that just ran, it runs as a block of its own (size 0, as unicorn
        gives a block that starts with such an instruction; the translator decodes it)."""
        ctx = self.ctx
        plan = self.cache.blocks.get(ctx.cur[0])
        run = self.hooks.py_block
        if run is None or plan is None or not ctx.live or ctx.finished:
            return
        pc = pc & ~1 if self.thumb_bit else pc
        if plan.size and plan.vaddr + plan.size == pc:
            run(0, pc, 0, 0)
