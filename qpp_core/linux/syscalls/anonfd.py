"""Descriptors of kernel objects without a path: ``eventfd``, ``memfd_create`` and the
``timerfd`` calls; and copies between descriptors: ``sendfile``, ``copy_file_range``.

Each object is the host's (guest fds are host fds, as under qemu-user), so ``read``,
``write``, ``poll``, ``epoll`` and ``mmap`` work on it as on any descriptor, and a thread
blocked reading one waits while the others run. Their ``*_CLOEXEC``/``*_NONBLOCK`` flags
are the guest's open flags (mips numbers O_NONBLOCK its own way).
"""

from __future__ import annotations

import errno
import os
import struct
from typing import TYPE_CHECKING

from . import abi, sigstate
from .fs import MAX_IO, _fd
from .hostlibc import call
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

EFD_SEMAPHORE = 1
MFD_FLAGS = 0x1 | 0x2 | 0x4 | 0x8 | 0x10  # CLOEXEC ALLOW_SEALING HUGETLB NOEXEC_SEAL EXEC
TFD_TIMER_ABSTIME = 1
TFD_TIMER_CANCEL_ON_SET = 2


def _fd_flags(k: LinuxKernel, flags: int, extra: int = 0) -> tuple[int, bool]:
    """Guest O_CLOEXEC/O_NONBLOCK (and ``extra`` bits kept as they are) as host bits, and
    whether the new fd is close-on-exec; EINVAL for any other bit."""
    table = abi.OPEN_FLAGS[k.arch_name]
    cloexec, nonblock = table["O_CLOEXEC"], table["O_NONBLOCK"]
    if flags & ~(cloexec | nonblock | extra):
        raise OSError(errno.EINVAL, "unknown flags")
    host = (os.O_CLOEXEC if flags & cloexec else 0) | (os.O_NONBLOCK if flags & nonblock else 0)
    return host | (flags & extra), bool(flags & cloexec)


def _owned(fd: int, cloexec: bool) -> int:
    os.set_inheritable(fd, not cloexec)  # (Python makes its new fds close-on-exec)
    return fd


# --- eventfd, memfd --------------------------------------------------------------------------


@handles("eventfd2")
def sys_eventfd2(k: LinuxKernel, a: Args) -> int:
    host, cloexec = _fd_flags(k, a[1] & 0xFFFFFFFF, EFD_SEMAPHORE)
    return _owned(os.eventfd(a[0] & 0xFFFFFFFF, host), cloexec)


@handles("eventfd")
def sys_eventfd(k: LinuxKernel, a: Args) -> int:
    return _owned(os.eventfd(a[0] & 0xFFFFFFFF, 0), False)


@handles("memfd_create")
def sys_memfd_create(k: LinuxKernel, a: Args) -> int:
    flags = a[1] & 0xFFFFFFFF
    if flags & ~MFD_FLAGS:
        return -errno.EINVAL
    name = k.cstr(a[0], limit=250)
    if len(os.fsencode(name)) > 249:  # NAME_MAX minus "memfd:"
        return -errno.EINVAL
    return _owned(os.memfd_create(name, flags), bool(flags & 1))


# --- timerfd ---------------------------------------------------------------------------------


def _wide(k: LinuxKernel) -> bool:
    return k.m.arch.bits == 64 or (k.running_call or "").endswith("64")


def _get_itimerspec(k: LinuxKernel, addr: int, wide: bool) -> bytes:
    """A guest itimerspec as the host's (four 64-bit words)."""
    fmt, size = ("<qqqq", 32) if wide else ("<iiii", 16)
    return struct.pack("<qqqq", *struct.unpack(fmt, k.read(addr, size)))


def _put_itimerspec(k: LinuxKernel, addr: int, host: bytes, wide: bool) -> None:
    values = struct.unpack("<qqqq", host)
    k.write(addr, struct.pack("<qqqq" if wide else "<iiii", *values))


@handles("timerfd_create")
def sys_timerfd_create(k: LinuxKernel, a: Args) -> int:
    host, cloexec = _fd_flags(k, a[1] & 0xFFFFFFFF)
    return _owned(call("timerfd_create", a[0] & 0xFFFFFFFF, host), cloexec)


@handles("timerfd_settime", "timerfd_settime64")
def sys_timerfd_settime(k: LinuxKernel, a: Args) -> int:
    import ctypes

    fd, flags, wide = _fd(k, a[0]), a[1] & 0xFFFFFFFF, _wide(k)
    if flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET):
        return -errno.EINVAL
    new = ctypes.create_string_buffer(_get_itimerspec(k, a[2], wide), 32)
    old = ctypes.create_string_buffer(32)
    call("timerfd_settime", fd, flags, new, old if a[3] else None)
    if a[3]:
        _put_itimerspec(k, a[3], old.raw, wide)
    return 0


@handles("timerfd_gettime", "timerfd_gettime64")
def sys_timerfd_gettime(k: LinuxKernel, a: Args) -> int:
    import ctypes

    cur = ctypes.create_string_buffer(32)
    call("timerfd_gettime", _fd(k, a[0]), cur)
    _put_itimerspec(k, a[1], cur.raw, _wide(k))
    return 0


# --- copies between descriptors --------------------------------------------------------------


def _sendfile(k: LinuxKernel, a: Args, offset_bytes: int) -> int:
    """Copy up to ``a[3]`` bytes from ``a[1]`` to ``a[0]``; with an offset pointer, from
    that offset (the file's own position stays) and the pointer is moved on. A pipe
    without a reader raises SIGPIPE in the guest, as a write does."""
    out_fd, in_fd, count = _fd(k, a[0]), _fd(k, a[1]), min(a[3], MAX_IO)
    fmt = "<q" if offset_bytes == 8 else "<i"
    offset = None
    if a[2]:
        (offset,) = struct.unpack(fmt, k.read(a[2], offset_bytes))
        if offset < 0:
            return -errno.EINVAL
    try:
        n = os.sendfile(out_fd, in_fd, offset, count)
    except BrokenPipeError:
        sigstate.raise_in_guest(k, 13)  # SIGPIPE (13 on every target)
        raise
    if offset is not None:
        k.write(a[2], struct.pack(fmt, offset + n))
    return n


@handles("sendfile")
def sys_sendfile(k: LinuxKernel, a: Args) -> int:
    return _sendfile(k, a, k.m.arch.word)


@handles("sendfile64")
def sys_sendfile64(k: LinuxKernel, a: Args) -> int:
    return _sendfile(k, a, 8)


@handles("copy_file_range")
def sys_copy_file_range(k: LinuxKernel, a: Args) -> int:
    if a[5] & 0xFFFFFFFF:
        return -errno.EINVAL  # no flags are defined
    src, dst, count = _fd(k, a[0]), _fd(k, a[2]), min(a[4], MAX_IO)
    off_in = struct.unpack("<q", k.read(a[1], 8))[0] if a[1] else None
    off_out = struct.unpack("<q", k.read(a[3], 8))[0] if a[3] else None
    n = os.copy_file_range(src, dst, count, off_in, off_out)
    if a[1] and off_in is not None:
        k.write(a[1], struct.pack("<q", off_in + n))
    if a[3] and off_out is not None:
        k.write(a[3], struct.pack("<q", off_out + n))
    return n
