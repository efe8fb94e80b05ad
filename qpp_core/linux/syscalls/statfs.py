"""File-system statistics: ``statfs``, ``fstatfs`` and the 32-bit targets' ``statfs64``,
``fstatfs64`` (``df``, ``stat -f``, ``statvfs``).

The host's ``struct statfs`` is read with the C library's ``statfs``/``fstatfs`` (Python's
``os.statvfs`` has no file-system type or mount flags) and written in the guest's layout
(:data:`.abi.STATFS`: mips orders the fields its own way). A 32-bit ``statfs`` whose counts
do not fit 32 bits is EOVERFLOW, as Linux answers it (``statfs64`` then gives them).
"""

from __future__ import annotations

import errno
import os
import struct
from typing import TYPE_CHECKING

from . import abi
from .fs import _fd, _path
from .hostlibc import call
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

#: the host's struct statfs (64-bit Linux: x86_64, aarch64...), in generic field order
_HOST_FORMAT = "@lqQQQQQiilll4l"
_HOST_FIELDS = abi.STATFS["x86_64"][1]


def _host_statfs(target: str | int) -> dict[str, int]:
    """The host's statfs of a path or an fd, by field name."""
    import ctypes  # only here: it costs start-up

    buf = ctypes.create_string_buffer(struct.calcsize(_HOST_FORMAT))
    if isinstance(target, int):
        call("fstatfs", target, buf)
    else:
        call("statfs", os.fsencode(target), buf)
    return dict(zip(_HOST_FIELDS, struct.unpack(_HOST_FORMAT, buf.raw), strict=True))


def _pack(layout: tuple[str, list[str]], st: dict[str, int], bits: int) -> bytes:
    fmt, fields = layout
    if bits == 32:
        counts = ("blocks", "bfree", "bavail", "bsize", "frsize")
        if any(st[f] >> 32 for f in counts) or any(
            st[f] >> 32 and st[f] != (1 << 64) - 1 for f in ("files", "ffree")
        ):
            raise OSError(errno.EOVERFLOW, "statfs counts beyond 32 bits")
    values = []
    for name, code in zip(fields, _expand(fmt), strict=True):
        v = 0 if name == "x" else st[name]
        bits_of = 32 if code in "Ii" else 64
        v &= (1 << bits_of) - 1
        if code in "iq" and v >> (bits_of - 1):
            v -= 1 << bits_of
        values.append(v)
    return struct.pack(fmt, *values)


def _expand(fmt: str) -> list[str]:
    """The format's codes one per field ("4I" is four "I"; pad bytes are no field)."""
    out: list[str] = []
    count = ""
    for c in fmt.lstrip("<@"):
        if c.isdigit():
            count += c
            continue
        if c != "x":
            out += [c] * int(count or "1")
        count = ""
    return out


def _statfs(k: LinuxKernel, target: str | int, buf: int, wide: bool) -> int:
    st = _host_statfs(target)
    layout = abi.STATFS64[k.arch_name] if wide else abi.STATFS[k.arch_name]
    k.write(buf, _pack(layout, st, 64 if wide else k.m.arch.bits))
    return 0


def _path_target(k: LinuxKernel, addr: int) -> str:
    return k.files.host_path(_path(k, addr))


def _fd_target(k: LinuxKernel, v: int) -> int:
    fd = _fd(k, v)
    os.fstat(fd)  # EBADF as Python sees it, before the C call
    return fd


def _size_ok(k: LinuxKernel, size: int) -> bool:
    return (size & 0xFFFFFFFF) in abi.STATFS64_SIZES.get(k.arch_name, ())


@handles("statfs")
def sys_statfs(k: LinuxKernel, a: Args) -> int:
    return _statfs(k, _path_target(k, a[0]), a[1], wide=False)


@handles("fstatfs")
def sys_fstatfs(k: LinuxKernel, a: Args) -> int:
    return _statfs(k, _fd_target(k, a[0]), a[1], wide=False)


@handles("statfs64")
def sys_statfs64(k: LinuxKernel, a: Args) -> int:
    if not _size_ok(k, a[1]):
        return -errno.EINVAL
    return _statfs(k, _path_target(k, a[0]), a[2], wide=True)


@handles("fstatfs64")
def sys_fstatfs64(k: LinuxKernel, a: Args) -> int:
    if not _size_ok(k, a[1]):
        return -errno.EINVAL
    return _statfs(k, _fd_target(k, a[0]), a[2], wide=True)
