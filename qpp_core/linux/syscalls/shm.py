"""SysV shared memory: shmget, shmat, shmdt, shmctl (and mips o32's ipc() multiplexer).

As in qemu-user, the segments are the host's own (ids, keys and permissions are the
host kernel's, so other processes share them); an attachment maps the host's attached
pages into the guest. ``/proc/self/maps`` shows ``/SYSV<key> (deleted)`` as Linux does.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from typing import TYPE_CHECKING

from ...machine.arch.base import UcError
from ..memory import PAGE, FileRange, HostBacking, page_up
from . import abi
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

IPC_RMID, IPC_SET, IPC_STAT, IPC_64 = 0, 1, 2, 0x100
SHM_RDONLY, SHM_RND, SHM_REMAP, SHM_EXEC = 0o10000, 0o20000, 0o40000, 0o100000
_SHMAT, _SHMDT, _SHMGET, _SHMCTL = 21, 22, 23, 24  # ipc() calls
_HOST_DS = abi.SHMID_DS_64  # the host's struct shmid_ds (a 64-bit Linux)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmat.restype = ctypes.c_void_p
    libc.shmdt.argtypes = [ctypes.c_void_p]
    libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    return libc


LIBC = _libc()


class ShmBacking(HostBacking):
    """A host attachment of a segment: detached (not munmapped) when the guest lets go."""

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            LIBC.shmdt(self.ptr)


def _host_stat(shmid: int) -> tuple[int, ...]:
    buf = ctypes.create_string_buffer(struct.calcsize(_HOST_DS))
    if LIBC.shmctl(shmid, IPC_STAT, buf) < 0:
        raise OSError(ctypes.get_errno(), "shmctl")
    return struct.unpack(_HOST_DS, buf.raw)


def _int(v: int) -> int:
    v &= 0xFFFF_FFFF
    return v - (1 << 32) if v >> 31 else v


@handles("shmget")
def sys_shmget(k: LinuxKernel, a: Args) -> int:
    size = a[1] & k.m.arch.mask
    shmid: int = LIBC.shmget(_int(a[0]), size, _int(a[2]))
    if shmid < 0:
        return -ctypes.get_errno()
    return shmid


def _shmat(k: LinuxKernel, shmid: int, addr: int, flags: int) -> int:
    mem = k.memory
    lba = abi.SHMLBA.get(k.arch_name, PAGE)
    if addr & (lba - 1):
        if not flags & SHM_RND:
            return -errno.EINVAL
        addr &= ~(lba - 1)
    try:
        size = page_up(_host_stat(shmid)[7])
    except OSError as e:
        return -(e.errno or errno.EINVAL)
    if addr:
        if addr + size > mem.limit:
            return -errno.EINVAL
        if not flags & SHM_REMAP and not mem.is_free(addr, size):
            return -errno.EINVAL
        where = addr
    else:
        found = mem.find_free(size + lba - PAGE)
        if found is None:
            return -errno.ENOMEM
        if mem.arch.mmap_top is not None:  # downwards: the highest aligned spot
            where = (found + lba - PAGE) & ~(lba - 1)
        else:
            where = (found + lba - 1) & ~(lba - 1)
    ptr = LIBC.shmat(shmid, None, flags & SHM_RDONLY)
    if ptr is None or ptr == ctypes.c_void_p(-1).value:
        return -ctypes.get_errno()
    backing = ShmBacking(ptr, size)
    prot = 1 if flags & SHM_RDONLY else 3
    if flags & SHM_EXEC:
        prot |= 4
    try:
        mem.map_host(where, size, prot, backing)
    except UcError:
        LIBC.shmdt(ptr)
        return -errno.ENOMEM
    key = _host_stat(shmid)[0] & 0xFFFF_FFFF
    mem.forget_files(where, where + size)
    mem.files.append(
        FileRange(
            where, where + size, f"/SYSV{key:08x} (deleted)", 0, os.makedev(0, 1), shmid, True
        )
    )
    mem.files.sort(key=lambda f: f.start)
    return where


@handles("shmat")
def sys_shmat(k: LinuxKernel, a: Args) -> int:
    return _shmat(k, _int(a[0]), a[1], _int(a[2]))


def _shmdt(k: LinuxKernel, addr: int) -> int:
    mem = k.memory
    piece = mem.host.get(addr)
    if piece is None or not isinstance(piece.backing, ShmBacking) or piece.ptr != piece.backing.ptr:
        return -errno.EINVAL
    mem.unmap(addr, piece.backing.length)
    return 0


@handles("shmdt")
def sys_shmdt(k: LinuxKernel, a: Args) -> int:
    return _shmdt(k, a[0])


def _shmctl(k: LinuxKernel, shmid: int, cmd: int, buf: int) -> int:
    cmd &= ~IPC_64
    layout = abi.SHMID_DS.get(k.arch_name, abi.SHMID_DS_64)
    if cmd == IPC_RMID:
        if LIBC.shmctl(shmid, IPC_RMID, None) < 0:
            return -ctypes.get_errno()
        return 0
    if cmd == IPC_STAT:
        host = _host_stat(shmid)
        k.write(buf, struct.pack(layout, *host))
        return 0
    if cmd == IPC_SET:
        fields = list(_host_stat(shmid))
        mine = struct.unpack(layout, k.read(buf, struct.calcsize(layout)))
        fields[1], fields[2], fields[5] = mine[1], mine[2], mine[5] & 0o777
        raw = ctypes.create_string_buffer(struct.pack(_HOST_DS, *fields))
        if LIBC.shmctl(shmid, IPC_SET, raw) < 0:
            return -ctypes.get_errno()
        return 0
    return -errno.EINVAL


@handles("shmctl")
def sys_shmctl(k: LinuxKernel, a: Args) -> int:
    return _shmctl(k, _int(a[0]), _int(a[1]), a[2])


@handles("ipc")
def sys_ipc(k: LinuxKernel, a: Args) -> int:
    """The ipc() multiplexer (mips o32): ipc(call, first, second, third, ptr, fifth)."""
    call, first, second, third, ptr = a[0] & 0xFFFF, a[1], a[2], a[3], a[4]
    if call == _SHMGET:
        return sys_shmget(k, (first, second, third, 0, 0, 0))
    if call == _SHMAT:
        where = _shmat(k, _int(first), ptr, _int(second))
        if where < 0 and where > -4096:
            return where
        k.put_words(third, where)
        return 0
    if call == _SHMDT:
        return _shmdt(k, ptr)
    if call == _SHMCTL:
        return _shmctl(k, _int(first), _int(second), ptr)
    return -errno.ENOSYS
