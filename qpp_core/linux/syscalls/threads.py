"""Thread syscalls: ``clone``/``clone3`` of a thread, ``exit`` of one thread, thread ids,
``set_tid_address``, ``tgkill``/``tkill``, ``sched_yield``, ``membarrier``; and which
blocking calls make a thread wait while the others run.

A thread is created as glibc and musl ask for one (CLONE_VM|CLONE_FS|CLONE_FILES|
CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, with CLONE_SETTLS, CLONE_PARENT_SETTID,
CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID as given): its CPU state is the parent's at the
call with the new stack, a 0 result and the new TLS pointer, and it runs in the same engine
(:mod:`qpp_core.machine.threads`). A thread's ``exit`` clears and futex-wakes its
``clear_child_tid`` word (what ``pthread_join`` waits on); the last thread's ends the
process, as ``exit_group`` does at once.

Each thread has its own signal mask and pending signals (:mod:`.thread_signals`):
``tgkill``/``tkill`` signal one thread. ``set_robust_list`` keeps answering ENOSYS as
qemu-user 7.2 does (C libraries do without; the instruction counts stay qemu's).

With more than one thread, a call that would block the host (a read of an empty pipe or
socket, a write to a full one, a sleep, a wait for a child) makes the calling thread wait
instead (:func:`wait_for`), and runs again when it can go on.
"""

from __future__ import annotations

import errno
import os
import select
import struct
import time
from typing import TYPE_CHECKING

from ...machine.threads import GuestThread, Wait
from . import abi, sigstate, thread_signals
from .cint import c_int
from .futex import wake
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

CLONE_VM = 0x100
CLONE_FS = 0x200
CLONE_FILES = 0x400
CLONE_SIGHAND = 0x800
CLONE_VFORK = 0x4000
CLONE_THREAD = 0x10000
CLONE_SETTLS = 0x80000
CLONE_PARENT_SETTID = 0x100000
CLONE_CHILD_CLEARTID = 0x200000
CLONE_CHILD_SETTID = 0x1000000


def start_thread(
    k: LinuxKernel, flags: int, newsp: int, parent_tid: int, tls: int, child_tid: int
) -> int:
    """clone of a thread: the new thread's id (it runs when the scheduler picks it)."""
    if flags & CLONE_THREAD and not flags & CLONE_SIGHAND:
        return -errno.EINVAL
    if flags & CLONE_SIGHAND and not flags & CLONE_VM:
        return -errno.EINVAL
    if not flags & CLONE_THREAD:
        return -errno.ENOSYS  # a process sharing memory: not emulated
    m = k.m
    first = m.threads is None
    threads = m.thread_table()
    if first:
        threads.current.clear_tid = k.main_clear_tid
    k.attach_threads(threads)
    uc = m.uc
    parent = uc.context_save()
    if newsp:
        uc.reg_write(m.arch.sp, newsp)
    if flags & CLONE_SETTLS:
        uc.reg_write(abi.tls_register(k.arch_name), tls)
    k.set_result(0)
    if m.arch.syscall.intno is None:  # x86_64: inside its hook the pc is still on SYSCALL
        uc.reg_write(m.arch.pc, uc.reg_read(m.arch.pc) + 2)
    child_ctx = uc.context_save()
    uc.context_restore(parent)
    child = threads.spawn(child_ctx)
    thread_signals.new_thread(k, child)
    if flags & CLONE_PARENT_SETTID and parent_tid:
        k.write(parent_tid, struct.pack("<i", child.tid))
    if flags & CLONE_CHILD_SETTID and child_tid:
        k.write(child_tid, struct.pack("<i", child.tid))
    if flags & CLONE_CHILD_CLEARTID:
        child.clear_tid = child_tid
    return child.tid


@handles("clone3")
def sys_clone3(k: LinuxKernel, a: Args) -> int:
    """clone3 of a thread (struct clone_args); other uses answer ENOSYS, so that C
    libraries fall back to clone as on kernels before 5.3."""
    size = a[1]
    if size < 64:
        return -errno.EINVAL
    flags, _pidfd, child_tid, parent_tid, _exit_signal, stack, stack_size, tls = struct.unpack(
        "<8Q", k.read(a[0], 64)
    )
    if not flags & CLONE_THREAD or not flags & CLONE_VM:
        return -errno.ENOSYS
    sp = stack + stack_size if stack else 0
    return start_thread(k, flags, sp, parent_tid, tls, child_tid)


def _tid(k: LinuxKernel) -> int:
    threads = k.m.threads
    return threads.current.tid if threads is not None else os.getpid()


@handles("gettid")
def sys_gettid(k: LinuxKernel, a: Args) -> int:
    return _tid(k)


@handles("set_tid_address")
def sys_set_tid_address(k: LinuxKernel, a: Args) -> int:
    threads = k.m.threads
    if threads is not None:
        threads.current.clear_tid = a[0]
    else:
        k.main_clear_tid = a[0]
    return _tid(k)


def _end_thread(k: LinuxKernel, t: GuestThread) -> None:
    """What Linux does for an ending thread: clear its tid word and wake its joiner."""
    if t.clear_tid:
        try:
            k.write(t.clear_tid, b"\0\0\0\0")
        except Exception:  # an unmapped word: Linux ignores it too
            return
        wake(k, t.clear_tid, 1)


@handles("exit")
def sys_exit_thread(k: LinuxKernel, a: Args) -> int:
    threads = k.m.threads
    if threads is None or threads.count == 1:
        from .proc import sys_exit

        return sys_exit(k, a)
    t = threads.current
    threads.exit_current()
    _end_thread(k, t)  # its joiner wakes to run after it: no time slice is needed for that
    return 0


