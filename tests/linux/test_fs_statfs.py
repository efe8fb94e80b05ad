"""File-system statistics (tests/guests/src/fs_statfs.c) against the host's own answer.

``df`` and ``stat -f`` once failed with ENOSYS. The guest's ``statfs``, ``fstatfs`` and
``statvfs`` of ``/`` (``statfs64`` on the 32-bit targets, and there the raw 32-bit call,
whose layout differs on mips) must give the type, sizes, block count and name length the
host's ``stat -f`` gives. The same program under qemu-user prints the same lines.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from linux.guestrun import ARCHES, qpp_run_guest


def _host(path: str) -> list[str]:
    if shutil.which("stat") is None:
        pytest.skip("no stat command on this host")
    out = subprocess.run(
        ["stat", "-f", "-c", "%t %s %S %b %l", path], capture_output=True, text=True, check=True
    )
    return out.stdout.split()


@pytest.mark.parametrize("arch", ARCHES)
def test_statfs_gives_the_hosts_file_system_in_the_guests_layout(arch: str) -> None:
    ftype, bsize, frsize, blocks, namelen = _host("/")
    status, out, err = qpp_run_guest("fs_statfs", arch, "/")
    assert (status, err) == (0, "")
    fields = f"{ftype} {bsize} {frsize} {blocks} {namelen}"
    want = [
        f"statfs {fields}",
        f"fstatfs {fields}",
        f"statvfs {bsize} {frsize} {blocks} {namelen}",
        "statfs missing 1",
        "fstatfs badfd 1",
    ]
    if arch in ("arm", "mipsel"):
        want.append(f"raw32 {fields}" if int(blocks) < 1 << 32 else "raw32 errno EOVERFLOW")
    assert out.splitlines() == want
