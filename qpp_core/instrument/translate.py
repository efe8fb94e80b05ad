"""Translation: announcing a block to the plugins and compiling what they registered.

Unicorn has no complete "block translated" event (``UC_HOOK_EDGE_GENERATED`` fires only
when blocks are linked), so the block hook
announces each block the first time it starts executing: the block is decoded with
capstone, handed to every ``qemu_plugin_vcpu_tb_trans`` listener (newest plugin first) and
what they registered is compiled into a :class:`~qpp_core.instrument.plan.BlockPlan`. If
they asked for per-instruction callbacks at addresses unicorn was not instrumenting, the
block's cache entry is dropped and the pc rewritten to the block start, which makes
unicorn abandon the stale translation and translate again with the new hooks, so the
callbacks fire on this very first execution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from qpp_core.instrument.codewatch import PAGE_BITS
from qpp_core.instrument.handles import Instruction, TranslationBlock
from qpp_core.instrument.plan import BlockPlan, block_inline, exact_conds, fold_inline
from qpp_core.instrument.state import REGS_NONE, State

if TYPE_CHECKING:
    from qpp_core.instrument.core import Instrumentation


class TranslateMixin(State):
    """Announcing blocks, installing their plans, and dropping them all (a flush)."""

    def _is_thumb(self) -> bool:
        return bool(self._is_arm and self.uc.reg_read(self._cpsr_id) & 0x20)

    def decode(self, tb: TranslationBlock) -> list[Instruction]:
        """Split a block into instructions (see :meth:`.Decoder.decode`)."""
        return self._decoding.decode(tb)

    def _translate(self, address: int, size: int) -> BlockPlan | None:
        """Announce a block and install its plan; ``None`` when it must be retranslated."""
        if self.exiting:
            return None
        thumb = self._is_thumb()
        data = self.machine.read_memory(address, size)
        tb = TranslationBlock(cast("Instrumentation", self), address, size, data, thumb)
        tb.insns = self.decode(tb) if size else self._raising_insn(tb)
        self.n_translations += 1
        self.translating = tb
        saved, self.regs = self.regs, REGS_NONE
        flushes = self.n_flushes
        try:
            self._dispatch("tb_trans", {"tb": tb}, (tb,))
        finally:
            self.regs = saved
            tb.open = False
            self.translating = None
        if self.n_flushes != flushes:
            return None  # plugins changed meanwhile: announce the block again on restart
        plan = self._install(tb)
        if self._needs_retranslation(tb) and not plan.retranslated:
            plan.retranslated = True
            self.n_retranslations += 1
            self.uc.ctl_remove_cache(address, address + size)
            if self._hooks_deleted:
                # unicorn frees deleted hooks only when emu_start returns; until then every
                # instrumented instruction walks past them: leave and re-enter now
                self._hooks_deleted = False
                self.machine.request_restart()
            else:
                self.uc.reg_write(self.arch.pc, address | (1 if thumb else 0))
            return None
        return plan

    def _raising_insn(self, tb: TranslationBlock) -> list[Instruction]:
        """unicorn's block of an instruction it cannot translate (an illegal one: riscv64's
        ``unimp``) has size 0; QEMU's holds that instruction, which counts as it raises."""
        for n in (16, 8, 4, 2):
            try:
                data = self.machine.read_memory(tb.vaddr, n)
            except Exception:  # the page ends sooner
                continue
            probe = TranslationBlock(tb.instr, tb.vaddr, n, data, tb.thumb)
            first = self.decode(probe)[:1]
            return [Instruction(tb, i.vaddr, i.size, i.mnemonic, i.op_str) for i in first]
        return []

    def _install(self, tb: TranslationBlock) -> BlockPlan:
        """Compile what the plugins registered on ``tb`` into a plan and address tables."""
        plan = BlockPlan(tb)
        plan.adds, plan.stores = fold_inline(block_inline(tb))
        exact_conds(plan)
        if tb.exec_cbs:
            plan.extra = self._compile_exec(tb.exec_cbs, "tb exec")
            plan.extra_kind = "exec"
        for insn in tb.insns:
            if insn.exec_cbs:
                self._code_entries.setdefault(insn.vaddr, {})[tb.vaddr] = insn.exec_cbs
                self._rebuild_code(insn.vaddr)
            if insn.mem_cbs or insn.mem_inline:
                self._mem_entries.setdefault(insn.vaddr, {})[tb.vaddr] = insn
                self._rebuild_mem(insn.vaddr)
        if tb.thumb:
            self._install_it_regions(tb)
        old = self.blocks.get(tb.vaddr)
        if old is not None:
            self._unindex(old)
        self.blocks[tb.vaddr] = plan
        for page in range(tb.vaddr >> PAGE_BITS, (tb.vaddr + tb.size - 1 >> PAGE_BITS) + 1):
            self._page_blocks.setdefault(page, set()).add(tb.vaddr)
        self._watch_code(tb.vaddr, tb.vaddr + tb.size - 1)
        return plan

    def _needs_retranslation(self, tb: TranslationBlock) -> bool:
        addrs = [i.vaddr for i in tb.insns if i.vaddr in self.code_table]
        if not addrs:
            return False
        if all(self._covered(a) for a in addrs):
            return False
        self._cover(min(addrs), max(addrs))
        return True

    def flush_all(self, reason: str = "") -> None:
        """Drop every announced block and its instrumentation (QEMU's ``tb_flush``).

        Blocks are announced again when they next run, to the plugins loaded then.
        """
        self.n_flushes += 1
        self.blocks.clear()
        self._page_blocks.clear()
        self.code_table.clear()
        self._code_fast.clear()
        self._code_entries.clear()
        self._code_own.clear()
        self._mem_entries.clear()
        self._it_actions.clear()
        self._it_pending.clear()
        self.mem_table.clear()
        for _, _, handle in self._intervals:
            self.raw.delete(handle)
        self._intervals = []
        if self._mem_hook is not None:
            self.raw.delete(self._mem_hook)
            self._mem_hook = None
        for addr in self._breakpoints:  # they outlive translations
            self._rebuild_code(addr)
            self._cover(addr, addr)
        if self.started and not self.finished:
            self._flush_unicorn()
            saved, self.regs = self.regs, REGS_NONE
            try:
                self._dispatch("flush", {}, ())
            finally:
                self.regs = saved
