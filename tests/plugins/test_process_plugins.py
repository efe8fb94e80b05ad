"""Plugins and command-line options in every guest process (fork and execve).

Debian's busybox (tests/thirdparty) is the guest: its shell forks a child per subshell,
execs itself for ``sh -c`` and applets. Each case is a ``qpp run`` subprocess.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
BUSYBOX = TESTS / "thirdparty" / "bin" / "busybox.{}"
ARCHES = ("x86_64", "aarch64", "arm", "riscv64", "mipsel")
QPP = [sys.executable, "-m", "qpp_core", "run"]


def qpp(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*QPP, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env or {}
    )


WATCH = """\
import os, sys
from qpp_core import hookimpl
qemu_plugin_version = 2
@hookimpl
def qemu_plugin_flush():
    sys.stderr.write(f"FLUSH {os.getpid()}\\n")
@hookimpl
def qpp_guest_exec(path, argv, arch, load_bias, entry):
    sys.stderr.write(f"EXEC {os.getpid()} {argv}\\n")
@hookimpl
def qemu_plugin_atexit():
    sys.stderr.write(f"EXIT {os.getpid()}\\n")
"""


def _site(tmp_path: Path) -> dict[str, str]:
    """A fake installed plugin ``watch`` that reports flushes, execs and exits by pid."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "watch.py").write_text(WATCH)
    dist = site / "watch-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: watch\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[qemu_plugins]\nwatch = watch\n[qemu_plugins.version]\nwatch = v2\n"
    )
    return {"PYTHONPATH": str(site), "QPP_CACHE_DIR": str(tmp_path / "cache")}


@pytest.mark.parametrize("arch", ARCHES)
def test_exec_flushes_then_announces_in_the_process_that_execs(arch: str, tmp_path: Path) -> None:
    """A forked child that execs: flush, then qpp_guest_exec, in that child; atexit per
    process."""
    env = _site(tmp_path)
    script = "sh -c 'exit 4'; echo st=$?"
    r = subprocess.run(
        [*QPP, "-p", "watch", str(BUSYBOX).format(arch), "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "st=4\n"
    events = [line.split(" ", 2) for line in r.stderr.splitlines()]
    flushes = [pid for kind, pid, *_ in events if kind == "FLUSH"]
    execs = [(pid, rest[0]) for kind, pid, *rest in events if kind == "EXEC"]
    exits = [pid for kind, pid, *_ in events if kind == "EXIT"]
    # one child, which exec'd busybox once; the shell itself never exec'd
    assert len(execs) == 1 and execs[0][1] == "['sh', '-c', 'exit 4']", r.stderr
    child = execs[0][0]
    assert flushes == [child]
    kinds = [(kind, pid) for kind, pid, *_ in events]
    assert kinds.index(("FLUSH", child)) < kinds.index(("EXEC", child))
    assert len(set(exits)) == 2 and child in exits  # atexit in the child and the shell


@pytest.mark.parametrize("arch", ["x86_64", "riscv64"])
def test_qpp_exports_and_callbacks_work_in_every_process(arch: str) -> None:
    """qpp_srv's exit callback, handled by qpp_client's function, in each process.

    qpp_srv fails the run (status 81) in any process where nobody handled my_on_exit.
    """
    pytest.importorskip("qpp_client", reason="needs the qpp-srv and qpp-client distributions")
    script = "(exit 0); sh -c 'exit 0'; echo done"
    r = qpp("-p", "qpp_client", str(BUSYBOX).format(arch), "sh", "-c", script)
    assert (r.returncode, r.stdout) == (0, "done\n"), r.stderr
    # the shell, the subshell, the child that exec'd busybox: three processes
    assert r.stderr.count("QPP client: my_on_exit callback was called\n") == 3, r.stderr
    assert r.stderr.count("QPP srv: my_on_exit was handled\n") == 3, r.stderr


@pytest.mark.parametrize("arch", ARCHES)
def test_strace_lines_carry_each_process_pid(arch: str) -> None:
    """-strace in every process, each line with the pid of the process that made the call."""
    r = qpp("-strace", str(BUSYBOX).format(arch), "sh", "-c", "(exit 3); echo $?")
    assert (r.returncode, r.stdout) == (0, "3\n"), r.stderr
    # lines of two processes interleave on the one stderr, as under qemu-user: a call
    # that blocks (the shell's wait4) prints its result after the child's lines
    shell = r.stderr.split()[0]
    children = set(re.findall(r"(\d+) exit_group\(3\)", r.stderr))
    assert len(children) == 1 and shell not in children, r.stderr
    (child,) = children
    # the shell's fork returns the child's pid, which the child's own lines carry
    assert re.search(rf"^{shell} (clone|fork|vfork)\(", r.stderr, re.M), r.stderr
    assert re.search(rf"= {child}$", r.stderr, re.M), r.stderr


@pytest.mark.parametrize("arch", ARCHES)
def test_jail_and_environment_apply_to_every_process(arch: str, tmp_path: Path) -> None:
    """--jail confines forked and exec'd children; -E/-U shape the environment they inherit.

    busybox runs its applets by exec'ing /proc/self/exe, so it must lie inside the jail.
    """
    (tmp_path / "inside.txt").write_text("in\n")
    busybox = tmp_path / "busybox"  # the program itself inside: children exec it
    shutil.copy(str(BUSYBOX).format(arch), busybox)
    script = (
        "cat inside.txt; cat /etc/hostname; echo cat=$?;"
        ' sh -c "echo \\$FOO \\${HOME:-nohome}; exec cat /etc/passwd"; echo exec=$?'
    )
    r = qpp(
        "--jail",
        str(tmp_path),
        "-E",
        "FOO=bar",
        "-U",
        "HOME",
        str(busybox),
        "sh",
        "-c",
        script,
        cwd=tmp_path,
        env={"HOME": "/root"},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "in\ncat=1\nbar nohome\nexec=1\n"
    refused = [line for line in r.stderr.splitlines() if line.startswith("qpp: jail: refused")]
    assert [line.split()[3] for line in refused] == ["'/etc/hostname'", "'/etc/passwd'"]


def test_sysroot_applies_to_exec_d_programs() -> None:
    """-L: a guest's execve of a dynamically linked program finds its libraries there."""
    if os.uname().machine != "x86_64" or not os.path.exists("/bin/true"):
        pytest.skip("needs an x86_64 host with /bin/true")
    busybox = str(BUSYBOX).format("x86_64")
    script = "/bin/true; echo st=$?"
    under = qpp("-strace", "-L", "/", busybox, "sh", "-c", script)
    assert under.stdout == "st=0\n"
    assert "libc.so.6" in under.stderr  # qpp ran it: its dynamic linker opened the C library
    # without -L the host runs its own program natively, as under qemu-user (README)
    without = qpp("-strace", busybox, "sh", "-c", script)
    assert without.stdout == "st=0\n"
    assert "libc.so.6" not in without.stderr
