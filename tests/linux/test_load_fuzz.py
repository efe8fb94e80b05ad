"""Random damage to a real guest's ELF and program headers never breaks qpp itself.

Each example overwrites a few bytes of the header region (ELF header plus program header
table) of hello.ARCH. qpp must then either refuse the file with one ``qpp: error:`` line
and a documented status (never 85, a qpp bug) or run it (the guest may well crash: that
is the guest's business), and must not hang. ``QPP_FUZZ_EXAMPLES=500`` searches harder than the default 8 per arch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linux.elfcraft import Elf
from linux.guestrun import ARCHES, guest

from qpp_core.errors import ExitStatus, QppError
from qpp_core.linux import GuestOptions, load_guest


def _damaged(original: bytes, header_end: int, edits: list[tuple[int, int]]) -> bytes:
    data = bytearray(original)
    for where, value in edits:
        data[where % header_end] = value
    return bytes(data)


@pytest.mark.parametrize("arch", ARCHES)
def test_damaged_headers(arch: str) -> None:
    path = guest("hello", arch)
    original = Path(path).read_bytes()
    elf = Elf.read(path)
    header_end = elf.header["phoff"] + elf.header["phnum"] * elf.header["phentsize"]

    @settings(
        max_examples=int(os.environ.get("QPP_FUZZ_EXAMPLES", "8")),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=4)
    )
    def check(edits: list[tuple[int, int]]) -> None:
        data = _damaged(original, header_end, edits)
        with tempfile.TemporaryDirectory() as tmp:
            prog = Path(tmp) / "prog"
            prog.write_bytes(data)
            prog.chmod(0o755)
            try:
                load_guest(GuestOptions(binary=str(prog)))
            except QppError as e:
                assert e.exit_status not in (ExitStatus.INTERNAL,), str(e)
                assert e.exit_status in (ExitStatus.BAD_BINARY, ExitStatus.HOST,
                                         ExitStatus.GUEST_UNSUPPORTED), str(e)  # fmt: skip
                assert "\n" not in str(e)
                return
            result = subprocess.run(
                [sys.executable, "-m", "qpp_core", "run", str(prog)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode != ExitStatus.INTERNAL, result.stderr
            assert "Traceback" not in result.stderr
            assert result.stderr.count("qpp: error:") <= 1, result.stderr

    check()
