"""execve and execveat: the process goes on as a new program, inside the same qpp process.

The new image is loaded into a new machine (any of the five architectures: a shell on
x86_64 may exec an aarch64 tool) before the old one is given up, so that every error
reaches the caller as Linux's errno (ENOENT, EACCES, ENOEXEC, E2BIG, ELOOP) and the old
program runs on. Then close-on-exec descriptors are closed, caught signals go back to their
default action (ignored ones stay ignored, the mask stays), a vfork parent is released,
and the old machine stops with the new one as its successor; the runner moves the plugins
over (they keep their state; translated code is flushed and ``qpp_guest_exec`` tells them
which program now runs). ``#!`` scripts are followed as Linux follows them, with the
interpreter looked up through the same file view (``--jail``, ``-L``) as every path.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import stat
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from ...errors import QppError
from .cint import c_int
from .process import release_vfork_parent
from .registry import Args, handles
from .sigstate import inherit_across_exec

if TYPE_CHECKING:
    from .kernel import LinuxKernel

#: Linux's limits: one string (MAX_ARG_STRLEN) and argv+envp together (a quarter of the
#: default 8 MiB stack), and how deep ``#!`` may nest
MAX_ARG_STRLEN = 32 * 4096
MAX_ARG_TOTAL = 2 * 1024 * 1024
MAX_SCRIPT_DEPTH = 5
BINPRM_BUF_SIZE = 256
AT_EMPTY_PATH = 0x1000
AT_SYMLINK_NOFOLLOW = 0x100


def _strings(k: LinuxKernel, addr: int) -> list[str]:
    """A NULL-terminated array of guest string pointers (argv, envp)."""
    out: list[str] = []
    if not addr:
        return out
    word = k.m.arch.word
    fmt = "<Q" if word == 8 else "<I"
    total = 0
    while True:
        (ptr,) = struct.unpack(fmt, k.read(addr + len(out) * word, word))
        if not ptr:
            return out
        s = k.cstr(ptr, MAX_ARG_STRLEN + 1)
        if len(s) > MAX_ARG_STRLEN:
            raise OSError(errno.E2BIG, "argument too long")
        total += len(s) + 1 + word
        if total > MAX_ARG_TOTAL:
            raise OSError(errno.E2BIG, "argument list too long")
        out.append(s)


def _check_executable(host: str) -> bytes:
    """The first bytes of an executable regular file, or Linux's errno."""
    st = os.stat(host)  # ENOENT, ENOTDIR, ELOOP, EACCES come from the host as they are
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EACCES, "not a regular file")
    if not os.access(host, os.X_OK) or not st.st_mode & 0o111:
        raise OSError(errno.EACCES, "not executable")
    try:
        with open(host, "rb") as f:
            return f.read(BINPRM_BUF_SIZE)
    except IsADirectoryError:  # pragma: no cover (checked above)
        raise OSError(errno.EACCES, "a directory") from None


def _shebang(head: bytes) -> tuple[str, str | None]:
    """``#!interp [arg]``: the interpreter and its one optional argument, as Linux parses."""
    line = head[2:].split(b"\n", 1)[0]  # Linux reads what fits in its buffer
    line = line.replace(b"\t", b" ").strip(b" ")
    if not line:
        raise OSError(errno.ENOEXEC, "empty #! line")
    interp, _, arg = line.partition(b" ")
    arg = arg.strip(b" ")
    return os.fsdecode(interp), (os.fsdecode(arg) if arg else None)


def close_on_exec_fds() -> None:
    """Close the guest's close-on-exec descriptors (qpp's own stay open)."""
    from ...hostfds import RESERVED

    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd in RESERVED:
            continue
        try:
            if fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                os.close(fd)
        except OSError:
            continue


