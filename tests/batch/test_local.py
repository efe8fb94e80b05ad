"""The local pool: jobs run as forked children of this process, recorded, merged, resumed."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from batchtools import (
    COMPUTE,
    HELLO,
    TEST_GUESTS,
    batch,
    by_index,
    drcov_blocks,
    merged,
    qpp_run,
    records,
    summary,
)


def test_corpus_coverage_merges_what_each_job_wrote(in_tmp: Path, corpus: Path) -> None:
    status = batch("-p", "insn", "-p", "drcov", "--workers", "2", HELLO, f"@{corpus}/*")
    assert status == 0
    rows = by_index(in_tmp / "qpp-batch")
    assert [r["job"]["args"] for r in rows] == [[str(p)] for p in sorted(corpus.iterdir())]
    assert {r["status"] for r in rows} == {"ok"}
    # each job's guest output and plugin files are its own
    for row in rows:
        out = (in_tmp / "qpp-batch" / row["stdout"]).read_text()
        assert f"argv[1] = {row['job']['args'][0]}" in out
        assert f"jobs/{row['id']}/file.drcov.trace" in row["files"]
    # instruction counts: the record, the merged total, and a plain `qpp run`
    reference = qpp_run(["-p", "insn", HELLO, rows[0]["job"]["args"][0]])
    assert f"total insns: {rows[0]['insns']}" in reference.stderr
    assert merged(in_tmp / "qpp-batch", "insn")["insns"] == sum(r["insns"] for r in rows)
    # the merged coverage file is the union of the files drcov wrote per job
    union: set[tuple[str, int, int]] = set()
    for row in rows:
        union |= drcov_blocks(
            (in_tmp / "qpp-batch" / f"jobs/{row['id']}/file.drcov.trace").read_bytes()
        )
    whole = drcov_blocks((in_tmp / "qpp-batch/merged/drcov.trace").read_bytes())
    assert whole == union
    cover = merged(in_tmp / "qpp-batch", "drcov")
    assert cover["blocks"] == len(union)
    assert sum(cover["new_blocks"].values()) == len(union)
    assert cover["new_blocks"][rows[0]["id"]] > 0  # the first job covers everything first
    assert summary(in_tmp / "qpp-batch")["merged"] == {
        "insn": "merged/insn.json",
        "drcov": "merged/drcov.json",
    }


def test_records_carry_times_and_paths(in_tmp: Path) -> None:
    assert batch("-p", "insn", COMPUTE, "2") == 0
    (row,) = records(in_tmp / "qpp-batch").values()
    assert row["status"] == "ok" and row["exit_code"] == 0 and row["signal"] is None
    assert row["wall"] > 0 and row["cpu"] > 0
    assert row["insns"] > 100_000
    assert row["plugin_log"] == f"jobs/{row['id']}/plugin.log"
    assert "total insns" in (in_tmp / "qpp-batch" / row["plugin_log"]).read_text()
    assert (in_tmp / "qpp-batch" / row["stdout"]).read_text().startswith("compute: rounds 2")


def test_stdin_env_and_cwd(in_tmp: Path, corpus: Path) -> None:
    reader = str(TEST_GUESTS / "hostsig_loop.x86_64")
    assert batch("--stdin", "--results", "a", reader, "read", f"@{corpus}/*") == 0
    for row in by_index(in_tmp / "a"):
        size = Path(row["job"]["stdin"]).stat().st_size
        assert f"read returned {size}\n" in (in_tmp / "a" / row["stdout"]).read_text()
    jobs = in_tmp / "jobs.jsonl"
    probe = str(Path(HELLO).with_name("probe.x86_64"))
    jobs.write_text(
        json.dumps({"program": probe, "args": ["env", "A", "B"], "env": {"A": "1", "B": None}})
        + "\n"
        + json.dumps({"program": probe, "args": ["cwd"], "cwd": str(corpus)})
        + "\n"
    )
    assert batch("-E", "B=2", "--results", "b", "--jobs", str(jobs)) == 0
    env_job, cwd_job = by_index(in_tmp / "b")
    assert (in_tmp / "b" / env_job["stdout"]).read_text() == "A=1\nB=(unset)\n"
    assert (in_tmp / "b" / cwd_job["stdout"]).read_text() == f"cwd: {corpus}\n"


def test_resume_runs_only_what_is_missing(in_tmp: Path, corpus: Path) -> None:
    assert batch("-p", "insn", HELLO, f"@{corpus}/in[0-2]") == 0
    first = records(in_tmp / "qpp-batch")
    assert len(first) == 3
    assert batch("-p", "insn", HELLO, f"@{corpus}/*") == 0
    second = records(in_tmp / "qpp-batch")
    assert len(second) == 6
    for job_id, row in first.items():
        assert second[job_id]["started"] == row["started"]  # not run again
    assert merged(in_tmp / "qpp-batch", "insn")["jobs"] == 6


def test_resume_with_other_plugins_is_refused(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert batch("-p", "insn", HELLO) == 0
    assert batch("-p", "syscall", HELLO) == 2
    err = capsys.readouterr().err
    assert re.search(r"qpp: error: qpp-batch holds a batch with other plugins", err)


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["-p", "nosuchplugin", HELLO], 70, "unknown plugin"),
        (["-p", "insn,bogus=1", HELLO], 77, "bogus"),
        (["--timeout", "0", HELLO], 2, "--timeout must be positive"),
        (["--jobs", "x.jsonl", HELLO], 2, "not both"),
        ([HELLO, "@nothing/*"], 2, "no file matches"),
    ],
)
def test_bad_command_lines_stop_before_any_job(
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    status: int,
    message: str,
) -> None:
    assert batch(*args) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qpp: error:") and message in err
    assert (
        not list((in_tmp / "qpp-batch" / "records").glob("*"))
        if (in_tmp / "qpp-batch").exists()
        else True
    )


def test_json_progress_lines(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qpp_core.cli.main import main

    assert (
        main(["batch", "--json", "-p", "insn", HELLO, "@" + str(Path(HELLO).parent / "hello.*")])
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    *jobs, last = lines
    assert [line["event"] for line in jobs] == ["job"] * len(jobs) and len(jobs) >= 5
    assert [line["done"] for line in jobs] == list(range(1, len(jobs) + 1))
    assert all(line["total"] == len(jobs) and line["status"] == "ok" for line in jobs)
    assert jobs[-1]["eta"] == 0
    assert last["event"] == "summary" and last["done"] == len(jobs) and last["complete"]


def test_a_job_sees_the_fds_a_qpp_run_sees(in_tmp: Path) -> None:
    scanner = str(TEST_GUESTS / "clifds.x86_64")
    assert batch("--workers", "2", "--timeout", "60", scanner, "scan") == 0
    (row,) = by_index(in_tmp / "qpp-batch")
    reference = qpp_run([scanner, "scan"], stdin=subprocess.DEVNULL)
    assert (in_tmp / "qpp-batch" / row["stdout"]).read_text() == reference.stdout
