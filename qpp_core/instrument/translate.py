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

from dataclasses import dataclass

from qpp_core.instrument.cache import BlockCache
from qpp_core.instrument.codewatch import CodeWatch
from qpp_core.instrument.context import REGS_NONE, Context
from qpp_core.instrument.decode import Decoder
from qpp_core.instrument.events import EventBus
from qpp_core.instrument.handles import Instruction, TranslationBlock
from qpp_core.instrument.hooks import CodeHooks, HookSet
from qpp_core.instrument.plan import BlockPlan, block_inline, exact_conds, fold_inline
from qpp_core.instrument.tables import Tables
from qpp_core.instrument.thumb_it import ThumbIt
from qpp_core.ports import MachinePort


@dataclass
class TranslationStats:
    """Counts for tests and the benchmark (they survive an exec)."""

    n_translations: int = 0
    n_retranslations: int = 0
    n_flushes: int = 0


class Translator:
    """Announcing blocks, installing their plans, and dropping them all (a flush)."""

    def __init__(
        self,
        machine: MachinePort,
        ctx: Context,
        events: EventBus,
        decoder: Decoder,
        cache: BlockCache,
        codewatch: CodeWatch,
        tables: Tables,
        it: ThumbIt,
        hooks: HookSet,
        code_hooks: CodeHooks,
        stats: TranslationStats,
    ) -> None:
        self.machine = machine
        self.uc = machine.uc
        self.ctx = ctx
        self.events = events
        self.decoder = decoder
        self.cache = cache
        self.codewatch = codewatch
        self.tables = tables
        self.it = it
        self.hooks = hooks
        self.code_hooks = code_hooks
        self.stats = stats

    def translate(self, address: int, size: int) -> BlockPlan | None:
        """Announce a block and install its plan; ``None`` when it must be retranslated."""
        ctx = self.ctx
        if ctx.exiting:
            return None
        thumb = ctx.is_thumb()
        data = self.machine.read_memory(address, size)
        tb = TranslationBlock(self.machine, address, size, data, thumb)
        tb.insns = self.decoder.decode(tb) if size else self._raising_insn(tb)
        stats = self.stats
        stats.n_translations += 1
        ctx.translating = tb
        flushes = stats.n_flushes
        try:
            self.events.dispatch("tb_trans", {"tb": tb}, (tb,), regs=REGS_NONE)
        finally:
            tb.open = False
            ctx.translating = None
        if stats.n_flushes != flushes:
            return None  # plugins changed meanwhile: announce the block again on restart
        plan = self._install(tb)
        if self._needs_retranslation(tb) and not plan.retranslated:
            plan.retranslated = True
            stats.n_retranslations += 1
            self.uc.ctl_remove_cache(address, address + size)
            self.hooks.leave_for_new_hooks(address | (1 if thumb else 0))
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
            probe = TranslationBlock(tb.symbols, tb.vaddr, n, data, tb.thumb)
            first = self.decoder.decode(probe)[:1]
            return [Instruction(tb, i.vaddr, i.size, i.mnemonic, i.op_str) for i in first]
        return []

    def _install(self, tb: TranslationBlock) -> BlockPlan:
        """Compile what the plugins registered on ``tb`` into a plan and address tables."""
        tables = self.tables
        plan = BlockPlan(tb)
        plan.adds, plan.stores = fold_inline(block_inline(tb))
        exact_conds(plan)
        if tb.exec_cbs:
            plan.extra = tables.compile_exec(tb.exec_cbs, "tb exec")
            plan.extra_kind = "exec"
        for insn in tb.insns:
            if insn.exec_cbs:
                tables.code_entries.setdefault(insn.vaddr, {})[tb.vaddr] = insn.exec_cbs
                tables.rebuild_code(insn.vaddr)
            if insn.mem_cbs or insn.mem_inline:
                tables.mem_entries.setdefault(insn.vaddr, {})[tb.vaddr] = insn
                tables.rebuild_mem(insn.vaddr)
        if tb.thumb:
            self.it.install_regions(tb)
        self.cache.put(plan)
        self.codewatch.watch_code(tb.vaddr, tb.vaddr + tb.size - 1)
        return plan

    def _needs_retranslation(self, tb: TranslationBlock) -> bool:
        code_table = self.tables.code_table
        addrs = [i.vaddr for i in tb.insns if i.vaddr in code_table]
        if not addrs:
            return False
        code_hooks = self.code_hooks
        if all(code_hooks.covered(a) for a in addrs):
            return False
        code_hooks.cover(min(addrs), max(addrs))
        return True

    def flush_all(self, reason: str = "") -> None:
        """Drop every announced block and its instrumentation (QEMU's ``tb_flush``).

        Blocks are announced again when they next run, to the plugins loaded then.
        """
        self.stats.n_flushes += 1
        self.cache.clear()
        self.tables.clear()
        self.it.clear()
        self.code_hooks.clear()
        self.hooks.drop_mem()
        for addr in self.tables.breakpoints:  # they outlive translations
            self.tables.rebuild_code(addr)
            self.code_hooks.cover(addr, addr)
        ctx = self.ctx
        if ctx.started and not ctx.finished:
            self.hooks.flush_unicorn()
            self.events.dispatch("flush", {}, (), regs=REGS_NONE)
