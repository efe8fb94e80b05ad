"""Run ``qpp run`` as a user does, with plugin output captured through ``-D FILE``."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from qpp_core.guests import guest_path

QPP = [sys.executable, "-m", "qpp_core"]


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    log: str


class Runner:
    """Runs guests under qpp in a temporary directory (files the plugins write land there)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.n = 0

    def __call__(
        self,
        program: str,
        arch: str,
        *plugins: str,
        args: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
        log_file: bool = True,
    ) -> Run:
        """``log_file=False`` leaves plugin output on stderr (``Run.log`` is then stderr):
        for guests whose file descriptor numbers are compared, since ``-D`` takes one."""
        self.n += 1
        log = self.tmp / f"plugin-{self.n}.log"
        cmd = [*QPP, "run", *(("-D", str(log)) if log_file else ()), *extra]
        for p in plugins:
            cmd += ["-p", p]
        cmd += [str(guest_path(program, arch)), *args]
        proc = subprocess.run(cmd, cwd=self.tmp, capture_output=True, text=True, timeout=120)
        text = log.read_text() if log.exists() else ("" if log_file else proc.stderr)
        return Run(proc.returncode, proc.stdout, proc.stderr, text)


@pytest.fixture
def qpp_run(tmp_path: Path) -> Runner:
    return Runner(tmp_path)
