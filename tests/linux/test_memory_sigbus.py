"""Touching a file mapping past the file's last page kills the guest with SIGBUS."""

from __future__ import annotations

import os
import signal

import pytest
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.linux.maps import render_maps
from qpp_core.linux.syscalls.kernel import LinuxKernel


@pytest.mark.parametrize("arch", ARCHES)
def test_read_past_eof_is_sigbus(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_sigbus", arch))
    assert (r.stdout, r.status) == expected("mem_sigbus", arch)
    assert r.status == 135 and r.signal == signal.SIGBUS
    number = 10 if arch == "mipsel" else 7
    assert r.message is not None
    line = f"qemu: uncaught target signal {number} (Bus error) - core dumped"
    # qemu-user 7.2 prints no line for any death on riscv64 (tests/guests/expected/files_raise)
    assert (line in r.message) == (arch != "riscv64")


def test_maps_show_pages_past_eof_as_mapped(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "f")
    with open(path, "wb") as f:
        f.write(b"x" * 100)
    m = load_guest(GuestOptions(binary=binary("mem_brk", "aarch64")))
    k = m.kernel
    assert isinstance(k, LinuxKernel)
    fd = os.open(path, os.O_RDONLY)
    try:
        where = k.dispatch(222, "mmap", (0, 3 * 4096, 1, 2, fd, 0))
    finally:
        os.close(fd)
    assert where > 0
    line = next(x for x in render_maps(k.memory).decode().splitlines() if x.endswith(path))
    assert line.startswith(f"{where:x}-{where + 3 * 4096:x} r--p 00000000 ")
    assert k.memory.fault_signal(where + 4096) == signal.SIGBUS
    assert k.memory.fault_signal(where) is None
