"""The README's plugin example works as printed: its pyproject and module, installed.

The example is taken from README.md itself (the toml and python blocks of "Writing a
plugin"), turned into an installed distribution (a ``.dist-info`` folder written from the
toml's entry points) and run with the real ``qpp`` command.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fakesite import FakeSite

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("qpp_srv") is None, reason="the example uses qpp-srv"
)


def blocks(language: str) -> list[str]:
    section = README.read_text().split("## Writing a plugin", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def test_the_plugin_example_installs_and_runs(tmp_path: Path) -> None:
    (toml_text,) = blocks("toml")
    (module_text,) = blocks("python")
    project = tomllib.loads(toml_text)["project"]
    groups = project["entry-points"]
    site = FakeSite(tmp_path / "site")
    site.root.mkdir()
    site.dist(
        project["name"],
        groups["qemu_plugins"],
        version=project["version"],
        api=groups["qemu_plugins.version"],
        uses=groups["qemu_plugins.uses"],
        requires=project["dependencies"],
    )
    package = site.root / "qpp_hello"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(module_text)

    env = dict(os.environ, PYTHONPATH=str(site.root), QPP_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run(
        [sys.executable, "-m", "qpp_core", "run", "-p", "hello,who=reader"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # hello is newer than qpp_srv, so its atexit runs first
    assert result.stderr.splitlines() == [
        "QPP srv: loaded on x86_64, plugin API v2",
        "hello, reader: 42",
        "bye",
        "QPP srv: my_on_exit was handled",
    ]
