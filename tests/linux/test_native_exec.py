"""execve of a program for the host itself: the host runs it, as under qemu-user.

A guest's ``system()`` or ``popen()`` runs ``/bin/sh``, which on the host is a dynamically
linked host program qpp cannot load without ``-L``. qemu-user hands such an execve to the
host kernel, which runs it natively; qpp does the same once the plugins' atexit ran (the
process leaves qpp's sight), with the guest's ignored signals still ignored and the others
at their default action (Python ignores SIGPIPE: a native ``yes | head`` would complain).
In a ``--jail`` the host program is never run: the execve fails with ENOEXEC as before.
Busybox's awk (Debian's static build) on two targets makes the calls.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(__file__).resolve().parents[1] / "thirdparty" / "bin"
HOST_MACHINES = {"x86_64": 62, "aarch64": 183}


def _host_shell_is_native() -> bool:
    """Whether /bin/sh is an ELF for this host (what the tests exec)."""
    try:
        head = Path("/bin/sh").resolve().read_bytes()[:20]
    except OSError:
        return False
    machine = HOST_MACHINES.get(os.uname().machine)
    return head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == machine


pytestmark = pytest.mark.skipif(
    not _host_shell_is_native(), reason="/bin/sh is not a program for this host"
)

AWK = 'BEGIN { system("echo from-system $0"); "echo piped" | getline l; print l; print "r=" system("exit 3") }'


def _qpp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qpp_core", "run", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_system_and_popen_run_the_hosts_shell(arch: str, tmp_path: Path) -> None:
    log = tmp_path / "insn.log"
    r = _qpp("-p", "insn", "-D", str(log), str(BIN / f"busybox.{arch}"), "awk", AWK)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == "from-system sh\npiped\nr=3\n"
    # the three children that exec'd the shell ran the plugins' atexit first, awk at its exit
    counts = log.read_text().splitlines()
    assert len(counts) == 4 and all(line.startswith("total insns: ") for line in counts)


def test_the_host_program_gets_the_guests_signal_dispositions() -> None:
    """SIGINT the guest ignores stays ignored; SIGPIPE, ignored by qpp's Python but at its
    default in the guest, is at its default again (``yes`` dies of it quietly)."""
    script = "trap '' INT; exec /bin/sh -c 'kill -INT $$; echo survived; yes | head -1'"
    r = _qpp(str(BIN / "busybox.arm"), "sh", "-c", script)
    assert (r.returncode, r.stdout, r.stderr) == (0, "survived\ny\n", "")


def test_a_jail_never_runs_a_host_program() -> None:
    r = _qpp(
        "--jail", "/", str(BIN / "busybox.x86_64"), "sh", "-c", "exec /bin/sh -c 'echo native'"
    )
    assert "native" not in r.stdout
    assert r.returncode == 2  # ENOEXEC: busybox sh then reads the ELF as a script
