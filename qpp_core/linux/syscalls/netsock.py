"""The socket API: ``socket``, ``bind``, ``connect``, ``listen``, ``accept``/``accept4``,
``send``/``sendto``/``recv``/``recvfrom``, ``sendmsg``/``recvmsg`` and the socket options.

Guest descriptors are host sockets, as under qemu-user: every call is the host C
library's, through ctypes, so addresses, errors and blocking are the host kernel's. A
``struct sockaddr`` has the same bytes on every target qpp runs (little-endian, the family
first, ports and addresses in network order) and goes through as it is, except an
``AF_UNIX`` path under ``--jail`` or ``-L``, which is looked up like any path (a jailed
guest cannot reach a host socket outside the jail). What differs per target is in
:mod:`.abi`: mips' socket types, ``SOL_SOCKET`` and option numbers; ``struct msghdr``,
``struct cmsghdr`` and the old ``SO_RCVTIMEO``/``SO_SNDTIMEO`` timeval have the guest's
word size. A send on a socket whose peer is gone raises SIGPIPE in the guest (unless
``MSG_NOSIGNAL``), as a write does. With other guest threads, a thread whose ``accept``,
``recv`` or ``send`` would block waits while the others run; ``connect`` blocks them all.
"""

from __future__ import annotations

import ctypes
import errno
import struct
from typing import TYPE_CHECKING, Any

from . import abi, sigstate
from .anonfd import _fd_flags
from .cint import c_int
from .fs import MAX_IO, _fd
from .hostlibc import call as _call
from .registry import Args, handles
from .sockets import _host_type

if TYPE_CHECKING:
    from .kernel import LinuxKernel

SOCKADDR_MAX = 128
AF_UNIX = 1
SOL_SOCKET = 1
SO_TYPE, SO_ERROR, SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD = 3, 4, 20, 21
MSG_NOSIGNAL = 0x4000
SCM_MAX = 1 << 16  # the control data qpp moves in one call


def _sockaddr(k: LinuxKernel, addr: int, size: int) -> bytes:
    """The guest's sockaddr; an AF_UNIX path through the file view under a jail or -L."""
    if size < 0 or size > SOCKADDR_MAX:
        raise OSError(errno.EINVAL, "bad address length")
    raw = k.read(addr, size)
    files = k.files
    if len(raw) > 2 and raw[0] == AF_UNIX and raw[2] != 0 and (files.jail or files.sysroot):
        path = raw[2:].split(b"\0", 1)[0].decode(errors="surrogateescape")
        host = files.host_path(path).encode(errors="surrogateescape")
        if len(host) >= 108:
            raise OSError(errno.ENAMETOOLONG, "socket path too long on the host")
        raw = raw[:2] + host + b"\0"
    return raw


def _put_sockaddr(k: LinuxKernel, addr: int, len_addr: int, raw: bytes, size: int) -> None:
    """Write a returned address as the kernel does: at most the guest's room, and the
    whole length in ``*len_addr``."""
    if not addr or not len_addr:
        return
    (room,) = struct.unpack("<i", k.read(len_addr, 4))
    k.write(addr, raw[: max(0, min(room, size))])
    k.write(len_addr, struct.pack("<i", size))


def _room(k: LinuxKernel, len_addr: int) -> None:
    if len_addr:
        (room,) = struct.unpack("<i", k.read(len_addr, 4))
        if room < 0:
            raise OSError(errno.EINVAL, "negative address length")


@handles("socket")
def sys_socket(k: LinuxKernel, a: Args) -> int:
    return _call("socket", c_int(a[0]), _host_type(k, a[1] & 0xFFFFFFFF), c_int(a[2]))


@handles("bind", "connect")
def sys_bind_connect(k: LinuxKernel, a: Args) -> int:
    fd = _fd(k, a[0])
    raw = _sockaddr(k, a[1], c_int(a[2]))
    return _call(k.running_call or "bind", fd, raw, len(raw))


@handles("listen")
def sys_listen(k: LinuxKernel, a: Args) -> int:
    return _call("listen", _fd(k, a[0]), c_int(a[1]))


