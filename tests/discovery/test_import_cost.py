"""Discovery and ``qpp list`` must not load the engine: they run on every ``qpp list``."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("unicorn", "capstone", "elftools", "pluggy")


@pytest.mark.parametrize(
    "module", ["qpp_core", "qpp_core.discovery", "qpp_core.discovery.resolve", "qpp_core.cli.main"]
)
def test_importing_loads_no_engine(module: str) -> None:
    code = (
        f"import sys, {module}; print(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_resolve_lazily() -> None:
    code = (
        "import sys, qpp_core; assert 'unicorn' not in sys.modules; "
        "from qpp_core import hookimpl, qemu_plugin_register_vcpu_tb_trans_cb, Session; "
        "ns = {}; exec('from qpp_core import *', ns); "
        "print(sorted(set(qpp_core.__all__) - set(ns)), 'qemu_plugin_insn_vaddr' in ns)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"]


def test_a_run_without_plugins_loads_only_the_engine() -> None:
    """A plain ``qpp run`` imports unicorn, not capstone, pyelftools or importlib.metadata:
    those cost start-up and only plugins (disassembly, symbols, discovery) need them."""
    code = (
        "import sys, runpy; sys.argv = ['qpp', 'run', sys.argv[1]]\n"
        "try:\n    runpy.run_module('qpp_core', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write(' '.join(sorted(m for m in "
        "('unicorn', 'capstone', 'elftools', 'importlib_metadata', 'importlib.metadata') "
        "if m in sys.modules)))"
    )
    from qpp_core.guests import guest_path

    out = subprocess.run(
        [sys.executable, "-c", code, str(guest_path("hello", "x86_64"))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("Hello from the qpp guest!")
    assert out.stderr.strip() == "unicorn"
