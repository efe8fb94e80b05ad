"""Real ``pip install`` of the real distributions into fresh virtual environments.

The three distributions are built into a wheelhouse once; each test makes a new virtual
environment, installs into it from the wheelhouse (dependencies such as unicorn come from
the package index) and runs the installed ``qpp`` as a user would. uv is used when it is
available because it is several times faster than pip; the installs are the same.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
UV = shutil.which("uv")
PACKAGES = ("qpp-srv", "qpp-client", "qpp-syscalls", "qpp-strace")


def sh(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheelhouse")
    for project in (ROOT, *(ROOT / "packages" / name for name in PACKAGES)):
        if UV:
            sh(UV, "build", "--wheel", "--out-dir", out, project)
        else:
            sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, project)
    return out


class Venv:
    def __init__(self, path: Path, wheelhouse: Path) -> None:
        self.path = path
        self.wheelhouse = wheelhouse
        if UV:
            sh(UV, "venv", "--quiet", "--python", sys.executable, path)
        else:
            sh(sys.executable, "-m", "venv", path)
        self.python = path / "bin" / "python"

    def pip(self, *args: str | Path) -> None:
        if UV:
            sh(UV, "pip", *args, "--python", self.python)
        else:
            sh(self.python, "-m", "pip", "--quiet", *args)

    def install(self, *requirements: str | Path) -> None:
        self.pip("install", "--find-links", self.wheelhouse, *requirements)

    def qpp(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["QPP_CACHE_DIR"] = str(self.path / "qpp-cache")
        return subprocess.run(
            [str(self.path / "bin" / "qpp"), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture
def venv(tmp_path: Path, wheelhouse: Path) -> Venv:
    return Venv(tmp_path / "venv", wheelhouse)


DEMO = [
    "QPP srv: loaded on x86_64, plugin API v2",
    "QPP client: Call qpp_srv's do_add(0) do_sub(3) => 1 2",
    "QPP client: my_on_exit callback was called",
    "QPP srv: my_on_exit was handled",
]


def test_installing_the_client_brings_srv_and_the_demo_runs(venv: Venv, tmp_path: Path) -> None:
    venv.install("qpp-client")
    listing = venv.qpp("list", cwd=tmp_path).stdout
    assert "qpp_client" in listing and "qpp_srv" in listing
    result = venv.qpp("run", "-p", "qpp_client", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Hello from the qpp guest!")
    assert result.stderr.splitlines() == DEMO


def test_removing_a_used_plugin_names_the_distribution_to_install(
    venv: Venv, tmp_path: Path
) -> None:
    venv.install("qpp-client")
    venv.pip("uninstall", "qpp-srv") if UV else venv.pip("uninstall", "-y", "qpp-srv")
    result = venv.qpp("run", "-p", "qpp_client", cwd=tmp_path)
    assert result.returncode == 71
    assert result.stderr == (
        "qpp: error: plugin qpp_client (qpp-client 0.1.0) uses plugin qpp_srv, "
        "which is not installed: pip install qpp-srv\n"
    )


def test_core_alone_then_each_plugin_from_its_folder(venv: Venv, tmp_path: Path) -> None:
    venv.install("qpp-core")
    result = venv.qpp("run", "-p", "qpp_client", cwd=tmp_path)
    assert result.returncode == 70 and "unknown plugin 'qpp_client'" in result.stderr
    venv.install(ROOT / "packages/qpp-srv")
    assert venv.qpp("run", "-p", "qpp_srv", cwd=tmp_path).returncode == 81
    venv.install(ROOT / "packages/qpp-client")
    assert venv.qpp("run", "-p", "qpp_client", cwd=tmp_path).returncode == 0


def test_a_broken_third_party_plugin_hides_nothing(venv: Venv, tmp_path: Path) -> None:
    project = tmp_path / "qpp-broken"
    (project / "qpp_broken").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "qpp-broken"
            version = "0.0.1"
            dependencies = ["qpp-core"]

            [project.entry-points.qemu_plugins]
            broken = "qpp_broken"

            [project.entry-points."qemu_plugins.version"]
            broken = "v2"
            """
        )
    )
    (project / "qpp_broken" / "__init__.py").write_text("import not_installed_anywhere\n")
    venv.install("qpp-client", project)
    run = venv.qpp("run", "-p", "broken", cwd=tmp_path)
    assert run.returncode == 74
    assert "plugin broken (qpp-broken 0.0.1) failed to import module qpp_broken" in run.stderr
    listing = venv.qpp("list", cwd=tmp_path).stdout
    assert "qpp_client" in listing and "qpp_srv" in listing and "broken" in listing
    assert venv.qpp("run", "-p", "qpp_client", cwd=tmp_path).returncode == 0


def test_installing_strace_brings_syscalls(venv: Venv, tmp_path: Path) -> None:
    venv.install("qpp-strace")
    listing = venv.qpp("graph", cwd=tmp_path).stdout.splitlines()
    assert "strace -> syscalls" in listing
    result = venv.qpp("run", "-p", "strace", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("write(1, ") for line in result.stderr.splitlines())
