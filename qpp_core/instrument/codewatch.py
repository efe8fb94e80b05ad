"""Self-modifying code: watching stores into announced code, and what a store there undoes.

unicorn retranslates code that the guest overwrites itself (it tracks code pages as QEMU
does); this layer must also forget the plans of the blocks concerned, so that the new
code is announced to ``tb_trans`` again with fresh instrumentation, and take back inline
counts of a block that a store abandons midway. Code can also change without a guest
store: the kernel writes it (a ``read()`` into a JIT buffer), a page is remapped, or a
W^X JIT writes while the page is not executable and then mprotects it; the memory layer
reports those (``GuestMemory.code_listeners``) and the blocks there are forgotten too.
"""

from __future__ import annotations

from collections.abc import Iterable

from qpp_core.instrument import _uc
from qpp_core.instrument.handles import InlineOp
from qpp_core.instrument.hooks import coalesce
from qpp_core.instrument.plan import BlockPlan, disabled, fold_inline
from qpp_core.instrument.state import MemHook, State

#: at most this many write hooks watch announced code
MAX_WATCH_HOOKS = 8
PAGE_BITS = 12
PAGE_MASK = (1 << PAGE_BITS) - 1


class CodeWatchMixin(State):
    """Write hooks over announced code; forgetting blocks and taking counts back."""

    def _unindex(self, plan: BlockPlan) -> None:
        for page in range(plan.vaddr >> PAGE_BITS, (plan.vaddr + plan.size - 1 >> PAGE_BITS) + 1):
            on_page = self._page_blocks.get(page)
            if on_page is not None:
                on_page.discard(plan.vaddr)
                if not on_page:
                    del self._page_blocks[page]

    def _watch_code(self, lo: int, hi: int) -> None:
        """Make sure guest stores into ``[lo, hi]`` reach :meth:`_code_written`.

        Code that cannot be written (a read-only, executable mapping: the usual case) needs
        no hook: a guest store there faults, and an ``mprotect`` that makes it writable
        reports the range through :meth:`code_changed`, which forgets the blocks there (so
        they are translated again, and watched then). The mapping is remembered, so a
        program pays one lookup per mapping. Writable code (an RWX stack, a JIT buffer) is
        watched page by page with a store hook. Any store hook at all sends every guest
        load and store through unicorn's slow memory path (3-4x slower), which is why
        read-only code must not have one.
        """
        self._listen_to_memory()
        for a, b in self._readonly_code:
            if a <= lo and hi <= b:
                return
        for a, b, _ in self._watch:
            if a <= lo and hi <= b:
                return
        new_lo, new_hi = lo & ~PAGE_MASK, hi | PAGE_MASK
        for begin, end, perms in self.uc.mem_regions():
            if begin <= lo <= end:
                if not perms & _uc.PROT_WRITE and hi <= end:
                    self._readonly_code.append((begin, end))
                    return
                break
        ivs = [[a, b] for a, b, _ in self._watch] + [[new_lo, new_hi]]
        merged = coalesce(ivs, 1, MAX_WATCH_HOOKS)
        self._watch = self._replace_hooks(
            self._watch, merged, _uc.HOOK_MEM_WRITE, _uc.MEM_CB, self._make_watch_hook
        )

    def _listen_to_memory(self) -> None:
        """Subscribe once to the memory layer's reports of code changed behind the CPU."""
        memory = getattr(getattr(self.machine, "kernel", None), "memory", None)
        listeners = getattr(memory, "code_listeners", None)
        if isinstance(listeners, list) and self.code_changed not in listeners:
            listeners.append(self.code_changed)

    def code_changed(self, lo: int, hi: int) -> None:
        """``[lo, hi)`` changed outside guest stores: announce its blocks afresh.

        The range may have become writable (``mprotect``, a remap): mappings there are
        no longer known to be read-only.
        """
        self._readonly_code = [(a, b) for a, b in self._readonly_code if b < lo or hi <= a]
        first, last = lo >> PAGE_BITS, (hi - 1) >> PAGE_BITS
        if last - first > len(self._page_blocks):  # a wide range: walk the few code pages
            pages = [p for p in self._page_blocks if first <= p <= last]
        else:
            pages = [p for p in range(first, last + 1) if p in self._page_blocks]
        if not pages:
            return
        try:
            self._forget_hits(self._hits(pages, lo, hi), take_back=False)
        except BaseException as exc:
            self._hook_failed(exc)

    def _drop_watch(self) -> None:
        for _, _, handle in self._watch:
            self.raw.delete(handle)
        self._watch = []
        self._readonly_code = []
        self._page_blocks.clear()

    @property
    def code_watch_ranges(self) -> list[tuple[int, int]]:
        """The code address ranges whose stores are watched by a hook now (for tests)."""
        return [(a, b) for a, b, _ in self._watch]

    def _make_watch_hook(self) -> MemHook:
        page_blocks = self._page_blocks

        def on_code_write(
            handle: int, access: int, address: int, size: int, value: int, key: int
        ) -> None:
            first, last = address >> PAGE_BITS, (address + size - 1) >> PAGE_BITS
            if first not in page_blocks and last not in page_blocks:
                return
            try:
                self._code_written(address, address + size)
            except BaseException as exc:
                self._hook_failed(exc)

        return on_code_write

    def _code_written(self, lo: int, hi: int) -> None:
        """The guest stores into ``[lo, hi)``: forget the announced blocks it overlaps.

        unicorn retranslates them itself; dropping their plans makes the block hook
        announce the new code to ``tb_trans`` again, with fresh instrumentation. A store
        into the block running now makes unicorn abandon that block and execute the store
        again as a block of its own: the inline counts of the store and of what follows it
        in the abandoned block are taken back, so counts stay exact (execution callbacks
        on the store itself fire on both tries, as they come before the instruction).
        """
        self._forget_hits(self._hits(range(lo >> PAGE_BITS, ((hi - 1) >> PAGE_BITS) + 1), lo, hi))

    def _hits(self, pages: Iterable[int], lo: int, hi: int) -> set[int]:
        """Announced blocks on ``pages`` with bytes in ``[lo, hi)``."""
        hit: set[int] = set()
        for page in pages:
            for vaddr in self._page_blocks.get(page, ()):
                plan = self.blocks.get(vaddr)
                if plan is not None and vaddr < hi and lo < vaddr + plan.size:
                    hit.add(vaddr)
        return hit

    def _forget_hits(self, hit: set[int], *, take_back: bool = True) -> None:
        """Forget blocks; ``take_back``: a guest store made unicorn abandon the current one
        (a change made by the kernel or an mprotect lets the running block finish)."""
        if not hit:
            return
        self.n_code_writes += 1
        cur = self._cur[0]
        if take_back and cur in hit:
            self._take_back(self.blocks[cur], self._read_pc())
        for vaddr in hit:
            self._forget_block(vaddr)

    def _take_back(self, plan: BlockPlan, pc: int, *, whole: bool = False) -> None:
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

    def _forget_block(self, vaddr: int) -> None:
        plan = self.blocks.pop(vaddr, None)
        if plan is None:
            return
        self._unindex(plan)
        for insn in plan.tb.insns:
            per_block = self._code_entries.get(insn.vaddr)
            if per_block is not None and per_block.pop(vaddr, None) is not None:
                if not per_block:
                    del self._code_entries[insn.vaddr]
                self._rebuild_code(insn.vaddr)
            mem = self._mem_entries.get(insn.vaddr)
            if mem is not None and mem.pop(vaddr, None) is not None:
                if mem:
                    self._rebuild_mem(insn.vaddr)
                else:
                    del self._mem_entries[insn.vaddr]
                    self.mem_table.pop(insn.vaddr, None)
