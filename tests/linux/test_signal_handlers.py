"""Guest signal handlers run, on every architecture, as under qemu-user.

Fault handlers: tests/guests/src/sig_faults.c, qemu-user's stdout in expected/sig_faults.out.


The guest (tests/guests/src/sig_handlers.c) raises and kills itself, uses SA_SIGINFO and
SA_RESETHAND, unblocks a pending signal, waits for SIGCHLD in sigsuspend and handles
SIGPIPE; tests/guests/expected/sig_handlers.out is qemu-user's stdout, the same on all five.
Each run is a subprocess: the guest forks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest

TESTS = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("arch", ARCHES)
def test_handlers_run_as_under_qemu(arch: str) -> None:
    status, out, err = qpp_run_guest("sig_handlers", arch)
    assert status == 0, err
    assert out == expected("sig_handlers")


@pytest.mark.parametrize("arch", ARCHES)
def test_fault_handlers_fix_and_retry_or_siglongjmp(arch: str) -> None:
    """SIGSEGV handlers: mprotect and return (the store is retried), siglongjmp out of one,
    si_code and si_addr as Linux; with the default action back, the fault kills (139)."""
    status, out, err = qpp_run_guest("sig_faults", arch)
    assert status == 139, err
    assert out == expected("sig_faults")


@pytest.mark.parametrize("arch", ARCHES)
def test_timers_raise_sigalrm_for_handlers_and_default(arch: str) -> None:
    """alarm/setitimer: the handler runs in pause and in a spin without system calls; with
    the default action SIGALRM ends the guest (142) as under qemu-user."""
    status, out, err = qpp_run_guest("sig_timers", arch)
    assert status == 142, err
    assert out == expected("sig_timers")


@pytest.mark.parametrize("arch", ARCHES)
def test_handlers_edit_the_kernel_signal_frame(arch: str) -> None:
    """The kernel's frame on the guest stack: a SIGSEGV handler advances the saved pc and
    sets the load's register, another edits a syscall's result and uc_sigmask; SA_NODEFER,
    SA_RESETHAND, SA_ONSTACK (a stack overflow caught on the alternate stack) and FP
    registers kept across timer handlers, as under qemu-user."""
    status, out, err = qpp_run_guest("sig_frames", arch)
    assert status == 0, err
    assert out == expected("sig_frames")


@pytest.mark.parametrize("arch", ARCHES)
def test_cpu_exceptions_reach_handlers_with_qemus_siginfo(arch: str) -> None:
    """SIGFPE (divide by zero), SIGILL (an undefined instruction, skipped by a handler that
    returns), SIGTRAP (breakpoint), SIGBUS (past a file's end): signal, si_code and si_addr
    as qemu-user reports them, per architecture (expected/sig_traps.ARCH)."""
    status, out, err = qpp_run_guest("sig_traps", arch)
    assert status == 0, err
    assert out == (TESTS / "guests" / "expected" / f"sig_traps.{arch}").read_text()


@pytest.mark.parametrize("arch", ARCHES)
def test_pending_signals_sigqueue_and_posix_timers(arch: str) -> None:
    """sigpending, sigwaitinfo/sigtimedwait (EAGAIN), sigqueue's si_value to a handler and
    to sigtimedwait, SI_TKILL, timer_create/settime/gettime/delete with SIGEV_SIGNAL (the
    timer's si_value and SI_TIMER), and a timer's SIGALRM with the default action (142)."""
    status, out, err = qpp_run_guest("sig_queue", arch)
    assert status == 142, err
    assert out == expected("sig_queue")


@pytest.mark.parametrize("arch", ARCHES)
def test_sa_restart_versus_eintr(arch: str) -> None:
    """A timer's signal interrupts read on a pipe and waitpid: under SA_RESTART they go on,
    without it they fail with EINTR; nanosleep and poll fail with EINTR either way."""
    status, out, err = qpp_run_guest("sig_restart", arch)
    assert status == 0, err
    assert out == expected("sig_restart")
