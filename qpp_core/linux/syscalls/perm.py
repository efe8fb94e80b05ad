"""Permission and ownership syscalls: the chmod and chown families, on the host.

``fchmod`` here replaces the one in :mod:`.fs` (imported earlier): a negative fd is
EBADF, where ``os.fchmod`` raises ValueError.

Paths go through the FileView like every path syscall (``-L`` sysroot, ``--jail``); the
``l`` variants and ``AT_SYMLINK_NOFOLLOW`` act on a symbolic link itself. A uid or gid of
-1 leaves that id unchanged. arm's chown, lchown and fchown are the kernel's ``*chown16``
(16-bit ids, 0xffff means -1: ``abi.CHOWN_ID_BITS``); glibc uses the ``*chown32`` calls.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from . import fs as _fs
from .abi import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, CHOWN_ID_BITS
from .cint import c_int
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel


def _id(v: int, bits: int = 32) -> int:
    """A uid_t/gid_t argument as os.chown wants it (all ones: -1, unchanged)."""
    mask = (1 << bits) - 1
    v &= mask
    return -1 if v == mask else v


def _fd(k: LinuxKernel, v: int) -> int:
    """An fd argument (qpp's own are EBADF); a negative one is EBADF too (Python's os
    functions raise ValueError)."""
    fd = _fs._fd(k, c_int(v))
    if fd < 0:
        raise OSError(errno.EBADF, "bad file descriptor")
    return fd


def _dirfd(k: LinuxKernel, v: int) -> int:
    fd = c_int(v)
    if fd != AT_FDCWD:
        k.files.check_fd_dir(_fd(k, fd))
    return fd


def _mode(v: int) -> int:
    return v & 0o7777


@handles("chmod")
def sys_chmod(k: LinuxKernel, a: Args) -> int:
    os.chmod(k.files.host_path(k.cstr(a[0])), _mode(a[1]))
    return 0


@handles("fchmod")
def sys_fchmod(k: LinuxKernel, a: Args) -> int:
    os.fchmod(_fd(k, a[0]), _mode(a[1]))
    return 0


@handles("fchmodat")
def sys_fchmodat(k: LinuxKernel, a: Args) -> int:
    """fchmodat(dirfd, path, mode): the syscall has no flags argument (glibc's has)."""
    os.chmod(k.files.host_path(k.cstr(a[1]), _dirfd(k, a[0])), _mode(a[2]))
    return 0


def _chown(k: LinuxKernel, a: Args, follow: bool, bits: int = 32) -> int:
    path = k.files.host_path(k.cstr(a[0]), follow=follow)
    os.chown(path, _id(a[1], bits), _id(a[2], bits), follow_symlinks=follow)
    return 0


@handles("chown")
def sys_chown(k: LinuxKernel, a: Args) -> int:
    return _chown(k, a, follow=True, bits=CHOWN_ID_BITS.get(k.arch_name, 32))


@handles("lchown")
def sys_lchown(k: LinuxKernel, a: Args) -> int:
    return _chown(k, a, follow=False, bits=CHOWN_ID_BITS.get(k.arch_name, 32))


@handles("fchown")
def sys_fchown(k: LinuxKernel, a: Args) -> int:
    bits = CHOWN_ID_BITS.get(k.arch_name, 32)
    os.fchown(_fd(k, a[0]), _id(a[1], bits), _id(a[2], bits))
    return 0


@handles("chown32")
def sys_chown32(k: LinuxKernel, a: Args) -> int:
    return _chown(k, a, follow=True)


@handles("lchown32")
def sys_lchown32(k: LinuxKernel, a: Args) -> int:
    return _chown(k, a, follow=False)


@handles("fchown32")
def sys_fchown32(k: LinuxKernel, a: Args) -> int:
    os.fchown(_fd(k, a[0]), _id(a[1]), _id(a[2]))
    return 0


@handles("fchownat")
def sys_fchownat(k: LinuxKernel, a: Args) -> int:
    """fchownat(dirfd, path, uid, gid, flags): NOFOLLOW and EMPTY_PATH (the fd itself)."""
    path, flags = k.cstr(a[1]), a[4]
    uid, gid = _id(a[2]), _id(a[3])
    if not path and flags & AT_EMPTY_PATH:
        os.fchown(_fd(k, a[0]), uid, gid)
        return 0
    follow = not flags & AT_SYMLINK_NOFOLLOW
    host = k.files.host_path(path, _dirfd(k, a[0]), follow=follow)
    os.chown(host, uid, gid, follow_symlinks=follow)
    return 0
