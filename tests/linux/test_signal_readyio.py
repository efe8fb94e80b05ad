"""A signal ends only a system call that waits (tests/guests/src/sig_readyio.c).

A 2 ms interval timer with a handler (no SA_RESTART) ticks while the guest reads
/dev/zero and a pipe holding data and writes /dev/null and a pipe with room: under Linux
(and qemu-user, whose output expected/sig_readyio.out is, the same on all five targets)
none of these calls waits, so none fails with EINTR. qpp once ended whichever read or
write a host signal came during (tens of EINTRs per run; a line of output lost now and
then in programs with timers).
"""

from __future__ import annotations

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest


@pytest.mark.parametrize("arch", ARCHES)
def test_reads_and_writes_that_do_not_wait_are_not_interrupted(arch: str) -> None:
    status, out, err = qpp_run_guest("sig_readyio", arch)
    assert (status, err) == (0, "")
    assert out == expected("sig_readyio")
