"""POSIX timers: ``timer_create`` (SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID), ``timer_settime``,
``timer_gettime``, ``timer_getoverrun``, ``timer_delete``.

Python has no host POSIX timers, so each armed timer is a small host thread that sleeps
until the expiry and then sends the guest its signal with the timer's siginfo (SI_TIMER,
the timer id, the overrun count and the ``sigev_value`` the guest chose): the handler runs
at the next block boundary or system call end, or the default action ends the guest. A
``SIGEV_THREAD_ID`` timer's signal is for its thread alone (C libraries build
``SIGEV_THREAD`` timers on it: a helper thread waits for the signal). Like
Linux's, the timers are not inherited by a forked child and end at ``execve``.
"""

from __future__ import annotations

import errno
import os
import signal
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from . import delivery, sigstate, thread_signals
from .cint import c_int
from .frames import signal_abi
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

SIGEV_SIGNAL = 0
SIGEV_NONE = 1
SIGEV_THREAD = 2
SIGEV_THREAD_ID = 4
TIMER_ABSTIME = 1
_CLOCKS = {0: time.CLOCK_REALTIME, 1: time.CLOCK_MONOTONIC, 7: time.CLOCK_BOOTTIME}


@dataclass
class _Timer:
    clock: int
    signo: int  #: 0: SIGEV_NONE
    value: int  #: sigev_value, as the guest wrote it
    deadline: float = 0.0  #: monotonic seconds of the next expiry; 0: disarmed
    interval: float = 0.0
    overrun: int = 0
    wake: threading.Condition = field(default_factory=threading.Condition)
    deleted: bool = False
    thread: threading.Thread | None = None
    target_tid: int = 0  #: SIGEV_THREAD_ID: the guest thread the signal is for (0: any)


_TIMERS: WeakKeyDictionary[LinuxKernel, dict[int, _Timer]] = WeakKeyDictionary()


def _timers(k: LinuxKernel) -> dict[int, _Timer]:
    timers = _TIMERS.get(k)
    if timers is None:
        timers = _TIMERS[k] = {}
    return timers


def _wide(k: LinuxKernel) -> bool:
    name = k.table.get(k.m.uc.reg_read(k.m.arch.syscall.number)) or ""
    return k.m.arch.bits == 64 or name.endswith("64")


def _get_itimerspec(k: LinuxKernel, addr: int) -> tuple[float, float]:
    """(interval, value) in seconds from a guest ``struct itimerspec`` (time64 on 32-bit
    targets: the nanoseconds' upper half is padding, ignored as Linux does)."""
    fmt = "<qqqq" if k.m.arch.bits == 64 else "<qi4xqi4x" if _wide(k) else "<iiii"
    i_s, i_ns, v_s, v_ns = struct.unpack(fmt, k.read(addr, struct.calcsize(fmt)))
    if min(i_s, v_s) < 0 or not (0 <= i_ns < 1e9 and 0 <= v_ns < 1e9):
        raise OSError(errno.EINVAL, "bad itimerspec")
    return i_s + i_ns / 1e9, v_s + v_ns / 1e9


def _put_itimerspec(k: LinuxKernel, addr: int, interval: float, value: float) -> None:
    def split(t: float) -> tuple[int, int]:
        ns = round(t * 1e9)
        return ns // 1_000_000_000, ns % 1_000_000_000

    fmt = "<qqqq" if _wide(k) else "<iiii"
    k.write(addr, struct.pack(fmt, *split(interval), *split(value)))


def _siginfo(k: LinuxKernel, tid: int, t: _Timer, overrun: int) -> bytes:
    """siginfo of a timer's signal: SI_TIMER (per target), si_tid, si_overrun, si_value."""
    info = bytearray(128)
    sabi = signal_abi(k)
    if sabi.code_before_errno:
        struct.pack_into("<iii", info, 0, t.signo, sabi.si_timer, 0)
    else:
        struct.pack_into("<iii", info, 0, t.signo, 0, sabi.si_timer)
    union = 16 if k.m.arch.bits == 64 else 12
    struct.pack_into("<ii", info, union, tid, overrun)
    k_word = "<Q" if k.m.arch.bits == 64 else "<I"
    struct.pack_into(k_word, info, union + 8, t.value)
    return bytes(info)


def _fire(k: LinuxKernel, tid: int, t: _Timer, overrun: int) -> None:
    """A timer expired (its thread): the guest gets its signal, through the host signal
    of the same number sent to qpp's main thread, as the interval timers' come (it stops
    the engine or a blocking call); the siginfo is posted first, so that it is the one
    the handler or ``sigwaitinfo`` sees."""
    sig = t.signo
    if t.target_tid:  # no host signal: C libraries aim their own (SIGRTMIN) this way
        thread_signals.queue_directed(k, t.target_tid, sig, _siginfo(k, tid, t, overrun))
        return
    if sigstate.disposition(k, sig) > sigstate.SIG_IGN or delivery.blocked(k, sig):
        delivery.post(k, sig, _siginfo(k, tid, t, overrun))
    main = threading.main_thread().ident
    if main is not None:
        signal.pthread_kill(main, sigstate.host_signal(k, sig))


