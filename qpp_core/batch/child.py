"""One job in a forked child of a warm process: the isolation between jobs.

The warm process (the batch itself, or a Dask worker) has imported the engine and the
plugins once (:func:`settings.prepare`); :func:`start` forks it, and the child runs the
job through :func:`qpp_core.runner.run`, exactly as ``qpp run`` would, with its stdin,
stdout, stderr and plugin log on files in the job's folder. Whatever the guest or a plugin
does (crash, hang, exhaust memory) ends that child only. The child is the leader of its
own process group, so that a timeout kills the guest's own fork children too, and a
Ctrl-C at the terminal reaches the batch, which decides what happens to its jobs.

The child writes ``result.json`` (the guest's end and the plugins' ``qpp_batch_result``
data) just before it ends; :mod:`.outcome` turns the child's end into the job's record.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import resource
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qpp_core.batch.jobs import Job
from qpp_core.batch.settings import Settings, env_pairs, plugin_requests, prepare

if TYPE_CHECKING:
    from qpp_core.session import Session

RESULT_FILE = "result.json"
STDOUT_FILE = "stdout"
STDERR_FILE = "stderr"
LOG_FILE = "plugin.log"

_PR_SET_PDEATHSIG = 1


@dataclass
class Running:
    """A started job: its child, and when it started and must end."""

    job: Job
    job_dir: str
    pid: int
    pidfd: int
    started: float  #: time.monotonic()
    started_at: float  #: time.time(), for the record
    deadline: float | None
    timed_out: bool = False

    def kill(self) -> None:
        """Kill the child and its guest's processes (its process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def start(job: Job, settings: Settings, job_dir: str, *, die_with_parent: bool = False) -> Running:
    """Fork a child that runs ``job``; ``die_with_parent`` kills it if this thread dies."""
    file_args = prepare(settings)
    os.makedirs(job_dir, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(job_dir, RESULT_FILE))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    gc.freeze()  # the child's collector then leaves the inherited objects (and pages) alone
    now = time.monotonic()
    started_at = time.time()
    pid = os.fork()
    if pid != 0:
        gc.unfreeze()  # this process goes on collecting as before
    else:  # the child: never returns
        status = 85
        try:
            os.setpgid(0, 0)
            signal.set_wakeup_fd(-1)  # the batch's wake-up pipe is not the job's
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            if die_with_parent:
                _die_with_parent()
            status = _child(job, settings, job_dir, file_args)
        except BaseException as exc:
            with contextlib.suppress(BaseException):
                text = f"qpp: error: a bug in qpp batch: {exc!r}\n{traceback.format_exc()}"
                os.write(2, text.encode())
        finally:
            os._exit(status)
    with contextlib.suppress(PermissionError, ProcessLookupError):
        os.setpgid(pid, pid)  # also from here, so that a kill right away reaches the group
    deadline = now + settings.timeout if settings.timeout else None
    return Running(job, job_dir, pid, os.pidfd_open(pid), now, started_at, deadline)


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:
            os._exit(137)


def _redirect(job: Job, job_dir: str) -> None:
    out = os.open(os.path.join(job_dir, STDOUT_FILE), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(os.path.join(job_dir, STDERR_FILE), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.close(out)
    os.close(err)
    try:
        source = os.open(job.stdin or os.devnull, os.O_RDONLY)
    except OSError as exc:
        os.write(2, f"qpp: error: cannot read stdin file {job.stdin}: {exc.strerror}\n".encode())
        os._exit(84)
    os.dup2(source, 0)
    os.close(source)
    # the batch's own fds (other jobs' pidfds, its pipes) are not the guest's: a job starts
    # with 0, 1 and 2 only, as a `qpp run` from a shell does
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    # Python's own streams on the new fds (the parent's may be wrappers, e.g. pytest's)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


def _child(job: Job, settings: Settings, job_dir: str, file_args: dict[str, str]) -> int:
    from qpp_core.linux import GuestOptions
    from qpp_core.runner import RunOptions, run

    job_dir = os.path.abspath(job_dir)
    _redirect(job, job_dir)
    if job.cwd:
        try:
            os.chdir(job.cwd)
        except OSError as exc:
            os.write(2, f"qpp: error: cannot enter {job.cwd}: {exc.strerror}\n".encode())
            return 84
    if settings.memory_mb:
        limit = settings.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    env_set, env_unset = env_pairs(job.env)
    guest = GuestOptions(
        binary=job.program,
        args=job.args,
        env_set=(*settings.env_set, *env_set),
        env_unset=(*settings.env_unset, *env_unset),
        cpu=settings.cpu,
        sysroot=settings.sysroot,
        seed=settings.seed,
        environ=settings.environ,
    )
    options = RunOptions(
        guest=guest,
        plugins=plugin_requests(settings, job_dir, file_args),
        log_file=os.path.join(job_dir, LOG_FILE),
        on_plugin_error=settings.on_plugin_error,
        collect=lambda session: _collect(session, job_dir),
    )
    status = run(options, stderr=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    return status


def _collect(session: Session, job_dir: str) -> None:
    """After atexit: the guest's end and each plugin's ``qpp_batch_result``, to a file."""
    from qpp_core.session import describe, running_plugin

    exited = session.machine.exited if session.machine is not None else None
    data: dict[str, Any] = {}
    errors: list[str] = []
    impls = session.pm.hook.qpp_batch_result.get_hookimpls()
    for plugin in session.loaded():
        for impl in impls:
            if impl.plugin is not plugin.module or plugin.disabled:
                continue
            try:
                with running_plugin(plugin):
                    value = impl.function()
                json.dumps(value)
                data[plugin.name] = value
            except BaseException as exc:
                errors.append(f"plugin {plugin.name} raised in qpp_batch_result: {describe(exc)}")
    result = {
        "exit": exited.status if exited is not None else None,
        "signal": exited.signal if exited is not None else None,
        "data": data,
        "errors": errors,
    }
    path = os.path.join(job_dir, RESULT_FILE)
    with open(path + ".tmp", "w", encoding="utf-8") as file:
        json.dump(result, file)
    os.replace(path + ".tmp", path)
