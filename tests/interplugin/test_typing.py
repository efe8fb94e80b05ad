"""QPP's typed declarations: mypy checks callers of another plugin's exports.

qpp_srv ships ``qpp_srv.api.QppSrvApi`` (QPP_FUN_PROTOTYPE's role); ``qpp.typed()`` gives
callers that type. This runs the real mypy over qpp-client (which must pass) and over a
caller that gets the argument and result types wrong (which must fail, naming the call).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy not installed"),
    pytest.mark.skipif(importlib.util.find_spec("qpp_srv") is None, reason="qpp-srv not installed"),
]

ROOT = Path(__file__).resolve().parents[2]


def _source_roots() -> str:
    """Where editable installs keep qpp_core and qpp_srv (mypy cannot follow their import hooks)."""
    roots = []
    for package in ("qpp_core", "qpp_srv"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            root = Path(spec.origin).resolve().parents[1]
            if "site-packages" not in root.parts:
                roots.append(str(root))
    return os.pathsep.join(roots)


MYPY_INI = """
[mypy]
strict = True
follow_imports = silent
[mypy-unicorn.*,capstone.*,elftools.*]
ignore_missing_imports = True
"""


def mypy(*targets: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    config = cwd / "mypy-test.ini"
    config.write_text(MYPY_INI)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--config-file",
            str(config),
            *map(str, targets),
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "MYPYPATH": _source_roots()},
        timeout=300,
    )


def test_mypy_checks_calls_through_the_typed_namespace(tmp_path: Path) -> None:
    good = tmp_path / "good_caller.py"
    good.write_text(
        textwrap.dedent(
            """
            from qpp_core import qpp
            from qpp_srv.api import QppSrvApi

            def total() -> int:
                srv = qpp.typed(QppSrvApi)
                return srv.qpp_srv_do_add_qpp(0) + srv.qpp_srv_do_sub_qpp(3)
            """
        )
    )
    bad = tmp_path / "bad_caller.py"
    bad.write_text(
        textwrap.dedent(
            """
            from qpp_core import qpp
            from qpp_srv.api import QppSrvApi

            def total() -> str:
                srv = qpp.typed(QppSrvApi)
                return srv.qpp_srv_do_add_qpp("zero")
            """
        )
    )
    assert mypy(good, cwd=tmp_path).returncode == 0
    result = mypy(bad, cwd=tmp_path)
    assert result.returncode == 1
    assert (
        'Argument 1 to "qpp_srv_do_add_qpp" of "QppSrvApi" has incompatible type "str"; expected "int"'
        in result.stdout
    )
    assert 'Incompatible return value type (got "int", expected "str")' in result.stdout


@pytest.mark.skipif(
    importlib.util.find_spec("qpp_client") is None, reason="qpp-client not installed"
)
def test_qpp_client_type_checks(tmp_path: Path) -> None:
    result = mypy("-p", "qpp_client", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
