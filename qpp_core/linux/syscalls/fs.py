"""File syscalls: guest fds are host fds (as with qemu-user); paths go through the FileView.

Writes to fd 1 and 2 are plain ``os.write`` on the process's own fds, so the guest's
output is neither buffered nor reordered.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import resource
import stat
import struct
from typing import TYPE_CHECKING

from ...hostfds import RESERVED
from ...machine.arch.base import UcError
from . import abi, procself, sigstate
from .abi import AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW
from .fifo import open_fifo
from .locks import flock, lock_command
from .registry import Args, handles
from .structs import pack, stat_values

if TYPE_CHECKING:
    from .kernel import LinuxKernel

MAX_IO = 1 << 24

#: the /proc directories that list a process's fds (getdents64 hides qpp's own there)
PROC_FD_DIR = re.compile(r"/proc/\d+(?:/task/\d+)?/fd(?:info)?")


def _fd(k: LinuxKernel, v: int) -> int:
    """The host fd for a guest fd argument; qpp's own fds (the -D log...) are EBADF."""
    fd = v & 0xFFFFFFFF  # int or unsigned int in the kernel: 32 bits on every target
    fd = fd - (1 << 32) if fd >> 31 else fd
    if fd in RESERVED:
        raise OSError(errno.EBADF, "not the guest's")
    return fd


def _dirfd(k: LinuxKernel, v: int, path: str) -> int:
    """A *at call's dirfd: it matters (EBADF, ENOTDIR) only for a relative path, as Linux."""
    fd = _fd(k, v)
    if fd != AT_FDCWD and path and not path.startswith("/"):
        if fd < 0:
            raise OSError(errno.EBADF, "bad dirfd")
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.ENOTDIR, "dirfd is not a directory")
        k.files.check_fd_dir(fd)
    return fd


def _path(k: LinuxKernel, addr: int) -> str:
    """A guest path argument: EFAULT if unreadable, ENOENT if empty (as Linux)."""
    return _nonempty(k.cstr(addr))


def _nonempty(path: str) -> str:
    if not path:
        raise OSError(errno.ENOENT, "empty path")
    return path


def _whence(fd: int, v: int) -> int:
    """lseek's unsigned whence: EBADF for a bad fd first, then EINVAL past SEEK_HOLE."""
    whence = v & 0xFFFFFFFF
    if whence > 4:
        if fcntl.fcntl(_check_fd(fd), fcntl.F_GETFL) & os.O_PATH:
            raise OSError(errno.EBADF, "O_PATH fd")
        raise OSError(errno.EINVAL, "bad whence")
    return whence


def _writable(k: LinuxKernel, addr: int, size: int) -> bool:
    """Whether guest memory [addr, addr+size) is mapped writable."""
    end = addr + size
    for b, e, prot in sorted(k.m.uc.mem_regions()):
        if addr >= end:
            return True
        if e < addr:
            continue
        if b > addr or not prot & 2:  # a hole, or read-only
            return False
        addr = e + 1
    return addr >= end


def _check_writable(k: LinuxKernel, addr: int, size: int) -> None:
    """EFAULT unless the buffer is writable: checked before a read consumes input, which
    a failed copy would lose (qemu-user checks the same way)."""
    if not _writable(k, addr, size):
        raise OSError(errno.EFAULT, "bad address")


def _host_write(k: LinuxKernel, fd: int, data: bytes, offset: int | None = None) -> int:
    """Write to a host fd; a pipe without a reader raises SIGPIPE in the guest, as Linux.

    The host process ignores SIGPIPE (Python does), so the host call fails with EPIPE;
    the guest dies of the signal unless it ignores or catches SIGPIPE (then EPIPE).
    """
    try:
        return os.write(fd, data) if offset is None else os.pwrite(fd, data, offset)
    except BrokenPipeError:
        sigstate.raise_in_guest(k, 13)  # SIGPIPE (13 on every target)
        raise


@handles("read")
def sys_read(k: LinuxKernel, a: Args) -> int:
    fd, size = _fd(k, a[0]), min(a[2], MAX_IO)
    _check_writable(k, a[1], size)
    data = os.read(fd, size)
    k.write(a[1], data)
    return len(data)


