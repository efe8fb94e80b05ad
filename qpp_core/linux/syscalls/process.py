"""Processes: fork, vfork, clone without ``CLONE_VM``, wait4, waitid, process groups.

Each guest process is a host process. ``fork`` forks qpp itself, inside the syscall: the
child continues in the same engine (copied on write by the host kernel), with every
plugin and its state, exactly as qemu-user's child does; memory, file descriptors and
limits are therefore separate as in Linux, and the host kernel supplies pids, process
groups, wait statuses and ``SIGCHLD``. Python-level buffers are flushed before the fork
(``os.register_at_fork`` in :mod:`qpp_core.log`), so nothing is written twice.

``vfork`` (and ``clone(CLONE_VM|CLONE_VFORK)``, what glibc's and musl's ``posix_spawn``
use) is a fork whose parent waits until the child execs or exits, as Linux suspends it;
the child's memory is a copy rather than shared, which a correct vfork child cannot tell.
``clone`` with ``CLONE_VM`` starts a thread (:mod:`.threads`); a forked child keeps only
the thread that forked, as in Linux.

``SIGCHLD``: from the first fork on, qpp notes each one it receives; a guest that handles
SIGCHLD has its handler run (:mod:`.delivery`), as shells waiting for their children need.
"""

from __future__ import annotations

import errno
import os
import signal
import struct
from typing import TYPE_CHECKING

from ...hostfds import close_private_fd, pipe_private
from ...machine.signals import target_signal_number
from . import abi
from .cint import c_int
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

CLONE_VM = 0x100
CLONE_VFORK = 0x4000
CLONE_SETTLS = 0x80000
CLONE_PARENT_SETTID = 0x100000
CLONE_CHILD_SETTID = 0x1000000
CLONE_THREAD = 0x10000

WNOHANG = 1
#: wait options the host understands as the guest means them (the values are generic)
_WAIT4_OPTIONS = 0x1 | 0x2 | 0x8 | 0x20000000 | 0x40000000 | 0x80000000
_WAITID_OPTIONS = 0x1 | 0x2 | 0x4 | 0x8 | 0x01000000 | 0x20000000 | 0x40000000 | 0x80000000


class _ChildSignals:
    """The SIGCHLDs qpp received that no ``rt_sigsuspend`` has consumed yet."""

    def __init__(self) -> None:
        self.pending = False
        self.installed = False

    def install(self) -> None:
        if not self.installed:
            signal.signal(signal.SIGCHLD, self._note)
            self.installed = True

    def _note(self, signum: int, frame: object) -> None:
        self.pending = True

    def take(self) -> bool:
        pending, self.pending = self.pending, False
        return pending


CHILD_SIGNALS = _ChildSignals()


def fork_guest(k: LinuxKernel, *, vfork: bool, newsp: int = 0) -> tuple[int, bool]:
    """Fork the host process; return (result for this side, is_child).

    In the child the machine is marked as a forked child and the stack pointer is moved to
    ``newsp`` when one is given. For a vfork the parent returns only once the child has
    exec'd or ended (a pipe the child holds open until then).
    """
    CHILD_SIGNALS.install()
    release_r = release_w = -1
    if vfork:  # qpp's own pipe: the child's execve must not close it as close-on-exec
        release_r, release_w = pipe_private()
    # Host signals stay blocked across the fork: CPython forgets every signal that reaches
    # the child before its after-fork hook runs, so a kill(-pgid) right after the fork
    # was lost and the child paused forever. Unblocked, the kernel delivers it now.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        pid = os.fork()  # Python-level buffers were flushed by qpp_core.log's at-fork handler
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        raise
    if pid != 0:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    else:  # the child
        CHILD_SIGNALS.pending = False
        k.m.is_fork_child = True
        if k.m.threads is not None:
            k.m.threads.only_current()
        if vfork:
            close_private_fd(release_r)
            k.vfork_release = release_w
        elif k.vfork_release >= 0:  # a vfork child forking again: only it holds the pipe
            close_private_fd(k.vfork_release)
            k.vfork_release = -1
        if newsp:
            k.m.uc.reg_write(k.m.arch.sp, newsp)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return 0, True
    if vfork:
        close_private_fd(release_w)
        try:
            while os.read(release_r, 64):
                pass
        except InterruptedError:  # pragma: no cover (PEP 475 retries)
            pass
        finally:
            close_private_fd(release_r)
    return pid, False


def release_vfork_parent(k: LinuxKernel) -> None:
    """The vfork child exec'd or is ending: let its parent run on."""
    if k.vfork_release >= 0:
        close_private_fd(k.vfork_release)
        k.vfork_release = -1


@handles("fork")
def sys_fork(k: LinuxKernel, a: Args) -> int:
    return fork_guest(k, vfork=False)[0]


@handles("vfork")
def sys_vfork(k: LinuxKernel, a: Args) -> int:
    return fork_guest(k, vfork=True)[0]


