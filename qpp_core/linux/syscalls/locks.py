"""File locks: ``fcntl``'s record locks (F_GETLK, F_SETLK, F_SETLKW, their 64-bit forms on
32-bit targets, and the open file description locks F_OFD_*), and ``flock``.

Guest processes are host processes and guest fds host fds, so the locks are the host
kernel's: conflicts between guest processes (and with host programs), F_GETLK's pid,
release at close or exit. Only ``struct flock`` is translated (:mod:`.abi`: 32-bit
``long`` offsets in ``struct flock`` on arm and mips, mips' l_sysid and padding, the
64-bit ``struct flock64`` of ``fcntl64``; mips numbers F_GETLK and the 64-bit commands
differently), with Linux's EOVERFLOW when a lock F_GETLK reports does not fit.

A call that waits (F_SETLKW, F_OFD_SETLKW, ``flock`` without LOCK_NB) waits on the host
while the guest has one thread: the host then also finds deadlocks between processes
(EDEADLK) and a host signal for a guest handler ends it. With other guest threads, only
the caller waits (:class:`~.futex.MustWait`): the call runs again whenever its
non-blocking form (F_SETLK, LOCK_NB) would succeed, asked at each thread switch and every
few milliseconds. Deadlocks are then not detected, and a waiter is not queued: a lock
freed and taken again at once by another process may be missed.
"""

from __future__ import annotations

import errno
import fcntl
import struct
from typing import TYPE_CHECKING

from ...machine.threads import Wait
from . import abi
from .futex import MustWait

if TYPE_CHECKING:
    from .kernel import LinuxKernel

HOST_GETLK, HOST_SETLK, HOST_SETLKW = 5, 6, 7
OFD_GETLK, OFD_SETLK, OFD_SETLKW = 36, 37, 38
#: the host's struct flock (x86_64, aarch64, riscv64 hosts): type, whence, start, len, pid
HOST_FLOCK = abi.FLOCK64
LOCK_NB = 4


def _blocks(k: LinuxKernel) -> bool:
    threads = k.m.threads
    return threads is not None and threads.count > 1


def _host_lock(fd: int, cmd: int, raw: bytes) -> bytes:
    result: bytes = fcntl.fcntl(fd, cmd, raw)
    return result


def lock_command(k: LinuxKernel, fd: int, cmd: int, arg: int, wide_call: bool) -> int | None:
    """fcntl's lock commands (None: ``cmd`` is not one). ``wide_call``: the call is fcntl64."""
    cmds = abi.LOCK_COMMANDS.get(k.arch_name, abi.LOCK_COMMANDS_GENERIC)
    if cmd in (OFD_GETLK, OFD_SETLK, OFD_SETLKW):
        host_cmd = cmd
        wide = wide_call or k.m.arch.bits == 64
    elif cmd in cmds:
        host_cmd, wide = cmds[cmd]
        if wide and not wide_call:
            return -errno.EINVAL  # the 64-bit commands are fcntl64's
        wide = wide or k.m.arch.bits == 64
    else:
        return None
    layout = HOST_FLOCK if wide else abi.FLOCK32[k.arch_name]
    size = struct.calcsize(layout)
    ltype, whence, start, length, pid = _fields(layout, k.read(arg, size))
    raw = struct.pack(HOST_FLOCK, ltype, whence, start, length, pid)
    if host_cmd in (HOST_GETLK, OFD_GETLK):
        got = struct.unpack(HOST_FLOCK, _host_lock(fd, host_cmd, raw))
        if not wide and not all(-(1 << 31) <= v < 1 << 31 for v in got[2:4]):
            return -errno.EOVERFLOW
        k.write(arg, _pack(layout, got))
        return 0
    blocking = host_cmd in (HOST_SETLKW, OFD_SETLKW)
    if blocking and _blocks(k):
        try_cmd = HOST_SETLK if host_cmd == HOST_SETLKW else OFD_SETLK
        try:
            _host_lock(fd, try_cmd, raw)
            return 0
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise

        def free() -> bool:
            try:
                _host_lock(fd, try_cmd, raw)  # taken: the call runs again and has it
            except OSError as e:
                return e.errno not in (errno.EAGAIN, errno.EACCES)
            return True

        raise MustWait(Wait(f"lock of fd {fd}", poll=free, retry=True))
    _host_lock(fd, host_cmd, raw)
    return 0


def _fields(layout: str, raw: bytes) -> tuple[int, int, int, int, int]:
    """type, whence, start, len, pid of a struct flock in ``layout``."""
    values = struct.unpack(layout, raw)
    ltype, whence, start, length = values[:4]
    pid = values[-1]
    return ltype, whence, start, length, pid


def _pack(layout: str, got: tuple[int, ...]) -> bytes:
    ltype, whence, start, length, pid = got
    n = len(struct.unpack(layout, bytes(struct.calcsize(layout))))
    extra = (0,) * (n - 5)  # mips' l_sysid, before l_pid
    return struct.pack(layout, ltype, whence, start, length, *extra, pid)


def flock(k: LinuxKernel, fd: int, op: int) -> int:
    """``flock(fd, op)``: LOCK_SH, LOCK_EX, LOCK_UN, with LOCK_NB (the same everywhere)."""
    if op & LOCK_NB or not _blocks(k) or op & 8:  # LOCK_UN never waits
        fcntl.flock(fd, op)
        return 0
    try:
        fcntl.flock(fd, op | LOCK_NB)
        return 0
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
            raise

    def free() -> bool:
        try:
            fcntl.flock(fd, op | LOCK_NB)
        except OSError as e:
            return e.errno not in (errno.EAGAIN, errno.EWOULDBLOCK)
        return True

    raise MustWait(Wait(f"flock of fd {fd}", poll=free, retry=True))
