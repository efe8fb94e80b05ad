"""docs/authors.md's reference part is what tools/gen_authors_doc.py makes from the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

for module in ("qpp_srv", "qpp_client", "qpp_syscalls", "qpp_strace"):
    pytest.importorskip(module, reason="the guide documents all four QPP distributions")


def test_the_generated_reference_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_authors_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def test_the_reference_names_every_export_and_callback() -> None:
    from qpp_srv import plugin as srv

    text = (ROOT / "docs" / "authors.md").read_text()
    assert "- `qpp_srv_do_add_qpp(x: int) -> int`" in text
    assert srv.__doc__ is not None and "my_on_exit(evdata, udata)" in text
    assert "`on_sys_<name>_enter(evdata, udata)`" in text and " openat2, " in text
    assert "Registers on: `syscalls.on_sys_enter`, `syscalls.on_sys_return`" in text
