"""Instruction counts of the signal guests, as qemu-user's insn plugin gives them.

``tests/guests/expected/sig_insns.tsv`` holds, per guest run and architecture, the
``total insns`` of each process (a forking guest has two) under qemu-user 7.2 with a
counting plugin (one inline add per instruction, as QEMU's tests/plugin/insn.c with
``inline=on``). Only runs whose signals are all synchronous are recorded: raise, kill and
sigqueue of itself, faults, traps, SIGCHLD and SIGPIPE. ``sig_spin`` is a timer
interrupting a compute loop, so its count depends on how many ticks came: the file holds
its count with a timer that never fires (``8``) and, as ``sig_spin per-tick``, what one
tick adds (its handler and the return through sigreturn), measured from a qemu-user run
where the timer fired: any run's count must be ``base + ticks * per_tick``.

Both sides run the guest the same way, because glibc's start-up depends on it: an empty
environment, stdout a pipe, the binary copied to a fresh ``/tmp/qpp-sigc-XXXXXXXX``
directory (glibc reads its path from /proc/self/exe; only the length matters, and it is
fixed), and on aarch64 ``-cpu cortex-a57``: qemu-user's default model advertises MTE,
which unicorn cannot run, and glibc's start-up differs without it; cortex-a57 is the same
CPU on both.

Record with qemu-ARCH and gcc installed: ``python tests/linux/sigcounts.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GUESTS = Path(__file__).resolve().parents[1] / "guests"
TABLE = GUESTS / "expected" / "sig_insns.tsv"
ARCHES = ["x86_64", "aarch64", "arm", "riscv64", "mipsel"]

#: (guest, arguments): runs whose every signal is synchronous
RUNS = [
    ("sig_handlers", ()),
    ("sig_faults", ("live",)),
    ("sig_traps", ()),
    ("sig_frames", ("sync",)),
    ("sig_queue", ("sync",)),
    ("sig_spin", ("8",)),
]

CPU = {"aarch64": ("-cpu", "cortex-a57")}

_TOTAL = re.compile(r"^total insns: (\d+)$", re.M)


def key(guest: str, args: tuple[str, ...]) -> str:
    return " ".join((guest, *args))


def expected() -> dict[tuple[str, str], list[int]]:
    """(run, arch) -> qemu-user's count of each process, sorted."""
    table = {}
    for line in TABLE.read_text().splitlines():
        if line and not line.startswith("#"):
            run, arch, counts = line.split("\t")
            table[run, arch] = [int(n) for n in counts.split(",")]
    return table


@contextmanager
def placed(guest: str, arch: str) -> Iterator[str]:
    """The guest binary copied to a fresh directory whose path has a fixed length."""
    with tempfile.TemporaryDirectory(prefix="qpp-sigc-", dir="/tmp") as tmp:
        path = os.path.join(tmp, f"{guest}.{arch}")
        shutil.copy(GUESTS / "bin" / f"{guest}.{arch}", path)
        yield path


def counts(stderr: str) -> list[int]:
    """Every process's ``total insns``, sorted."""
    return sorted(int(n) for n in _TOTAL.findall(stderr))


def qpp_counts(guest: str, arch: str, args: tuple[str, ...], backend: str) -> tuple[str, list[int]]:
    """stdout and the counts of ``qpp run -p insn`` on ``backend``, run as qemu-user was."""
    with placed(guest, arch) as path:
        r = subprocess.run(
            [
                *(sys.executable, "-m", "qpp_core", "run", "-U", "LC_CTYPE", "-U", "QPP_BACKEND"),
                *(*CPU.get(arch, ()), "-p", "insn", path, *args),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={"QPP_BACKEND": backend},
            cwd=os.path.dirname(path),  # the installed qpp, not a source tree in the cwd
        )
    assert r.returncode == 0, r.stderr
    return r.stdout, counts(r.stderr)


def _qemu(plugin: str, guest: str, arch: str, args: tuple[str, ...]) -> tuple[str, list[int]]:
    with placed(guest, arch) as path:
        r = subprocess.run(
            [f"qemu-{arch}", *CPU.get(arch, ()), "-plugin", plugin, "-d", "plugin", path, *args],
            capture_output=True,
            text=True,
            env={},
            check=True,
        )
    return r.stdout, counts(r.stderr)


def record() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
        from qemu_insn_plugin import build

        plugin = build(Path(tmp))
        assert plugin is not None, "recording needs gcc"
        lines = ["# run\tarch\tqemu-user's total insns per process (see tests/linux/sigcounts.py)"]
        for guest, args in RUNS:
            for arch in ARCHES:
                _out, found = _qemu(plugin, guest, arch, args)
                lines.append(f"{key(guest, args)}\t{arch}\t{','.join(map(str, found))}")
        for arch in ARCHES:  # one tick's instructions: a run where the timer fired
            _out, (base,) = _qemu(plugin, "sig_spin", arch, ("8",))
            out, (total,) = _qemu(plugin, "sig_spin", arch, ("1",))
            ticks = int(out)
            assert ticks > 0 and (total - base) % ticks == 0, (arch, ticks, total, base)
            lines.append(f"sig_spin per-tick\t{arch}\t{(total - base) // ticks}")
        TABLE.write_text("\n".join(lines) + "\n")
        print(f"recorded {TABLE}")


if __name__ == "__main__":
    record()
