#!/usr/bin/env python3
"""Type-check the test suite with mypy --strict and the project's configuration.

The tests import their helpers as top-level modules (``from linux.guestrun import ...``:
pytest puts ``tests/`` on ``sys.path``), so mypy runs from ``tests/`` with explicit
package bases, and the sources of qpp-core and the plugin distributions on MYPYPATH (an
editable install is an import hook that mypy cannot follow).

usage: python tools/mypy_tests.py [MYPY OPTIONS...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT, ROOT / "tools", *sorted((ROOT / "packages").glob("*/src"))]


def main(argv: list[str]) -> int:
    from mypy import api

    os.environ["MYPYPATH"] = os.pathsep.join(str(p) for p in SOURCES)
    os.chdir(ROOT / "tests")
    out, err, status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--explicit-package-bases",
            "--cache-dir",
            str(ROOT / ".mypy_cache" / "tests"),
            *argv,
            ".",
        ]
    )
    sys.stdout.write(out)
    sys.stderr.write(err)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
