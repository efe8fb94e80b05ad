"""Odd syscall arguments, poll/select and SIGPIPE with real guests on every architecture.

The guest tests/guests/src/sysodd.c prints each call's result and errno; its output under
qemu-user is recorded in tests/guests/expected/sysodd-MODE.ARCH (re-record with
``python tests/linux/test_syscall_odd.py``), and qpp must print the same, except where
qemu-user itself departs from Linux (:data:`LINUX_NOT_QEMU`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, run_guest

HERE = Path(__file__).resolve().parent
GUESTS = HERE.parent / "guests"
EXPECTED = GUESTS / "expected"
QPP = [sys.executable, "-m", "qpp_core", "run"]

#: lines where qpp gives Linux's answer and qemu-user 7.2 does not: qemu ignores the
#: failed copy of nanosleep's timespec and sleeps on stack garbage (EINVAL by luck)
LINUX_NOT_QEMU = {"nanosleep-badptr": "nanosleep-badptr -1 EFAULT"}


def binary(arch: str) -> str:
    return str(GUESTS / "bin" / f"sysodd.{arch}")


def expected(mode: str, arch: str) -> list[str]:
    lines = (EXPECTED / f"sysodd-{mode}.{arch}").read_text().splitlines()
    return [LINUX_NOT_QEMU.get(line.split()[0], line) for line in lines]


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("mode", ["odd", "poll"])
def test_same_results_as_qemu(capfd: pytest.CaptureFixture[str], arch: str, mode: str) -> None:
    r = run_guest(capfd, binary(arch), mode)
    assert r.status == 0, r.stderr
    assert r.stdout.splitlines() == expected(mode, arch)


@pytest.mark.parametrize("arch", ARCHES)
def test_epipe_kills_with_sigpipe(capfd: pytest.CaptureFixture[str], arch: str) -> None:
    r = run_guest(capfd, binary(arch), "epipe")
    assert (r.status, r.signal) == (141, signal.SIGPIPE)
    assert r.message is None  # qemu-user dies of SIGPIPE silently (no core dump)
    assert r.stdout == "before\n"


@pytest.mark.parametrize("arch", ARCHES)
def test_kill_self_with_sigusr1(capfd: pytest.CaptureFixture[str], arch: str) -> None:
    """The guest's own signal number (16 on mips) kills it with the host's (138, silently)."""
    r = run_guest(capfd, binary(arch), "usr1")
    assert (r.status, r.signal, r.message) == (138, signal.SIGUSR1, None)
    assert r.stdout == "before\n"


@pytest.mark.parametrize("arch", ARCHES)
def test_epipe_with_sigpipe_ignored(capfd: pytest.CaptureFixture[str], arch: str) -> None:
    r = run_guest(capfd, binary(arch), "epipe-ign")
    assert r.status == 0
    assert r.stdout.splitlines() == [
        "before",
        "write-noreader -1 EPIPE",
        "write-noreader-again -1 EPIPE",
    ]


@pytest.mark.parametrize("arch", ["x86_64", "mipsel"])
def test_pipe_to_head_ends_with_141(arch: str) -> None:
    """``prog | head -c10``: the reader goes away and the writer dies of SIGPIPE, silently."""
    with subprocess.Popen(
        [*QPP, binary(arch), "flood"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as p:
        assert p.stdout is not None and p.stderr is not None
        assert p.stdout.read(10) == b"0123456789"
        p.stdout.close()
        assert p.wait(timeout=30) == 141
        assert p.stderr.read() == b""


@pytest.mark.parametrize("arch", ["x86_64", "arm"])
def test_poll_stdin_then_read(arch: str) -> None:
    """The shell ``read`` builtin's way: poll fd 0 with no timeout, then read what came."""
    r = subprocess.run(
        [*QPP, binary(arch), "stdin"], input=b"hello\n", capture_output=True, timeout=30
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == [
        "poll-stdin 1 OK",
        "poll-stdin-rev 0x11",  # POLLIN | POLLHUP: the writer is done
        "read-stdin 6 OK",
        "got hello",
    ]


def test_poll_waits_for_input_that_comes_later() -> None:
    with subprocess.Popen(
        [*QPP, binary("aarch64"), "stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as p:
        assert p.stdin is not None and p.stdout is not None
        time.sleep(0.5)
        assert p.poll() is None  # blocked in poll, not reading nothing
        p.stdin.write(b"late\n")
        p.stdin.flush()
        assert p.stdout.readline() == b"poll-stdin 1 OK\n"
        p.stdin.close()
        assert p.wait(timeout=30) == 0
        assert p.stdout.read().decode().splitlines()[-1] == "got late"


BUSYBOX = Path("/usr/bin/busybox")


@pytest.mark.skipif(
    not BUSYBOX.exists() or BUSYBOX.read_bytes()[:5] != b"\x7fELF\x02",
    reason="needs the host's static busybox (x86_64)",
)
def test_shell_read_builtin_gets_the_line() -> None:
    """busybox sh's `read` polls stdin before reading: the line must arrive."""
    r = subprocess.run(
        [*QPP, str(BUSYBOX), "sh", "-c", 'read x; echo "got $x"'],
        input=b"hello\n",
        capture_output=True,
        timeout=60,
    )
    assert (r.returncode, r.stdout) == (0, b"got hello\n"), r.stderr


@pytest.mark.parametrize("arch", ["x86_64", "arm"])
def test_huge_nanosleep_sleeps(arch: str) -> None:
    """nanosleep(2^31 s) sleeps, as Linux does; it used to crash qpp (OverflowError)."""
    with subprocess.Popen(
        [*QPP, binary(arch), "sleep"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as p:
        time.sleep(1.5)
        still_running = p.poll() is None
        p.kill()
        p.wait()
        assert p.stderr is not None
        assert still_running, p.stderr.read()


def test_unexpected_handler_error_is_an_errno_and_visible_with_debug(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dispatcher's last resort: a handler bug gives the guest EINVAL, not a qpp crash,
    and QPP_DEBUG=1 shows the traceback."""
    from qpp_core.linux.syscalls import registry

    def broken(k: object, a: object) -> int:
        raise ValueError("a handler bug")

    registry.handler("getcwd")  # its module loaded first: it would register it again
    monkeypatch.setitem(registry.HANDLERS, "getcwd", broken)
    monkeypatch.setenv("QPP_DEBUG", "1")
    r = run_guest(capfd, binary("riscv64"), "odd")
    assert r.status == 0
    assert "getcwd-0 -1 EINVAL" in r.stdout.splitlines()
    assert "qpp: debug: syscall getcwd raised ValueError: a handler bug" in r.stderr
    assert "Traceback" in r.stderr
    monkeypatch.delenv("QPP_DEBUG")
    r = run_guest(capfd, binary("riscv64"), "odd")
    assert "getcwd-0 -1 EINVAL" in r.stdout.splitlines()
    assert "qpp: debug" not in r.stderr


def record() -> None:
    """Re-record the expected outputs from qemu-user (qemu-ARCH in PATH)."""
    EXPECTED.mkdir(exist_ok=True)
    for arch in ARCHES:
        for mode in ("odd", "poll"):
            out = subprocess.run(
                [f"qemu-{arch}", binary(arch), mode], capture_output=True, check=True
            ).stdout
            (EXPECTED / f"sysodd-{mode}.{arch}").write_bytes(out)
            print(f"recorded sysodd-{mode}.{arch}", file=sys.stderr)


if __name__ == "__main__":
    os.chdir(HERE.parents[1])
    record()