def _accept(k: LinuxKernel, a: Args, flags: int) -> int:
    fd = _fd(k, a[0])
    host_flags, _cloexec = _fd_flags(k, flags)  # SOCK_NONBLOCK/SOCK_CLOEXEC: EINVAL else
    _room(k, a[2])
    buf = ctypes.create_string_buffer(SOCKADDR_MAX)
    size = ctypes.c_uint32(SOCKADDR_MAX)
    new = _call("accept4", fd, buf, ctypes.byref(size), host_flags)
    _put_sockaddr(k, a[1], a[2], buf.raw, size.value)
    return new


@handles("accept")
def sys_accept(k: LinuxKernel, a: Args) -> int:
    return _accept(k, a, 0)


@handles("accept4")
def sys_accept4(k: LinuxKernel, a: Args) -> int:
    return _accept(k, a, a[3] & 0xFFFFFFFF)


def _sent(k: LinuxKernel, name: str, flags: int, *args: Any) -> int:
    try:
        return _call(name, *args)
    except OSError as e:
        if e.errno == errno.EPIPE and not flags & MSG_NOSIGNAL:
            sigstate.raise_in_guest(k, 13)  # SIGPIPE (13 on every target)
        raise


@handles("sendto")
def sys_sendto(k: LinuxKernel, a: Args) -> int:
    fd, data, flags = _fd(k, a[0]), k.read(a[1], min(a[2], MAX_IO)), a[3] & 0xFFFFFFFF
    raw = _sockaddr(k, a[4], c_int(a[5])) if a[4] else None
    size = ctypes.c_size_t(len(data))
    return _sent(k, "sendto", flags, fd, data, size, flags, raw, len(raw) if raw else 0)


@handles("send")
def sys_send(k: LinuxKernel, a: Args) -> int:
    fd, data, flags = _fd(k, a[0]), k.read(a[1], min(a[2], MAX_IO)), a[3] & 0xFFFFFFFF
    return _sent(k, "sendto", flags, fd, data, ctypes.c_size_t(len(data)), flags, None, 0)


@handles("recvfrom")
def sys_recvfrom(k: LinuxKernel, a: Args) -> int:
    fd, size, flags = _fd(k, a[0]), min(a[2], MAX_IO), a[3] & 0xFFFFFFFF
    _room(k, a[5] if a[4] else 0)
    buf = ctypes.create_string_buffer(max(size, 1))
    name = ctypes.create_string_buffer(SOCKADDR_MAX)
    name_size = ctypes.c_uint32(SOCKADDR_MAX)
    n = _call("recvfrom", fd, buf, ctypes.c_size_t(size), flags, name, ctypes.byref(name_size))
    k.write(a[1], buf.raw[: min(n, size)])  # MSG_TRUNC: n may be the datagram's size
    if a[4]:
        _put_sockaddr(k, a[4], a[5], name.raw, name_size.value)
    return n


@handles("recv")
def sys_recv(k: LinuxKernel, a: Args) -> int:
    return sys_recvfrom(k, (a[0], a[1], a[2], a[3], 0, 0))


# --- socket options --------------------------------------------------------------------------


def _option(k: LinuxKernel, level: int, name: int) -> tuple[int, int]:
    """The host's (level, optname) for the guest's."""
    if level == abi.SOL_SOCKET.get(k.arch_name, SOL_SOCKET):
        return SOL_SOCKET, abi.SOCKET_OPTIONS.get(k.arch_name, {}).get(name, name)
    return level, name


def _narrow_timeval(k: LinuxKernel, level: int, name: int) -> bool:
    """The old SO_RCVTIMEO/SO_SNDTIMEO take the guest's struct timeval (two longs)."""
    return (
        k.m.arch.bits == 32 and level == SOL_SOCKET and name in (SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD)
    )


@handles("setsockopt")
def sys_setsockopt(k: LinuxKernel, a: Args) -> int:
    fd = _fd(k, a[0])
    level, name = _option(k, c_int(a[1]), c_int(a[2]))
    size = c_int(a[4])
    if size < 0:
        return -errno.EINVAL
    value = k.read(a[3], min(size, SCM_MAX)) if a[3] else b""
    if _narrow_timeval(k, level, name) and len(value) >= 8:
        value = struct.pack("<qq", *struct.unpack("<ii", value[:8]))
    return _call("setsockopt", fd, level, name, value or None, len(value))