@handles("write")
def sys_write(k: LinuxKernel, a: Args) -> int:
    return _host_write(k, _fd(k, a[0]), k.read(a[1], min(a[2], MAX_IO)))


def _pos(k: LinuxKernel, a: Args) -> int:
    """pread64/pwrite64's offset: one register on 64-bit, an aligned pair (a4, a5) on 32-bit."""
    return k.signed(a[3]) if k.m.arch.bits == 64 else _off64(k, a[4], a[5])


@handles("pread64")
def sys_pread(k: LinuxKernel, a: Args) -> int:
    fd, size = _fd(k, a[0]), min(a[2], MAX_IO)
    _check_writable(k, a[1], size)
    data = os.pread(fd, size, _pos(k, a))
    k.write(a[1], data)
    return len(data)


@handles("pwrite64")
def sys_pwrite(k: LinuxKernel, a: Args) -> int:
    return _host_write(k, _fd(k, a[0]), k.read(a[1], min(a[2], MAX_IO)), _pos(k, a))


def _off64(k: LinuxKernel, lo: int, hi: int) -> int:
    # 32-bit EABI/o32 pass 64-bit offsets in an aligned register pair (low word first, LE)
    v = (lo & 0xFFFFFFFF) | ((hi & 0xFFFFFFFF) << 32)
    return v - (1 << 64) if v >> 63 else v


def _iovecs(k: LinuxKernel, addr: int, count: int) -> list[tuple[int, int]]:
    if count > 1024:  # UIO_MAXIOV (a negative int count is huge here too)
        raise OSError(errno.EINVAL, "too many iovecs")
    words = k.get_words(addr, 2 * count) if count else ()
    iov = [(words[2 * i], words[2 * i + 1]) for i in range(count)]
    if sum(size for _, size in iov) >> (k.m.arch.bits - 1):  # the total must fit ssize_t
        raise OSError(errno.EINVAL, "iovec lengths overflow")
    return iov


@handles("writev")
def sys_writev(k: LinuxKernel, a: Args) -> int:
    """A bad buffer after the first ends the vector there (what gets written is what came
    before it); a bad first buffer is EFAULT."""
    parts = []
    for i, (base, size) in enumerate(_iovecs(k, a[1], a[2])):
        try:
            parts.append(k.read(base, min(size, MAX_IO)))
        except UcError:
            if i == 0:
                raise
            break
    return _host_write(k, _fd(k, a[0]), b"".join(parts))


@handles("readv")
def sys_readv(k: LinuxKernel, a: Args) -> int:
    total = 0
    iov = []
    for i, (base, size) in enumerate(_iovecs(k, a[1], a[2])):  # as writev: bad buffers
        size = min(size, MAX_IO)
        if size and not _writable(k, base, size):
            if i == 0:
                return -errno.EFAULT
            break
        iov.append((base, size))
    if not any(size for _, size in iov):  # nothing to read: only the fd is checked
        fd = _check_fd(_fd(k, a[0]))
        if fcntl.fcntl(fd, fcntl.F_GETFL) & (os.O_PATH | os.O_ACCMODE) in (os.O_WRONLY, os.O_PATH):
            return -errno.EBADF
        return 0
    for base, size in iov:
        if not size:
            continue
        data = os.read(_fd(k, a[0]), size)
        k.write(base, data)
        total += len(data)
        if len(data) < size:
            break
    return total


#: __O_TMPFILE (with O_DIRECTORY it makes O_TMPFILE): the same bit on all five targets
_O_TMPFILE_BIT = 0o20000000


def _host_open_flags(k: LinuxKernel, flags: int) -> int:
    """The host flags for guest open flags, refused (EINVAL) before the path is looked at
    where Linux refuses them; O_PATH keeps only the flags it can use, as Linux."""
    host = abi.open_flags_to_host(k.arch_name, flags)
    tmpfile = bool(flags & _O_TMPFILE_BIT)
    if host & os.O_PATH:
        return host & (os.O_DIRECTORY | os.O_NOFOLLOW | os.O_PATH | os.O_CLOEXEC)
    creat_dir = os.O_CREAT | os.O_DIRECTORY
    if host & creat_dir == creat_dir and not tmpfile:
        raise OSError(errno.EINVAL, "O_CREAT with O_DIRECTORY")
    if tmpfile:
        host |= os.O_TMPFILE
        if host & (os.O_TMPFILE | os.O_CREAT) != os.O_TMPFILE or not host & 3:
            raise OSError(errno.EINVAL, "O_TMPFILE needs O_DIRECTORY, write access, no O_CREAT")
    return host


