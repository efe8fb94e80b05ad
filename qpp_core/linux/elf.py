"""Reading a guest executable with pyelftools: what to map where, and its symbols.

Only what the loader needs is kept (:class:`ElfImage`); every way a file can be unusable
becomes a one-line :class:`BadBinaryError` or :class:`HostError` naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from ..errors import BadBinaryError, HostError
from ..machine.arch import Arch, by_elf_machine


@dataclass(frozen=True)
class Segment:
    """One PT_LOAD: file bytes to place at ``vaddr`` and its memory size and protection."""

    vaddr: int
    data: bytes
    memsz: int
    prot: int  #: PROT_READ=1 | PROT_WRITE=2 | PROT_EXEC=4 (the same bits as unicorn's)
    offset: int = 0  #: where ``data`` starts in the file (for /proc/self/maps)


@dataclass(frozen=True)
class ElfImage:
    """A parsed static executable, addresses not yet relocated (see ``is_pie``)."""

    path: str
    arch: Arch
    is_pie: bool  #: ET_DYN: loaded at a base of the loader's choosing
    entry: int
    phoff: int
    phentsize: int
    phnum: int
    phdr_vaddr: int | None  #: where the program headers are in memory (PT_PHDR or by offset)
    segments: tuple[Segment, ...]
    interpreter: str | None  #: PT_INTERP: dynamically linked
    exec_stack: bool
    symbols: tuple[tuple[int, int, str], ...]

    @property
    def low(self) -> int:
        return min(s.vaddr for s in self.segments)

    @property
    def high(self) -> int:
        return max(s.vaddr + s.memsz for s in self.segments)


def _prot(flags: int) -> int:
    # p_flags: PF_X=1, PF_W=2, PF_R=4
    return (1 if flags & 4 else 0) | (2 if flags & 2 else 0) | (4 if flags & 1 else 0)


def read_elf(path: str) -> ElfImage:
    """Parse ``path`` as a guest executable for one of qpp's architectures."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except FileNotFoundError:
        raise HostError(f"{path}: no such file; check the program's path") from None
    except IsADirectoryError:
        raise HostError(f"{path}: is a directory, not a program") from None
    except PermissionError:
        raise HostError(f"{path}: permission denied; make the file readable") from None
    except OSError as e:
        raise HostError(f"{path}: cannot read: {e.strerror}") from None
    if not os.access(path, os.X_OK):
        raise HostError(f"{path}: permission denied (not executable); chmod +x it")
    if blob[:4] != b"\x7fELF":
        raise BadBinaryError(f"{path}: not an ELF executable; qpp runs Linux ELF programs")
    try:
        return _parse(path, blob)
    except ELFError as e:
        raise BadBinaryError(
            f"{path}: malformed or truncated ELF ({e}); rebuild the program"
        ) from None
    except (ValueError, KeyError, IndexError, OSError, AssertionError, TypeError) as e:
        raise BadBinaryError(
            f"{path}: malformed or truncated ELF ({e}); rebuild the program"
        ) from None


def _parse(path: str, blob: bytes) -> ElfImage:
    import io

    elf = ELFFile(io.BytesIO(blob))
    header = elf.header
    bits = elf.elfclass
    little = elf.little_endian
    arch = by_elf_machine(header["e_machine"], bits, little)
    if arch is None:
        kind = f"{bits}-bit {'little' if little else 'big'}-endian {header['e_machine']}"
        raise BadBinaryError(
            f"{path}: {kind} programs are not supported; qpp runs x86_64, aarch64, arm "
            "(32-bit), riscv64 and mipsel (32-bit) Linux programs"
        )
    if header["e_type"] not in ("ET_EXEC", "ET_DYN"):
        raise BadBinaryError(f"{path}: ELF of type {header['e_type']} is not an executable")
    segments: list[Segment] = []
    interpreter: str | None = None
    phdr_vaddr: int | None = None
    exec_stack = False
    for seg in elf.iter_segments():
        ptype = seg["p_type"]
        if ptype == "PT_LOAD" and seg["p_memsz"] > 0:
            off, filesz = seg["p_offset"], seg["p_filesz"]
            if off + filesz > len(blob) or filesz > seg["p_memsz"]:
                raise BadBinaryError(
                    f"{path}: truncated ELF (a segment lies past the end of the file)"
                )
            segments.append(
                Segment(
                    seg["p_vaddr"],
                    blob[off : off + filesz],
                    seg["p_memsz"],
                    _prot(seg["p_flags"]),
                    off,
                )
            )
        elif ptype == "PT_INTERP":
            interpreter = str(seg.get_interp_name())  # type: ignore[attr-defined]
        elif ptype == "PT_PHDR":
            phdr_vaddr = seg["p_vaddr"]
        elif ptype == "PT_GNU_STACK":
            exec_stack = bool(seg["p_flags"] & 1)
    if not segments:
        raise BadBinaryError(f"{path}: ELF has nothing to load (no PT_LOAD segment)")
    if phdr_vaddr is None:
        for seg in elf.iter_segments():
            if (
                seg["p_type"] == "PT_LOAD"
                and seg["p_offset"] <= header["e_phoff"] < seg["p_offset"] + seg["p_filesz"]
            ):
                phdr_vaddr = seg["p_vaddr"] + header["e_phoff"] - seg["p_offset"]
                break
    if arch.name == "mipsel" and (header["e_flags"] & 0xF0000000) not in (
        0x00000000,
        0x10000000,
        0x50000000,
        0x70000000,
    ):
        raise BadBinaryError(f"{path}: MIPS ISA in e_flags not supported (need MIPS32 o32)")
    return ElfImage(
        path=path,
        arch=arch,
        is_pie=header["e_type"] == "ET_DYN",
        entry=header["e_entry"],
        phoff=header["e_phoff"],
        phentsize=header["e_phentsize"],
        phnum=header["e_phnum"],
        phdr_vaddr=phdr_vaddr,
        segments=tuple(segments),
        interpreter=interpreter,
        exec_stack=exec_stack,
        symbols=tuple(_symbols(elf)),
    )


def _symbols(elf: ELFFile) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for section in elf.iter_sections():
        if not isinstance(section, SymbolTableSection) or section.name != ".symtab":
            continue
        for sym in section.iter_symbols():
            if (
                sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT")
                and sym.name
                and sym["st_value"]
            ):
                value = sym["st_value"]
                if elf.header["e_machine"] == "EM_ARM":
                    value &= ~1  # Thumb functions have the low bit set
                out.append((value, sym["st_size"], sym.name))
    return out
