"""Host signals that end the guest, as qemu-user does it.

qemu-user catches every host signal and delivers it to the guest; a guest with a handler
for it runs the handler (:meth:`Machine.takes_host_signal`); one without takes the default
action and dies: the shell sees 128+N, and qemu prints ``qemu: uncaught target signal N (...) - core
dumped`` only for the signals whose default action dumps core (SIGQUIT among those a
user sends). qpp does the same for every host signal whose default action ends a process,
so that Ctrl-C, ``kill``, a closed terminal or ``timeout`` still run every plugin's atexit
and flush the plugin log.

Three parts work together, none of them on the per-block or per-instruction path:

* a Python handler for each such signal records it (:meth:`Machine.interrupt`, which also
  stops the engine when a Python hook is running) and raises :class:`HostSignalInterrupt`
  where a blocking host call must be abandoned (a guest ``read``/``nanosleep``, a plugin's
  install), since Python retries interrupted system calls after a handler that returns;
* a watchdog thread woken through :func:`signal.set_wakeup_fd` stops the engine when the
  guest runs without Python hooks (Python code, handlers included, does not run inside
  ``emu_start`` then), and repeats the stop and the signal until the machine has seen it;
* the machine's run loop turns the recorded signal into the guest's death.

Signals ignored when qpp started stay ignored (a guest inherits that, as under ``nohup``).
SIGPIPE and SIGXFSZ are left as Python sets them (ignored): they come from qpp's own host
calls, and the syscall layer turns EPIPE/EFBIG into the guest's signal, honouring the
guest's disposition.

After the guest has ended, while the plugins' atexit callbacks run, a first signal is
ignored and a second one (or the first after the guest was killed by a signal) ends qpp at
once with the signal's default action; so does a second signal while plugins install (the
first abandons the install under way and ends the guest before it starts).
"""

from __future__ import annotations

import contextlib
import enum
import os
import select
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from ..hostfds import make_private

if TYPE_CHECKING:
    from .run import Machine

#: host signals whose default action terminates the process, by name (present on Linux)
_FATAL_NAMES = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGALRM",
    "SIGTERM",
    "SIGUSR1",
    "SIGUSR2",
    "SIGSTKFLT",
    "SIGVTALRM",
    "SIGPROF",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
    "SIGXCPU",
]

#: how often the watchdog repeats the stop while the machine has not seen the signal
NAG_SECONDS = 0.1

_STOP_BYTE = b"\0"  # no signal has number 0: tells the watchdog to end

#: the installed instance, for the fork handler (one run at a time per process)
_active: HostSignals | None = None


def _private_pipe() -> tuple[int, int]:
    """A pipe (the write end non-blocking) on qpp's own high fd numbers, out of the guest's
    reach (:mod:`qpp_core.hostfds`): a pipe on 3 and 4 would make the guest's first
    ``open`` return 5 where Linux and qemu return 3."""
    r, w = (make_private(fd) for fd in os.pipe())
    os.set_blocking(w, False)
    return r, w


def fatal_signals() -> tuple[int, ...]:
    """Host signals whose default action ends a process (standard and real-time ones)."""
    numbers = [int(getattr(signal, name)) for name in _FATAL_NAMES if hasattr(signal, name)]
    numbers += range(signal.SIGRTMIN, signal.SIGRTMAX + 1)
    return tuple(numbers)


class HostSignalInterrupt(BaseException):
    """Raised by the handler to abandon a blocking host call; the signal is already
    recorded on the machine, whoever catches this only has to unwind."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class GuestCallInterrupted(BaseException):
    """Raised by the handler to end a blocking guest system call with EINTR: a signal came
    for a guest handler installed without SA_RESTART (or for a call Linux never restarts).
    The syscall layer turns it into the call's result."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Phase(enum.Enum):
    LOADING = "loading"  #: plugins are imported and installed: a signal interrupts them
    RUNNING = "running"  #: the guest runs: a signal stops the engine
    OVER = "over"  #: the guest has ended; plugins' atexit run