def _open(k: LinuxKernel, dirfd: int, path_addr: int, flags: int, mode: int) -> int:
    path = _path(k, path_addr)
    emulated = procself.emulated_name(path)
    if emulated is not None:  # the guest's maps, cmdline... not qpp's (as qemu-user)
        return procself.open_emulated(k, emulated)
    host_flags = _host_open_flags(k, flags)
    follow = not host_flags & os.O_NOFOLLOW
    host = k.files.host_path(path, dirfd, follow=follow)
    fd = open_fifo(k, host, host_flags, mode & 0o7777)  # waits in its own thread
    if fd is None:
        fd = os.open(host, host_flags, mode & 0o7777)
    # Python makes every fd it opens close-on-exec (PEP 446); the guest asked for it or not
    os.set_inheritable(fd, not host_flags & os.O_CLOEXEC)
    return fd


@handles("open")
def sys_open(k: LinuxKernel, a: Args) -> int:
    return _open(k, AT_FDCWD, a[0], a[1], a[2])


@handles("creat")
def sys_creat(k: LinuxKernel, a: Args) -> int:
    return _open(k, AT_FDCWD, a[0], 0o1 | 0o100 | 0o1000, a[1])


@handles("openat")
def sys_openat(k: LinuxKernel, a: Args) -> int:
    path = k.cstr(a[1])
    _host_open_flags(k, a[2])  # EINVAL before the dirfd is looked at, as Linux
    return _open(k, _dirfd(k, a[0], path), a[1], a[2], a[3])


@handles("close")
def sys_close(k: LinuxKernel, a: Args) -> int:
    os.close(_fd(k, a[0]))
    return 0


@handles("lseek")
def sys_lseek(k: LinuxKernel, a: Args) -> int:
    fd = _fd(k, a[0])
    return os.lseek(fd, k.signed(a[1]), _whence(fd, a[2]))


@handles("_llseek")
def sys_llseek(k: LinuxKernel, a: Args) -> int:
    fd = _fd(k, a[0])
    pos = os.lseek(fd, _off64(k, a[2], a[1]), _whence(fd, a[4]))
    k.write(a[3], struct.pack("<q", pos))
    return 0


@handles("dup")
def sys_dup(k: LinuxKernel, a: Args) -> int:
    fd = os.dup(_fd(k, a[0]))
    os.set_inheritable(fd, True)  # dup clears close-on-exec (Python's os.dup sets it)
    return fd


@handles("dup2")
def sys_dup2(k: LinuxKernel, a: Args) -> int:
    fd, new = _fd(k, a[0]), _fd(k, a[1])
    if fd == new:
        os.fstat(fd)
        return new
    return os.dup2(fd, new, inheritable=True)


@handles("dup3")
def sys_dup3(k: LinuxKernel, a: Args) -> int:
    fd, new = _fd(k, a[0]), _fd(k, a[1])
    if a[2] & 0xFFFFFFFF & ~_guest_flag(k, "O_CLOEXEC"):
        return -errno.EINVAL
    if fd == new:
        return -errno.EINVAL
    cloexec = bool(abi.open_flags_to_host(k.arch_name, a[2]) & os.O_CLOEXEC)
    return os.dup2(fd, new, inheritable=not cloexec)


def _check_fd(fd: int) -> int:
    """EBADF for a negative fd (the fcntl module raises ValueError for those)."""
    if fd < 0:
        raise OSError(errno.EBADF, "bad fd")
    return fd


def _guest_flag(k: LinuxKernel, name: str) -> int:
    return abi.OPEN_FLAGS[k.arch_name][name]


