"""poll, ppoll, select, _newselect, pselect6: host-backed waits on the guest's fds.

Guest fds are host fds, so each call becomes one host ``poll(2)`` over the same fds (via
:mod:`select`), with the guest's timeout: NULL waits forever, zero only polls. Results are
written back in the guest's layout (``struct pollfd`` is the same everywhere; an
``fd_set`` is an array of the target's longs, so a 32-bit target reads and writes it in
4-byte words). Checks and their order follow Linux: EFAULT for unreadable arguments,
EINVAL for bad timeouts, sizes and counts, EBADF for a closed fd in a select set.

The signal mask of ppoll/pselect6 is checked (size, readable) but not applied.

With other guest threads, a call that would wait makes only its thread wait (the others
run; :class:`~.futex.MustWait`): it runs again, with the time left, when an fd is ready
or the time is up.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import select
import struct
import time
from typing import TYPE_CHECKING

from ...machine.arch.base import UcError
from ...machine.threads import Wait
from . import sigstate
from .cint import c_int
from .delivery import signal_waiting
from .futex import MustWait
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND = 0x40, 0x80, 0x100, 0x200

#: event bits whose guest value differs from the host's: (guest bit, host bit); mips
#: defines POLLWRNORM as POLLOUT and POLLWRBAND as 0x100
_EVENT_BITS: dict[str, tuple[tuple[int, int], ...]] = {
    "mipsel": ((0x4, POLLOUT | POLLWRNORM), (0x100, POLLWRBAND)),
}

#: what makes an fd readable, writable or exceptional for select (as the kernel's
#: POLLIN_SET, POLLOUT_SET and POLLEX_SET)
_READ_SET = POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR
_WRITE_SET = POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR
_EXCEPT_SET = POLLPRI

#: the longest single host wait; longer guest timeouts are a loop of these
_MAX_WAIT_MS = 86_400_000.0
#: a blocked poll looks this often whether a signal came for a guest handler
SIGNAL_SLICE_MS = 20.0


def _events_to_host(arch: str, ev: int) -> int:
    pairs = _EVENT_BITS.get(arch)
    if not pairs:
        return ev
    out = ev & ~sum(g for g, _ in pairs)
    for g, h in pairs:
        if ev & g:
            out |= h
    return out


def _events_to_guest(arch: str, ev: int) -> int:
    pairs = _EVENT_BITS.get(arch)
    if not pairs:
        return ev
    out = ev & ~(POLLOUT | POLLWRNORM | POLLWRBAND)
    for g, h in pairs:
        if ev & h:
            out |= g
    return out


def _wait(k: LinuxKernel, fds: dict[int, int], timeout: float | None) -> dict[int, int]:
    """Host poll over ``fds`` (fd -> host events); ``timeout`` in seconds, None = forever.

    Returns fd -> host revents for the fds that are ready (POLLNVAL for closed ones). A
    signal the guest handles ends the wait with EINTR, as in Linux (looked at every slice).
    """
    poller = select.poll()
    for fd, ev in fds.items():
        poller.register(fd, ev)
    deadline = None if timeout is None else time.monotonic() + timeout
    threads = k.m.threads
    if threads is not None and threads.count > 1 and timeout != 0:
        ready = poller.poll(0)
        if ready:
            return dict(ready)
        if signal_waiting(k):
            raise OSError(errno.EINTR, "a signal came")
        what = f"poll of fds {', '.join(map(str, sorted(fds)))}" if fds else "poll of no fd"
        raise MustWait(Wait(what, poll=lambda: bool(poller.poll(0)), deadline=deadline, retry=True))
    while True:
        if deadline is None:
            wait_ms = SIGNAL_SLICE_MS
        else:
            wait_ms = min(max(0.0, deadline - time.monotonic()) * 1000.0, SIGNAL_SLICE_MS)
        ready = poller.poll(wait_ms)
        if not ready and signal_waiting(k):
            raise OSError(errno.EINTR, "a signal came")
        if ready or (deadline is not None and time.monotonic() >= deadline):
            return dict(ready)


def _timespec(k: LinuxKernel, addr: int, wide: bool) -> float | None:
    """A guest timespec as seconds (None for NULL); EFAULT and EINVAL as Linux."""
    if not addr:
        return None
    if wide or k.m.arch.bits == 64:
        sec, nsec = struct.unpack("<qq", k.read(addr, 16))
    else:
        sec, nsec = struct.unpack("<ii", k.read(addr, 8))
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        raise OSError(errno.EINVAL, "bad timespec")
    return float(sec + nsec / 1e9)


def _put_remaining(k: LinuxKernel, addr: int, seconds: float, wide: bool, micro: bool) -> None:
    """Write the time left back, as Linux does for ppoll/select/pselect6 (failures ignored)."""
    ns = max(0, round(seconds * 1e9))
    sec, sub = divmod(ns, 1_000_000_000)
    if micro:
        sub //= 1000
    fmt, top = ("<qq", (1 << 63) - 1) if wide or k.m.arch.bits == 64 else ("<ii", (1 << 31) - 1)
    with contextlib.suppress(UcError):  # Linux ignores a failed write-back too
        k.write(addr, struct.pack(fmt, min(sec, top), sub))


def _check_sigmask(k: LinuxKernel, mask: int, size: int) -> None:
    if mask:
        if size != sigstate.SIG_ABI[k.arch_name].sigset_size:
            raise OSError(errno.EINVAL, "bad sigset size")
        k.read(mask, size)


def _left(k: LinuxKernel, timeout: float | None) -> float | None:
    """The call's timeout, or what is left of it when it runs again after its thread
    waited while other threads ran."""
    resumed = k.resumed_deadline
    if resumed is not None:
        return max(0.0, resumed - time.monotonic())
    return timeout


def _nofile() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- poll ------------------------------------------------------------------------------


def _poll(k: LinuxKernel, addr: int, nfds: int, timeout: float | None) -> int:
    if nfds > _nofile():
        return -errno.EINVAL
    raw = k.read(addr, 8 * nfds)
    entries = [struct.unpack_from("<ihh", raw, 8 * i) for i in range(nfds)]
    wanted: dict[int, int] = {}
    for fd, events, _ in entries:
        if fd >= 0:
            wanted[fd] = wanted.get(fd, 0) | _events_to_host(k.arch_name, events & 0xFFFF)
    ready = _wait(k, wanted, timeout) if wanted or timeout != 0 else {}
    out = bytearray(raw)
    count = 0
    for i, (fd, events, _) in enumerate(entries):
        rev = 0
        if fd >= 0:
            host = ready.get(fd, 0)
            mine = _events_to_host(k.arch_name, events & 0xFFFF) | POLLERR | POLLHUP | POLLNVAL
            rev = _events_to_guest(k.arch_name, host & mine)
        struct.pack_into("<h", out, 8 * i + 6, rev - 0x10000 if rev & 0x8000 else rev)
        count += rev != 0
    k.write(addr, bytes(out))
    return count


@handles("poll")
def sys_poll(k: LinuxKernel, a: Args) -> int:
    ms = c_int(a[2])
    return _poll(k, a[0], a[1] & 0xFFFFFFFF, _left(k, None if ms < 0 else ms / 1000.0))


def _ppoll(k: LinuxKernel, a: Args, wide: bool) -> int:
    timeout = _left(k, _timespec(k, a[2], wide))
    _check_sigmask(k, a[3], a[4])
    start = time.monotonic()
    ret = _poll(k, a[0], a[1] & 0xFFFFFFFF, timeout)
    if timeout is not None:
        _put_remaining(k, a[2], timeout - (time.monotonic() - start), wide, micro=False)
    return ret


@handles("ppoll")
def sys_ppoll(k: LinuxKernel, a: Args) -> int:
    return _ppoll(k, a, wide=False)


@handles("ppoll_time64")
def sys_ppoll_time64(k: LinuxKernel, a: Args) -> int:
    return _ppoll(k, a, wide=True)


# --- select ----------------------------------------------------------------------------


def _select(k: LinuxKernel, a: Args, timeout: float | None) -> int:
    n = c_int(a[0])
    if n < 0:
        return -errno.EINVAL
    n = min(n, _fd_table_size())  # as the kernel: bits past its fd table are not read
    bits = k.m.arch.bits
    nbytes = (n + bits - 1) // bits * (bits // 8)
    sets = [int.from_bytes(k.read(p, nbytes), "little") if p else 0 for p in a[1:4]]
    sets = [s & ((1 << n) - 1) for s in sets]
    masks = (_READ_SET, _WRITE_SET, _EXCEPT_SET)
    wanted: dict[int, int] = {}
    for s, ev in zip(sets, masks, strict=True):
        fd = 0
        while s:
            if s & 1:
                wanted[fd] = wanted.get(fd, 0) | (ev & ~(POLLHUP | POLLERR))
            s >>= 1
            fd += 1
    for fd in list(wanted):
        try:
            os.fstat(fd)  # EBADF for a closed fd, before any wait
        except OSError:
            if fd < _fd_table_size():
                raise
            del wanted[fd]  # beyond the kernel's fd table: select never looks there
    ready = _wait(k, wanted, timeout) if wanted or timeout != 0 else {}
    count = 0
    for i, (p, s, ev) in enumerate(zip(a[1:4], sets, masks, strict=True)):
        result = 0
        for fd, rev in ready.items():
            if s >> fd & 1 and rev & ev:
                result |= 1 << fd
                count += 1
        if p:
            k.write(p, result.to_bytes(nbytes, "little"))
        sets[i] = result
    return count


def _fd_table_size() -> int:
    """The size of this process's kernel fd table, which select clamps nfds to.

    Linux starts a table at 64 fds and grows it to a power of two times 128 (64-bit
    host) to hold the highest fd ever opened; estimated from the fds open now.
    """
    top = max((int(n) for n in os.listdir("/proc/self/fd")), default=0)
    if top < 64:
        return 64
    size = 1
    while size < top // 128 + 1:
        size *= 2
    return 128 * size


def _timeval(k: LinuxKernel, addr: int) -> float | None:
    if not addr:
        return None
    sec, usec = k.get_words(addr, 2)
    sec, usec = k.signed(sec), k.signed(usec)
    if sec < 0 or not 0 <= usec < 1_000_000:
        raise OSError(errno.EINVAL, "bad timeval")
    return sec + usec / 1e6


@handles("select", "_newselect")
def sys_select(k: LinuxKernel, a: Args) -> int:
    timeout = _left(k, _timeval(k, a[4]))
    start = time.monotonic()
    ret = _select(k, a, timeout)
    if timeout is not None:
        _put_remaining(k, a[4], timeout - (time.monotonic() - start), False, micro=True)
    return ret


def _pselect6(k: LinuxKernel, a: Args, wide: bool) -> int:
    timeout = _left(k, _timespec(k, a[4], wide))
    if a[5]:  # {const sigset_t *ss; size_t ss_len}
        ss, ss_len = k.get_words(a[5], 2)
        _check_sigmask(k, ss, ss_len)
    start = time.monotonic()
    ret = _select(k, a, timeout)
    if timeout is not None:
        _put_remaining(k, a[4], timeout - (time.monotonic() - start), wide, micro=False)
    return ret


@handles("pselect6")
def sys_pselect6(k: LinuxKernel, a: Args) -> int:
    return _pselect6(k, a, wide=False)


@handles("pselect6_time64")
def sys_pselect6_time64(k: LinuxKernel, a: Args) -> int:
    return _pselect6(k, a, wide=True)
