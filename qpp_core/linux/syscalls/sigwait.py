"""Pending signals as data: ``rt_sigpending``, ``rt_sigtimedwait``, ``rt_sigqueueinfo``.

A signal the guest blocks stays pending in :mod:`.delivery` with its siginfo; these calls
report the pending set, take a pending signal synchronously (without its handler), and
queue a signal with a siginfo of the guest's own making (``sigqueue``'s ``si_value``
reaches an ``SA_SIGINFO`` handler or ``sigwaitinfo``).
"""

from __future__ import annotations

import errno
import os
import struct
import time
from functools import partial
from typing import TYPE_CHECKING

from ...machine.threads import Wait
from . import delivery, sigstate, thread_signals
from .cint import c_int
from .frames import signal_abi
from .futex import BLOCKED
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

#: how often a waiting ``rt_sigtimedwait`` looks again
WAIT_SLICE = 0.02
SI_TKILL = -6


def _name(k: LinuxKernel) -> str | None:
    return k.table.get(k.m.uc.reg_read(k.m.arch.syscall.number))


@handles("rt_sigpending")
def sys_rt_sigpending(k: LinuxKernel, a: Args) -> int:
    size = sigstate.SIG_ABI[k.arch_name].sigset_size
    if a[1] != size:
        return -errno.EINVAL
    k.write(a[0], delivery.pending_mask(k).to_bytes(size, "little"))
    return 0


def _timeout(k: LinuxKernel, addr: int) -> float | None:
    """The wait's timeout in seconds (None: forever); time64 layout on 32-bit targets."""
    if not addr:
        return None
    wide = k.m.arch.bits == 64 or _name(k) == "rt_sigtimedwait_time64"
    sec, nsec = (
        struct.unpack("<qq", k.read(addr, 16)) if wide else struct.unpack("<ii", k.read(addr, 8))
    )
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        raise OSError(errno.EINVAL, "bad timespec")
    return float(sec + nsec / 1e9)


@handles("rt_sigtimedwait", "rt_sigtimedwait_time64")
def sys_rt_sigtimedwait(k: LinuxKernel, a: Args) -> int:
    """Take a pending signal of the set (its siginfo to ``info``); EAGAIN after the
    timeout; EINTR when another signal's handler is due first."""
    size = sigstate.SIG_ABI[k.arch_name].sigset_size
    if a[3] != size:
        return -errno.EINVAL
    wanted = int.from_bytes(k.read(a[0], size), "little")
    timeout = _timeout(k, a[2])
    end = None if timeout is None else time.monotonic() + timeout
    if k.resumed_deadline is not None:  # it waited already (other threads ran)
        end = k.resumed_deadline
    while True:
        taken = delivery.take_pending(k, wanted)
        if taken is not None:
            sig, info = taken
            if a[1]:
                k.write(a[1], info)
            return sig
        if delivery.signal_waiting(k):
            return -errno.EINTR
        if k.m.host_signal is not None:
            return -errno.EINTR  # the guest is ending
        left = None if end is None else end - time.monotonic()
        if left is not None and left <= 0:
            return -errno.EAGAIN
        threads = k.m.threads
        if threads is not None and threads.count > 1:  # the other threads run meanwhile
            poll = partial(delivery.wanted_pending, k, threads.current, wanted)
            k.block(Wait("rt_sigtimedwait", poll=poll, deadline=end, retry=True))
            return BLOCKED
        time.sleep(WAIT_SLICE if left is None else min(WAIT_SLICE, left))


def _queue(k: LinuxKernel, pid: int, sig: int, uinfo: int, tid: int | None = None) -> int:
    if not 1 <= sig <= sigstate.SIG_ABI[k.arch_name].nsig:
        return -errno.EINVAL
    info = bytearray(k.read(uinfo, 128))
    code_at = 4 if signal_abi(k).code_before_errno else 8
    (code,) = struct.unpack_from("<i", info, code_at)
    if pid != os.getpid():
        if code >= 0 or code == SI_TKILL:
            return -errno.EPERM  # only the kernel may claim these for another process
        try:  # another (guest) process: a host signal, without the siginfo
            os.kill(pid, sigstate.host_signal(k, sig))
        except ProcessLookupError:
            return -errno.ESRCH
        return 0
    struct.pack_into("<i", info, 0, sig)  # the kernel sets si_signo
    threads = k.m.threads
    if tid is not None and threads is not None:
        t = threads.find(tid)
        if t is None:
            return -errno.ESRCH
        thread_signals.send_to_thread(k, t, sig, bytes(info))
        return 0
    action = sigstate.disposition(k, sig)
    if action > sigstate.SIG_IGN or delivery.blocked(k, sig):
        delivery.post(k, sig, bytes(info))
        thread_signals.wake_for_signals(k)  # a blocked thread may be the one to take it
    elif action == sigstate.SIG_DFL:
        sigstate.raise_in_guest(k, sig)
    return 0


@handles("rt_sigqueueinfo")
def sys_rt_sigqueueinfo(k: LinuxKernel, a: Args) -> int:
    return _queue(k, c_int(a[0]), c_int(a[1]), a[2])


@handles("rt_tgsigqueueinfo")
def sys_rt_tgsigqueueinfo(k: LinuxKernel, a: Args) -> int:
    tgid, tid = c_int(a[0]), c_int(a[1])
    threads = k.m.threads
    if tgid == os.getpid() and threads is not None:
        return _queue(k, tgid, c_int(a[2]), a[3], tid)
    if tid != tgid:
        return -errno.ESRCH  # one thread: its tid is the pid
    return _queue(k, tgid, c_int(a[2]), a[3])
