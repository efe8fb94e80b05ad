"""``qpp new plugin``: the generated distribution is ready, and passes its own tests.

The fast test makes the generated project importable through a fake ``.dist-info`` (as
pip would leave it) and runs its tests with the qpp_run fixture; the integration test
pip-installs it with qpp-core from this tree into a fresh virtual environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fakesite import FakeSite

from qpp_core.discovery.metadata import USES_GROUP, VERSION_GROUP
from qpp_core.errors import ExitStatus

ROOT = Path(__file__).resolve().parents[2]


def qpp(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qpp_core", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def generate(tmp_path: Path, *args: str) -> Path:
    result = qpp("new", "plugin", "filewatch", *args, "--dir", "fw", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "fw"


def test_the_metadata_is_what_the_finder_reads(tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    project = generate(tmp_path, "--uses", "insn")
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    points = meta["project"]["entry-points"]
    assert points["qemu_plugins"] == {"filewatch": "qpp_filewatch.plugin"}
    assert points[VERSION_GROUP] == {"filewatch": "v2"}
    assert points[USES_GROUP] == {"filewatch.insn": "qpp_core"}  # insn's distribution
    assert meta["project"]["dependencies"] == ["qpp-core"]  # insn ships in qpp-core itself
    names = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert names == [
        "README.md",
        "pyproject.toml",
        "src/qpp_filewatch/__init__.py",
        "src/qpp_filewatch/api.py",
        "src/qpp_filewatch/plugin.py",
        "src/qpp_filewatch/py.typed",
        "tests/test_filewatch.py",
    ]


def test_bad_requests_are_one_line_errors(tmp_path: Path) -> None:
    unknown = qpp("new", "plugin", "fw", "--uses", "sycsalls_nothing", cwd=tmp_path)
    assert unknown.returncode == ExitStatus.UNKNOWN_PLUGIN
    assert unknown.stderr.startswith("qpp: error: unknown plugin 'sycsalls_nothing'")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("")
    taken = qpp("new", "plugin", "fw", "--dir", "taken", cwd=tmp_path)
    assert taken.returncode == ExitStatus.HOST and "not empty" in taken.stderr
    bad = qpp("new", "plugin", "no-dash", cwd=tmp_path)
    assert bad.returncode == ExitStatus.HOST and "not an identifier" in bad.stderr
    assert len(bad.stderr.splitlines()) == 1


def test_the_generated_project_passes_its_own_tests(tmp_path: Path) -> None:
    project = generate(tmp_path, "--uses", "insn")
    site = FakeSite(tmp_path / "site")
    site.root.mkdir()
    site.dist(
        "qpp-filewatch",
        {"filewatch": "qpp_filewatch.plugin"},
        api={"filewatch": "v2"},
        uses={"filewatch.insn": "qpp_core"},
        requires=["qpp-core"],
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(project / "src"), str(site.root)]),
        QPP_CACHE_DIR=str(tmp_path / "cache"),
    )
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "5 passed" in tests.stdout
    helped = qpp("help", "filewatch", cwd=tmp_path, env=env)
    assert helped.returncode == 0, helped.stderr
    assert "verbose=<bool, default False>" in helped.stdout
    checked = qpp("list", "--check", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stdout
    assert any(
        line.split()[0] == "filewatch" and line.endswith("ok")
        for line in checked.stdout.splitlines()
    )
    if shutil.which("mypy") or (Path(sys.executable).parent / "mypy").exists():
        typed = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports",
             "--no-incremental", "src/qpp_filewatch", "tests"],
            cwd=project,
            env=dict(env, MYPYPATH=os.pathsep.join([str(ROOT), str(project / "src")])),
            capture_output=True,
            text=True,
            timeout=300,
        )  # fmt: skip
        assert typed.returncode == 0, typed.stdout


UV = shutil.which("uv")


@pytest.mark.integration
@pytest.mark.skipif(UV is None, reason="needs uv")
def test_pip_installed_into_a_fresh_venv_it_passes_its_tests(tmp_path: Path) -> None:
    assert UV is not None
    venv = tmp_path / "venv"

    def sh(*argv: str | Path, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
        return result

    # as an author would: qpp and the plugin to build on installed, then `qpp new`
    sh(UV, "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    sh(
        UV,
        "pip",
        "install",
        "--quiet",
        "--python",
        python,
        ROOT,
        ROOT / "packages" / "qpp-syscalls",
    )
    sh(venv / "bin" / "qpp", "new", "plugin", "filewatch", "--uses", "syscalls", "--dir", "fw")
    project = tmp_path / "fw"
    sh(UV, "pip", "install", "--quiet", "--python", python, f"{project}[test]")
    listed = sh(venv / "bin" / "qpp", "list")
    assert any(line.split()[:1] == ["filewatch"] for line in listed.stdout.splitlines())
    tests = sh(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert "5 passed" in tests.stdout
