"""Links, file times, sizes and flushing: ``link``, ``symlink``, ``utimensat``, ``truncate``,
``sync``, ``fallocate``, ``fadvise64`` and their variants.

Paths go through the :class:`~qpp_core.linux.fs.FileView` as every path does (``--jail``,
``-L``); a symbolic link's target is stored as the guest wrote it, as Linux stores it.
The calls act on the host's files, as under qemu-user.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import time
from typing import TYPE_CHECKING

from .fs import _dirfd, _fd, _off64, _path
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_SYMLINK_FOLLOW = 0x400
AT_EMPTY_PATH = 0x1000
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2


# --- links -----------------------------------------------------------------------------------


def _link(
    k: LinuxKernel, olddir: int, old_addr: int, newdir: int, new_addr: int, flags: int
) -> int:
    if flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    old, new = _path(k, old_addr), _path(k, new_addr)
    follow = bool(flags & AT_SYMLINK_FOLLOW)
    src = k.files.host_path(old, _dirfd(k, olddir, old), follow=follow)
    dst = k.files.host_path(new, _dirfd(k, newdir, new), follow=False)
    if follow:  # (os.link's follow_symlinks=True calls link(2), which does not follow)
        src = os.path.realpath(src)
    os.link(src, dst, follow_symlinks=False)
    return 0


@handles("link")
def sys_link(k: LinuxKernel, a: Args) -> int:
    return _link(k, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)


@handles("linkat")
def sys_linkat(k: LinuxKernel, a: Args) -> int:
    return _link(k, a[0], a[1], a[2], a[3], a[4] & 0xFFFFFFFF)


def _symlink(k: LinuxKernel, target_addr: int, newdir: int, new_addr: int) -> int:
    target = _path(k, target_addr)  # stored as written (an empty target is ENOENT)
    new = _path(k, new_addr)
    os.symlink(target, k.files.host_path(new, _dirfd(k, newdir, new), follow=False))
    return 0


@handles("symlink")
def sys_symlink(k: LinuxKernel, a: Args) -> int:
    return _symlink(k, a[0], AT_FDCWD, a[1])


@handles("symlinkat")
def sys_symlinkat(k: LinuxKernel, a: Args) -> int:
    return _symlink(k, a[0], a[1], a[2])


# --- file times ------------------------------------------------------------------------------


def _stat(target: int | str, follow: bool) -> os.stat_result:
    if isinstance(target, int):
        return os.fstat(target)
    return os.stat(target, follow_symlinks=follow)


def _set_times(
    k: LinuxKernel,
    dirfd: int,
    path_addr: int,
    times: tuple[int, int] | None,
    follow: bool = True,
) -> int:
    """Set a file's access and modification times in ns (``None``: both now; either may
    be UTIME_NOW or UTIME_OMIT); ``path_addr`` 0 names ``dirfd`` itself (futimens)."""
    if times == (UTIME_OMIT, UTIME_OMIT):  # nothing to change: Linux looks no further
        return 0
    if path_addr == 0:
        fd = _fd(k, dirfd)
        if fd == AT_FDCWD:
            return -errno.EFAULT  # no path and no descriptor
        if fd < 0:
            return -errno.EBADF
        target: int | str = fd
    else:
        name = _path(k, path_addr)
        target = k.files.host_path(name, _dirfd(k, dirfd, name), follow=follow)
    if times == (UTIME_NOW, UTIME_NOW):
        times = None  # both now: the owner or a writer may do it, as Linux
    if times is not None:
        if UTIME_OMIT in times or UTIME_NOW in times:
            st = _stat(target, follow)
            now = time.time_ns()
            current = (st.st_atime_ns, st.st_mtime_ns)
            times = (
                current[0]
                if times[0] == UTIME_OMIT
                else now
                if times[0] == UTIME_NOW
                else times[0],
                current[1]
                if times[1] == UTIME_OMIT
                else now
                if times[1] == UTIME_NOW
                else times[1],
            )
        if isinstance(target, int):
            os.utime(target, ns=times)
        else:
            os.utime(target, ns=times, follow_symlinks=follow)
    elif isinstance(target, int):
        os.utime(target)
    else:
        os.utime(target, follow_symlinks=follow)
    return 0


def _timespecs(k: LinuxKernel, addr: int, wide: bool) -> tuple[int, int] | None:
    """Two timespecs in ns (their nsec may be UTIME_NOW/UTIME_OMIT); EINVAL if bad."""
    if addr == 0:
        return None
    fmt, size = ("<qqqq", 32) if wide or k.m.arch.bits == 64 else ("<iiii", 16)
    s0, n0, s1, n1 = struct.unpack(fmt, k.read(addr, size))
    out = []
    for sec, nsec in ((s0, n0), (s1, n1)):
        if nsec in (UTIME_NOW, UTIME_OMIT):
            out.append(nsec)
        elif not 0 <= nsec < 1_000_000_000:
            raise OSError(errno.EINVAL, "bad timespec")
        else:
            out.append(sec * 1_000_000_000 + nsec)
    return out[0], out[1]


def _utimensat(k: LinuxKernel, a: Args, wide: bool) -> int:
    flags = a[3] & 0xFFFFFFFF
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    times = _timespecs(k, a[2], wide)
    return _set_times(k, a[0], a[1], times, follow=not flags & AT_SYMLINK_NOFOLLOW)


@handles("utimensat")
def sys_utimensat(k: LinuxKernel, a: Args) -> int:
    return _utimensat(k, a, wide=False)


@handles("utimensat_time64")
def sys_utimensat_time64(k: LinuxKernel, a: Args) -> int:
    return _utimensat(k, a, wide=True)


def _timevals(k: LinuxKernel, addr: int) -> tuple[int, int] | None:
    if addr == 0:
        return None
    s0, u0, s1, u1 = struct.unpack(k.word_fmt(4, signed=True), k.read(addr, 4 * k.m.arch.word))
    if not (0 <= u0 < 1_000_000 and 0 <= u1 < 1_000_000):
        raise OSError(errno.EINVAL, "bad timeval")
    return s0 * 1_000_000_000 + u0 * 1000, s1 * 1_000_000_000 + u1 * 1000


@handles("utimes")
def sys_utimes(k: LinuxKernel, a: Args) -> int:
    return _set_times(k, AT_FDCWD, a[0], _timevals(k, a[1]))


@handles("futimesat")
def sys_futimesat(k: LinuxKernel, a: Args) -> int:
    return _set_times(k, a[0], a[1], _timevals(k, a[2]))


@handles("utime")
def sys_utime(k: LinuxKernel, a: Args) -> int:
    times = None
    if a[1]:
        atime, mtime = struct.unpack(k.word_fmt(2, signed=True), k.read(a[1], 2 * k.m.arch.word))
        times = (atime * 1_000_000_000, mtime * 1_000_000_000)
    return _set_times(k, AT_FDCWD, a[0], times)


# --- sizes, space, flushing ------------------------------------------------------------------


@handles("truncate")
def sys_truncate(k: LinuxKernel, a: Args) -> int:
    os.truncate(k.files.host_path(_path(k, a[0])), k.signed(a[1]))
    return 0


@handles("truncate64")
def sys_truncate64(k: LinuxKernel, a: Args) -> int:
    # 32-bit targets only: the length is an aligned register pair after the path
    os.truncate(k.files.host_path(_path(k, a[0])), _off64(k, a[2], a[3]))
    return 0


@handles("sync")
def sys_sync(k: LinuxKernel, a: Args) -> int:
    os.sync()
    return 0


@handles("syncfs")
def sys_syncfs(k: LinuxKernel, a: Args) -> int:
    os.fstat(_fd(k, a[0]))  # EBADF
    os.sync()  # (Python has no syncfs: the whole system's flush includes it)
    return 0


@handles("fallocate")
def sys_fallocate(k: LinuxKernel, a: Args) -> int:
    """Mode 0 (allocate, growing the file) as the host does it; the other modes
    (KEEP_SIZE, PUNCH_HOLE...) are EOPNOTSUPP, which C libraries' posix_fallocate
    handles by writing."""
    fd = _fd(k, a[0])
    if k.m.arch.bits == 64:
        offset, length = k.signed(a[2]), k.signed(a[3])
    else:
        offset, length = _off64(k, a[2], a[3]), _off64(k, a[4], a[5])
    if offset < 0 or length <= 0:
        return -errno.EINVAL
    if a[1] & 0xFFFFFFFF:
        os.fstat(fd)  # EBADF first
        return -errno.EOPNOTSUPP
    os.posix_fallocate(fd, offset, length)
    return 0


@handles("fadvise64", "arm_fadvise64_64")
def sys_fadvise64(k: LinuxKernel, a: Args) -> int:
    """Advice is advisory: checked for the descriptor (EBADF, ESPIPE for a pipe or
    socket), then taken without acting on it."""
    mode = os.fstat(_fd(k, a[0])).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return -errno.ESPIPE
    return 0
