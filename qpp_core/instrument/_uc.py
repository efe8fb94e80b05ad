"""Raw unicorn hooks: one ctypes trampoline per hook, no binding wrapper in between.

The unicorn binding wraps every hook in three Python frames (an exception guard, a
per-type adapter, then the user's function). The instrumentation layer calls unicorn's C
``uc_hook_add`` itself with a ctypes function pointer straight to its dispatcher, which
halves the fixed cost of each event (NOTES.md section 4), and registers
``UC_HOOK_MEM_READ_AFTER`` (read values), which the binding does not offer.

A dispatcher must never let an exception escape into ctypes (ctypes would print and
swallow it): the dispatchers of :mod:`qpp_core.instrument.core` catch everything and stop
the machine with the error.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from unicorn import unicorn_const as ucc
from unicorn.unicorn_py3 import unicorn as _ucmod

_lib: Any = _ucmod.uclib

#: (uc_handle, address, size, user_data): block and code hooks
CODE_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p)
#: (uc_handle, access, address, size, value, user_data): memory access hooks
MEM_CB = ctypes.CFUNCTYPE(
    None,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_uint64,
    ctypes.c_int,
    ctypes.c_int64,
    ctypes.c_void_p,
)

HOOK_CODE = ucc.UC_HOOK_CODE
HOOK_BLOCK = ucc.UC_HOOK_BLOCK
HOOK_MEM_READ_AFTER = ucc.UC_HOOK_MEM_READ_AFTER
HOOK_MEM_WRITE = ucc.UC_HOOK_MEM_WRITE
MEM_WRITE = ucc.UC_MEM_WRITE


class RawHooks:
    """Adds and removes hooks on one ``Uc`` through the C API, keeping the trampolines alive."""

    def __init__(self, uc: Any) -> None:
        self.uc = uc
        self._uch = uc._uch
        self._alive: dict[int, Any] = {}
        self._pc_buf = ctypes.c_uint64(0)
        self._pc_ref = ctypes.byref(self._pc_buf)

    def add(
        self,
        htype: int,
        cfunctype: Any,
        fn: Callable[..., None],
        begin: int = 1,
        end: int = 0,
    ) -> int:
        """Register ``fn`` for ``htype`` events on ``[begin, end]`` (``1, 0``: everywhere)."""
        trampoline = cfunctype(fn)
        handle = ctypes.c_size_t(0)
        status = _lib.uc_hook_add(
            self._uch,
            ctypes.byref(handle),
            htype,
            ctypes.cast(trampoline, ctypes.c_void_p),
            ctypes.c_void_p(0),
            ctypes.c_uint64(begin),
            ctypes.c_uint64(end),
        )
        if status != ucc.UC_ERR_OK:
            raise _ucmod.UcError(status)
        self._alive[handle.value] = trampoline
        return int(handle.value)

    def delete(self, handle: int) -> None:
        """Remove a hook added by :meth:`add` (unknown handles are ignored)."""
        if self._alive.pop(handle, None) is not None:
            _lib.uc_hook_del(self._uch, ctypes.c_size_t(handle))

    def delete_all(self) -> None:
        for handle in list(self._alive):
            self.delete(handle)

    def reader(self, reg_id: int) -> Callable[[], int]:
        """A fast reader of one integer register (about 3x cheaper than ``uc.reg_read``)."""
        buf = ctypes.c_uint64(0)
        ref = ctypes.byref(buf)
        read = _lib.uc_reg_read
        uch = self._uch

        def read_reg() -> int:
            read(uch, reg_id, ref)
            return buf.value

        return read_reg

    @property
    def count(self) -> int:
        """How many hooks this object holds (tests check that unused events cost nothing)."""
        return len(self._alive)
