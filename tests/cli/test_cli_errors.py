"""The ``qpp`` command over fake installed distributions: one-line errors, distinct statuses.

Each case writes a fake site (``.dist-info`` folders and plugin modules) and runs the real
command in a subprocess with that site on PYTHONPATH, as if those distributions were
pip-installed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fakesite import FakeSite

from qpp_core.errors import ExitStatus

INSTALL_FAILS = """
from qpp_core import hookimpl
@hookimpl
def qemu_plugin_install(id, info, args):
    return -1
"""

ATEXIT = """
from qpp_core import hookimpl, qemu_plugin_outs
@hookimpl
def qemu_plugin_atexit():
    qemu_plugin_outs("atexit ran\\n")
"""


@pytest.fixture
def fake(tmp_path: Path) -> FakeSite:
    root = tmp_path / "site"
    root.mkdir()
    return FakeSite(root)


def qpp(fake: FakeSite, *args: str) -> subprocess.CompletedProcess[str]:
    return fake.run_qpp(*args)


def error(result: subprocess.CompletedProcess[str], status: ExitStatus) -> str:
    assert result.returncode == status, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("qpp: error: "), result.stderr
    assert result.stdout == ""  # nothing ran
    return lines[0]


def test_unknown_plugin(fake: FakeSite) -> None:
    fake.plugin("hotblocks")
    line = error(qpp(fake, "run", "-p", "hotblock"), ExitStatus.UNKNOWN_PLUGIN)
    assert "did you mean 'hotblocks'?" in line


def test_missing_dependency(fake: FakeSite) -> None:
    fake.plugin("client", uses=["srv"])
    line = error(qpp(fake, "run", "-p", "client"), ExitStatus.MISSING_DEPENDENCY)
    assert line.endswith("uses plugin srv, which is not installed: pip install srv-dist")


def test_cycle(fake: FakeSite) -> None:
    fake.plugin("a", uses=["b"])
    fake.plugin("b", uses=["a"])
    assert "a -> b -> a" in error(qpp(fake, "run", "-p", "a"), ExitStatus.DEPENDENCY_CYCLE)


def test_duplicate(fake: FakeSite) -> None:
    fake.dist("one", {"same": "m1"})
    fake.dist("two", {"same": "m2"})
    error(qpp(fake, "run", "-p", "same"), ExitStatus.DUPLICATE_PLUGIN)


def test_api_version(fake: FakeSite) -> None:
    fake.plugin("future", api="v9")
    line = error(qpp(fake, "run", "-p", "future"), ExitStatus.API_VERSION)
    assert "supports versions 1 to 2" in line


def test_broken_import_is_reported_and_then_listed(fake: FakeSite) -> None:
    fake.plugin("broken", "raise ImportError('needs libfoo')\n")
    fake.plugin("fine")
    line = error(qpp(fake, "run", "-p", "broken"), ExitStatus.PLUGIN_IMPORT)
    assert (
        "plugin broken (broken-dist 1.0) failed to import module broken_mod: ImportError: needs libfoo"
        in line
    )
    listing = json.loads(qpp(fake, "list", "--json").stdout)
    status = {row["name"]: row["status"] for row in listing}
    assert status["fine"] == "ok"
    assert status["broken"].startswith("broken: plugin broken (broken-dist 1.0) failed to import")


def test_list_check_imports_and_marks_broken_plugins(fake: FakeSite) -> None:
    fake.plugin("broken", "raise ImportError('needs libfoo')\n")
    assert "broken" in qpp(fake, "list").stdout
    rows = json.loads(qpp(fake, "list", "--json").stdout)
    assert rows[0]["status"] == "ok"  # nothing imported, nothing known yet
    checked = qpp(fake, "list", "--check", "--verbose").stdout
    assert "broken: module broken_mod failed to import: ImportError: needs libfoo" in checked


def test_failing_install_runs_no_guest(fake: FakeSite) -> None:
    fake.plugin("quitter", INSTALL_FAILS)
    line = error(qpp(fake, "run", "-p", "quitter"), ExitStatus.PLUGIN_INSTALL)
    assert "qemu_plugin_install returned -1" in line


def test_bad_plugin_arguments(fake: FakeSite) -> None:
    fake.plugin("opts", "from qpp_core import Arg\nqemu_plugin_args = {'n': Arg(int, 1)}\n")
    line = error(qpp(fake, "run", "-p", "opts,n=many"), ExitStatus.PLUGIN_ARGS)
    assert "n=many: expected an integer" in line and "it accepts: n=<int, default 1>" in line


def test_bad_binary_before_anything_runs(fake: FakeSite, tmp_path: Path) -> None:
    fake.plugin("watcher", ATEXIT)
    junk = tmp_path / "junk"
    junk.write_bytes(b"#!/bin/sh\necho hi\n")
    junk.chmod(0o755)
    result = qpp(fake, "run", "-p", "watcher", str(junk))
    error(result, ExitStatus.BAD_BINARY)


def test_guest_status_passes_through_and_atexit_runs(fake: FakeSite) -> None:
    from qpp_core.guests import guest_path

    fake.plugin("watcher", ATEXIT)
    result = qpp(fake, "run", "-p", "watcher", str(guest_path("probe")), "exit", "7")
    assert result.returncode == 7
    assert result.stderr == "atexit ran\n"


def test_guest_crash_still_runs_atexit(fake: FakeSite) -> None:
    from qpp_core.guests import guest_path

    fake.plugin("watcher", ATEXIT)
    result = qpp(fake, "run", "-p", "watcher", str(guest_path("probe")), "fault")
    assert result.returncode == 128 + 11
    lines = result.stderr.splitlines()
    assert lines[0].startswith("qemu: uncaught target signal 11 (Segmentation fault)")
    assert lines[-1] == "atexit ran"


def test_no_plugins_installed_is_a_helpful_listing(fake: FakeSite) -> None:
    result = qpp(fake, "graph")
    assert result.returncode == 0


RAISES_IN_TRANSLATION = """
from qpp_core import hookimpl
@hookimpl
def qemu_plugin_vcpu_tb_trans(tb):
    raise ValueError("bad day")
