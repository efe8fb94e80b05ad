"""Guest threads (pthreads) on every architecture, as under qemu-user.

The guests are tests/guests/src/thr_*.c; expected/thr_*.out are qemu-user's stdout, the
same on all five targets: a mutex-protected counter, a condition-variable queue, a barrier,
``__thread`` variables, a detached thread and pthread_join's values (thr_sync); a thread
calling exit() while another spins and main waits in pthread_join (thr_exit, status 3);
threads blocked in read() of a pipe while another writes it (thr_pipe); futex's answers
(thr_futex); signals aimed at threads and per-thread masks (thr_signals); poll/select
waiting in one thread (thr_poll); a thread pool, join statuses, detached threads and
exit_group from a thread (thr_pool). thr_deadlock hangs under qemu-user: qpp reports it. Each run is a subprocess (threads are scheduled by
the machine; a hang must not take the test session with it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest

from qpp_core.errors import ExitStatus
from qpp_core.linux import GuestOptions, load_guest

TESTS = Path(__file__).resolve().parents[1]
BIN = TESTS / "guests" / "bin"

#: long multi-threaded guest runs: the whole-suite cell runs them, the fast set does not
#: (test_thread_requeue.py keeps a short threaded guest in the fast set)
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("arch", ARCHES)
def test_mutex_condvar_barrier_tls_detached_join(arch: str) -> None:
    status, out, err = qpp_run_guest("thr_sync", arch)
    assert status == 0, err
    assert out == expected("thr_sync")


@pytest.mark.parametrize("arch", ARCHES)
def test_exit_from_a_thread_ends_the_process(arch: str) -> None:
    """One thread calls exit(3) while another spins without system calls: the spinner
    does not starve the others (time slices), and the process ends with status 3."""
    status, out, err = qpp_run_guest("thr_exit", arch)
    assert status == 3, err
    assert out == expected("thr_exit")


@pytest.mark.parametrize("arch", ARCHES)
def test_read_of_a_pipe_blocks_only_its_thread(arch: str) -> None:
    status, out, err = qpp_run_guest("thr_pipe", arch)
    assert status == 0, err
    assert out == expected("thr_pipe")


@pytest.mark.parametrize("arch", ARCHES)
def test_futex_answers_as_linux(arch: str) -> None:
    """Errors, timeouts (relative, absolute on both clocks), bitsets, WAKE_OP and
    CMP_REQUEUE with real waiters: qemu-user passes futex to Linux, so this is Linux."""
    status, out, err = qpp_run_guest("thr_futex", arch)
    assert status == 0, err
    assert out == expected("thr_futex")


@pytest.mark.parametrize("arch", ARCHES)
def test_signals_reach_one_thread_and_masks_are_per_thread(arch: str) -> None:
    """pthread_kill runs the handler on its target (blocked in read, restarted under
    SA_RESTART); masks are per thread and inherited; kill() of the process goes to the
    one thread that does not block it; a pthread_kill'ed signal is pending for its thread
    alone; a SIGEV_THREAD_ID timer reaches only its thread; setitimer's SIGALRM is
    handled by the one thread that does not block it; sigsuspend and sigtimedwait wait
    in their own thread (thr_signals)."""
    status, out, err = qpp_run_guest("thr_signals", arch)
    assert status == 0, err
    assert out == expected("thr_signals")


@pytest.mark.parametrize("arch", ARCHES)
def test_poll_and_select_block_only_their_thread(arch: str) -> None:
    """A thread in poll/select of a pipe another thread writes; a spinning thread goes
    on while main waits in poll, select, ppoll and pselect6 with a timeout (thr_poll)."""
    status, out, err = qpp_run_guest("thr_poll", arch)
    assert status == 0, err
    assert out == expected("thr_poll")


@pytest.mark.parametrize("arch", ARCHES)
def test_thread_pool_join_statuses_detached_and_exit_group(arch: str) -> None:
    """A pool of workers, pthread_join's statuses, detached threads, and a thread's
    exit_group(5) while others wait in poll, on a condition variable, in a join, or spin
    (thr_pool)."""
    status, out, err = qpp_run_guest("thr_pool", arch)
    assert status == 5, err
    assert out == expected("thr_pool")


@pytest.mark.parametrize("arch", ARCHES)
def test_c_library_signals_between_its_threads(arch: str) -> None:
    """A SIGEV_THREAD timer (the C library's helper thread takes a SIGEV_THREAD_ID
    signal) and pthread_cancel of a thread blocked in read (thr_cancel; qemu-user 7.2
    hangs on mipsel, where qpp gives the other targets' output)."""
    status, out, err = qpp_run_guest("thr_cancel", arch)
    assert status == 0, err
    assert out == expected("thr_cancel")


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("sched", ["timeslice", "deterministic"])
def test_pthread_kill_of_a_computing_thread(arch: str, sched: str) -> None:
    """The handler runs on a thread that makes no system call; main spins until it has
    started (under -sched deterministic the first thread's clone ends an engine run that
    had no instruction count: main used to spin on alone)."""
    status, out, err = qpp_run_guest("thr_spinkill", arch, options=("-sched", sched))
    assert status == 0, err
    assert out == expected("thr_spinkill")


@pytest.mark.parametrize("arch", ["x86_64", "arm"])
def test_thread_signals_deterministic_and_python_backend(arch: str) -> None:
    """The same answers under ``-sched deterministic`` and with the Python backend."""
    import os
    import subprocess
    import sys

    binary = Path(__file__).resolve().parents[1] / "guests" / "bin" / f"thr_signals.{arch}"
    for env, options in (({}, ["-sched", "deterministic"]), ({"QPP_BACKEND": "python"}, [])):
        r = subprocess.run(
            [sys.executable, "-m", "qpp_core", "run", *options, str(binary)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **env},
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout == expected("thr_signals")


@pytest.mark.parametrize("arch", ARCHES)
def test_deadlock_is_reported_not_hung(arch: str) -> None:
    status, out, err = qpp_run_guest("thr_deadlock", arch)
    assert status == ExitStatus.GUEST_DEADLOCK, err
    assert out == "starting\n"
    lines = [line for line in err.splitlines() if "deadlock" in line]
    assert len(lines) == 1, err
    waits = re.findall(r"thread (\d+) \(vcpu (\d+)\) waits on futex 0x[0-9a-f]+", lines[0])
    assert sorted(int(v) for _, v in waits) == [0, 1, 2], lines[0]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_deterministic_schedule_repeats_a_race(arch: str, tmp_path: Path) -> None:
    """A racy guest: the same output and per-vCPU instruction counts on every run."""
    runs = []
    for i in range(2):
        log = tmp_path / f"insn{i}"
        options = ("-sched", "deterministic", "-seed", "7", "-p", "insn", "-D", str(log))
        status, out, err = qpp_run_guest("thr_racy", arch, options=options)
        assert status == 0, err
        runs.append((out, log.read_text()))
    assert runs[0] == runs[1]
    counts = re.findall(r"cpu (\d+) insns: (\d+)", runs[0][1])
    assert [int(c) for c, _ in counts] == [0, 1, 2, 3]
    total = int(re.search(r"total insns: (\d+)", runs[0][1]).group(1))  # type: ignore[union-attr]
    assert total == sum(int(n) for _, n in counts)


def test_insn_counts_each_thread_as_a_vcpu(tmp_path: Path) -> None:
    """-p insn: one line per vCPU (indexes reused as QEMU reuses them) and their sum."""
    log = tmp_path / "insn"
    status, out, err = qpp_run_guest(
        "thr_compute", "riscv64", "4", options=("-p", "insn", "-D", str(log))
    )
    assert status == 0, err
    assert out == expected("thr_compute")
    text = log.read_text()
    counts = [int(n) for n in re.findall(r"cpu \d+ insns: (\d+)", text)]
    # main and up to four workers at a time (16 in all, on the lowest free indexes)
    assert 2 <= len(counts) <= 5
    assert min(counts[1:]) > 1_000_000  # each worker vCPU ran at least one job
    total = int(re.search(r"total insns: (\d+)", text).group(1))  # type: ignore[union-attr]
    assert total == sum(counts)


def test_single_threaded_guest_has_no_scheduler(capfd: pytest.CaptureFixture[str]) -> None:
    """A guest that never clones a thread runs as before: no thread table, no time slice."""
    machine = load_guest(GuestOptions(binary=str(BIN / "thr_compute.x86_64"), args=("0",)))
    result = machine.run()
    out, _ = capfd.readouterr()
    assert result.status == 0
    assert out == expected("thr_compute").replace("threads 4", "threads 0")  # main alone
    assert machine.threads is None
