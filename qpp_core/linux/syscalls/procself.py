"""The files of ``/proc/self`` that describe the guest program, not qpp's Python process.

The guest opens ``/proc/self/...`` (or ``/proc/thread-self/...``, ``/proc/<its pid>/...``)
on the host's file system, where they would describe qpp. Those that name the program, its
arguments or its address space are answered from the guest instead, each as a fresh
read-only file holding the text the guest would read on Linux:

- ``maps``: the guest's mappings, as qemu-user 7.2 renders them (:mod:`..maps`);
- ``cmdline`` and ``environ``: the argument and environment strings, read from the guest's
  stack as Linux reads them (a program that rewrites its argv, setproctitle-style, shows
  the new text), where qemu-user keeps the strings it started with and passes
  ``environ`` to the host (qemu's own environment);
- ``auxv``: the auxiliary vector the program started with, in the guest's word size;
- ``stat``: Linux's line, with the guest's facts where qpp has them (its name, thread
  count, blocked and caught signals, start of stack, code, data, break, arguments and
  environment) and the host process's elsewhere: state, parents, times, faults and
  memory use are the real ones of the process the guest runs in (qemu-user 7.2 writes 0
  for most fields).

Everything else under ``/proc/self`` is the host's, as under qemu-user.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

from ..maps import render_maps
from . import sigstate

if TYPE_CHECKING:
    from .kernel import LinuxKernel


class ProcessImage:
    """Where a program's start-up data sits in guest memory (set by the loader)."""

    __slots__ = (
        "arg_end",
        "arg_start",
        "auxv",
        "brk_start",
        "code",
        "data",
        "env_end",
        "start_stack",
    )

    def __init__(
        self,
        arg_start: int,
        arg_end: int,
        env_end: int,
        start_stack: int,
        auxv: bytes,
        code: tuple[int, int],
        data: tuple[int, int],
        brk_start: int,
    ) -> None:
        self.arg_start = arg_start  #: the first argument string
        self.arg_end = arg_end  #: past the last one: where the environment strings begin
        self.env_end = env_end  #: past the last environment string
        self.start_stack = start_stack  #: the initial stack pointer (argc)
        self.auxv = auxv  #: the auxiliary vector, AT_NULL included, in guest words
        self.code = code  #: [start, end) of the program's code (Linux's start/end_code)
        self.data = data  #: Linux's start_data/end_data
        self.brk_start = brk_start  #: the initial program break


#: the files answered here
EMULATED = frozenset({"maps", "cmdline", "environ", "auxv", "stat"})


def emulated_name(path: str) -> str | None:
    """``"maps"``, ``"cmdline"``... when ``path`` names one of this process's emulated
    files (the pid is read now: a fork changes it), else None."""
    if not path.startswith("/proc/"):
        return None
    head, _, name = path[6:].partition("/")
    if name not in EMULATED:
        return None
    return name if head in ("self", "thread-self", str(os.getpid())) else None


def open_emulated(k: LinuxKernel, name: str) -> int:
    """A readable host fd (at offset 0, close-on-exec) holding the file's text."""
    fd = os.memfd_create(f"qpp-{name}", os.MFD_CLOEXEC)
    try:
        os.write(fd, render(k, name))
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    os.set_inheritable(fd, False)
    return fd


def render(k: LinuxKernel, name: str) -> bytes:
    """The bytes of ``/proc/self/<name>`` (one of :data:`EMULATED`)."""
    if name == "maps":
        return render_maps(k.memory)
    image = k.image
    if image is None:  # a machine built without the loader: nothing to show
        return b""
    if name == "cmdline":
        return _strings(k, image.arg_start, image.arg_end)
    if name == "environ":
        return _strings(k, image.arg_end, image.env_end)
    if name == "auxv":
        return image.auxv
    return _stat(k, image).encode()


def _strings(k: LinuxKernel, start: int, end: int) -> bytes:
    """Guest memory ``[start, end)`` as Linux reads an argument area (nothing when the
    guest unmapped it)."""
    try:
        return k.read(start, end - start)
    except Exception:
        return b""


def _comm(k: LinuxKernel) -> str:
    """The process's name: its main thread's (prctl PR_SET_NAME), else its file's."""
    from .prctl import thread_name

    return thread_name(k, os.getpid()).decode(errors="replace")


def _signal_words(k: LinuxKernel) -> tuple[int, int, int]:
    """stat's obsolete ``blocked``, ``sigignore`` and ``sigcatch``: the first 31 signals."""
    mask = int.from_bytes(sigstate.state(k).mask or b"\0", "little")
    ignored = caught = 0
    for sig in range(1, 32):
        action = sigstate.disposition(k, sig)
        if action == sigstate.SIG_IGN:
            ignored |= 1 << (sig - 1)
        elif action != sigstate.SIG_DFL:
            caught |= 1 << (sig - 1)
    return mask & 0x7FFF_FFFF, ignored, caught


def _stat(k: LinuxKernel, image: ProcessImage) -> str:
    """Linux's ``/proc/<pid>/stat`` line (proc(5)), fields 1 to 52."""
    with open(f"/proc/{os.getpid()}/stat") as f:
        host = f.read()
    # the host's fields after its "(comm)", which may itself hold spaces and parentheses
    rest = host[host.rindex(")") + 2 :].split()
    fields = ["", "", *rest]  # fields[i] is field i+1 of proc(5)
    threads = k.m.threads
    blocked, ignored, caught = _signal_words(k)
    mask = k.m.arch.mask
    guest = {
        20: len(threads.live) if threads is not None else 1,  # num_threads
        23: sum(end - start for start, end, _prot in k.memory.regions()),  # vsize
        26: image.code[0],  # startcode
        27: image.code[1],  # endcode
        28: image.start_stack,
        29: 0,  # kstkesp
        30: 0,  # kstkeip
        31: 0,  # signal (pending)
        32: blocked,
        33: ignored,
        34: caught,
        38: sigstate.guest_sigchld(k),  # exit_signal
        45: image.data[0],  # start_data
        46: image.data[1],  # end_data
        47: image.brk_start,
        48: image.arg_start,
        49: image.arg_end,
        50: image.arg_end,  # env_start
        51: image.env_end,
    }
    for field, value in guest.items():
        if field <= len(fields):
            fields[field - 1] = str(value & mask)
    return f"{os.getpid()} ({_comm(k)}) " + " ".join(fields[2:]) + "\n"


def pack_auxv(pairs: tuple[tuple[int, int], ...], word: int, little: bool) -> bytes:
    """The auxiliary vector's pairs as the guest's words (what ``auxv`` reads)."""
    fmt = ("<" if little else ">") + ("Q" if word == 8 else "I") * (2 * len(pairs))
    return struct.pack(fmt, *(v for pair in pairs for v in pair))
