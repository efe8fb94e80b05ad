"""Each architecture runs the project's guests: hello, argv/envp, files, memory, exits, faults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, guest, run_guest


@pytest.mark.parametrize("arch", ARCHES)
def test_hello(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, guest("hello", arch))
    assert r.status == 0 and r.signal is None
    assert "Hello" in r.stdout


def test_hello_glibc_qemu64(capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, guest("hello", "x86_64-glibc"), cpu="qemu64")
    assert r.status == 0 and "Hello" in r.stdout


@pytest.mark.parametrize("arch", ARCHES)
def test_argv_and_argv0(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    binary = guest("probe", arch)
    r = run_guest(capfd, binary, "args", "one", "two words")
    assert r.stdout.splitlines() == [
        "argc = 4",
        f"argv[0] = {binary}",
        "argv[1] = args",
        "argv[2] = one",
        "argv[3] = two words",
    ]
    r = run_guest(capfd, binary, "args", argv0="renamed")
    assert "argv[0] = renamed" in r.stdout


@pytest.mark.parametrize("arch", ARCHES)
def test_environment(
    arch: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QPP_KEEP", "kept")
    monkeypatch.setenv("QPP_DROP", "dropped")
    r = run_guest(
        capfd,
        guest("probe", arch),
        "env",
        "QPP_KEEP",
        "QPP_DROP",
        "QPP_NEW",
        env_set=(("QPP_NEW", "new"),),
        env_unset=("QPP_DROP",),
    )
    assert r.stdout.splitlines() == ["QPP_KEEP=kept", "QPP_DROP=(unset)", "QPP_NEW=new"]


@pytest.mark.parametrize("arch", ARCHES)
def test_file_io(arch: str, capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "probe.txt"
    r = run_guest(capfd, guest("probe", arch), "file", str(target))
    assert r.status == 0, r.stdout
    assert r.stdout.splitlines() == [
        "file: wrote 32",
        "file: lseek 6",
        "file: read 'from the qpp probe'",
        "file: size 32",
        "file: unlink ok",
    ]
    assert not target.exists()


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("what", ["brk", "mmap", "pipe", "time", "uname"])
def test_memory_and_misc(arch: str, what: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, guest("probe", arch), what)
    assert r.status == 0, r.stdout
    assert r.stdout.startswith(f"{what}: ") and "FAIL" not in r.stdout


@pytest.mark.parametrize("arch", ARCHES)
def test_cwd(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, guest("probe", arch), "cwd")
    assert r.stdout.strip() == f"cwd: {os.getcwd()}"


@pytest.mark.parametrize("arch", ARCHES)
def test_exit_code(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    assert run_guest(capfd, guest("probe", arch), "exit", "7").status == 7
    assert run_guest(capfd, guest("probe", arch), "exit", "300").status == 300 & 0xFF


@pytest.mark.parametrize("arch", ARCHES)
def test_segfault(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, guest("probe", arch), "fault")
    assert (r.status, r.signal) == (139, 11)
    assert r.message is not None
    *first, detail = r.message.splitlines()
    if arch != "riscv64":  # qemu-user 7.2 dumps no riscv core, so prints no line for it
        assert first == ["qemu: uncaught target signal 11 (Segmentation fault) - core dumped"]
    assert "0x10" in detail and "pc=0x" in detail


@pytest.mark.parametrize("arch", ARCHES)
def test_abort(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, guest("probe", arch), "abort")
    assert (r.status, r.signal) == (134, 6)
    line = "qemu: uncaught target signal 6 (Aborted) - core dumped"
    assert r.message == (None if arch == "riscv64" else line)


def test_compute_output_is_the_same_everywhere(capfd: pytest.CaptureFixture[str]) -> None:
    outs = {run_guest(capfd, guest("compute", a), "1").stdout for a in ARCHES}
    assert len(outs) == 1
