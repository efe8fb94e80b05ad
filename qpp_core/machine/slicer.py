"""Ending a thread's time slice at a block boundary, without Python per block.

Stopping unicorn from another thread (``emu_stop``, or ``emu_start``'s own ``timeout``)
is not safe to resume from: unicorn 2 also checks for the stop after guest memory
accesses and then leaves the pc at the start of the block, so the block's instructions
before the access run again (an atomic add counted twice, a register reloaded: unicorn
issues #1355 and #1565; measured here as lost mutex wake-ups). A stop requested from
inside a hook is exact. unicorn 2.1 also fixes a hook's callback into each block when it
translates it, so the callback cannot simply be swapped while blocks run.

So the slice ends through a block hook in qpp's native fast path (``qpp_slice_hook`` in
``qpp_core/instrument/_fastpath.c``): ``if (armed) uc_emu_stop(uc)``. The ticker thread
arms it; the next block start stops the engine from inside the hook; the machine disarms
it. Without the native library (no C compiler at install, or ``QPP_BACKEND=python``)
:meth:`Slicer.install` returns False and the caller slices by instruction counts, which
is exact too, only slower.
"""

from __future__ import annotations

import ctypes
from typing import Any

import unicorn

from .arch.base import _uclib


class _Slice(ctypes.Structure):
    """``qpp_slice``: the flag, the engine's stop function and the last block started."""

    _fields_ = (
        ("armed", ctypes.c_int64),
        ("stop", ctypes.c_void_p),
        ("last", ctypes.c_uint64),
        ("last_size", ctypes.c_uint64),
    )


class Slicer:
    """A native block hook that stops the engine when armed (see the module docstring)."""

    def __init__(self) -> None:
        self._slice = _Slice(0, None, 0, 0)
        self._handle = 0

    @staticmethod
    def _hook() -> int | None:
        """The native hook's address, when the fast path is built and in use."""
        from qpp_core.instrument.backend import is_native, native_lib

        if not is_native():
            return None
        address: int | None = ctypes.cast(native_lib().qpp_slice_hook, ctypes.c_void_p).value
        return address

    def install(self, uc: Any) -> bool:
        """Add the hook (the caller flushes translated blocks); False: not possible here."""
        hook = self._hook()
        lib = _uclib()
        stop = ctypes.cast(lib.uc_emu_stop, ctypes.c_void_p).value
        if not hook or not stop:
            return False
        self._slice.stop = stop
        handle = ctypes.c_size_t(0)
        status = lib.uc_hook_add(
            uc._uch,
            ctypes.byref(handle),
            unicorn.UC_HOOK_BLOCK,
            ctypes.c_void_p(hook),
            ctypes.c_void_p(ctypes.addressof(self._slice)),
            ctypes.c_uint64(1),
            ctypes.c_uint64(0),
        )
        if status != unicorn.UC_ERR_OK:
            return False
        self._handle = handle.value
        return True

    def remove(self, uc: Any) -> None:
        """Delete the hook (the caller flushes translated blocks)."""
        if self._handle:
            _uclib().uc_hook_del(uc._uch, ctypes.c_size_t(self._handle))
            self._handle = 0

    def arm(self) -> None:
        """End the slice at the next block start (from any thread)."""
        self._slice.armed = 1

    def disarm(self) -> None:
        """A new slice: the hook does nothing again."""
        self._slice.armed = 0