@handles("clone")
def sys_clone(k: LinuxKernel, a: Args) -> int:
    flags, newsp, parent_tid = a[0], a[1], a[2]
    backwards = abi.CLONE_TLS_BEFORE_CHILD_TID.get(k.arch_name, False)
    tls, child_tid = (a[3], a[4]) if backwards else (a[4], a[3])
    if flags & CLONE_VM and not flags & CLONE_VFORK:
        from .threads import start_thread

        return start_thread(k, flags, newsp, parent_tid, tls, child_tid)
    if flags & CLONE_THREAD:
        return -errno.EINVAL  # CLONE_THREAD needs CLONE_VM (and CLONE_SIGHAND)
    vfork = bool(flags & CLONE_VFORK)
    result, child = fork_guest(k, vfork=vfork, newsp=newsp)
    pid = os.getpid() if child else result
    if flags & CLONE_PARENT_SETTID and parent_tid:
        k.write(parent_tid, struct.pack("<i", pid))
    if child:
        if flags & CLONE_CHILD_SETTID and child_tid:
            k.write(child_tid, struct.pack("<i", pid))
        if flags & CLONE_SETTLS:
            k.m.uc.reg_write(abi.tls_register(k.arch_name), tls)
    return result


def _put_rusage(k: LinuxKernel, addr: int, ru: object) -> None:
    if not addr:
        return
    word = k.m.arch.word
    utime = getattr(ru, "ru_utime", 0.0)
    stime = getattr(ru, "ru_stime", 0.0)
    fields = [
        int(utime),
        int((utime % 1) * 1e6),
        int(stime),
        int((stime % 1) * 1e6),
        int(getattr(ru, "ru_maxrss", 0)),
    ]
    fields += [0] * (18 - len(fields))
    fmt = "<" + ("q" if word == 8 else "i") * 18
    k.write(addr, struct.pack(fmt, *fields))


def _guest_status(k: LinuxKernel, status: int) -> int:
    """A host wait status with the signal numbers of the guest's architecture."""
    sig = status & 0x7F
    if sig and sig != 0x7F:  # killed by a signal
        return (status & ~0x7F) | target_signal_number(k.arch_name, sig)
    if sig == 0x7F:  # stopped: the signal is in the second byte
        stop = (status >> 8) & 0xFF
        return (status & 0xFF) | (target_signal_number(k.arch_name, stop) << 8)
    return status


@handles("wait4")
def sys_wait4(k: LinuxKernel, a: Args) -> int:
    pid, status_addr, options, rusage_addr = c_int(a[0]), a[1], a[2] & 0xFFFFFFFF, a[3]
    if options & ~_WAIT4_OPTIONS:
        return -errno.EINVAL
    got, status, ru = os.wait4(pid, options)
    if got == 0:
        return 0
    if status_addr:
        k.write(status_addr, struct.pack("<i", c_int(_guest_status(k, status))))
    _put_rusage(k, rusage_addr, ru)
    return got


@handles("waitpid")
def sys_waitpid(k: LinuxKernel, a: Args) -> int:
    return sys_wait4(k, (a[0], a[1], a[2], 0, 0, 0))


@handles("waitid")
def sys_waitid(k: LinuxKernel, a: Args) -> int:
    idtype, ident, info_addr, options, rusage_addr = a[0], c_int(a[1]), a[2], a[3], a[4]
    options &= 0xFFFFFFFF
    if options & ~_WAITID_OPTIONS or not options & (0x2 | 0x4 | 0x8):
        return -errno.EINVAL
    if idtype not in (os.P_ALL, os.P_PID, os.P_PGID):
        return -errno.EINVAL
    result = os.waitid(idtype, ident, options)
    if info_addr:
        k.write(info_addr, _siginfo(k, result))
    if result is not None:
        _put_rusage(k, rusage_addr, None)
    return 0


def _siginfo(k: LinuxKernel, r: os.waitid_result | None) -> bytes:
    """The 128-byte ``siginfo_t`` waitid fills (zeros when WNOHANG found nobody)."""
    buf = bytearray(128)
    if r is None:
        return bytes(buf)
    signo = target_signal_number(k.arch_name, r.si_signo)
    status = r.si_status
    if r.si_code in (2, 3, 5):  # CLD_KILLED, CLD_DUMPED, CLD_STOPPED: a signal number
        status = target_signal_number(k.arch_name, status)
    if abi.SIGINFO_CODE_BEFORE_ERRNO.get(k.arch_name):
        struct.pack_into("<iii", buf, 0, signo, r.si_code, 0)
    else:
        struct.pack_into("<iii", buf, 0, signo, 0, r.si_code)
    off = 16 if k.m.arch.bits == 64 else 12
    struct.pack_into("<iIi", buf, off, r.si_pid, r.si_uid, status)
    return bytes(buf)


@handles("rt_sigreturn")
def sys_rt_sigreturn(k: LinuxKernel, a: Args) -> int:
    from .delivery import sigreturn

    return sigreturn(k, rt=True)


@handles("sigreturn")
def sys_sigreturn(k: LinuxKernel, a: Args) -> int:
    """arm's and mips' return from a handler without SA_SIGINFO (a frame without siginfo)."""
    from .delivery import sigreturn

    return sigreturn(k, rt=False)


@handles("getpgid")
def sys_getpgid(k: LinuxKernel, a: Args) -> int:
    return os.getpgid(c_int(a[0]))


@handles("setpgid")
def sys_setpgid(k: LinuxKernel, a: Args) -> int:
    os.setpgid(c_int(a[0]), c_int(a[1]))
    return 0


@handles("getsid")
def sys_getsid(k: LinuxKernel, a: Args) -> int:
    return os.getsid(c_int(a[0]))


@handles("setsid")
def sys_setsid(k: LinuxKernel, a: Args) -> int:
    os.setsid()
    return os.getpid()
