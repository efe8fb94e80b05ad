"""Code that once took qpp down inside the engine runs, and gives qemu-user's output.

``cpu_sha`` computes SHA-1 and SHA-512 with fully unrolled rounds: on mipsel its
branch-free runs of thousands of instructions overran unicorn 2.1.4's MIPS translator
(one leaked TCG temporary per instruction) and the host process died with SIGSEGV.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, run_guest

from qpp_core.machine.arch.mipsel import LONG_RUN, long_runs

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"


def _digests(rounds: int) -> str:
    """What cpu_sha prints, computed with hashlib."""
    data = bytearray((i * 131 + (i >> 7)) & 0xFF for i in range(4096))
    d1 = d5 = b""
    for r in range(rounds):
        d1, d5 = hashlib.sha1(data).digest(), hashlib.sha512(data).digest()
        data[r % len(data)] ^= d1[0] ^ d5[0]
    return f"sha1   {d1.hex()}\nsha512 {d5.hex()}\n"


@pytest.mark.parametrize("arch", ARCHES)
def test_unrolled_hashes(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, str(BIN / f"cpu_sha.{arch}"), "2")
    assert (r.status, r.stdout) == (0, _digests(2))


def test_mipsel_hashes_in_a_fresh_process() -> None:
    """The crash killed the whole interpreter: run qpp as its own process to see it."""
    r = subprocess.run(
        [sys.executable, "-m", "qpp_core", "run", str(BIN / "cpu_sha.mipsel"), "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (r.returncode, r.stdout) == (0, _digests(1)), r.stderr


def test_long_runs_found() -> None:
    nop, branch = b"\0\0\0\0", (0x10000000).to_bytes(4, "little")  # sll $0,$0,0; b .
    code = nop * 10 + branch + nop * (LONG_RUN + 1) + branch + nop * LONG_RUN
    assert long_runs(0x1000, code) == [(0x1000 + 44, 0x1000 + 44 + 4 * LONG_RUN)]
    assert long_runs(0x1000, nop * (LONG_RUN + 2)) == [(0x1000, 0x1000 + 4 * (LONG_RUN + 1))]


_CRASH = """
import sys
import qpp_core.machine.arch as A
# without its block-splitting hook, mipsel cpu_sha crashes unicorn's translator for real
A.ARCHES["mipsel"] = A.ARCHES["mipsel"]._replace(hook_code_quirks=None)
from qpp_core.cli.main import main
sys.exit(main(["run", "-p", "insn", "-D", sys.argv[1], sys.argv[2], "1"]))
"""


def test_engine_crash_is_one_error_line_and_status_85(tmp_path: Path) -> None:
    log = tmp_path / "insn.log"
    r = subprocess.run(
        [sys.executable, "-c", _CRASH, str(log), str(BIN / "cpu_sha.mipsel")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 85
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("qpp: error: the engine crashed (SIGSEGV) near guest pc 0x")
    assert "(mipsel)" in lines[0]
    assert "total insns: " in log.read_text()  # the plugins' atexit ran, the log was flushed


def test_guard_restores_the_previous_handlers() -> None:
    from qpp_core.machine.crashguard import FATAL_SIGNALS, _sigaction, guard_fatal_signals

    before = [_sigaction(sig, None).handler for sig in FATAL_SIGNALS]
    with guard_fatal_signals(lambda: "nowhere"):
        during = [_sigaction(sig, None).handler for sig in FATAL_SIGNALS]
    after = [_sigaction(sig, None).handler for sig in FATAL_SIGNALS]
    assert before == after
    assert all(d not in before for d in during)
