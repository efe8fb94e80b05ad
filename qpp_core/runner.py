"""One ``qpp run``: resolve plugins, load the guest, install, run, exit cleanly.

The order is chosen so that every error a user can fix is reported before the guest
starts: the plugin selection is resolved from metadata first (unknown plugin, missing
dependency, cycle, duplicate, API version), then the ELF is loaded (bad binary), then the
plugins are imported and installed (import error, bad argument, failing install). Once the
guest has started, whatever happens (guest exit, crash, plugin error, Ctrl-C), the plugins'
atexit callbacks run, newest plugin first, and the plugin log is flushed and closed; as in
qemu, a crashed guest's ``uncaught target signal`` line comes first.

Exit status: a plugin error while the guest ran, or a plugin failure at exit, takes
precedence (their own statuses, see :class:`ExitStatus`); otherwise the guest's status,
128+N for a guest killed by signal N.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple, TextIO

from qpp_core import hostfds
from qpp_core.errors import ExitStatus, InternalError, QppError
from qpp_core.log import PluginLog
from qpp_core.machine.crashguard import guard_fatal_signals
from qpp_core.machine.hostsig import HostSignalInterrupt, HostSignals
from qpp_core.session import Session, active_plugin

if TYPE_CHECKING:
    from qpp_core.discovery.finder import Catalog
    from qpp_core.discovery.metadata import PluginSpec
    from qpp_core.instrument import Instrumentation
    from qpp_core.linux import GuestOptions, Machine
    from qpp_core.loading.args import PluginRequest
    from qpp_core.machine.run import GuestExit


class RunOptions(NamedTuple):
    """What ``qpp run`` was asked to do, independent of how it was asked."""

    guest: GuestOptions
    plugins: Sequence[PluginRequest] = ()
    log_file: str | None = None
    on_plugin_error: str = "stop"
    #: called once the guest ended and the atexit callbacks ran, while the plugins are
    #: still loaded (``qpp batch`` asks them for their results here); not in fork children
    collect: Callable[[Session], None] | None = None


class _Guest:
    """The run's machine (the program running now: an ``execve`` replaces it, and the
    session's ``machine`` follows) and its instrumentation (none without plugins)."""

    __slots__ = ("instrumentation", "machine")

    def __init__(self, machine: Machine, instrumentation: Instrumentation | None) -> None:
        self.machine = machine
        self.instrumentation = instrumentation


def _report(stderr: TextIO, error: QppError) -> int:
    stderr.write(f"qpp: error: {error}\n")
    stderr.flush()
    return int(error.exit_status)


def run(
    options: RunOptions, *, catalog: Catalog | None = None, stderr: TextIO | None = None
) -> int:
    """Run the guest with the selected plugins; return the process exit status.

    ``stderr`` (default: ``sys.stderr`` at the time of the call) takes qpp's messages.
    Without plugins the instrumentation layer is neither imported nor built (start-up):
    nothing could register with it, and the machine runs without observers.
    """
    from qpp_core.linux import load_guest

    stderr = stderr if stderr is not None else sys.stderr

    try:
        requested, specs = _selection(options.plugins, catalog)
        log = PluginLog(options.log_file)  # before load_guest: --jail may change the cwd
    except QppError as error:
        return _report(stderr, error)
    try:
        machine = load_guest(options.guest, stderr=stderr)
    except QppError as error:
        log.close()
        return _report(stderr, error)

    session = Session(log=log, target_name=machine.arch.qemu_target)
    session.machine = machine
    with session.activate():
        instrumentation: Instrumentation | None = None
        if specs:
            from qpp_core.instrument import Instrumentation

            try:
                instrumentation = Instrumentation(
                    session, machine, on_plugin_error=options.on_plugin_error
                )
            except QppError as error:
                log.close()
                session.close()
                return _report(stderr, error)
            session.instrumentation = instrumentation
        guest = _Guest(machine, instrumentation)
        with HostSignals(lambda: guest.machine, plugin_running=_plugin_running) as host:
            try:
                if specs:  # the plugin machinery is imported only for plugins (start-up)
                    from qpp_core.loading.loader import load_all

                    load_all(session, specs, requested)
            except QppError as error:
                host.guest_over()
                log.close()
                session.close()
                return _report(stderr, error)
            except HostSignalInterrupt:
                pass  # the guest dies of it at once; the installed plugins' atexit run
            _collect_from_now()
            return _run_guest(session, guest, stderr, host, options.collect)


