"""Interval timers: ``alarm``, ``setitimer`` and ``getitimer``, on the host's own timers.

Guest processes are host processes, so the host kernel keeps the timers (not inherited by
a forked child, kept across execve, as Linux does) and raises SIGALRM, SIGVTALRM or SIGPROF
in qpp when one expires; qpp hands the signal to the guest (:mod:`qpp_core.machine.hostsig`):
its handler runs, or its default action ends the guest (status 142 for SIGALRM). The
virtual and profiling timers count qpp's CPU time, which is the guest's as near as qpp can.
"""

from __future__ import annotations

import errno
import signal
import struct
from typing import TYPE_CHECKING

from .cint import c_int
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

_WHICH = {0: signal.ITIMER_REAL, 1: signal.ITIMER_VIRTUAL, 2: signal.ITIMER_PROF}


def _timeval_pair(k: LinuxKernel, addr: int) -> tuple[float, float]:
    """``struct itimerval`` (interval, value) from guest memory, in seconds."""
    w = k.m.arch.word
    fmt = "<qqqq" if w == 8 else "<iiii"
    i_sec, i_usec, v_sec, v_usec = struct.unpack(fmt, k.read(addr, 4 * w))
    if not (0 <= i_usec < 1_000_000 and 0 <= v_usec < 1_000_000) or i_sec < 0 or v_sec < 0:
        raise OSError(errno.EINVAL, "bad itimerval")
    return i_sec + i_usec / 1e6, v_sec + v_usec / 1e6


def _put_timeval_pair(k: LinuxKernel, addr: int, interval: float, value: float) -> None:
    w = k.m.arch.word

    def split(t: float) -> tuple[int, int]:
        usec = round(t * 1e6)
        return usec // 1_000_000, usec % 1_000_000

    fmt = "<qqqq" if w == 8 else "<iiii"
    k.write(addr, struct.pack(fmt, *split(interval), *split(value)))


@handles("setitimer")
def sys_setitimer(k: LinuxKernel, a: Args) -> int:
    which = _WHICH.get(c_int(a[0]))
    if which is None:
        return -errno.EINVAL
    interval, value = _timeval_pair(k, a[1]) if a[1] else (0.0, 0.0)
    old_value, old_interval = signal.setitimer(which, value, interval)
    if a[2]:
        _put_timeval_pair(k, a[2], old_interval, old_value)
    if value:
        _runs(k, which)
    return 0


def _runs(k: LinuxKernel, which: int) -> None:
    """Host timer ``which`` is armed: its signal stops the engine at a block start (a
    hook that looks for the stop request exists while the timer runs).

    A periodic timer stays armed even when the host reports no time left: between an
    expiry and its reload the value reads 0, and taking the hook away then would leave the
    timer's signals to stop the engine from outside, which can skip a ``syscall``.
    """
    k.m.block_stop.add_source(f"itimer {which}", lambda: any(signal.getitimer(which)), k.m.uc)


@handles("getitimer")
def sys_getitimer(k: LinuxKernel, a: Args) -> int:
    which = _WHICH.get(c_int(a[0]))
    if which is None:
        return -errno.EINVAL
    value, interval = signal.getitimer(which)
    _put_timeval_pair(k, a[1], interval, value)
    return 0


@handles("alarm")
def sys_alarm(k: LinuxKernel, a: Args) -> int:
    seconds = a[0] & 0xFFFFFFFF
    old_value, _interval = signal.setitimer(signal.ITIMER_REAL, float(seconds), 0.0)
    if seconds:
        _runs(k, signal.ITIMER_REAL)
    # what was left, rounded as Linux rounds it (half a second up; never 0 if one was set)
    left = int(old_value)
    if old_value % 1 >= 0.5 or (left == 0 and old_value > 0):
        left += 1
    return left
