"""A real Dask cluster on localhost (``dask scheduler``, two ``dask worker`` processes):
200 jobs, one worker killed mid-batch, and still every record and the same merged results
as a sequential run. Runs in tox's integration environment (which installs Dask)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from batchtools import BUILTIN, by_index, merged, records

pytestmark = pytest.mark.integration

distributed = pytest.importorskip("distributed")
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
JOBS = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Cluster:
    def __init__(self, tmp: Path) -> None:
        assert DASK is not None
        self.tmp = tmp
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        port = self.address.rsplit(":", 1)[1]
        self.scheduler = self._spawn(
            "scheduler",
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
        )
        worker = [DASK, "worker", self.address, "--nthreads", "1", "--no-nanny"]
        self.workers = [
            self._spawn(f"worker{i}", [*worker, "--no-dashboard", "--name", f"w{i}"])
            for i in range(2)
        ]
        with distributed.Client(self.address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            self.worker_pids = client.run(os.getpid)

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 (kept open while it runs)
        return subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if DASK is None:
        pytest.skip("the dask command is not installed")
    started = Cluster(tmp_path)
    try:
        yield started
    finally:
        started.close()


def _job_file(folder: Path) -> Path:
    lines = []
    for i in range(JOBS):
        if i % 4 == 2:
            lines.append({"program": str(BUILTIN / "compute.x86_64"), "args": [str(1 + i % 3)]})
        elif i % 4 == 3:
            lines.append({"program": str(BUILTIN / "hello.aarch64"), "args": [f"n{i}"]})
        else:
            lines.append({"program": str(BUILTIN / "hello.x86_64"), "args": ["x" * (i % 9)]})
    path = folder / "jobs.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _batch(folder: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "qpp_core", "batch", "--json", "-p", "insn", "-p", "drcov"]
    return subprocess.Popen(
        [*command, "--jobs", str(folder / "jobs.jsonl"), *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_lost_worker_loses_no_job(tmp_path: Path, cluster: Cluster) -> None:
    _job_file(tmp_path)
    process = _batch(tmp_path, "--results", "dask", "--dask", cluster.address)
    assert process.stdout is not None
    victim = cluster.workers[0]
    events = []
    killed_after = None
    for line in process.stdout:
        events.append(json.loads(line))
        if len(events) == 40 and victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)  # mid-batch: it holds queued and running jobs
            victim.wait()
            killed_after = len(events)
    assert process.wait(timeout=600) == 0, process.stderr.read() if process.stderr else ""
    assert killed_after == 40 and events[-1]["event"] == "summary"
    assert events[-1]["done"] == JOBS and events[-1]["failed"] == 0

    rows = by_index(tmp_path / "dask")
    assert len(rows) == JOBS and {row["status"] for row in rows} == {"ok"}
    pids = {row["worker"].rsplit(":", 1)[1] for row in rows}
    assert pids == {str(pid) for pid in cluster.worker_pids.values()}  # both worked

    sequential = _batch(tmp_path, "--results", "seq", "--workers", "1")
    assert sequential.wait(timeout=900) == 0
    assert merged(tmp_path / "dask", "insn") == merged(tmp_path / "seq", "insn")
    assert merged(tmp_path / "dask", "drcov") == merged(tmp_path / "seq", "drcov")
    dask_cover = (tmp_path / "dask/merged/drcov.trace").read_bytes()
    assert dask_cover == (tmp_path / "seq/merged/drcov.trace").read_bytes()
    seq = records(tmp_path / "seq")
    assert {r["id"]: r["insns"] for r in rows} == {i: r["insns"] for i, r in seq.items()}
