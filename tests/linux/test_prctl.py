"""prctl's common options answered as qemu-user 7.2 answers them (tests/guests/src/
proc_prctl.c, expected/proc_prctl.out recorded from qemu-user, the same on all five
targets): the thread name, the parent-death signal, dumpable, no_new_privs, keepcaps,
timer slack, and EINVAL where qemu gives it (seccomp, the child subreaper).

Each run is a subprocess: the options without pointers change the host process, as
under qemu-user (the guest is that process), and must not change the test session's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.linux.syscalls.kernel import LinuxKernel

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"


@pytest.mark.parametrize("arch", ARCHES)
def test_prctl_options_as_qemu_user(arch: str) -> None:
    status, out, err = qpp_run_guest("proc_prctl", arch)
    assert (status, err) == (0, "")
    assert out == expected("proc_prctl")


def test_a_process_starts_named_after_its_file_and_set_name_truncates() -> None:
    """Before any PR_SET_NAME, PR_GET_NAME gives the program's file name cut to 15
    characters, as Linux names a process at execve (qemu-user gives its own host
    thread's name); PR_SET_NAME keeps 15 characters too."""
    m = load_guest(GuestOptions(binary=str(BIN / "proc_prctl.riscv64")))
    k = m.kernel
    assert isinstance(k, LinuxKernel)
    buf = m.uc.reg_read(m.arch.sp) - 256
    assert k.dispatch(167, "prctl", (16, buf, 0, 0, 0, 0)) == 0  # PR_GET_NAME
    assert bytes(m.uc.mem_read(buf, 16)) == b"proc_prctl.risc\0"
    m.uc.mem_write(buf, b"0123456789abcdefXYZ\0")
    assert k.dispatch(167, "prctl", (15, buf, 0, 0, 0, 0)) == 0  # PR_SET_NAME
    m.uc.mem_write(buf, bytes(32))
    assert k.dispatch(167, "prctl", (16, buf, 0, 0, 0, 0)) == 0
    assert bytes(m.uc.mem_read(buf, 16)) == b"0123456789abcde\0"
