"""Moving the registers a signal frame saves between unicorn and the frame's bytes.

A frame holds 20 to 70 registers; converting them one at a time in Python costs a signal
delivery and its ``sigreturn`` a few hundred microseconds, which a guest timer firing
every millisecond cannot afford. So each frame layout gets, once per architecture, a
:class:`FrameRegisters`: one :class:`~qpp_core.machine.regbatch.RegisterBatch` (one call
into unicorn each way) and two pairs of :class:`struct.Struct` that turn unicorn's register
cells into the frame's fields and back in one ``unpack`` and one ``pack`` each. The
conversions the frame layouts ask for (:class:`.frame_layouts.Slot`) are struct codes:

* an integer register keeps the frame slot's low bytes (``B``/``H``/``I``/``Q``/``16s``);
* mips' 32-bit registers in 64-bit slots are sign-extended (read ``i``, stored ``q``) and
  ``sigreturn`` takes back the low half;
* x86's x87 registers are unicorn's ``{u64 mantissa; u16 exponent}``: the frame's 10 bytes;
* the x87 tag word is abridged (fxsave's one bit per register), in Python: one field;
* flags registers take back only the bits ``sigreturn`` restores, in Python: one field.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ...machine.regbatch import CELL, RegisterBatch
from .frame_layouts import FrameLayout, Slot

_INT = {1: "B", 2: "H", 4: "I", 8: "Q", 16: "16s"}


def _codes(slot: Slot) -> tuple[str, str, str, str]:
    """(cell as read, frame field as saved, frame field as read back, cell as written)."""
    if slot.kind == "x87":
        return "10s", "10s", "10s", "10s"
    if slot.kind == "ftw":
        return "Q", "B", "B", "Q"
    if slot.signed:  # a 32-bit register, sign-extended in its slot
        wide = "q" if slot.size == 8 else "i"
        back = "I4x" if slot.size == 8 else "I"
        return "i", wide, back, "I"
    code = _INT[slot.size]
    return code, code, code, code


def _cells(codes: list[str]) -> struct.Struct:
    return struct.Struct("<" + "".join(f"{c}{CELL - struct.calcsize(c)}x" for c in codes))


def _fields(
    slots: tuple[Slot, ...], codes: list[str], size: int
) -> tuple[struct.Struct, list[int]]:
    """A struct of the whole frame with each slot's field at its offset (gaps skipped),
    and the slots' indexes in its field order."""
    order = sorted(range(len(slots)), key=lambda i: slots[i].offset)
    fmt, at = "<", 0
    for i in order:
        gap = slots[i].offset - at
        assert gap >= 0, "frame slots overlap"
        fmt += f"{gap}x{codes[i]}" if gap else codes[i]
        at = slots[i].offset + struct.calcsize(codes[i])
    assert at <= size
    return struct.Struct(fmt), order


def _ftw_saved(tags: int) -> int:  # two bits per register (3: empty) -> one bit (1: in use)
    return sum(1 << i for i in range(8) if (tags >> 2 * i) & 3 != 3)


def _ftw_restored(bits: int) -> int:
    return sum((0 if bits >> i & 1 else 3) << 2 * i for i in range(8))


class FrameRegisters:
    """One frame layout's saved registers (all but the pc) on one architecture."""

    __slots__ = (
        "_cell_in",
        "_cell_out",
        "_frame_in",
        "_frame_out",
        "_ftw",
        "_order",
        "_partial",
        "_regs",
    )

    def __init__(self, frame: FrameLayout, pc_reg: str, reg_id: Callable[[str], int]) -> None:
        slots = tuple(s for s in frame.slots if s.reg != pc_reg)
        codes = [_codes(s) for s in slots]
        self._regs = RegisterBatch([reg_id(s.reg) for s in slots])
        self._cell_in = _cells([c[0] for c in codes])
        self._frame_out, self._order = _fields(slots, [c[1] for c in codes], frame.size)
        self._frame_in, _ = _fields(slots, [c[2] for c in codes], frame.size)
        self._cell_out = _cells([c[3] for c in codes])
        self._ftw = [i for i, s in enumerate(slots) if s.kind == "ftw"]
        self._partial = [(i, s.restore) for i, s in enumerate(slots) if s.restore != -1]

    def save(self, uc: object, buf: bytearray) -> None:
        """Write the registers into the frame ``buf`` (before its other parts: the gaps
        between the register fields are zeroed)."""
        values = list(self._cell_in.unpack(self._regs.read(uc)))
        for i in self._ftw:
            values[i] = _ftw_saved(values[i])
        self._frame_out.pack_into(buf, 0, *[values[i] for i in self._order])

    def restore(self, uc: object, buf: bytes) -> None:
        """Set the registers from the frame ``buf``, as ``sigreturn`` takes them back."""
        values = [0] * len(self._order)
        for i, v in zip(self._order, self._frame_in.unpack_from(buf, 0), strict=True):
            values[i] = v
        for i in self._ftw:
            values[i] = _ftw_restored(values[i])
        if self._partial:  # flags registers: the bits sigreturn does not take stay
            now = self._cell_in.unpack(self._regs.read(uc))
            for i, keep in self._partial:
                values[i] = now[i] & ~keep | values[i] & keep
        self._regs.write(uc, self._cell_out.pack(*values))
