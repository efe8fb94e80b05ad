"""Reading a guest executable: what to map where, and its symbols.

Only what the loader needs is kept (:class:`ElfImage`); every way a file can be unusable
becomes a one-line :class:`BadBinaryError` or :class:`HostError` naming the file, before
anything is mapped. The file is opened without blocking (a fifo cannot hang qpp) and must
be a regular file; the ELF and program headers are parsed here with bounded reads and
checked as Linux checks them (entry size, count, table inside the file) plus what a loader
needs to map safely (each PT_LOAD inside the file and inside the target's user space,
no two overlapping). Section headers, which the kernel ignores, only feed the symbol table
(:func:`read_symbols`, with pyelftools, on a plugin's first symbol lookup), and a broken
one only costs the symbols.
"""

from __future__ import annotations

import itertools
import os
import stat
import struct
from typing import BinaryIO, NamedTuple

from ..errors import BadBinaryError, HostError
from ..machine.arch import Arch, by_elf_machine

PT_LOAD, PT_INTERP, PT_PHDR, PT_GNU_STACK = 1, 3, 6, 0x6474E551
ET_EXEC, ET_DYN = 2, 3
PATH_MAX = 4096
#: the kernel reads at most this many bytes of program headers (binfmt_elf)
MAX_PHDR_TABLE = 65536
#: ELF header (after e_ident) and program header layouts per class
_EHDR = {32: "HHIIIIIHHHHHH", 64: "HHIQQQIHHHHHH"}
_PHDR = {32: "IIIIIIII", 64: "IIQQQQQQ"}
#: e_machine numbers of the architectures qpp runs (other names come from pyelftools)
_MACHINES = {
    3: "EM_386",
    8: "EM_MIPS",
    40: "EM_ARM",
    62: "EM_X86_64",
    183: "EM_AARCH64",
    243: "EM_RISCV",
}


def _machine_name(number: int) -> str:
    """pyelftools' spelling of an e_machine (imported only for machines qpp does not run)."""
    if number in _MACHINES:
        return _MACHINES[number]
    from elftools.elf.enums import ENUM_E_MACHINE

    return next((n for n, v in ENUM_E_MACHINE.items() if v == number), str(number))


