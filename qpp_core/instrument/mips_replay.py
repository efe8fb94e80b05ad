"""A guard against unicorn 2.1.4 mips replaying a block as a stale delay slot.

With memory hooks, unicorn can leave a block with the branch-pending bits of ``hflags``
still set: after a hooked store in a delay slot (and around some system calls). The next
block is then translated as a one-instruction delay slot of a branch that already
happened: when the branch was taken the first instruction of the target runs twice (for
the guest too: ``addiu t1, t1, 1`` adds 2); when it was not taken, a branch there raises a
reserved-instruction exception. Every such block is one instruction long, so only
one-instruction blocks are checked: if the pending bits are set, they are cleared and the
pc is rewritten to the block start, which makes unicorn leave the block before it runs
anything and translate it afresh. Blocks and counts are then QEMU's. See
:class:`~qpp_core.instrument._uc.MipsHflags`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from qpp_core.instrument import _uc
from qpp_core.instrument.context import Context
from qpp_core.instrument.plan import BlockPlan
from qpp_core.machine.arch.base import Arch

#: unicorn's block hook, as the raw hooks call it: (handle, address, size, key)
BlockHook = Callable[[int, int, int, int], None]


class MipsReplayGuard:
    """The guard for one machine (it applies only to architectures with delay slots)."""

    def __init__(
        self,
        arch: Arch,
        raw: _uc.RawHooks,
        uc: Any,
        ctx: Context,
        blocks: Mapping[int, BlockPlan],
    ) -> None:
        self.arch = arch
        self.raw = raw
        self.uc = uc
        self.ctx = ctx
        self.blocks = blocks
        #: the guard is in place (the native block hook then checks one-insn blocks too)
        self.guarded = False
        #: stale delay-slot blocks left
        self.n_replays = 0

    def wrap(self, on_block: BlockHook) -> BlockHook:
        """``on_block`` behind the guard (itself when no workaround is needed)."""
        is_branch = self.arch.delay_slot_branch
        if is_branch is None:
            return on_block
        fixer = _uc.MipsHflags.for_uc(self.uc)
        if fixer is None:
            return on_block  # this unicorn needs no workaround (or it cannot be applied)
        clear_pending = fixer.clear_pending_branch
        write_pc = self.raw.writer(self.arch.pc)
        blocks = self.blocks
        #: end of the previous block if it ended on a branch whose delay slot is the next
        #: block (a branch at the end of a page): that one-instruction block is legitimate
        #: (a cell the native block hook keeps up to date too)
        slot_next = self.ctx.slot_next
        slot_next[0] = -1
        self.guarded = True

        def on_block_mips(handle: int, address: int, size: int, key: int) -> None:
            if size == 4 and address != slot_next[0] and clear_pending():
                self.n_replays += 1
                slot_next[0] = -1
                write_pc(address)
                return
            on_block(handle, address, size, key)
            plan = blocks.get(address)
            slot_next[0] = -1
            insns = plan.tb.insns if plan is not None and plan.size == size else None
            if insns and is_branch(insns[-1].mnemonic):
                slot_next[0] = address + size

        return on_block_mips
