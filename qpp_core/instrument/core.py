"""The instrumentation layer: QEMU's TCG plugin events, synthesised on unicorn.

One :class:`Instrumentation` serves one session and its machine. It owns *every* unicorn
hook that plugin instrumentation needs and adds one only when a plugin asked for the
event: no listener, no hook. Each event type has one hook whose Python dispatcher fans out
to all plugins, never one hook per plugin.

The engine is one object composed of one mixin per concern, each in its own module (the
hot paths read the shared attributes of :class:`~.state.State` directly):

- :mod:`.events`: global events, their listeners and delivery; plugin errors
- :mod:`.hooks`: which unicorn hooks exist; the block, code and memory dispatchers
- :mod:`.translate`: announcing a block to ``tb_trans`` and installing its plan; flushes
- :mod:`.plan`: :class:`BlockPlan` and the folding of inline operations
- :mod:`.tables`: the per-address code and memory tables and their dispatchers
- :mod:`.decode`: capstone decoding and per-architecture instruction facts
- :mod:`.codewatch`: self-modifying code
- :mod:`.breakpoints` and :mod:`.exit`: one-shot breakpoints and exact guest exit
- :mod:`.thumb_it`: callbacks on Thumb instructions an IT block skips
- :mod:`.mips_replay`: a workaround for unicorn's mips delay-slot replays
- :mod:`.syscalls`: system calls as plugin events
- :mod:`.registers`: register access, as callbacks' flags allow

**Exactness.** Inline counts come from block sizes, which are exact (x86 ``rep``
iterations re-execute their block; a Thumb instruction skipped by an IT block is inside
its block).
"""

from __future__ import annotations

import contextlib
from typing import Any

from qpp_core.instrument import vcpus
from qpp_core.instrument.breakpoints import BreakpointsMixin
from qpp_core.instrument.codewatch import MAX_WATCH_HOOKS, PAGE_BITS, PAGE_MASK, CodeWatchMixin
from qpp_core.instrument.events import EventsMixin
from qpp_core.instrument.exit import ExitMixin
from qpp_core.instrument.hooks import COALESCE_GAP, MAX_CODE_HOOKS, HooksMixin
from qpp_core.instrument.plan import BlockPlan, fold_inline, make_cond
from qpp_core.instrument.registers import RegistersMixin
from qpp_core.instrument.state import (
    HOOK_NAMES,
    REGS_NONE,
    REGS_OUTSIDE,
    REGS_READ,
    REGS_RW,
    State,
)
from qpp_core.instrument.syscalls import SyscallsMixin
from qpp_core.instrument.tables import TablesMixin
from qpp_core.instrument.thumb_it import ThumbItMixin
from qpp_core.instrument.translate import TranslateMixin


