"""The instrumentation layer: QEMU's TCG plugin events, synthesised on unicorn.

One :class:`Instrumentation` serves one session and its machine. It owns *every* unicorn
hook that plugin instrumentation needs and adds one only when a plugin asked for the
event: no listener, no hook. Each event type has one hook whose Python dispatcher fans out
to all plugins, never one hook per plugin.

**Translation.** Unicorn has no complete "block translated" event (NOTES.md section 4), so
a block hook announces each block the first time it starts executing: the block is
decoded with capstone, handed to every ``qemu_plugin_vcpu_tb_trans`` listener (newest
plugin first) and what they registered is compiled into a :class:`BlockPlan`. If they
asked for per-instruction callbacks at addresses unicorn was not instrumenting, the
block's cache entry is dropped and the pc rewritten to the block start, which makes
unicorn abandon the stale translation and translate again with the new hooks, so the
callbacks fire on this very first execution.

**The plan.** Inline operations are folded per block at translation time (every insn's
``add`` to the same entry becomes one add of the sum, a ``store`` followed by adds becomes
one store), so inline counting costs one Python call per executed block, never per
instruction; :class:`BlockPlan` keeps them as plain ``(slots, index, value)`` triples so a
native backend can replace the Python loop without any plugin noticing.
Per-instruction callbacks go into one address table; unicorn code hooks are added only
over coalesced intervals around the requested addresses (a callback at one address costs
nothing elsewhere). Memory callbacks use one read-after/write hook that looks the
accessing instruction up by pc.

**Exactness.** Inline counts come from block sizes, which are exact (x86 ``rep``
iterations re-execute their block; a Thumb instruction skipped by an IT block is inside
its block). Unicorn's code hook does not fire for a skipped IT instruction, so callbacks
on instructions in IT blocks are delivered by tracking the IT block itself.

**Errors.** An exception from a plugin callback becomes a
:class:`~qpp_core.errors.PluginRuntimeError` naming the plugin, the event and the guest
pc; with ``on_plugin_error="stop"`` the machine stops and ``machine.run()`` raises it, with
``"continue"`` the error is logged and only that plugin is disabled.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

from qpp_core.errors import PluginRuntimeError, QppError, QppUsageError
from qpp_core.instrument import _uc
from qpp_core.instrument.decode import Decoder
from qpp_core.instrument.handles import (
    DisconType,
    ExecCallback,
    InlineOp,
    Instruction,
    MemInfo,
    MemRW,
    RegisterDescriptor,
    TranslationBlock,
)
from qpp_core.instrument.mips_replay import mips_replay_guard
from qpp_core.instrument.plan import (
    BlockPlan,
    block_inline,
    disabled,
    exec_signature,
    fold_inline,
    make_cond,
    mem_signature,
)
from qpp_core.session import LoadedPlugin, Session, running_plugin

#: register access allowed right now: outside any event, none, read, read-write
REGS_OUTSIDE = -1
REGS_NONE = 0
REGS_READ = 1
REGS_RW = 2

#: events a plugin can listen to globally, and their hookspec names
HOOK_NAMES: dict[str, str | None] = {
    "vcpu_init": "qemu_plugin_vcpu_init",
    "vcpu_exit": "qemu_plugin_vcpu_exit",
    "tb_trans": "qemu_plugin_vcpu_tb_trans",
    "syscall": "qemu_plugin_vcpu_syscall",
    "syscall_filter": "qemu_plugin_vcpu_syscall_filter",
    "syscall_ret": "qemu_plugin_vcpu_syscall_ret",
    "flush": "qemu_plugin_flush",
    "discon": None,
}

#: code-hook interval policy: addresses closer than this share one unicorn hook ...
COALESCE_GAP = 256
#: ... and there are never more hooks than this (the closest intervals merge first)
MAX_CODE_HOOKS = 16
#: self-modifying code: at most this many write hooks watch announced code
MAX_WATCH_HOOKS = 8
PAGE_BITS = 12
PAGE_MASK = (1 << PAGE_BITS) - 1

_IT_RE = re.compile(r"^it[te]{0,3}$")


class _ItRegion:
    """An IT block inside a Thumb block with callbacks on its conditional instructions."""

    __slots__ = ("addrs", "pos")

    def __init__(self, addrs: list[int]) -> None:
        self.addrs = addrs
        self.pos = 0


class Instrumentation:
    """The TCG plugin API's engine for one session and machine (see the module docstring)."""

    def __init__(self, session: Session, machine: Any, on_plugin_error: str = "stop") -> None:
        if on_plugin_error not in ("stop", "continue"):
            raise QppUsageError(
                f"on_plugin_error must be 'stop' or 'continue', not {on_plugin_error!r}"
            )
        self.session = session
        self.machine = machine
        self.arch = machine.arch
        self.uc = machine.uc
        self.on_plugin_error = on_plugin_error
        self.raw = _uc.RawHooks(self.uc)
        self.started = False
        self.finished = False
        #: register access allowed now (REGS_*); set by every dispatcher
        self.regs = REGS_OUTSIDE
        self._registered: dict[str, dict[int, tuple[LoadedPlugin, Callable[..., Any]]]] = {
            name: {} for name in HOOK_NAMES
        }
        self._discon_types: dict[int, DisconType] = {}
        self._owners: set[int] = set()
        #: plugins uninstalled (pluggy still lists their hooks while teardown runs)
        self._gone: set[int] = set()
        session.on_uninstall.append(self._on_uninstall)
        # translation state
        self.blocks: dict[int, BlockPlan] = {}
        self.translating: TranslationBlock | None = None
        self.code_table: dict[int, Callable[[], None]] = {}
        #: the code table as the non-arm code hook reads it (see _fast_entry)
        self._code_fast: dict[int, tuple[Any, Any, int, Any]] = {}
        #: per instruction address, per block address: the callbacks registered there (an
        #: instruction can belong to several blocks, e.g. a loop entered mid-way)
        self._code_entries: dict[int, dict[int, list[ExecCallback]]] = {}
        self._code_own: dict[int, Callable[[], None]] = {}
        self._mem_entries: dict[int, dict[int, Instruction]] = {}
        #: the address of the block executing now (set by the block hook)
        self._cur = [0]
        self._it_actions: dict[int, Callable[[], None]] = {}
        self._it_pending: list[_ItRegion] = []
        self.mem_table: dict[int, Callable[[int, int, int, int], None]] = {}
        self._intervals: list[list[int]] = []  # [lo, hi, handle]
        self._block_hook: int | None = None
        self._mem_hook: int | None = None
        self._observer_installed = False
        self._decoding = Decoder(self.arch)
        self._is_arm = self.arch.name == "arm"
        self._cpsr_id = self.arch.registers.get("cpsr") if self._is_arm else None
        self._read_pc = self.raw.reader(self.arch.pc)
        self._pending_discon: tuple[int, int] | None = None
        #: >0 while a translation, syscall or global event is being delivered
        self._in_event = 0
        self._hooks_deleted = False
        #: true from the end of start() (the machine may be running) until finish()
        self._live = False
        #: statistics, for tests and the benchmark
        self.n_translations = 0
        self.n_retranslations = 0
        self.n_flushes = 0
        #: self-modifying code: write hooks over announced code, [lo, hi, handle]
        self._watch: list[list[int]] = []
        #: page number -> addresses of announced blocks with bytes on that page
        self._page_blocks: dict[int, set[int]] = {}
        self.n_code_writes = 0
        #: mips: stale delay-slot blocks left (see _mips_replay_guard)
        self.n_mips_replays = 0
        #: one-shot callbacks before the instruction at an address (breakpoints)
        self._breakpoints: dict[int, list[ExecCallback]] = {}
        #: [True] while the tb exec callbacks of the block starting now run
        self._tb_ctx = [False]
        #: true while memory callbacks run (the accessing instruction has started)
        self._in_mem = False
        #: a plugin ended the guest (exit_guest): no more events are delivered
        self.exiting = False

    # === lifecycle ======================================================================

    def start(self) -> None:
        """Install the hooks the loaded plugins need and announce vcpu 0."""
        self.started = True
        self._sync_hooks()
        self.regs = REGS_RW
        try:
            self._dispatch("vcpu_init", {"vcpu_index": 0}, (0,))
        finally:
            self.regs = REGS_OUTSIDE
            self._live = True

    def finish(self) -> None:
        """The guest is gone: flush pending IT callbacks and announce the vcpu's exit."""
        if self.finished:
            return
        self.finished = True
        self._flush_it_pending()
        self.regs = REGS_RW
        try:
            self._dispatch("vcpu_exit", {"vcpu_index": 0}, (0,))
        finally:
            self.regs = REGS_OUTSIDE

    def close(self) -> None:
        """Remove every unicorn hook this layer added."""
        self.raw.delete_all()
        self._block_hook = self._mem_hook = None
        self._intervals.clear()
        self._watch = []
        self._page_blocks.clear()
        if self._observer_installed:
            self.machine.syscall_observer = None
            self._observer_installed = False

    # === registration of global events ==================================================

    def register_global(
        self,
        event: str,
        plugin: LoadedPlugin,
        cb: Callable[..., Any],
        *,
        discon: DisconType | None = None,
    ) -> None:
        """Register ``cb`` for a global event on behalf of ``plugin`` (one per plugin)."""
        if not callable(cb):
            raise QppUsageError(f"{plugin.name}: the {event} callback must be callable")
        self._registered[event][plugin.id] = (plugin, cb)
        if discon is not None:
            self._discon_types[plugin.id] = discon
        self._own(plugin)
        if event == "vcpu_init" and self.started and not self.finished:
            self._call(plugin, "vcpu_init", cb, plugin.id, 0)
        if event == "tb_trans" and self.started:
            self.flush_all("a translation callback was registered")
        self._sync_hooks()

    def _own(self, plugin: LoadedPlugin) -> None:
        if plugin.id not in self._owners:
            self._owners.add(plugin.id)
            self.session.add_teardown(plugin, lambda: self.drop_plugin(plugin))

    def drop_plugin(self, plugin: LoadedPlugin, *, reason: str = "uninstall") -> None:
        """Remove everything ``plugin`` registered here, at once.

        Used by uninstall (teardown list and ``session.on_uninstall``), by reset, and when
        a plugin is disabled after an error. Its per-block instrumentation is cut out of
        the compiled plans in place, so the other plugins keep exact counts even inside
        the block that is running now (no flush needed, unlike QEMU).
        """
        if reason == "uninstall":
            self._gone.add(plugin.id)
        for table in self._registered.values():
            table.pop(plugin.id, None)
        self._discon_types.pop(plugin.id, None)
        self._purge(plugin)
        self._sync_hooks()

    def _on_uninstall(self, plugin: LoadedPlugin) -> None:
        self.drop_plugin(plugin)

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
            plan.extra = self._compile_exec(tb.exec_cbs, "tb exec") if tb.exec_cbs else None
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

    def reset_plugin(self, plugin: LoadedPlugin) -> None:
        """``qemu_plugin_reset``: forget the plugin's callbacks; it may register anew."""
        self.drop_plugin(plugin, reason="reset")

    reset = reset_plugin

    def refresh(self) -> None:
        """Re-evaluate the hooks after plugins were added to or removed from ``pm``.

        A newly loaded plugin that listens to translations gets every block announced
        again (QEMU flushes the translation cache for the same reason).
        """
        had_block = self._block_hook is not None
        self._sync_hooks()
        if self.started and had_block and self._wants("tb_trans"):
            self.flush_all("plugins changed")

    # === listeners ======================================================================

    def _listeners(self, event: str) -> list[tuple[LoadedPlugin | None, Callable[..., Any], bool]]:
        """(plugin, function, is_hookimpl) for an event, newest plugin first."""
        found: list[tuple[int, int, LoadedPlugin | None, Callable[..., Any], bool]] = []
        hook_name = HOOK_NAMES[event]
        if hook_name is not None:
            for impl in getattr(self.session.pm.hook, hook_name).get_hookimpls():
                owner = self.session.owner_of(impl.plugin)
                if owner is not None and (owner.disabled or owner.id in self._gone):
                    continue
                order = owner.id if owner is not None else 1 << 30
                found.append((order, 0, owner, _impl_caller(impl), True))
        for pid, (plugin, cb) in self._registered[event].items():
            if not plugin.disabled:
                found.append((pid, 1, plugin, cb, False))
        found.sort(key=lambda item: (-item[0], item[1]))
        return [(p, fn, is_impl) for _, _, p, fn, is_impl in found]

    def _wants(self, event: str) -> bool:
        return bool(self._listeners(event))

    def _dispatch(
        self,
        event: str,
        kwargs: dict[str, Any],
        args: tuple[Any, ...],
        *,
        first_result: bool = False,
    ) -> Any:
        """Deliver a global event: hookimpls get ``kwargs``, registered callbacks
        ``(id, *args)``. With ``first_result``, stop at the first non-None result."""
        for plugin, fn, is_impl in self._listeners(event):
            if is_impl:
                result = self._call(plugin, event, fn, kwargs)
            else:
                assert plugin is not None
                result = self._call(plugin, event, fn, plugin.id, *args)
            if first_result and result is not None:
                return result
        return None

    def _call(
        self, plugin: LoadedPlugin | None, event: str, fn: Callable[..., Any], *args: Any
    ) -> Any:
        self._in_event += 1
        try:
            with running_plugin(plugin):
                return fn(*args)
        except BaseException as exc:
            self._plugin_failed(plugin, event, exc)
            return None
        finally:
            self._in_event -= 1

    # === errors =========================================================================

    def _plugin_failed(self, plugin: LoadedPlugin | None, event: str, exc: BaseException) -> None:
        """A plugin callback raised: raise the run-stopping error, or disable the plugin."""
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise exc
        name = plugin.name if plugin is not None else "<unknown plugin>"
        try:
            pc = f"{self._read_pc():#x}"
        except Exception:  # pragma: no cover - unicorn closed
            pc = "?"
        where = f"in {event} at guest pc {pc}"
        error: QppError
        if isinstance(exc, QppError):
            error = type(exc)(f"plugin {name} {where}: {exc}")
        else:
            error = PluginRuntimeError(f"plugin {name} raised {where}: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        if self.on_plugin_error == "stop" or plugin is None:
            raise error
        self.session.log.error(f"{error} (plugin disabled, the run goes on)")
        plugin.disabled = True
        self.drop_plugin(plugin, reason="disabled after an error")

    def _hook_failed(self, exc: BaseException) -> None:
        """Last resort inside a raw hook: stop the machine with the error."""
        with contextlib.suppress(BaseException):  # nothing may reach ctypes
            self.machine.stop(exc)

    # === hooks ==========================================================================

    def _sync_hooks(self) -> None:
        """Add or remove the block hook and the syscall observer as listeners require."""
        if not self.started:
            return
        want_block = self._wants("tb_trans")
        if want_block and self._block_hook is None:
            self._block_hook = self.raw.add(_uc.HOOK_BLOCK, _uc.CODE_CB, self._make_block_hook())
            self._flush_unicorn()
        elif not want_block and self._block_hook is not None:
            # nobody translates: no per-block instrumentation can exist any more
            self.flush_all("no translation listener left")
            self.raw.delete(self._block_hook)
            self._block_hook = None
            self._drop_watch()
        want_sys = any(
            self._wants(e) for e in ("syscall", "syscall_filter", "syscall_ret", "discon")
        )
        if want_sys and not self._observer_installed:
            self.machine.syscall_observer = _SyscallObserver(self)
            self._observer_installed = True
        elif not want_sys and self._observer_installed:
            self.machine.syscall_observer = None
            self._observer_installed = False

    def _flush_unicorn(self) -> None:
        """Drop unicorn's translations and leave the running code, if any.

        A flush alone does not stop a loop of chained blocks, so from inside an event the
        machine is also asked to restart at the current pc. (Execution callbacks need not:
        they exist only when the block hook does, and it re-announces the next block.)
        """
        self.uc.ctl_flush_tb()
        if self._in_event and self._live and not self.finished:
            self.machine.request_restart()

    def _make_block_hook(self) -> Callable[[int, int, int, int], None]:
        blocks = self.blocks
        translate = self._translate
        pending = self._it_pending
        flush_pending = self._flush_it_pending
        cur = self._cur
        tb_ctx = self._tb_ctx

        def on_block(handle: int, address: int, size: int, key: int) -> None:
            cur[0] = address
            try:
                if pending:
                    flush_pending()
                plan = blocks.get(address)
                if plan is None or plan.size != size:
                    plan = translate(address, size)
                    if plan is None:
                        return
                for vals, slot, imm in plan.adds:
                    vals[slot] += imm
                if plan.stores:
                    for vals, slot, imm in plan.stores:
                        vals[slot] = imm
                if plan.extra is not None:
                    tb_ctx[0] = True
                    plan.extra()
                    tb_ctx[0] = False
            except BaseException as exc:
                tb_ctx[0] = False
                self._hook_failed(exc)

        if self.arch.name != "mipsel":
            return on_block
        return mips_replay_guard(self, on_block)

    def _make_code_hook(self) -> Callable[[int, int, int, int], None]:
        table = self.code_table
        if not self._is_arm:
            fast = self._code_fast
            me = self

            def on_code(handle: int, address: int, size: int, key: int) -> None:
                # the hot path: one frame between unicorn and the plugin's callback
                entry = fast.get(address)
                if entry is not None:
                    fn, ud, flags, owner = entry
                    me.regs = flags
                    try:
                        fn(0, ud)
                    except BaseException as exc:
                        me._code_cb_failed(owner, exc)

            return on_code
        pending = self._it_pending
        it_actions = self._it_actions
        flush_pending = self._flush_it_pending

        def on_code_arm(handle: int, address: int, size: int, key: int) -> None:
            try:
                if pending and address not in it_actions:
                    flush_pending()
                fn = table.get(address)
                if fn is not None:
                    fn()
            except BaseException as exc:
                self._hook_failed(exc)

        return on_code_arm

    def _code_cb_failed(self, owner: LoadedPlugin | None, exc: BaseException) -> None:
        """An exception out of a fast code-table entry (``owner`` None: already wrapped)."""
        try:
            if owner is None:
                raise exc
            self._plugin_failed(owner, "insn exec", exc)
        except BaseException as error:
            self._hook_failed(error)

    def _make_mem_hook(self) -> Callable[[int, int, int, int, int, int], None]:
        table = self.mem_table
        read_pc = self._read_pc

        def on_mem(handle: int, access: int, address: int, size: int, value: int, key: int) -> None:
            fn = table.get(read_pc())
            if fn is not None:
                try:
                    fn(access, address, size, value)
                except BaseException as exc:
                    self._hook_failed(exc)

        return on_mem

    # === translation ====================================================================

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
        tb = TranslationBlock(self, address, size, self.machine.read_memory(address, size), thumb)
        tb.insns = self.decode(tb)
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

    def _install(self, tb: TranslationBlock) -> BlockPlan:
        """Compile what the plugins registered on ``tb`` into a plan and address tables."""
        plan = BlockPlan(tb)
        plan.adds, plan.stores = fold_inline(block_inline(tb))
        if tb.exec_cbs:
            plan.extra = self._compile_exec(tb.exec_cbs, "tb exec")
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

    # --- self-modifying code --------------------------------------------------------------

    def _unindex(self, plan: BlockPlan) -> None:
        for page in range(plan.vaddr >> PAGE_BITS, (plan.vaddr + plan.size - 1 >> PAGE_BITS) + 1):
            on_page = self._page_blocks.get(page)
            if on_page is not None:
                on_page.discard(plan.vaddr)
                if not on_page:
                    del self._page_blocks[page]

    def _watch_code(self, lo: int, hi: int) -> None:
        """Make sure guest stores into ``[lo, hi]`` reach :meth:`_code_written`.

        Code that cannot be written (a read-only, executable mapping: the usual case)
        is watched as one range per mapping, so a program costs one hook whatever it runs;
        writable code (an RWX stack, a JIT buffer) page by page. Stores elsewhere cost
        unicorn one range comparison each, no Python.
        """
        for a, b, _ in self._watch:
            if a <= lo and hi <= b:
                return
        new_lo, new_hi = lo & ~PAGE_MASK, hi | PAGE_MASK
        for begin, end, perms in self.uc.mem_regions():
            if begin <= lo <= end:
                if not perms & _uc.PROT_WRITE:
                    new_lo, new_hi = begin, end
                break
        ivs = [[a, b] for a, b, _ in self._watch] + [[new_lo, new_hi]]
        ivs.sort()
        merged: list[list[int]] = []
        for a, b in ivs:
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        while len(merged) > MAX_WATCH_HOOKS:
            gaps = [merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)]
            i = gaps.index(min(gaps))
            merged[i : i + 2] = [[merged[i][0], merged[i + 1][1]]]
        keep = {(a, b): h for a, b, h in self._watch}
        hook = None
        watch: list[list[int]] = []
        for a, b in merged:
            handle = keep.pop((a, b), None)
            if handle is None:
                hook = hook or self._make_watch_hook()
                handle = self.raw.add(_uc.HOOK_MEM_WRITE, _uc.MEM_CB, hook, a, b)
            watch.append([a, b, handle])
        for handle in keep.values():
            self.raw.delete(handle)
            self._hooks_deleted = True
        self._watch = watch

    def _drop_watch(self) -> None:
        for _, _, handle in self._watch:
            self.raw.delete(handle)
        self._watch = []
        self._page_blocks.clear()

    @property
    def code_watch_ranges(self) -> list[tuple[int, int]]:
        """The code address ranges whose stores are watched now (for tests)."""
        return [(a, b) for a, b, _ in self._watch]

    def _make_watch_hook(self) -> Callable[[int, int, int, int, int, int], None]:
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

        unicorn retranslates them itself (it tracks code pages as QEMU does); dropping
        their plans makes the block hook announce the new code to ``tb_trans`` again, with
        fresh instrumentation. A store into the block running now makes unicorn abandon
        that block and execute the store again as a block of its own: the inline counts
        of the store and of what follows it in the abandoned block are taken back, so
        counts stay exact (execution callbacks on the store itself fire on both tries,
        as they come before the instruction).
        """
        hit: set[int] = set()
        for page in range(lo >> PAGE_BITS, ((hi - 1) >> PAGE_BITS) + 1):
            for vaddr in self._page_blocks.get(page, ()):
                plan = self.blocks.get(vaddr)
                if plan is not None and vaddr < hi and lo < vaddr + plan.size:
                    hit.add(vaddr)
        if not hit:
            return
        self.n_code_writes += 1
        cur = self._cur[0]
        if cur in hit:
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

    def _needs_retranslation(self, tb: TranslationBlock) -> bool:
        addrs = [i.vaddr for i in tb.insns if i.vaddr in self.code_table]
        if not addrs:
            return False
        if all(self._covered(a) for a in addrs):
            return False
        self._cover(min(addrs), max(addrs))
        return True

    # --- code hook intervals --------------------------------------------------------------

    def _covered(self, addr: int) -> bool:
        return any(lo <= addr <= hi for lo, hi, _ in self._intervals)

    def _cover(self, lo: int, hi: int) -> None:
        """Make unicorn instrument ``[lo, hi]``, merging nearby intervals (few hooks)."""
        ivs = [[a, b] for a, b, _ in self._intervals]
        ivs.append([lo, hi])
        ivs.sort()
        merged: list[list[int]] = []
        for a, b in ivs:
            if merged and a <= merged[-1][1] + COALESCE_GAP:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        while len(merged) > MAX_CODE_HOOKS:
            gaps = [merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)]
            i = gaps.index(min(gaps))
            merged[i : i + 2] = [[merged[i][0], merged[i + 1][1]]]
        # only the intervals that changed are replaced: a deleted hook lingers in unicorn
        # (walked past by every instrumented instruction) until emu_start returns
        keep = {(a, b): h for a, b, h in self._intervals}
        hook = None
        intervals: list[list[int]] = []
        for a, b in merged:
            handle = keep.pop((a, b), None)
            if handle is None:
                hook = hook or self._make_code_hook()
                handle = self.raw.add(_uc.HOOK_CODE, _uc.CODE_CB, hook, a, b)
            intervals.append([a, b, handle])
        for handle in keep.values():
            self.raw.delete(handle)
            self._hooks_deleted = True
        self._intervals = intervals

    @property
    def code_hook_ranges(self) -> list[tuple[int, int]]:
        """The address ranges unicorn's code hooks cover now (for tests)."""
        return [(a, b) for a, b, _ in self._intervals]

    # --- execution callbacks --------------------------------------------------------------

    def _compile_exec(self, entries: list[ExecCallback], event: str) -> Callable[[], None]:
        """One closure running ``entries`` in order, attributing errors to their plugin."""
        me = self
        if len(entries) == 1 and entries[0].cond is None:
            e = entries[0]
            fn, ud, flags = e.fn, e.userdata, int(e.flags)

            def run_one() -> None:
                me.regs = flags
                try:
                    fn(0, ud)
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
                    fn(0, ud)
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

    # --- breakpoints and exit ---------------------------------------------------------------

    def register_breakpoint(self, vaddr: int, entry: ExecCallback) -> None:
        """Run ``entry`` once, right before the instruction at ``vaddr`` next
        executes, ahead of that instruction's other callbacks.

        The instruction's translation is dropped when it carried no code hook yet. From a
        tb exec callback of the block holding the address, that block is entered again
        (its inline ops and tb callbacks are not repeated), so the breakpoint applies to
        this very execution of the block; from elsewhere, it applies from the next time
        the address is reached in a block that starts after the call.
        """
        if entry.owner is not None:
            self._own(entry.owner)
        had_hook = vaddr in self.code_table and self._covered(vaddr)
        self._breakpoints.setdefault(vaddr, []).append(entry)
        self._rebuild_code(vaddr)
        if had_hook:
            return
        if not self._covered(vaddr):
            self._cover(vaddr, vaddr)
        if not self._live or self.finished:
            return
        self.uc.ctl_remove_cache(vaddr, vaddr + 1)
        plan = self.blocks.get(self._cur[0])
        if self._tb_ctx[0] and plan is not None and plan.vaddr <= vaddr < plan.vaddr + plan.size:
            self._reenter(plan)

    def _reenter(self, plan: BlockPlan) -> None:
        """From the block hook: make unicorn enter ``plan``'s block again, retranslated,
        without repeating what the block hook did for it."""
        skip = BlockPlan(plan.tb)
        blocks = self.blocks

        def restore() -> None:
            if blocks.get(plan.vaddr) is skip:
                blocks[plan.vaddr] = plan

        skip.extra = restore
        blocks[plan.vaddr] = skip
        self.uc.ctl_remove_cache(plan.vaddr, plan.vaddr + plan.size)
        if self._hooks_deleted:
            self._hooks_deleted = False
            self.machine.request_restart()
        else:
            self.uc.reg_write(self.arch.pc, plan.vaddr | (1 if plan.tb.thumb else 0))

    def _with_breakpoints(self, addr: int, own: Callable[[], None] | None) -> Callable[[], None]:
        """The code-table entry at ``addr``: its breakpoints (once), then ``own``."""
        me = self

        def run() -> None:
            entries = me._breakpoints.pop(addr, None)
            if entries:
                me._rebuild_code(addr)  # one-shot: gone before they run
                me._compile_exec(entries, "breakpoint")()
            if own is not None and not me.exiting:
                own()

        return run

    def exit_guest(self, status: int) -> None:
        """End the guest with ``status`` before the instruction about to run (a plugin's
        ``exit()`` in QEMU); atexit callbacks still run.

        From an insn exec callback or a breakpoint the instruction does not run; from a tb
        exec callback the block does not run; from a memory callback the accessing
        instruction is the last to count. Inline adds applied at the block's start for
        instructions that will not run are taken back, so counts stop exactly there. No
        further callback, syscall or memory event is delivered.
        """
        if self.exiting:
            return
        self.exiting = True
        plan = self.blocks.get(self._cur[0])
        if plan is not None and self._live and not self.finished:
            pc = self._read_pc() & ~1 if self._is_arm else self._read_pc()
            if self._tb_ctx[0]:
                pc = plan.vaddr
            elif self._in_mem:
                pc = next((i.vaddr for i in plan.tb.insns if i.vaddr > pc), plan.vaddr + plan.size)
            if plan.vaddr <= pc < plan.vaddr + plan.size:
                self._take_back(plan, pc, whole=pc == plan.vaddr)
        self._flush_it_pending_silently()
        self.code_table.clear()
        self._code_fast.clear()
        self._code_own.clear()
        self.mem_table.clear()
        self.blocks.clear()
        self._breakpoints.clear()
        self.machine.exit(status)

    def _flush_it_pending_silently(self) -> None:
        self._it_pending.clear()
        self._it_actions.clear()

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

    # --- Thumb IT blocks ------------------------------------------------------------------

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
            region = _ItRegion(addrs)
            after = insns[i + len(insn.mnemonic)] if i + len(insn.mnemonic) < len(insns) else None
            self._it_actions[insn.vaddr] = self._it_start(region)
            self._rebuild_code(insn.vaddr)
            for k, a in enumerate(addrs):
                self._it_actions[a] = self._it_step(region, k)
                self._rebuild_code(a)
            if after is not None:
                self._it_actions[after.vaddr] = self._it_step(region, len(addrs))
                self._rebuild_code(after.vaddr)

    def _it_start(self, region: _ItRegion) -> Callable[[], None]:
        def start() -> None:
            self._flush_it_pending()
            region.pos = 0
            self._it_pending.append(region)

        return start

    def _it_step(self, region: _ItRegion, k: int) -> Callable[[], None]:
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

    # --- memory callbacks -----------------------------------------------------------------

    def _rebuild_mem(self, addr: int) -> None:
        if addr not in self._mem_entries:
            return
        fn = self._per_block(self._mem_entries[addr], self._compile_mem, mem_signature)
        if fn is None:
            self.mem_table.pop(addr, None)
        else:
            self.mem_table[addr] = fn
        if self._mem_hook is None:
            self._mem_hook = self.raw.add(
                _uc.HOOK_MEM_READ_AFTER | _uc.HOOK_MEM_WRITE, _uc.MEM_CB, self._make_mem_hook()
            )

    def _compile_mem(self, insn: Instruction) -> Callable[[int, int, int, int], None] | None:
        """The dispatcher of one instruction's memory callbacks and inline ops."""
        me = self
        cbs = [c for c in insn.mem_cbs if not disabled(c.owner)]
        ops = [
            (r.rw, r.op, r.entry.score.vcpus[0], r.entry.slot, r.imm)
            for r in insn.mem_inline
            if not disabled(r.owner)
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
                                c.fn(0, info, address, c.userdata)
                            except BaseException as exc:
                                me._plugin_failed(c.owner, "mem", exc)
                finally:
                    me._in_mem = False

        return on_access

    # === flush ==========================================================================

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

    # === syscalls =======================================================================

    def syscall_enter(self, num: int, args: tuple[int, ...]) -> int | None:
        words = tuple(args[:8]) + (0,) * (8 - len(args[:8]))
        saved, self.regs = self.regs, REGS_RW
        try:
            self._flush_it_pending()
            kwargs = {"vcpu_index": 0, "num": num, "args": words}
            if self.exiting:
                return 0  # the guest is gone: the call must not happen (its result is unused)
            self._dispatch("syscall", kwargs, (0, num, *words))
            if self.exiting:
                return 0
            result = self._dispatch("syscall_filter", kwargs, (0, num, *words), first_result=True)
            if self.exiting:
                return 0
            if self._discon_types:
                pc = self._read_pc()
                self._pending_discon = (pc - self._decoding.trap_size(self._is_thumb()), pc)
            return None if result is None else int(result)
        except BaseException as exc:
            self._hook_failed(exc)
            return -38  # ENOSYS; the run stops anyway
        finally:
            self.regs = saved

    def syscall_leave(self, num: int, ret: int) -> None:
        if self.exiting:
            return
        saved, self.regs = self.regs, REGS_RW
        try:
            self._dispatch("syscall_ret", {"vcpu_index": 0, "num": num, "ret": ret}, (0, num, ret))
            if self._pending_discon is not None:
                from_pc, _ = self._pending_discon
                self._pending_discon = None
                to_pc = self._read_pc()
                for plugin, fn, _impl in self._listeners("discon"):
                    assert plugin is not None
                    wanted = self._discon_types.get(plugin.id, DisconType.ALL)
                    if wanted & DisconType.EXCEPTION:
                        self._call(
                            plugin, "discon", fn, plugin.id, 0, DisconType.EXCEPTION, from_pc, to_pc
                        )
        except BaseException as exc:
            self._hook_failed(exc)
        finally:
            self.regs = saved

    # === registers and memory ===========================================================

    def registers(self) -> list[RegisterDescriptor]:
        """The guest's registers, one descriptor per unicorn register (QEMU/gdb names)."""
        by_id: dict[int, str] = {}
        for name, reg_id in self.arch.registers.items():
            by_id[reg_id] = name
        feature = f"org.qpp.{self.arch.name}.core"
        return [RegisterDescriptor(rid, name, feature) for rid, name in by_id.items()]

    def check_regs(self, write: bool) -> None:
        need = REGS_RW if write else REGS_READ
        if self.regs >= need:
            return
        what = "write" if write else "read"
        if self.regs == REGS_OUTSIDE:
            where = "outside any vcpu callback"
        elif self.translating is not None or self.regs == REGS_NONE:
            where = "from a callback registered without register access"
        else:
            where = "from a callback registered with QEMU_PLUGIN_CB_R_REGS"
        flag = "QEMU_PLUGIN_CB_RW_REGS" if write else "QEMU_PLUGIN_CB_R_REGS (or RW)"
        raise QppUsageError(f"cannot {what} registers {where}: register the callback with {flag}")

    def read_register(self, reg_id: int) -> int:
        self.check_regs(False)
        value = self.uc.reg_read(reg_id)
        if not isinstance(value, int):
            raise QppUsageError(f"register {reg_id} has no plain integer value ({value!r})")
        return value

    def write_register(self, reg_id: int, value: int) -> None:
        self.check_regs(True)
        self.uc.reg_write(reg_id, value)

    def iter_plugins_instrumenting(self) -> Iterator[int]:
        """Ids of plugins that registered something here (tests, diagnostics)."""
        return iter(sorted(self._owners))

    def symbol_at(self, addr: int) -> str | None:
        try:
            sym: str | None = self.machine.symbol_at(addr)
        except Exception:
            return None
        return sym


class _SyscallObserver:
    """What the machine calls around each system call (installed only when needed)."""

    def __init__(self, instr: Instrumentation) -> None:
        self.instr = instr

    def enter(self, num: int, args: tuple[int, ...]) -> int | None:
        return self.instr.syscall_enter(num, args)

    def leave(self, num: int, ret: int) -> None:
        self.instr.syscall_leave(num, ret)


def _impl_caller(impl: Any) -> Callable[[dict[str, Any]], Any]:
    names = tuple(impl.argnames)
    function = impl.function

    def call(kwargs: dict[str, Any]) -> Any:
        return function(*(kwargs[n] for n in names))

    return call


__all__ = ["BlockPlan", "Instrumentation", "fold_inline", "make_cond"]