"""


def test_plugin_error_while_running_names_plugin_event_and_pc(
    fake: FakeSite, tmp_path: Path
) -> None:
    fake.plugin("watcher", ATEXIT)
    fake.plugin("faulty", RAISES_IN_TRANSLATION)
    log = tmp_path / "plugins.log"
    result = qpp(fake, "run", "-p", "watcher", "-p", "faulty", "-D", str(log))
    assert result.returncode == ExitStatus.PLUGIN_RUNTIME, result.stderr
    message = result.stderr.splitlines()[-1]
    assert message.startswith("qpp: error: ")
    assert "faulty" in message and "bad day" in message and "pc" in message.lower()
    assert log.read_text() == "atexit ran\n"  # the other plugin's atexit ran, log flushed


def test_on_plugin_error_continue_disables_only_that_plugin(fake: FakeSite, tmp_path: Path) -> None:
    fake.plugin("watcher", ATEXIT)
    fake.plugin("faulty", RAISES_IN_TRANSLATION)
    result = qpp(fake, "run", "--on-plugin-error=continue", "-p", "watcher", "-p", "faulty")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Hello from the qpp guest!")
    assert "faulty" in result.stderr and "atexit ran" in result.stderr


def test_a_plugin_may_end_the_guest_before_it_starts(fake: FakeSite) -> None:
    fake.plugin(
        "quitter",
        """
        from qpp_core import hookimpl, qemu_plugin_exit_guest, qemu_plugin_outs
        @hookimpl
        def qemu_plugin_install(id, info, args):
            qemu_plugin_exit_guest(id, 3)
        @hookimpl
        def qemu_plugin_atexit():
            qemu_plugin_outs("atexit ran\\n")
        """,
    )
    result = qpp(fake, "run", "-p", "quitter")
    assert result.returncode == 3
    assert result.stdout == ""  # not one guest instruction ran
    assert result.stderr == "atexit ran\n"
