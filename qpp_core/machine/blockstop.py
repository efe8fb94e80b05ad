"""Stopping the engine at the next block start, for whatever comes from elsewhere.

A timer's signal or a host signal sent to qpp must be handled at the next block
boundary; a thread's time slice must end there. Stopping unicorn from another thread
(``emu_stop``) is not safe to resume from: unicorn's hook helpers return at once while a
stop is pending, so a stop set at the wrong moment lets an instruction run without its
hooks (on x86_64 a ``syscall`` without the system call, seen here; a memory access
without plugins' callback), and unicorn issue #1355 reports the pc left behind an
executed load. A stop requested from inside a block hook, before the block runs
anything, is exact.

So the other thread only *requests* the stop (:meth:`BlockStop.request`: a flag), and a
block hook honours it at the next block start, before anything else of that block
(instrumentation counts included) happens. The hook that looks at the flag is:

* the instrumentation's own block hook, when plugins have one (the native fast path's
  ``qpp_on_block`` tests the flag first; the Python dispatcher too): nothing is added;
* otherwise qpp's own block hook (``qpp_slice_hook`` of the native fast path whenever it
  was built, ``QPP_BACKEND=python`` or not: that variable chooses how plugins' inline
  operations run, and a Python call per block would make a guest timer's program 20x
  slower; a Python hook without the native library), installed only while a source needs it
  (:meth:`BlockStop.add_source`): a guest timer (``alarm``/``setitimer``/
  ``timer_settime``), the time slices of a process whose other threads may need the
  CPU (:mod:`.threads`), on mipsel a guest handling SIGILL, SIGTRAP or SIGFPE. It is
  removed when none needs it, so a single-threaded guest without timers has no
  per-block cost at all. Adding or removing it flushes the translated blocks.

The hooks also record the block that started last: unicorn does not tell where a mips CPU
exception happened (the pc it reports is the last one it saved, often a system call's),
so the machine finds the trapping instruction in that block (:mod:`.arch.mipsel`).

A signal that arrives while nothing looks at the flag (a host signal sent to a guest
without timers, threads or plugins' block hook) still stops the engine the old way.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import unicorn

from .arch.base import _uclib


class StopFlag(ctypes.Structure):
    """The stop request as the native hooks read it (``qpp_slice`` in
    ``qpp_core/instrument/_fastpath.c``): ``armed``, the engine's stop function, and the
    block that started last (``last``, ``last_size``)."""

    _fields_ = (
        ("armed", ctypes.c_int64),
        ("stop", ctypes.c_void_p),
        ("last", ctypes.c_uint64),
        ("last_size", ctypes.c_uint64),
        ("budget", ctypes.c_int64),
    )
    armed: int
    last: int
    last_size: int
    budget: int

    def stop_now(self) -> bool:
        """Whether the block starting now must not run yet: the request is armed, or this
        block spends the budget (``budget``: blocks left before a stop, 0: none counted;
        ``-sched deterministic`` ends its slices so). ``stop_now`` in the native hooks."""
        if self.armed:
            return True
        budget = self.budget
        if budget > 0:
            self.budget = budget - 1
            return budget == 1
        return False


class BlockStop:
    """One machine's stop request, honoured at the next block start (module docstring)."""

    def __init__(self) -> None:
        self.flag = StopFlag(0, ctypes.cast(_uclib().uc_emu_stop, ctypes.c_void_p).value, 0, 0, 0)
        #: block hooks of the instrumentation that test the flag (they stop themselves)
        self.checkers = 0
        #: what keeps qpp's own hook installed: name -> "still armed?"
        self.sources: dict[str, Callable[[], bool]] = {}
        self._own: int | None = None  #: qpp's own hook, when installed
        self._py_hook: Any = None  #: the pure-Python hook (kept alive while installed)
        self.sync_due = False  #: the own hook must be added or removed at the next stop

    @property
    def address(self) -> int:
        """The flag's address, for the native block hook (``qpp_slice``)."""
        return ctypes.addressof(self.flag)

    @property
    def watched(self) -> bool:
        """Whether a block hook tests the flag now."""
        return self.checkers > 0 or self._own is not None

    @property
    def native(self) -> bool:
        """Whether qpp's own hook is the native one (no Python per block)."""
        from qpp_core.instrument.backend import native_lib

        return native_lib() is not None

    def request_if_watched(self) -> None:
        """Stop at the next block start if a hook looks at the flag now, else do nothing
        (any thread: the time slices' ticker, which must never stop the engine from
        outside)."""
        if self.watched:
            self.flag.armed = 1

    def request(self, uc: Any) -> None:
        """Stop at the next block start (any thread); without a hook looking at the flag,
        stop now, as well as unicorn can."""
        self.flag.armed = 1
        if not self.watched:
            uc.emu_stop()

    def last_block(self) -> tuple[int, int] | None:
        """(address, size) of the block that started last, when a hook records it."""
        return (int(self.flag.last), int(self.flag.last_size)) if self.watched else None

    def disarm(self) -> None:
        """The engine has stopped: a new request is needed for the next stop."""
        self.flag.armed = 0

    def add_source(self, name: str, armed: Callable[[], bool], uc: Any) -> None:
        """A guest timer was armed (from its system call): have a hook look at the flag
        while ``armed()`` says so (installed when the engine stops, which it does now)."""
        self.sources[name] = armed
        if self._own is None and self.checkers == 0:
            self.sync_due = True
            uc.emu_stop()  # from the syscall's hook: an exact stop

    def sync(self, uc: Any) -> None:
        """The engine has stopped: add qpp's own hook if a timer needs it and no
        instrumentation hook looks at the flag; remove it when nothing needs it."""
        self.sync_due = False
        for name, armed in list(self.sources.items()):
            if not armed():
                del self.sources[name]
        need = bool(self.sources) and self.checkers == 0
        if need and self._own is None:
            self._install(uc)
            uc.ctl_flush_tb()  # blocks translated so far lack the hook
        elif not need and self._own is not None:
            if self._py_hook is None:
                _uclib().uc_hook_del(uc._uch, ctypes.c_size_t(self._own))
            else:
                uc.hook_del(self._own)
            self._own = self._py_hook = None
            uc.ctl_flush_tb()

    def _install(self, uc: Any) -> None:
        from qpp_core.instrument.backend import native_lib

        lib = native_lib()  # whatever QPP_BACKEND says: it chooses the instrumentation's
        if lib is not None:
            hook = ctypes.cast(lib.qpp_slice_hook, ctypes.c_void_p).value
            handle = ctypes.c_size_t(0)
            status = _uclib().uc_hook_add(
                uc._uch,
                ctypes.byref(handle),
                unicorn.UC_HOOK_BLOCK,
                ctypes.c_void_p(hook),
                ctypes.c_void_p(self.address),
                ctypes.c_uint64(1),
                ctypes.c_uint64(0),
            )
            if status == unicorn.UC_ERR_OK:
                self._own = handle.value
                return
        flag = self.flag

        def check(engine: Any, address: int, size: int, user_data: Any) -> None:
            if flag.stop_now():
                engine.emu_stop()
                return
            flag.last = address
            flag.last_size = size

        self._py_hook = check
        self._own = uc.hook_add(unicorn.UC_HOOK_BLOCK, check)
