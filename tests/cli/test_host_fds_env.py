"""What the guest inherits from ``qpp``'s own process: environment and file descriptors.

The guest's environment is the one qpp was started with (Python's PEP 538 locale coercion
undone); qpp runs with fds 0, 1, 2 closed as qemu does; and qpp's own files (the ``-D``
log, drcov's output) are out of the guest's reach. Each case runs the installed ``qpp``
in a subprocess on tests/guests/src/clifds.c, compared with qemu-user where it has the
same behaviour.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qpp_core import hostfds
from qpp_core.errors import ExitStatus
from qpp_core.guests import GUEST_DIR
from qpp_core.linux import options

QPP = str(Path(sys.executable).with_name("qpp"))
CLIFDS = str(Path(__file__).resolve().parents[1] / "guests" / "bin" / "clifds.x86_64")
PROBE = str(GUEST_DIR / "probe.x86_64")
QEMU = shutil.which("qemu-x86_64")


def run(
    *args: str, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("capture_output", True)
    return subprocess.run([*args], text=True, timeout=120, env=env, **kwargs)  # type: ignore[call-overload, no-any-return]


# --- 2. the environment -------------------------------------------------------------


def test_env_i_gives_the_guest_exactly_that_environment() -> None:
    # Python coerces the C locale by setting LC_CTYPE=C.UTF-8 in qpp's own environment
    assert run(QPP, "run", CLIFDS, "environ", env={}).stdout == ""
    result = run(QPP, "run", "-E", "C=3", "-U", "A", CLIFDS, "environ", env={"A": "1", "B": "2"})
    assert result.stdout == "C=3\nB=2\n"
    if QEMU:
        qemu = run(QEMU, "-E", "C=3", "-U", "A", CLIFDS, "environ", env={"A": "1", "B": "2"})
        assert result.stdout == qemu.stdout


@pytest.mark.parametrize(
    ("given", "seen"), [("C", "C"), ("POSIX", "POSIX"), ("C.UTF-8", "C.UTF-8"), (None, "(unset)")]
)
def test_lc_ctype_is_the_one_qpp_was_given(given: str | None, seen: str) -> None:
    env = {} if given is None else {"LC_CTYPE": given}
    assert run(QPP, "run", PROBE, "env", "LC_CTYPE", env=env).stdout == f"LC_CTYPE={seen}\n"
    # the conformance check's old workaround still works
    unset = run(QPP, "run", "-U", "LC_CTYPE", PROBE, "env", "LC_CTYPE", env=env)
    assert unset.stdout == "LC_CTYPE=(unset)\n"


def test_without_proc_a_coerced_lc_ctype_is_still_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_proc(name: str) -> str | None:
        raise FileNotFoundError("/proc/self/environ")

    monkeypatch.setattr(options, "_exec_time_value", no_proc)
    for name in ("LC_ALL", "LANG", "PYTHONCOERCECLOCALE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LC_CTYPE", "C.UTF-8")
    assert "LC_CTYPE" not in options.host_environment()
    monkeypatch.setenv("LANG", "de_DE.UTF-8")  # then Python would not have coerced
    assert options.host_environment()["LC_CTYPE"] == "C.UTF-8"


def test_deliberate_changes_to_os_environ_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QPP_TEST_VAR", "x")
    monkeypatch.setattr(options, "_exec_time_value", lambda name: "C.UTF-8")
    monkeypatch.setenv("LC_CTYPE", "C.UTF-8")
    env = options.host_environment()
    assert env["QPP_TEST_VAR"] == "x" and env["LC_CTYPE"] == "C.UTF-8"


# --- 3. statuses of bad options ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "status", "words"),
    [
        (("-E", "FOO"), ExitStatus.USAGE, "expected VAR=VALUE"),
        (("-E", "=val"), ExitStatus.USAGE, "expected VAR=VALUE"),
        (("-d", "bogus"), ExitStatus.USAGE, "qpp knows: plugin, strace, unimp"),
        (("-p", "insn,inline=maybe"), ExitStatus.PLUGIN_ARGS, "it accepts: inline="),
        (("-p", "insn,bogus=1"), ExitStatus.PLUGIN_ARGS, "has no argument 'bogus'"),
        (("-p", "bb,bogus=1"), ExitStatus.PLUGIN_ARGS, "it accepts: inline="),
        (("-p", "mem,inline=2"), ExitStatus.PLUGIN_ARGS, "it accepts: callback="),
        (("-p", "drcov,filename=/proc/nope/x"), ExitStatus.HOST, "/proc/nope/x"),
        (("-D", "/proc/nope/x"), ExitStatus.HOST, "-D /proc/nope/x"),
    ],
)
def test_bad_options_are_one_line_before_the_guest_runs(
    args: tuple[str, ...], status: int, words: str
) -> None:
    result = run(QPP, "run", *args, PROBE, "args")
    assert result.returncode == status, result.stderr
    assert result.stdout == ""  # the guest did not run
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("qpp: error: ") and words in lines[0]


def test_unwritable_log_is_a_host_error_without_traceback() -> None:
    result = run(QPP, "run", "-D", "/dev/full", "-p", "insn", PROBE, "args")
    assert result.returncode == ExitStatus.HOST
    assert result.stdout.startswith("argc = 2\n")  # the guest ran and its output is all there
    assert result.stderr == (
        "qpp: error: cannot write the log file -D /dev/full: No space left on device; "
        "plugin output was lost\n"
    )


# --- 4. closed standard fds ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("closing", "report"),
    [
        (">&-", "write 1: E9\nwrite 2: ok\nopen: 1\n"),
        ("2>&-", "write 1: ok\nwrite 2: E9\nopen: 2\n"),
    ],
)
@pytest.mark.parametrize("runner", ["qpp", "qemu"])
def test_guest_runs_with_a_closed_std_fd(
    tmp_path: Path, closing: str, report: str, runner: str
) -> None:
    if runner == "qemu" and not QEMU:
        pytest.skip("no qemu-x86_64")
    command = [QPP, "run", "-p", "insn"] if runner == "qpp" else [str(QEMU)]
    out = tmp_path / "report"
    script = f'exec "$@" {closing}'
    result = run("sh", "-c", script, "sh", *command, CLIFDS, "stdio", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text() == report  # EBADF, and the guest's open gets the free number
    assert "Traceback" not in result.stderr and "error" not in result.stderr
    if closing == ">&-" and runner == "qpp":
        assert re.fullmatch(r"err\ntotal insns: \d+\n", result.stderr)


def test_qpp_messages_go_nowhere_when_stderr_is_closed(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run(
        "sh",
        "-c",
        'exec "$@" 2>&-',
        "sh",
        QPP,
        "run",
        "-strace",
        "-p",
        "insn",
        CLIFDS,
        "stdio",
        str(out),
    )
    assert result.returncode == 0
    assert result.stdout == "out\n"
    # the guest's open got fd 2; neither strace nor the plugin wrote into its file
    assert out.read_text() == "write 1: ok\nwrite 2: E9\nopen: 2\n"


def test_closed_stdout_for_list_is_not_an_error() -> None:
    result = run("sh", "-c", 'exec "$@" >&-', "sh", QPP, "list")
    assert result.returncode == 0 and result.stderr == ""


# --- 5. qpp's own fds are not the guest's -----------------------------------------------


def _low_nofile() -> None:  # a small limit keeps the guest's scan short
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def test_guest_cannot_see_or_touch_the_log(tmp_path: Path) -> None:
    log = tmp_path / "insn.log"
    cov = tmp_path / "cov.drcov"
    result = run(
        QPP,
        "run",
        "-p",
        "insn",
        "-p",
        f"drcov,filename={cov}",
        "-D",
        str(log),
        CLIFDS,
        "scan",
        preexec_fn=_low_nofile,
    )
    assert result.returncode == 0, result.stderr
    # the guest is told a limit below qpp's own fds, and finds none of them open
    assert result.stdout == "nofile 192\nscanned\n"
    assert log.read_text().startswith("total insns: ")
    assert "guest was here" not in log.read_text()
    assert cov.read_bytes().startswith(b"DRCOV VERSION: 2\n")


BUSYBOX = Path(__file__).resolve().parents[1] / "thirdparty" / "bin" / "busybox.{}"
ARCHES = ("x86_64", "aarch64", "arm", "riscv64", "mipsel")
PROC_FD_SCRIPT = (
    "ls /proc/self/fd /proc/$$/fdinfo | sort -un | tail -1;"
    " echo INJECT >> /proc/self/fd/192 || echo refused;"
    " readlink /proc/$$/fd/192 || echo no link; cat /proc/self/fdinfo/192 || echo no info"
)


@pytest.mark.parametrize("arch", ARCHES)
def test_guest_cannot_find_qpp_fds_through_proc(arch: str, tmp_path: Path) -> None:
    """/proc/PID/fd lists none of qpp's fds, and /proc/self/fd/N cannot reopen the log.

    Debian's busybox (tests/thirdparty) as the guest: its ls, readlink and cat run in
    forked children, which hold qpp's fds too.
    """
    log = tmp_path / "insn.log"
    argv = [QPP, "run", "-p", "insn", "-D", str(log), str(BUSYBOX).format(arch), "sh", "-c"]
    result = run(*argv, PROC_FD_SCRIPT, env={}, preexec_fn=_low_nofile)
    assert result.returncode == 0, result.stderr
    highest, *rest = result.stdout.splitlines()
    assert int(highest) < 192  # the guest's own fds only (qpp's log is 192)
    assert rest == ["refused", "no link", "no info"]
    assert "INJECT" not in log.read_text()
    assert log.read_text().startswith("total insns: ")


def test_guest_cannot_dup2_onto_qpp_fds(tmp_path: Path) -> None:
    log = tmp_path / "insn.log"
    result = run(
        QPP, "run", "-p", "insn", "-D", str(log), CLIFDS, "dup2", "192", preexec_fn=_low_nofile
    )
    assert result.stdout == "dup2 192: E9\n"  # 192 is where the log went
    assert log.read_text().startswith("total insns: ")


def test_private_fds_are_high_and_reserved(tmp_path: Path) -> None:
    stream = hostfds.open_private(str(tmp_path / "f"), "w")
    try:
        fd = stream.fileno()
        assert fd >= hostfds.floor() and fd in hostfds.RESERVED
        assert not os.get_inheritable(fd)
    finally:
        hostfds.close_private(stream)
    assert fd not in hostfds.RESERVED
