"""Splitting a block's bytes into instructions, with capstone, and per-architecture facts
about instructions that capstone does not give (sizes of undecodable bytes, which loads
sign-extend, the size of the system-call instruction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument.handles import Instruction, TranslationBlock
from qpp_core.machine.arch.base import capstone

_SIGN_LOADS: dict[str, Callable[[str], bool]] = {
    "x86_64": lambda m: m.startswith("movsx") or m in ("cbw", "cwde", "cdqe"),
    "aarch64": lambda m: m.startswith(("ldrs", "ldurs", "ldtrs", "ldapurs")),
    "arm": lambda m: m.startswith(("ldrsb", "ldrsh")),
    "riscv64": lambda m: m in ("lb", "lh", "lw", "c.lw", "c.lwsp"),
    "mipsel": lambda m: m in ("lb", "lh"),
}
_TRAP_SIZE = {"x86_64": 2, "aarch64": 4, "riscv64": 4, "mipsel": 4}


class Decoder:
    """Capstone decoders for one architecture (ARM and Thumb apart), made on first use."""

    def __init__(self, arch: Any) -> None:
        self.arch = arch
        self._cs: dict[bool, Any] = {}
        #: whether a load mnemonic sign-extends the value (``MemInfo.sign_extended``)
        self.sign_load: Callable[[str], bool] = _SIGN_LOADS.get(arch.name, _never)

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
                size = self.fallback_size(data[off:], tb.thumb)
                insns.append(Instruction(tb, tb.vaddr + off, size, "", ""))
                off += size
        return insns

    def fallback_size(self, rest: bytes, thumb: bool) -> int:
        """The size of the undecodable instruction at the start of ``rest``."""
        name = self.arch.name
        if name == "riscv64":
            return 4 if rest[0] & 3 == 3 else 2
        if name == "arm" and thumb:
            half = int.from_bytes(rest[:2], "little")
            return 4 if (half >> 11) in (0x1D, 0x1E, 0x1F) else 2
        if name == "x86_64":
            return len(rest)  # the rest as one instruction: capstone knows all of x86-64
        return min(4, len(rest))

    def trap_size(self, thumb: bool) -> int:
        """The size of the system-call instruction (the pc after it minus the pc of it)."""
        if self.arch.name == "arm":
            return 2 if thumb else 4
        return _TRAP_SIZE.get(self.arch.name, 4)


def _never(mnemonic: str) -> bool:
    return False
