"""The address tables the code and memory hooks read, and the dispatchers in them.

Per-instruction callbacks are compiled per address into one closure (the code table),
memory callbacks and inline ops per accessing instruction into another (the memory
table). An address can belong to several announced blocks (a loop entered mid-way): when
they registered the same thing there they share one dispatcher, otherwise the one of the
block executing now is picked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument import _uc
from qpp_core.instrument.handles import ExecCallback, InlineOp, Instruction, MemInfo, MemRW
from qpp_core.instrument.plan import (
    block_inline,
    disabled,
    exact_conds,
    exec_signature,
    fold_inline,
    mem_signature,
)
from qpp_core.instrument.state import REGS_NONE, State
from qpp_core.session import LoadedPlugin


class TablesMixin(State):
    """Compiling execution and memory callbacks into the code and memory tables."""

    def _compile_exec(self, entries: list[ExecCallback], event: str) -> Callable[[], None]:
        """One closure running ``entries`` in order, attributing errors to their plugin."""
        me = self
        if len(entries) == 1 and entries[0].cond is None:
            e = entries[0]
            fn, ud, flags = e.fn, e.userdata, int(e.flags)

            def run_one() -> None:
                me.regs = flags
                try:
                    fn(me.vcpu_index, ud)
                except BaseException as exc:
                    me._plugin_failed(e.owner, event, exc)

            return run_one
        items = [(e, e.fn, e.userdata, int(e.flags), e.cond) for e in entries]

        def run_all() -> None:
            for e, fn, ud, flags, cond in items:
                if me.exiting:
                    return
                if cond is not None and not cond():
                    continue
                me.regs = flags
                try:
                    fn(me.vcpu_index, ud)
                except BaseException as exc:
                    me._plugin_failed(e.owner, event, exc)

        return run_all

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
        cur = self._cur

        def by_block(*args: Any) -> None:
            fn = built.get(cur[0])
            if fn is not None:
                fn(*args)

        return by_block

    def _rebuild_code(self, addr: int) -> None:
        per_block = self._code_entries.get(addr)
        own: Callable[[], None] | None = None
        if per_block:

            def build(entries: list[ExecCallback]) -> Callable[[], None] | None:
                live = [e for e in entries if not disabled(e.owner)]
                return self._compile_exec(live, "insn exec") if live else None

            own = self._per_block(per_block, build, exec_signature)
        plain = own
        if addr in self._breakpoints:
            own = self._with_breakpoints(addr, own)
        if own is None:
            self._code_own.pop(addr, None)
        else:
            self._code_own[addr] = own
        pre = self._it_actions.get(addr)
        if pre is None:
            if own is None:
                self.code_table.pop(addr, None)
                self._code_fast.pop(addr, None)
            else:
                self.code_table[addr] = own
                if own is plain and per_block:
                    self._code_fast[addr] = self._fast_entry(per_block, own)
                else:
                    run = own
                    self._code_fast[addr] = (lambda vcpu, ud: run(), None, REGS_NONE, None)
            return
        if own is None:
            self.code_table[addr] = pre
            return

        def both() -> None:
            pre()
            own()

        self.code_table[addr] = both

    @staticmethod
    def _fast_entry(per_block: Any, own: Callable[[], None]) -> tuple[Any, Any, int, Any]:
        """``(fn, userdata, flags, owner)`` for the non-arm code hook: the plugin's own
        callback when one unconditional callback is all there is at this address (in
        every block holding it), else the compiled dispatcher (owner ``None``)."""
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

    def _run_insn_cbs(self, addr: int) -> None:
        """Fire the callbacks of an instruction unicorn skipped (Thumb IT)."""
        fn = self._code_own.get(addr)
        if fn is not None:
            fn()

    # --- memory callbacks -----------------------------------------------------------------

    def _rebuild_mem(self, addr: int) -> None:
        if addr not in self._mem_entries:
            return
        per_block = self._mem_entries[addr]
        fn = self._per_block(per_block, self._compile_mem, mem_signature)
        if fn is None:
            self.mem_table.pop(addr, None)
        else:
            self.mem_table[addr] = fn
        native = self._native
        if native is not None:
            first = mem_signature(next(iter(per_block.values())))
            same = all(mem_signature(v) == first for v in per_block.values())
            native.put_mem(addr, per_block, same, fn, self._compile_mem_cbs)
            if self._mem_hook is None:
                self._mem_hook = native.mem_hook()
        elif self._mem_hook is None:
            self._mem_hook = self.raw.add(
                _uc.HOOK_MEM_READ_AFTER | _uc.HOOK_MEM_WRITE, _uc.MEM_CB, self._make_mem_hook()
            )

    def _compile_mem_cbs(self, insn: Instruction) -> Callable[[int, int, int, int], None] | None:
        """The dispatcher of one instruction's memory callbacks alone (the native hook
        applies its inline ops)."""
        return self._compile_mem(insn, with_ops=False)

    def _compile_mem(
        self, insn: Instruction, *, with_ops: bool = True
    ) -> Callable[[int, int, int, int], None] | None:
        """The dispatcher of one instruction's memory callbacks and inline ops."""
        me = self
        cbs = [c for c in insn.mem_cbs if not disabled(c.owner)]
        ops = [
            (r.rw, r.op, r.entry.score.live, r.entry.slot, r.imm)
            for r in insn.mem_inline
            if with_ops and not disabled(r.owner)
        ]
        if not cbs and not ops:
            return None
        sign = self._decoding.sign_load(insn.mnemonic)
        big = not self.arch.little_endian
        write = _uc.MEM_WRITE

        def on_access(access: int, address: int, size: int, value: int) -> None:
            is_store = access == write
            rw = MemRW.W if is_store else MemRW.R
            for want, op, vals, slot, imm in ops:
                if want & rw:
                    if op is InlineOp.ADD_U64:
                        vals[slot] += imm
                    else:
                        vals[slot] = imm
            if cbs:
                info = MemInfo(size, is_store, value & ((1 << (8 * size)) - 1), sign, big)
                me._in_mem = True
                try:
                    for c in cbs:
                        if c.rw & rw and not me.exiting:
                            me.regs = int(c.flags)
                            try:
                                c.fn(me.vcpu_index, info, address, c.userdata)
                            except BaseException as exc:
                                me._plugin_failed(c.owner, "mem", exc)
                finally:
                    me._in_mem = False

        return on_access

    # --- removing a plugin ----------------------------------------------------------------

    def _purge(self, plugin: LoadedPlugin) -> None:
        """Cut ``plugin``'s registrations out of every announced block and address table."""

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
            plan.extra = self._compile_exec(tb.exec_cbs, "tb exec") if tb.exec_cbs else None
            plan.extra_kind = "exec" if tb.exec_cbs else ""
        for addr in list(self._code_entries):
            per_block = self._code_entries[addr]
            for bv in list(per_block):
                per_block[bv] = keep(per_block[bv])
                if not per_block[bv]:
                    del per_block[bv]
            if not per_block:
                del self._code_entries[addr]
            self._rebuild_code(addr)
        for addr in list(self._mem_entries):
            self._rebuild_mem(addr)
        for addr in list(self._breakpoints):
            self._breakpoints[addr] = keep(self._breakpoints[addr])
            if not self._breakpoints[addr]:
                del self._breakpoints[addr]
            self._rebuild_code(addr)
        if self._native is not None:
            self._native.resync()  # the plans changed in place
