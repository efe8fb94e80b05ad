"""Guest processes: fork, vfork, clone, wait, pipes and execve, on every architecture.

Each guest process is a host process, so these run ``qpp run`` in a subprocess (a fork
inside the test process would fork pytest).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from linux.guestrun import ARCHES

TESTS = Path(__file__).resolve().parents[1]
BIN = TESTS / "guests" / "bin"
EXPECTED = TESTS / "guests" / "expected"
QPP = [sys.executable, "-m", "qpp_core"]


def qpp_run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*QPP, "run", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


@pytest.mark.parametrize("arch", ARCHES)
def test_fork_wait_pipes_match_qemu(arch: str) -> None:
    r = qpp_run(str(BIN / f"proc_fork.{arch}"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (EXPECTED / "proc_fork.out").read_text()


@pytest.mark.parametrize("arch", ARCHES)
def test_execve_arguments_cloexec_scripts_errors(arch: str) -> None:
    r = qpp_run(str(BIN / f"proc_exec.{arch}"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (EXPECTED / "proc_exec.out").read_text()


def test_one_log_per_process_with_percent_d(tmp_path: Path) -> None:
    """``-D log.%d``: each process writes its own insn total; the exec'd children too."""
    r = qpp_run("-p", "insn", "-D", str(tmp_path / "log.%d"), str(BIN / "proc_exec.x86_64"))
    assert r.returncode == 0, r.stderr
    logs = sorted(tmp_path.glob("log.*"))
    # the parent, 5 children of run(), 3 more links of the exec chain share a pid, the
    # script's child: every process, exec'd or not, wrote exactly one total
    totals = {p.name: p.read_text() for p in logs}
    assert len(logs) == 7, totals
    for name, text in totals.items():
        assert re.fullmatch(r"total insns: \d+\n", text), (name, text)
    assert f"log.{r.args and ''}" not in totals  # names carry pids, not the pattern


def test_without_percent_d_all_processes_append_whole_lines(tmp_path: Path) -> None:
    log = tmp_path / "log"
    r = qpp_run("-p", "insn", "-D", str(log), str(BIN / "proc_fork.x86_64"))
    assert r.returncode == 0, r.stderr
    lines = log.read_text().splitlines()
    assert len(lines) == 1 + 11  # the parent and its eleven children, one total each
    assert all(re.fullmatch(r"total insns: \d+", line) for line in lines), lines


def _insn_total(tmp_path: Path, *args: str) -> int:
    log = tmp_path / "insn.log"
    r = subprocess.run(
        [*QPP, "run", "-p", "insn", "-D", str(log), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QPP_CACHE_DIR": str(tmp_path)},  # the guest's environment: empty, every link
    )
    assert r.returncode == 0, r.stderr
    return int(log.read_text().split()[-1])


@pytest.mark.parametrize("arch", ARCHES)
def test_exec_keeps_plugin_state_and_counts_stay_exact(arch: str, tmp_path: Path) -> None:
    """An exec chain of N links counts N+1 programs, each link exactly the same amount.

    Each link execs its own path with an empty environment, so every program of the chain
    starts from the same stack as a fresh run: the counts add up exactly.
    """
    binary = str(BIN / f"proc_exec.{arch}")
    # links 5, 4, 3 format the non-zero digits 4, 3, 2 (musl formats a 0 differently)
    t3, t4, t5 = (_insn_total(tmp_path, binary, "chain", str(n)) for n in (3, 4, 5))
    assert t3 < t4 < t5
    assert t5 - t4 == t4 - t3  # what one link runs before its execve


def test_exec_announces_each_program_to_plugins(tmp_path: Path) -> None:
    """drcov-style tools learn of each image: a plugin sees qpp_guest_exec per exec."""
    plugin = tmp_path / "site" / "execwatch.py"
    plugin.parent.mkdir()
    plugin.write_text(
        "from qpp_core import hookimpl\n"
        "qemu_plugin_version = 2\n"
        "@hookimpl\n"
        "def qpp_guest_exec(path, argv, arch, load_bias, entry):\n"
        "    import sys\n"
        "    sys.stderr.write(f'EXEC {arch} {argv[1:]} {entry > 0}\\n')\n"
    )
    dist = tmp_path / "site" / "execwatch-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: execwatch\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[qemu_plugins]\nexecwatch = execwatch\n[qemu_plugins.version]\nexecwatch = v2\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"), QPP_CACHE_DIR=str(tmp_path))
    r = subprocess.run(
        [*QPP, "run", "-p", "execwatch", str(BIN / "proc_exec.aarch64"), "chain", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "chain 2\nchain 1\nchain 0\n"
    assert [line for line in r.stderr.splitlines() if line.startswith("EXEC")] == [
        "EXEC aarch64 ['chain', '1'] True",
        "EXEC aarch64 ['chain', '0'] True",
    ]
