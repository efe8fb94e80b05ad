#!/usr/bin/env python3
"""A bare unicorn loader for static x86_64 Linux guests: the baseline qpp is measured on.

Maps the ELF's segments, builds the initial stack (argv, envp, auxv) and runs the guest
with unicorn alone, answering the handful of system calls a static musl program makes
(write, writev, brk, mmap, exit, ...) in a syscall hook; nothing else is hooked unless
``--block-hook`` adds a Python block hook that counts instructions by block size, the
cheapest Python instrumentation unicorn offers, or ``--c-block-hook LIB`` the same count in
a C function ``count_block`` of the shared library LIB (the least any instrumentation
through unicorn's hooks can cost: one C call per executed block). It imports only unicorn
and the standard library, so its wall time is what any Python + unicorn tool pays at the
least (the start-up baseline of ``bench_instrument.py``).

usage: bare_unicorn.py [--block-hook | --c-block-hook LIB] PROGRAM [ARGS...]
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from typing import Any

import unicorn
from unicorn import x86_const as x86
from unicorn.unicorn_py3.unicorn import uclib

PAGE = 0x1000
STACK_TOP = 0x7FFF_F000_0000
STACK_SIZE = 0x10_0000
MMAP_BASE = 0x7000_0000_0000


def _up(n: int) -> int:
    return (n + PAGE - 1) & ~(PAGE - 1)


def load(uc: Any, path: str, argv: list[str]) -> tuple[int, int, int]:
    """Map ``path`` and its stack; returns (entry, stack pointer, end of the image)."""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or struct.unpack_from("<H", elf, 18)[0] != 62:
        raise SystemExit(f"{path}: not a 64-bit x86_64 ELF")
    entry, phoff = struct.unpack_from("<QQ", elf, 24)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    end = 0
    phdr = 0
    for i in range(phnum):
        p_type, _flags, off, vaddr, _pa, filesz, memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", elf, phoff + i * phentsize
        )
        if p_type == 6:
            phdr = vaddr
        if p_type != 1:
            continue
        lo, hi = vaddr & ~(PAGE - 1), _up(vaddr + memsz)
        for page in range(lo, hi, PAGE):  # segments may share a page
            if page >= end:
                uc.mem_map(page, PAGE)
        uc.mem_write(vaddr, elf[off : off + filesz])
        if off == 0 and not phdr:
            phdr = vaddr + phoff
        end = max(end, hi)
    uc.mem_map(STACK_TOP - STACK_SIZE, STACK_SIZE)
    sp = STACK_TOP - 0x1000
    strings = b""
    addrs = []
    for arg in argv:
        addrs.append(sp + len(strings))
        strings += arg.encode() + b"\0"
    random = sp + len(strings)
    strings += os.urandom(16)
    uc.mem_write(sp, strings)
    auxv = [(3, phdr), (4, phentsize), (5, phnum), (6, PAGE), (9, entry), (25, random), (0, 0)]
    words = [len(argv), *addrs, 0, 0] + [x for pair in auxv for x in pair]
    sp = (sp - 8 * len(words) - 64) & ~0xF
    uc.mem_write(sp, struct.pack(f"<{len(words)}Q", *words))
    return entry, sp, end


class Kernel:
    """Just enough Linux for a static musl program that computes and prints."""

    def __init__(self, uc: Any, brk: int) -> None:
        self.uc = uc
        self.brk = self.brk_start = brk
        self.mmap_next = MMAP_BASE
        self.status = 0

    def syscall(self, uc: Any, _user: Any) -> None:
        r = uc.reg_read
        nr = r(x86.UC_X86_REG_RAX)
        a = [r(x86.UC_X86_REG_RDI), r(x86.UC_X86_REG_RSI), r(x86.UC_X86_REG_RDX)]
        ret = -38  # ENOSYS
        if nr == 1:  # write
            ret = os.write(a[0], bytes(uc.mem_read(a[1], a[2])))
        elif nr == 20:  # writev
            ret = 0
            for i in range(a[2]):
                base, size = struct.unpack("<QQ", uc.mem_read(a[1] + 16 * i, 16))
                ret += os.write(a[0], bytes(uc.mem_read(base, size))) if size else 0
        elif nr == 12:  # brk
            if a[0] > self.brk:
                uc.mem_map(_up(self.brk), _up(a[0]) - _up(self.brk)) if _up(a[0]) > _up(
                    self.brk
                ) else None
                self.brk = a[0]
            ret = self.brk
        elif nr == 9:  # mmap (anonymous)
            size = _up(a[1])
            uc.mem_map(self.mmap_next, size)
            ret, self.mmap_next = self.mmap_next, self.mmap_next + size + PAGE
        elif nr == 158:  # arch_prctl(ARCH_SET_FS)
            uc.reg_write(x86.UC_X86_REG_FS_BASE, a[1])
            ret = 0
        elif nr == 218:  # set_tid_address
            ret = 1
        elif nr in (11, 13, 14):  # munmap, rt_sigaction, rt_sigprocmask
            ret = 0
        elif nr == 16:  # ioctl
            ret = -25  # ENOTTY
        elif nr in (60, 231):  # exit, exit_group
            self.status = a[0] & 0xFF
            uc.emu_stop()
            return
        uc.reg_write(x86.UC_X86_REG_RAX, ret & 0xFFFF_FFFF_FFFF_FFFF)


def add_c_block_hook(uc: Any, lib: str, counter: Any) -> None:
    """Register ``count_block`` of ``lib`` as a block hook adding each block's size to
    ``counter`` (unicorn's C API directly: the Python binding takes only Python callables)."""
    fn = ctypes.cast(ctypes.CDLL(lib).count_block, ctypes.c_void_p)
    handle = ctypes.c_size_t(0)
    status = uclib.uc_hook_add(
        uc._uch,
        ctypes.byref(handle),
        unicorn.UC_HOOK_BLOCK,
        fn,
        ctypes.cast(ctypes.byref(counter), ctypes.c_void_p),
        ctypes.c_uint64(1),
        ctypes.c_uint64(0),
    )
    if status != unicorn.UC_ERR_OK:
        raise unicorn.UcError(status)


def main(argv: list[str]) -> int:
    block_hook = bool(argv) and argv[0] == "--block-hook"
    c_lib = argv[1] if len(argv) > 1 and argv[0] == "--c-block-hook" else None
    argv = argv[1:] if block_hook else argv[2:] if c_lib else argv
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
    entry, sp, end = load(uc, argv[0], argv)
    kernel = Kernel(uc, end)
    uc.hook_add(unicorn.UC_HOOK_INSN, kernel.syscall, None, 1, 0, x86.UC_X86_INS_SYSCALL)
    count = [0]
    c_count = ctypes.c_uint64(0)
    if block_hook:

        def on_block(uc: Any, address: int, size: int, user: Any) -> None:
            count[0] += size

        uc.hook_add(unicorn.UC_HOOK_BLOCK, on_block)
    if c_lib:
        add_c_block_hook(uc, c_lib, c_count)
    uc.reg_write(x86.UC_X86_REG_RSP, sp)
    uc.emu_start(entry, 0)
    if block_hook or c_lib:
        print(f"block bytes: {count[0] + c_count.value}", file=sys.stderr)
    return kernel.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
