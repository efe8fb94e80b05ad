"""Jobs: one guest run each (program, arguments, stdin file, environment, working folder).

Jobs come from a JSONL or CSV file (one job per line or row) or from a command line with
one ``@PATTERN`` argument, expanded to one job per matching file. A job's id is derived
from its content, so that re-running the same command finds the jobs it already ran,
however the list was reordered or extended.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qpp_core.errors import ExitStatus, QppError


class JobListError(QppError):
    """A job file or pattern that cannot be read: a usage error (status 2)."""

    exit_status = ExitStatus.USAGE


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_FIELDS = ("program", "args", "stdin", "env", "cwd", "id")


@dataclass(frozen=True)
class Job:
    """One guest run; ``env`` maps a variable to its value, or to ``None`` to remove it."""

    program: str
    args: tuple[str, ...] = ()
    stdin: str | None = None
    env: tuple[tuple[str, str | None], ...] = ()
    cwd: str | None = None
    id: str = ""
    index: int = field(default=0, compare=False)

    def describe(self) -> dict[str, Any]:
        """The job as JSON data (what the record keeps)."""
        return {
            "program": self.program,
            "args": list(self.args),
            "stdin": self.stdin,
            "env": dict(self.env),
            "cwd": self.cwd,
        }


def content_id(job: Job) -> str:
    """A short hash of what the job runs: the same job gets the same id in every run."""
    text = json.dumps(job.describe(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def finalize(jobs: Iterable[Job]) -> list[Job]:
    """Number the jobs and give each one a unique id (its own, or a content hash)."""
    out: list[Job] = []
    seen: dict[str, int] = {}
    for index, job in enumerate(jobs):
        base = job.id or content_id(job)
        n = seen.get(base, 0)
        seen[base] = n + 1
        if n and job.id:
            raise JobListError(f"job id {job.id!r} is used twice; job ids must be unique")
        unique = base if n == 0 else f"{base}-{n + 1}"
        out.append(Job(job.program, job.args, job.stdin, job.env, job.cwd, unique, index))
    if not out:
        raise JobListError("no jobs: the job file is empty or the pattern matched no file")
    return out


def _env(value: Any, where: str) -> tuple[tuple[str, str | None], ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):  # CSV: "A=1 B=2", shell-quoted
        items: list[tuple[str, str | None]] = []
        for word in shlex.split(value):
            name, sep, val = word.partition("=")
            if not sep or not name:
                raise JobListError(f"{where}: env item {word!r} is not VAR=VALUE")
            items.append((name, val))
        return tuple(items)
    if isinstance(value, dict):
        pairs: list[tuple[str, str | None]] = []
        for name, val in value.items():
            if not isinstance(name, str) or not (val is None or isinstance(val, str)):
                raise JobListError(f"{where}: env maps names to strings (or null to unset)")
            pairs.append((name, val))
        return tuple(pairs)
    raise JobListError(f"{where}: env must be an object (JSONL) or VAR=VALUE words (CSV)")


def job_from_mapping(data: Any, where: str) -> Job:
    """A job from one JSONL object or CSV row; ``where`` names it in error messages."""
    if not isinstance(data, dict):
        raise JobListError(f"{where}: expected an object with at least a program")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise JobListError(f"{where}: unknown field {unknown[0]!r}; known: {', '.join(_FIELDS)}")
    program = data.get("program")
    if not isinstance(program, str) or not program:
        raise JobListError(f"{where}: program is missing or not a string")
    args = data.get("args") or ()
    if isinstance(args, str):
        args = shlex.split(args)
    if not isinstance(args, (list, tuple)) or not all(isinstance(a, str) for a in args):
        raise JobListError(f"{where}: args must be a list of strings (CSV: shell words)")
    job_id = data.get("id") or ""
    if job_id and (not isinstance(job_id, str) or not _ID.match(job_id)):
        raise JobListError(f"{where}: id {job_id!r}: use letters, digits, '.', '_', '-'")
    for key in ("stdin", "cwd"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise JobListError(f"{where}: {key} must be a path")
    return Job(
        program=program,
        args=tuple(args),
        stdin=data.get("stdin") or None,
        env=_env(data.get("env"), where),
        cwd=data.get("cwd") or None,
        id=job_id,
    )


def read_job_file(path: str) -> list[Job]:
    """Jobs from ``path``: ``.csv`` (a header row naming the fields) or JSON lines."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            if path.endswith(".csv"):
                rows = list(csv.DictReader(file))
                return [
                    job_from_mapping(
                        {k: v for k, v in row.items() if v not in (None, "")},
                        f"{path} row {n}",
                    )
                    for n, row in enumerate(rows, 2)
                ]
            jobs = []
            for n, line in enumerate(file, 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise JobListError(f"{path} line {n}: not JSON: {exc.msg}") from None
                jobs.append(job_from_mapping(data, f"{path} line {n}"))
            return jobs
    except OSError as exc:
        raise JobListError(f"cannot read job file {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise JobListError(f"cannot read job file {path}: {exc}") from None


def expand_pattern(pattern: str) -> list[str]:
    """The files ``@PATTERN`` names, sorted: a glob (``**`` recurses) or a folder's files."""
    if os.path.isdir(pattern):
        return sorted(str(p) for p in Path(pattern).iterdir() if p.is_file())
    return sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))


def jobs_from_command(command: Sequence[str], *, stdin: bool = False) -> list[Job]:
    """One job per file of the command's ``@PATTERN`` argument.

    The file takes the pattern's place in the arguments, or with ``stdin`` is fed to the
    guest on its standard input (the argument is then dropped). A command without a
    pattern is one job.
    """
    if not command:
        raise JobListError("give a program (and one @PATTERN argument) or --jobs FILE")
    marks = [i for i, arg in enumerate(command) if arg.startswith("@") and len(arg) > 1]
    if len(marks) > 1:
        raise JobListError("only one @PATTERN argument is allowed")
    if not marks:
        if stdin:
            raise JobListError("--stdin needs an @PATTERN argument naming the input files")
        return [Job(command[0], tuple(command[1:]))]
    at = marks[0]
    if at == 0:
        raise JobListError("the program cannot be the @PATTERN; it comes first")
    files = expand_pattern(command[at][1:])
    if not files:
        raise JobListError(f"{command[at]}: no file matches")
    jobs = []
    for name in files:
        if stdin:
            args = (*command[1:at], *command[at + 1 :])
            jobs.append(Job(command[0], tuple(args), stdin=name))
        else:
            args = (*command[1:at], name, *command[at + 1 :])
            jobs.append(Job(command[0], tuple(args)))
    return jobs
