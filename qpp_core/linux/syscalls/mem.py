"""Memory syscalls: brk, mmap/mmap2 (placed as qemu-user places them), munmap, mprotect,
madvise, msync, mremap, and the private cache-flush calls JITs make (arm, mips, riscv64).

Arguments are checked in Linux's order and give Linux's errno; no value crashes qpp.
Private file mappings are copied into guest memory (large ones are host mappings, so a
large sparse file costs nothing until touched; past 16 GiB qpp says ENOMEM where
qemu-user maps); shared ones are the host's own pages, so
stores reach the file. Pages past the file's last page raise SIGBUS when touched.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from typing import TYPE_CHECKING

from ...machine.arch.base import UcError
from ..memory import VSYSCALLS, HostBacking, host_mmap, page_up
from . import abi
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_TYPE = 0x01, 0x02, 0x03, 0x0F
CHUNK = 1 << 20
#: larger mappings are refused (ENOMEM): unicorn's unmap costs time per page (16 GiB: ~5 s)
MAX_MAPPING = 1 << 34
MADV_DONTNEED = 4
MS_ASYNC, MS_INVALIDATE, MS_SYNC = 1, 2, 4
MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP = 1, 2, 4


def _fd(k: LinuxKernel, v: int) -> int:
    return k.signed(v) if k.m.arch.bits == 64 else (v - (1 << 32) if v >> 31 else v)


@handles("brk")
def sys_brk(k: LinuxKernel, a: Args) -> int:
    return k.memory.do_brk(a[0])


def _check_file(fd: int, flags: int, prot: int) -> tuple[int, os.stat_result]:
    """Linux's checks of the file of a mapping: errno (0 if fine) and its status."""
    st = os.fstat(fd)  # EBADF
    mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    kind = flags & MAP_TYPE
    if kind in (MAP_SHARED, MAP_SHARED_VALIDATE):
        if prot & 2 and mode != os.O_RDWR:
            return errno.EACCES, st
    elif kind != MAP_PRIVATE:
        return errno.EINVAL, st
    if mode == os.O_WRONLY:
        return errno.EACCES, st
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        return errno.ENODEV, st
    return 0, st


def _mmap(
    k: LinuxKernel, addr: int, length: int, prot: int, flags: int, fd: int, offset: int
) -> int:
    mem = k.memory
    anon = flags & abi.MAP_ANONYMOUS.get(k.arch_name, 0x20)
    st: os.stat_result | None = None
    if not anon:
        if fd < 0:
            return -errno.EBADF
        problem, st = _check_file(fd, flags, prot)
        if problem:
            return -problem
    elif flags & MAP_TYPE not in (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE):
        return -errno.EINVAL
    if length == 0 or offset & 0xFFF:
        return -errno.EINVAL
    size = page_up(length)
    if size > min(mem.limit, MAX_MAPPING):
        return -errno.ENOMEM
    fixed = flags & (abi.MAP_FIXED | abi.MAP_FIXED_NOREPLACE)
    if fixed:
        if addr & 0xFFF:
            return -errno.EINVAL
        if addr + size > mem.limit:
            return -errno.ENOMEM
        noreplace = flags & abi.MAP_FIXED_NOREPLACE and not flags & abi.MAP_FIXED
        if noreplace and not mem.is_free(addr, size):
            return -errno.EEXIST
        where = addr
    elif addr and not addr & 0xFFF and addr + size <= mem.limit and mem.is_free(addr, size):
        where = addr
    else:
        found = mem.find_free(size)
        if found is None:
            return -errno.ENOMEM
        where = found
    prot = prot & 7
    prot = prot | 1 if prot else 0  # qemu-user: any access implies read
    shared = flags & MAP_TYPE != MAP_PRIVATE
    labelled = False
    try:
        if st is None or not stat.S_ISREG(st.st_mode):
            if shared and (st is None or st.st_size == 0):  # e.g. for children after fork
                backing = host_mmap(size, -1, 0, True)
                mem.map_host(where, size, prot, backing)
                mem.note_host_file(where, where + size, backing.ptr)
                labelled = True
            else:
                mem.map(where, size, prot)
            if st is not None and not stat.S_ISCHR(st.st_mode):
                _copy(k, fd, where, size, offset)
        else:
            _map_file(k, fd, st.st_size, where, size, prot, offset, bool(shared))
    except UcError:
        mem.unmap(where, size)
        return -errno.ENOMEM
    if not anon and not labelled:
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            path = ""
        if path.startswith("/"):
            mem.note_file(where, where + size, path, offset, bool(shared))
    if prot & 4 and not anon:  # fresh anonymous pages hold no code yet
        mem.code_mapped(where, size)
    return where


