"""--jail: every guest path must resolve inside the jail; escapes fail and are reported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, guest, run_guest

TEST_GUESTS = Path(__file__).resolve().parents[1] / "guests" / "bin"


@pytest.fixture
def jail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # outside the jail; restored after the test
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
        "proc_cwd": "/proc/self/cwd/../outside/f",  # the cwd is the jail: climb out of it
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


def _lines(out: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in out.splitlines())


@pytest.mark.parametrize("arch", ARCHES)
def test_starts_at_jail_root(arch: str, jail: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """qpp's cwd is outside the jail: the guest starts at the jail's root, not outside it."""
    r = run_guest(capfd, str(TEST_GUESTS / f"files_jail.{arch}"), jail=str(jail))
    seen = _lines(r.stdout)
    assert seen["cwd"] == str(jail.resolve())
    assert seen["empty-path"] == "is-cwd"  # fstatat(AT_FDCWD, "", AT_EMPTY_PATH) is the jail
    assert seen["create"] == "ok" and (jail / "files-jail-created").exists()
    assert "refused" not in r.stderr


def test_starts_in_cwd_inside_jail(
    jail: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(jail / "sub")
    r = run_guest(capfd, str(TEST_GUESTS / "files_jail.x86_64"), jail=str(jail))
    assert _lines(r.stdout)["cwd"] == str((jail / "sub").resolve())
    assert (jail / "sub" / "files-jail-created").exists()


@pytest.mark.parametrize("arch", ARCHES)
def test_inherited_stdio(arch: str, jail: Path, tmp_path: Path) -> None:
    """fstat on a pipe and a tty the guest inherited works inside a jail."""
    master, slave = os.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "qpp_core", "run", "--jail", str(jail), "-D", "plugins.log",
             str(TEST_GUESTS / f"files_jail.{arch}")],
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == 0, result.stderr
    seen = _lines(result.stdout)
    assert result.stderr == ""
    assert "fstat 0 chr\nfstat 1 fifo\nfstat 2 fifo\n" in result.stdout
    assert seen["cwd"] == str(jail.resolve())
    assert (tmp_path / "plugins.log").exists()  # qpp's own relative paths stay qpp's
