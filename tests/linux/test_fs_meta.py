"""Links, file times, sizes and advice (tests/guests/src/fs_meta.c): every result as
Linux gives it (``expected/fs_meta.out`` is qemu-user's output on all five targets, which
hands these calls to the host). ``touch``, ``ln``, ``cp -p`` and ``truncate`` once failed
with ENOSYS; the busybox case ``sh_links_times`` runs them against qemu-user too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest


@pytest.mark.parametrize("arch", ARCHES)
def test_links_times_sizes_as_linux(arch: str, tmp_path: Path) -> None:
    status, out, err = qpp_run_guest("fs_meta", arch, str(tmp_path))
    assert (status, err) == (0, "")
    assert out == expected("fs_meta")
