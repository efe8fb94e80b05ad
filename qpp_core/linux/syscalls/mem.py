"""Memory syscalls: brk, mmap/mmap2 (placed as qemu-user places them), munmap, mprotect."""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from ..memory import page_up
from . import abi
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel


@handles("brk")
def sys_brk(k: LinuxKernel, a: Args) -> int:
    return k.memory.do_brk(a[0])


def _mmap(
    k: LinuxKernel, addr: int, length: int, prot: int, flags: int, fd: int, offset: int
) -> int:
    mem = k.memory
    if length == 0 or offset & 0xFFF:
        return -errno.EINVAL
    size = page_up(length)
    anon = flags & abi.MAP_ANONYMOUS.get(k.arch_name, 0x20)
    fixed = flags & abi.MAP_FIXED
    if fixed:
        if addr & 0xFFF:
            return -errno.EINVAL
        where = addr
    elif addr and not addr & 0xFFF and mem.is_free(addr, size) and addr + size <= mem.limit:
        where = addr
    else:
        found = mem.find_free(size)
        if found is None:
            return -errno.ENOMEM
        where = found
    data = b""
    if not anon:
        data = os.pread(fd, length, offset)
    mem.map(where, size, prot | 1 if prot else 0)
    if data:
        k.write(where, data)
    if not anon:
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            path = ""
        if path.startswith("/"):
            mem.note_file(where, where + size, path, offset)
    if prot & 4:
        mem.code_mapped(where, size)
    return where


@handles("mmap")
def sys_mmap(k: LinuxKernel, a: Args) -> int:
    fd = k.signed(a[4]) if k.m.arch.bits == 64 else (a[4] - (1 << 32) if a[4] >> 31 else a[4])
    return _mmap(k, a[0], a[1], a[2], a[3], fd, a[5])


@handles("mmap2")
def sys_mmap2(k: LinuxKernel, a: Args) -> int:
    fd = a[4] - (1 << 32) if a[4] >> 31 else a[4]
    return _mmap(k, a[0], a[1], a[2], a[3], fd, a[5] * 4096)


@handles("munmap")
def sys_munmap(k: LinuxKernel, a: Args) -> int:
    if a[0] & 0xFFF or a[1] == 0:
        return -errno.EINVAL
    k.memory.unmap(a[0], a[1])
    return 0


@handles("mprotect")
def sys_mprotect(k: LinuxKernel, a: Args) -> int:
    if a[0] & 0xFFF:
        return -errno.EINVAL
    prot = a[2] & 7
    if not k.memory.protect(a[0], a[1], prot | 1 if prot else 0):
        return -errno.ENOMEM
    if prot & 4:
        k.memory.code_mapped(a[0], a[1])
    return 0


@handles("madvise", "msync")
def sys_madvise(k: LinuxKernel, a: Args) -> int:
    return 0


@handles("mremap")
def sys_mremap(k: LinuxKernel, a: Args) -> int:
    return -errno.ENOMEM
