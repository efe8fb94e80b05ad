"""``futex``: the waits and wake-ups every thread library is built on, between the threads
of one engine (:mod:`qpp_core.machine.threads`).

WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET and WAKE_BITSET, with or without
FUTEX_PRIVATE_FLAG (all threads share one address space, so a futex is its address),
timeouts relative (WAIT, on CLOCK_MONOTONIC) or absolute (WAIT_BITSET, on CLOCK_MONOTONIC
or with FUTEX_CLOCK_REALTIME on CLOCK_REALTIME), and Linux's errors: EAGAIN when the word
is not the expected value, ETIMEDOUT, EINVAL for a misaligned address, a bad timeout or an
empty bitset, EFAULT for an unreadable word, ENOSYS for the priority-inheritance ops.
A wait nobody can end (one thread, no timeout) is a deadlock the machine reports.
"""

from __future__ import annotations

import errno
import struct
import time
from typing import TYPE_CHECKING

from ...machine.threads import Wait
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

FUTEX_WAIT = 0
FUTEX_WAKE = 1
FUTEX_REQUEUE = 3
FUTEX_CMP_REQUEUE = 4
FUTEX_WAKE_OP = 5
FUTEX_WAIT_BITSET = 9
FUTEX_WAKE_BITSET = 10
FUTEX_PRIVATE_FLAG = 128
FUTEX_CLOCK_REALTIME = 256
BITSET_ANY = 0xFFFFFFFF

#: a handler's result meaning "the thread now waits; its result comes later"
BLOCKED = -(1 << 61)


class MustWait(Exception):
    """Raised by a handler deep in a blocking call while other threads exist: the
    calling thread waits for ``wait`` (the dispatcher blocks it: ``BLOCKED``); the call
    runs again when the wait ends (``Wait.retry``)."""

    def __init__(self, wait: Wait) -> None:
        super().__init__(wait.what)
        self.wait = wait


def _word(k: LinuxKernel, addr: int) -> int:
    value: int = struct.unpack("<I", k.read(addr, 4))[0]
    return value


def _timespec(k: LinuxKernel, addr: int) -> float:
    """A timespec as seconds (time64 on 64-bit and for futex_time64); EINVAL if invalid."""
    name = k.table.get(k.m.uc.reg_read(k.m.arch.syscall.number))
    wide = k.m.arch.bits == 64 or name == "futex_time64"
    fmt, size = ("<qq", 16) if wide else ("<ii", 8)
    sec: int
    nsec: int
    sec, nsec = struct.unpack(fmt, k.read(addr, size))
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        raise OSError(errno.EINVAL, "bad timeout")
    return sec + nsec / 1e9


def _deadline(k: LinuxKernel, op: int, cmd: int, addr: int) -> float | None:
    """The monotonic deadline of a wait's timeout (None: none)."""
    if not addr:
        return None
    t = _timespec(k, addr)
    if cmd == FUTEX_WAIT:
        return time.monotonic() + t  # relative, on CLOCK_MONOTONIC
    if op & FUTEX_CLOCK_REALTIME:
        return time.monotonic() + (t - time.time())
    return t - time.clock_gettime(time.CLOCK_MONOTONIC) + time.monotonic()


def wake(k: LinuxKernel, key: int, n: int, bitset: int = BITSET_ANY) -> int:
    """Wake up to ``n`` waiters on ``key`` whose bitset meets ``bitset``; how many woke."""
    threads = k.m.threads
    if threads is None:
        return 0
    woken = 0
    for t in threads.futex_waiters(key):
        if t.wait is not None and t.wait.bitset & bitset:
            threads.wake(t, 0)
            woken += 1
            if woken >= n:  # as Linux: checked after a wake, so 0 wakes one too
                break
    return woken