_KINDS = {
    stat.S_IFIFO: "a fifo",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class Segment(NamedTuple):
    """One PT_LOAD: file bytes to place at ``vaddr`` and its memory size and protection."""

    vaddr: int
    data: bytes
    memsz: int
    prot: int  #: PROT_READ=1 | PROT_WRITE=2 | PROT_EXEC=4 (the same bits as unicorn's)
    offset: int = 0  #: where ``data`` starts in the file (for /proc/self/maps)


class ElfImage(NamedTuple):
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

    @property
    def low(self) -> int:
        return min(s.vaddr for s in self.segments)

    @property
    def high(self) -> int:
        return max(s.vaddr + s.memsz for s in self.segments)


class _Phdr(NamedTuple):
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int


def _prot(flags: int) -> int:
    # p_flags: PF_X=1, PF_W=2, PF_R=4
    return (1 if flags & 4 else 0) | (2 if flags & 2 else 0) | (4 if flags & 1 else 0)


def _bad(path: str, problem: str) -> BadBinaryError:
    return BadBinaryError(f"{path}: malformed ELF: {problem}; rebuild the program")


def read_elf(path: str) -> ElfImage:
    """Parse ``path`` as a guest executable for one of qpp's architectures."""
    try:
        # O_NONBLOCK: opening a fifo must not wait for a writer (regular files ignore it)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise HostError(f"{path}: no such file; check the program's path") from None
    except PermissionError:
        raise HostError(f"{path}: permission denied; make the file readable") from None
    except OSError as e:
        raise HostError(f"{path}: cannot open: {e.strerror}") from None
    try:
        size = _file_size(path, fd)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        return _parse(path, f, size)


def _file_size(path: str, fd: int) -> int:
    """The size of the program file, once it is known to be a regular, executable file."""
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        raise HostError(f"{path}: is a directory, not a program")
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise BadBinaryError(f"{path}: {kind}, not a program; give qpp an ELF executable file")
    if not os.access(path, os.X_OK):
        raise HostError(f"{path}: permission denied (not executable); chmod +x it")
    return st.st_size


def _pread(path: str, f: BinaryIO, size: int, offset: int) -> bytes:
    try:
        data = os.pread(f.fileno(), size, offset)
    except OSError as e:
        raise HostError(f"{path}: cannot read: {e.strerror}") from None
    if len(data) < size:
        raise _bad(path, "the file ends early (truncated?)")
    return data


def _parse(path: str, f: BinaryIO, size: int) -> ElfImage:
    ident = os.pread(f.fileno(), 16, 0)
    if ident[:4] != b"\x7fELF":
        raise BadBinaryError(f"{path}: not an ELF executable; qpp runs Linux ELF programs")
    if len(ident) < 16:
        raise _bad(path, "the file ends early (truncated?)")
    bits = {1: 32, 2: 64}.get(ident[4])
    endian = {1: "<", 2: ">"}.get(ident[5])
    if bits is None or endian is None:
        raise _bad(path, f"unknown ELF class {ident[4]} or data encoding {ident[5]}")
    ehdr = struct.Struct(endian + _EHDR[bits])
    fields = ehdr.unpack(_pread(path, f, ehdr.size, 16))
    e_type, e_machine, _, entry, phoff, _, e_flags, _, phentsize, phnum = fields[:10]
    machine = _machine_name(e_machine)
    arch = by_elf_machine(machine, bits, endian == "<")
    if arch is None:
        kind = f"{bits}-bit {'little' if endian == '<' else 'big'}-endian {machine}"
        raise BadBinaryError(
            f"{path}: {kind} programs are not supported; qpp runs x86_64, aarch64, arm "
            "(32-bit), riscv64 and mipsel (32-bit) Linux programs"
        )
    if e_type not in (ET_EXEC, ET_DYN):
        name = {0: "ET_NONE", 1: "ET_REL", 4: "ET_CORE"}.get(e_type, str(e_type))
        raise BadBinaryError(f"{path}: ELF of type {name} is not an executable")
    flags_error = arch.elf_flags_error(e_flags) if arch.elf_flags_error else None
    if flags_error:
        raise BadBinaryError(f"{path}: {flags_error}")
    phdrs = _program_headers(path, f, size, endian, bits, phoff, phentsize, phnum)
    segments = _segments(path, f, size, arch, e_type == ET_DYN, phdrs)
    interpreter: str | None = None
    phdr_vaddr: int | None = None
    exec_stack = False
    for p in phdrs:
        if p.type == PT_INTERP:
            interpreter = _interpreter(path, f, size, p)
        elif p.type == PT_PHDR:
            phdr_vaddr = p.vaddr
        elif p.type == PT_GNU_STACK:
            exec_stack = bool(p.flags & 1)
    if phdr_vaddr is None:
        for p in phdrs:
            if p.type == PT_LOAD and p.offset <= phoff < p.offset + p.filesz:
                phdr_vaddr = p.vaddr + phoff - p.offset
                break
    return ElfImage(
        path=path,
        arch=arch,
        is_pie=e_type == ET_DYN,
        entry=entry,
        phoff=phoff,
        phentsize=phentsize,
        phnum=phnum,
        phdr_vaddr=phdr_vaddr,
        segments=segments,
        interpreter=interpreter,
        exec_stack=exec_stack,
    )


def _program_headers(
    path: str, f: BinaryIO, size: int, endian: str, bits: int, phoff: int, entsize: int, num: int
) -> list[_Phdr]:
    """The program header table, checked as Linux's binfmt_elf checks it."""
    layout = struct.Struct(endian + _PHDR[bits])
    if entsize != layout.size:
        raise _bad(path, f"program header entries of {entsize} bytes (ELF{bits} has {layout.size})")
    if num == 0:
        raise _bad(path, "no program headers")
    if num * entsize > MAX_PHDR_TABLE:
        raise _bad(path, f"{num} program headers, more than Linux reads")
    if phoff + num * entsize > size:
        raise _bad(path, "the program header table lies past the end of the file (truncated?)")
    table = _pread(path, f, num * entsize, phoff)
    out = []
    for values in layout.iter_unpack(table):
        if bits == 64:
            ptype, flags, offset, vaddr, _, filesz, memsz, _ = values
        else:
            ptype, offset, vaddr, _, filesz, memsz, flags, _ = values
        out.append(_Phdr(ptype, flags, offset, vaddr, filesz, memsz))
    return out


def _segments(
    path: str, f: BinaryIO, size: int, arch: Arch, pie: bool, phdrs: list[_Phdr]
) -> tuple[Segment, ...]:
    """The PT_LOAD segments, each inside the file and the user space, none overlapping."""
    loads = sorted((p for p in phdrs if p.type == PT_LOAD and p.memsz > 0), key=lambda p: p.vaddr)
    if not loads:
        raise BadBinaryError(f"{path}: ELF has nothing to load (no PT_LOAD segment)")
    for p in loads:
        if p.filesz > p.memsz:
            raise _bad(path, f"a PT_LOAD at 0x{p.vaddr:x} has more file bytes than memory")
        if p.offset + p.filesz > size:
            raise _bad(path, "a PT_LOAD segment lies past the end of the file (truncated?)")
    for a, b in itertools.pairwise(loads):
        if b.vaddr < a.vaddr + a.memsz:
            raise _bad(path, f"PT_LOAD segments at 0x{a.vaddr:x} and 0x{b.vaddr:x} overlap")
    low, high = loads[0].vaddr & ~0xFFF, loads[-1].vaddr + loads[-1].memsz
    if (high - low if pie else high) > arch.user_top:
        where = f"0x{low:x}-0x{high:x}"
        raise _bad(
            path,
            f"it loads at {where}, outside the {arch.name} user address space "
            f"(0-0x{arch.user_top:x})",
        )
    if sum(p.filesz for p in loads) > size + len(loads) * 0x10000:
        raise _bad(path, "PT_LOAD segments map the same file bytes over and over")
    return tuple(
        Segment(p.vaddr, _pread(path, f, p.filesz, p.offset), p.memsz, _prot(p.flags), p.offset)
        for p in loads
    )


def _interpreter(path: str, f: BinaryIO, size: int, p: _Phdr) -> str:
    """PT_INTERP: the dynamic linker's path, NUL-terminated inside the file (as Linux wants)."""
    if not 2 <= p.filesz <= PATH_MAX or p.offset + p.filesz > size:
        raise _bad(path, "PT_INTERP (the dynamic linker's name) lies outside the file")
    name = _pread(path, f, p.filesz, p.offset)
    if name[-1] != 0 or name[0] == 0:
        raise _bad(path, "PT_INTERP (the dynamic linker's name) is not a NUL-terminated path")
    return os.fsdecode(name.split(b"\0", 1)[0])


def read_symbols(path: str, arch: Arch) -> list[tuple[int, int, str]]:
    """(address, size, name) of the functions and objects in ``path``'s ``.symtab``.

    Called on a plugin's first symbol lookup, not at load (pyelftools' import alone costs a
    short run's start-up tens of milliseconds); ``path`` is absolute, so a guest's chdir
    does not matter. A broken or vanished section table only costs the symbols.
    """
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    out: list[tuple[int, int, str]] = []
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            elf = ELFFile(f)
            if elf.num_sections() * max(elf.header["e_shentsize"], 1) > size:
                return out
            for section in elf.iter_sections():
                if not isinstance(section, SymbolTableSection) or section.name != ".symtab":
                    continue
                if (
                    section["sh_offset"] + section["sh_size"] > size
                    or section["sh_entsize"] != elf.structs.Elf_Sym.sizeof()
                ):
                    continue
                for sym in section.iter_symbols():
                    value = sym["st_value"]
                    if sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT") and sym.name and value:
                        if arch.elf_machine == "EM_ARM":
                            value &= ~1  # Thumb functions have the low bit set
                        out.append((value, sym["st_size"], sym.name))
    except Exception:  # pyelftools raises many kinds of errors on garbage sections
        return []
    return out