@handles("fcntl", "fcntl64")
def sys_fcntl(k: LinuxKernel, a: Args) -> int:
    fd, cmd, arg = _fd(k, a[0]), a[1] & 0xFFFFFFFF, a[2]
    if fd < 0:
        return -errno.EBADF  # (the fcntl module refuses negative fds with ValueError)
    fcntl.fcntl(fd, fcntl.F_GETFD)  # EBADF before EINVAL, as Linux
    if cmd in (0, 1030):  # F_DUPFD, F_DUPFD_CLOEXEC: arg is the lowest new fd
        if arg >= resource.getrlimit(resource.RLIMIT_NOFILE)[0]:
            return -errno.EINVAL
        return fcntl.fcntl(fd, cmd, arg)
    if cmd == 1:  # F_GETFD
        return fcntl.fcntl(fd, cmd)
    if cmd == 2:  # F_SETFD (only FD_CLOEXEC means anything)
        return fcntl.fcntl(fd, cmd, arg & 1)
    if cmd == 3:  # F_GETFL
        return abi.open_flags_to_guest(k.arch_name, fcntl.fcntl(fd, cmd))
    if cmd == 4:  # F_SETFL
        return fcntl.fcntl(fd, cmd, abi.open_flags_to_host(k.arch_name, arg & 0xFFFFFFFF))
    wide_call = k.table.get(k.m.uc.reg_read(k.m.arch.syscall.number)) == "fcntl64"
    ret = lock_command(k, fd, cmd, arg, wide_call)  # record locks (may wait in its thread)
    return -errno.EINVAL if ret is None else ret


@handles("flock")
def sys_flock(k: LinuxKernel, a: Args) -> int:
    return flock(k, _fd(k, a[0]), a[1] & 0xFFFFFFFF)


def _pipe(k: LinuxKernel, addr: int, flags: int) -> int:
    allowed = sum(_guest_flag(k, f) for f in ("O_CLOEXEC", "O_NONBLOCK", "O_DIRECT"))
    if flags & 0xFFFFFFFF & ~allowed:
        return -errno.EINVAL
    _check_writable(k, addr, 8)
    r, w = os.pipe2(abi.open_flags_to_host(k.arch_name, flags) & (os.O_CLOEXEC | os.O_NONBLOCK))
    k.write(addr, struct.pack("<ii", r, w))
    return 0


@handles("pipe")
def sys_pipe(k: LinuxKernel, a: Args) -> int:
    second = k.m.arch.syscall.result2
    if second is not None:  # mips o32: the two fds come back in v0 and v1
        r, w = os.pipe()
        k.m.uc.reg_write(second, w)
        return r
    return _pipe(k, a[0], 0)


@handles("pipe2")
def sys_pipe2(k: LinuxKernel, a: Args) -> int:
    return _pipe(k, a[0], a[1])


@handles("ioctl")
def sys_ioctl(k: LinuxKernel, a: Args) -> int:
    fd, req = _fd(k, a[0]), a[1] & 0xFFFFFFFF
    if req == abi.TCGETS.get(k.arch_name, 0x5401):
        os.fstat(fd)
        if not os.isatty(fd):
            return -errno.ENOTTY
        raw = fcntl.ioctl(fd, 0x5401, bytes(60))
        k.write(a[2], raw[:36] if k.arch_name != "mipsel" else raw[:17] + raw[17:36] + bytes(4))
        return 0
    if req == abi.TIOCGWINSZ.get(k.arch_name, 0x5413):
        os.fstat(fd)
        if not os.isatty(fd):
            return -errno.ENOTTY
        k.write(a[2], fcntl.ioctl(fd, 0x5413, bytes(8)))
        return 0
    os.fstat(fd)
    return -errno.ENOTTY


# --- stat family ---------------------------------------------------------------------


def _stat_at(k: LinuxKernel, dirfd: int, path: str, flags: int) -> os.stat_result:
    if path == "" and flags & AT_EMPTY_PATH:
        return os.fstat(dirfd) if dirfd != AT_FDCWD else os.stat(os.getcwd())
    if path == "":
        raise OSError(errno.ENOENT, "empty path")
    follow = not flags & AT_SYMLINK_NOFOLLOW
    return os.stat(k.files.host_path(path, dirfd, follow=follow), follow_symlinks=follow)


def _put_stat(k: LinuxKernel, addr: int, st: os.stat_result) -> int:
    k.write(addr, pack(abi.STAT_LAYOUT[k.arch_name], stat_values(st)))
    return 0


