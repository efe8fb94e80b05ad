"""madvise(MADV_DONTNEED): private pages lose their changes, as in Linux."""

from __future__ import annotations

import errno

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.linux.memory import PAGE
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


@settings(max_examples=25, deadline=None)
@example(dirty=[(0, b"a"), (255, b"b"), (256, b"c"), (300, b"d")], first=0, count=301)
@example(dirty=[(254, b"a"), (255, b"b" * 64)], first=255, count=1)
@given(
    dirty=st.lists(st.tuples(st.integers(0, 300), st.binary(min_size=1, max_size=64)), max_size=12),
    first=st.integers(0, 299),
    count=st.integers(1, 300),
)
def test_dontneed_zeroes_exactly_the_range(
    dirty: list[tuple[int, bytes]], first: int, count: int
) -> None:
    """Pages are zeroed sparsely (only the dirty ones are written, over more than one
    read chunk): afterwards the range reads as zeros and the pages around it are intact."""
    m = load_guest(GuestOptions(binary=binary("mem_brk", "x86_64")))
    k = m.kernel
    assert isinstance(k, LinuxKernel)
    pages = 301
    base = k.dispatch(9, "mmap", (0, pages * PAGE, 3, 0x22, -1, 0))
    assert base > 0
    shadow = bytearray(pages * PAGE)
    for page, data in dirty:
        at = page * PAGE + (len(data) * 37) % (PAGE - len(data) + 1)
        m.uc.mem_write(base + at, data)
        shadow[at : at + len(data)] = data
    count = min(count, pages - first)
    assert k.dispatch(28, "madvise", (base + first * PAGE, count * PAGE, 4, 0, 0, 0)) == 0
    shadow[first * PAGE : (first + count) * PAGE] = bytes(count * PAGE)
    assert bytes(m.uc.mem_read(base, pages * PAGE)) == bytes(shadow)
