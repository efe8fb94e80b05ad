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
import os
import sys
import weakref
from typing import TextIO

from qpp_core.errors import HostError


class PluginLog:
    """A text sink for plugin output that is always flushed before qpp exits."""

    def __init__(self, path: str | None = None, *, stream: TextIO | None = None) -> None:
        self.path = path
        self._owned = False
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
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o666)
        except OSError as exc:
            raise HostError(f"cannot open the log file -D {name}: {exc.strerror}") from None
        return open(fd, "w", encoding="utf-8", buffering=1)

    def _after_fork_in_child(self) -> None:
        """A guest fork's child: with ``%d`` in the name it writes a log of its own."""
        if self._owned and self.path is not None and "%d" in self.path:
            old = self._stream
            with contextlib.suppress(HostError):
                self._stream = self._open(self.path)
                # the parent's file object (flushed before the fork) stays open and unused:
                # closing it here could close a descriptor number reused since
                _PARENTS_FILES.append(old)

    def outs(self, text: str) -> None:
        """Write ``text`` as given (QEMU's ``qemu_plugin_outs`` adds no newline)."""
        self._stream.write(text)

    def error(self, message: str) -> None:
        """A qpp message about a plugin; also shown on stderr when the log is a file."""
        line = f"qpp: {message}\n"
        self._stream.write(line)
        if self._owned:
            sys.stderr.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self.flush()
        if self._owned:
            self._stream.close()
            self._owned = False


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
