"""``qpp``'s command line: where the guest's arguments start, statuses of bad options, pipes.

Each case runs the installed ``qpp`` command in a subprocess on the project's own guests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakesite import FakeSite

from qpp_core.errors import ExitStatus
from qpp_core.guests import GUEST_DIR

QPP = str(Path(sys.executable).with_name("qpp"))
HELLO = str(GUEST_DIR / "hello.x86_64")
PROBE = str(GUEST_DIR / "probe.x86_64")


def qpp(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("capture_output", True)
    return subprocess.run([QPP, *args], text=True, timeout=120, **kwargs)  # type: ignore[call-overload, no-any-return]


def guest_argv(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [line.split(" = ", 1)[1] for line in result.stdout.splitlines()[1:]]


def one_error(result: subprocess.CompletedProcess[str], status: int) -> str:
    assert result.returncode == status, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("qpp: error: "), result.stderr
    assert "Hello" not in result.stdout and "argc" not in result.stdout  # no guest ran
    return lines[0]


# --- 1. options after the binary belong to the guest ---------------------------------


def test_options_after_the_binary_go_to_the_guest() -> None:
    # -s used to be taken for an abbreviation of -strace/-seed
    assert guest_argv(qpp("run", HELLO, "-s", ",", "1", "3")) == [HELLO, "-s", ",", "1", "3"]
    assert guest_argv(qpp("run", "-seed", "3", HELLO, "-h", "-p", "x")) == [HELLO, "-h", "-p", "x"]


def test_double_dash_and_values_that_look_like_options() -> None:
    assert guest_argv(qpp("run", "-0", "-x", "--", HELLO, "--", "-p")) == ["-x", "--", "-p"]
    result = qpp("run", "-E", "A=-c", "-U", "HOME", PROBE, "env", "A", "HOME")
    assert result.stdout == "A=-c\nHOME=(unset)\n"


def test_options_are_never_abbreviated() -> None:
    result = qpp("run", "-stra", HELLO)  # qemu knows no abbreviations either
    assert result.returncode == ExitStatus.USAGE
    assert result.stdout == ""


# --- 6. a reader that goes away, list --check ------------------------------------------


@pytest.mark.parametrize("args", [("list",), ("help", "insn"), ("graph",), ("list", "--json")])
def test_closed_pipe_on_stdout_ends_quietly(args: tuple[str, ...]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before qpp writes anything (`| head -0`)
    try:
        result = subprocess.run(
            [QPP, *args], stdout=write, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write)
    assert result.returncode == 141  # as a shell reports a tool killed by SIGPIPE
    assert result.stderr == ""


def test_list_check_fails_when_a_plugin_is_broken(tmp_path: Path) -> None:
    site = FakeSite(tmp_path)
    site.plugin("fine")
    env = dict(os.environ, PYTHONPATH=str(tmp_path), QPP_CACHE_DIR=str(tmp_path / "cache"))
    assert qpp("list", "--check", env=env).returncode == 0
    site.plugin("broken", "raise ImportError('needs libfoo')\n")
    checked = qpp("list", "--check", env=env)
    assert checked.returncode == ExitStatus.PLUGIN_IMPORT
    assert "broken" in checked.stdout
    assert qpp("list", "--check", "--json", env=env).returncode == ExitStatus.PLUGIN_IMPORT
    assert qpp("list", env=env).returncode == 0  # a plain listing only reports