def _signal_thread(k: LinuxKernel, tid: int, sig: int) -> int:
    """tgkill/tkill: ``sig`` for thread ``tid`` alone (its mask decides, its handler runs
    on it), with si_code SI_TKILL."""
    from .delivery import SI_TKILL, _siginfo

    threads = k.m.threads
    t = threads.find(tid) if threads is not None else None
    if t is None and (threads is not None or tid != os.getpid()):
        return -errno.ESRCH
    sig = c_int(sig)
    if not 0 <= sig <= sigstate.SIG_ABI[k.arch_name].nsig:
        return -errno.EINVAL
    if not sig:
        return 0
    if t is None:  # the only thread, before any was made
        sigstate.raise_in_guest(k, sig, SI_TKILL, thread=True)
        return 0
    thread_signals.send_to_thread(k, t, sig, _siginfo(k, sig, SI_TKILL, 0))
    return 0


@handles("tgkill")
def sys_tgkill(k: LinuxKernel, a: Args) -> int:
    tgid, tid = c_int(a[0]), c_int(a[1])
    if tgid <= 0 or tid <= 0:
        return -errno.EINVAL
    if tgid != os.getpid():
        return -errno.ESRCH
    return _signal_thread(k, tid, a[2])


@handles("tkill")
def sys_tkill(k: LinuxKernel, a: Args) -> int:
    tid = c_int(a[0])
    if tid <= 0:
        return -errno.EINVAL
    return _signal_thread(k, tid, a[1])


@handles("sched_yield")
def sys_sched_yield(k: LinuxKernel, a: Args) -> int:
    if k.m.threads is not None:
        k.m.threads.yield_current()
    return 0


#: membarrier commands: QUERY, GLOBAL, PRIVATE_EXPEDITED, REGISTER_PRIVATE_EXPEDITED
_MEMBARRIER_SUPPORTED = 0x1 | 0x8 | 0x10


@handles("membarrier")
def sys_membarrier(k: LinuxKernel, a: Args) -> int:
    """Threads run one at a time in one engine: every barrier already holds."""
    cmd, flags = c_int(a[0]), a[1] & 0xFFFFFFFF
    if flags:
        return -errno.EINVAL
    if cmd == 0:
        return _MEMBARRIER_SUPPORTED
    if cmd == 0x8 and not k.membarrier_registered:
        return -errno.EPERM
    if cmd == 0x10:
        k.membarrier_registered = True
        return 0
    return (
        0
        if cmd > 0 and cmd & _MEMBARRIER_SUPPORTED == cmd and cmd & (cmd - 1) == 0
        else (-errno.EINVAL)
    )


# --- blocking calls: wait while the other threads run ------------------------------------

_READS = {"read", "readv", "recvfrom", "recvmsg", "recv", "accept", "accept4"}
_WRITES = {"write", "writev", "sendto", "sendmsg", "send", "sendfile", "sendfile64"}


def _nonblocking(fd: int) -> bool:
    import fcntl

    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)


def _ready(fd: int, write: bool) -> bool:
    r, w, _ = select.select([] if write else [fd], [fd] if write else [], [], 0)
    return bool(w if write else r)


def _sleep_wait(k: LinuxKernel, name: str, a: Args) -> Wait | None:
    from .time import _clock, _get_timespec

    if name == "nanosleep":
        seconds = _get_timespec(k, a[0], wide=False)
    else:
        wide = k.m.arch.bits == 32 and name == "clock_nanosleep_time64"
        if c_int(a[0]) not in (0, 1, 7):  # REALTIME, MONOTONIC, BOOTTIME
            return None  # errors as the handler gives them
        seconds = _get_timespec(k, a[2], wide)
        if a[1] & 1:  # TIMER_ABSTIME
            seconds -= _clock(k, a[0]) / 1e9
    return Wait(name, deadline=time.monotonic() + max(0.0, seconds), timeout_result=0)


def _child_wait(k: LinuxKernel, name: str, a: Args) -> Wait | None:
    options = (a[3] if name == "waitid" else a[2]) & 0xFFFFFFFF
    if options & 1:  # WNOHANG
        return None
    if name == "waitid":
        idtype, ident = a[0], c_int(a[1])
    else:
        pid = c_int(a[0])
        idtype, ident = (
            (os.P_ALL, 0)
            if pid == -1
            else (os.P_PID, pid)
            if pid > 0
            else (
                os.P_PGID,
                os.getpgrp() if pid == 0 else -pid,
            )
        )

    def ready() -> bool:
        try:
            got = os.waitid(idtype, ident, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except (ChildProcessError, OSError):
            return True  # the call itself reports the error
        return got is not None

    if ready():
        return None
    return Wait(f"{name} {ident}", poll=ready, retry=True)


def wait_for(k: LinuxKernel, name: str | None, a: Args) -> Wait | None:
    """The wait a blocking call needs with other threads running (None: go ahead)."""
    try:
        if name in _READS or name in _WRITES:
            fd = c_int(a[0])
            write = name in _WRITES
            if fd < 0 or _nonblocking(fd) or _ready(fd, write):
                return None
            kind = "write" if write else "read"
            return Wait(
                f"{kind} fd {fd}",
                read_fd=None if write else fd,
                write_fd=fd if write else None,
                retry=True,
            )
        if name in ("nanosleep", "clock_nanosleep", "clock_nanosleep_time64"):
            return _sleep_wait(k, name, a)
        if name in ("wait4", "waitpid", "waitid"):
            return _child_wait(k, name, a)
    except (OSError, ValueError, struct.error, Exception):
        return None  # the handler reports the problem as Linux would
    return None
