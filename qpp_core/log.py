"""The plugin log: where ``qemu_plugin_outs`` writes (QEMU's ``-d plugin -D FILE``).

QEMU discards plugin output unless ``-d plugin`` is given. qpp shows it by default, on
stderr, because plugins are the point of running qpp; ``-D FILE`` sends it to a file
instead (the file is created even if nothing is written, as QEMU does), and ``-d plugin``
is accepted for habit's sake. The log is line-buffered and flushed on every exit path.

Guest processes are host processes (a guest ``fork`` forks qpp): as in QEMU, ``%d`` in the
file name is replaced by the pid, which gives one log per process (a forked child opens
its own); without ``%d`` every process appends whole lines to the one file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import weakref
from typing import TextIO, cast

from qpp_core.errors import HostError
from qpp_core.hostfds import Discard, close_private, open_private


class PluginLog:
    """A text sink for plugin output that is always flushed before qpp exits.

    The ``-D`` file is qpp's own: it is opened out of the guest's fd space (see
    :mod:`qpp_core.hostfds`). When writing fails (``-D /dev/full``, a closed pipe), the
    failure is kept in :attr:`failure` for the runner to report at exit (status 84), the
    output from then on is dropped, and no plugin sees an exception for it.
    """

    def __init__(self, path: str | None = None, *, stream: TextIO | None = None) -> None:
        self.path = path
        self._owned = False
        self.failure: HostError | None = None
        if path is not None:
            self._stream: TextIO = self._open(path)
            self._owned = True
        else:
            self._stream = stream if stream is not None else sys.stderr
        _LIVE.add(self)

    @staticmethod
    def _open(path: str) -> TextIO:
        name = path.replace("%d", str(os.getpid()))
        try:
            stream = cast(TextIO, open_private(name, "w", encoding="utf-8", buffering=1))
            # appending: the processes of a forked guest share the file, line by line
            fd = stream.fileno()
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
        except OSError as exc:
            raise HostError(f"cannot open the log file -D {name}: {exc.strerror}") from None
        return stream

    def _after_fork_in_child(self) -> None:
        """A guest fork's child: with ``%d`` in the name it writes a log of its own."""
        if self._owned and self.path is not None and "%d" in self.path:
            old = self._stream
            with contextlib.suppress(HostError):
                self._stream = self._open(self.path)
                # the parent's file object (flushed before the fork) stays open and unused:
                # closing it here could close a descriptor number reused since
                _PARENTS_FILES.append(old)

    def _failed(self, exc: OSError) -> None:
        where = f"the log file -D {self.path}" if self._owned else "plugin output"
        if self.failure is None:
            self.failure = HostError(
                f"cannot write {where}: {exc.strerror or exc}; plugin output was lost"
            )
        stream, self._stream = self._stream, cast(TextIO, Discard())
        if self._owned:  # close it now, dropping what it still buffers
            self._owned = False
            with contextlib.suppress(OSError):
                close_private(stream)

    def outs(self, text: str) -> None:
        """Write ``text`` as given (QEMU's ``qemu_plugin_outs`` adds no newline)."""
        try:
            self._stream.write(text)
        except OSError as exc:
            self._failed(exc)

    def error(self, message: str) -> None:
        """A qpp message about a plugin; also shown on stderr when the log is a file."""
        line = f"qpp: {message}\n"
        owned = self._owned
        self.outs(line)
        if owned:
            sys.stderr.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self._failed(exc)

    def close(self) -> None:
        self.flush()
        if self._owned:
            self._owned = False
            try:
                close_private(self._stream)
            except OSError as exc:
                self._failed(exc)


#: logs that are open, for the fork handlers
_LIVE: weakref.WeakSet[PluginLog] = weakref.WeakSet()
#: in a forked child: the parent's log files, kept from being closed by the collector
_PARENTS_FILES: list[TextIO] = []


def _before_fork() -> None:
    for log in list(_LIVE):
        with contextlib.suppress(OSError, ValueError):
            log.flush()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def _after_fork_in_child() -> None:
    for log in list(_LIVE):
        log._after_fork_in_child()


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