def do_execve(
    k: LinuxKernel, path: str, argv: list[str], envp: list[str], *, dirfd: int | None = None
) -> int:
    """Load ``path`` as the process's new program; on success the old one never resumes."""
    from ..load import load_guest

    if not path:
        raise OSError(errno.ENOENT, "empty path")
    exec_path, args = path, list(argv)
    for _ in range(MAX_SCRIPT_DEPTH):
        host = (
            k.files.host_path(exec_path, dirfd)
            if dirfd is not None
            else k.files.host_path(exec_path)
        )
        head = _check_executable(host)
        if head.startswith(b"\x7fELF"):
            break
        if not head.startswith(b"#!"):
            raise OSError(errno.ENOEXEC, "not an executable format")
        interp, arg = _shebang(head)
        args = [interp, *([arg] if arg is not None else []), exec_path, *args[1:]]
        exec_path, dirfd = interp, None
    else:
        raise OSError(errno.ELOOP, "#! nested too deeply")

    opts = k.opts._replace(
        binary=exec_path,
        host_binary=host,
        args=tuple(args[1:]),
        argv0=args[0] if args else "",
        environ=tuple(envp),
    )
    try:
        machine = load_guest(opts, stderr=k.stderr)
    except QppError as error:
        if not _runs_natively(k, head):
            raise OSError(errno.ENOEXEC, str(error)) from None
        release_vfork_parent(k)
        k.m.leave_for_native(_native_exec(k, host, args, envp))
        return 0
    except MemoryError:
        raise OSError(errno.ENOMEM, "no memory for the new image") from None
    close_on_exec_fds()
    inherit_across_exec(k, machine.kernel)
    release_vfork_parent(k)
    machine.is_fork_child = k.m.is_fork_child
    k.m.exec_into(machine)
    return 0


#: ELF e_machine of the hosts qpp runs on
_HOST_MACHINES = {"x86_64": 62, "aarch64": 183}


def _runs_natively(k: LinuxKernel, head: bytes) -> bool:
    """Whether an ELF qpp cannot load is a program for the host itself (a dynamically
    linked host tool: ``/bin/sh`` for ``system()``), which qemu-user hands to the host
    kernel to run. Never in a ``--jail``: the program would run outside it."""
    if k.files.jail is not None or len(head) < 20:
        return False
    machine = struct.unpack_from("<H", head, 18)[0]
    return head[5] == 1 and machine == _HOST_MACHINES.get(os.uname().machine)


def _native_exec(
    k: LinuxKernel, host: str, argv: list[str], envp: list[str]
) -> Callable[[], NoReturn]:
    """What replaces the process with the host's program: the guest's ignored signals
    stay ignored and the others go back to their default action, the guest's signal mask
    is the new program's, as an exec on Linux leaves them."""
    from .sigstate import SIG_ABI, SIG_IGN, disposition, host_signal, state

    ignored, blocked = set(), set()
    mask = int.from_bytes(state(k).mask or b"\0", "little")
    for sig in range(1, SIG_ABI[k.arch_name].nsig + 1):
        number = host_signal(k, sig)
        if not 0 < number < signal.NSIG or number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        if disposition(k, sig) == SIG_IGN:
            ignored.add(number)
        if mask >> (sig - 1) & 1:
            blocked.add(number)

    def replace() -> NoReturn:
        for number in range(1, signal.NSIG):
            with contextlib.suppress(OSError, ValueError):
                signal.signal(number, signal.SIG_IGN if number in ignored else signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        try:
            os.execve(host, argv, dict(e.partition("=")[::2] for e in envp))
        except OSError as e:  # it was checked: only a race gets here
            os.write(2, f"qpp: execve of {host} failed: {e.strerror}\n".encode())
            os._exit(127)

    return replace


@handles("execve")
def sys_execve(k: LinuxKernel, a: Args) -> int:
    path = k.cstr(a[0]) if a[0] else ""
    return do_execve(k, path, _strings(k, a[1]), _strings(k, a[2]))


@handles("execveat")
def sys_execveat(k: LinuxKernel, a: Args) -> int:
    dirfd = c_int(a[0])
    path = k.cstr(a[1]) if a[1] else ""
    flags = a[4] & 0xFFFFFFFF
    if flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW):
        return -errno.EINVAL
    if not path and flags & AT_EMPTY_PATH:
        path = f"/proc/self/fd/{dirfd}"
        return do_execve(k, path, _strings(k, a[2]), _strings(k, a[3]))
    return do_execve(k, path, _strings(k, a[2]), _strings(k, a[3]), dirfd=dirfd)
