"""The malformed-ELF cases of the loader tests, each a function of a real guest's Elf.

What qemu-user 7.2 does with each (hello.ARCH edited so): huge_bss, kernel_range "Error
mapping file: Cannot allocate memory" (mipsel: "requires more than reserved virtual address
space"; arm runs it or crashes); wraps: an assertion failure (``page_set_flags: start <
end``); filesz_over_memsz, overlapping: runs and crashes (SIGSEGV/SIGBUS); offset_past_end,
no_phdrs: "Error mapping file: Invalid argument"; interp_nowhere, huge_phnum,
phoff_past_end: "Incomplete read of file header"; bad_phentsize: "Invalid ELF image for
this architecture"; interp_missing: "Could not open '/nonexistent/ld-qpp.so.1'";
phdrs_truncated: runs on garbage headers and crashes. qpp refuses each with one line.
"""

from __future__ import annotations

from collections.abc import Callable

from linux.elfcraft import PT_GNU_STACK, PT_INTERP, Elf

#: an address each target's user space cannot hold (the first past qemu-user 7.2's limit;
#: arm: the kernel's helper page at the top)
USER_TOP = {
    "x86_64": 1 << 47,
    "aarch64": 1 << 48,
    "riscv64": 1 << 48,
    "arm": 0xFFFF_0000,
    "mipsel": 1 << 31,
}


def huge_bss(elf: Elf, arch: str) -> bytes:
    elf.loads()[-1]["memsz"] = 1 << 40 if elf.bits == 64 else 0xC000_0000
    return elf.build()


def wraps(elf: Elf, arch: str) -> bytes:
    last = elf.loads()[-1]
    last["memsz"] = (1 << elf.bits) - last["vaddr"] + 0x1000
    return elf.build()


def kernel_range(elf: Elf, arch: str) -> bytes:
    last = elf.loads()[-1]
    last["vaddr"] = last["paddr"] = USER_TOP[arch] + (last["vaddr"] & 0xFFF)
    return elf.build()


def filesz_over_memsz(elf: Elf, arch: str) -> bytes:
    last = elf.loads()[-1]
    last["filesz"] = last["memsz"] + 0x100
    return elf.build()


def offset_past_end(elf: Elf, arch: str) -> bytes:
    elf.loads()[-1]["offset"] = len(elf.data) + 0x10000
    return elf.build()


def overlapping(elf: Elf, arch: str) -> bytes:
    first, last = elf.loads()[0], elf.loads()[-1]
    last["vaddr"] = last["paddr"] = first["vaddr"] + (last["offset"] & 0xFFF)
    return elf.build()


def interp_nowhere(elf: Elf, arch: str) -> bytes:
    p = elf.find(PT_GNU_STACK)
    p.update(type=PT_INTERP, offset=len(elf.data) + 100, filesz=20)
    return elf.build()


def interp_missing(elf: Elf, arch: str) -> bytes:
    name = b"/nonexistent/ld-qpp.so.1\0"
    p = elf.find(PT_GNU_STACK)
    p.update(type=PT_INTERP, offset=len(elf.data), filesz=len(name))
    return elf.build() + name


def no_phdrs(elf: Elf, arch: str) -> bytes:
    elf.header["phnum"] = 0
    return elf.build()


def bad_phentsize(elf: Elf, arch: str) -> bytes:
    elf.header["phentsize"] += 8
    return elf.build()


def huge_phnum(elf: Elf, arch: str) -> bytes:
    elf.header["phnum"] = 0xFFFF
    return elf.build()


def phdrs_truncated(elf: Elf, arch: str) -> bytes:
    data = elf.build()
    return data[: elf.header["phoff"] + elf.header["phentsize"] + 8]


def phoff_past_end(elf: Elf, arch: str) -> bytes:
    elf.header["phoff"] = len(elf.data) - elf.header["phentsize"]
    return elf.build()


CASES: dict[str, Callable[[Elf, str], bytes]] = {
    f.__name__: f
    for f in (
        huge_bss,
        wraps,
        kernel_range,
        filesz_over_memsz,
        offset_past_end,
        overlapping,
        interp_nowhere,
        interp_missing,
        no_phdrs,
        bad_phentsize,
        huge_phnum,
        phdrs_truncated,
        phoff_past_end,
    )
}
