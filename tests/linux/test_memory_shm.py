"""SysV shared memory: host segments attached into the guest, as qemu-user does."""

from __future__ import annotations

import pytest
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected


@pytest.mark.parametrize("arch", ARCHES)
def test_shm(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_shm", arch))
    assert "second attachment sees: shared" in r.stdout and "maps lines: 2" in r.stdout
    assert (r.stdout, r.status) == expected("mem_shm", arch)
