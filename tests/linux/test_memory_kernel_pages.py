"""Pages the kernel provides: arm's kuser helpers and x86_64's vsyscall entry points."""

from __future__ import annotations

import pytest
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected


@pytest.mark.parametrize("arch", ARCHES)
def test_kernel_pages(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_kernel_pages", arch))
    assert (r.stdout, r.status) == expected("mem_kernel_pages", arch)
    if arch == "arm":
        assert "cmpxchg64 0 1 w=300000004" in r.stdout
    if arch == "x86_64":
        assert r.stdout.startswith("time 1 stored 1 gettimeofday 0 1 getcpu 0 1")
