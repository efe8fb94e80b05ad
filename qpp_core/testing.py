"""Testing qpp plugins with pytest: the ``qpp_run`` fixture (a pytest plugin).

qpp-core registers this module as a pytest plugin (the ``pytest11`` entry point), so any
project that has qpp-core installed gets the fixture without a ``conftest.py``::

    def test_my_plugin_counts_syscalls(qpp_run):
        result = qpp_run("myplugin,verbose=on")              # -p arguments, as on the CLI
        assert result.status == 0
        assert result.stdout.startswith("Hello from the qpp guest!")
        assert "syscalls: " in result.log

``qpp_run(*plugins, guest="hello", arch="x86_64", args=(), options=(), timeout=120)``
runs one of qpp's built-in guests (:mod:`qpp_core.guests`: ``hello``, ``probe``,
``compute``, ``memloop``, on x86_64, aarch64, arm, riscv64 or mipsel; or a path to an
ELF) with the given ``-p`` plugin selections and extra ``qpp run`` options, exactly as
``qpp run`` would, and returns a :class:`QppRun`: the exit ``status``, the guest's
``stdout``, ``stderr`` (the guest's and qpp's own ``qpp: error: ...`` lines) and the
plugin ``log`` (what plugins wrote with ``qemu_plugin_outs``, kept apart by ``-D``).
No toolchain and no qemu are needed: the guests ship inside qpp-core.

Each run happens in a forked child of the test process, like pytest's ``pytester``
runs pytest: there is no interpreter start-up and whatever the test imported, set up or
monkeypatched (a fake site on ``sys.path``, an environment variable) applies to the run,
but the guest's system calls act on the child's file descriptors and the plugins' module
state is the child's, so one run can neither disturb pytest nor leak into the next.
Plugins are found as ``qpp run`` finds them: installed distributions (their metadata).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["QppRun", "qpp_run", "run_in_child"]


@dataclass(frozen=True)
class QppRun:
    """What one ``qpp run`` did (the fields of pytest's ``RunResult``, plus the log)."""

    status: int
    stdout: str
    stderr: str
    log: str
    argv: tuple[str, ...]

    @property
    def log_lines(self) -> list[str]:
        return self.log.splitlines()

    @property
    def errors(self) -> list[str]:
        """qpp's own one-line messages (``qpp: ...``) on stderr."""
        return [line for line in self.stderr.splitlines() if line.startswith("qpp: ")]

    def __str__(self) -> str:  # shown by pytest when an assertion about the run fails
        return (
            f"qpp {' '.join(self.argv)} -> status {self.status}\n--- stdout\n{self.stdout}"
            f"--- stderr\n{self.stderr}--- plugin log\n{self.log}"
        )


def _guest_binary(guest: str, arch: str) -> str:
    if os.sep in guest or os.path.exists(guest):
        return guest
    from qpp_core.guests import guest_path

    return str(guest_path(guest, arch))


def run_in_child(argv: Sequence[str], workdir: Path, *, timeout: float = 120) -> QppRun:
    """Run ``qpp <argv>`` in a forked child with stdout, stderr and ``-D`` in ``workdir``.

    ``argv`` is a ``qpp run`` command line without the ``-D`` option, which this adds.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    out, err, log = (workdir / name for name in ("stdout", "stderr", "plugins.log"))
    full = ["run", "-D", str(log), *argv[1:]] if argv[:1] == ["run"] else list(argv)
    for path in (out, err, log):
        path.write_text("")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 70
        try:
            status = _child(full, out, err)
        finally:
            os._exit(status)
    status = _wait(pid, timeout, full)
    return QppRun(
        status=status,
        stdout=out.read_text(errors="replace"),
        stderr=err.read_text(errors="replace"),
        log=log.read_text(errors="replace"),
        argv=tuple(full),
    )


def _child(argv: list[str], out: Path, err: Path) -> int:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives as long as the child
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    from qpp_core.cli.main import main

    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code if isinstance(exc.code, int) else 2
    sys.stdout.flush()
    sys.stderr.flush()
    return status


def _wait(pid: int, timeout: float, argv: list[str]) -> int:
    deadline = time.monotonic() + timeout
    while True:
        done, wstatus = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.WIFSIGNALED(wstatus):
                return 128 + os.WTERMSIG(wstatus)
            return os.WEXITSTATUS(wstatus)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"qpp {' '.join(argv)} did not end within {timeout} s", pytrace=False)
        time.sleep(0.005)


QppRunner = Callable[..., QppRun]


@pytest.fixture
def qpp_run(tmp_path: Path) -> QppRunner:
    """Run a built-in guest under qpp with the given plugins; see :mod:`qpp_core.testing`."""
    counter = iter(range(1 << 30))

    def run(
        *plugins: str,
        guest: str = "hello",
        arch: str = "x86_64",
        args: Sequence[str] = (),
        options: Sequence[str] = (),
        timeout: float = 120,
    ) -> QppRun:
        selection = [item for plugin in plugins for item in ("-p", plugin)]
        argv = ["run", *selection, *options, "--", _guest_binary(guest, arch), *args]
        return run_in_child(argv, tmp_path / f"qpp-run-{next(counter)}", timeout=timeout)

    return run


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "qpp: tests that run guests under qpp (the qpp_run fixture of qpp-core)"
    )
