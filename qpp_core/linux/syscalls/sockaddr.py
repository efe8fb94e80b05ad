"""``getsockname`` and ``getpeername``: the host's answer for the guest's descriptor.

Guest descriptors are host descriptors, and a ``struct sockaddr`` has the same bytes on
every target qpp runs (all little-endian, ``sa_family`` first, ports and addresses in
network order), so the host fills it. What matters most is the answer for descriptors
that are not sockets: ENOTSOCK, as Linux. Shells ask it of their stdin (bash reads
``~/.bashrc`` when ``getpeername(0)`` does not fail with ENOTSOCK or EINVAL).
"""

from __future__ import annotations

import ctypes
import errno
import struct
from typing import TYPE_CHECKING

from .fs import _fd
from .hostlibc import libc as _libc
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

#: the largest sockaddr (struct sockaddr_storage)
SOCKADDR_MAX = 128


def _name(k: LinuxKernel, a: Args, call: str) -> int:
    fd, addr, len_addr = _fd(k, a[0]), a[1], a[2]
    (want,) = struct.unpack("<i", k.read(len_addr, 4))  # EFAULT on a bad pointer
    if want < 0:
        return -errno.EINVAL
    buf = ctypes.create_string_buffer(SOCKADDR_MAX)
    size = ctypes.c_uint32(SOCKADDR_MAX)
    if getattr(_libc(), call)(fd, buf, ctypes.byref(size)) < 0:
        return -ctypes.get_errno()
    k.write(addr, buf.raw[: min(want, size.value)])
    k.write(len_addr, struct.pack("<I", size.value))
    return 0


@handles("getsockname")
def sys_getsockname(k: LinuxKernel, a: Args) -> int:
    return _name(k, a, "getsockname")


@handles("getpeername")
def sys_getpeername(k: LinuxKernel, a: Args) -> int:
    return _name(k, a, "getpeername")
