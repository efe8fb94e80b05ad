"""Resource limits the guest sets and reads (tests/guests/src/proc_rlimits.c).

A limit the guest sets applies to qpp's process, as qemu-user applies it, except the
memory limits (``RLIMIT_AS``, ``RLIMIT_DATA``, ``RLIMIT_STACK``), which would bound qpp's
own memory: setting them succeeds and changes nothing. mips numbers five resources its own
way (``RLIMIT_NOFILE`` is 5 there, ``RLIMIT_AS`` 6), and its old ``getrlimit`` answers
RLIM_INFINITY as 0x7fffffff; qemu-user 7.2 prints what this test expects on all five
targets (with the host's ``RLIMIT_AS`` unlimited).
"""

from __future__ import annotations

import resource

import pytest
from linux.guestrun import ARCHES, qpp_run_guest

RAW_INFINITY = {
    "x86_64": "0xffffffffffffffff",
    "aarch64": "0xffffffffffffffff",
    "arm": None,  # no old getrlimit on EABI arm (ugetrlimit only)
    "riscv64": "0xffffffffffffffff",
    "mipsel": "0x7fffffff",
}


@pytest.mark.parametrize("arch", ARCHES)
def test_limits_set_and_read_back_in_the_guests_numbering(arch: str) -> None:
    soft_as = resource.getrlimit(resource.RLIMIT_AS)[0]
    if soft_as != resource.RLIM_INFINITY:
        pytest.skip("this host limits RLIMIT_AS: the expected words assume it does not")
    status, out, err = qpp_run_guest("proc_rlimits", arch)
    raw = RAW_INFINITY[arch]
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "nofile 100",  # applied, and told back in the guest's number
        "as inf",  # taken, not applied: the host's (unlimited) limit stays
        f"raw as {raw}" if raw else "raw as none",
        "prlimit64 as 0xffffffffffffffff",
    ]
