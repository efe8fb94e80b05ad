"""madvise(MADV_DONTNEED): private pages lose their changes, as in Linux."""

from __future__ import annotations

import errno

import pytest
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.linux.syscalls.kernel import LinuxKernel


@pytest.mark.parametrize("arch", ARCHES)
def test_dontneed_gives_zeros_or_the_file(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_madvise", arch))
    assert "anon: a 0 a" in r.stdout and "file: f w" in r.stdout
    assert (r.stdout, r.status) == expected("mem_madvise", arch)


def test_dontneed_of_unmapped_memory_is_enomem() -> None:
    m = load_guest(GuestOptions(binary=binary("mem_brk", "riscv64")))
    k = m.kernel
    assert isinstance(k, LinuxKernel)
    assert k.dispatch(233, "madvise", (0x7000000, 4096, 4, 0, 0, 0)) == -errno.ENOMEM
    assert k.dispatch(233, "madvise", (0x7000000, 4096, 3, 0, 0, 0)) == 0  # a mere hint
