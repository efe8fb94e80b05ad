"""The per-address tables the code and memory hooks read, and what goes into them.

Per-instruction callbacks are compiled per address into one closure (the code table),
memory callbacks and inline ops per accessing instruction into another (the memory
table). An address can belong to several announced blocks (a loop entered mid-way): when
they registered the same thing there they share one dispatcher, otherwise the one of the
block executing now is picked. A code-table entry may also run, before the address's own
callbacks, a *pre-action* (Thumb IT bookkeeping, :mod:`.thumb_it`) and one-shot
breakpoints (:mod:`.breakpoints`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument import _uc
from qpp_core.instrument.callbacks import MemDispatcher, compile_exec, compile_mem
from qpp_core.instrument.context import REGS_NONE, Context
from qpp_core.instrument.decode import Decoder
from qpp_core.instrument.dispatch import mem_hook
from qpp_core.instrument.failures import Failures
from qpp_core.instrument.handles import ExecCallback, Instruction
from qpp_core.instrument.hooks import HookSet
from qpp_core.instrument.native import Native
from qpp_core.instrument.plan import disabled, exec_signature, mem_signature
from qpp_core.session import LoadedPlugin

#: a code-table entry as the plain code hook reads it: (fn, userdata, flags, owner)
FastEntry = tuple[Any, Any, int, Any]


class Tables:
    """The code and memory tables of one machine, built from what blocks registered."""

    def __init__(
        self,
        ctx: Context,
        failures: Failures,
        decoder: Decoder,
        hooks: HookSet,
        native: Native | None,
    ) -> None:
        self.ctx = ctx
        self.failures = failures
        self.decoder = decoder
        self.hooks = hooks
        self.native = native
        self.big_endian = not decoder.arch.little_endian
        self.code_table: dict[int, Callable[[], None]] = {}
        #: the code table as the plain (non-Thumb) code hook reads it (see _fast_entry)
        self.code_fast: dict[int, FastEntry] = {}
        #: per instruction address, per block address: the callbacks registered there (an
        #: instruction can belong to several blocks, e.g. a loop entered mid-way)
        self.code_entries: dict[int, dict[int, list[ExecCallback]]] = {}
        #: per address: what runs for its callbacks and breakpoints (no pre-action)
        self.code_own: dict[int, Callable[[], None]] = {}
        self.mem_entries: dict[int, dict[int, Instruction]] = {}
        self.mem_table: dict[int, MemDispatcher] = native.mem_table if native is not None else {}
        #: per address: an action run before the address's callbacks (Thumb IT)
        self.pre_actions: dict[int, Callable[[], None]] = {}
        #: one-shot callbacks before the instruction at an address (breakpoints)
        self.breakpoints: dict[int, list[ExecCallback]] = {}

    def compile_exec(self, entries: list[ExecCallback], event: str) -> Callable[[], None]:
        return compile_exec(self.ctx, self.failures, entries, event)

    def _per_block(
        self,
        per_block: dict[int, Any],
        build: Callable[[Any], Any],
        signature: Callable[[Any], Any],
    ) -> Any:
        """One dispatcher for an address registered by one or more blocks.

        Identical registrations (the usual case: a plugin instruments an instruction the
        same way in every block holding it) share one dispatcher; otherwise the one of
        the block executing now is picked (the block hook records it)."""
        items = list(per_block.items())
        first = signature(items[0][1])
        if all(signature(v) == first for _, v in items[1:]):
            return build(items[0][1])
        built = {bv: build(v) for bv, v in items}
        if all(fn is None for fn in built.values()):
            return None
        cur = self.ctx.cur

        def by_block(*args: Any) -> None:
            fn = built.get(cur[0])
            if fn is not None:
                fn(*args)

        return by_block

    # --- code table -----------------------------------------------------------------------

    def rebuild_code(self, addr: int) -> None:
        """Recompute the code-table entry at ``addr`` from its registrations."""
        per_block = self.code_entries.get(addr)
        own: Callable[[], None] | None = None
        if per_block:

            def build(entries: list[ExecCallback]) -> Callable[[], None] | None:
                live = [e for e in entries if not disabled(e.owner)]
                return self.compile_exec(live, "insn exec") if live else None

            own = self._per_block(per_block, build, exec_signature)
        plain = own
        if addr in self.breakpoints:
            own = self._with_breakpoints(addr, own)
        if own is None:
            self.code_own.pop(addr, None)
        else:
            self.code_own[addr] = own
        pre = self.pre_actions.get(addr)
        if pre is None:
            if own is None:
                self.code_table.pop(addr, None)
                self.code_fast.pop(addr, None)
            else:
                self.code_table[addr] = own
                if own is plain and per_block:
                    self.code_fast[addr] = _fast_entry(per_block, own)
                else:
                    run = own
                    self.code_fast[addr] = (lambda vcpu, ud: run(), None, REGS_NONE, None)
            return
        if own is None:
            self.code_table[addr] = pre
            return

        def both() -> None:
            pre()
            own()

        self.code_table[addr] = both

    def _with_breakpoints(self, addr: int, own: Callable[[], None] | None) -> Callable[[], None]:
        """The code-table entry at ``addr``: its breakpoints (once), then ``own``."""
        ctx = self.ctx
        breakpoints = self.breakpoints

        def run() -> None:
            entries = breakpoints.pop(addr, None)
            if entries:
                self.rebuild_code(addr)  # one-shot: gone before they run
                self.compile_exec(entries, "breakpoint")()
            if own is not None and not ctx.exiting:
                own()

        return run

    def run_insn_cbs(self, addr: int) -> None:
        """Fire the callbacks of an instruction unicorn skipped (Thumb IT)."""
        fn = self.code_own.get(addr)
        if fn is not None:
            fn()

    def put_pre_action(self, addr: int, action: Callable[[], None]) -> None:
        """Run ``action`` before the callbacks at ``addr`` (every block then goes through
        the Python block hook, which keeps the actions' state)."""
        self.pre_actions[addr] = action
        if self.native is not None:
            self.native.python_for_all(True)
        self.rebuild_code(addr)

    def clear_pre_actions(self) -> None:
        self.pre_actions.clear()
        if self.native is not None:
            self.native.python_for_all(False)

    # --- memory table ---------------------------------------------------------------------

    def rebuild_mem(self, addr: int) -> None:
        """Recompute the memory-table entry of the instruction at ``addr``."""
        if addr not in self.mem_entries:
            return
        per_block = self.mem_entries[addr]
        fn = self._per_block(per_block, self.compile_mem, mem_signature)
        if fn is None:
            self.mem_table.pop(addr, None)
        else:
            self.mem_table[addr] = fn
        native = self.native
        if native is not None:
            first = mem_signature(next(iter(per_block.values())))
            same = all(mem_signature(v) == first for v in per_block.values())
            native.put_mem(addr, per_block, same, fn, self._compile_mem_cbs)
        self.hooks.ensure_mem(lambda: mem_hook(self.ctx, self.mem_table, self.failures))

    def _compile_mem_cbs(self, insn: Instruction) -> MemDispatcher | None:
        """The dispatcher of one instruction's memory callbacks alone (the native hook
        applies its inline ops)."""
        return self.compile_mem(insn, with_ops=False)

    def compile_mem(self, insn: Instruction, *, with_ops: bool = True) -> MemDispatcher | None:
        return compile_mem(
            self.ctx,
            self.failures,
            insn,
            sign=self.decoder.sign_load(insn.mnemonic),
            big_endian=self.big_endian,
            write=_uc.MEM_WRITE,
            with_ops=with_ops,
        )

    # --- forgetting -----------------------------------------------------------------------

    def forget_block(self, vaddr: int, insns: list[Instruction]) -> None:
        """Drop what the block at ``vaddr`` registered on its instructions."""
        for insn in insns:
            per_block = self.code_entries.get(insn.vaddr)
            if per_block is not None and per_block.pop(vaddr, None) is not None:
                if not per_block:
                    del self.code_entries[insn.vaddr]
                self.rebuild_code(insn.vaddr)
            mem = self.mem_entries.get(insn.vaddr)
            if mem is not None and mem.pop(vaddr, None) is not None:
                if mem:
                    self.rebuild_mem(insn.vaddr)
                else:
                    del self.mem_entries[insn.vaddr]
                    self.mem_table.pop(insn.vaddr, None)

    def purge(self, plugin: LoadedPlugin) -> None:
        """Cut ``plugin``'s registrations and breakpoints out of the tables."""

        def keep(items: list[Any]) -> list[Any]:
            return [x for x in items if x.owner is not plugin]

        for addr in list(self.code_entries):
            per_block = self.code_entries[addr]
            for bv in list(per_block):
                per_block[bv] = keep(per_block[bv])
                if not per_block[bv]:
                    del per_block[bv]
            if not per_block:
                del self.code_entries[addr]
            self.rebuild_code(addr)
        for addr in list(self.mem_entries):
            self.rebuild_mem(addr)
        for addr in list(self.breakpoints):
            self.breakpoints[addr] = keep(self.breakpoints[addr])
            if not self.breakpoints[addr]:
                del self.breakpoints[addr]
            self.rebuild_code(addr)

    def clear(self) -> None:
        """Forget every block's registrations (a flush; breakpoints stay)."""
        self.code_table.clear()
        self.code_fast.clear()
        self.code_entries.clear()
        self.code_own.clear()
        self.mem_entries.clear()
        self.clear_pre_actions()
        self.mem_table.clear()


def _fast_entry(per_block: Any, own: Callable[[], None]) -> FastEntry:
    """``(fn, userdata, flags, owner)`` for the plain code hook: the plugin's own callback
    when one unconditional callback is all there is at this address (in every block
    holding it), else the compiled dispatcher (owner ``None``)."""
    items = list(per_block.values())
    first = items[0]
    if (
        len(first) == 1
        and first[0].cond is None
        and not disabled(first[0].owner)
        and all(exec_signature(v) == exec_signature(first) for v in items[1:])
    ):
        e = first[0]
        return (e.fn, e.userdata, int(e.flags), e.owner)
    return (lambda vcpu, ud: own(), None, REGS_NONE, None)
