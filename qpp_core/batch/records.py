"""The results folder: one record per job, written atomically as each job ends.

Layout::

    RESULTS/batch.json           the shared settings (a resume must match them)
    RESULTS/records/ID.json      one record per finished job (see :mod:`.outcome`)
    RESULTS/jobs/ID/             its stdout, stderr, plugin.log and plugin files
    RESULTS/merged/PLUGIN.json   each plugin's merged data (and files, e.g. drcov.trace)
    RESULTS/summary.json         counts per status, failures, merged outputs

A record is written to a temporary file and renamed into place, so a record exists
completely or not at all, whatever stops the batch (Ctrl-C, a killed process, a full
disk: the write fails and the batch stops with status 84, its records intact). Records
are not fsync'ed (that cost ~7 ms a job here): a crash of the host itself may lose the
last ones, which a resume then runs again. Re-running the same command reads the
records back and runs only the jobs that have none.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qpp_core.batch.jobs import Job
from qpp_core.batch.outcome import FAILED_STATUSES
from qpp_core.batch.settings import Settings
from qpp_core.errors import ExitStatus, HostError, QppError


class ResultsMismatch(QppError):
    """The results folder holds a batch with other settings: a usage error."""

    exit_status = ExitStatus.USAGE


def write_json_atomic(path: Path, data: Any, *, indent: int | None = 1) -> None:
    """Write ``data`` as JSON to ``path`` all at once (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=indent)
            file.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise HostError(f"cannot write {path}: {exc.strerror}") from None


class Results:
    """A batch's results folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.records_dir = self.root / "records"
        self.jobs_dir = self.root / "jobs"
        self.merged_dir = self.root / "merged"

    def open(self, settings: Settings) -> None:
        """Create the folder, or check that it holds a batch with the same settings."""
        config = self.root / "batch.json"
        wanted = {"format": 1, "settings": settings.fingerprint()}
        try:
            self.records_dir.mkdir(parents=True, exist_ok=True)
            self.jobs_dir.mkdir(exist_ok=True)
            if config.exists():
                found = json.loads(config.read_text(encoding="utf-8"))
                if found != wanted:
                    raise ResultsMismatch(
                        f"{self.root} holds a batch with other plugins or options "
                        f"({config}); give another --results folder, or delete it"
                    )
            else:
                write_json_atomic(config, wanted)
        except OSError as exc:
            raise HostError(f"cannot use results folder {self.root}: {exc.strerror}") from None
        except ValueError:
            raise ResultsMismatch(f"{config} is not a qpp batch file; delete it") from None

    def job_dir(self, job: Job) -> str:
        return str(self.jobs_dir / job.id)

    def record_path(self, job_id: str) -> Path:
        return self.records_dir / f"{job_id}.json"

    def write(self, record: dict[str, Any]) -> None:
        write_json_atomic(self.record_path(record["id"]), record, indent=None)

    def read(self, job_id: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.record_path(job_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # none yet (a half-written one cannot exist, see write)
        return data if isinstance(data, dict) else None

    def finished(self, jobs: Iterable[Job], *, retry_failed: bool = False) -> dict[str, Any]:
        """The records of ``jobs`` that have one (failed ones left out with ``retry_failed``)."""
        done = {}
        for job in jobs:
            record = self.read(job.id)
            if record is None:
                continue
            if retry_failed and record.get("status") in FAILED_STATUSES:
                continue
            done[job.id] = record
        return done


def summarize(
    jobs: list[Job], records: dict[str, dict[str, Any]], *, wall: float, complete: bool
) -> dict[str, Any]:
    """Counts per status, the failed jobs, totals: the batch's ``summary.json``."""
    counts: dict[str, int] = {}
    failed = []
    cpu = 0.0
    for job in jobs:
        record = records.get(job.id)
        if record is None:
            continue
        status = str(record.get("status"))
        counts[status] = counts.get(status, 0) + 1
        cpu += float(record.get("cpu") or 0.0)
        if status in FAILED_STATUSES:
            failed.append({"id": job.id, "status": status, "message": record.get("message")})
    return {
        "complete": complete,
        "jobs": len(jobs),
        "done": sum(counts.values()),
        "failed": len(failed),
        "statuses": counts,
        "wall": round(wall, 3),
        "cpu": round(cpu, 3),
        "failures": failed,
    }
