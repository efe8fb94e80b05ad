"""Ids, groups, nice values, scheduling and CPU times (tests/guests/src/proc_creds.c).

``id -G``, ``time`` and ``nice`` once failed with ENOSYS. The guest's answers are the host
process's, as under qemu-user (which prints the same lines): its groups and ids, a nice
value it sets (the raw ``getpriority`` answering 20 - nice, as the kernel does), the
policy and SCHED_FIFO's range, and CPU time counted by ``times``. musl (the x86_64 build)
answers ``sched_getscheduler`` and ``sched_getparam`` with ENOSYS itself, on Linux too.
"""

from __future__ import annotations

import os

import pytest
from linux.guestrun import ARCHES, qpp_run_guest


@pytest.mark.parametrize("arch", ARCHES)
def test_ids_groups_nice_and_times_are_the_hosts(arch: str) -> None:
    if os.getpriority(os.PRIO_PROCESS, 0) > 5 and os.geteuid() != 0:
        pytest.skip("the guest sets nice 5: this process is niced beyond it")
    status, out, err = qpp_run_guest("proc_creds", arch)
    assert (status, err) == (0, "")
    musl = arch == "x86_64"
    assert out.splitlines() == [
        f"groups {len(os.getgroups())} 1",
        "resuid {} {} {}".format(*os.getresuid()),
        "resgid {} {} {}".format(*os.getresgid()),
        "nice 5",
        "raw getpriority 15",
        "policy -1" if musl else f"policy {os.sched_getscheduler(0)}",
        "fifo range 1 99",
        "param -1 7" if musl else "param 0 0",
        "times 1",
    ]
