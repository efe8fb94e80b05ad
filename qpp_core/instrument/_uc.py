"""Raw unicorn hooks: one ctypes trampoline per hook, no binding wrapper in between.

The unicorn binding wraps every hook in three Python frames (an exception guard, a
per-type adapter, then the user's function). The instrumentation layer calls unicorn's C
``uc_hook_add`` itself with a ctypes function pointer straight to its dispatcher, which
halves the fixed cost of each event (measured: about 1.2 us per event through the binding,
half that through raw ctypes), and registers
``UC_HOOK_MEM_READ_AFTER`` (read values), which the binding does not offer.

A dispatcher must never let an exception escape into ctypes (ctypes would print and
swallow it): the dispatchers of :mod:`qpp_core.instrument.core` catch everything and stop
the machine with the error.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from unicorn import mips_const
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
PROT_WRITE = ucc.UC_PROT_WRITE


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

    def add_native(
        self, htype: int, fn_address: int, user_data: int, begin: int = 1, end: int = 0
    ) -> int:
        """Register a C function (by address) for ``htype`` events, with ``user_data``."""
        handle = ctypes.c_size_t(0)
        status = _lib.uc_hook_add(
            self._uch,
            ctypes.byref(handle),
            htype,
            ctypes.c_void_p(fn_address),
            ctypes.c_void_p(user_data),
            ctypes.c_uint64(begin),
            ctypes.c_uint64(end),
        )
        if status != ucc.UC_ERR_OK:
            raise _ucmod.UcError(status)
        self._alive[handle.value] = fn_address
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

    def writer(self, reg_id: int) -> Callable[[int], None]:
        """A fast writer of one integer register."""
        buf = ctypes.c_uint64(0)
        ref = ctypes.byref(buf)
        write = _lib.uc_reg_write
        uch = self._uch

        def write_reg(value: int) -> None:
            buf.value = value
            write(uch, reg_id, ref)

        return write_reg

    @property
    def count(self) -> int:
        """How many hooks this object holds (tests check that unused events cost nothing)."""
        return len(self._alive)


class MipsHflags:
    """Clears a stale pending branch from a mips CPU (unicorn 2.1.4 workaround).

    unicorn has no register for the CPU's ``hflags``; its saved context is a copy of the
    CPU state, so the word is read and patched there (``uc_context_save``, patch,
    ``uc_context_restore``). Its offset is found once per process by :meth:`calibrate`:
    a scratch CPU runs a loop whose delay-slot store is hooked, which makes unicorn leave
    the branch pending, and the one context word that differs from a normal block start
    by branch bits only is the one. When unicorn does not show the bug (a fixed version)
    or no such word is found, no workaround is installed.
    """

    #: MIPS_HFLAG_BMASK (QEMU 5.0, unicorn 2.1): branch kind, delay-slot size, FBNSLOT
    BMASK = 0x0087F800
    _offset: int | None = -1  # -1: not calibrated yet

    def __init__(self, uc: Any, offset: int) -> None:
        self._uch = uc._uch
        self._ctx = ctypes.c_void_p(0)
        if _lib.uc_context_alloc(self._uch, ctypes.byref(self._ctx)) != ucc.UC_ERR_OK:
            raise _ucmod.UcError(ucc.UC_ERR_NOMEM)
        self._word = ctypes.cast((self._ctx.value or 0) + offset, ctypes.POINTER(ctypes.c_uint32))
        self._save = _lib.uc_context_save
        self._restore = _lib.uc_context_restore

    def __del__(self) -> None:
        if self._ctx.value:
            _lib.uc_context_free(self._ctx)
            self._ctx = ctypes.c_void_p(0)

    @classmethod
    def for_uc(cls, uc: Any) -> MipsHflags | None:
        """A fixer for ``uc`` (a 32-bit mips CPU), or ``None`` when none is needed."""
        if cls._offset == -1:
            cls._offset = cls.calibrate(uc._arch, uc._mode)
        if cls._offset is None:
            return None
        return cls(uc, cls._offset)

    def clear_pending_branch(self) -> bool:
        """If a branch is pending, clear it (True); the caller must then rewrite the pc."""
        self._save(self._uch, self._ctx)
        word = self._word
        if not word[0] & self.BMASK:
            return False
        word[0] &= ~self.BMASK
        self._restore(self._uch, self._ctx)
        return True

    @classmethod
    def calibrate(cls, arch: int, mode: int) -> int | None:
        """The offset of ``hflags`` in a saved context, or ``None`` (see the class doc)."""
        import struct

        def i_type(op: int, rs: int, rt: int, imm: int) -> bytes:
            return struct.pack("<I", (op << 26) | (rs << 21) | (rt << 16) | (imm & 0xFFFF))

        # loop: addiu t1,t1,1; addiu a2,a2,-1; bne a2,zero,loop; sw t1,0(a1) (delay slot)
        code = i_type(9, 9, 9, 1) + i_type(9, 6, 6, -1) + i_type(5, 6, 0, -3)
        code += i_type(0x2B, 5, 9, 0) + bytes(4)
        base = 0x10000
        uc: Any = _ucmod.Uc(arch, mode)
        uc.mem_map(base, 0x10000)
        uc.mem_write(base, code)
        uc.reg_write(mips_const.UC_MIPS_REG_A1, base + 0x8000)
        uc.reg_write(mips_const.UC_MIPS_REG_A2, 3)
        normal: list[bytes] = []
        stale: list[bytes] = []

        def on_block(uc: Any, address: int, size: int, user: Any) -> None:
            (stale if size == 4 else normal).append(bytes(uc.context_save()))

        uc.hook_add(ucc.UC_HOOK_BLOCK, on_block)
        uc.hook_add(ucc.UC_HOOK_MEM_WRITE, lambda *args: None)
        uc.emu_start(base, base + 16)
        if not stale or not normal:
            return None  # no stale pending branch: this unicorn needs no workaround
        found: list[int] = []
        for off in range(0, len(normal[0]) - 3, 4):
            good = {struct.unpack_from("<I", b, off)[0] for b in normal}
            bad = {struct.unpack_from("<I", b, off)[0] for b in stale}
            if len(good) != 1 or len(bad) != 1:
                continue
            g, b = good.pop(), bad.pop()
            if g != b and not g & cls.BMASK and (g ^ b) & ~cls.BMASK == 0:
                found.append(off)
        return found[0] if len(found) == 1 else None
