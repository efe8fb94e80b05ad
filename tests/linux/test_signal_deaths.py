"""A guest killed by a signal: qpp prints qemu-user 7.2's line (or nothing) and its status.

The expectations were recorded from qemu-ARCH runs of tests/guests/bin/files_raise.ARCH
(``raise(atoi(argv[1]))``) into tests/guests/expected/files_raise.txt; stop signals are
left out (they would stop the test process).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from linux.guestrun import run_guest

from qpp_core.machine.signals import uncaught_message

GUESTS = Path(__file__).resolve().parents[1] / "guests"


def _expected() -> list[tuple[str, int, int, str | None]]:
    rows = []
    for line in (GUESTS / "expected" / "files_raise.txt").read_text().splitlines():
        if line.startswith("#"):
            continue
        arch, sig, status, message = line.split(" ", 3)
        rows.append((arch, int(sig), int(status), None if message == "-" else message))
    return rows


EXPECTED = _expected()


@pytest.mark.parametrize(
    ("arch", "sig", "status", "message"),
    EXPECTED,
    ids=[f"{a}-{s}" for a, s, _, _ in EXPECTED],
)
def test_raise_matches_qemu(
    arch: str, sig: int, status: int, message: str | None, capfd: pytest.CaptureFixture[str]
) -> None:
    if sig >= 32 and (status or sig == 64):
        # qemu-user 7.2 moves target real-time signals two up on the host (glibc keeps
        # 32 and 33) and cannot deliver 64 at all; qpp's status is the one Linux gives
        status = 128 + sig
    r = run_guest(capfd, str(GUESTS / "bin" / f"files_raise.{arch}"), str(sig))
    assert r.stdout.startswith(f"raising {sig}\n")
    assert (r.status, r.message) == (status, message)
    if status == 0:
        assert r.stdout.endswith(f"survived {sig}\n")
    else:
        assert "survived" not in r.stdout


def test_message_only_for_core_signals() -> None:
    assert uncaught_message("x86_64", 15) is None
    assert uncaught_message("x86_64", 31) is None  # SIGSYS: qemu does not dump core for it
    assert uncaught_message("riscv64", 11) is None  # qemu has no riscv core dump
    assert uncaught_message("riscv64", 11, "bad access") == "qpp: bad access"
    assert (
        uncaught_message("mipsel", 7) == "qemu: uncaught target signal 10 (Bus error) - core dumped"
    )
