"""A batch from start to summary: settle the jobs still to run, run them on an executor,
record each as it ends, merge, summarise, and say how it went.

Ctrl-C (SIGINT) once: no new job starts; the running ones finish and are recorded (a
second Ctrl-C abandons them; they run again on resume). SIGTERM abandons them at once.
Either way the batch ends with status 130 and re-running the same command resumes.

Exit status: 0 when every job is ``ok``; 1 when some failed (the count is printed and
``summary.json`` lists them); 130 when interrupted; qpp's own statuses for a bad command
line (2), plugin selection (70-79) or results folder (84), before any job ran.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any, TextIO

from qpp_core.batch.executors import Executor, LocalPool
from qpp_core.batch.jobs import Job
from qpp_core.batch.merge import merge_all
from qpp_core.batch.outcome import FAILED_STATUSES
from qpp_core.batch.progress import Progress, emit
from qpp_core.batch.records import Results, summarize, write_json_atomic
from qpp_core.batch.settings import Settings, plugin_modules, prepare

#: some jobs failed (the batch itself ran to its end)
JOBS_FAILED = 1
INTERRUPTED = 130


@dataclass
class BatchOptions:
    """What ``qpp batch`` was asked to do."""

    settings: Settings
    jobs: list[Job]
    results: str = "qpp-batch"
    workers: int = 0  #: 0: every core
    dask: str | None = None  #: scheduler address, or "local"
    progress: str = "bar"  #: bar, json or quiet
    retry_failed: bool = False


def make_executor(options: BatchOptions, results: Results) -> Executor:
    workers = options.workers or os.cpu_count() or 1
    if options.dask:
        from qpp_core.batch.daskpool import DaskPool

        return DaskPool(options.dask, options.settings, results, workers)
    return LocalPool(options.settings, results, workers)


@dataclass
class _Interrupts:
    count: int = 0


@contextlib.contextmanager
def _stop_on_signals(executor: Executor, stderr: TextIO) -> Iterator[_Interrupts]:
    """SIGINT: finish the running jobs, then stop (twice: stop now). SIGTERM: stop now."""
    state = _Interrupts()
    read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    if isinstance(executor, LocalPool):
        executor.set_wakeup(read_fd)

    def handler(sig: int, frame: FrameType | None) -> None:
        state.count += 1
        now = sig != signal.SIGINT or state.count > 1
        if not now:
            stderr.write("\nqpp: batch: stopping once the running jobs end (Ctrl-C again: now)\n")
        executor.stop(now=now)
        if now and not isinstance(executor, LocalPool):
            raise KeyboardInterrupt

    old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)
        signal.set_wakeup_fd(old_wakeup)
        os.close(read_fd)
        os.close(write_fd)


def run_batch(options: BatchOptions, *, stderr: TextIO | None = None) -> int:
    """Run (or resume) the batch; the exit status."""
    stderr = stderr if stderr is not None else sys.stderr
    settings = options.settings
    prepare(settings)  # a bad plugin selection stops here, before any job
    results = Results(options.results)
    results.open(settings)
    jobs = options.jobs
    records = results.finished(jobs, retry_failed=options.retry_failed)
    todo = [job for job in jobs if job.id not in records]
    failed_before = sum(r.get("status") in FAILED_STATUSES for r in records.values())
    executor = make_executor(options, results)
    progress = Progress(len(jobs), len(records), failed_before, options.progress)
    began = time.monotonic()
    interrupted = False
    with _stop_on_signals(executor, stderr) as interrupts:
        events = executor.run(todo)
        try:
            for event in events:
                if event.record is None:
                    progress.started(executor.running())
                    continue
                results.write(event.record)
                records[event.job.id] = event.record
                failed = event.record.get("status") in FAILED_STATUSES
                progress.finished(event.record, failed, executor.running())
        except KeyboardInterrupt:
            interrupted = True
        finally:
            with contextlib.suppress(KeyboardInterrupt):
                close = getattr(events, "close", None)
                if close is not None:
                    close()
            progress.close()
        interrupted = interrupted or interrupts.count > 0
    return _finish(options, results, jobs, records, time.monotonic() - began, interrupted, stderr)


def _finish(
    options: BatchOptions,
    results: Results,
    jobs: list[Job],
    records: dict[str, dict[str, Any]],
    wall: float,
    interrupted: bool,
    stderr: TextIO,
) -> int:
    complete = all(job.id in records for job in jobs)
    summary = summarize(jobs, records, wall=wall, complete=complete)
    summary["merged"] = {}
    if complete:
        ordered = [records[job.id] for job in jobs]
        summary["merged"] = merge_all(plugin_modules(options.settings), ordered, results.merged_dir)
    write_json_atomic(results.root / "summary.json", summary)
    if options.progress == "json":
        emit(sys.stdout, {"event": "summary", **summary})
    where = results.root / "summary.json"
    if interrupted and not complete:
        stderr.write(
            f"qpp: batch interrupted: {summary['done']} of {len(jobs)} jobs done; "
            "run the same command again to resume\n"
        )
        return INTERRUPTED
    if summary["failed"]:
        kinds = ", ".join(
            f"{n} {status}"
            for status, n in sorted(summary["statuses"].items())
            if status in FAILED_STATUSES
        )
        stderr.write(
            f"qpp: batch: {summary['failed']} of {len(jobs)} jobs failed ({kinds}); see {where}\n"
        )
        return JOBS_FAILED
    if options.progress != "json":
        stderr.write(f"qpp: batch: {len(jobs)} jobs ok; results in {results.root}\n")
    return 0
