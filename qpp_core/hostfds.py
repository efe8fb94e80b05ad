"""qpp's own file descriptors, kept out of the guest's reach.

Guest fds are host fds (as with qemu-user), so a file qpp keeps open (the ``-D`` log, a
plugin's output file) would be a number the guest could write to, close, or dup2 over.
qpp moves each of its own long-lived fds to a high number, at or above :func:`floor`
(64 below the soft RLIMIT_NOFILE, capped), and records it in :data:`RESERVED`: the syscall
layer answers EBADF for every fd in it, and tells the guest a soft RLIMIT_NOFILE of
:func:`floor`, so the guest has no reason to reach those numbers.

The standard fds can be closed when qpp starts (``qpp run prog >&-``). While qpp sets up,
:func:`hold_closed_std_fds` keeps them on /dev/null, so that no file of qpp's lands on 0,
1 or 2; :func:`release_std_fds` closes them again just before the guest starts, so the
guest finds them closed (EBADF, and its next open gets the lowest one), as under qemu.
qpp's own messages for a closed stdout or stderr go nowhere (:class:`Discard`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import os
import resource
from typing import IO, Any

#: qpp's own fds, which guest syscalls must treat as closed
RESERVED: set[int] = set()

#: the fds :func:`hold_closed_std_fds` put /dev/null on
_held: list[int] = []

_CAP = 1 << 16  # never push qpp's fds (and the kernel's fd table) higher than this
_ROOM = 64  # how many high fds qpp keeps for itself


def floor() -> int:
    """The lowest fd qpp uses for its own files: the guest's soft RLIMIT_NOFILE."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = _CAP if soft == resource.RLIM_INFINITY else min(soft, _CAP)
    return max(limit - _ROOM, limit // 2)


#: the soft RLIMIT_NOFILE the guest set itself (None: it has not; or it set no limit)
_guest_soft: int | None = None


def guest_nofile(soft: int) -> int:
    """The soft RLIMIT_NOFILE the guest is told, given the host's."""
    if _guest_soft is not None:
        return _guest_soft
    return floor() if soft == resource.RLIM_INFINITY else min(soft, floor())


def set_guest_nofile(soft: int, hard: int) -> None:
    """The guest sets RLIMIT_NOFILE (``resource.RLIM_INFINITY`` for none).

    The host's soft limit keeps qpp's room above the guest's where the hard limit allows
    (so that raising the soft limit to the hard one, as Go programs do at start, gives the
    guest more descriptors); the guest is told its own number from then on, even when
    the hard limit leaves qpp's own files among the numbers below it (the kernel then
    gives the guest the other ones). Errors are the host's (``ValueError`` for EINVAL and
    EPERM, as CPython raises them).
    """
    global _guest_soft
    host_soft = soft if soft == resource.RLIM_INFINITY else soft + _ROOM
    if hard != resource.RLIM_INFINITY and (host_soft == resource.RLIM_INFINITY or host_soft > hard):
        host_soft = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (host_soft, hard))
    _guest_soft = None if soft == resource.RLIM_INFINITY else soft


def make_private(fd: int) -> int:
    """Move qpp's own ``fd`` to a high close-on-exec number the guest cannot use.

    The original number is closed (the guest's next open may get it). When no high
    number is free, ``fd`` stays where it is, still refused to the guest.
    """
    try:
        new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor())
    except OSError:
        new = fd
    else:
        os.close(fd)
    RESERVED.add(new)
    return new


def _private_opener(path: str, flags: int) -> int:
    return make_private(os.open(path, flags | os.O_CLOEXEC, 0o666))


def open_private(path: str, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode)`` for a file of qpp's own (or a plugin's), out of the guest's reach.

    Close it with :func:`close_private` (a plain ``close`` works too, but leaves the
    number reserved).
    """
    return open(path, mode, opener=_private_opener, **kwargs)


def pipe_private() -> tuple[int, int]:
    """A close-on-exec pipe of qpp's own (read end, write end), out of the guest's reach."""
    r, w = os.pipe()
    return make_private(r), make_private(w)


def close_private_fd(fd: int) -> None:
    """Close one of qpp's own fds from :func:`make_private` and give its number back."""
    RESERVED.discard(fd)
    with contextlib.suppress(OSError):
        os.close(fd)


def close_private(stream: IO[Any]) -> None:
    """Close a file from :func:`open_private` and give its number back."""
    with contextlib.suppress(ValueError, OSError):
        RESERVED.discard(stream.fileno())
    stream.close()


def hold_closed_std_fds() -> tuple[int, ...]:
    """Put /dev/null on each of fds 0, 1, 2 that is closed; return which were closed."""
    closed = []
    for fd in (0, 1, 2):
        try:
            fcntl.fcntl(fd, fcntl.F_GETFD)
        except OSError as exc:
            if exc.errno != errno.EBADF:
                raise
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd, inheritable=False)
                os.close(null)
            closed.append(fd)
    _held.extend(closed)
    return tuple(closed)


def release_std_fds() -> None:
    """Close the /dev/null placeholders again: the guest finds those fds closed."""
    while _held:
        with contextlib.suppress(OSError):
            os.close(_held.pop())


class Discard(io.TextIOBase):
    """A text stream that drops everything: qpp's stdout or stderr when that fd was closed."""

    def write(self, text: str) -> int:
        return len(text)

    def writable(self) -> bool:
        return True
