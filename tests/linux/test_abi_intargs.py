"""int syscall arguments are 32 bits, whatever the register's upper half holds (real guests).

``abi_intargs`` makes raw syscalls with 0xdeadbeef in the upper half of every int and
unsigned int argument (and AT_FDCWD as 0x00000000ffffff9c); ``abi_fopen`` is glibc's
fopen of a relative path on x86_64, whose openat gets AT_FDCWD from ``mov $-100,%edi``.
Their output is qemu-user's (tests/guests/expected/, the same on all five targets).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, run_guest

HERE = Path(__file__).resolve().parents[1] / "guests"
EXPECTED = {p: (HERE / "expected" / f"{p}.out").read_text() for p in ("abi_intargs", "abi_fopen")}
QPP = [sys.executable, "-m", "qpp_core", "run"]


def _bin(program: str, arch: str) -> str:
    path = HERE / "bin" / f"{program}.{arch}"
    assert path.exists(), f"{path} missing: tests/guests/build.sh {program}"
    return str(path)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the guests create and remove files in their cwd


@pytest.mark.parametrize("arch", ARCHES)
def test_int_arguments_ignore_the_upper_half(capfd: pytest.CaptureFixture[str], arch: str) -> None:
    r = run_guest(capfd, _bin("abi_intargs", arch))
    assert (r.status, r.stdout) == (0, EXPECTED["abi_intargs"])
    assert list(Path().iterdir()) == []  # the file and the directory were removed


@pytest.mark.parametrize("arch", [*ARCHES, "x86_64-glibc"])
def test_fopen_of_a_relative_path(capfd: pytest.CaptureFixture[str], arch: str) -> None:
    r = run_guest(capfd, _bin("abi_fopen", arch))
    assert (r.status, r.stdout) == (0, EXPECTED["abi_fopen"]), r.stderr


@pytest.mark.parametrize(
    ("program", "arch"), [("abi_intargs", "x86_64"), ("abi_fopen", "x86_64-glibc")]
)
def test_expected_output_is_qemu_users(program: str, arch: str, tmp_path: Path) -> None:
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        pytest.skip("qemu-x86_64 not installed")
    proc = subprocess.run([qemu, _bin(program, arch)], capture_output=True, text=True, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, EXPECTED[program])


def test_strace_shows_the_values_the_kernel_uses(capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, _bin("abi_intargs", "x86_64"), strace=True)
    # (in-process, the guest's fds are numbered after pytest's own)
    text = re.sub(r"^\d+ ", "", r.stderr, flags=re.M)
    assert re.search(r'^openat\(AT_FDCWD,"abi_intargs.tmp",0x241,0640\) = (\d+)$', text, re.M)
    assert re.search(r"^fcntl\(\d+,3,0x0\) = 1$", text, re.M)  # fd and cmd without junk
    assert re.search(r"^kill\(\d+,0\) = 0$", text, re.M)
    assert 'unlinkat(AT_FDCWD,"abi_intargs.dir",0x200) = 0\n' in text


def test_strace_and_unimp_name_calls_qpp_lacks(capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, _bin("abi_intargs", "aarch64"), strace=True)
    assert not [x for x in r.stderr.splitlines() if "Unknown syscall" in x]
    assert re.search(
        r"^\d+ io_uring_setup\(1,NULL\) = -1 errno=38 \(Function not implemented\)$",
        r.stderr,
        re.M,
    )
    r = run_guest(capfd, _bin("abi_intargs", "mipsel"), debug=frozenset({"unimp"}))
    assert "qpp: unsupported syscall: 4425 (io_uring_setup)\n" in r.stderr


def test_a_number_no_table_names_is_still_reported(capfd: pytest.CaptureFixture[str]) -> None:
    # x86_64 has nothing between 335 and 423; qpp prints what qemu prints for it
    from io import StringIO

    from qpp_core.linux.strace import Strace

    out = StringIO()
    Strace(out, 64, str, names={0: "read"}).enter(None, 400, (0,) * 6)
    assert out.getvalue().endswith(" Unknown syscall 400\n")


def test_plugins_see_the_narrowed_arguments(tmp_path: Path) -> None:
    pytest.importorskip("qpp_strace", reason="qpp-strace is not installed")
    proc = subprocess.run(
        [*QPP, "-p", "strace", _bin("abi_intargs", "x86_64")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert 'write(1, "write to fd 1|junk\\n", 19) = 19' in lines
    assert 'openat(AT_FDCWD, "abi_intargs.tmp", O_WRONLY|O_CREAT|O_TRUNC, 0640) = 3' in lines
    assert "lseek(3, 9, SEEK_SET) = 9" in lines
    assert "io_uring_setup(1, NULL) = -1 ENOSYS (Function not implemented)" in lines
