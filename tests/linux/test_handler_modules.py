"""The syscall handler modules load on first use: the table that says which module handles
which call matches the real registrations, and a lazily loaded handler works on first use.

See :mod:`qpp_core.linux.syscalls.registry`.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from linux.guestrun import ARCHES

from qpp_core.linux.syscalls import registry

PACKAGE = Path(registry.__file__).parent
TESTS = Path(__file__).resolve().parents[1]


def _registered_in_source() -> dict[str, list[str]]:
    """Syscall name -> the modules whose ``@handles(...)`` decorators name it."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and isinstance(deco.func, ast.Name)
                    and deco.func.id == "handles"
                ):
                    for arg in deco.args:
                        assert isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        found.setdefault(arg.value, []).append(path.stem)
    return found


def test_each_call_is_registered_by_one_module() -> None:
    """Two registrations of one name would make the handler depend on the load order."""
    twice = {name: mods for name, mods in _registered_in_source().items() if len(mods) > 1}
    assert twice == {}


def test_the_table_names_the_registering_module() -> None:
    in_source = {name: mods[0] for name, mods in _registered_in_source().items()}
    assert in_source == registry.MODULES
    handlers = registry.all_handlers()
    assert set(handlers) == set(registry.MODULES)
    wrong = {
        name: fn.__module__
        for name, fn in handlers.items()
        if fn.__module__ != f"{registry.__package__}.{registry.MODULES[name]}"
    }
    assert wrong == {}


def test_unknown_names_have_no_handler() -> None:
    assert registry.handler("no_such_call") is None


def _workdir(path: Path) -> str:
    path.mkdir()
    (path / "f").write_text("x")
    (path / "f").chmod(0o644)
    os.symlink("f", path / "l")
    return str(path)


#: prints the guest's output, then (on stderr) whether the module was loaded before the run
_RUN_AND_REPORT = """
import sys, runpy
loaded_before = "qpp_core.linux.syscalls.perm" in sys.modules
sys.argv = ["qpp", "run", *sys.argv[1:]]
try:
    runpy.run_module("qpp_core", run_name="__main__")
except SystemExit as e:
    status = e.code
sys.stdout.flush()
sys.stderr.write(f"{loaded_before} {'qpp_core.linux.syscalls.perm' in sys.modules} {status}")
"""


@pytest.mark.parametrize("arch", ARCHES)
def test_a_lazily_loaded_handler_works_on_first_use(arch: str, tmp_path: Path) -> None:
    """cpu_syscalls' chmod family lives in perm.py, which a run loads at its first call."""
    binary = TESTS / "guests" / "bin" / f"cpu_syscalls.{arch}"
    r = subprocess.run(
        [sys.executable, "-c", _RUN_AND_REPORT, str(binary), _workdir(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.stderr.split() == ["False", "True", "0"], r.stderr
    assert r.stdout == (TESTS / "guests" / "expected" / f"cpu_syscalls.{arch}").read_text()
