"""Where jobs run: a pool of forked children of this process, or a Dask cluster.

Both give the driver the same stream of :class:`Event` s and leave each job's files in
its folder of the results; neither schedules anything itself beyond "at most N children
at once" (Dask does the scheduling, and the retries when a worker is lost).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from qpp_core.batch import waiting
from qpp_core.batch.child import Running, start
from qpp_core.batch.jobs import Job
from qpp_core.batch.records import Results
from qpp_core.batch.settings import Settings


@dataclass
class Event:
    """A job started (``record`` is None) or ended with ``record``."""

    job: Job
    record: dict[str, Any] | None = None


class Executor(Protocol):
    def run(self, jobs: list[Job]) -> Iterator[Event]:
        """Run ``jobs``; yield an event as each one starts and ends."""

    def running(self) -> int:
        """How many jobs run now (an estimate where the executor cannot know)."""

    def stop(self, *, now: bool) -> None:
        """Start no more jobs; with ``now``, also abandon the running ones."""


class LocalPool:
    """This process forks one child per job, ``workers`` at a time (the local pool).

    This process is the warm parent: it imported the engine and the plugins once, so a
    job costs a fork rather than a Python start-up. Children die with it (a killed batch
    leaves no job running: they are re-run when the batch is resumed).
    """

    def __init__(self, settings: Settings, results: Results, workers: int) -> None:
        self.settings = settings
        self.results = results
        self.workers = max(1, workers)
        self._running: dict[int, Running] = {}
        self._stopping = False
        self._abort = False
        self._wake_fd: int | None = None

    def running(self) -> int:
        return len(self._running)

    def stop(self, *, now: bool) -> None:
        self._stopping = True
        self._abort = self._abort or now

    def set_wakeup(self, fd: int) -> None:
        """A readable fd that interrupts the wait (the signal wake-up pipe)."""
        self._wake_fd = fd

    def run(self, jobs: list[Job]) -> Iterator[Event]:
        pending = deque(jobs)
        memory = bool(self.settings.memory_mb)
        selector = selectors.DefaultSelector()
        if self._wake_fd is not None:
            selector.register(self._wake_fd, selectors.EVENT_READ, None)
        try:
            while not self._abort and (self._running or (pending and not self._stopping)):
                while pending and not self._stopping and len(self._running) < self.workers:
                    job = pending.popleft()
                    running = start(
                        job, self.settings, self.results.job_dir(job), die_with_parent=True
                    )
                    self._running[running.pidfd] = running
                    selector.register(running.pidfd, selectors.EVENT_READ, running)
                    yield Event(job)
                deadlines = [
                    r.deadline
                    for r in self._running.values()
                    if r.deadline is not None and not r.timed_out
                ]
                timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                for key, _ in selector.select(timeout):
                    if self._abort:
                        return  # the running jobs are abandoned below, not recorded
                    if key.data is None:
                        _drain(key.fd)
                        continue
                    running = self._running.pop(key.fd)
                    selector.unregister(key.fd)
                    yield Event(running.job, waiting.reap(running, memory))
                now = time.monotonic()
                for running in self._running.values():
                    waiting.expire(running, now)
        finally:
            for running in self._running.values():
                waiting.abandon(running)
            self._running.clear()
            selector.close()


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError, InterruptedError):
        os.read(fd, 512)
