"""Helpers for running the project's own guests (qpp_core/guests/bin) in-process."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from qpp_core.linux import GuestOptions, load_guest

GUEST_BIN = Path(__file__).resolve().parents[2] / "qpp_core" / "guests" / "bin"
ARCHES = ["x86_64", "aarch64", "arm", "riscv64", "mipsel"]


def guest(program: str, arch: str) -> str:
    path = GUEST_BIN / f"{program}.{arch}"
    if not path.exists():
        pytest.skip(f"{path.name} not built")
    return str(path)


@dataclass
class Run:
    status: int
    signal: int | None
    message: str | None
    stdout: str
    stderr: str  # qpp's own reports (strace, jail, unimp) plus the guest's fd 2


def run_guest(capfd: pytest.CaptureFixture[str], binary: str, *args: str, **opts: object) -> Run:
    """Load and run a guest in this process; the guest writes to the real fds 1 and 2."""
    report = io.StringIO()
    machine = load_guest(GuestOptions(binary=binary, args=args, **opts), stderr=report)  # type: ignore[arg-type]
    result = machine.run()
    out, err = capfd.readouterr()
    return Run(result.status, result.signal, result.message, out, report.getvalue() + err)


#: the test-only guests (tests/guests) and qemu-user's outputs for them
TEST_GUESTS = Path(__file__).resolve().parents[1] / "guests"


def qpp_run_guest(
    program: str, arch: str, *args: str, options: tuple[str, ...] = ()
) -> tuple[int, str, str]:
    """``qpp run OPTIONS tests/guests/bin/PROGRAM.ARCH ARGS`` as a subprocess (for guests
    that fork, or start threads and signals): status, stdout, stderr."""
    import subprocess
    import sys

    binary = TEST_GUESTS / "bin" / f"{program}.{arch}"
    r = subprocess.run(
        [sys.executable, "-m", "qpp_core", "run", *options, str(binary), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return r.returncode, r.stdout, r.stderr


def expected(program: str) -> str:
    """qemu-user's stdout for a test guest when it is the same on all five targets."""
    return (TEST_GUESTS / "expected" / f"{program}.out").read_text()
