"""The state every part of :class:`~qpp_core.instrument.core.Instrumentation` shares.

The engine is one object composed of mixins (one module each) because its hot paths,
closures built once per hook, read and write that object's attributes directly
(``me.regs``, ``me.exiting``). :class:`State` creates all of the attributes, so they are
declared in one place, and declares for the type checker the methods one mixin calls on
another (they exist at run time only in the mixins).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qpp_core.errors import QppUsageError
from qpp_core.instrument import _uc
from qpp_core.instrument.backend import is_native, new_cell
from qpp_core.instrument.decode import Decoder
from qpp_core.instrument.handles import (
    DisconType,
    ExecCallback,
    Instruction,
    TranslationBlock,
)
from qpp_core.instrument.native import BlockTable, MemTable, Native
from qpp_core.instrument.plan import BlockPlan
from qpp_core.session import LoadedPlugin, Session

if TYPE_CHECKING:
    from qpp_core.instrument.thumb_it import ItRegion

#: register access allowed right now (``State.regs``): outside any event, none, read,
#: read-write
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
    "exec": "qpp_guest_exec",
    "signal": "qpp_signal_delivered",
    "signal_return": "qpp_signal_returned",
    "discon": None,
}

#: (plugin, function, is_hookimpl): one listener of a global event
Listener = tuple[LoadedPlugin | None, Callable[..., Any], bool]
#: unicorn's code and block hooks: (handle, address, size, key)
CodeHook = Callable[[int, int, int, int], None]
#: unicorn's memory hooks: (handle, access, address, size, value, key)
MemHook = Callable[[int, int, int, int, int, int], None]


class State:
    """The engine's attributes for one session and machine."""

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
        #: the block executing now (set by the block hook; a cell the native hook writes)
        self._cur: Any = new_cell()
        #: mips: see mips_replay (a cell the native hook writes too)
        self._slot_next: Any = new_cell()
        self._mips_guarded = False
        #: the native backend's tables and hooks (None: the Python backend)
        self._native: Native | None = Native(self) if is_native() else None
        # translation state
        self.blocks: dict[int, BlockPlan] = (
            BlockTable(self._native) if self._native is not None else {}
        )
        self.translating: TranslationBlock | None = None
        self.code_table: dict[int, Callable[[], None]] = {}
        #: the code table as the non-arm code hook reads it (see TablesMixin._fast_entry)
        self._code_fast: dict[int, tuple[Any, Any, int, Any]] = {}
        #: per instruction address, per block address: the callbacks registered there (an
        #: instruction can belong to several blocks, e.g. a loop entered mid-way)
        self._code_entries: dict[int, dict[int, list[ExecCallback]]] = {}
        self._code_own: dict[int, Callable[[], None]] = {}
        self._mem_entries: dict[int, dict[int, Instruction]] = {}
        self._it_actions: dict[int, Callable[[], None]] = {}
        self._it_pending: list[ItRegion] = []
        self.mem_table: dict[int, Callable[[int, int, int, int], None]] = (
            MemTable(self._native) if self._native is not None else {}
        )
        self._intervals: list[list[int]] = []  # [lo, hi, handle]
        self._block_hook: int | None = None
        #: the Python block dispatcher (what the native hook hands blocks to)
        self._py_block: CodeHook | None = None
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
        #: read-only mappings holding announced code: stores there fault, no hook needed
        self._readonly_code: list[tuple[int, int]] = []
        #: page number -> addresses of announced blocks with bytes on that page
        self._page_blocks: dict[int, set[int]] = {}
        self.n_code_writes = 0
        #: mips: stale delay-slot blocks left (see mips_replay)
        self.n_mips_replays = 0
        #: one-shot callbacks before the instruction at an address (breakpoints)
        self._breakpoints: dict[int, list[ExecCallback]] = {}
        #: [True] while the tb exec callbacks of the block starting now run
        self._tb_ctx = [False]
        #: true while memory callbacks run (the accessing instruction has started)
        self._in_mem = False
        #: a plugin ended the guest (exit_guest): no more events are delivered
        self.exiting = False
        #: the running guest thread's vCPU index (what every callback is given)
        self.vcpu_index = 0
        #: the vCPUs started and not yet exited, in start order
        self.vcpus_live: list[int] = [0]

    if TYPE_CHECKING:  # what the mixins call on each other; defined in the module named
        # events.py
        def _on_uninstall(self, plugin: LoadedPlugin) -> None: ...
        def _own(self, plugin: LoadedPlugin) -> None: ...
        def drop_plugin(self, plugin: LoadedPlugin, *, reason: str = "uninstall") -> None: ...
        def _listeners(self, event: str) -> list[Listener]: ...
        def _wants(self, event: str) -> bool: ...
        def _dispatch(
            self,
            event: str,
            kwargs: dict[str, Any],
            args: tuple[Any, ...],
            *,
            first_result: bool = False,
        ) -> Any: ...
        def _call(
            self, plugin: LoadedPlugin | None, event: str, fn: Callable[..., Any], *args: Any
        ) -> Any: ...
        def _plugin_failed(
            self, plugin: LoadedPlugin | None, event: str, exc: BaseException
        ) -> None: ...
        def _hook_failed(self, exc: BaseException) -> None: ...

        # syscalls.py
        def syscall_enter(self, num: int, args: tuple[int, ...]) -> int | None: ...
        def syscall_leave(self, num: int, ret: int) -> None: ...

        # hooks.py
        def _sync_hooks(self) -> None: ...
        def _flush_unicorn(self) -> None: ...
        def _make_mem_hook(self) -> MemHook: ...
        def _covered(self, addr: int) -> bool: ...
        def _cover(self, lo: int, hi: int) -> None: ...
        def _replace_hooks(
            self,
            old: list[list[int]],
            merged: list[list[int]],
            kind: int,
            callback_type: Any,
            make: Callable[[], Any],
        ) -> list[list[int]]: ...

        # tables.py
        def _compile_exec(self, entries: list[ExecCallback], event: str) -> Callable[[], None]: ...
        def _rebuild_code(self, addr: int) -> None: ...
        def _rebuild_mem(self, addr: int) -> None: ...
        def _run_insn_cbs(self, addr: int) -> None: ...
        def _purge(self, plugin: LoadedPlugin) -> None: ...

        # translate.py
        def _is_thumb(self) -> bool: ...
        def _translate(self, address: int, size: int) -> BlockPlan | None: ...
        def flush_all(self, reason: str = "") -> None: ...

        # codewatch.py
        def _unindex(self, plan: BlockPlan) -> None: ...
        def _watch_code(self, lo: int, hi: int) -> None: ...
        def _drop_watch(self) -> None: ...
        def _take_back(self, plan: BlockPlan, pc: int, *, whole: bool = False) -> None: ...

        # breakpoints.py
        def _with_breakpoints(
            self, addr: int, own: Callable[[], None] | None
        ) -> Callable[[], None]: ...

        # thumb_it.py
        def _install_it_regions(self, tb: TranslationBlock) -> None: ...
        def _flush_it_pending(self) -> None: ...
        def _flush_it_pending_silently(self) -> None: ...
