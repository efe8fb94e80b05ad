"""eventfd, memfd, timerfd, sendfile and copy_file_range (tests/guests/src/fd_kinds.c).

They once answered ENOSYS (runtimes use eventfd and timerfd for their event loops; ``cat``
and ``cp`` use sendfile and copy_file_range). ``expected/fd_kinds.out`` is qemu-user's
output on all five targets, which passes the calls to the host.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest


@pytest.mark.parametrize("arch", ARCHES)
def test_descriptors_without_a_path_and_copies(arch: str, tmp_path: Path) -> None:
    status, out, err = qpp_run_guest("fd_kinds", arch, str(tmp_path))
    assert (status, err) == (0, "")
    assert out == expected("fd_kinds")