def _map_file(
    k: LinuxKernel,
    fd: int,
    file_size: int,
    where: int,
    size: int,
    prot: int,
    offset: int,
    shared: bool,
) -> None:
    """Map a regular file: its pages, then inaccessible pages past its end (SIGBUS)."""
    mem = k.memory
    data = min(size, max(0, page_up(file_size - offset)))
    if data:
        backing: HostBacking = host_mmap(data, fd, offset, shared)
        try:
            mem.map_host(where, data, prot, backing)
        except UcError:
            backing.users = 1
            backing.release()
            raise
    if data < size:
        mem.map(where + data, size - data, prot)
        mem.mark_beyond_eof(where + data, where + size, prot)


def _copy(k: LinuxKernel, fd: int, where: int, size: int, offset: int) -> None:
    """Copy up to ``size`` bytes of ``fd`` from ``offset`` into guest memory, in chunks."""
    done = 0
    while done < size:
        chunk = os.pread(fd, min(CHUNK, size - done), offset + done)
        if not chunk:
            return
        k.write(where + done, chunk)
        done += len(chunk)


@handles("mmap")
def sys_mmap(k: LinuxKernel, a: Args) -> int:
    if a[5] & 0xFFF:
        return -errno.EINVAL
    return _mmap(k, a[0], a[1], a[2], a[3], _fd(k, a[4]), a[5])


@handles("mmap2")
def sys_mmap2(k: LinuxKernel, a: Args) -> int:
    return _mmap(k, a[0], a[1], a[2], a[3], _fd(k, a[4]), a[5] * 4096)


def _range_ok(k: LinuxKernel, addr: int, length: int) -> bool:
    """Linux's test of a range given to munmap and friends: inside the address space."""
    limit = k.memory.limit
    return length <= limit and addr <= limit - length


@handles("munmap")
def sys_munmap(k: LinuxKernel, a: Args) -> int:
    addr, length = a[0], page_up(a[1])
    if addr & 0xFFF or a[1] == 0 or not _range_ok(k, addr, length):
        return -errno.EINVAL
    k.memory.unmap(addr, length)
    return 0


@handles("mprotect")
def sys_mprotect(k: LinuxKernel, a: Args) -> int:
    addr, length = a[0], page_up(a[1])
    if addr & 0xFFF or a[2] & ~0x7 & ~0x0300_0000:  # PROT_GROWSDOWN/UP are accepted
        return -errno.EINVAL
    if a[1] and length == 0:
        return -errno.ENOMEM
    if length == 0:
        return 0
    if not _range_ok(k, addr, length):
        return -errno.ENOMEM
    prot = a[2] & 7
    if not k.memory.protect(addr, length, prot | 1 if prot else 0):
        return -errno.ENOMEM
    if prot & 4:
        k.memory.code_mapped(addr, length)
    return 0


@handles("madvise")
def sys_madvise(k: LinuxKernel, a: Args) -> int:
    addr, length, advice = a[0], page_up(a[1]), a[2] & 0xFFFF_FFFF
    if addr & 0xFFF or (a[1] and length == 0):
        return -errno.EINVAL
    if advice == MADV_DONTNEED and length:
        if not _range_ok(k, addr, length):
            return -errno.EINVAL
        if not k.memory.is_mapped(addr, length):
            return -errno.ENOMEM
        k.memory.discard(addr, length)
    return 0


