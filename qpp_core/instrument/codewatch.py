"""Self-modifying code: watching stores into announced code, and what a store there undoes.

unicorn retranslates code that the guest overwrites itself (it tracks code pages as QEMU
does); this layer must also forget the plans of the blocks concerned, so that the new
code is announced to ``tb_trans`` again with fresh instrumentation, and take back inline
counts of a block that a store abandons midway. Code can also change without a guest
store: the kernel writes it (a ``read()`` into a JIT buffer), a page is remapped, or a
W^X JIT writes while the page is not executable and then mprotects it; the memory layer
reports those (the machine's ``code_listeners``) and the blocks there are forgotten too.
"""

from __future__ import annotations

from collections.abc import Iterable

from qpp_core.instrument import _uc
from qpp_core.instrument.cache import PAGE_BITS, PAGE_MASK, BlockCache
from qpp_core.instrument.context import Context
from qpp_core.instrument.failures import Failures
from qpp_core.instrument.hooks import HookSet, MemHook, coalesce
from qpp_core.ports import MachinePort

#: at most this many write hooks watch announced code
MAX_WATCH_HOOKS = 8


class CodeWatch:
    """Write hooks over announced code; forgetting blocks and taking counts back."""

    def __init__(
        self,
        cache: BlockCache,
        hooks: HookSet,
        machine: MachinePort,
        ctx: Context,
        failures: Failures,
    ) -> None:
        self.cache = cache
        self.hooks = hooks
        self.machine = machine
        self.ctx = ctx
        self.failures = failures
        #: write hooks over announced code, [lo, hi, handle]
        self.watch: list[list[int]] = []
        #: read-only mappings holding announced code: stores there fault, no hook needed
        self.readonly_code: list[tuple[int, int]] = []
        self.n_code_writes = 0

    def watch_code(self, lo: int, hi: int) -> None:
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
        listeners = self.machine.code_listeners
        if self.code_changed not in listeners:
            listeners.append(self.code_changed)
        for a, b in self.readonly_code:
            if a <= lo and hi <= b:
                return
        for a, b, _ in self.watch:
            if a <= lo and hi <= b:
                return
        new_lo, new_hi = lo & ~PAGE_MASK, hi | PAGE_MASK
        for begin, end, perms in self.machine.uc.mem_regions():
            if begin <= lo <= end:
                if not perms & _uc.PROT_WRITE and hi <= end:
                    self.readonly_code.append((begin, end))
                    return
                break
        ivs = [[a, b] for a, b, _ in self.watch] + [[new_lo, new_hi]]
        merged = coalesce(ivs, 1, MAX_WATCH_HOOKS)
        self.watch = self.hooks.replace(
            self.watch, merged, _uc.HOOK_MEM_WRITE, _uc.MEM_CB, self._make_watch_hook
        )

    def code_changed(self, lo: int, hi: int) -> None:
        """``[lo, hi)`` changed outside guest stores: announce its blocks afresh.

        The range may have become writable (``mprotect``, a remap): mappings there are
        no longer known to be read-only.
        """
        self.readonly_code = [(a, b) for a, b in self.readonly_code if b < lo or hi <= a]
        page_blocks = self.cache.page_blocks
        first, last = lo >> PAGE_BITS, (hi - 1) >> PAGE_BITS
        if last - first > len(page_blocks):  # a wide range: walk the few code pages
            pages = [p for p in page_blocks if first <= p <= last]
        else:
            pages = [p for p in range(first, last + 1) if p in page_blocks]
        if not pages:
            return
        try:
            self._forget_hits(self.cache.hits(pages, lo, hi), take_back=False)
        except BaseException as exc:
            self.failures.hook_failed(exc)

    def drop(self) -> None:
        """No translation listener left: no write hooks, no page index."""
        self.hooks.delete(self.watch)
        self.watch = []
        self.readonly_code = []
        self.cache.page_blocks.clear()

    def stop_listening(self) -> None:
        """This machine is left (closed, or the guest exec'd another program)."""
        self.watch = []
        self.readonly_code = []
        listeners = self.machine.code_listeners
        if self.code_changed in listeners:
            listeners.remove(self.code_changed)

    @property
    def ranges(self) -> list[tuple[int, int]]:
        """The code address ranges whose stores are watched by a hook now (for tests)."""
        return [(a, b) for a, b, _ in self.watch]

    def _make_watch_hook(self) -> MemHook:
        page_blocks = self.cache.page_blocks
        hook_failed = self.failures.hook_failed

        def on_code_write(
            handle: int, access: int, address: int, size: int, value: int, key: int
        ) -> None:
            first, last = address >> PAGE_BITS, (address + size - 1) >> PAGE_BITS
            if first not in page_blocks and last not in page_blocks:
                return
            try:
                self._code_written(address, address + size)
            except BaseException as exc:
                hook_failed(exc)

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
        pages: Iterable[int] = range(lo >> PAGE_BITS, ((hi - 1) >> PAGE_BITS) + 1)
        self._forget_hits(self.cache.hits(pages, lo, hi))

    def _forget_hits(self, hit: set[int], *, take_back: bool = True) -> None:
        """Forget blocks; ``take_back``: a guest store made unicorn abandon the current one
        (a change made by the kernel or an mprotect lets the running block finish)."""
        if not hit:
            return
        self.n_code_writes += 1
        cur = self.ctx.cur[0]
        if take_back and cur in hit:
            self.cache.take_back(self.cache.blocks[cur], self.ctx.read_pc())
        for vaddr in hit:
            self.cache.forget(vaddr)