class HostSignals:
    """The handlers, the watchdog and the phase of one run (a context manager).

    ``plugin_running`` tells whether plugin code is running right now: the handler never
    raises into a plugin's callback while the guest runs (the plugin finishes it, and its
    atexit sees consistent state).
    """

    def __init__(
        self,
        machine: Machine | Callable[[], Machine],
        *,
        plugin_running: Callable[[], bool] = lambda: False,
    ) -> None:
        #: the machine signals go to; a getter when the process may change program (execve)
        self.current: Callable[[], Machine] = machine if callable(machine) else (lambda: machine)
        self.plugin_running = plugin_running
        self.phase = Phase.LOADING
        self.installed: dict[int, Any] = {}  # signal -> the handler found at install
        self._late = False  # a signal arrived after the guest ended
        self._pipe: tuple[int, int] | None = None
        self._old_wakeup = -1
        self._thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------

    def __enter__(self) -> HostSignals:
        self.install()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()

    def install(self) -> None:
        """Install the handlers and start the watchdog (only from the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set there; the caller owns signals then
        r, w = _private_pipe()
        self._pipe = (r, w)
        for sig in fatal_signals():
            previous = signal.getsignal(sig)
            if previous == signal.SIG_IGN:
                continue  # ignored by whoever started qpp: the guest inherits that
            self.installed[sig] = previous
            signal.signal(sig, self._handle)
        self._old_wakeup = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        self._start_watchdog()
        global _active
        _active = self

    def _start_watchdog(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="qpp-host-signals", daemon=True)
        self._thread.start()

    def _after_fork_in_child(self) -> None:
        """A forked child has no watchdog and shares the parent's pipe: give it its own,
        so that a signal to the child never stops the parent's engine."""
        if self._pipe is None:
            return
        for fd in self._pipe:
            os.close(fd)
        r, w = _private_pipe()
        self._pipe = (r, w)
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        self._thread = None
        if self.phase is not Phase.OVER:
            self._start_watchdog()

    def start_guest(self) -> None:
        """The guest is about to run: signals stop the engine from now on."""
        if self.phase is Phase.LOADING:
            self.phase = Phase.RUNNING

    def guest_over(self) -> None:
        """The guest has ended: stop the watchdog and the guest's interval timers (the
        host's, which die with a Linux process: one left running would end qpp with its
        signal while plugins' atexit run); plugins' atexit run next."""
        self._stop_watchdog()
        self.phase = Phase.OVER
        for which in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            signal.setitimer(which, 0)

    def restore(self) -> None:
        """Put back the handlers and the wakeup fd found at :meth:`install`."""
        self._stop_watchdog()
        self.phase = Phase.OVER
        if self._pipe is None:
            return
        signal.set_wakeup_fd(self._old_wakeup)
        global _active
        if _active is self:
            _active = None
        for sig, previous in self.installed.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self.installed.clear()
        for fd in self._pipe:
            os.close(fd)
        self._pipe = None

    def _stop_watchdog(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None or self._pipe is None:
            return
        with contextlib.suppress(BlockingIOError):
            os.write(self._pipe[1], _STOP_BYTE)
        thread.join()

    # --- the handler (main thread, between bytecodes) -----------------------------------

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        machine = self.current()
        if self.phase is Phase.OVER:
            if self._late or machine.host_signal is not None:
                self._die(signum)
            self._late = True
            return
        if self.phase is Phase.LOADING:
            if machine.host_signal is not None:
                self._die(signum)  # asked twice while a plugin installs (it may hang)
            machine.interrupt(signum)
            raise HostSignalInterrupt(signum)
        if machine.ignores_host_signal(signum):
            return  # the guest set SIG_IGN for it, as `nohup` or a shell's `trap '' INT`
        if machine.takes_host_signal(signum):
            # the guest's handler runs at the next block boundary or syscall end; a blocking
            # call it interrupts ends with EINTR unless restarted (SA_RESTART)
            if machine.in_syscall and not self.plugin_running() and machine.interrupts_call(signum):
                raise GuestCallInterrupted(signum)
            return
        machine.interrupt(signum)
        if machine.in_syscall and not self.plugin_running():
            raise HostSignalInterrupt(signum)

    def _die(self, signum: int) -> None:
        """Asked twice: end qpp now with the signal's default action (nothing flushed)."""
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
        os.kill(os.getpid(), signum)

    # --- the watchdog (its own thread) ------------------------------------------------------

    def _watch(self) -> None:
        assert self._pipe is not None
        r = self._pipe[0]
        main = threading.main_thread().ident
        poller = select.poll()  # not select(): the fd is high, above FD_SETSIZE
        poller.register(r, select.POLLIN)
        while True:
            machine = self.current()
            nagging = (
                self.phase is Phase.RUNNING
                and machine.host_signal is not None
                and machine.exited is None
            )
            # while the guest runs, look again every NAG_SECONDS: the main thread's handler
            # may record a signal that ends the guest after this thread has seen it
            running = self.phase is Phase.RUNNING
            readable = poller.poll(NAG_SECONDS * 1000 if nagging or running else None)
            if readable:
                data = os.read(r, 512)
                if _STOP_BYTE in data:
                    return
                if self.phase is Phase.RUNNING:
                    for signum in data:
                        if signum not in self.installed or machine.ignores_host_signal(signum):
                            continue
                        # stop the engine (at the next block start, where a block hook
                        # looks: :mod:`.blockstop`); the main thread's handler, which runs
                        # as soon as it has stopped, decides (posting here as well would
                        # deliver a signal twice when its handler ran in between)
                        machine.block_stop.request(machine.uc)
            elif nagging and machine.host_signal is not None and main is not None:
                # the engine missed the stop (between two slices), or the main thread is
                # blocked in a host call the handler did not abandon: ask again
                machine.interrupt(machine.host_signal)
                signal.pthread_kill(main, machine.host_signal)


def _after_fork_in_child() -> None:
    if _active is not None:
        _active._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
