"""The instrumentation layer: QEMU's TCG plugin events, synthesised on unicorn.

One :class:`Instrumentation` serves one session and its machine. It owns *every* unicorn
hook that plugin instrumentation needs and adds one only when a plugin asked for the
event: no listener, no hook. Each event type has one hook whose Python dispatcher fans out
to all plugins, never one hook per plugin.

:class:`Instrumentation` is a small facade over components, each owning its state and
given its collaborators when it is made (the arrows: "uses"):

- :mod:`.context`: what the CPU is doing now (register access, vCPU, the running block)
- :mod:`.failures`: the plugin-error policy (stop, or disable the plugin and go on)
- :mod:`.registry` and :mod:`.events`: who listens to global events; delivering them
- :mod:`.hooks`: which unicorn hooks exist, over which ranges; :mod:`.dispatch`: the
  block, code and memory dispatchers unicorn calls (the hot paths)
- :mod:`.tables` (:mod:`.callbacks`): the per-address code and memory tables
- :mod:`.cache` and :mod:`.codewatch`: the announced blocks' plans; self-modifying code
- :mod:`.translate`: announcing a block to ``tb_trans`` and installing its plan; flushes
- :mod:`.breakpoints`, :mod:`.exit`, :mod:`.thumb_it`, :mod:`.mips_replay`,
  :mod:`.syscalls`, :mod:`.registers`, :mod:`.cpu_exceptions`: one concern each
- :mod:`.native`: the native backend's C tables, mirrored from the Python ones

What plugins registered globally (the registry) and the translation counts outlive the
machine; everything else is made again for the program a guest ``execve`` starts.

**Exactness.** Inline counts come from block sizes, which are exact (x86 ``rep``
iterations re-execute their block; a Thumb instruction skipped by an IT block is inside
its block).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.errors import QppUsageError
from qpp_core.instrument import _uc, dispatch, vcpus
from qpp_core.instrument.backend import is_native
from qpp_core.instrument.breakpoints import Breakpoints
from qpp_core.instrument.cache import BlockCache
from qpp_core.instrument.codewatch import CodeWatch
from qpp_core.instrument.context import REGS_OUTSIDE, REGS_RW, Context
from qpp_core.instrument.cpu_exceptions import CpuExceptions
from qpp_core.instrument.decode import Decoder
from qpp_core.instrument.events import EventBus
from qpp_core.instrument.exit import ExactExit
from qpp_core.instrument.failures import Failures, check_policy
from qpp_core.instrument.guest_events import GuestEvents
from qpp_core.instrument.handles import (
    DisconType,
    ExecCallback,
    Instruction,
    RegisterDescriptor,
    TranslationBlock,
)
from qpp_core.instrument.hooks import CodeHook, CodeHooks, HookSet
from qpp_core.instrument.mips_replay import MipsReplayGuard
from qpp_core.instrument.native import Native
from qpp_core.instrument.registers import Registers
from qpp_core.instrument.registry import Registry
from qpp_core.instrument.syscalls import SYSCALL_EVENTS, SyscallEvents
from qpp_core.instrument.tables import Tables
from qpp_core.instrument.thumb_it import ThumbIt
from qpp_core.instrument.translate import TranslationStats, Translator
from qpp_core.ports import MachinePort
from qpp_core.session import LoadedPlugin, Session


class Instrumentation:
    """The TCG plugin API's engine for one session and machine (see the module docstring).

    ``Instrumentation(session, machine, on_plugin_error="stop")``; the runner drives
    :meth:`start`, :meth:`exec_into`, :meth:`finish` and :meth:`close`, the
    ``qemu_plugin_*`` functions the registration and query methods.
    """

    def __init__(
        self, session: Session, machine: MachinePort, on_plugin_error: str = "stop"
    ) -> None:
        self.session = session
        self.on_plugin_error = check_policy(on_plugin_error)
        self.registry = Registry(session)
        self.stats = TranslationStats()
        session.on_uninstall.append(self._on_uninstall)
        self._build(machine)

    def _build(self, machine: MachinePort) -> None:
        """Make the components for ``machine`` (again after an exec)."""
        self.machine = machine
        self.arch = arch = machine.arch
        self.uc = uc = machine.uc
        self.raw = raw = _uc.RawHooks(uc)
        thumb_state = arch.thumb_state
        self.ctx = ctx = Context(
            raw.reader(arch.pc),
            (lambda: thumb_state(uc)) if thumb_state is not None else _one_instruction_set,
        )
        self.failures = failures = Failures(
            self.session, machine, ctx, self.on_plugin_error, self.disable_plugin
        )
        self.events = events = EventBus(self.registry, ctx, failures)
        self.native: Native | None = Native(arch, raw, ctx, failures) if is_native() else None
        self.hooks = hooks = HookSet(raw, machine, ctx, self.native)
        self.decoder = decoder = Decoder(arch)
        self.tables = tables = Tables(ctx, failures, decoder, hooks, self.native)
        self.it = it = ThumbIt(tables, enabled=thumb_state is not None)
        tracking = it.tracking if it.enabled else None

        def make_code_hook() -> CodeHook:
            return dispatch.code_hook(ctx, tables.code_fast, tables.code_table, tracking, failures)

        self.code_hooks = code_hooks = CodeHooks(hooks, make_code_hook)
        self.cache = cache = BlockCache(tables, self.native)
        self.codewatch = codewatch = CodeWatch(cache, hooks, machine, ctx, failures)
        self.translator = Translator(
            machine,
            ctx,
            events,
            decoder,
            cache,
            codewatch,
            tables,
            it,
            hooks,
            code_hooks,
            self.stats,
        )
        self.breakpoints = Breakpoints(tables, code_hooks, cache, hooks, ctx)
        self.exact_exit = ExactExit(machine, ctx, cache, tables, it)
        self.syscalls = SyscallEvents(machine, ctx, events, self.registry, it, decoder, failures)
        self.register_access = Registers(arch, uc, ctx)
        self.mips_guard = MipsReplayGuard(arch, raw, uc, ctx, cache.blocks)
        self.cpu_exceptions = cpu_exceptions = CpuExceptions(
            ctx, cache, hooks, thumb_bit=thumb_state is not None
        )
        self.guest_events = GuestEvents(ctx, events, failures, arch.qemu_target, cpu_exceptions)

    # --- lifecycle (the runner) ------------------------------------------------------------

    def start(self) -> None:
        """Install the hooks the loaded plugins need and announce vcpu 0."""
        ctx = self.ctx
        ctx.started = True
        vcpus.reset()
        self._observe(self.machine)
        self._sync_hooks()
        try:
            self.events.dispatch("vcpu_init", {"vcpu_index": 0}, (0,), regs=REGS_RW)
        finally:
            ctx.regs = REGS_OUTSIDE
            ctx.live = True

    def finish(self) -> None:
        """The guest is gone: flush pending IT callbacks and announce the vcpus' exit."""
        ctx = self.ctx
        if ctx.finished:
            return
        ctx.finished = True
        self.it.flush_pending()
        ctx.regs = REGS_RW
        try:
            for vcpu in list(ctx.vcpus_live):
                self.events.dispatch("vcpu_exit", {"vcpu_index": vcpu}, (vcpu,))
        finally:
            ctx.regs = REGS_OUTSIDE

    def exec_into(self, machine: MachinePort) -> None:
        """The guest exec'd: carry every plugin's registrations over to ``machine``.

        What plugins registered globally (translation, syscall, vcpu, flush listeners)
        stays; what belonged to the old program's code (blocks, their plans and
        per-address callbacks, breakpoints) is flushed, and ``flush`` listeners are told,
        as QEMU flushes its translations on exec. The vcpu lives on: no ``vcpu_init``.
        """
        self.flush_all("execve")
        self.close()
        self._build(machine)
        self.ctx.started = True
        vcpus.switch(0)  # the new program's one thread runs as vCPU 0 (others are gone)
        self._observe(machine)
        self._sync_hooks()
        self.ctx.live = True

    def _observe(self, machine: MachinePort) -> None:
        machine.vcpu_observer = self.guest_events
        machine.signal_observer = self.guest_events

    def close(self) -> None:
        """Remove every unicorn hook this layer added."""
        self.hooks.close()
        self.code_hooks.intervals.clear()
        self.codewatch.stop_listening()
        self.cache.page_blocks.clear()
        self.syscalls.attach(False)

    def _sync_hooks(self) -> None:
        """Add or remove the block hook and the syscall observer as listeners require."""
        if not self.ctx.started:
            return
        hooks = self.hooks
        want_block = self.events.wants("tb_trans")
        if want_block and hooks.block is None:
            # the hook honours the machine's stop requests (a signal's handler is to run)
            stops = self.machine.block_stop
            stop_req = stops.flag if stops is not None else None
            emu_stop = self.uc.emu_stop
            on_block = dispatch.block_hook(
                self.ctx,
                self.cache.blocks,
                self.translator.translate,
                self.it.tracking,
                self.failures,
                stop_req,
                emu_stop,
            )
            guard = self.mips_guard
            hook = guard.wrap(on_block)
            if stop_req is not None and self.arch.trapping_insn is not None:
                hook = dispatch.stop_first(hook, stop_req, emu_stop)  # records block starts
            hooks.add_block(hook, guard.guarded)
            hooks.flush_unicorn()
        elif not want_block and hooks.block is not None:
            # nobody translates: no per-block instrumentation can exist any more
            self.flush_all("no translation listener left")
            hooks.drop_block()  # the machine's stop requests need its own hook again
            self.codewatch.drop()
        self.syscalls.attach(any(self.events.wants(e) for e in SYSCALL_EVENTS))

    # --- plugins' registrations ------------------------------------------------------------

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
        self.registry.add(event, plugin, cb, discon)
        self._own(plugin)
        ctx = self.ctx
        if event == "vcpu_init" and ctx.started and not ctx.finished:
            for vcpu in ctx.vcpus_live:
                self.events.call(plugin, "vcpu_init", cb, plugin.id, vcpu)
        if event == "tb_trans" and ctx.started:
            self.flush_all("a translation callback was registered")
        self._sync_hooks()

    def register_breakpoint(self, vaddr: int, entry: ExecCallback) -> None:
        """Run ``entry`` once, right before the instruction at ``vaddr`` next executes
        (see :meth:`.Breakpoints.register`)."""
        if entry.owner is not None:
            self._own(entry.owner)
        self.breakpoints.register(vaddr, entry)

    def _own(self, plugin: LoadedPlugin) -> None:
        """Make ``plugin``'s teardown drop what it registered here."""
        owners = self.registry.owners
        if plugin.id not in owners:
            owners.add(plugin.id)
            self.session.add_teardown(plugin, lambda: self.drop_plugin(plugin))

    def drop_plugin(self, plugin: LoadedPlugin, *, reason: str = "uninstall") -> None:
        """Remove everything ``plugin`` registered here, at once.

        Used by uninstall (teardown list and ``session.on_uninstall``), by reset, and when
        a plugin is disabled after an error. Its per-block instrumentation is cut out of
        the compiled plans in place, so the other plugins keep exact counts even inside
        the block that is running now (no flush needed, unlike QEMU).
        """
        self.registry.forget(plugin, gone=reason == "uninstall")
        self.cache.purge(plugin)
        self.tables.purge(plugin)
        if self.native is not None:
            self.native.resync()  # the plans changed in place
        self._sync_hooks()

    def _on_uninstall(self, plugin: LoadedPlugin) -> None:
        self.drop_plugin(plugin)

    def reset_plugin(self, plugin: LoadedPlugin) -> None:
        """``qemu_plugin_reset``: forget the plugin's callbacks; it may register anew."""
        self.drop_plugin(plugin, reason="reset")

    reset = reset_plugin

    def disable_plugin(self, plugin: LoadedPlugin) -> None:
        """Stop delivering anything to ``plugin``: events, instrumentation and the
        functions it registered on QPP callbacks (it stays loaded: its exports and the
        callbacks it created still exist for the plugins that use it)."""
        plugin.disabled = True
        self.drop_plugin(plugin, reason="disabled after an error")
        self.session.callbacks.disable(plugin)

    def refresh(self) -> None:
        """Re-evaluate the hooks after plugins were added to or removed from ``pm``.

        A newly loaded plugin that listens to translations gets every block announced
        again (QEMU flushes the translation cache for the same reason).
        """
        had_block = self.hooks.block is not None
        self._sync_hooks()
        if self.ctx.started and had_block and self.events.wants("tb_trans"):
            self.flush_all("plugins changed")

    def flush_all(self, reason: str = "") -> None:
        """Drop every announced block and its instrumentation (QEMU's ``tb_flush``)."""
        self.translator.flush_all(reason)

    def exit_guest(self, status: int) -> None:
        """End the guest before the instruction about to run (see :class:`.ExactExit`)."""
        self.exact_exit.exit_guest(status)

    def block_cut(self, pc: int) -> None:
        """The running block ended at the instruction at ``pc`` (a fault or CPU exception
        there): the later instructions' inline adds are taken back (see
        :meth:`.CpuExceptions.block_cut`; the machine calls it through its signal
        observer)."""
        self.cpu_exceptions.block_cut(pc)

    def insn_raised(self, pc: int) -> None:
        """An instruction unicorn cannot translate raised at ``pc``: it counts, as in QEMU
        (see :meth:`.CpuExceptions.insn_raised`)."""
        self.cpu_exceptions.insn_raised(pc)

    def announce_exec(self, path: str, argv: list[str], load_bias: int, entry: int) -> None:
        """Tell plugins which program the process runs now (``qpp_guest_exec``)."""
        self.guest_events.announce_exec(path, argv, load_bias, entry)

    # --- queries ---------------------------------------------------------------------------

    def decode(self, tb: TranslationBlock) -> list[Instruction]:
        """Split a block into instructions (see :meth:`.Decoder.decode`)."""
        return self.decoder.decode(tb)

    def registers(self) -> list[RegisterDescriptor]:
        return self.register_access.registers()

    def read_register(self, reg_id: int) -> int:
        return self.register_access.read(reg_id)

    def write_register(self, reg_id: int, value: int) -> None:
        self.register_access.write(reg_id, value)

    def symbol_at(self, addr: int) -> str | None:
        try:
            return self.machine.symbol_at(addr)
        except Exception:
            return None

    @property
    def backend(self) -> str:
        """``"native"`` or ``"python"``: who applies inline operations."""
        return "python" if self.native is None else "native"

    # --- for tests and the benchmark -------------------------------------------------------

    @property
    def code_table(self) -> dict[int, Callable[[], None]]:
        return self.tables.code_table

    @property
    def mem_table(self) -> dict[int, Callable[[int, int, int, int], None]]:
        return self.tables.mem_table

    @property
    def code_hook_ranges(self) -> list[tuple[int, int]]:
        """The address ranges unicorn's code hooks cover now."""
        return self.code_hooks.ranges

    @property
    def code_watch_ranges(self) -> list[tuple[int, int]]:
        """The code address ranges whose stores are watched by a hook now."""
        return self.codewatch.ranges

    @property
    def n_translations(self) -> int:
        return self.stats.n_translations

    @property
    def n_retranslations(self) -> int:
        return self.stats.n_retranslations

    @property
    def n_flushes(self) -> int:
        return self.stats.n_flushes

    @property
    def n_code_writes(self) -> int:
        return self.codewatch.n_code_writes

    @property
    def n_mips_replays(self) -> int:
        return self.mips_guard.n_replays


def _one_instruction_set() -> bool:
    """:attr:`Context.is_thumb` where there is no Thumb."""
    return False
