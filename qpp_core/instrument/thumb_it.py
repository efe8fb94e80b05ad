"""Thumb IT blocks: callbacks on conditional instructions that unicorn skips.

Inline counts stay exact without help (a Thumb instruction skipped by an IT block is
inside its block), but unicorn's code hook does not fire for a skipped IT instruction, so
callbacks on instructions in IT blocks are delivered by tracking the IT block itself,
through pre-actions in the code table (:meth:`.Tables.put_pre_action`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qpp_core.instrument.dispatch import ItTracking
from qpp_core.instrument.handles import TranslationBlock
from qpp_core.instrument.tables import Tables

_IT_RE = re.compile(r"^it[te]{0,3}$")


class ItRegion:
    """An IT block inside a Thumb block with callbacks on its conditional instructions."""

    __slots__ = ("addrs", "pos")

    def __init__(self, addrs: list[int]) -> None:
        self.addrs = addrs
        self.pos = 0


class ThumbIt:
    """The IT regions of announced Thumb blocks and those pending now.

    ``enabled``: the architecture has Thumb code (only then does the code hook read the
    code table through the IT bookkeeping).
    """

    def __init__(self, tables: Tables, *, enabled: bool) -> None:
        self.tables = tables
        self.enabled = enabled
        #: the IT regions entered and not yet delivered in full
        self.pending: list[ItRegion] = []

    @property
    def tracking(self) -> ItTracking:
        """What the dispatchers bind: the pending list, its delivery, the IT actions."""
        return (self.pending, self.flush_pending, self.tables.pre_actions)

    def install_regions(self, tb: TranslationBlock) -> None:
        """Deliver callbacks on IT-conditional instructions even when they are skipped.

        The IT instruction always executes; each executed instruction of its block
        delivers the callbacks of the skipped ones before it; the instruction after the
        block (or, at the end of a translation block, the next event) delivers the rest.
        """
        insns = tb.insns
        tables = self.tables
        for i, insn in enumerate(insns):
            if not _IT_RE.match(insn.mnemonic):
                continue
            cond_insns = insns[i + 1 : i + len(insn.mnemonic)]
            addrs = [c.vaddr for c in cond_insns]
            if not any(a in tables.code_entries for a in addrs):
                continue
            region = ItRegion(addrs)
            after = insns[i + len(insn.mnemonic)] if i + len(insn.mnemonic) < len(insns) else None
            tables.put_pre_action(insn.vaddr, self._start(region))
            for k, a in enumerate(addrs):
                tables.put_pre_action(a, self._step(region, k))
            if after is not None:
                tables.put_pre_action(after.vaddr, self._step(region, len(addrs)))

    def _start(self, region: ItRegion) -> Callable[[], None]:
        def start() -> None:
            self.flush_pending()
            region.pos = 0
            self.pending.append(region)

        return start

    def _step(self, region: ItRegion, k: int) -> Callable[[], None]:
        pending = self.pending
        run_insn_cbs = self.tables.run_insn_cbs
        n = len(region.addrs)

        def step() -> None:
            if not pending or pending[-1] is not region:
                return
            while region.pos < k and region.pos < n:
                run_insn_cbs(region.addrs[region.pos])
                region.pos += 1
            region.pos = k + 1
            if region.pos >= n:
                pending.pop()

        return step

    def flush_pending(self) -> None:
        """Deliver the callbacks of every pending region's remaining instructions."""
        while self.pending:
            region = self.pending.pop()
            while region.pos < len(region.addrs):
                self.tables.run_insn_cbs(region.addrs[region.pos])
                region.pos += 1

    def clear(self) -> None:
        """Forget the regions without delivering anything (the guest is gone)."""
        self.pending.clear()
        self.tables.clear_pre_actions()
