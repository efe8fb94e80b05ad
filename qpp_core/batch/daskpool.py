"""The Dask executor: the same jobs on a Dask distributed cluster (``--dask ADDRESS``).

Each job is one Dask task, :func:`run_on_worker`: the worker process is the warm parent
(it imports qpp and the plugins on its first job) and forks a child per job, as the local
pool does, into a temporary folder; the task returns the record and the job's files, which
this process writes into the results. Dask schedules the tasks and, when a worker dies,
runs its tasks again elsewhere; a task that keeps killing workers ends as ``lost``.
Dask is imported only here, only when ``--dask`` is used.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qpp_core.batch import waiting
from qpp_core.batch.child import start
from qpp_core.batch.executors import Event
from qpp_core.batch.jobs import Job
from qpp_core.batch.outcome import lost
from qpp_core.batch.records import Results
from qpp_core.batch.settings import Settings
from qpp_core.errors import ExitStatus, QppError

#: the largest job file sent back from a worker; bigger ones are cut (and say so)
MAX_FILE_BYTES = 64 * 1024 * 1024
#: seconds to wait for the scheduler before giving up
CONNECT_TIMEOUT = 10


class DaskMissing(QppError):
    """``--dask`` without Dask installed."""

    exit_status = ExitStatus.USAGE


class DaskUnavailable(QppError):
    """The scheduler cannot be reached."""

    exit_status = ExitStatus.HOST


def run_on_worker(job: Job, settings: Settings) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The Dask task: run ``job`` in a forked child of this worker; its record and files."""
    with tempfile.TemporaryDirectory(prefix="qpp-batch-") as job_dir:
        running = start(job, settings, job_dir)
        record = waiting.wait(running, bool(settings.memory_mb))
        files: dict[str, bytes] = {}
        for path in sorted(Path(job_dir).iterdir()):
            if path.is_file():
                with open(path, "rb") as file:
                    data = file.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    data = data[:MAX_FILE_BYTES] + b"\n[qpp batch: cut at 64 MiB]\n"
                files[path.name] = data
    return record, files


class DaskPool:
    """Jobs as Dask tasks on the cluster at ``address`` (``local``: a LocalCluster)."""

    def __init__(self, address: str, settings: Settings, results: Results, workers: int) -> None:
        try:
            import distributed
        except ImportError:
            raise DaskMissing(
                "--dask needs Dask distributed: pip install 'qpp-core[dask]'"
            ) from None
        self._distributed = distributed
        self.address = address
        self.settings = settings
        self.results = results
        self.workers = max(1, workers)
        self._pending = 0
        self._slots = 1
        self._stopping = False
        self._client: Any = None
        self._cluster: Any = None

    def _connect(self) -> Any:
        distributed = self._distributed
        if self.address == "local":
            self._cluster = distributed.LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            return distributed.Client(self._cluster)
        try:
            return distributed.Client(self.address, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise DaskUnavailable(
                f"cannot reach the Dask scheduler at {self.address}: {exc}"
            ) from None

    def running(self) -> int:
        return min(self._pending, self._slots)

    def stop(self, *, now: bool) -> None:
        self._stopping = True

    def run(self, jobs: list[Job]) -> Iterator[Event]:
        distributed = self._distributed
        client = self._client = self._connect()
        try:
            self._slots = max(1, sum(client.nthreads().values()))
            token = uuid.uuid4().hex[:8]
            futures = {
                client.submit(
                    run_on_worker, job, self.settings, key=f"qpp-batch-{job.id}-{token}"
                ): job
                for job in jobs
            }
            self._pending = len(futures)
            for job in jobs:
                yield Event(job)
            for future in distributed.as_completed(futures):
                job = futures[future]
                self._pending -= 1
                try:
                    record, files = future.result()
                except distributed.KilledWorker as exc:
                    record, files = lost(job, f"workers kept dying while running it: {exc}"), {}
                except QppError as exc:  # the worker's qpp cannot run it (a plugin missing)
                    record, files = lost(job, f"on the worker: {exc}"), {}
                    record["status"] = "error"
                except Exception as exc:
                    record, files = lost(job, f"Dask could not run it: {exc!r}"), {}
                self._store(job, files)
                yield Event(job, record)
                if self._stopping:
                    break
        finally:
            client.close()
            if self._cluster is not None:
                self._cluster.close()

    def _store(self, job: Job, files: dict[str, bytes]) -> None:
        job_dir = self.results.job_dir(job)
        os.makedirs(job_dir, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(job_dir, os.path.basename(name)), "wb") as file:
                file.write(data)
