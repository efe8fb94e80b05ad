"""Instruction counts of Debian's busybox, as qemu-user's insn plugin gives them.

``tests/thirdparty/insns.tsv`` holds ``total insns`` of a few busybox runs that start no
other process, per architecture, under qemu-user 7.2 with the counting plugin of
``tools/qemu_insn_plugin.py`` (one inline add per instruction). Both sides run busybox
the same way (glibc's start-up depends on it), as ``tests/linux/sigcounts.py`` runs the
signal guests: an empty environment, stdout a pipe, the binary copied to a fresh
directory whose path has a fixed length, ``/`` as the working directory (ash reads it),
and the same CPU model: ``-cpu cortex-a57`` on
aarch64 (qemu's default advertises MTE, which unicorn cannot run) and ``-cpu qemu64`` on
x86_64 (qemu-x86_64's default; glibc picks its string functions by the CPU's features).

A third-party program's start-up asks things our own guests do not (busybox asks
``prctl(PR_GET_NAME)``: qpp once answered EINVAL, and glibc took another path, 8 to 15
instructions off on three targets).

Record with qemu-ARCH and gcc installed: ``python tests/thirdparty/insncounts.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLE = HERE / "insns.tsv"
ARCHES = ["x86_64", "aarch64", "arm", "riscv64", "mipsel"]
#: busybox runs that start no other process and whose count is the same on every run (not
#: ``sh``: ash's count varies from run to run under qemu-user too)
RUNS = [
    ("true",),
    ("echo", "hi"),
    ("printf", "%s=%d\\n", "answer", "42"),
    ("basename", "/a/b.c", ".c"),
]
CPU = {"aarch64": ("-cpu", "cortex-a57"), "x86_64": ("-cpu", "qemu64")}


def key(args: tuple[str, ...]) -> str:
    return " ".join(args)


def expected() -> dict[tuple[str, str], int]:
    """(run, arch) -> qemu-user's count."""
    table = {}
    for line in TABLE.read_text().splitlines():
        if line and not line.startswith("#"):
            run, arch, count = line.split("\t")
            table[run, arch] = int(count)
    return table


@contextmanager
def placed(arch: str) -> Iterator[str]:
    """busybox copied to a fresh directory whose path has a fixed length."""
    with tempfile.TemporaryDirectory(prefix="qpp-bbc-", dir="/tmp") as tmp:
        path = os.path.join(tmp, f"busybox.{arch}")
        shutil.copy(HERE / "bin" / f"busybox.{arch}", path)
        yield path


def total(stderr: str) -> int:
    """The one process's ``total insns``."""
    (line,) = [s for s in stderr.splitlines() if s.startswith("total insns: ")]
    return int(line.split()[-1])


def qpp_count(arch: str, args: tuple[str, ...], backend: str) -> tuple[str, int]:
    """stdout and the count of ``qpp run -p insn`` on ``backend``, run as qemu-user was."""
    with placed(arch) as path:
        r = subprocess.run(
            [
                *(sys.executable, "-m", "qpp_core", "run", "-U", "LC_CTYPE", "-U", "QPP_BACKEND"),
                *(*CPU.get(arch, ()), "-p", "insn", path, *args),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={"QPP_BACKEND": backend},
            cwd="/",  # ash reads its working directory; and no source tree in the cwd
        )
    assert r.returncode == 0, r.stderr
    return r.stdout, total(r.stderr)


def record() -> None:
    sys.path.insert(0, str(HERE.parents[1] / "tools"))
    from qemu_insn_plugin import build

    with tempfile.TemporaryDirectory() as tmp:
        plugin = build(Path(tmp))
        assert plugin is not None, "recording needs gcc"
        lines = ["# run\tarch\tqemu-user's total insns (see tests/thirdparty/insncounts.py)"]
        for args in RUNS:
            for arch in ARCHES:
                with placed(arch) as path:
                    command = [f"qemu-{arch}", *CPU.get(arch, ()), "-plugin", plugin]
                    r = subprocess.run(
                        [*command, "-d", "plugin", path, *args],
                        capture_output=True,
                        text=True,
                        env={},
                        check=True,
                        cwd="/",
                    )
                lines.append(f"{key(args)}\t{arch}\t{total(r.stderr)}")
        TABLE.write_text("\n".join(lines) + "\n")
        print(f"recorded {TABLE}")


if __name__ == "__main__":
    record()
