"""Bad jobs are recorded with their status and message; the batch finishes and fails."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

import pytest
from batchtools import COMPUTE, HELLO, TEST_GUESTS, batch, by_index, merged, summary
from fakesite import FakeSite

#: raises while the guest runs, but only under the compute guest
FRAGILE = """
from qpp_core import hookimpl, qemu_plugin_path_to_binary

qemu_plugin_version = 2

@hookimpl
def qemu_plugin_vcpu_syscall(num):
    if "compute" in qemu_plugin_path_to_binary():
        raise RuntimeError("fragile broke")
"""

#: its per-run result cannot be stored (not JSON), under the clifds guest only
UNSTORABLE = """
from qpp_core import hookimpl, qemu_plugin_path_to_binary

qemu_plugin_version = 2

@hookimpl
def qpp_batch_result():
    return {"ok": True} if "clifds" not in qemu_plugin_path_to_binary() else {1: object()}
"""


def test_each_kind_of_bad_job(
    in_tmp: Path, site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site.plugin("fragile", FRAGILE)
    site.plugin("unstorable", UNSTORABLE)
    garbage = in_tmp / "garbage.elf"
    garbage.write_bytes(b"\x7fELF" + b"\x00" * 20)
    os.chmod(garbage, 0o755)
    probe = str(Path(HELLO).with_name("probe.x86_64"))
    jobs: list[tuple[dict[str, str | list[str]], str, str | None]] = [
        ({"program": HELLO, "id": "fine"}, "ok", None),
        ({"program": str(in_tmp / "missing"), "id": "missing"}, "error", "no such file"),
        ({"program": str(garbage), "id": "malformed"}, "error", "garbage.elf"),
        ({"program": probe, "args": ["fault"], "id": "crash"}, "crashed", "SIGSEGV"),
        (
            {"program": str(TEST_GUESTS / "clifds.x86_64"), "args": ["environ"], "id": "data"},
            "plugin-error",
            "unstorable raised in qpp_batch_result",
        ),
        (
            {"program": str(TEST_GUESTS / "files_raise.x86_64"), "args": ["11"], "id": "segv"},
            "crashed",
            "SIGSEGV",
        ),
        ({"program": COMPUTE, "args": ["1"], "id": "plugin"}, "plugin-error", "fragile broke"),
        (
            {"program": str(TEST_GUESTS / "hostsig_loop.x86_64"), "id": "hang"},
            "timeout",
            "killed after",
        ),
        ({"program": HELLO, "stdin": "/nonexistent", "id": "nostdin"}, "error", "/nonexistent"),
        ({"program": probe, "args": ["exit", "3"], "id": "exit3"}, "ok", None),
    ]
    path = in_tmp / "jobs.jsonl"
    path.write_text("".join(json.dumps(job) + "\n" for job, _, _ in jobs))
    # the hang job is killed after 5 s; the others must end before, even on a loaded machine
    args = ["-p", "insn", "-p", "fragile", "-p", "unstorable", "--timeout", "5"]
    status = batch(*args, "--jobs", str(path))
    assert status == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("qpp: batch: 8 of 10 jobs failed (")
    rows = {row["id"]: row for row in by_index(in_tmp / "qpp-batch")}
    assert set(rows) == {job["id"] for job, _, _ in jobs}
    for job, want, message in jobs:
        row = rows[job["id"]]
        assert row["status"] == want, row
        if message is not None:
            assert message in row["message"]
    assert rows["malformed"]["qpp_status"] == 82
    assert rows["missing"]["qpp_status"] == 84
    assert rows["segv"]["signal"] == 11 and rows["segv"]["exit_code"] == 139
    assert rows["exit3"]["exit_code"] == 3 and rows["exit3"]["insns"] > 0
    assert rows["plugin"]["qpp_status"] == 80
    assert rows["hang"]["wall"] >= 5
    done = summary(in_tmp / "qpp-batch")
    assert done["complete"] and done["failed"] == 8
    assert {f["id"] for f in done["failures"]} == set(rows) - {"fine", "exit3"}
    # jobs that ran the guest to its end are merged, failed or not
    ran = [r for r in rows.values() if r["insns"] is not None]
    assert merged(in_tmp / "qpp-batch", "insn")["insns"] == sum(r["insns"] for r in ran)


def test_memory_limit(in_tmp: Path) -> None:
    assert batch("-p", "insn", "--memory", "300", "--results", "small", HELLO) == 1
    (row,) = by_index(in_tmp / "small")
    assert row["status"] == "memory" and "--memory" in row["message"]
    assert batch("-p", "insn", "--memory", "4096", "--results", "large", HELLO) == 0


def test_retry_failed_runs_only_failed_jobs(in_tmp: Path) -> None:
    jobs = in_tmp / "jobs.jsonl"
    jobs.write_text(
        json.dumps({"program": HELLO, "id": "good"})
        + "\n"
        + json.dumps({"program": str(in_tmp / "later"), "id": "later"})
        + "\n"
    )
    assert batch("--jobs", str(jobs)) == 1
    before = {r["id"]: r for r in by_index(in_tmp / "qpp-batch")}
    assert batch("--jobs", str(jobs)) == 1  # a resume keeps the failure
    (in_tmp / "later").symlink_to(HELLO)
    assert batch("--retry-failed", "--jobs", str(jobs)) == 0
    after = {r["id"]: r for r in by_index(in_tmp / "qpp-batch")}
    assert after["good"]["started"] == before["good"]["started"]
    assert after["later"]["status"] == "ok"


def test_a_full_disk_stops_the_batch_with_its_records_intact(
    in_tmp: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_dump = json.dump
    calls = []

    def dump(data: object, file: IO[str], **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) > 3:  # batch.json, then two records
            raise OSError(28, "No space left on device")
        real_dump(data, file, **kwargs)

    # the json module as qpp_core.batch.records writes its files with it
    monkeypatch.setattr("qpp_core.batch.records.json.dump", dump)
    assert batch("-p", "insn", HELLO, f"@{corpus}/*") == 84
    err = capsys.readouterr().err
    assert "qpp: error: cannot write qpp-batch/records/" in err
    assert err.rstrip().endswith("No space left on device")
    assert len(by_index(in_tmp / "qpp-batch")) == 2
    assert not list((in_tmp / "qpp-batch/records").glob(".*"))  # no half-written record
    monkeypatch.setattr("qpp_core.batch.records.json.dump", real_dump)
    assert batch("-p", "insn", HELLO, f"@{corpus}/*") == 0
    assert len(by_index(in_tmp / "qpp-batch")) == 6


def test_an_atexit_failure_is_named(in_tmp: Path, site: FakeSite) -> None:
    site.plugin(
        "grumpy",
        "from qpp_core import hookimpl\nqemu_plugin_version = 2\n\n"
        "@hookimpl\ndef qemu_plugin_atexit():\n    raise KeyError('bye')\n",
    )
    assert batch("-p", "grumpy", HELLO) == 1
    (row,) = by_index(in_tmp / "qpp-batch")
    assert row["status"] == "plugin-error" and row["qpp_status"] == 80
    assert row["message"] == "plugin grumpy raised in qemu_plugin_atexit: KeyError: 'bye'"
