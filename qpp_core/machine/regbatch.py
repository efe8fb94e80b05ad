"""Reading or writing a fixed list of registers in one call into unicorn.

unicorn's Python ``reg_read``/``reg_write`` cost several microseconds each (the binding
works out each register's value type per call); a signal frame saves and restores 20 to
70 registers, so a delivery and its ``sigreturn`` cost most of a millisecond that way, and
a guest timer firing every millisecond would leave the guest no time to run. A
:class:`RegisterBatch` is built once for a list of register ids and then moves all of
them with one ``uc_reg_read_batch``/``uc_reg_write_batch`` through preallocated cells of
:data:`CELL` bytes each, as raw little-endian bytes (an integer register, a 128-bit vector
register, x86's 80-bit ``(mantissa, exponent)`` alike).
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Sequence
from typing import Any

from .arch.base import UcError, _uclib

#: bytes per register cell: room for the widest register a frame holds (16) and more
CELL = 32


class RegisterBatch:
    """A fixed list of registers of one architecture, moved with one call each way."""

    __slots__ = ("_cells", "_ids", "_ptrs", "_words", "count")

    def __init__(self, reg_ids: Sequence[int]) -> None:
        self.count = n = len(reg_ids)
        self._ids = (ctypes.c_int * n)(*reg_ids)
        self._cells = ctypes.create_string_buffer(n * CELL)
        base = ctypes.addressof(self._cells)
        self._ptrs = (ctypes.c_void_p * n)(*(base + CELL * i for i in range(n)))
        self._words = struct.Struct("<" + f"Q{CELL - 8}x" * n)

    def read(self, uc: Any) -> bytes:
        """Every register's cell, one after the other (:data:`CELL` bytes each; a register
        narrower than its cell reads with zeros above it)."""
        n = self.count
        ctypes.memset(self._cells, 0, n * CELL)
        status = _uclib().uc_reg_read_batch(uc._uch, self._ids, self._ptrs, n)
        if status:
            raise UcError(status)
        return self._cells.raw

    def write(self, uc: Any, cells: bytes) -> None:
        """Write every register from its cell in ``cells`` (laid out as :meth:`read` gives
        them: little-endian, each register takes as many bytes as it is wide)."""
        n = self.count
        assert len(cells) == n * CELL
        ctypes.memmove(self._cells, cells, n * CELL)
        status = _uclib().uc_reg_write_batch(uc._uch, self._ids, self._ptrs, n)
        if status:
            raise UcError(status)

    def read_words(self, uc: Any) -> tuple[int, ...]:
        """The registers' values, for registers of at most 64 bits."""
        values: tuple[int, ...] = self._words.unpack(self.read(uc))
        return values

    def write_words(self, uc: Any, values: Sequence[int]) -> None:
        """Set registers of at most 64 bits (each takes its width's low bits of its value)."""
        self.write(uc, self._words.pack(*(v & 0xFFFF_FFFF_FFFF_FFFF for v in values)))