@handles("msync")
def sys_msync(k: LinuxKernel, a: Args) -> int:
    """Shared file pages are the host's own: the host kernel writes them back."""
    addr, flags = a[0], a[2] & 0xFFFF_FFFF
    if addr & 0xFFF or flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC):
        return -errno.EINVAL
    if flags & MS_ASYNC and flags & MS_SYNC:
        return -errno.EINVAL
    length = page_up(a[1])
    if length and not k.memory.is_mapped(addr, length):
        return -errno.ENOMEM
    return 0


@handles("mremap")
def sys_mremap(k: LinuxKernel, a: Args) -> int:
    """Shrink in place, grow in place when the pages after are free, else move (MAYMOVE),
    or move to a given address (FIXED). Grown pages are zeroed anonymous memory."""
    mem = k.memory
    old, flags, new_addr = a[0], a[3] & 0xFFFF_FFFF, a[4]
    if flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) or old & 0xFFF:
        return -errno.EINVAL
    if flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) and not flags & MREMAP_MAYMOVE:
        return -errno.EINVAL
    if flags & MREMAP_DONTUNMAP:
        return -errno.EINVAL  # not emulated
    old_len, new_len = page_up(a[1]), page_up(a[2])
    if new_len == 0 or old_len == 0 or (a[1] and old_len == 0):
        return -errno.EINVAL
    if flags & MREMAP_FIXED:
        if new_addr & 0xFFF or not _range_ok(k, new_addr, new_len):
            return -errno.EINVAL
        if new_addr < old + old_len and old < new_addr + new_len:
            return -errno.EINVAL
    if not _range_ok(k, old, old_len) or not mem.is_mapped(old, old_len):
        return -errno.EFAULT
    if new_len > min(mem.limit, MAX_MAPPING):
        return -errno.ENOMEM
    prot = mem.prot_at(old + min(old_len, new_len) - 1)
    try:
        if flags & MREMAP_FIXED:
            keep = min(old_len, new_len)
            mem.unmap(new_addr, new_len)
            mem.move(old, keep, new_addr)
            if old_len > keep:
                mem.unmap(old + keep, old_len - keep)
            elif new_len > keep:
                mem.map(new_addr + keep, new_len - keep, prot)
            return new_addr
        if new_len <= old_len:
            if new_len < old_len:
                mem.unmap(old + new_len, old_len - new_len)
            return old
        grow = new_len - old_len
        if old + new_len <= mem.limit and mem.is_free(old + old_len, grow):
            mem.map(old + old_len, grow, prot)
            return old
        if not flags & MREMAP_MAYMOVE:
            return -errno.ENOMEM
        where = mem.find_free(new_len)
        if where is None:
            return -errno.ENOMEM
        mem.move(old, old_len, where)
        mem.map(where + old_len, grow, prot)
        return where
    except UcError:
        return -errno.ENOMEM


@handles("cacheflush", "riscv_flush_icache")
def sys_cacheflush(k: LinuxKernel, a: Args) -> int:
    """arm's and mips's cacheflush and riscv64's riscv_flush_icache: JITs call them after
    writing code. unicorn notices stores into translated code itself; nothing to do."""
    return 0


def vsyscall(k: LinuxKernel, pc: int) -> bool:
    """The guest called a vsyscall entry (see ``memory.VSYSCALLS``): emulate it and return
    to the caller. False if ``pc`` is no such entry (the fault stands)."""
    entry = VSYSCALLS.get(k.arch_name)
    if entry is None:
        return False
    name = entry[1].get(pc - entry[0])
    if name is None:
        return False
    m = k.m
    uc = m.uc
    regs = [uc.reg_read(r) for r in m.arch.syscall.args] + [0] * 6
    num = next((n for n, v in k.table.items() if v == name), -1)
    ret = k.dispatch(num, name, (regs[0], regs[1], regs[2], regs[3], regs[4], regs[5]))
    if m.exited is not None:
        return True
    uc.reg_write(m.arch.syscall.result, ret & m.arch.mask)
    sp = uc.reg_read(m.arch.sp)
    try:
        back = int.from_bytes(uc.mem_read(sp, m.arch.word), "little")
    except UcError:
        return False
    uc.reg_write(m.arch.sp, sp + m.arch.word)
    uc.reg_write(m.arch.pc, back)
    return True


from . import shm as _shm  # noqa: E402, F401  (SysV shared memory handlers register here)
