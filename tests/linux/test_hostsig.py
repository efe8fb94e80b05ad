"""qpp_core.machine.hostsig in this process: real signals, a real machine, real guests.

The end-to-end behaviour (``qpp run`` receiving signals) is in tests/cli/test_host_signals.py;
here: the watchdog alone stops an engine that runs no Python hooks, what is left behind
after a run, and a forked child that does not steal its parent's signals.
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.machine.hostsig import HostSignals, fatal_signals
from qpp_core.runner import RunOptions, run

LOOP = Path(__file__).resolve().parents[1] / "guests" / "bin" / "hostsig_loop.x86_64"


def loop_machine(*args: str):  # type: ignore[no-untyped-def]
    return load_guest(GuestOptions(binary=str(LOOP), args=args), stderr=io.StringIO())


def test_the_watchdog_stops_an_engine_without_python_hooks(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """No Python code runs inside emu_start here: only the watchdog can stop it."""
    machine = loop_machine()
    main = threading.main_thread().ident
    assert main is not None
    with HostSignals(machine) as host:
        host.start_guest()
        timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGUSR2))
        rescue = threading.Timer(10, machine.uc.emu_stop)  # fail, do not hang, if broken
        timer.start()
        rescue.start()
        began = time.monotonic()
        outcome = machine.run()
        took = time.monotonic() - began
        rescue.cancel()
        timer.join()
    assert (outcome.status, outcome.signal, outcome.message) == (128 + 12, 12, None)
    assert took < 2.5
    assert capfd.readouterr().out == "hostsig_loop: spin\n"


def test_a_run_leaves_the_handlers_as_it_found_them(capfd: pytest.CaptureFixture[str]) -> None:
    from qpp_core.guests import guest_path

    before = {sig: signal.getsignal(sig) for sig in fatal_signals()}
    status = run(
        RunOptions(guest=GuestOptions(binary=str(guest_path("hello", "x86_64")))),
        stderr=io.StringIO(),
    )
    assert status == 0
    assert {sig: signal.getsignal(sig) for sig in fatal_signals()} == before
    assert signal.set_wakeup_fd(-1) == -1  # none was set before, none is left
    assert "qpp-host-signals" not in {t.name for t in threading.enumerate()}


def test_a_forked_child_does_not_stop_its_parent() -> None:
    """After fork, a signal to the child must reach the child's machine, not the parent's
    (they would share the wakeup pipe and the parent's watchdog would read it)."""
    machine = loop_machine()
    with HostSignals(machine) as host:
        host.start_guest()
        pid = os.fork()
        if pid == 0:  # the child: signal itself, see its own machine record it
            ok = False
            try:
                os.kill(os.getpid(), signal.SIGUSR1)
                deadline = time.monotonic() + 2
                while machine.host_signal is None and time.monotonic() < deadline:
                    time.sleep(0.01)
                ok = machine.host_signal == signal.SIGUSR1
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        time.sleep(0.3)  # the parent's watchdog would have reacted by now
        assert machine.host_signal is None
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_guest_fds_are_where_they_were() -> None:
    """Guest fds are host fds: the wakeup pipe must not take the guest's next numbers."""
    probe = os.open(os.devnull, os.O_RDONLY)
    os.close(probe)
    with HostSignals(loop_machine()):
        again = os.open(os.devnull, os.O_RDONLY)
        os.close(again)
    assert again == probe
