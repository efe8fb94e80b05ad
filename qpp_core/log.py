"""The plugin log: where ``qemu_plugin_outs`` writes (QEMU's ``-d plugin -D FILE``).

QEMU discards plugin output unless ``-d plugin`` is given. qpp shows it by default, on
stderr, because plugins are the point of running qpp; ``-D FILE`` sends it to a file
instead (the file is created even if nothing is written, as QEMU does), and ``-d plugin``
is accepted for habit's sake. The log is line-buffered and flushed on every exit path.
"""

from __future__ import annotations

import sys
from typing import TextIO

from qpp_core.errors import HostError


class PluginLog:
    """A text sink for plugin output that is always flushed before qpp exits."""

    def __init__(self, path: str | None = None, *, stream: TextIO | None = None) -> None:
        self.path = path
        self._owned = False
        if path is not None:
            try:
                self._stream: TextIO = open(path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
            except OSError as exc:
                raise HostError(f"cannot open the log file -D {path}: {exc.strerror}") from None
            self._owned = True
        else:
            self._stream = stream if stream is not None else sys.stderr

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
