"""FIFOs: ``mknod``/``mknodat`` (``mkfifo``), and the ``open`` of a FIFO that waits for
its other end in its own thread.

The node is the host's (``os.mknod`` with the host process's umask, which is the guest's;
device nodes get the host's answer, EPERM without privilege). A blocking open of a FIFO
for reading or writing waits until the other end is opened. Alone, the handler's host
``open`` simply waits (a host signal for a guest handler ends it, as any slow call). With
other guest threads, only the caller waits (:class:`~.futex.MustWait`): a writer whose
reader is already there opens at once (``O_NONBLOCK`` succeeds, then is cleared); else a
host helper thread does the blocking open, and the guest thread's call runs again when it
is done (its wait asks the helper at each thread switch and every few milliseconds).

A signal handler that ends the wait with EINTR abandons the helper's open: qpp opens the
FIFO's other end for a moment so that the helper's open returns, and closes both. Any
other process blocked in an open of the same end then returns too (Linux would keep it
waiting); under ``SA_RESTART`` the call starts again and picks up the same helper.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from functools import partial
from typing import TYPE_CHECKING

from ...machine.threads import Wait
from .abi import AT_FDCWD
from .futex import MustWait
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel


class _HelperOpen:
    """A host thread's blocking open of a FIFO, for the guest thread that waits on it."""

    __slots__ = ("abandoned", "done", "error", "fd", "flags", "lock", "mode", "path")

    def __init__(self, path: str, flags: int, mode: int) -> None:
        self.path = path
        self.flags = flags
        self.mode = mode
        self.done = threading.Event()
        self.fd: int | None = None
        self.error: OSError | None = None
        self.abandoned = False
        self.lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self._run, name="qpp-fifo-open", daemon=True).start()

    def _run(self) -> None:
        try:
            fd: int | None = os.open(self.path, self.flags, self.mode)
        except OSError as e:
            self.error = e
            fd = None
        with self.lock:
            self.fd = fd
            if self.abandoned and fd is not None:
                os.close(fd)
                self.fd = None
        self.done.set()

    def abandon(self) -> None:
        """The guest no longer waits for this open: unblock it and drop its fd."""
        with self.lock:
            self.abandoned = True
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None
                return
            if self.done.is_set():
                return
        # the helper still waits for the other end: be that end for a moment
        peer = os.O_RDONLY if self.flags & os.O_ACCMODE == os.O_WRONLY else os.O_WRONLY
        with contextlib.suppress(OSError):
            fd = os.open(self.path, peer | os.O_NONBLOCK)
            self.done.wait(1.0)
            os.close(fd)


def _drop(extra: dict[str, object], pending: _HelperOpen) -> None:
    """The call was ended by a signal (EINTR): forget and abandon its helper's open."""
    if extra.get("fifo_open") is pending:
        del extra["fifo_open"]
    pending.abandon()


def _blocks(host: str, flags: int) -> bool:
    """Whether opening ``host`` with host ``flags`` may wait for a peer (a FIFO, read-only
    or write-only, without O_NONBLOCK)."""
    if flags & os.O_NONBLOCK or flags & os.O_ACCMODE == os.O_RDWR or flags & os.O_PATH:
        return False
    try:
        return stat.S_ISFIFO(os.stat(host).st_mode)
    except OSError:
        return False  # the open itself gives the error


def open_fifo(k: LinuxKernel, host: str, flags: int, mode: int) -> int | None:
    """The open of a FIFO that would wait while other threads run: its fd, or MustWait
    (None: not such an open, the caller opens as usual)."""
    threads = k.m.threads
    if threads is None or threads.count < 2 or not _blocks(host, flags):
        return None
    extra = threads.current.extra
    pending = extra.get("fifo_open")
    if isinstance(pending, _HelperOpen) and (pending.path, pending.flags) != (host, flags):
        pending.abandon()  # a handler left the call it interrupted (longjmp)
        pending = None
    if pending is None:
        if flags & os.O_ACCMODE == os.O_WRONLY:
            try:  # a reader is there: no wait (the fd then blocks as asked)
                fd = os.open(host, flags | os.O_NONBLOCK, mode)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
            else:
                os.set_blocking(fd, True)
                return fd
        pending = _HelperOpen(host, flags, mode)
        extra["fifo_open"] = pending
        extra["interrupted"] = partial(_drop, extra, pending)
        pending.start()
    if not pending.done.is_set():
        raise MustWait(Wait(f"open of FIFO {host}", poll=pending.done.is_set, retry=True))
    del extra["fifo_open"]
    extra.pop("interrupted", None)
    if pending.error is not None:
        raise pending.error
    assert pending.fd is not None
    return pending.fd


def _mknod(k: LinuxKernel, dirfd: int, path_addr: int, mode: int, dev: int) -> int:
    from .fs import _dirfd, _path

    path = _path(k, path_addr)
    host = k.files.host_path(path, _dirfd(k, dirfd, path), follow=False)
    mode &= 0xFFFFFFFF
    if stat.S_IFMT(mode) == 0:
        mode |= stat.S_IFREG  # as Linux: no type is a regular file
    dev &= 0xFFFFFFFF  # the kernel's 32-bit encoding (new_decode_dev)
    major, minor = (dev & 0xFFF00) >> 8, (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
    os.mknod(host, mode, os.makedev(major, minor))
    return 0


@handles("mknod")
def sys_mknod(k: LinuxKernel, a: Args) -> int:
    return _mknod(k, AT_FDCWD, a[0], a[1], a[2])


@handles("mknodat")
def sys_mknodat(k: LinuxKernel, a: Args) -> int:
    return _mknod(k, a[0], a[1], a[2], a[3])
