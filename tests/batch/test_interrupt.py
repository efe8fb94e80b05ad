"""Stopping a batch (Ctrl-C, a killed batch process) and resuming it loses nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from batchtools import COMPUTE, python_env, records, summary
from fakesite import FakeSite

#: appends its tag at exit: one line per job that ran to its end
COUNTER = """
import os
from qpp_core import Arg, hookimpl

qemu_plugin_version = 2
qemu_plugin_args = {"tag": Arg(str, "", "what to write"), "file": Arg(str, "", "where")}
_args = {}

@hookimpl
def qemu_plugin_install(args):
    _args.update(tag=args.get("tag"), file=args.get("file"))

@hookimpl
def qemu_plugin_atexit():
    with open(_args["file"], "a") as out:
        out.write(os.path.basename(_args["tag"]) + "\\n")
"""

JOBS = 30


def _start(tmp: Path, site: FakeSite) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "qpp_core", "batch", "--quiet", "--workers", "2",
        "-p", f"counter,tag={{job}},file={tmp / 'ran.txt'}",
        "--jobs", str(tmp / "jobs.jsonl"),
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=tmp,
        env=python_env(str(site.root)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_records(results: Path, n: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while len(list((results / "records").glob("*.json"))) < n:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.fixture
def counted(tmp_path: Path, site: FakeSite) -> Path:
    site.plugin("counter", COUNTER)
    lines = [json.dumps({"program": COMPUTE, "args": ["1"], "id": f"job{i}"}) for i in range(JOBS)]
    (tmp_path / "jobs.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def _ran(tmp: Path) -> Counter[str]:
    return Counter((tmp / "ran.txt").read_text().split())


def test_sigint_finishes_running_jobs_and_resume_runs_each_job_once(
    counted: Path, site: FakeSite
) -> None:
    results = counted / "qpp-batch"
    process = _start(counted, site)
    _wait_for_records(results, 6, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"run the same command again to resume" in err
    stopped = len(records(results))
    assert 6 <= stopped < JOBS
    assert not summary(results)["complete"]
    assert sum(_ran(counted).values()) == stopped  # the running jobs ended and were recorded

    process = _start(counted, site)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert len(records(results)) == JOBS
    assert _ran(counted) == Counter({f"job{i}": 1 for i in range(JOBS)})
    assert summary(results)["complete"]


def test_a_killed_batch_resumes_with_every_job_recorded_once(counted: Path, site: FakeSite) -> None:
    results = counted / "qpp-batch"
    process = _start(counted, site)
    _wait_for_records(results, 4, process)
    process.kill()
    process.communicate(timeout=60)
    first = records(results)
    assert 4 <= len(first) < JOBS
    time.sleep(0.3)  # the jobs that were running died with the batch: nothing more appears
    assert records(results) == first

    process = _start(counted, site)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    final = records(results)
    assert len(final) == JOBS
    for job_id, record in first.items():
        assert final[job_id] == record  # recorded jobs were not run again
    ran = _ran(counted)
    assert all(ran[f"job{i}"] >= 1 for i in range(JOBS))
    assert all(ran[job_id] == 1 for job_id in first)
