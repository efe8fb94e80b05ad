"""``socketpair`` and ``shutdown``: a connected pair of host sockets for the guest.

Guest fds are host fds, so the pair is the host's (AF_UNIX, as Linux gives it), and
reading, writing, polling and epoll of it are the host's too. The socket type's number
differs on mips (SOCK_STREAM and SOCK_DGRAM swapped) and SOCK_NONBLOCK/SOCK_CLOEXEC are
the target's O_NONBLOCK/O_CLOEXEC (:mod:`.abi`); errors (EAFNOSUPPORT, EPROTONOSUPPORT,
EINVAL, EOPNOTSUPP, ENOTSOCK, ENOTCONN) are the host kernel's. The rest of the socket API
is not emulated yet.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from typing import TYPE_CHECKING

from ...machine.arch.base import UcError
from . import abi
from .fs import _fd
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

_libc = ctypes.CDLL(None, use_errno=True)
_HOST_SOCK_NONBLOCK = os.O_NONBLOCK
_HOST_SOCK_CLOEXEC = os.O_CLOEXEC


def _host_type(k: LinuxKernel, guest: int) -> int:
    flags = abi.OPEN_FLAGS[k.arch_name]
    nonblock, cloexec = flags["O_NONBLOCK"], flags["O_CLOEXEC"]
    kind = guest & ~(nonblock | cloexec)
    host = abi.SOCK_TYPES.get(k.arch_name, {}).get(kind, kind)
    if guest & nonblock:
        host |= _HOST_SOCK_NONBLOCK
    if guest & cloexec:
        host |= _HOST_SOCK_CLOEXEC
    return host


@handles("socketpair")
def sys_socketpair(k: LinuxKernel, a: Args) -> int:
    pair = (ctypes.c_int * 2)()
    host_type = _host_type(k, a[1] & 0xFFFFFFFF)
    if _libc.socketpair(a[0] & 0xFFFFFFFF, host_type, a[2] & 0xFFFFFFFF, pair) < 0:
        return -ctypes.get_errno()
    try:
        k.write(a[3], struct.pack("<ii", pair[0], pair[1]))
    except UcError:
        os.close(pair[0])
        os.close(pair[1])
        return -errno.EFAULT
    return 0


@handles("shutdown")
def sys_shutdown(k: LinuxKernel, a: Args) -> int:
    if _libc.shutdown(_fd(k, a[0]), a[1] & 0xFFFFFFFF) < 0:
        return -ctypes.get_errno()
    return 0
