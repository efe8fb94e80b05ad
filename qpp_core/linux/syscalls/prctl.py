"""``prctl``'s options common to every target, answered as qemu-user 7.2 answers them.

qemu-user handles a few options itself and passes those without pointer arguments to the
host (the guest is one host process, so their effect is the host's): the same here.

- ``PR_SET_NAME``/``PR_GET_NAME``: the calling thread's 16-byte name (15 characters and a
  NUL), kept per guest thread since guest threads share qpp's host thread; a process
  starts with its program's file name, as Linux names it at ``execve`` (under qemu-user
  the host thread's, ``qemu-ARCH``).
- ``PR_GET_PDEATHSIG``: the host's, written as an ``int``; EFAULT for a bad pointer.
- the options in :data:`HOST_OPTIONS` (dumpable, keepcaps, timer slack, no_new_privs,
  securebits, the capability bounding set and ambient set, timing, machine-check kill,
  ``PR_SET_PDEATHSIG``): the host's answer.
- everything else, seccomp included (qemu refuses it: a filter would block the system
  calls qemu itself makes), the child subreaper, speculation control and the tid address
  (qemu 7.2's TODOs): EINVAL. Architecture options (SVE, mips FP mode) are answered
  before these (:mod:`.arch_misc`, :mod:`.proc`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from typing import TYPE_CHECKING

from .registry import Args

if TYPE_CHECKING:
    from .kernel import LinuxKernel

PR_SET_PDEATHSIG = 1
PR_GET_PDEATHSIG = 2
PR_SET_NAME = 15
PR_GET_NAME = 16
#: options without pointer arguments that qemu-user 7.2 passes to the host
HOST_OPTIONS = frozenset(
    {
        PR_SET_PDEATHSIG,
        3,  # PR_GET_DUMPABLE
        4,  # PR_SET_DUMPABLE
        7,  # PR_GET_KEEPCAPS
        8,  # PR_SET_KEEPCAPS
        13,  # PR_GET_TIMING
        14,  # PR_SET_TIMING
        23,  # PR_CAPBSET_READ
        24,  # PR_CAPBSET_DROP
        27,  # PR_GET_SECUREBITS
        28,  # PR_SET_SECUREBITS
        29,  # PR_SET_TIMERSLACK
        30,  # PR_GET_TIMERSLACK
        33,  # PR_MCE_KILL
        34,  # PR_MCE_KILL_GET
        38,  # PR_SET_NO_NEW_PRIVS
        39,  # PR_GET_NO_NEW_PRIVS
        47,  # PR_CAP_AMBIENT
    }
)
NAME_SIZE = 16

_libc: ctypes.CDLL | None = None


def _host_prctl(option: int, *args: int) -> int:
    """The host's prctl: its result, or -errno."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    result: int = _libc.prctl(
        ctypes.c_int(option), *(ctypes.c_ulong(a & 0xFFFFFFFFFFFFFFFF) for a in args)
    )
    return -ctypes.get_errno() if result == -1 else result


def _tid(k: LinuxKernel) -> int:
    threads = k.m.threads
    return threads.current.tid if threads is not None else os.getpid()


def thread_name(k: LinuxKernel, tid: int) -> bytes:
    """Guest thread ``tid``'s name (``/proc/self/stat`` shows the main thread's)."""
    name = k.thread_names.get(tid)
    if name is None:  # as Linux names a process at execve: its file's name
        name = os.path.basename(k.files.exe).encode(errors="surrogateescape")[: NAME_SIZE - 1]
    return name


def _name(k: LinuxKernel) -> bytes:
    return thread_name(k, _tid(k))


def common_prctl(k: LinuxKernel, a: Args) -> int:
    """prctl's options common to all targets (module docstring)."""
    option = a[0] & 0xFFFFFFFF
    if option == PR_GET_NAME:
        try:
            k.write(a[1], _name(k).ljust(NAME_SIZE, b"\0"))
        except Exception:
            return -errno.EFAULT
        return 0
    if option == PR_SET_NAME:
        try:
            raw = k.read(a[1], NAME_SIZE)
        except Exception:
            return -errno.EFAULT
        k.thread_names[_tid(k)] = raw[: NAME_SIZE - 1].split(b"\0", 1)[0]
        return 0
    if option == PR_GET_PDEATHSIG:
        sig = ctypes.c_int(0)
        result = _host_prctl(option, ctypes.addressof(sig))
        if result < 0:
            return result
        try:
            k.write(a[1], struct.pack("<i", sig.value))
        except Exception:
            return -errno.EFAULT
        return 0
    if option in HOST_OPTIONS:
        return _host_prctl(option, a[1], a[2], a[3], a[4])
    return -errno.EINVAL
