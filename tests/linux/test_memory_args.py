"""mmap, munmap, mprotect, madvise, mremap and brk: Linux's errno for every bad argument."""

from __future__ import annotations

import errno
import os
import random

import pytest
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.linux.syscalls.kernel import LinuxKernel


@pytest.mark.parametrize("arch", ARCHES)
def test_bad_arguments_give_linux_errno(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_mmap_args", arch))
    assert "anon huge                    ENOMEM" in r.stdout
    assert (r.stdout, r.status) == expected("mem_mmap_args", arch)


EDGES = [0, 1, 0xFFF, 0x1000, 0x1001, 1 << 31, (1 << 32) - 1, 1 << 32, 1 << 47, 1 << 63]


@pytest.mark.parametrize("arch", ["x86_64", "arm"])
def test_no_argument_crashes(arch: str) -> None:
    """Random and extreme arguments: each call returns an address or -errno, never raises."""
    m = load_guest(GuestOptions(binary=binary("mem_brk", arch)))
    k = m.kernel
    assert isinstance(k, LinuxKernel)
    mask = m.arch.mask
    rng = random.Random(7)
    fd = os.open(binary("mem_brk", arch), os.O_RDONLY)
    for name in (
        "mmap2" if arch == "arm" else "mmap",
        "munmap",
        "mprotect",
        "madvise",
        "mremap",
        "brk",
    ):
        for _ in range(30):
            args = tuple((rng.choice(EDGES) + rng.choice((0, 0, -1, 1))) & mask for _ in range(6))
            if name.startswith("mmap"):  # anonymous or a real file
                args = (*args[:3], args[3] & 0x3F, rng.choice((fd, mask)), args[5])
            ret = k.dispatch(0, name, args)  # type: ignore[arg-type]
            assert isinstance(ret, int)
            assert ret >= 0 or ret > -4096, (name, args, ret)
    os.close(fd)


def test_linux_answers_where_qemu_differs() -> None:
    """MAP_FIXED_NOREPLACE over a mapping is EEXIST and mprotect of length 0 succeeds."""
    m = load_guest(GuestOptions(binary=binary("mem_brk", "x86_64")))
    k = m.kernel
    assert isinstance(k, LinuxKernel)
    p = k.dispatch(9, "mmap", (0, 8192, 3, 0x22, (1 << 64) - 1, 0))
    assert p > 0
    assert k.dispatch(9, "mmap", (p, 4096, 3, 0x100022, (1 << 64) - 1, 0)) == -errno.EEXIST
    assert k.dispatch(10, "mprotect", (p, 0, 1, 0, 0, 0)) == 0
    assert k.dispatch(10, "mprotect", (p + 1, 0, 1, 0, 0, 0)) == -errno.EINVAL
