"""--jail: every guest path must resolve inside the jail; escapes fail and are reported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, guest, run_guest


@pytest.fixture
def jail(tmp_path: Path) -> Path:
    j = tmp_path / "jail"
    (j / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    os.symlink(str(tmp_path / "outside"), j / "link_out")
    os.symlink("sub", j / "link_in")
    return j


def _file(
    capfd: pytest.CaptureFixture[str], arch: str, jail: Path, path: str
) -> tuple[int, str, str]:
    r = run_guest(capfd, guest("probe", arch), "file", path, jail=str(jail))
    return r.status, r.stdout, r.stderr


@pytest.mark.parametrize("arch", ARCHES)
def test_inside_allowed(arch: str, jail: Path, capfd: pytest.CaptureFixture[str]) -> None:
    status, out, err = _file(capfd, arch, jail, str(jail / "sub" / "f"))
    assert status == 0, out
    assert "jail" not in err
    status, out, _ = _file(capfd, arch, jail, str(jail / "link_in" / "g"))
    assert status == 0, out


@pytest.mark.parametrize("arch", ["x86_64", "arm"])
@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "proc_root", "proc_cwd"])
def test_escapes_refused(
    arch: str, kind: str, jail: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = {
        "absolute": str(tmp_path / "outside" / "f"),
        "dotdot": str(jail / "sub" / ".." / ".." / "outside" / "f"),
        "symlink": str(jail / "link_out" / "f"),
        "proc_root": "/proc/self/root" + str(tmp_path / "outside" / "f"),
        "proc_cwd": "/proc/self/cwd/escape-file",
    }[kind]
    status, out, err = _file(capfd, arch, jail, path)
    assert status == 1 and "FAIL" in out
    assert "qpp: jail: refused" in err
    assert not list((tmp_path / "outside").iterdir())


def test_relative_escape(
    jail: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(jail / "sub")
    status, out, err = _file(capfd, "x86_64", jail, "../../outside/f")
    assert status == 1 and "qpp: jail: refused" in err
    status, out, err = _file(capfd, "x86_64", jail, "rel")
    assert status == 0, out


def test_no_jail_sees_host(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, guest("probe", "x86_64"), "file", str(tmp_path / "f"))
    assert r.status == 0
