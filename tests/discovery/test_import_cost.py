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
