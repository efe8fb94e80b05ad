"""MAP_SHARED file mappings: stores reach the file, also when the guest just exits."""

from __future__ import annotations

from pathlib import Path

import pytest
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected


@pytest.mark.parametrize("arch", ARCHES)
def test_shared_file_mapping(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_shared", arch))
    assert "file sees store: hello" in r.stdout and "maps lines rw-s: 1" in r.stdout
    assert (r.stdout, r.status) == expected("mem_shared", arch)


@pytest.mark.parametrize("arch", ["x86_64", "mipsel"])
def test_stores_reach_the_file_at_exit(
    arch: str, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "data"
    target.write_bytes(b"-" * 100)
    r = run_guest(capfd, binary("mem_shared", arch), str(target))
    assert (r.stdout, r.status) == ("stored\n", 0)
    assert target.read_bytes() == b"-" * 10 + b"stored before exit" + b"-" * 72
