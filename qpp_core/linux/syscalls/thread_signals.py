"""Signals and threads: each guest thread's mask, its own pending signals and alternate
stack; which thread takes a process-directed signal; waking a blocked thread for one.

As in Linux, a thread has its own blocked mask (``rt_sigprocmask`` acts on the calling
thread, a new thread starts with its creator's) and its own set of pending signals, those
aimed at it (``tgkill``/``tkill``, so ``pthread_kill`` and ``raise``; a POSIX timer with
``SIGEV_THREAD_ID``). A process-directed signal (``kill``, a plain timer's) stays in the
process's set (:mod:`.delivery`) until a thread that does not block it takes it: the
running one, one ready to run, or one blocked in a system call, whose wait then ends as
Linux ends it (EINTR, or the call starts again after the handler under ``SA_RESTART``).

The running thread's mask and alternate stack are ``sigstate.state(k)``'s, where the
rest of the signal code reads them; a thread that is not running keeps them in its
:class:`ThreadSignals`, swapped at each thread switch (:func:`switch`). Pending sets stay
in their :class:`ThreadSignals` (never swapped). A ``SIGEV_THREAD_ID`` timer's host thread
only queues its signal; the main thread posts it where it looks for signals anyway (a
thread switch, an engine stop, a wait), without a host signal (:func:`queue_directed`).
"""

from __future__ import annotations

import errno
import os
import threading
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from . import sigstate

if TYPE_CHECKING:
    from ...machine.threads import GuestThread
    from .kernel import LinuxKernel

#: a blocked call's result meaning "rewind to the system call instruction": the handler
#: runs first and the call starts again when it returns (Linux's ERESTARTSYS)
RESTART = -(1 << 60)
#: what plugins see as the result of a call that is started again (as under QEMU)
ERESTARTSYS = -512


class ThreadSignals:
    """One thread's own signal state (the running thread's mask and altstack are
    ``sigstate.state(k)``'s; these fields hold them while it does not run)."""

    __slots__ = ("altstack", "mask", "pending", "suspended_mask")

    def __init__(self, mask: bytes = b"") -> None:
        self.pending: dict[int, bytes | None] = {}
        self.mask = mask
        self.altstack: tuple[int, int, int] = (0, 0, 0)
        #: rt_sigsuspend's caller's mask, restored when the handler that ended it returns
        self.suspended_mask: bytes | None = None


_FIRST: WeakKeyDictionary[LinuxKernel, ThreadSignals] = WeakKeyDictionary()
#: timers' signals aimed at a thread, from their host threads, waiting to be posted
#: (:func:`drain_directed`): kernel -> list of (tid, signal, siginfo)
_DIRECTED: WeakKeyDictionary[LinuxKernel, list[tuple[int, int, bytes]]] = WeakKeyDictionary()
_DIRECTED_LOCK = threading.Lock()


def _forget_in_child() -> None:
    """A forked child has none of its parent's timers: no signal of theirs is due."""
    _DIRECTED.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def of(k: LinuxKernel, t: GuestThread | None = None) -> ThreadSignals:
    """Thread ``t``'s signal state (default: the running thread's)."""
    threads = k.machine.threads if k.machine is not None else None
    if t is None:
        if threads is None:
            return _first(k)
        t = threads.current
    s = t.extra.get("signals")
    if s is None:  # the process's first thread, from before it had a thread table
        s = t.extra["signals"] = _first(k)
    assert isinstance(s, ThreadSignals)
    return s


def _first(k: LinuxKernel) -> ThreadSignals:
    s = _FIRST.get(k)
    if s is None:
        s = _FIRST[k] = ThreadSignals()
    return s


def _running(k: LinuxKernel, t: GuestThread) -> bool:
    threads = k.m.threads
    return threads is None or threads.current is t


def mask_of(k: LinuxKernel, t: GuestThread) -> int:
    raw = sigstate.state(k).mask if _running(k, t) else of(k, t).mask
    return int.from_bytes(raw or b"\0", "little")


def blocks(k: LinuxKernel, t: GuestThread, sig: int) -> bool:
    """Whether thread ``t``'s mask blocks ``sig``."""
    return bool(mask_of(k, t) >> (sig - 1) & 1)


def every_thread_blocks(k: LinuxKernel, sig: int) -> bool:
    """Whether no thread of the process would take process-directed ``sig`` now."""
    threads = k.m.threads
    if threads is None:
        mask = int.from_bytes(sigstate.state(k).mask or b"\0", "little")
        return bool(mask >> (sig - 1) & 1)
    return all(blocks(k, t, sig) for t in threads.live.values())


def new_thread(k: LinuxKernel, child: GuestThread) -> None:
    """clone: the new thread has its creator's mask, no pending signal, no altstack."""
    child.extra["signals"] = ThreadSignals(mask=sigstate.state(k).mask)


def switch(k: LinuxKernel, cur: GuestThread, nxt: GuestThread) -> None:
    """The machine switches from ``cur`` to ``nxt``: swap the running thread's mask and
    alternate stack."""
    sst = sigstate.state(k)
    before, after = of(k, cur), of(k, nxt)
    before.mask, before.altstack = sst.mask, sst.altstack
    sst.mask, sst.altstack = after.mask, after.altstack


