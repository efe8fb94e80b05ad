"""Run the memory test guests (tests/guests/bin/mem_*) and compare with qemu-user's output.

Expected results live in tests/guests/expected/NAME.ARCH: the guest's stdout, then one
line ``[status N]``. Record them from qemu-user (installed as qemu-ARCH) with
``python tests/linux/memguests.py NAME [ARG...]``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GUESTS = Path(__file__).resolve().parents[1] / "guests"
ARCHES = ["x86_64", "aarch64", "arm", "riscv64", "mipsel"]


def binary(name: str, arch: str) -> str:
    path = GUESTS / "bin" / f"{name}.{arch}"
    if not path.exists():
        pytest.skip(f"{path.name} not built")
    return str(path)


def expected(name: str, arch: str) -> tuple[str, int]:
    """qemu-user's stdout and exit status for guest ``name`` on ``arch``."""
    text = (GUESTS / "expected" / f"{name}.{arch}").read_text()
    body, _, tail = text.rpartition("[status ")
    return body, int(tail.split("]")[0])


def record(name: str, *args: str) -> None:
    for arch in ARCHES:
        proc = subprocess.run(
            [f"qemu-{arch}", str(GUESTS / "bin" / f"{name}.{arch}"), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        status = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        out = GUESTS / "expected" / f"{name}.{arch}"
        out.write_text(f"{proc.stdout}[status {status}]\n")
        print(f"{out.name}: status {status}")


if __name__ == "__main__":
    record(sys.argv[1], *sys.argv[2:])
