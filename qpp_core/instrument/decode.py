"""Splitting a block's bytes into instructions, with capstone; the per-architecture facts
capstone does not give (sizes of undecodable bytes, which loads sign-extend, the size of
the system-call instruction) are fields of the :class:`~qpp_core.machine.arch.base.Arch`
record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument.handles import Instruction, TranslationBlock
from qpp_core.machine.arch.base import Arch, capstone


class Decoder:
    """Capstone decoders for one architecture (ARM and Thumb apart), made on first use."""

    def __init__(self, arch: Arch) -> None:
        self.arch = arch
        self._cs: dict[bool, Any] = {}
        #: whether a load mnemonic sign-extends the value (``MemInfo.sign_extended``)
        self.sign_load: Callable[[str], bool] = arch.sign_extending_load

    def _decoder(self, thumb: bool) -> Any:
        cs = self._cs.get(thumb)
        if cs is None:
            cs = capstone().Cs(self.arch.cs_arch, self.arch.cs_mode(thumb))
            self._cs[thumb] = cs
        return cs

    def decode(self, tb: TranslationBlock) -> list[Instruction]:
        """Split a block into instructions; undecodable bytes become ``(bad)`` entries
        sized by the architecture's rules, so that ``n_insns`` stays exact."""
        cs = self._decoder(tb.thumb)
        data = tb.data
        insns: list[Instruction] = []
        off = 0
        while off < len(data):
            for addr, size, mnem, ops in cs.disasm_lite(data[off:], tb.vaddr + off):
                insns.append(Instruction(tb, addr, size, mnem, ops))
                off += size
            if off < len(data):
                size = self.arch.undecodable_size(data[off:], tb.thumb)
                insns.append(Instruction(tb, tb.vaddr + off, size, "", ""))
                off += size
        return insns

    def trap_size(self, thumb: bool) -> int:
        """The size of the system-call instruction (the pc after it minus the pc of it)."""
        return self.arch.syscall_insn_size(thumb)