@handles("getsockopt")
def sys_getsockopt(k: LinuxKernel, a: Args) -> int:
    fd = _fd(k, a[0])
    level, name = _option(k, c_int(a[1]), c_int(a[2]))
    (room,) = struct.unpack("<i", k.read(a[4], 4))
    if room < 0:
        return -errno.EINVAL
    buf = ctypes.create_string_buffer(max(room, 16) if room else 16)
    size = ctypes.c_uint32(len(buf))
    _call("getsockopt", fd, level, name, buf, ctypes.byref(size))
    value = buf.raw[: size.value]
    if level == SOL_SOCKET and name == SO_TYPE and len(value) >= 4:
        host_type = struct.unpack("<i", value[:4])[0]
        back = {h: g for g, h in abi.SOCK_TYPES.get(k.arch_name, {}).items()}
        value = struct.pack("<i", back.get(host_type, host_type))
    elif level == SOL_SOCKET and name == SO_ERROR and len(value) >= 4:
        value = struct.pack("<i", abi.guest_errno(k.arch_name, struct.unpack("<i", value[:4])[0]))
    elif _narrow_timeval(k, level, name) and len(value) >= 16:
        sec, usec = struct.unpack("<qq", value[:16])
        value = struct.pack("<ii", sec, usec)
    k.write(a[3], value[:room])
    k.write(a[4], struct.pack("<i", min(room, len(value))))
    return 0


# --- sendmsg, recvmsg --------------------------------------------------------------------------


class _MsgHdr(ctypes.Structure):
    _fields_ = (
        ("name", ctypes.c_void_p),
        ("namelen", ctypes.c_uint32),
        ("iov", ctypes.c_void_p),
        ("iovlen", ctypes.c_size_t),
        ("control", ctypes.c_void_p),
        ("controllen", ctypes.c_size_t),
        ("flags", ctypes.c_int),
    )


class _IoVec(ctypes.Structure):
    _fields_ = (("base", ctypes.c_void_p), ("len", ctypes.c_size_t))


def _guest_msghdr(k: LinuxKernel, addr: int) -> tuple[int, int, int, int, int, int, int]:
    """struct msghdr in guest words: name, namelen, iov, iovlen, control, controllen, flags."""
    if k.m.arch.bits == 64:
        return struct.unpack("<QI4xQQQQi4x", k.read(addr, 56))
    return struct.unpack("<IIIIIIi", k.read(addr, 28))


def _cmsgs_in(k: LinuxKernel, raw: bytes) -> bytes:
    """The guest's control messages as the host's (64-bit headers, 8-byte alignment)."""
    word = k.m.arch.word
    head = struct.Struct("<Qii" if word == 8 else "<Iii")
    sol = abi.SOL_SOCKET.get(k.arch_name, SOL_SOCKET)
    out = b""
    at = 0
    while at + head.size <= len(raw):
        length, level, kind = head.unpack_from(raw, at)
        if length < head.size or at + length > len(raw):
            raise OSError(errno.EINVAL, "bad control message")
        data = raw[at + head.size : at + length]
        level = SOL_SOCKET if level == sol else level
        out += struct.pack("<Qii", 16 + len(data), level, kind) + data
        out += bytes(-len(out) % 8)
        at += (length + word - 1) & ~(word - 1)
    return out


def _cmsgs_out(k: LinuxKernel, raw: bytes) -> bytes:
    """The host's control messages in the guest's layout."""
    word = k.m.arch.word
    fmt = "<Qii" if word == 8 else "<Iii"
    size = struct.calcsize(fmt)
    sol = abi.SOL_SOCKET.get(k.arch_name, SOL_SOCKET)
    out = b""
    at = 0
    while at + 16 <= len(raw):
        length, level, kind = struct.unpack_from("<Qii", raw, at)
        if length < 16:
            break
        data = raw[at + 16 : at + length]
        out += struct.pack(fmt, size + len(data), sol if level == SOL_SOCKET else level, kind)
        out += data + bytes(-(size + len(data)) % word)
        at += (length + 7) & ~7
    return out


