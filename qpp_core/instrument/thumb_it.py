"""Thumb IT blocks: callbacks on conditional instructions that unicorn skips.

Inline counts stay exact without help (a Thumb instruction skipped by an IT block is
inside its block), but unicorn's code hook does not fire for a skipped IT instruction, so
callbacks on instructions in IT blocks are delivered by tracking the IT block itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qpp_core.instrument.handles import TranslationBlock
from qpp_core.instrument.state import State

_IT_RE = re.compile(r"^it[te]{0,3}$")


class ItRegion:
    """An IT block inside a Thumb block with callbacks on its conditional instructions."""

    __slots__ = ("addrs", "pos")

    def __init__(self, addrs: list[int]) -> None:
        self.addrs = addrs
        self.pos = 0


class ThumbItMixin(State):
    """Code-table actions that deliver the callbacks of skipped IT instructions."""

    def _install_it_regions(self, tb: TranslationBlock) -> None:
        """Deliver callbacks on IT-conditional instructions even when they are skipped.

        The IT instruction always executes; each executed instruction of its block
        delivers the callbacks of the skipped ones before it; the instruction after the
        block (or, at the end of a translation block, the next event) delivers the rest.
        """
        insns = tb.insns
        for i, insn in enumerate(insns):
            if not _IT_RE.match(insn.mnemonic):
                continue
            cond_insns = insns[i + 1 : i + len(insn.mnemonic)]
            addrs = [c.vaddr for c in cond_insns]
            if not any(a in self._code_entries for a in addrs):
                continue
            region = ItRegion(addrs)
            after = insns[i + len(insn.mnemonic)] if i + len(insn.mnemonic) < len(insns) else None
            self._it_actions[insn.vaddr] = self._it_start(region)
            self._rebuild_code(insn.vaddr)
            for k, a in enumerate(addrs):
                self._it_actions[a] = self._it_step(region, k)
                self._rebuild_code(a)
            if after is not None:
                self._it_actions[after.vaddr] = self._it_step(region, len(addrs))
                self._rebuild_code(after.vaddr)

    def _it_start(self, region: ItRegion) -> Callable[[], None]:
        def start() -> None:
            self._flush_it_pending()
            region.pos = 0
            self._it_pending.append(region)

        return start

    def _it_step(self, region: ItRegion, k: int) -> Callable[[], None]:
        pending = self._it_pending
        n = len(region.addrs)

        def step() -> None:
            if not pending or pending[-1] is not region:
                return
            while region.pos < k and region.pos < n:
                self._run_insn_cbs(region.addrs[region.pos])
                region.pos += 1
            region.pos = k + 1
            if region.pos >= n:
                pending.pop()

        return step

    def _flush_it_pending(self) -> None:
        while self._it_pending:
            region = self._it_pending.pop()
            while region.pos < len(region.addrs):
                self._run_insn_cbs(region.addrs[region.pos])
                region.pos += 1

    def _flush_it_pending_silently(self) -> None:
        self._it_pending.clear()
        self._it_actions.clear()
