"""Signal frames' registers move in one batch each way (qpp_core/linux/syscalls/frame_regs.py).

The batch's struct codes must give exactly what converting each register on its own gives
(the frame layouts' slot rules), on every architecture and frame kind, and ``sigreturn``
must take back what a delivery saved. Checked on a real unicorn CPU (set up as for a guest) with random values.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
import unicorn

from qpp_core.linux.syscalls.frame_layouts import SIGNAL_ABIS, FrameLayout, Slot
from qpp_core.linux.syscalls.frame_regs import FrameRegisters
from qpp_core.machine.arch import ARCHES
from qpp_core.machine.cpu import create_cpu


def _one_by_one(uc: unicorn.Uc, slot: Slot, reg: int) -> bytes:
    """The slot's bytes as converting this register alone gives them."""
    value: Any = uc.reg_read(reg)
    if slot.kind == "x87":
        mantissa, exponent = value
        return struct.pack("<QH", mantissa, exponent)
    word = int(value)
    if slot.kind == "ftw":
        return bytes([sum(1 << i for i in range(8) if (word >> 2 * i) & 3 != 3)])
    if slot.signed and word >> 31 & 1:
        word |= ~0xFFFF_FFFF
    return (word & ((1 << (8 * slot.size)) - 1)).to_bytes(slot.size, "little")


def _randomize(uc: unicorn.Uc, slots: list[Slot], regs: list[int], rng: random.Random) -> None:
    for slot, reg in zip(slots, regs, strict=True):
        if slot.kind == "x87":
            uc.reg_write(reg, (rng.getrandbits(64), rng.getrandbits(16)))
        elif slot.restore != -1:  # a flags register: only the bits a frame carries back
            uc.reg_write(reg, rng.getrandbits(32) & slot.restore)
        else:
            value = rng.getrandbits(8 * slot.size)
            try:
                uc.reg_write(reg, value)
            except unicorn.UcError:  # a control register (mips' FCSR: cause & enable traps)
                uc.reg_write(reg, value & 0xFFF)


def _layouts() -> list[tuple[str, str, FrameLayout]]:
    out = []
    for arch, sabi in SIGNAL_ABIS.items():
        out.append((arch, "rt", sabi.rt))
        if sabi.plain is not None:
            out.append((arch, "plain", sabi.plain))
    return out


@pytest.mark.parametrize(("arch", "kind", "frame"), _layouts(), ids=lambda v: str(v)[:8])
def test_batched_frame_registers_equal_one_by_one(arch: str, kind: str, frame: FrameLayout) -> None:
    a, sabi = ARCHES[arch], SIGNAL_ABIS[arch]
    uc = create_cpu(a, None)  # with the FPU and vector units on, as a guest has them
    slots = [s for s in frame.slots if s.reg != sabi.pc_reg]
    regs = [a.registers[s.reg] for s in slots]
    moved = FrameRegisters(frame, sabi.pc_reg, a.registers.__getitem__)
    rng = random.Random(f"{arch} {kind}")
    for _ in range(20):
        _randomize(uc, slots, regs, rng)
        before = [uc.reg_read(r) for r in regs]
        buf = bytearray(b"\xa5" * frame.size)
        moved.save(uc, buf)
        for slot, reg in zip(slots, regs, strict=True):
            assert buf[slot.offset : slot.offset + slot.size] == _one_by_one(uc, slot, reg), slot
        _randomize(uc, slots, regs, rng)  # the handler clobbers everything
        moved.restore(uc, bytes(buf))
        assert [uc.reg_read(r) for r in regs] == before
