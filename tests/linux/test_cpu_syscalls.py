"""Syscalls qemu-user 7.2 answers that qpp once did not: the chmod/chown families (host-
backed, through the jail), rseq (ENOSYS), aarch64 prctl(PR_SVE_GET_VL/SET_VL), riscv64
riscv_flush_icache, arm cacheflush/get_tls, and x86_64 cmpxchg flags.

``tests/guests/src/cpu_syscalls.c`` prints each result; its output under qpp equals
qemu-user's (recorded in ``tests/guests/expected/cpu_syscalls.ARCH``; compared live too
when qemu-user is installed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, run_guest

TESTS = Path(__file__).resolve().parents[1]
BIN = TESTS / "guests" / "bin"
EXPECTED = TESTS / "guests" / "expected"


def _workdir(path: Path) -> str:
    path.mkdir()
    (path / "f").write_text("x")
    (path / "f").chmod(0o644)
    os.symlink("f", path / "l")
    return str(path)


@pytest.mark.parametrize("arch", ARCHES)
def test_syscalls_as_qemu(arch: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    binary = str(BIN / f"cpu_syscalls.{arch}")
    r = run_guest(capfd, binary, _workdir(tmp_path / "qpp"))
    assert r.status == 0, r.stderr
    assert r.stdout == (EXPECTED / f"cpu_syscalls.{arch}").read_text()
    assert (tmp_path / "qpp" / "f").stat().st_mode & 0o7777 == 0o604  # really on the host
    if shutil.which(f"qemu-{arch}"):
        q = subprocess.run(
            [f"qemu-{arch}", binary, _workdir(tmp_path / "qemu")], capture_output=True, text=True
        )
        assert r.stdout == q.stdout


def test_sve_vector_length_follows_prctl(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = run_guest(capfd, str(BIN / "cpu_syscalls.aarch64"), _workdir(tmp_path / "d")).stdout
    assert "PR_SVE_GET_VL = 64\nPR_SVE_SET_VL 32 = 32\ncntb = 32\n" in out


def test_permission_calls_honour_the_jail(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    outside = _workdir(tmp_path / "outside")
    (tmp_path / "jail").mkdir()
    # glibc (aarch64): musl's fchmod would retry a bad fd through fcntl, which is not the point
    r = run_guest(capfd, str(BIN / "cpu_syscalls.aarch64"), outside, jail=str(tmp_path / "jail"))
    lines = r.stdout.splitlines()
    assert "fchmod 0640 = -1 Bad file descriptor" in lines
    for call in ("chmod 0600", "chown self", "lchown self", "chown -1 -1", "chown missing"):
        assert f"{call} = -1 Permission denied" in lines, call
    assert (tmp_path / "outside" / "f").stat().st_mode & 0o7777 == 0o644
    assert "outside" in r.stderr  # the jail reports each refusal
