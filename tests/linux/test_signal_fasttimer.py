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

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest


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
