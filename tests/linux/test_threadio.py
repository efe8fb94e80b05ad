"""Blocking calls that wait in their own thread, on every architecture: epoll (thr_epoll),
the open of a FIFO (thr_fifo), F_SETLKW between processes (thr_lock), and sleeps ended by
a signal handler, which write the time left (thr_sleep).

The expected outputs are qemu-user's stdout, the same on all five targets, except where
qemu-user 7.2 lacks the call (epoll_pwait2: the file holds Linux's answer, from a native
run of the x86_64 build; tests/guests/README.md). Each run is a subprocess (a hang must
not take the test session with it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"

#: multi-threaded guests that sleep and wait: the whole-suite cell runs them
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("arch", ARCHES)
def test_epoll(arch: str) -> None:
    """create/create1, ctl and its errors, the u64 data, level, edge and one-shot
    registrations of pipes and a socketpair, the three waits, EINTR alone and in a thread,
    epoll_pwait's mask, a thread in epoll_wait woken by another's write while a third
    spins, an epoll fd shared across fork."""
    status, out, err = qpp_run_guest("thr_epoll", arch)
    assert status == 0, err
    assert out == expected("thr_epoll")


def _python_backend(program: str, arch: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qpp_core", "run", str(BIN / f"{program}.{arch}")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QPP_BACKEND": "python"},
    )


@pytest.mark.parametrize("arch", ["x86_64", "mipsel"])
def test_epoll_python_backend(arch: str) -> None:
    r = _python_backend("thr_epoll", arch)
    assert r.returncode == 0, r.stderr
    assert r.stdout == expected("thr_epoll")


@pytest.mark.parametrize("arch", ARCHES)
def test_fifo_open_waits_in_its_thread(arch: str) -> None:
    """mkfifo; a reader and a writer thread meet whichever comes first; main's open waits
    while a spinner goes on; non-blocking opens; a handler ends a waiting open (EINTR,
    no reader left behind) or lets it go on (SA_RESTART)."""
    status, out, err = qpp_run_guest("thr_fifo", arch)
    assert status == 0, err
    assert out == expected("thr_fifo")


@pytest.mark.parametrize("arch", ARCHES)
def test_file_locks_wait_in_their_thread(arch: str) -> None:
    """F_SETLKW between two processes while another thread of the waiting one spins;
    F_GETLK/F_GETLK64 name the holder; F_OFD_SETLKW and flock between two threads."""
    status, out, err = qpp_run_guest("thr_lock", arch)
    assert status == 0, err
    assert out == expected("thr_lock")


@pytest.mark.parametrize("arch", ARCHES)
def test_interrupted_sleeps_write_the_time_left(arch: str) -> None:
    status, out, err = qpp_run_guest("thr_sleep", arch)
    assert status == 0, err
    assert out == expected("thr_sleep")


@pytest.mark.parametrize("program", ["thr_fifo", "thr_lock", "thr_sleep"])
def test_python_backend(program: str) -> None:
    r = _python_backend(program, "arm")
    assert r.returncode == 0, r.stderr
    assert r.stdout == expected(program)
