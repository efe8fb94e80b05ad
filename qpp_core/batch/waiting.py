"""Waiting for job children: reaping, timeouts, and cleaning up their process groups."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from typing import Any

from qpp_core.batch.child import RESULT_FILE, Running
from qpp_core.batch.outcome import classify


def reap(running: Running, memory: bool) -> dict[str, Any]:
    """Collect an ended child (its pidfd is readable) and return the job's record.

    Whatever the guest left running in the job's process group is killed: a job ends
    with everything it started.
    """
    _, wait_status, rusage = os.wait4(running.pid, 0)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.pid, signal.SIGKILL)
    os.close(running.pidfd)
    record = classify(running, wait_status, rusage, memory)
    with contextlib.suppress(OSError):  # its content is in the record now
        os.unlink(os.path.join(running.job_dir, RESULT_FILE))
    return record


def expire(running: Running, now: float) -> None:
    """Kill the job if its deadline passed (its end is then reaped as a timeout)."""
    if running.deadline is not None and not running.timed_out and now >= running.deadline:
        running.timed_out = True
        running.kill()


def wait(running: Running, memory: bool) -> dict[str, Any]:
    """Block until the job ends (or its timeout kills it); its record."""
    while True:
        timeout = None
        if running.deadline is not None and not running.timed_out:
            timeout = max(0.0, running.deadline - time.monotonic())
        ready, _, _ = select.select([running.pidfd], [], [], timeout)
        if ready:
            return reap(running, memory)
        expire(running, time.monotonic())


def abandon(running: Running) -> None:
    """Kill a job that will not be recorded (the batch stops) and reap it."""
    running.kill()
    with contextlib.suppress(ChildProcessError):
        os.waitpid(running.pid, 0)
    with contextlib.suppress(OSError):
        os.close(running.pidfd)
