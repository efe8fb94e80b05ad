"""``@qpp_callback`` at module level (recorded at import, bound at install) and the
before/after ordering of registrations on one QPP callback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakesite import FakeSite, LogCapture, load

from qpp_core import QppUsageError, qemu_plugin_run_callback
from qpp_core.errors import ExitStatus
from qpp_core.session import Session

OWNER = """
from qpp_core import hookimpl, qemu_plugin_create_callback
@hookimpl
def qemu_plugin_install(id, info, args):
    qemu_plugin_create_callback(id, "on_x")
"""

DECORATED = """
\"\"\"deco: appends its name to the event, from a module-level decorator.\"\"\"
from qpp_core import qpp_callback
@qpp_callback("owner", "on_x")
def on_x(evdata):
    evdata.append("deco")
"""


def fire(session: Session) -> list[str]:
    seen: list[str] = []
    qemu_plugin_run_callback(session.by_name["owner"].id, "on_x", seen, None)
    return seen


def test_module_level_decorator_binds_in_every_in_process_run(site: FakeSite) -> None:
    site.plugin("owner", OWNER)
    site.plugin("deco", DECORATED, uses=["owner"])
    for _ in range(2):  # the module is imported once; both runs get the registration
        session = Session(log=LogCapture())
        with session.activate():
            load(session, site, "deco")
            assert fire(session) == ["deco"]
            session.uninstall(session.by_name["deco"])
            assert fire(session) == []  # owned by deco: gone with it
            session.close()


def test_module_level_decorator_needs_no_session(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    site = FakeSite(root)
    site.plugin("owner", OWNER)
    site.plugin("deco", DECORATED, uses=["owner"])
    env = dict(os.environ, PYTHONPATH=str(root), QPP_CACHE_DIR=str(tmp_path / "cache"))

    def qpp(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "qpp_core", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    helped = qpp("help", "deco")
    assert helped.returncode == 0, helped.stderr
    assert "deco: appends its name" in helped.stdout
    checked = qpp("list", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert [line.split()[-1] for line in checked.stdout.splitlines()[1:3]] == ["ok", "ok"]


def plugin_source(name: str, before: str = "", after: str = "") -> str:
    return f"""
from qpp_core import hookimpl, qemu_plugin_reg_callback
@hookimpl
def qemu_plugin_install(id, info, args):
    qemu_plugin_reg_callback(
        "owner", "on_x", lambda evdata: evdata.append({name!r}),
        before={before.split(",") if before else []!r},
        after={after.split(",") if after else []!r},
    )
"""


@pytest.mark.parametrize(
    ("constraints", "expected"),
    [
        ({}, ["a", "b", "c"]),  # registration (= load) order
        ({"a": ("", "c")}, ["b", "c", "a"]),  # a after c
        ({"c": ("a", "")}, ["b", "c", "a"]),  # c before a: the oldest free one runs next
        ({"c": ("b", ""), "b": ("", "a")}, ["a", "c", "b"]),
        ({"a": ("", "nobody")}, ["a", "b", "c"]),  # a plugin with no registration: ignored
    ],
)
def test_before_and_after_order_registrations(
    site: FakeSite,
    session: Session,
    constraints: dict[str, tuple[str, str]],
    expected: list[str],
) -> None:
    site.plugin("owner", OWNER)
    for name in "abc":
        before, after = constraints.get(name, ("", ""))
        site.plugin(name, plugin_source(name, before, after), uses=["owner"])
    load(session, site, "a", "b", "c")
    assert fire(session) == expected


def test_conflicting_constraints_are_a_one_line_error(site: FakeSite, session: Session) -> None:
    site.plugin("owner", OWNER)
    site.plugin("a", plugin_source("a", before="b"), uses=["owner"])
    site.plugin("b", plugin_source("b", before="c"), uses=["owner"])
    site.plugin("c", plugin_source("c", before="a"), uses=["owner"])
    load(session, site, "a", "b")
    with pytest.raises(QppUsageError) as info:
        load(session, site, "c")
    assert info.value.exit_status == ExitStatus.QPP
    assert str(info.value) == (
        "plugin c: QPP callback owner.on_x: ordering constraints conflict "
        "(a before b before c before a); drop one of these before/after"
    )
    assert "c" not in session.by_name  # refused and uninstalled
    assert fire(session) == ["a", "b"]
