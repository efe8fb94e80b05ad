"""Unusable programs get one-line errors (and distinct statuses) before anything runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from linux.guestrun import guest

from qpp_core.errors import BadBinaryError, ExitStatus, HostError
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


@pytest.mark.skipif(os.geteuid() == 0, reason="root can execute anything")
def test_not_executable(tmp_path: Path) -> None:
    p = _copy(tmp_path, Path(guest("hello", "x86_64")).read_bytes())
    p.chmod(0o644)
    with pytest.raises(HostError, match="permission"):
        _load(p)


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
