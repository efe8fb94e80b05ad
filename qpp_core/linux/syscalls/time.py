"""Time syscalls: clocks from the host, sleeps as real sleeps; 32-bit and time64 layouts."""

from __future__ import annotations

import errno
import struct
import time
from typing import TYPE_CHECKING

from ...machine.arch.base import UcError
from .cint import c_int
from .delivery import signal_waiting
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

_CLOCKS = {
    0: time.CLOCK_REALTIME,
    1: time.CLOCK_MONOTONIC,
    4: time.CLOCK_MONOTONIC_RAW,
    2: time.CLOCK_PROCESS_CPUTIME_ID,
    3: time.CLOCK_THREAD_CPUTIME_ID,
    5: 5,
    6: 6,
    7: 7,
    8: 8,
    9: 9,
    11: time.CLOCK_TAI,
}
#: clocks Linux cannot sleep on: the thread's CPU clock, MONOTONIC_RAW, the coarse ones
_NO_SLEEP = {3: errno.EOPNOTSUPP, 4: errno.EOPNOTSUPP, 5: errno.EOPNOTSUPP, 6: errno.EOPNOTSUPP}


def _put_timespec(k: LinuxKernel, addr: int, ns: int, wide: bool) -> None:
    sec, nsec = divmod(ns, 1_000_000_000)
    if wide or k.m.arch.bits == 64:
        k.write(addr, struct.pack("<qq", sec, nsec))
    else:
        k.write(addr, struct.pack("<ii", sec & 0x7FFFFFFF, nsec))


def _get_timespec(k: LinuxKernel, addr: int, wide: bool) -> float:
    if wide or k.m.arch.bits == 64:
        sec, nsec = struct.unpack("<qq", k.read(addr, 16))
    else:
        sec, nsec = struct.unpack("<ii", k.read(addr, 8))
    if nsec < 0 or nsec >= 1_000_000_000 or sec < 0:
        raise OSError(errno.EINVAL, "bad timespec")
    return float(sec + nsec / 1e9)


def _clock(k: LinuxKernel, clk: int) -> int:
    clk = c_int(clk)
    if clk not in _CLOCKS:
        raise OSError(errno.EINVAL, "bad clock")
    return time.clock_gettime_ns(_CLOCKS[clk])


@handles("clock_gettime")
def sys_clock_gettime(k: LinuxKernel, a: Args) -> int:
    _put_timespec(k, a[1], _clock(k, a[0]), wide=False)
    return 0


@handles("clock_gettime64")
def sys_clock_gettime64(k: LinuxKernel, a: Args) -> int:
    _put_timespec(k, a[1], _clock(k, a[0]), wide=True)
    return 0


def _getres(k: LinuxKernel, a: Args, wide: bool) -> int:
    clk = c_int(a[0])
    if clk not in _CLOCKS:
        return -errno.EINVAL
    if a[1]:
        res = time.clock_getres(_CLOCKS[clk])
        _put_timespec(k, a[1], max(1, round(res * 1e9)), wide=wide)
    return 0


@handles("clock_getres")
def sys_clock_getres(k: LinuxKernel, a: Args) -> int:
    return _getres(k, a, wide=False)


@handles("clock_getres_time64")
def sys_clock_getres_time64(k: LinuxKernel, a: Args) -> int:
    return _getres(k, a, wide=True)


@handles("gettimeofday")
def sys_gettimeofday(k: LinuxKernel, a: Args) -> int:
    if a[0]:
        sec, ns = divmod(time.time_ns(), 1_000_000_000)
        k.put_words(a[0], sec, ns // 1000)
    if a[1]:
        k.write(a[1], bytes(8))
    return 0


@handles("time")
def sys_time(k: LinuxKernel, a: Args) -> int:
    now = int(time.time())
    if a[0]:
        k.put_words(a[0], now)
    return now


#: the longest single host sleep; longer guest sleeps are a loop of these
_MAX_SLEEP = 86400.0


#: a sleep looks this often whether a signal came for a guest handler
_SIGNAL_SLICE = 0.02


def _sleep(k: LinuxKernel, seconds: float) -> None:
    """Sleep as long as the guest asked, however long (time.sleep overflows past ~2^63 ns);
    a signal the guest handles ends it with EINTR, as in Linux."""
    end = time.monotonic() + seconds
    while seconds > 0:
        time.sleep(min(seconds, _MAX_SLEEP, _SIGNAL_SLICE))
        if signal_waiting(k):
            raise OSError(errno.EINTR, "a signal came")
        seconds = end - time.monotonic()


def _put_left(k: LinuxKernel, rem: int, seconds: float, wide: bool) -> int:
    """A sleep a signal handler ended: write the time left to ``rem`` (if given), as Linux
    does; EINTR, or EFAULT when ``rem`` cannot be written."""
    if rem:
        try:
            _put_timespec(k, rem, max(0, round(seconds * 1e9)), wide)
        except UcError:
            return -errno.EFAULT
    return -errno.EINTR


def _interruptible(k: LinuxKernel, seconds: float, rem: int, wide: bool) -> int:
    """Sleep ``seconds``; 0, or -EINTR with the time left written to ``rem``."""
    end = time.monotonic() + seconds
    try:
        _sleep(k, seconds)
    except OSError as e:
        if e.errno != errno.EINTR:
            raise
        return _put_left(k, rem, end - time.monotonic(), wide)
    return 0


def _clock_nanosleep_wide(k: LinuxKernel, name: str | None) -> bool:
    return k.m.arch.bits == 32 and name == "clock_nanosleep_time64"


def sleep_interrupted(
    k: LinuxKernel, name: str | None, a: Args, deadline: float | None
) -> int | None:
    """A thread's sleep a signal ended while the others ran: write the time left as the
    call's own handler does alone (the result, or None: not a relative sleep)."""
    if deadline is None:
        return None
    if name == "nanosleep":
        return _put_left(k, a[1], deadline - time.monotonic(), wide=False)
    if name in ("clock_nanosleep", "clock_nanosleep_time64") and not a[1] & 1:
        return _put_left(k, a[3], deadline - time.monotonic(), _clock_nanosleep_wide(k, name))
    return None


@handles("nanosleep")
def sys_nanosleep(k: LinuxKernel, a: Args) -> int:
    return _interruptible(k, _get_timespec(k, a[0], wide=False), a[1], wide=False)


@handles("clock_nanosleep", "clock_nanosleep_time64")
def sys_clock_nanosleep(k: LinuxKernel, a: Args) -> int:
    """The time left is written only for a relative sleep (not TIMER_ABSTIME), as Linux."""
    wide = _clock_nanosleep_wide(k, k.table.get(k.m.uc.reg_read(k.m.arch.syscall.number)))
    if c_int(a[0]) in _NO_SLEEP:
        return -_NO_SLEEP[c_int(a[0])]
    now = _clock(k, a[0])  # EINVAL for an unknown clock, before the timespec is read
    t = _get_timespec(k, a[2], wide)
    if a[1] & 1:  # TIMER_ABSTIME
        t = max(0.0, t - now / 1e9)
        _sleep(k, t)
        return 0
    return _interruptible(k, t, a[3], wide)
