"""Helpers for the ``qpp batch`` tests (tests/batch): guest paths, running the command,
reading a results folder, parsing drcov files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qpp_core.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = ROOT / "qpp_core" / "guests" / "bin"
TEST_GUESTS = ROOT / "tests" / "guests" / "bin"
HELLO = str(BUILTIN / "hello.x86_64")
COMPUTE = str(BUILTIN / "compute.x86_64")


def batch(*args: str) -> int:
    """``qpp batch ARGS`` in this process (the warm parent is the test process)."""
    return main(["batch", "--quiet", *args])


def records(results: Path) -> dict[str, dict[str, Any]]:
    """Every record of a results folder, by job id."""
    out = {}
    for path in sorted((results / "records").glob("*.json")):
        data = json.loads(path.read_text())
        out[data["id"]] = data
    return out


def by_index(results: Path) -> list[dict[str, Any]]:
    return sorted(records(results).values(), key=lambda r: r["index"])


def summary(results: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((results / "summary.json").read_text())
    return data


def merged(results: Path, plugin: str) -> Any:
    return json.loads((results / "merged" / f"{plugin}.json").read_text())


def qpp_run(args: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """A real ``qpp run`` process, to compare a batch job with.

    Its environment is ``os.environ`` (what an in-process batch gives its guests): the C
    library's own environment may differ in a test process (a terminal library may have
    set COLUMNS and LINES there), and the guest's startup code counts every variable.
    """
    kwargs.setdefault("env", dict(os.environ))
    return subprocess.run(
        [sys.executable, "-m", "qpp_core", "run", *args],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def drcov_blocks(data: bytes) -> set[tuple[str, int, int]]:
    """(module path, offset, size) of every block of a drcov file."""
    head, _, rest = data.partition(b"BB Table: ")
    lines = head.decode().splitlines()
    start = lines.index("Columns: id, base, end, entry, path") + 1
    paths = [line.split(", ", 4)[4] for line in lines[start:]]
    count_text, _, body = rest.partition(b" bbs\n")
    count = int(count_text)
    assert len(body) == 8 * count
    blocks = set()
    for i in range(count):
        entry = body[8 * i : 8 * i + 8]
        offset = int.from_bytes(entry[0:4], "little")
        size = int.from_bytes(entry[4:6], "little")
        module = int.from_bytes(entry[6:8], "little")
        blocks.add((paths[module], offset, size))
    return blocks


def python_env(*paths: str) -> dict[str, str]:
    """This environment, with ``paths`` in front of PYTHONPATH (for fake plugin sites)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env