def _iovecs(k: LinuxKernel, addr: int, count: int) -> list[tuple[int, int]]:
    if count > 1024:
        raise OSError(errno.EMSGSIZE, "too many iovecs")
    words = k.get_words(addr, 2 * count) if count else ()
    return [(words[2 * i], min(words[2 * i + 1], MAX_IO)) for i in range(count)]


@handles("sendmsg")
def sys_sendmsg(k: LinuxKernel, a: Args) -> int:
    fd, flags = _fd(k, a[0]), a[2] & 0xFFFFFFFF
    name, namelen, iov, iovlen, control, controllen, _ = _guest_msghdr(k, a[1])
    data = b"".join(k.read(base, size) for base, size in _iovecs(k, iov, iovlen))
    raw_name = _sockaddr(k, name, namelen) if name else b""
    cmsg = _cmsgs_in(k, k.read(control, min(controllen, SCM_MAX))) if control else b""
    keep = [ctypes.create_string_buffer(data, len(data) or 1)]
    vec = _IoVec(ctypes.addressof(keep[0]), len(data))
    name_buf = ctypes.create_string_buffer(raw_name, len(raw_name) or 1)
    cmsg_buf = ctypes.create_string_buffer(cmsg, len(cmsg) or 1)
    hdr = _MsgHdr(
        ctypes.addressof(name_buf) if raw_name else None,
        len(raw_name),
        ctypes.addressof(vec),
        1,
        ctypes.addressof(cmsg_buf) if cmsg else None,
        len(cmsg),
        0,
    )
    return _sent(k, "sendmsg", flags, fd, ctypes.byref(hdr), flags)


@handles("recvmsg")
def sys_recvmsg(k: LinuxKernel, a: Args) -> int:
    fd, flags = _fd(k, a[0]), a[2] & 0xFFFFFFFF
    name, namelen, iov, iovlen, control, controllen, _ = _guest_msghdr(k, a[1])
    vecs = _iovecs(k, iov, iovlen)
    total = sum(size for _, size in vecs)
    buf = ctypes.create_string_buffer(max(total, 1))
    vec = _IoVec(ctypes.addressof(buf), total)
    name_buf = ctypes.create_string_buffer(SOCKADDR_MAX)
    # room for the host's wider headers: each guest header may grow by 8 bytes
    room = min(controllen * 2 + 64, SCM_MAX) if control else 0
    cmsg_buf = ctypes.create_string_buffer(max(room, 1))
    hdr = _MsgHdr(
        ctypes.addressof(name_buf),
        SOCKADDR_MAX,
        ctypes.addressof(vec),
        1,
        ctypes.addressof(cmsg_buf) if room else None,
        room,
        0,
    )
    n = _call("recvmsg", fd, ctypes.byref(hdr), flags)
    got, at = buf.raw[: min(n, total)], 0
    for base, size in vecs:
        if at >= len(got):
            break
        k.write(base, got[at : at + size])
        at += size
    out_flags = hdr.flags
    cmsg = _cmsgs_out(k, cmsg_buf.raw[: hdr.controllen]) if room else b""
    if len(cmsg) > controllen:
        cmsg, out_flags = cmsg[:controllen], out_flags | 0x8  # MSG_CTRUNC
    if control:
        k.write(control, cmsg)
    name_size = hdr.namelen if name else 0
    if name:
        k.write(name, name_buf.raw[: min(namelen, name_size)])
    word = k.m.arch.word
    fields = (name_size, len(cmsg), out_flags)
    if word == 8:
        k.write(a[1] + 8, struct.pack("<I", fields[0]))
        k.write(a[1] + 40, struct.pack("<Qi", fields[1], fields[2]))
    else:
        k.write(a[1] + 4, struct.pack("<I", fields[0]))
        k.write(a[1] + 20, struct.pack("<Ii", fields[1], fields[2]))
    return n
