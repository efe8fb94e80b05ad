"""Progress: a tqdm bar on stderr (done, failed, running, ETA) or JSON lines on stdout.

``--json`` prints one object per line: ``{"event": "job", ...}`` as each job ends (its id,
status, and the batch's counts) and ``{"event": "summary", ...}`` at the end.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO


class Progress:
    """Counts jobs and shows them; ``mode`` is ``bar``, ``json`` or ``quiet``."""

    def __init__(self, total: int, done: int, failed: int, mode: str) -> None:
        self.total = total
        self.done = done
        self.failed = failed
        self.mode = mode
        self.began = time.monotonic()
        self._first = done
        self._bar: Any = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                initial=done,
                unit="job",
                file=sys.stderr,
                disable=None,  # off when stderr is not a terminal
            )
            self._bar.set_postfix_str(self._postfix(0), refresh=False)

    def _postfix(self, running: int) -> str:
        return f"failed={self.failed} running={running}"

    def eta(self) -> float | None:
        """Seconds left at the rate of this run so far (None before the first job)."""
        finished = self.done - self._first
        if finished <= 0:
            return None
        rate = finished / (time.monotonic() - self.began)
        return (self.total - self.done) / rate

    def started(self, running: int) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(self._postfix(running))

    def finished(self, record: dict[str, Any], failed: bool, running: int) -> None:
        self.done += 1
        self.failed += failed
        if self._bar is not None:
            self._bar.set_postfix_str(self._postfix(running), refresh=False)
            self._bar.update(1)
        elif self.mode == "json":
            eta = self.eta()
            emit(
                sys.stdout,
                {
                    "event": "job",
                    "id": record["id"],
                    "status": record["status"],
                    "done": self.done,
                    "failed": self.failed,
                    "running": running,
                    "total": self.total,
                    "eta": round(eta, 1) if eta is not None else None,
                },
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def emit(stream: TextIO, data: dict[str, Any]) -> None:
    """One JSON line, flushed at once (a reader follows the batch as it goes)."""
    stream.write(json.dumps(data) + "\n")
    stream.flush()
