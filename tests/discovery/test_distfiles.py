"""Reading installed metadata folders without importlib.metadata, and what `qpp list` imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fakesite import FakeSite

from qpp_core.discovery.distfiles import distributions, parse_entry_points, parse_headers


def test_headers_continuations_and_repeats() -> None:
    text = (
        "Metadata-Version: 2.1\nName: qpp-x\nVersion: 1.2\nSummary: one\n  two\n"
        "Requires-Dist: qpp-core>=0.1\nRequires-Dist: qpp-srv ; python_version > '3'\n"
        "\nName: body, not a header\n"
    )
    headers = parse_headers(text)
    assert headers["name"] == ["qpp-x"] and headers["summary"] == ["one two"]
    assert headers["requires-dist"] == ["qpp-core>=0.1", "qpp-srv ; python_version > '3'"]


def test_entry_points_ini() -> None:
    text = "# comment\n[qemu_plugins]\nx = x_mod\n; other\n[qemu_plugins.uses]\nx.y = y_dist\n"
    assert parse_entry_points(text) == [
        ("qemu_plugins", "x", "x_mod"),
        ("qemu_plugins.uses", "x.y", "y_dist"),
    ]


def test_egg_info_folders_are_read_too(tmp_path: Path) -> None:
    egg = tmp_path / "qpp_old.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.2\nName: qpp-old\nVersion: 0.9\n")
    (egg / "requires.txt").write_text("qpp-core\n\n[test]\npytest\n")
    (egg / "entry_points.txt").write_text("[qemu_plugins]\nold = old_mod\n")
    (tmp_path / "not-a-folder.dist-info").write_text("")
    [dist] = distributions([str(tmp_path), str(tmp_path / "missing"), "/no/such.zip"])
    assert (dist.name, dist.version, dist.requires) == ("qpp-old", "0.9", ["qpp-core"])
    assert dist.entry_points() == [("qemu_plugins", "old", "old_mod")]


def test_qpp_list_with_twenty_plugins_imports_no_engine_nor_metadata_library(
    tmp_path: Path,
) -> None:
    site = FakeSite(tmp_path)
    for i in range(20):
        site.plugin(f"plugin{i:02d}")
    env = dict(os.environ, PYTHONPATH=str(tmp_path), QPP_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "qpp_core", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert [n for n in names if n.startswith("plugin") and n[6:].isdigit()] == [
        f"plugin{i:02d}" for i in range(20)
    ]
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    heavy = {"unicorn", "capstone", "pluggy", "elftools", "importlib_metadata", "email.parser"}
    assert imported & heavy == set()
