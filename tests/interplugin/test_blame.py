"""Errors in a function registered on another plugin's QPP callback blame its registrant.

The plugins are distributions on a fake site (``.dist-info`` folders, as pip leaves
them), run through the real ``qpp`` command on the built-in guest; the ``syscalls`` cases
use the real qpp-syscalls and qpp-strace distributions installed beside qpp-core.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
from fakesite import FakeSite

from qpp_core.errors import ExitStatus

#: creates on_x and runs it at every syscall; at exit, says how many functions ran
OWNER = """
from qpp_core import hookimpl, qemu_plugin_create_callback, qemu_plugin_outs
state = {"ran": 0}
@hookimpl
def qemu_plugin_install(id, info, args):
    state["cb"] = qemu_plugin_create_callback(id, "on_x")
@hookimpl
def qemu_plugin_vcpu_syscall(num):
    state["ran"] += len(state["cb"].run([], None))
@hookimpl
def qemu_plugin_atexit():
    qemu_plugin_outs(f"owner ran {state['ran']} functions\\n")
"""

#: registers a function that counts the events it sees
GOOD = """
from qpp_core import hookimpl, qemu_plugin_outs, qemu_plugin_reg_callback
seen = []
@hookimpl
def qemu_plugin_install(id, info, args):
    qemu_plugin_reg_callback("owner", "on_x", lambda evdata: seen.append(1))
@hookimpl
def qemu_plugin_atexit():
    qemu_plugin_outs(f"good saw {len(seen)}\\n")
"""

#: registers (module-level decorator) a function that raises on its first call
BAD = """
from qpp_core import qpp_callback
@qpp_callback("owner", "on_x")
def explode(evdata, udata):
    raise ValueError("bad's bug")
"""


@pytest.fixture
def fake(tmp_path: Path) -> FakeSite:
    root = tmp_path / "site"
    root.mkdir()
    site = FakeSite(root)
    site.plugin("owner", OWNER)
    site.plugin("good", GOOD, uses=["owner"])
    site.plugin("bad", BAD, uses=["owner"])
    return site


def qpp(fake: FakeSite, *args: str) -> subprocess.CompletedProcess[str]:
    return fake.run_qpp(*args)


def count(stderr: str, prefix: str) -> int:
    line = next(line for line in stderr.splitlines() if line.startswith(prefix))
    return int(line.split()[-2 if line.endswith("functions") else -1])


def test_the_plugin_whose_function_raised_is_blamed(fake: FakeSite) -> None:
    result = qpp(fake, "run", "-p", "good", "-p", "bad")
    assert result.returncode == ExitStatus.PLUGIN_RUNTIME, result.stderr
    message = result.stderr.splitlines()[-1]
    assert message.startswith("qpp: error: plugin bad raised in its function on QPP callback")
    assert "owner.on_x (run by owner in syscall at guest pc 0x" in message
    assert "ValueError: bad's bug" in message


def test_continue_disables_the_culprit_not_the_callbacks_owner(fake: FakeSite) -> None:
    alone = qpp(fake, "run", "-p", "good")
    assert alone.returncode == 0, alone.stderr
    syscalls = count(alone.stderr, "good saw")
    assert syscalls > 5 and count(alone.stderr, "owner ran") == syscalls

    result = qpp(fake, "run", "--on-plugin-error=continue", "-p", "good", "-p", "bad")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Hello from the qpp guest!")
    disabled = [line for line in result.stderr.splitlines() if "plugin disabled" in line]
    assert len(disabled) == 1 and disabled[0].startswith("qpp: plugin bad raised in its func")
    # owner and good saw every syscall; bad's function ran once and was removed with it
    assert count(result.stderr, "good saw") == syscalls
    assert count(result.stderr, "owner ran") == syscalls - 1  # the run bad broke returned none


RAISES_ON_Y = """
from qpp_core import hookimpl, qemu_plugin_reg_callback
@hookimpl
def qemu_plugin_install(id, info, args):
    def boom():
        raise KeyError("rude")
    qemu_plugin_reg_callback("eager", "on_y", boom)
"""


def test_blame_in_atexit_and_in_another_plugins_install(fake: FakeSite) -> None:
    fake.plugin(
        "eager",
        """
        from qpp_core import export, hookimpl, qemu_plugin_create_callback
        cb = []
        @hookimpl
        def qemu_plugin_install(id, info, args):
            cb[:] = [qemu_plugin_create_callback(id, "on_y")]
        @export
        def fire():
            cb[0].run()
        @hookimpl
        def qemu_plugin_atexit():
            fire()
        """,
    )
    fake.plugin("rude", RAISES_ON_Y, uses=["eager"])
    at_exit = qpp(fake, "run", "-p", "rude")
    assert at_exit.returncode == ExitStatus.PLUGIN_RUNTIME, at_exit.stderr
    assert at_exit.stderr.splitlines()[-1] == (
        "qpp: plugin rude raised in its function on QPP callback eager.on_y "
        "(run by eager in qemu_plugin_atexit): KeyError: 'rude'"
    )
    fake.plugin(
        "trigger",
        """
        from qpp_core import hookimpl, qpp
        @hookimpl
        def qemu_plugin_install(id, info, args):
            qpp.eager_fire_qpp()
        """,
        uses=["eager"],
    )
    in_install = qpp(fake, "run", "-p", "rude", "-p", "trigger")
    assert in_install.returncode == ExitStatus.PLUGIN_RUNTIME, in_install.stderr
    assert in_install.stderr.splitlines()[-1] == (
        "qpp: error: plugin rude raised in its function on QPP callback eager.on_y "
        "(run by trigger's qemu_plugin_install): KeyError: 'rude'"
    )


needs_syscalls = pytest.mark.skipif(
    importlib.util.find_spec("qpp_strace") is None, reason="qpp-syscalls/qpp-strace not installed"
)

#: registers on the real syscalls plugin's on_sys_return and raises at the 3rd return
ON_SYSCALLS = """
from qpp_core import qpp_callback
calls = []
@qpp_callback("syscalls", "on_sys_return")
def third(evdata):
    calls.append(evdata)
    if len(calls) == 3:
        raise RuntimeError("watcher's bug")
"""


@needs_syscalls
def test_syscalls_is_not_blamed_for_a_function_on_its_callbacks(fake: FakeSite) -> None:
    fake.plugin("watcher", ON_SYSCALLS, uses=["syscalls"], dist="watcher-dist")
    stopped = qpp(fake, "run", "-p", "watcher")
    assert stopped.returncode == ExitStatus.PLUGIN_RUNTIME, stopped.stderr
    assert stopped.stderr.splitlines()[-1].startswith(
        "qpp: error: plugin watcher raised in its function on QPP callback "
        "syscalls.on_sys_return (run by syscalls in syscall_ret"
    )

    alone = qpp(fake, "run", "-p", "strace")
    result = qpp(fake, "run", "--on-plugin-error=continue", "-p", "strace", "-p", "watcher")
    assert result.returncode == 0, result.stderr
    # strace, built on syscalls, still sees every call after watcher was disabled
    lines = [line for line in result.stderr.splitlines() if "plugin disabled" not in line]
    calls = [line.split("(")[0] for line in lines]  # names: the pid differs between runs
    assert calls == [line.split("(")[0] for line in alone.stderr.splitlines()]
    assert len(calls) > 5 and lines[-1] == "exit_group(0) = ?"
    assert sum("plugin watcher raised" in line for line in result.stderr.splitlines()) == 1
