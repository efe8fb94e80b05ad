"""mremap: shrink, grow in place, move (MREMAP_MAYMOVE, MREMAP_FIXED), bad arguments."""

from __future__ import annotations

import pytest
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected


@pytest.mark.parametrize("arch", ARCHES)
def test_mremap(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_mremap", arch))
    assert "grow moving: ok moved 1 kept 1" in r.stdout
    assert (r.stdout, r.status) == expected("mem_mremap", arch)