def send_to_thread(k: LinuxKernel, t: GuestThread | None, sig: int, info: bytes) -> None:
    """A signal aimed at thread ``t`` (None: the only one; tgkill, a SIGEV_THREAD_ID
    timer's): pending for it, or ignored, or the process dies of it (default action), as
    Linux decides."""
    action = sigstate.disposition(k, sig)
    masked = (
        blocks(k, t, sig)
        if t is not None
        else bool(int.from_bytes(sigstate.state(k).mask or b"\0", "little") >> (sig - 1) & 1)
    )
    if action <= sigstate.SIG_IGN and not masked:
        if not _ignored(k, sig):
            k.m.kill(sigstate.host_signal(k, sig))
        return
    of(k, t).pending.setdefault(sig, info)
    wake_for_signals(k)


def queue_directed(k: LinuxKernel, tid: int, sig: int, info: bytes) -> None:
    """A timer's host thread: ``sig`` is for thread ``tid``. The main thread posts it at
    its next safe point (:func:`drain_directed`); no host signal is sent (C libraries use
    real-time signals the host's own C library reserves), the engine is asked to stop at
    the next block boundary instead."""
    with _DIRECTED_LOCK:
        _DIRECTED.setdefault(k, []).append((tid, sig, info))
    threads = k.m.threads
    if threads is not None:
        threads.nudge()
    else:
        k.m.block_stop.request(k.m.uc)  # at a block start when a hook looks (blockstop)


def drain_directed(k: LinuxKernel) -> None:
    """Post the timers' signals queued for threads (main thread, never in a handler)."""
    if not _DIRECTED.get(k):
        return
    with _DIRECTED_LOCK:
        queued = _DIRECTED.pop(k, [])
    threads = k.m.threads
    for tid, sig, info in queued:
        if threads is None:
            send_to_thread(k, None, sig, info)
            continue
        t = threads.find(tid)
        if t is not None:  # else the thread has ended: Linux drops the signal
            send_to_thread(k, t, sig, info)


def _ignored(k: LinuxKernel, sig: int) -> bool:
    action = sigstate.disposition(k, sig)
    return action == sigstate.SIG_IGN or (
        action == sigstate.SIG_DFL and sig in sigstate.SIG_ABI[k.arch_name].default_ignored
    )


def wake_for_signals(k: LinuxKernel) -> None:
    """End the wait of each blocked thread that has a signal to take now (its own, or a
    process-directed one no running or ready thread takes), as Linux wakes it."""
    from .delivery import shared_pending

    drain_directed(k)
    threads = k.m.threads
    if threads is None or not threads.blocked:
        return
    shared = shared_pending(k)
    if not shared and not any(of(k, t).pending for t in threads.blocked):
        return
    runnable = [t for t in (threads.current, *threads.runq) if not t.exited and t.wait is None]
    claimed = {s for s in shared if any(not blocks(k, t, s) for t in runnable)}
    for t in sorted(threads.blocked, key=lambda t: t.tid):
        if t.wait is None:
            continue
        own = of(k, t).pending
        mine = [s for s in own if not blocks(k, t, s)]
        mine += [s for s in shared if s not in claimed and not blocks(k, t, s)]
        for sig in [s for s in mine if _ignored(k, s)]:  # discarded as it is delivered
            own.pop(sig, None)
            shared.pop(sig, None)
            mine.remove(sig)
        if not mine:
            continue
        claimed.update(mine)
        _interrupt(k, t, min(mine))


def _interrupt(k: LinuxKernel, t: GuestThread, sig: int) -> None:
    """Blocked thread ``t`` is to take ``sig``: its call ends with EINTR, or (a slow call
    under SA_RESTART, as Linux's ERESTARTSYS) starts again after the handler."""
    from .delivery import RESTARTABLE_CALLS, SA_RESTART, action_of

    threads = k.m.threads
    assert threads is not None and t.wait is not None
    if sigstate.disposition(k, sig) == sigstate.SIG_DFL:
        k.m.kill(sigstate.host_signal(k, sig))  # a fatal signal ends every thread
        return
    name = t.pending[1] if t.pending is not None else None
    if name == "futex_time64":
        name = "futex"
    _handler, flags, _restorer, _mask = action_of(k, sig)
    restart = (
        name in RESTARTABLE_CALLS
        and bool(flags & SA_RESTART)
        and not (name == "futex" and t.wait.deadline is not None)  # ERESTART_RESTARTBLOCK
    )
    threads.wake(t, RESTART if restart else -errno.EINTR, retry=False)


def rewind_to_syscall(k: LinuxKernel) -> None:
    """Set the running thread's pc back on the system call instruction it stopped after
    (a call that starts again); arm keeps its Thumb state (bit 0 of a written pc)."""
    uc = k.m.uc
    pc = uc.reg_read(k.m.arch.pc)
    if k.arch_name == "x86_64":
        pc -= 2
    elif k.arch_name == "arm" and uc.reg_read(k.m.arch.registers["cpsr"]) & 0x20:
        pc = (pc - 2) | 1  # Thumb's svc
    else:
        pc -= 4
    uc.reg_write(k.m.arch.pc, pc)
