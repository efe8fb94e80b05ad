"""Jobs: JSONL and CSV job files, @PATTERN expansion, --stdin, stable ids, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qpp_core.batch.jobs import (
    Job,
    JobListError,
    finalize,
    jobs_from_command,
    read_job_file,
)


def test_pattern_gives_one_job_per_file_in_sorted_order(corpus: Path) -> None:
    jobs = jobs_from_command(["./prog", "-v", f"@{corpus}/*", "--end"])
    files = sorted(str(p) for p in corpus.iterdir())
    assert [job.args for job in jobs] == [("-v", name, "--end") for name in files]
    assert all(job.stdin is None for job in jobs)


def test_pattern_on_a_folder_takes_its_files(corpus: Path) -> None:
    assert len(jobs_from_command(["./prog", f"@{corpus}"])) == 6


def test_stdin_feeds_the_file_and_drops_the_argument(corpus: Path) -> None:
    jobs = jobs_from_command(["./prog", "read", f"@{corpus}/in*"], stdin=True)
    assert [(job.args, job.stdin) for job in jobs] == [
        (("read",), str(corpus / f"in{i}")) for i in range(6)
    ]


@pytest.mark.parametrize(
    ("command", "stdin", "message"),
    [
        ([], False, "give a program"),
        (["./prog", "@a*", "@b*"], False, "only one @PATTERN"),
        (["./prog", "x"], True, "--stdin needs an @PATTERN"),
        (["@x*"], False, "cannot be the @PATTERN"),
        (["./prog", "@/nonexistent/dir/*"], False, "no file matches"),
    ],
)
def test_bad_commands(command: list[str], stdin: bool, message: str) -> None:
    with pytest.raises(JobListError, match=message):
        jobs_from_command(command, stdin=stdin)


def test_jsonl_and_csv_give_the_same_jobs(tmp_path: Path) -> None:
    jsonl = tmp_path / "jobs.jsonl"
    jsonl.write_text(
        json.dumps({"program": "./a", "args": ["x y", "z"], "env": {"A": "1", "B": None}})
        + "\n\n# a comment\n"
        + json.dumps({"program": "./b", "stdin": "in.txt", "id": "second"})
        + "\n"
    )
    csv = tmp_path / "jobs.csv"
    csv.write_text("program,args,env,stdin,id\n./a,\"'x y' z\",A=1,,\n./b,,,in.txt,second\n")
    from_jsonl, from_csv = read_job_file(str(jsonl)), read_job_file(str(csv))
    assert from_jsonl[0].args == from_csv[0].args == ("x y", "z")
    assert from_jsonl[0].env == (("A", "1"), ("B", None))
    assert from_csv[0].env == (("A", "1"),)
    assert from_jsonl[1] == from_csv[1] == Job("./b", stdin="in.txt", id="second")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 1: not JSON"),
        ('["a"]', "expected an object"),
        ('{"args": []}', "program is missing"),
        ('{"program": "p", "colour": 1}', "unknown field 'colour'"),
        ('{"program": "p", "args": [1]}', "args must be a list of strings"),
        ('{"program": "p", "id": "../x"}', "use letters, digits"),
        ('{"program": "p", "env": {"A": 1}}', "env maps names to strings"),
    ],
)
def test_bad_job_lines(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(JobListError, match=message):
        read_job_file(str(path))


def test_missing_job_file() -> None:
    with pytest.raises(JobListError, match="cannot read job file /nonexistent.jsonl"):
        read_job_file("/nonexistent.jsonl")


def test_ids_follow_content_not_position() -> None:
    a, b = Job("./p", ("1",)), Job("./p", ("2",))
    first = finalize([a, b])
    second = finalize([b, Job("./p", ("3",)), a])
    assert {j.args: j.id for j in first}.items() <= {j.args: j.id for j in second}.items()
    assert [j.index for j in second] == [0, 1, 2]
    twice = finalize([a, a])
    assert twice[0].id != twice[1].id and twice[1].id.startswith(twice[0].id)
    with pytest.raises(JobListError, match="used twice"):
        finalize([Job("./p", id="x"), Job("./q", id="x")])
    with pytest.raises(JobListError, match="no jobs"):
        finalize([])