@handles("fstat", "fstat64")
def sys_fstat(k: LinuxKernel, a: Args) -> int:
    return _put_stat(k, a[1], os.fstat(_fd(k, a[0])))


@handles("stat", "stat64")
def sys_stat(k: LinuxKernel, a: Args) -> int:
    return _put_stat(k, a[1], _stat_at(k, AT_FDCWD, _path(k, a[0]), 0))


@handles("lstat", "lstat64")
def sys_lstat(k: LinuxKernel, a: Args) -> int:
    return _put_stat(k, a[1], _stat_at(k, AT_FDCWD, _path(k, a[0]), AT_SYMLINK_NOFOLLOW))


@handles("newfstatat", "fstatat64")
def sys_fstatat(k: LinuxKernel, a: Args) -> int:
    path = k.cstr(a[1])  # read first (EFAULT), then the flags are checked
    if path == "" and a[3] & AT_EMPTY_PATH and _fd(k, a[0]) >= 0:  # an fstat, whatever
        return _put_stat(k, a[2], _stat_at(k, _fd(k, a[0]), path, AT_EMPTY_PATH))
    # AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE
    if a[3] & 0xFFFFFFFF & ~0x7900:
        return -errno.EINVAL
    return _put_stat(k, a[2], _stat_at(k, _dirfd(k, a[0], path), path, a[3]))


@handles("statx")
def sys_statx(k: LinuxKernel, a: Args) -> int:
    path = k.cstr(a[1])  # the path is read first (EFAULT), then the flags are checked
    flags, mask = a[2] & 0xFFFFFFFF, a[3] & 0xFFFFFFFF
    # AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE
    if flags & ~0x7900 or flags & 0x6000 == 0x6000 or mask & 0x80000000:
        return -errno.EINVAL
    st = _stat_at(k, _dirfd(k, a[0], path), path, flags)
    k.write(a[4], pack(abi.STATX, stat_values(st)))
    return 0


# --- names -----------------------------------------------------------------------------


@handles("readlink")
def sys_readlink(k: LinuxKernel, a: Args) -> int:
    return _readlink(k, AT_FDCWD, a[0], a[1], a[2])


@handles("readlinkat")
def sys_readlinkat(k: LinuxKernel, a: Args) -> int:
    return _readlink(k, _dirfd(k, a[0], k.cstr(a[1])), a[1], a[2], a[3])


def _readlink(k: LinuxKernel, dirfd: int, path_addr: int, buf: int, size: int) -> int:
    if not 0 < size & 0xFFFFFFFF < 1 << 31:  # an int bufsiz
        return -errno.EINVAL
    target = os.fsencode(k.files.readlink(_path(k, path_addr), dirfd))[:size]
    k.write(buf, target)
    return len(target)


@handles("getcwd")
def sys_getcwd(k: LinuxKernel, a: Args) -> int:
    cwd = os.fsencode(os.getcwd()) + b"\0"
    if len(cwd) > a[1]:
        return -errno.ERANGE
    k.write(a[0], cwd)
    return len(cwd)


@handles("chdir")
def sys_chdir(k: LinuxKernel, a: Args) -> int:
    os.chdir(k.files.host_path(_path(k, a[0])))
    return 0


@handles("fchdir")
def sys_fchdir(k: LinuxKernel, a: Args) -> int:
    fd = _fd(k, a[0])
    if fd < 0:
        return -errno.EBADF
    k.files.check_fd_dir(fd)
    os.fchdir(fd)
    return 0


@handles("unlink")
def sys_unlink(k: LinuxKernel, a: Args) -> int:
    os.unlink(k.files.host_path(_path(k, a[0]), follow=False))
    return 0


@handles("unlinkat")
def sys_unlinkat(k: LinuxKernel, a: Args) -> int:
    name = _path(k, a[1])
    path = k.files.host_path(name, _dirfd(k, a[0], name), follow=False)
    if a[2] & AT_REMOVEDIR:
        os.rmdir(path)
    else:
        os.unlink(path)
    return 0


@handles("rmdir")
def sys_rmdir(k: LinuxKernel, a: Args) -> int:
    os.rmdir(k.files.host_path(_path(k, a[0]), follow=False))
    return 0


