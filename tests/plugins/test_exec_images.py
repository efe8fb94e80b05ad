"""Plugins over a run that spans several programs (execve): drcov lists each as a module."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest
from linux.guestrun import ARCHES

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"


def _drcov(path: Path) -> tuple[list[str], list[tuple[int, int, int]]]:
    data = path.read_bytes()
    at = data.index(b"BB Table")
    end = data.index(b"\n", at) + 1
    lines = data[:end].decode().splitlines()
    body = data[end:]
    return lines, [struct.unpack_from("<IHH", body, i) for i in range(0, len(body), 8)]


@pytest.mark.parametrize("arch", ARCHES)
def test_drcov_lists_each_exec_as_a_module(arch: str, tmp_path: Path) -> None:
    out = tmp_path / "cov.drcov"
    binary = BIN / f"proc_exec.{arch}"
    command = ["run", "-p", f"drcov,filename={out}", str(binary), "chain", "3"]
    r = subprocess.run(
        [sys.executable, "-m", "qpp_core", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "chain 3\nchain 2\nchain 1\nchain 0\n"
    lines, blocks = _drcov(out)
    assert "Module Table: version 2, count 4" in lines
    modules = [line for line in lines if line[:3] in ("0, ", "1, ", "2, ", "3, ")]
    assert len(modules) == 4 and all(line.endswith(str(binary)) for line in modules)
    covered = {mod for _, _, mod in blocks}
    assert covered == {0, 1, 2, 3}  # each program's blocks, under its own module id
    # links 3 and 2 run the same code up to their execve (formatting the digits 2 and 1)
    offsets = [{off for off, _, mod in blocks if mod == m} for m in (0, 1)]
    assert offsets[0] == offsets[1]


def test_hotblocks_keeps_the_blocks_of_each_program_apart(tmp_path: Path) -> None:
    """After an execve the same addresses are another program's: hotblocks lists both."""

    def rows(*args: str) -> list[str]:
        log = tmp_path / "hot.log"
        command = ["run", "-p", "hotblocks,limit=0", "-D", str(log), *args]
        r = subprocess.run(
            [sys.executable, "-m", "qpp_core", *command], capture_output=True, timeout=120
        )
        assert r.returncode == 0, r.stderr
        return [line for line in log.read_text().splitlines() if line.startswith("0x")]

    binary = str(BIN / "proc_exec.x86_64")
    alone, chained = rows(binary, "chain", "0"), rows(binary, "chain", "1")
    pcs = [line.split(",")[0] for line in chained]
    assert len(pcs) > len(set(pcs))  # one address, two programs: two rows
    assert len(chained) > len(alone)
