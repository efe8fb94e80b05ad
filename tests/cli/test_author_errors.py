"""What a plugin author sees for their mistakes: precise one-line errors, one status per
cause, suggestions only for genuinely close names (fake installed distributions, the
real ``qpp`` command)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fakesite import FakeSite

from qpp_core.errors import ExitStatus


@pytest.fixture
def fake(tmp_path: Path) -> FakeSite:
    root = tmp_path / "site"
    root.mkdir()
    site = FakeSite(root)
    site.dist(
        "qpp-syscalls", {"syscalls": "fake_syscalls"}, api={"syscalls": "v2"},
        modules={"fake_syscalls": '"""syscalls stand-in."""\n'},
    )  # fmt: skip
    return site


def qpp(fake: FakeSite, *args: str) -> subprocess.CompletedProcess[str]:
    return fake.run_qpp(*args)


def one_error(result: subprocess.CompletedProcess[str], status: int) -> str:
    assert result.returncode == status, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("qpp: error: "), result.stderr
    return lines[0]


def mine(fake: FakeSite, key: str, dist: str = "qpp_syscalls", source: str = "") -> None:
    fake.dist(
        "mine",
        {"mine": "mine_mod"},
        api={"mine": "v2"},
        uses={key: dist},
        requires=[dist.replace("_", "-")],
        modules={"mine_mod": source or '"""mine: a plugin."""\n'},
    )


def test_a_typo_in_the_used_plugin_says_there_is_no_such_plugin(fake: FakeSite) -> None:
    mine(fake, "mine.syscals")
    line = one_error(qpp(fake, "run", "-p", "mine"), ExitStatus.PLUGIN_METADATA)
    assert line == (
        "qpp: error: plugin mine (mine 1.0) uses plugin syscals, but there is no plugin of "
        "that name: qpp-syscalls provides syscalls; did you mean 'syscalls'? (fix the entry "
        '"mine.syscals" in [project.entry-points."qemu_plugins.uses"] and reinstall)'
    )
    assert "pip install" not in line
    assert one_error(qpp(fake, "help", "mine"), ExitStatus.PLUGIN_METADATA) == line


def test_a_typo_in_the_distribution_is_a_warning_plain_list_mentions(fake: FakeSite) -> None:
    mine(fake, "mine.syscalls", dist="qpp_syscals")
    assert qpp(fake, "run", "-p", "mine").returncode == 0  # it works: syscalls is there
    plain = qpp(fake, "list")
    assert "(1 warning; `qpp list --verbose` shows them)" in plain.stdout
    verbose = qpp(fake, "list", "--verbose").stdout
    assert (
        "warning: mine: uses syscalls from qpp-syscals, but syscalls is provided by "
        'qpp-syscalls: fix the entry to "mine.syscalls" = "qpp_syscalls"'
    ) in verbose
    assert "add it to [project] dependencies" not in verbose  # qpp-syscals does not exist


def test_a_uses_key_without_a_dot_is_a_warning_plain_list_mentions(fake: FakeSite) -> None:
    mine(fake, "minesyscalls")
    assert "(1 warning; `qpp list --verbose` shows them)" in qpp(fake, "list").stdout
    assert "'minesyscalls' names no plugin of this distribution" in qpp(fake, "list", "-v").stdout


def test_no_suggestion_for_an_unrelated_name(fake: FakeSite) -> None:
    fake.plugin("cache")
    line = one_error(qpp(fake, "run", "-p", "filewatch"), ExitStatus.UNKNOWN_PLUGIN)
    assert "did you mean" not in line and "cache" in line
    close = one_error(qpp(fake, "run", "-p", "cahce"), ExitStatus.UNKNOWN_PLUGIN)
    assert "did you mean 'cache'?" in close


def test_help_refuses_a_plugin_whose_used_distribution_is_missing_as_run_does(
    fake: FakeSite,
) -> None:
    fake.plugin("openlog", "import missing_dist_module\n", uses=["gone"])
    run = one_error(qpp(fake, "run", "-p", "openlog"), ExitStatus.MISSING_DEPENDENCY)
    assert one_error(qpp(fake, "help", "openlog"), ExitStatus.MISSING_DEPENDENCY) == run
    assert run.endswith("uses plugin gone, which is not installed: pip install gone-dist")


def test_empty_defaults_are_shown_as_such(fake: FakeSite) -> None:
    fake.plugin(
        "filt",
        """
        from qpp_core import Arg
        qemu_plugin_args = {"only": Arg(str, "", "syscall names to show"), "n": Arg(int, 3)}
        """,
    )
    out = qpp(fake, "help", "filt").stdout
    assert "arguments: n=<int, default 3>, only=<str, default ''>" in out


def test_a_version_one_exporter_is_told_where_to_declare_v2(fake: FakeSite) -> None:
    fake.plugin("old", "from qpp_core import export\n@export\ndef f():\n    return 1\n", api="")
    line = one_error(qpp(fake, "run", "-p", "old"), ExitStatus.QPP)
    assert line.endswith(
        'declare it in old-dist\'s pyproject.toml, [project.entry-points."qemu_plugins.version"]'
        ' old = "v2" (and qemu_plugin_version = 2 in old_mod, if set), then reinstall it'
    )


REGISTERS_ON_NOTHING = """
from qpp_core import hookimpl, qemu_plugin_reg_callback
@hookimpl
def {hook}:
    qemu_plugin_reg_callback("syscalls", "on_nothing", lambda evdata: None)
