"""What a user sees with each install set of the tox matrix (QPP_INSTALL_SET).

These run the real ``qpp`` command on the built-in guest, against whatever plugin
distributions the environment really has installed; without QPP_INSTALL_SET (a developer's
own environment) they are skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

INSTALL_SET = os.environ.get("QPP_INSTALL_SET", "")

pytestmark = pytest.mark.skipif(not INSTALL_SET, reason="QPP_INSTALL_SET is set by tox")


def qpp(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qpp_core", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def installed(tmp_path: Path) -> set[str]:
    listing = qpp(tmp_path, "list", "--json")
    assert listing.returncode == 0, listing.stderr
    return {row["name"] for row in json.loads(listing.stdout)}


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qpp: error: ")
    return lines[0]


@pytest.mark.skipif(INSTALL_SET != "core", reason="core-only environment")
def test_core_only_has_no_demo_plugins_and_says_so(tmp_path: Path) -> None:
    assert not {"qpp_srv", "qpp_client"} & installed(tmp_path)
    for plugin in ("qpp_client", "qpp_srv"):
        result = qpp(tmp_path, "run", "-p", plugin)
        assert result.returncode == 70
        line = one_error_line(result)
        assert f"unknown plugin '{plugin}'" in line and "see `qpp list`" in line
        assert result.stdout == ""  # the guest never started


@pytest.mark.skipif(INSTALL_SET != "srv", reason="core+srv environment")
def test_srv_alone_fails_at_exit(tmp_path: Path) -> None:
    assert {"qpp_srv"} <= installed(tmp_path)
    assert "qpp_client" not in installed(tmp_path)
    result = qpp(tmp_path, "run", "-p", "qpp_srv")
    assert result.returncode == 81
    assert result.stdout.startswith("Hello from the qpp guest!\n")  # the guest did run
    assert result.stderr.splitlines() == [
        "QPP srv: loaded on x86_64, plugin API v2",
        "qpp: qpp_srv: no plugin handled my_on_exit (its flag is still false); "
        "load a client of it, e.g. -p qpp_client",
    ]


@pytest.mark.skipif(INSTALL_SET != "srv", reason="core+srv environment")
def test_srv_environment_lacks_the_client(tmp_path: Path) -> None:
    result = qpp(tmp_path, "run", "-p", "qpp_client")
    assert result.returncode == 70
    line = one_error_line(result)
    assert "did you mean" not in line  # qpp_srv is no spelling of qpp_client
    assert "installed: " in line and "qpp_srv" in line


@pytest.mark.skipif(INSTALL_SET != "client", reason="core+srv+client environment")
def test_client_loads_srv_first_and_the_demo_passes(tmp_path: Path) -> None:
    result = qpp(tmp_path, "run", "-p", "qpp_client")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Hello from the qpp guest!\n")
    assert result.stderr.splitlines() == [
        "QPP srv: loaded on x86_64, plugin API v2",
        "QPP client: Call qpp_srv's do_add(0) do_sub(3) => 1 2",
        "QPP client: my_on_exit callback was called",
        "QPP srv: my_on_exit was handled",
    ]


@pytest.mark.skipif(INSTALL_SET != "client", reason="core+srv+client environment")
def test_plugin_output_goes_to_the_log_file(tmp_path: Path) -> None:
    result = qpp(
        tmp_path, "run", "-plugin", "qpp_client", "-p", "qpp_srv", "-d", "plugin", "-D", "qpp.log"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    log = (tmp_path / "qpp.log").read_text()
    assert log.count("QPP srv: loaded") == 1  # named twice, loaded once
    assert "QPP client: my_on_exit callback was called" in log


@pytest.mark.skipif(INSTALL_SET != "client", reason="core+srv+client environment")
def test_list_and_graph_show_the_pair(tmp_path: Path) -> None:
    rows = {row["name"]: row for row in json.loads(qpp(tmp_path, "list", "--json").stdout)}
    assert rows["qpp_client"]["uses"] == ["qpp_srv"]
    assert rows["qpp_client"]["distribution"] == "qpp-client"
    assert rows["qpp_srv"]["api_version"] == 2
    assert rows["qpp_client"]["usable"] and rows["qpp_srv"]["usable"]
    assert "qpp_client -> qpp_srv" in qpp(tmp_path, "graph").stdout.splitlines()
    assert '"qpp_client" -> "qpp_srv";' in qpp(tmp_path, "graph", "--dot").stdout


@pytest.mark.skipif(INSTALL_SET != "client", reason="core+srv+client environment")
def test_qpp_callbacks_work_in_every_guest_process(tmp_path: Path) -> None:
    """A forked guest keeps the QPP pair: each process runs the callback chain at its exit."""
    forker = Path(__file__).resolve().parents[1] / "guests" / "bin" / "proc_fork.x86_64"
    result = qpp(tmp_path, "run", "-p", "qpp_client", "-D", "qpp.log", str(forker))
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "qpp.log").read_text().splitlines()
    assert log.count("QPP srv: loaded on x86_64, plugin API v2") == 1  # installed once
    # the parent and its eleven children: each ran qpp_srv's callback, handled by qpp_client
    assert log.count("QPP client: my_on_exit callback was called") == 12
    assert log.count("QPP srv: my_on_exit was handled") == 12
