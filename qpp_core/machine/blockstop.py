"""Stopping the engine at the next block start for a signal that comes from elsewhere.

A timer's signal, or a host signal sent to qpp, arrives while the guest computes; its
handler must run at the next block boundary. Stopping unicorn from another thread
(``emu_stop``) is not safe to resume from (:mod:`.slicer`: unicorn may leave at a check
after a memory access with the pc at the block's start, so part of the block runs
twice, and ``-p insn`` counts it twice; on x86_64 a stop that is already pending when a
``syscall`` instruction runs even makes unicorn skip the system call's hook). A stop
requested from inside a block hook, before the block runs anything, is exact.

So the other thread only *requests* the stop (:meth:`BlockStop.request`: a flag), and a
block hook honours it at the next block start, before anything else of that block
(instrumentation counts included) happens. The hook that looks at the flag is:

* the instrumentation's own block hook, when plugins have one (the native fast path's
  ``qpp_on_block`` tests the flag first; the Python dispatcher too): nothing is added;
* otherwise qpp's own block hook (``qpp_slice_hook`` of the native fast path, or a
  Python one without the native library), installed only while a guest timer is armed
  (:meth:`BlockStop.add_source`, from ``alarm``/``setitimer``/``timer_settime``; on
  mipsel also while the guest handles SIGILL, SIGTRAP or SIGFPE) and removed when none
  is, so a guest without timers has no per-block cost at all.

The hooks also record the block that started last: unicorn does not tell where a mips CPU
exception happened (the pc it reports is the last one it saved, often a system call's),
so the machine finds the trapping instruction in that block (:mod:`.arch.mipsel`).

A signal that arrives while nothing looks at the flag (a host signal sent to a guest
without timers and without plugins' block hook) still stops the engine the old way.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import unicorn

from .arch.base import _uclib
from .slicer import _Slice

#: the stop request's C struct (``qpp_slice``): ``armed``, the stop function, and the
#: block that started last (``last``, ``last_size``)
StopFlag = _Slice


class BlockStop:
    """One machine's stop request, honoured at the next block start (module docstring)."""

    def __init__(self) -> None:
        self.flag = _Slice(0, ctypes.cast(_uclib().uc_emu_stop, ctypes.c_void_p).value, 0, 0)
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
        from qpp_core.instrument.backend import is_native, native_lib

        if is_native():
            hook = ctypes.cast(native_lib().qpp_slice_hook, ctypes.c_void_p).value
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
            if flag.armed:
                engine.emu_stop()
                return
            flag.last = address
            flag.last_size = size

        self._py_hook = check
        self._own = uc.hook_add(unicorn.UC_HOOK_BLOCK, check)