"""


@pytest.mark.parametrize("hook", ["qemu_plugin_install(id)", "qemu_plugin_vcpu_syscall(num)"])
def test_qpp_misuse_has_one_status_wherever_it_happens(fake: FakeSite, hook: str) -> None:
    fake.plugin("misuser", REGISTERS_ON_NOTHING.format(hook=hook), uses=["syscalls"])
    (fake.root / "fake_syscalls.py").write_text(
        "from qpp_core import hookimpl, qemu_plugin_create_callback\n"
        "@hookimpl\ndef qemu_plugin_install(id):\n    qemu_plugin_create_callback(id, 'on_x')\n"
    )
    result = qpp(fake, "run", "-p", "misuser")
    assert result.returncode == ExitStatus.QPP, result.stderr
    line = result.stderr.splitlines()[-1]
    assert "misuser" in line and "plugin syscalls has no QPP callback 'on_nothing'" in line


def test_a_wrong_signature_names_plugin_callback_and_parameters(fake: FakeSite) -> None:
    fake.plugin(
        "sloppy",
        """
        from qpp_core import hookimpl, qemu_plugin_reg_callback
        def on_x(event, data):
            pass
        @hookimpl
        def qemu_plugin_install(id):
            qemu_plugin_reg_callback("syscalls", "on_x", on_x)
        """,
        uses=["syscalls"],
    )
    (fake.root / "fake_syscalls.py").write_text(
        "from qpp_core import hookimpl, qemu_plugin_create_callback\n"
        "@hookimpl\ndef qemu_plugin_install(id):\n    qemu_plugin_create_callback(id, 'on_x')\n"
    )
    line = one_error(qpp(fake, "run", "-p", "sloppy"), ExitStatus.QPP)
    assert line == (
        "qpp: error: plugin sloppy registers on_x(event, data) on QPP callback syscalls.on_x, "
        "which passes (evdata, udata): the function's parameters must be those names "
        "(both, either or none)"
    )


def test_list_check_marks_a_version_one_exporter_broken(fake: FakeSite) -> None:
    fake.plugin("old", "from qpp_core import export\n@export\ndef f():\n    return 1\n", api="")
    checked = qpp(fake, "list", "--check", "--verbose")
    assert checked.returncode == ExitStatus.PLUGIN_IMPORT, checked.stdout
    [row] = [line for line in checked.stdout.splitlines() if line.startswith("old ")]
    assert "broken: exports f but targets plugin API version 1" in row
    assert '"qemu_plugins.version"] old = "v2"' in row