@handles("mkdir")
def sys_mkdir(k: LinuxKernel, a: Args) -> int:
    os.mkdir(k.files.host_path(_path(k, a[0]), follow=False), a[1] & 0o7777)
    return 0


@handles("mkdirat")
def sys_mkdirat(k: LinuxKernel, a: Args) -> int:
    name = _path(k, a[1])
    os.mkdir(k.files.host_path(name, _dirfd(k, a[0], name), follow=False), a[2] & 0o7777)
    return 0


@handles("rename")
def sys_rename(k: LinuxKernel, a: Args) -> int:
    os.rename(
        k.files.host_path(_path(k, a[0]), follow=False),
        k.files.host_path(_path(k, a[1]), follow=False),
    )
    return 0


@handles("renameat", "renameat2")
def sys_renameat(k: LinuxKernel, a: Args) -> int:
    os.rename(
        k.files.host_path(old := _path(k, a[1]), _dirfd(k, a[0], old), follow=False),
        k.files.host_path(new := _path(k, a[3]), _dirfd(k, a[2], new), follow=False),
    )
    return 0


@handles("access")
def sys_access(k: LinuxKernel, a: Args) -> int:
    name = k.cstr(a[0])  # read first (EFAULT), as qemu-user does
    if a[1] & 0xFFFFFFFF & ~7:  # R_OK | W_OK | X_OK
        return -errno.EINVAL
    path = k.files.host_path(_nonempty(name))
    os.stat(path)  # a missing file is ENOENT (OSError -> -errno), not EACCES
    return 0 if os.access(path, a[1]) else -errno.EACCES


@handles("faccessat", "faccessat2")
def sys_faccessat(k: LinuxKernel, a: Args) -> int:
    name = k.cstr(a[1])
    if a[2] & 0xFFFFFFFF & ~7:
        return -errno.EINVAL
    path = k.files.host_path(_nonempty(name), _dirfd(k, a[0], name))
    os.stat(path)
    return 0 if os.access(path, a[2]) else -errno.EACCES


@handles("getdents64")
def sys_getdents64(k: LinuxKernel, a: Args) -> int:
    """Directory entries via the host's getdents64 layout (the same on every target)."""
    fd, buf, size = _fd(k, a[0]), a[1], a[2]
    # The host's record format equals the guest's for getdents64; let the host fill it.
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    host = ctypes.create_string_buffer(min(size, 1 << 16))
    while True:
        n = libc.syscall(217, fd, host, len(host))  # host x86_64 getdents64
        if n < 0:
            return -ctypes.get_errno()
        data = host.raw[:n]
        if n and RESERVED and PROC_FD_DIR.fullmatch(os.readlink(f"/proc/self/fd/{fd}")):
            data = _without_private_fds(data)
            if not data:
                continue  # a batch of qpp's fds only: the next one, or the end
        k.write(buf, data)
        return len(data)


def _without_private_fds(records: bytes) -> bytes:
    """getdents64 records of a /proc/PID/fd directory without qpp's own fds.

    Each record: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, the name. If every
    record of a batch is dropped, the caller reads the next batch.
    """
    kept = []
    at = 0
    while at < len(records):
        reclen = struct.unpack_from("<H", records, at + 16)[0]
        name = records[at + 19 : at + reclen].split(b"\0", 1)[0]
        if not (name.isdigit() and int(name) in RESERVED):
            kept.append(records[at : at + reclen])
        at += reclen
    return b"".join(kept)


@handles("ftruncate")
def sys_ftruncate(k: LinuxKernel, a: Args) -> int:
    os.ftruncate(_fd(k, a[0]), k.signed(a[1]))
    return 0


@handles("ftruncate64")
def sys_ftruncate64(k: LinuxKernel, a: Args) -> int:
    os.ftruncate(_fd(k, a[0]), _off64(k, a[2], a[3]))  # 32-bit: aligned register pair
    return 0


@handles("fsync", "fdatasync")
def sys_fsync(k: LinuxKernel, a: Args) -> int:
    fd = _fd(k, a[0])
    if fd < 0:
        return -errno.EBADF  # (os.fsync refuses negative fds with ValueError)
    os.fsync(fd)
    return 0


@handles("umask")
def sys_umask(k: LinuxKernel, a: Args) -> int:
    return os.umask(a[0] & 0o777)
