"""Unusable programs get one-line errors (and distinct statuses) before anything runs."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from linux.elfcases import CASES
from linux.elfcraft import Elf
from linux.guestrun import ARCHES, guest

from qpp_core.errors import (
    BadBinaryError,
    ExitStatus,
    HostError,
    QppError,
)
from qpp_core.linux import GuestOptions, load_guest
from qpp_core.machine.cpu import UnknownCpuModelError


def _load(path: Path | str, **opts: object) -> None:
    load_guest(GuestOptions(binary=str(path), **opts))  # type: ignore[arg-type]


def _copy(tmp_path: Path, data: bytes, name: str = "prog") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    p.chmod(0o755)
    return p


def test_not_an_elf(tmp_path: Path) -> None:
    with pytest.raises(BadBinaryError, match="not an ELF") as e:
        _load(_copy(tmp_path, b"#!/bin/sh\necho hi\n"))
    assert e.value.exit_status == ExitStatus.BAD_BINARY
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("keep", [4, 20, 64, 200, 4096])
def test_truncated(tmp_path: Path, keep: int) -> None:
    data = Path(guest("hello", "x86_64")).read_bytes()[:keep]
    with pytest.raises(BadBinaryError) as e:
        _load(_copy(tmp_path, data))
    assert "\n" not in str(e.value) and "prog" in str(e.value)


def test_wrong_machine(tmp_path: Path) -> None:
    data = bytearray(Path(guest("hello", "x86_64")).read_bytes())
    data[18:20] = (2).to_bytes(2, "little")  # EM_SPARC
    with pytest.raises(BadBinaryError, match="not supported"):
        _load(_copy(tmp_path, bytes(data)))


def test_wrong_class(tmp_path: Path) -> None:
    data = bytearray(Path(guest("hello", "arm")).read_bytes())
    data[4] = 2  # claims ELFCLASS64 with a 32-bit body
    with pytest.raises(BadBinaryError):
        _load(_copy(tmp_path, bytes(data)))


def test_big_endian_refused(tmp_path: Path) -> None:
    data = bytearray(Path(guest("hello", "mipsel")).read_bytes())
    data[5] = 2  # ELFDATA2MSB
    with pytest.raises(BadBinaryError):
        _load(_copy(tmp_path, bytes(data)))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(HostError, match="no such file") as e:
        _load(tmp_path / "nope")
    assert e.value.exit_status == ExitStatus.HOST


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(HostError, match="directory"):
        _load(tmp_path)


def test_not_executable(tmp_path: Path) -> None:
    p = _copy(tmp_path, Path(guest("hello", "x86_64")).read_bytes())
    p.chmod(0o644 if os.geteuid() else 0)  # root may execute a file only if some x bit is set
    with pytest.raises(HostError, match="permission"):
        _load(p)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file of any mode")
def test_not_readable(tmp_path: Path) -> None:
    p = _copy(tmp_path, Path(guest("hello", "x86_64")).read_bytes())
    p.chmod(0o111)
    with pytest.raises(HostError, match="permission denied; make the file readable"):
        _load(p)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run qpp as another user")
def test_not_readable_as_nobody() -> None:
    """As root, the same check with qpp run as user nobody on an execute-only file."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("no setpriv (util-linux) to drop root")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        prog = _copy(Path(tmp), Path(guest("hello", "x86_64")).read_bytes())
        prog.chmod(0o711)
        drop = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        probe = subprocess.run(
            [*drop, sys.executable, "-c", "import qpp_core"], capture_output=True, cwd=tmp
        )
        if probe.returncode != 0:  # e.g. a virtual environment only root may read
            pytest.skip("user nobody cannot import qpp_core from this environment")
        result = subprocess.run(
            [*drop, sys.executable, "-m", "qpp_core", "run", str(prog)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp,
        )
    line = _one_error(result, ExitStatus.HOST)
    assert "permission denied; make the file readable" in line


def test_dynamic_refused() -> None:
    dynamic = shutil.which("true") or "/bin/true"
    with pytest.raises(BadBinaryError, match="dynamically linked"):
        _load(dynamic)


def test_unknown_cpu() -> None:
    with pytest.raises(UnknownCpuModelError, match="-cpu help"):
        _load(guest("hello", "x86_64"), cpu="pentium9000")


def test_jail_must_exist(tmp_path: Path) -> None:
    with pytest.raises(HostError, match="--jail"):
        _load(guest("hello", "x86_64"), jail=str(tmp_path / "nope"))


# --- malformed headers and odd files: one line, status 82 or 84, at once ----------------

#: the status for each crafted case (84: the host cannot give the memory asked for)
_CASE_STATUS = {"huge_bss": {"x86_64", "aarch64", "riscv64"}}


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed(tmp_path: Path, arch: str, case: str) -> None:
    data = CASES[case](Elf.read(guest("hello", arch)), arch)
    start = time.monotonic()
    with pytest.raises(QppError) as e:
        _load(_copy(tmp_path, data))
    assert time.monotonic() - start < 1.0
    message = str(e.value)
    assert "\n" not in message and str(tmp_path / "prog") in message
    expected = ExitStatus.HOST if arch in _CASE_STATUS.get(case, ()) else ExitStatus.BAD_BINARY
    assert e.value.exit_status == expected, message


def test_interp_missing_with_sysroot(tmp_path: Path) -> None:
    data = CASES["interp_missing"](Elf.read(guest("hello", "x86_64")), "x86_64")
    with pytest.raises(HostError, match="dynamic linker /nonexistent/ld-qpp.so.1"):
        _load(_copy(tmp_path, data), sysroot=str(tmp_path))


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qpp_core", "run", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _one_error(result: subprocess.CompletedProcess[str], status: ExitStatus) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == status, result.stderr
    assert len(lines) == 1 and lines[0].startswith("qpp: error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("path", "words"),
    [("/dev/zero", "a character device"), ("/dev/null", "a character device")],
)
def test_device(path: str, words: str) -> None:
    assert words in _one_error(_cli(path, timeout=10), ExitStatus.BAD_BINARY)


def test_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    fifo.chmod(0o755)
    assert "a fifo" in _one_error(_cli(str(fifo), timeout=10), ExitStatus.BAD_BINARY)


def test_directory_cli(tmp_path: Path) -> None:
    assert "directory" in _one_error(_cli(str(tmp_path), timeout=10), ExitStatus.HOST)


def test_huge_bss_cli_stays_small(tmp_path: Path) -> None:
    """A 1 TiB bss is refused at once, without touching (or hanging on) that memory."""
    data = CASES["huge_bss"](Elf.read(guest("hello", "x86_64")), "x86_64")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = _cli(str(_copy(tmp_path, data)), timeout=10)
    assert "not enough memory" in _one_error(result, ExitStatus.HOST)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert after <= max(before, 1 << 20)  # KiB: this child stayed below 1 GiB