class Instrumentation(
    EventsMixin,
    HooksMixin,
    TranslateMixin,
    TablesMixin,
    CodeWatchMixin,
    BreakpointsMixin,
    ExitMixin,
    ThumbItMixin,
    SyscallsMixin,
    RegistersMixin,
):
    """The TCG plugin API's engine for one session and machine (see the module docstring).

    ``Instrumentation(session, machine, on_plugin_error="stop")``: the state is set up by
    :class:`~.state.State`; this class adds the lifecycle the runner drives.
    """

    def start(self) -> None:
        """Install the hooks the loaded plugins need and announce vcpu 0."""
        self.started = True
        vcpus.reset()
        self.machine.vcpu_observer = self
        self.machine.signal_observer = self
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
            for vcpu in list(self.vcpus_live):
                self._dispatch("vcpu_exit", {"vcpu_index": vcpu}, (vcpu,))
        finally:
            self.regs = REGS_OUTSIDE

    # --- guest threads: each is a vCPU (the machine tells which runs) ----------------------

    def switch_vcpu(self, index: int) -> None:
        """The running guest thread changed: its vCPU is ``index`` from now on."""
        self.vcpu_index = index
        vcpus.switch(index)

    def vcpu_started(self, index: int) -> None:
        """A new guest thread runs for the first time (it is the running one)."""
        if index not in self.vcpus_live:
            self.vcpus_live.append(index)
        self._vcpu_event("vcpu_init", index)

    def vcpu_ended(self, index: int) -> None:
        """A guest thread ended (``exit`` of one thread)."""
        if index in self.vcpus_live:
            self.vcpus_live.remove(index)
            self._vcpu_event("vcpu_exit", index)

    def _vcpu_event(self, event: str, index: int) -> None:
        if self.finished or self.exiting:
            return
        saved, self.regs = self.regs, REGS_RW
        try:
            self._dispatch(event, {"vcpu_index": index}, (index,))
        except BaseException as exc:
            self._hook_failed(exc)
        finally:
            self.regs = saved

    def exec_into(self, machine: Any) -> None:
        """The guest exec'd: carry every plugin's registrations over to ``machine``.

        What plugins registered globally (translation, syscall, vcpu, flush listeners)
        stays; what belonged to the old program's code (blocks, their plans and
        per-address callbacks, breakpoints) is flushed, and ``flush`` listeners are told,
        as QEMU flushes its translations on exec. The vcpu lives on: no ``vcpu_init``.
        """
        self.flush_all("execve")
        keep = (
            self._registered,
            self._discon_types,
            self._owners,
            self._gone,
            self.n_translations,
            self.n_retranslations,
            self.n_flushes,
        )
        self.close()
        with contextlib.suppress(ValueError):
            self.session.on_uninstall.remove(self._on_uninstall)
        State.__init__(self, self.session, machine, self.on_plugin_error)
        (
            self._registered,
            self._discon_types,
            self._owners,
            self._gone,
            self.n_translations,
            self.n_retranslations,
            self.n_flushes,
        ) = keep
        self.started = True
        vcpus.switch(0)  # the new program's one thread runs as vCPU 0 (others are gone)
        machine.vcpu_observer = self
        machine.signal_observer = self
        self._sync_hooks()
        self.regs = REGS_OUTSIDE
        self._live = True

    def signal_delivered(self, signum: int, handler: int, pc: int) -> None:
        """A guest signal handler starts (``qpp_signal_delivered``)."""
        self._guest_event(
            "signal",
            {"vcpu_index": self.vcpu_index, "signum": signum, "handler": handler, "pc": pc},
        )

    def signal_returned(self, pc: int) -> None:
        """A guest signal handler returned through sigreturn (``qpp_signal_returned``)."""
        self._guest_event("signal_return", {"vcpu_index": self.vcpu_index, "pc": pc})

    def block_cut(self, pc: int) -> None:
        """The running block ended at the instruction at ``pc`` (a fault or CPU exception
        there): it counts, as in QEMU, whose inline ops run before their instruction, but
        the block's later instructions did not run, so their inline adds, applied at the
        block's start, are taken back."""
        plan = self.blocks.get(self._cur[0])
        if plan is None or not self._live or self.finished:
            return
        pc = pc & ~1 if self._is_arm else pc
        if plan.vaddr <= pc < plan.vaddr + plan.size:
            after = next((i.vaddr for i in plan.tb.insns if i.vaddr > pc), None)
            if after is not None:
                self._take_back(plan, after)

    def insn_raised(self, pc: int) -> None:
        """An instruction unicorn cannot translate raised at ``pc`` (SIGILL). unicorn ends
        the block before it, QEMU's block holds it and counts it: when it follows the
        block that just ran, it runs here as a block of its own (size 0, as unicorn gives a
        block that starts with such an instruction)."""
        plan = self.blocks.get(self._cur[0])
        run = self._py_block
        if run is None or plan is None or not self._live or self.finished:
            return
        pc = pc & ~1 if self._is_arm else pc
        if plan.size and plan.vaddr + plan.size == pc:
            run(0, pc, 0, 0)

    def _guest_event(self, event: str, kwargs: dict[str, Any]) -> None:
        saved, self.regs = self.regs, REGS_NONE
        try:
            self._dispatch(event, kwargs, tuple(kwargs.values()))
        finally:
            self.regs = saved

    def announce_exec(self, path: str, argv: list[str], load_bias: int, entry: int) -> None:
        """Tell plugins which program the process runs now (``qpp_guest_exec``)."""
        saved, self.regs = self.regs, REGS_NONE
        try:
            self._dispatch(
                "exec",
                {
                    "path": path,
                    "argv": list(argv),
                    "arch": self.arch.qemu_target,
                    "load_bias": load_bias,
                    "entry": entry,
                },
                (path, list(argv), self.arch.qemu_target, load_bias, entry),
            )
        finally:
            self.regs = saved

    def close(self) -> None:
        """Remove every unicorn hook this layer added."""
        self.raw.delete_all()
        if self._block_hook is not None:
            self._release_stops()
        self._block_hook = self._mem_hook = None
        if self._native is not None:
            self._native.close()
        self._intervals.clear()
        self._watch = []
        self._readonly_code = []
        self._page_blocks.clear()
        if self._observer_installed:
            self.machine.syscall_observer = None
            self._observer_installed = False

    @property
    def backend(self) -> str:
        """``"native"`` or ``"python"``: who applies inline operations."""
        return "python" if self._native is None else "native"

    def symbol_at(self, addr: int) -> str | None:
        try:
            sym: str | None = self.machine.symbol_at(addr)
        except Exception:
            return None
        return sym


__all__ = [
    "COALESCE_GAP",
    "HOOK_NAMES",
    "MAX_CODE_HOOKS",
    "MAX_WATCH_HOOKS",
    "PAGE_BITS",
    "PAGE_MASK",
    "REGS_NONE",
    "REGS_OUTSIDE",
    "REGS_READ",
    "REGS_RW",
    "BlockPlan",
    "Instrumentation",
    "fold_inline",
    "make_cond",
]
