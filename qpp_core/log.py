"""The plugin log: where ``qemu_plugin_outs`` writes (QEMU's ``-d plugin -D FILE``).

QEMU discards plugin output unless ``-d plugin`` is given. qpp shows it by default, on
stderr, because plugins are the point of running qpp; ``-D FILE`` sends it to a file
instead (the file is created even if nothing is written, as QEMU does), and ``-d plugin``
is accepted for habit's sake. The log is line-buffered and flushed on every exit path.
"""

from __future__ import annotations

import contextlib
import sys
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
            try:
                self._stream: TextIO = cast(
                    TextIO, open_private(path, "w", encoding="utf-8", buffering=1)
                )
            except OSError as exc:
                raise HostError(f"cannot open the log file -D {path}: {exc.strerror}") from None
            self._owned = True
        else:
            self._stream = stream if stream is not None else sys.stderr

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
