"""/proc/self/maps after typical mappings is the text qemu-user prints."""

from __future__ import annotations

import pytest
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected

VSYSCALL = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"


@pytest.mark.parametrize("arch", ARCHES)
def test_maps_as_qemu_prints_them(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_maps", arch))
    want, status = expected("mem_maps", arch)
    if arch == "x86_64":  # qemu-user 7.2 lists the vsyscall page twice; Linux and qpp once
        lines = want.splitlines(keepends=True)
        assert sum(line.startswith(VSYSCALL) for line in lines) == 2
        want = "".join(lines[:-1])
    assert (r.stdout, r.status) == (want, status)
