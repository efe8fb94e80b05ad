"""The guest's own /proc/self files (tests/guests/src/proc_self.c).

``cmdline``, ``environ``, ``auxv`` and ``stat`` under ``/proc/self`` describe the guest, as
on Linux (the program's checks pass natively on an x86_64 host): they once showed qpp's
Python process, its command line, its auxiliary vector and its name. The program compares
each file with what it knows of itself (argv, environ, getauxval, getpid, getppid,
prctl's name) and prints a line per check.
"""

from __future__ import annotations

import pytest
from linux.guestrun import ARCHES, qpp_run_guest

CHECKS = ["cmdline", "pid-cmdline", "environ", "auxv"]


@pytest.mark.parametrize("arch", ARCHES)
def test_the_guests_proc_self_files_describe_the_guest(arch: str) -> None:
    status, out, err = qpp_run_guest("proc_self", arch, "one", "two words")
    name = f"proc_self.{arch}"[:15]  # the kernel's 16-byte comm
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        *(f"ok {check}" for check in CHECKS),
        f"ok stat {name}",
        "ok stat renamed",
        "ok rewritten",
    ]