def _collect_from_now() -> None:
    """The guest starts: if the ``qpp`` command turned the garbage collector off for its
    start-up (:mod:`qpp_core.cli.entry`), freeze what start-up built and collect again."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _selection(
    plugins: Sequence[PluginRequest], catalog: Catalog | None
) -> tuple[dict[str, list[tuple[str, str]]], list[PluginSpec]]:
    """Each requested plugin's arguments, and the plugins to load in order (dependencies
    first). Without ``-p`` nothing is resolved: discovery is not even imported."""
    if not plugins:
        return {}, []
    from qpp_core.discovery.finder import installed_plugins
    from qpp_core.discovery.resolve import resolve
    from qpp_core.loading.args import merge_requests

    requested = merge_requests(plugins)
    if catalog is None:
        catalog = installed_plugins()
    return requested, resolve(catalog, list(requested))


def _plugin_running() -> bool:
    return active_plugin() is not None


def _run_guest(
    session: Session,
    guest: _Guest,
    stderr: TextIO,
    host: HostSignals,
    collect: Callable[[Session], None] | None = None,
) -> int:
    status = _finish_guest(session, guest, stderr, host, collect)
    machine = guest.machine  # the last program the process ran (after any execve)
    if machine.native_exec is not None and status == 0:  # plugins done: the host's program
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        machine.native_exec()
    if machine.is_fork_child:  # a guest fork's child ends here, as its guest ended
        from qpp_core.machine.run import GuestExit, end_forked_child

        killed = machine.exited.signal if machine.exited is not None else None
        end_forked_child(GuestExit(status, killed if status == 128 + (killed or 0) else None))
    return status


def _run_programs(session: Session, guest: _Guest) -> GuestExit:
    """Run the guest, and each program it execs in turn, with the same plugins."""
    machine = guest.machine
    outcome = machine.run()
    while machine.successor is not None:
        new = machine.successor
        new.ends_fork_children = True
        machine.uc.emu_stop()
        session.machine = guest.machine = new
        session.info = session.info._replace(target_name=new.arch.qemu_target)
        instrumentation = guest.instrumentation
        if instrumentation is not None:
            instrumentation.exec_into(new)
            opts = getattr(new.kernel, "opts", None)
            if opts is not None:
                argv = [opts.argv0 if opts.argv0 is not None else opts.binary, *opts.args]
                instrumentation.announce_exec(opts.binary, argv, new.load_bias, new.entry)
        machine = new
        outcome = machine.run()
    return outcome


def _finish_guest(
    session: Session,
    guest: _Guest,
    stderr: TextIO,
    host: HostSignals,
    collect: Callable[[Session], None] | None = None,
) -> int:
    log = session.log
    status: int | None = None
    failure: QppError | None = None
    guest_message: str | None = None

    def on_engine_crash() -> None:  # inside a fatal signal handler: flush what plugins have
        session.run_atexit()
        log.close()

    guest.machine.ends_fork_children = True
    try:
        with guard_fatal_signals(lambda: guest.machine.where(), on_engine_crash):
            host.start_guest()
            if guest.instrumentation is not None:
                guest.instrumentation.start()
            hostfds.release_std_fds()  # qpp's files are open: the guest gets its closed fds
            outcome = _run_programs(session, guest)
        status, guest_message = outcome.status, outcome.message
        if guest.instrumentation is not None:
            guest.instrumentation.finish()
    except QppError as error:
        failure = error
    except BaseException as exc:  # a bug in qpp: still run atexit and flush what plugins have
        failure = InternalError.wrap(exc)
    host.guest_over()
    if guest_message:  # qemu prints the guest's fate before the plugins' atexit output
        stderr.write(guest_message.rstrip("\n") + "\n")
        stderr.flush()
    atexit_error = session.run_atexit()
    if collect is not None and not guest.machine.is_fork_child:
        collect(session)
    log.close()
    failure = failure or atexit_error
    if log.failure is not None:  # the -D file could not be written (e.g. -D /dev/full)
        if failure is None:
            failure = log.failure
        else:
            stderr.write(f"qpp: error: {log.failure}\n")
    if failure is not None:
        if failure is not atexit_error:  # atexit errors were reported as they happened
            stderr.write(f"qpp: error: {failure}\n")
        stderr.flush()
        session.close()
        return int(failure.exit_status)
    stderr.flush()
    session.close()
    return status if status is not None else int(ExitStatus.OK)