def _run(k: LinuxKernel, tid: int, t: _Timer) -> None:
    """The timer's thread: wait for each expiry (the deadline may change meanwhile)."""
    with t.wake:
        while not t.deleted:
            if not t.deadline:
                t.wake.wait()
                continue
            left = t.deadline - time.monotonic()
            if left > 0:
                t.wake.wait(left)
                continue
            missed = 0
            if t.interval:
                late = time.monotonic() - t.deadline
                missed = int(late // t.interval)
                t.deadline += (missed + 1) * t.interval
            else:
                t.deadline = 0.0
            t.overrun = missed
            if t.signo:
                _fire(k, tid, t, missed)
            if k.m.exited is not None:
                return


def drop_all(k: LinuxKernel) -> None:
    """execve: the process's timers are deleted, as Linux does."""
    for t in _timers(k).values():
        with t.wake:
            t.deleted = True
            t.wake.notify()
    _timers(k).clear()


def _forget_in_child() -> None:
    """A forked child has none of its parent's timers (their threads stayed behind)."""
    _TIMERS.clear()


os.register_at_fork(after_in_child=_forget_in_child)


@handles("timer_create")
def sys_timer_create(k: LinuxKernel, a: Args) -> int:
    clock = c_int(a[0])
    if clock not in _CLOCKS:
        return -errno.EINVAL
    w = k.m.arch.word
    target = 0
    if a[1]:
        raw = k.read(a[1], w + 12)
        value = int.from_bytes(raw[:w], "little")
        signo, notify, target = struct.unpack_from("<iii", raw, w)
    else:  # SIGEV_SIGNAL with SIGALRM (14 on every target); si_value is the timer id
        value, signo, notify = -1, 14, SIGEV_SIGNAL
    if notify == SIGEV_THREAD_ID:  # a thread of this process (Linux's good_sigevent)
        threads = k.m.threads
        mine = threads.find(target) is not None if threads is not None else target == os.getpid()
        if not mine:
            return -errno.EINVAL
    else:
        target = 0
    if notify == SIGEV_NONE:
        signo = 0
    elif notify not in (SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID) or not (
        1 <= signo <= sigstate.SIG_ABI[k.arch_name].nsig
    ):
        return -errno.EINVAL
    timers = _timers(k)
    tid = next(i for i in range(len(timers) + 1) if i not in timers)
    t = _Timer(clock, signo, tid if value == -1 else value, target_tid=target)
    k.write(a[2], struct.pack("<i", tid))
    timers[tid] = t
    return 0


def _timer(k: LinuxKernel, tid: int) -> _Timer:
    t = _timers(k).get(c_int(tid))
    if t is None:
        raise OSError(errno.EINVAL, "no such timer")
    return t


def _left(t: _Timer) -> float:
    return max(0.0, t.deadline - time.monotonic()) if t.deadline else 0.0


@handles("timer_settime", "timer_settime64")
def sys_timer_settime(k: LinuxKernel, a: Args) -> int:
    tid = c_int(a[0])
    t = _timer(k, tid)
    interval, value = _get_itimerspec(k, a[2])
    if a[3]:
        _put_itimerspec(k, a[3], t.interval, _left(t))
    if value and a[1] & TIMER_ABSTIME:
        value = max(value - time.clock_gettime(_CLOCKS[t.clock]), 1e-9)
    with t.wake:
        t.interval = interval if value else 0.0
        t.deadline = time.monotonic() + value if value else 0.0
        t.wake.notify()
    if t.thread is None and value:
        t.thread = threading.Thread(target=_run, args=(k, tid, t), daemon=True)
        t.thread.start()
    if value and t.signo:  # its signal stops the engine at a block start while it runs
        k.m.block_stop.add_source(f"timer {tid}", lambda: not t.deleted and t.deadline > 0, k.m.uc)
    return 0


@handles("timer_gettime", "timer_gettime64")
def sys_timer_gettime(k: LinuxKernel, a: Args) -> int:
    t = _timer(k, a[0])
    _put_itimerspec(k, a[1], t.interval, _left(t))
    return 0


@handles("timer_getoverrun")
def sys_timer_getoverrun(k: LinuxKernel, a: Args) -> int:
    return _timer(k, a[0]).overrun


@handles("timer_delete")
def sys_timer_delete(k: LinuxKernel, a: Args) -> int:
    t = _timer(k, a[0])
    del _timers(k)[c_int(a[0])]
    with t.wake:
        t.deleted = True
        t.wake.notify()
    return 0
