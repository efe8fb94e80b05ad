"""``/proc/self/maps`` shows the guest's address space (as qemu-user does), not qpp's."""

from __future__ import annotations

import os
import re

import pytest
from linux.guestrun import guest, run_guest

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.linux.maps import render_maps

LINE = re.compile(
    r"^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-]p) ([0-9a-f]{8}) [0-9a-f]{2}:[0-9a-f]{2} \d+"
)


def _lines(text: str) -> list[tuple[int, int, str, str]]:
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, line
        path = line[73:].strip() if len(line) > 73 else ""
        out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3), path))
    return out


@pytest.mark.parametrize("arch", ["aarch64", "arm"])
def test_static_guest_layout(arch: str) -> None:
    binary = guest("hello", arch)
    m = load_guest(GuestOptions(binary=binary))
    text = render_maps(m.kernel.memory)  # type: ignore[attr-defined]
    lines = _lines(text.decode())
    assert [s for s, *_ in lines] == sorted(s for s, *_ in lines)
    mine = [(perm, s) for s, _, perm, path in lines if path == os.path.realpath(binary)]
    assert any(perm == "r-xp" for perm, _ in mine)  # the text, from the file
    (stack,) = [(s, e) for s, e, _, path in lines if path == "[stack]"]
    assert stack[0] <= m.read_register("sp") < stack[1]
    if arch == "arm":  # qemu-user prints 32-bit addresses unpadded (Linux: 8 digits)
        assert text.decode().startswith("10000-")


def test_host_program_reads_guest_maps(capfd: pytest.CaptureFixture[str]) -> None:
    if os.uname().machine != "x86_64" or not os.path.exists("/bin/cat"):
        pytest.skip("needs an x86_64 host with /bin/cat")
    r = run_guest(capfd, "/bin/cat", "/proc/self/maps", sysroot="/")
    assert r.status == 0
    lines = _lines(r.stdout)
    paths = {path for *_, path in lines}
    assert os.path.realpath("/bin/cat") in paths and "[stack]" in paths
    assert any("libc.so" in p for p in paths) and "[vsyscall]" in paths
    assert all(s < 0x80_0000_0000 or p == "[vsyscall]" for s, _, _, p in lines)  # no host
