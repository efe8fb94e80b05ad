"""Broken ELF files for the loader's tests: a real guest's headers rewritten with struct.

:class:`Elf` reads the ELF header and program headers of a (little-endian) guest binary
and lets a test change fields by name before writing the bytes back out.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

PT_LOAD, PT_INTERP, PT_GNU_STACK = 1, 3, 0x6474E551

#: (ELF header fields after e_ident, program header fields) for ELFCLASS32 and ELFCLASS64
_EHDR = {
    32: ("<HHIIIIIHHHHHH", "type machine version entry phoff shoff flags ehsize "
         "phentsize phnum shentsize shnum shstrndx"),
    64: ("<HHIQQQIHHHHHH", "type machine version entry phoff shoff flags ehsize "
         "phentsize phnum shentsize shnum shstrndx"),
}  # fmt: skip
_PHDR = {
    32: ("<IIIIIIII", "type offset vaddr paddr filesz memsz flags align"),
    64: ("<IIQQQQQQ", "type flags offset vaddr paddr filesz memsz align"),
}


@dataclass
class Elf:
    """A guest binary's bytes with its ELF header and program headers as editable dicts."""

    data: bytearray
    bits: int = 0
    header: dict[str, int] = field(default_factory=dict)
    phdrs: list[dict[str, int]] = field(default_factory=list)

    @classmethod
    def read(cls, path: str) -> Elf:
        elf = cls(bytearray(Path(path).read_bytes()))
        elf.bits = 64 if elf.data[4] == 2 else 32
        fmt, names = _EHDR[elf.bits]
        elf.header = dict(zip(names.split(), struct.unpack_from(fmt, elf.data, 16), strict=True))
        fmt, names = _PHDR[elf.bits]
        for i in range(elf.header["phnum"]):
            at = elf.header["phoff"] + i * elf.header["phentsize"]
            elf.phdrs.append(
                dict(zip(names.split(), struct.unpack_from(fmt, elf.data, at), strict=True))
            )
        return elf

    def loads(self) -> list[dict[str, int]]:
        return [p for p in self.phdrs if p["type"] == PT_LOAD]

    def find(self, ptype: int) -> dict[str, int]:
        return next(p for p in self.phdrs if p["type"] == ptype)

    def build(self) -> bytes:
        """The file with the (edited) headers written back at the original places."""
        out = bytearray(self.data)
        fmt, names = _EHDR[self.bits]
        struct.pack_into(fmt, out, 16, *(self.header[n] for n in names.split()))
        fmt, names = _PHDR[self.bits]
        phoff = struct.unpack_from("<Q" if self.bits == 64 else "<I", self.data,
                                   32 if self.bits == 64 else 28)[0]  # fmt: skip
        size = struct.calcsize(fmt)
        for i, p in enumerate(self.phdrs):
            struct.pack_into(fmt, out, phoff + i * size, *(p[n] for n in names.split()))
        return bytes(out)
