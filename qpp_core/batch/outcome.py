"""A job's record, from how its child ended and what it left in the job's folder.

Statuses: ``ok`` (the guest exited, any exit code: ``exit_code`` says which),
``crashed`` (the guest died of a signal), ``timeout``, ``memory`` (the memory limit was
hit), ``plugin-error`` (a plugin raised or reported failure: statuses 80, 81, or its
``qpp_batch_result`` raised), ``error`` (qpp could not run the job: missing program,
malformed ELF, bad stdin file ...: the message is qpp's one-line error), ``lost`` (the
worker running it kept dying). Everything but ``ok`` counts as a failure.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import time
from typing import Any

from qpp_core.batch.child import LOG_FILE, RESULT_FILE, STDERR_FILE, STDOUT_FILE, Running
from qpp_core.batch.jobs import Job
from qpp_core.errors import ExitStatus

OK = "ok"
FAILED_STATUSES = ("crashed", "timeout", "memory", "plugin-error", "error", "lost")
_PLUGIN_STATUSES = (ExitStatus.PLUGIN_RUNTIME, ExitStatus.PLUGIN_FAILED)


#: what running out of the ``--memory`` limit looks like on a job's stderr
_OUT_OF_MEMORY = ("MemoryError", "Could not allocate", "Cannot allocate memory", "no memory")


def _stderr_tail(job_dir: str) -> str:
    try:
        with open(os.path.join(job_dir, STDERR_FILE), "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - 65536))
            return file.read().decode(errors="replace")
    except OSError:
        return ""


def _qpp_message(tail: str) -> str | None:
    """qpp's reason, from the job's stderr: its last ``qpp: error:`` line, else the last
    ``qpp: ...`` line a plugin's failure left (e.g. an atexit error)."""
    lines = tail.splitlines()
    for prefix in ("qpp: error:", "qpp:"):
        found = [line for line in lines if line.startswith(prefix)]
        if found:
            return found[-1][len(prefix) :].strip()
    return None


def _read_result(job_dir: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(job_dir, RESULT_FILE), encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def base_record(job: Job) -> dict[str, Any]:
    return {"id": job.id, "index": job.index, "job": job.describe()}


def classify(
    running: Running, wait_status: int, rusage: resource.struct_rusage | None, memory: bool
) -> dict[str, Any]:
    """The record of a job whose child ended with ``wait_status`` (as ``os.wait4``)."""
    wall = time.monotonic() - running.started
    record = base_record(running.job)
    record.update(
        status=OK,
        exit_code=None,
        signal=None,
        message=None,
        wall=round(wall, 6),
        cpu=round(rusage.ru_utime + rusage.ru_stime, 6) if rusage is not None else None,
        insns=None,
        started=running.started_at,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        data={},
    )
    files = sorted(set(os.listdir(running.job_dir)) - {RESULT_FILE})
    where = f"jobs/{running.job.id}"
    record.update(
        stdout=f"{where}/{STDOUT_FILE}",
        stderr=f"{where}/{STDERR_FILE}",
        plugin_log=f"{where}/{LOG_FILE}" if LOG_FILE in files else None,
        files=[f"{where}/{name}" for name in files],
    )
    result = _read_result(running.job_dir)
    tail = _stderr_tail(running.job_dir)
    message = _qpp_message(tail)
    if result is not None:
        record["data"] = result.get("data") or {}
        record["exit_code"] = result.get("exit")
        record["signal"] = result.get("signal")
        for value in record["data"].values():
            if isinstance(value, dict) and isinstance(value.get("insns"), int):
                record["insns"] = value["insns"]
                break
    code = os.waitstatus_to_exitcode(wait_status)
    if running.timed_out:
        record.update(status="timeout", message=f"killed after {wall:.1f}s (--timeout)")
    elif code < 0:  # qpp itself died of a signal (the engine, the kernel's OOM killer)
        name = signal.Signals(-code).name
        status = "memory" if memory and -code == signal.SIGKILL else "error"
        record.update(status=status, message=f"the job's qpp process died of {name}")
    elif result is not None and result.get("errors"):
        record.update(status="plugin-error", message="; ".join(result["errors"]))
    elif result is not None and code == result.get("exit"):
        if record["signal"] is not None:
            name = signal.Signals(record["signal"]).name
            record.update(status="crashed", message=f"the guest died of {name}")
    else:  # qpp ended with its own status: the message is its error line
        status = "plugin-error" if code in _PLUGIN_STATUSES else "error"
        text = message or f"qpp ended with status {code}"
        if memory and any(sign in tail for sign in _OUT_OF_MEMORY):
            status = "memory"
            text = message or (
                "out of memory under --memory (qpp itself needs about 1.1 GiB of address "
                "space: the engine reserves its translation buffer)"
            )
        record.update(status=status, message=text, qpp_status=code)
    return record


def lost(job: Job, message: str) -> dict[str, Any]:
    """The record of a job no worker could finish (Dask gave up on it)."""
    record = base_record(job)
    record.update(status="lost", message=message, data={}, stdout=None, stderr=None)
    return record
