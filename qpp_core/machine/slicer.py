"""Ending a thread's time slice at a block boundary, without Python per block.

Stopping unicorn from another thread (``emu_stop``, or ``emu_start``'s own ``timeout``)
is not safe to resume from: unicorn 2 also checks for the stop after guest memory
accesses and then leaves the pc at the start of the block, so the block's instructions
before the access run again (an atomic add counted twice, a register reloaded: unicorn
issues #1355 and #1565; measured here as lost mutex wake-ups). A stop requested from
inside a hook is exact. unicorn 2.1 also fixes a hook's callback into each block when it
translates it, so the callback cannot simply be swapped while blocks run.

So the slice ends through a block hook whose callback is a few bytes of native code,
written here (x86-64 hosts): ``if (*flag) uc_emu_stop(uc)``, ``flag`` being the hook's
user data. The ticker thread sets the flag; the next block start stops the engine from
inside the hook; the machine clears the flag. On other hosts :meth:`Slicer.install`
returns False and the caller slices by instruction counts instead.
"""

from __future__ import annotations

import ctypes
import mmap
import platform
import struct
import sys
from typing import Any

import unicorn

from .arch.base import _uclib


def _stub(stop: int) -> bytes:
    """x86-64 System V: ``if (*(long *)rcx) goto uc_emu_stop; return`` (rdi: the engine)."""
    return (
        b"\x48\x8b\x01"  # mov rax, [rcx]      (rcx: the hook's user data)
        + b"\x48\x85\xc0"  # test rax, rax
        + b"\x74\x0c"  # jz ret
        + b"\x48\xb8"
        + struct.pack("<Q", stop)  # movabs rax, uc_emu_stop
        + b"\xff\xe0"  # jmp rax            (uc_emu_stop(uc), uc still in rdi)
        + b"\xc3"  # ret
    )


class Slicer:
    """A native block hook that stops the engine when armed (see the module docstring)."""

    def __init__(self) -> None:
        self._flag = ctypes.c_int64(0)
        self._code: mmap.mmap | None = None
        self._handle = 0

    @staticmethod
    def supported() -> bool:
        return sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")

    def install(self, uc: Any) -> bool:
        """Add the hook (the caller flushes translated blocks); False: not possible here."""
        if not self.supported():
            return False
        lib = _uclib()
        stop = ctypes.cast(lib.uc_emu_stop, ctypes.c_void_p).value
        if not stop:
            return False
        code = _stub(stop)
        try:
            mem = mmap.mmap(
                -1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
            )
        except OSError:
            return False  # W^X hosts
        mem.write(code)
        entry = ctypes.addressof(ctypes.c_char.from_buffer(mem))
        handle = ctypes.c_size_t(0)
        status = lib.uc_hook_add(
            uc._uch,
            ctypes.byref(handle),
            unicorn.UC_HOOK_BLOCK,
            ctypes.c_void_p(entry),
            ctypes.c_void_p(ctypes.addressof(self._flag)),
            ctypes.c_uint64(1),
            ctypes.c_uint64(0),
        )
        if status != unicorn.UC_ERR_OK:
            return False
        self._code = mem
        self._handle = handle.value
        return True

    def remove(self, uc: Any) -> None:
        """Delete the hook (the caller flushes translated blocks)."""
        if self._handle:
            _uclib().uc_hook_del(uc._uch, ctypes.c_size_t(self._handle))
            self._handle = 0

    def arm(self) -> None:
        """End the slice at the next block start (from any thread)."""
        self._flag.value = 1

    def disarm(self) -> None:
        """A new slice: the hook does nothing again."""
        self._flag.value = 0
