"""The ``qpp_run`` fixture (qpp_core.testing, loaded through its pytest11 entry point)."""

from __future__ import annotations

import sys

import pytest
from fakesite import FakeSite

from qpp_core.errors import ExitStatus
from qpp_core.guests import HELLO_GREETING, expected_hello_output, guest_path
from qpp_core.testing import QppRun


def test_the_fixture_comes_from_the_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("qpp")
    assert plugin is not None and plugin.__name__ == "qpp_core.testing"


def test_a_run_with_a_core_plugin(qpp_run) -> None:  # type: ignore[no-untyped-def]
    result: QppRun = qpp_run("insn")
    assert result.status == 0, result
    assert result.stdout == expected_hello_output([str(guest_path("hello"))])
    assert result.stderr == ""  # the plugin's output went to the log
    [line] = result.log_lines
    assert line.startswith("total insns: ") and int(line.split()[-1]) > 1000


@pytest.mark.parametrize("arch", ["aarch64", "riscv64"])
def test_other_guests_arguments_and_architectures(qpp_run, arch: str) -> None:  # type: ignore[no-untyped-def]
    result = qpp_run("syscall", guest="hello", arch=arch, args=["a b", "c"])
    assert result.status == 0, result
    assert result.stdout.startswith(HELLO_GREETING)
    assert "argv[1] = a b\nargv[2] = c\n" in result.stdout
    assert result.log_lines[0].split() == ["syscall", "no.", "calls", "errors"]
    assert any(line.split()[0] == "64" for line in result.log_lines[1:])  # write, both arches


def test_statuses_errors_and_options(qpp_run) -> None:  # type: ignore[no-untyped-def]
    unknown = qpp_run("no_such_plugin_here")
    assert unknown.status == ExitStatus.UNKNOWN_PLUGIN
    assert unknown.errors[0].startswith("qpp: error: unknown plugin 'no_such_plugin_here'")
    died = qpp_run(guest="probe", args=["exit", "7"])
    assert died.status == 7, died
    bad_option = qpp_run(options=["--on-plugin-error=maybe"])
    assert bad_option.status == 2


def test_plugins_of_a_fake_site_and_runs_are_isolated(qpp_run, site: FakeSite) -> None:  # type: ignore[no-untyped-def]
    site.plugin(
        "counter",
        """
        from qpp_core import hookimpl, qemu_plugin_outs
        seen = []
        @hookimpl
        def qemu_plugin_vcpu_syscall(num):
            seen.append(num)
        @hookimpl
        def qemu_plugin_atexit():
            qemu_plugin_outs(f"{len(seen)} syscalls\\n")
        """,
    )
    first, second = qpp_run("counter"), qpp_run("counter")
    assert first.status == second.status == 0, first
    assert first.log == second.log  # the child's module state does not carry over
    assert int(first.log.split()[0]) > 5
    assert "counter_mod" not in sys.modules  # imported by the children only