def _wake_op(k: LinuxKernel, a: Args) -> int:
    uaddr, nr_wake, nr_wake2, uaddr2, code = a[0], a[2] & 0x7FFFFFFF, a[3] & 0x7FFFFFFF, a[4], a[5]
    op, cmp = (code >> 28) & 0xF, (code >> 24) & 0xF
    oparg, cmparg = (code >> 12) & 0xFFF, code & 0xFFF
    oparg = oparg - 0x1000 if oparg & 0x800 else oparg
    cmparg = cmparg - 0x1000 if cmparg & 0x800 else cmparg
    if op & 8:  # FUTEX_OP_OPARG_SHIFT
        if not 0 <= oparg <= 31:
            return -errno.EINVAL
        oparg = 1 << oparg
        op &= 7
    if op > 4 or cmp > 5:
        return -errno.ENOSYS
    old = _word(k, uaddr2)
    new = (oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg)[op]
    k.write(uaddr2, struct.pack("<I", new & 0xFFFFFFFF))
    woken = wake(k, uaddr, nr_wake)
    signed = old - (1 << 32) if old >> 31 else old
    tests = (
        signed == cmparg,
        signed != cmparg,
        signed < cmparg,
        signed <= cmparg,
        signed > cmparg,
        signed >= cmparg,
    )
    if tests[cmp]:
        woken += wake(k, uaddr2, nr_wake2)
    return woken


def _requeue(k: LinuxKernel, a: Args, cmd: int) -> int:
    uaddr, nr_wake, nr_requeue, uaddr2 = a[0], a[2] & 0xFFFFFFFF, a[3] & 0xFFFFFFFF, a[4]
    if nr_wake >> 31 or nr_requeue >> 31:
        return -errno.EINVAL
    if cmd == FUTEX_CMP_REQUEUE and _word(k, uaddr) != a[5] & 0xFFFFFFFF:
        return -errno.EAGAIN
    woken = moved = 0
    threads = k.m.threads
    if threads is None:
        return 0
    for t in threads.futex_waiters(uaddr):
        if woken < nr_wake:
            threads.wake(t, 0)
            woken += 1
        elif moved < nr_requeue:
            if uaddr2 != uaddr:
                threads.requeue(t, uaddr2)
            moved += 1
        else:
            break
    return woken + moved


@handles("futex", "futex_time64")
def sys_futex(k: LinuxKernel, a: Args) -> int:
    uaddr, op, val = a[0], a[1] & 0xFFFFFFFF, a[2] & 0xFFFFFFFF
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    if op & FUTEX_CLOCK_REALTIME and cmd not in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        return -errno.ENOSYS
    if uaddr & 3:
        return -errno.EINVAL
    if cmd in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        bitset = BITSET_ANY if cmd == FUTEX_WAIT else a[5] & 0xFFFFFFFF
        if not bitset:
            return -errno.EINVAL
        deadline = _deadline(k, op, cmd, a[3])
        if _word(k, uaddr) != val:
            return -errno.EAGAIN
        if deadline is not None and deadline <= time.monotonic():
            return -errno.ETIMEDOUT
        wait = Wait(
            f"futex 0x{uaddr:x}",
            key=uaddr,
            bitset=bitset,
            deadline=deadline,
            timeout_result=-errno.ETIMEDOUT,
        )
        k.block(wait)
        return BLOCKED
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        bitset = BITSET_ANY if cmd == FUTEX_WAKE else a[5] & 0xFFFFFFFF
        if not bitset:
            return -errno.EINVAL
        if not op & FUTEX_PRIVATE_FLAG:
            _word(k, uaddr)  # a shared futex's key needs the page: EFAULT when unmapped
        return wake(k, uaddr, val - (1 << 32) if val >> 31 else val, bitset)
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        return _requeue(k, a, cmd)
    if cmd == FUTEX_WAKE_OP:
        return _wake_op(k, a)
    return -errno.ENOSYS  # the priority-inheritance ops, FUTEX_FD (gone since 2.6.26)
