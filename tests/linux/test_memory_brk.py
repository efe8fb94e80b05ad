"""brk as Linux and qemu-user give it: page-by-page growth, exact breaks, zeroed regrowth."""

from __future__ import annotations

import pytest
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected


@pytest.mark.parametrize("arch", ARCHES)
def test_brk_grows_page_by_page(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_brk", arch))
    assert "grew 64 pages" in r.stdout
    assert (r.stdout, r.status) == expected("mem_brk", arch)
