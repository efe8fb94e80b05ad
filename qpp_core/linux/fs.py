"""The guest's view of the file system: the host's, with /proc/self/exe emulated, or a jail.

Without ``--jail`` guest paths are host paths (as with qemu-user), except that
/proc/self/exe names the guest program rather than qpp's Python. With ``-L SYSROOT`` an
absolute guest path that exists under SYSROOT means that file instead (qemu-user's rule:
the dynamic linker finds the target's libraries, anything else falls through to the
host); the jail, if any, then applies to the result. With ``--jail DIR`` every
path the guest names is resolved completely on the host (relative to its directory fd or
the working directory, through ``..`` and every symlink, /proc/self/* included) and must
end inside DIR; anything else fails with EACCES and is reported on stderr. The guest
starts in the jail: in qpp's working directory if that lies inside DIR, else in DIR
itself (:meth:`FileView.enter`). Descriptors the guest already holds (its inherited stdio,
pipes, sockets) are its own: fstat and the ``*at`` calls with an empty path work on them;
only a directory fd that is used to resolve a path must lie inside the jail.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable

from ..hostfds import RESERVED
from .syscalls.abi import AT_FDCWD

#: /proc/PID/fd/N and fdinfo/N (also through self, thread-self and task/TID)
_PROC_FD = re.compile(r"/proc/(?:self|thread-self|\d+)(?:/task/\d+)?/fd(?:info)?/(\d+)")


def is_proc_self_exe(path: str) -> bool:
    """Whether ``path`` names this process's exe (the pid is read now: a fork changes it)."""
    return path in ("/proc/self/exe", "/proc/thread-self/exe", f"/proc/{os.getpid()}/exe")


def names_private_fd(path: str) -> bool:
    """Whether ``path`` is /proc's link to one of qpp's own fds (the -D log...).

    The guest must not reopen qpp's files through /proc: it gets ENOENT, as for a closed fd.
    """
    m = _PROC_FD.fullmatch(os.path.normpath(path))
    return m is not None and int(m.group(1)) in RESERVED


class JailEscape(OSError):
    """A guest path resolved outside the jail."""


class FileView:
    """Turns guest paths into host paths, enforcing the jail when there is one."""

    def __init__(
        self,
        exe: str,
        jail: str | None,
        report: Callable[[str], None],
        sysroot: str | None = None,
    ) -> None:
        self.exe = os.path.realpath(exe)
        self.jail = os.path.realpath(jail) if jail else None
        root = os.path.abspath(sysroot) if sysroot else "/"
        self.sysroot = None if root == "/" else root  #: -L; "/" is the host itself
        self.report = report
        self.escapes = 0

    def enter(self) -> None:
        """Start the guest inside the jail (qpp's cwd if it is inside, else the jail root)."""
        if self.jail is not None and not self.inside(os.path.realpath(os.getcwd())):
            os.chdir(self.jail)

    def _base_dir(self, dirfd: int) -> str:
        if dirfd == AT_FDCWD:
            return os.getcwd()
        try:
            mode = os.fstat(dirfd).st_mode
        except (OSError, OverflowError):  # closed, or no fd number at all
            raise OSError(errno.EBADF, "bad directory fd") from None
        if not stat.S_ISDIR(mode):
            raise OSError(errno.ENOTDIR, "not a directory")
        return os.readlink(f"/proc/self/fd/{dirfd}")

    def host_path(self, path: str, dirfd: int = AT_FDCWD, follow: bool = True) -> str:
        """The host path for a guest path (raises OSError with EACCES on a jail escape)."""
        path = self.exe if follow and is_proc_self_exe(path) else self.in_sysroot(path)
        full = path if os.path.isabs(path) else os.path.join(self._base_dir(dirfd), path)
        if RESERVED and names_private_fd(full):
            raise OSError(errno.ENOENT, "qpp's own fd")
        if self.jail is None:
            return full
        if follow:
            real = os.path.realpath(full)
        else:  # the last component itself is what is meant (lstat, unlink, readlink)
            head, tail = os.path.split(os.path.normpath(full))
            real = (
                os.path.join(os.path.realpath(head), tail)
                if tail not in ("", "..")
                else os.path.realpath(full)
            )
        if not self.inside(real):
            self.escapes += 1
            self.report(f"qpp: jail: refused {path!r} (resolves to {real}, outside {self.jail})")
            raise JailEscape(errno.EACCES, "outside the jail")
        return real

    def in_sysroot(self, path: str) -> str:
        """``-L``: an absolute path that exists under the sysroot names that file."""
        if self.sysroot is None or not path.startswith("/") or path.strip("/") == "":
            return path
        redirected = self.sysroot + path
        return redirected if os.path.lexists(redirected) else path

    def inside(self, real: str) -> bool:
        assert self.jail is not None
        return real == self.jail or real.startswith(self.jail.rstrip("/") + "/")

    def check_fd_dir(self, fd: int) -> None:
        """fchdir and *at calls on an fd: a directory fd must be inside the jail.

        Any other fd (a pipe, a tty, a file) names no place in the file system to start
        from: ``fstatat(fd, "", AT_EMPTY_PATH)`` on it is allowed, and a relative path
        against it fails with ENOTDIR when it is resolved.
        """
        if self.jail is None:
            return
        try:
            is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        except (OSError, OverflowError):  # closed, or no fd number at all
            raise OSError(errno.EBADF, "bad file descriptor") from None
        if is_dir:
            self.host_path(self._base_dir(fd))

    def readlink(self, path: str, dirfd: int = AT_FDCWD) -> str:
        """readlink(2) with /proc/self/exe answered as the guest program's path."""
        if is_proc_self_exe(path):
            return self.exe
        return os.readlink(self.host_path(path, dirfd, follow=False))
