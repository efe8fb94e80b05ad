"""epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.

Guest fds are host fds, so a guest epoll fd is a host epoll instance, made by the host's
``epoll_create1`` and driven by the host's ``epoll_ctl``/``epoll_wait`` (through ctypes:
Python's ``select.epoll`` keeps no ``data`` of its own, and the guest's u64 must come
back as it was given). The host kernel then keeps each registration's events and data,
edge-triggered and one-shot state, EPOLLEXCLUSIVE wake-ups, the removal of a
registration when its file's last fd closes, the sharing of an instance across fork and
dup, and ``/proc/self/fd``'s ``anon_inode:[eventpoll]``. Only the layout of
``struct epoll_event`` is translated (packed on x86_64, aligned elsewhere: :mod:`.abi`);
the event bits are the same on every target (mips included: epoll does not mangle them
as poll does), and ``EPOLL_CLOEXEC`` is the target's ``O_CLOEXEC``.

A wait blocks as ``poll`` does: alone, in slices that look for a signal the guest handles
(EINTR, never restarted, as Linux); with other guest threads, only its own thread waits
(:class:`~.futex.MustWait`), on the epoll fd's readability (an epoll fd is readable when
events are ready), and runs again with the time left. ``epoll_pwait``/``epoll_pwait2``
apply their signal mask for the wait as ``rt_sigsuspend`` does: a handler that ends the
wait runs with it and the frame restores the caller's; an ordinary return restores the
caller's mask at once, so a signal it blocks stays pending.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
import time
from typing import TYPE_CHECKING

from ...machine.hostsig import GuestCallInterrupted
from ...machine.threads import Wait
from . import abi, sigstate, thread_signals
from .cint import c_int
from .delivery import signal_waiting
from .fs import _fd
from .futex import MustWait
from .poll import SIGNAL_SLICE_MS, _left
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD = 1, 2, 3
HOST_EPOLL_CLOEXEC = 0o2000000  # the host's O_CLOEXEC (x86_64, aarch64, riscv64 hosts)
#: Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event)
_INT_MAX = (1 << 31) - 1
#: the most events one host epoll_wait fills (a guest asking for more gets them in turns)
_HOST_BATCH = 1024

_libc = ctypes.CDLL(None, use_errno=True)
_HOST_FORMAT = abi.epoll_event_format(platform.machine())
_HOST_SIZE = struct.calcsize(_HOST_FORMAT)


def _host_call(result: int) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, errno.errorcode.get(err, "host epoll"))
    return result


def _create(k: LinuxKernel, cloexec: bool) -> int:
    return _host_call(_libc.epoll_create1(HOST_EPOLL_CLOEXEC if cloexec else 0))


@handles("epoll_create")
def sys_epoll_create(k: LinuxKernel, a: Args) -> int:
    if c_int(a[0]) <= 0:
        return -errno.EINVAL
    return _create(k, cloexec=False)


@handles("epoll_create1")
def sys_epoll_create1(k: LinuxKernel, a: Args) -> int:
    cloexec = abi.OPEN_FLAGS[k.arch_name]["O_CLOEXEC"]
    flags = a[0] & 0xFFFFFFFF
    if flags & ~cloexec:
        return -errno.EINVAL
    return _create(k, cloexec=bool(flags & cloexec))


@handles("epoll_ctl")
def sys_epoll_ctl(k: LinuxKernel, a: Args) -> int:
    epfd, op, fd = _fd(k, a[0]), c_int(a[1]), _fd(k, a[2])
    guest_fmt = abi.epoll_event_format(k.arch_name)
    event = ctypes.create_string_buffer(_HOST_SIZE)
    if op != EPOLL_CTL_DEL:  # Linux reads the event first: EFAULT before EBADF
        events, data = struct.unpack(guest_fmt, k.read(a[3], struct.calcsize(guest_fmt)))
        struct.pack_into(_HOST_FORMAT, event, 0, events, data)
    return _host_call(_libc.epoll_ctl(epfd, op, fd, event))


def _host_wait(epfd: int, maxevents: int, timeout_ms: int) -> list[tuple[int, int]]:
    """One host epoll_wait: (events, data) of the ready registrations (EINTR: none). The
    host answers EBADF for a closed fd and EINVAL for one that is not an epoll fd."""
    n = min(maxevents, _HOST_BATCH)
    buf = ctypes.create_string_buffer(n * _HOST_SIZE)
    got = _libc.epoll_wait(epfd, buf, n, timeout_ms)
    if got < 0:
        err = ctypes.get_errno()
        if err == errno.EINTR:
            return []
        raise OSError(err, errno.errorcode.get(err, "host epoll_wait"))
    return [struct.unpack_from(_HOST_FORMAT, buf, i * _HOST_SIZE) for i in range(got)]


def _wait(k: LinuxKernel, a: Args, timeout: float | None) -> int:
    """epoll_wait's work once the mask is in place: ``timeout`` in seconds (None: forever)."""
    epfd, buf, maxevents = _fd(k, a[0]), a[1], c_int(a[2])
    guest_fmt = abi.epoll_event_format(k.arch_name)
    size = struct.calcsize(guest_fmt)
    if maxevents <= 0 or maxevents > _INT_MAX // size:
        return -errno.EINVAL
    timeout = _left(k, timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    threads = k.m.threads
    while True:
        if deadline is None:
            slice_ms = int(SIGNAL_SLICE_MS)
        else:
            left_ms = max(0.0, deadline - time.monotonic()) * 1000.0
            slice_ms = int(min(left_ms + 0.999, SIGNAL_SLICE_MS))  # never less than asked
        alone = threads is None or threads.count < 2
        ready = _host_wait(epfd, maxevents, slice_ms if alone else 0)
        if ready:
            out = b"".join(struct.pack(guest_fmt, ev, data) for ev, data in ready)
            k.write(buf, out)
            return len(ready)
        expired = deadline is not None and time.monotonic() >= deadline
        if expired:
            return 0
        if signal_waiting(k):
            return -errno.EINTR
        if not alone:
            raise MustWait(
                Wait(f"epoll_wait of fd {epfd}", read_fd=epfd, deadline=deadline, retry=True)
            )


def _with_mask(k: LinuxKernel, a: Args, mask_addr: int, size: int, timeout: float | None) -> int:
    """Wait with the signal mask at ``mask_addr`` in place (none: 0), as epoll_pwait."""
    own = thread_signals.of(k)
    sst = sigstate.state(k)
    if mask_addr:
        if size != sigstate.SIG_ABI[k.arch_name].sigset_size:
            return -errno.EINVAL
        mask = k.read(mask_addr, size)
        if own.suspended_mask is None:  # not when the call runs again after its wait
            own.suspended_mask = sst.mask or bytes(size)
        sst.mask = mask
    try:
        ret = _wait(k, a, timeout)
    except (MustWait, GuestCallInterrupted):
        raise  # the mask stays while the thread waits, or for the handler that ends it
    except BaseException:
        _restore(k)
        raise
    if ret != -errno.EINTR:
        _restore(k)  # an ordinary return: the caller's mask, before any handler runs
    return ret


def _restore(k: LinuxKernel) -> None:
    own = thread_signals.of(k)
    if own.suspended_mask is not None:
        sigstate.state(k).mask, own.suspended_mask = own.suspended_mask, None


def _ms(v: int) -> float | None:
    ms = c_int(v)
    return None if ms < 0 else ms / 1000.0


@handles("epoll_wait")
def sys_epoll_wait(k: LinuxKernel, a: Args) -> int:
    return _with_mask(k, a, 0, 0, _ms(a[3]))


@handles("epoll_pwait")
def sys_epoll_pwait(k: LinuxKernel, a: Args) -> int:
    return _with_mask(k, a, a[4], a[5], _ms(a[3]))


@handles("epoll_pwait2")
def sys_epoll_pwait2(k: LinuxKernel, a: Args) -> int:
    """The timeout is a struct __kernel_timespec (64-bit fields on every target)."""
    timeout = None
    if a[3]:
        sec, nsec = struct.unpack("<qq", k.read(a[3], 16))
        if sec < 0 or not 0 <= nsec < 1_000_000_000:
            return -errno.EINVAL
        timeout = sec + nsec / 1e9
    return _with_mask(k, a, a[4], a[5], timeout)
