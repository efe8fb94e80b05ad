"""A periodic timer faster than qpp delivers its signal (tests/guests/src/sig_fasttimer.c).

Every 100 us: the guest's handler makes a system call in each of 300 ticks, then disarms
the timer. qpp once took away the block hook that stops the engine for the timer's signal
whenever the host's ``getitimer`` read 0 between an expiry and the reload; the signals
then stopped the engine from outside, which can make unicorn skip a ``syscall`` (the
handler's ``rt_sigreturn``: the guest ran past its restorer and crashed, on x86_64 in
about one run in three). And the host timer outlived a guest that died with it armed:
qpp itself was killed by SIGALRM (status 142) while the plugins' atexit ran.

The expected output is qemu-user's on aarch64, arm, riscv64 and mipsel (qemu-user 7.2 on
x86_64 crashes with SIGSEGV in this program).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from linux.guestrun import ARCHES, TEST_GUESTS, expected, qpp_run_guest


@pytest.mark.parametrize("arch", ARCHES)
def test_a_timer_faster_than_delivery_neither_crashes_nor_hangs(arch: str) -> None:
    status, out, err = qpp_run_guest("sig_fasttimer", arch)
    assert (status, err) == (0, "")
    assert out == expected("sig_fasttimer")


@pytest.mark.parametrize("arch", ARCHES)
def test_the_guests_timer_ends_with_the_guest(arch: str) -> None:
    """The guest dies of SIGSEGV with the timer running: its status is SIGSEGV's, and the
    plugin's atexit ran (the count is printed)."""
    status, out, err = qpp_run_guest("sig_fasttimer", arch, "crash", options=("-p", "insn"))
    assert status == 139, err
    assert out == "crashing\n"
    assert "write to unmapped address" in err and "total insns: " in err


#: runs qpp as if the native library had not been built (its loader finds nothing), and
#: notes whether the stop hook qpp installed for the timer was the pure-Python one
_WITHOUT_NATIVE = """
import sys
import qpp_core.instrument.backend as backend
from qpp_core.machine.blockstop import BlockStop
backend._load = lambda: (None, "hidden by the test")
kinds = []
install = BlockStop._install
def spy(self, uc):
    install(self, uc)
    kinds.append("python" if self._py_hook is not None else "native")
BlockStop._install = spy
from qpp_core.cli.main import main
status = main(["run", *sys.argv[1:]])
sys.stdout.flush()
sys.stderr.write(" ".join(sorted(set(kinds))))
sys.exit(status)
"""


@pytest.mark.parametrize("arch", ["x86_64", "arm"])
def test_the_pure_python_stop_hook_without_the_native_library(arch: str) -> None:
    """The machine's own stop hook is native whenever the library was built (whatever
    QPP_BACKEND says); without it, its Python twin stops the engine the same way."""
    r = subprocess.run(
        [sys.executable, "-c", _WITHOUT_NATIVE, str(TEST_GUESTS / "bin" / f"sig_fasttimer.{arch}")],
        capture_output=True,
        text=True,
        timeout=300,
        # a QPP_BACKEND=native cell would rightly refuse to run without the library
        env={k: v for k, v in os.environ.items() if k != "QPP_BACKEND"},
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, expected("sig_fasttimer"), "python")
