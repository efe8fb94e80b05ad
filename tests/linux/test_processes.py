"""Guest processes: fork, vfork, clone, wait, pipes and execve, on every architecture.

Each guest process is a host process, so these run ``qpp run`` in a subprocess (a fork
inside the test process would fork pytest).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from linux.guestrun import ARCHES

from qpp_core.guests import GUEST_DIR

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


@pytest.mark.parametrize("arch", ARCHES)
def test_spawn_vfork_execveat_groups_poll(arch: str) -> None:
    """posix_spawn, vfork's parent waiting, execveat, kill(-pgid), poll/select on pipes."""
    r = qpp_run(str(BIN / f"proc_spawn.{arch}"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (EXPECTED / "proc_spawn.out").read_text()


@pytest.mark.parametrize("arch", ARCHES)
def test_a_group_killed_right_after_its_forks_dies(arch: str) -> None:
    """kill(-pgid) at once after fork: CPython drops signals that reach a child before its
    after-fork hook, so qpp blocks them across the fork (once, a child paused forever)."""
    r = qpp_run(str(BIN / f"proc_spawn.{arch}"), "killrace")
    assert (r.returncode, r.stdout) == (0, "killed at once: 40\n"), r.stderr


@pytest.mark.parametrize("arch", ARCHES)
def test_posix_spawn_of_a_missing_program(arch: str) -> None:
    """musl reports the child's execve error through a pipe: ENOENT, as on Linux.

    glibc's child stores it in the memory it shares with its parent (CLONE_VM|CLONE_VFORK);
    qpp's vfork child has a copy, as qemu-user 7.2's (which forks): posix_spawn succeeds
    and the child exits 127, the result recorded from qemu-user.
    """
    r = qpp_run(str(BIN / f"proc_spawn.{arch}"), "missing")
    assert r.returncode == 0, r.stderr
    reference = "proc_spawn-missing.out" if arch == "x86_64" else "proc_spawn-missing.glibc"
    assert r.stdout == (EXPECTED / reference).read_text()


BUSYBOX = TESTS / "thirdparty" / "bin"


@pytest.mark.parametrize("arch", ARCHES)
def test_proc_pid_names_the_guest_in_a_child(arch: str) -> None:
    """/proc/PID/exe and /proc/PID/maps with a child's own pid show the guest, not Python.

    Debian's busybox: each inner ``sh`` is a forked child that execs busybox again, then
    ``exec``s the applet, keeping its pid: ``$$`` is the pid of the process that reads.
    """
    busybox = BUSYBOX / f"busybox.{arch}"
    script = "sh -c 'exec readlink /proc/$$/exe'; sh -c 'exec head -1 /proc/$$/maps'; true"
    r = subprocess.run(
        [*QPP, "run", str(busybox), "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={},
    )
    assert r.returncode == 0, r.stderr
    exe, maps = r.stdout.splitlines()
    assert exe == str(busybox)
    assert maps.endswith(f" {busybox}")


def _logs_by_pid(where: Path) -> list[int]:
    """The insn totals of ``where``'s ``log.PID`` files, in pid order (parent first)."""
    logs = sorted(where.glob("log.*"), key=lambda p: int(p.suffix[1:]))
    return [int(p.read_text().split()[-1]) for p in logs]


@pytest.mark.parametrize("arch", ARCHES)
def test_per_process_logs_count_each_exec_exactly(arch: str, tmp_path: Path) -> None:
    """``-p insn -D log.%d`` over fork+execve+wait: one log per process, exact counts.

    proc_exec forks twice; each child execs ./prog and the parent waits. A child's total is
    what it inherited at the fork (as in qemu-user, its plugins keep their state), plus
    its own work up to the execve, plus prog. Run twice with two different programs at
    the same path ./prog (hello, memloop): the parent's log must not change, and each
    child's total minus a single-process ``qpp run ./prog`` total must be the same for
    both programs, i.e. the exec'd program is counted exactly as a run of its own.
    """
    results = {}
    for name in ("hello", "memloop"):
        work = tmp_path / name
        work.mkdir()
        shutil.copy(GUEST_DIR / f"{name}.{arch}", work / "prog")
        env = {"QPP_CACHE_DIR": str(tmp_path)}  # the guest's environment: empty
        spawn = [str(BIN / f"proc_exec.{arch}"), "spawn", "2", "./prog"]
        r = subprocess.run(
            [*QPP, "run", "-p", "insn", "-D", "log.%d", *spawn], cwd=work, env=env, timeout=120
        )
        assert r.returncode == 0
        single = subprocess.run(
            [*QPP, "run", "-p", "insn", "-D", "one.log", "./prog"],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,  # as the spawned children's (dup2 of /dev/null)
            timeout=120,
        )
        assert single.returncode == 0
        parent, *children = _logs_by_pid(work)
        alone = int((work / "one.log").read_text().split()[-1])
        assert len(children) == 2
        results[name] = (parent, [c - alone for c in children])
    assert results["hello"] == results["memloop"]
    parent, (first, second) = results["hello"]
    assert 0 < first < second < parent  # the second fork inherits one more loop round


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
