"""The block cache: the plans of the announced blocks, by address and by code page.

A plan is installed when its block is announced (:mod:`.translate`) and forgotten when
its code changes (:mod:`.codewatch`), when a plugin goes (its part is cut out of every
plan in place) or on a flush. With the native backend the cache's dict is the mirrored
:class:`~qpp_core.instrument.native.BlockTable`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qpp_core.instrument.handles import InlineOp
from qpp_core.instrument.native import Native
from qpp_core.instrument.plan import BlockPlan, block_inline, disabled, exact_conds, fold_inline
from qpp_core.instrument.tables import Tables
from qpp_core.session import LoadedPlugin

PAGE_BITS = 12
PAGE_MASK = (1 << PAGE_BITS) - 1


class BlockCache:
    """Announced blocks' plans, and which code pages hold them."""

    def __init__(self, tables: Tables, native: Native | None) -> None:
        self.tables = tables
        self.native = native
        self.blocks: dict[int, BlockPlan] = native.blocks if native is not None else {}
        #: page number -> addresses of announced blocks with bytes on that page
        self.page_blocks: dict[int, set[int]] = {}

    def put(self, plan: BlockPlan) -> None:
        """Install ``plan`` for its block (replacing an older one)."""
        old = self.blocks.get(plan.vaddr)
        if old is not None:
            self._unindex(old)
        self.blocks[plan.vaddr] = plan
        for page in _pages(plan.vaddr, plan.size):
            self.page_blocks.setdefault(page, set()).add(plan.vaddr)

    def _unindex(self, plan: BlockPlan) -> None:
        for page in _pages(plan.vaddr, plan.size):
            on_page = self.page_blocks.get(page)
            if on_page is not None:
                on_page.discard(plan.vaddr)
                if not on_page:
                    del self.page_blocks[page]

    def hits(self, pages: Iterable[int], lo: int, hi: int) -> set[int]:
        """Announced blocks on ``pages`` with bytes in ``[lo, hi)``."""
        hit: set[int] = set()
        for page in pages:
            for vaddr in self.page_blocks.get(page, ()):
                plan = self.blocks.get(vaddr)
                if plan is not None and vaddr < hi and lo < vaddr + plan.size:
                    hit.add(vaddr)
        return hit

    def forget(self, vaddr: int) -> None:
        """Forget the block at ``vaddr`` and what it registered in the tables."""
        plan = self.blocks.pop(vaddr, None)
        if plan is None:
            return
        self._unindex(plan)
        self.tables.forget_block(vaddr, plan.tb.insns)

    def take_back(self, plan: BlockPlan, pc: int, *, whole: bool = False) -> None:
        """Undo the insn inline adds of ``plan`` from the instruction at ``pc`` on (and
        the block's own adds too with ``whole``: the block did not run at all)."""
        insns = plan.tb.insns
        tail = [i for i in insns if i.vaddr >= pc]
        records = [r for i in tail for r in i.inline if not disabled(r.owner)]
        if whole:
            records += [r for r in plan.tb.inline if not disabled(r.owner)]
        adds, _ = fold_inline([r for r in records if r.op is InlineOp.ADD_U64])
        for vals, slot, imm in adds:
            vals[slot] -= imm

    def purge(self, plugin: LoadedPlugin) -> None:
        """Cut ``plugin``'s registrations out of every plan, in place."""

        def keep(items: list[Any]) -> list[Any]:
            return [x for x in items if x.owner is not plugin]

        for plan in self.blocks.values():
            tb = plan.tb
            tb.inline[:] = keep(tb.inline)
            tb.exec_cbs[:] = keep(tb.exec_cbs)
            for insn in tb.insns:
                insn.inline[:] = keep(insn.inline)
                insn.exec_cbs[:] = keep(insn.exec_cbs)
                insn.mem_cbs[:] = keep(insn.mem_cbs)
                insn.mem_inline[:] = keep(insn.mem_inline)
            plan.adds, plan.stores = fold_inline(block_inline(tb))
            exact_conds(plan)
            plan.extra = self.tables.compile_exec(tb.exec_cbs, "tb exec") if tb.exec_cbs else None
            plan.extra_kind = "exec" if tb.exec_cbs else ""

    def clear(self) -> None:
        self.blocks.clear()
        self.page_blocks.clear()


def _pages(vaddr: int, size: int) -> range:
    return range(vaddr >> PAGE_BITS, (vaddr + size - 1 >> PAGE_BITS) + 1)
