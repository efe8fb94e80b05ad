"""strace (qpp-strace) over syscalls (qpp-syscalls) on probe's ``file`` subcommand.

The expected lines are what ``qemu-ARCH -strace probe.ARCH file PATH`` (qemu 7.2) prints,
rewritten with the formatting differences qpp_strace documents (no PID, ``, ``, buffers
as strings, ``-1 ENAME (message)``, unpadded pointers, ``= ?`` for exit_group).
Addresses of stack buffers are not compared.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("qpp_strace", reason="qpp-strace is not installed (tox -e strace installs it)")

P = '"probe.txt"'
OPEN_W = {"x86_64": f"open({P}, O_WRONLY|O_CREAT|O_TRUNC|O_LARGEFILE, 0644) = 3"}
OPEN_R = {"x86_64": f"open({P}, O_RDONLY|O_LARGEFILE) = 3"}
SEEK = {
    "arm": "_llseek(3, 0, 6, ADDR, SEEK_SET) = 0",
    "mipsel": "_llseek(3, 0, 6, ADDR, SEEK_SET) = 0",
}
STAT = {
    "x86_64": "fstat(3, ADDR) = 0",
    "aarch64": 'newfstatat(3, "", ADDR, AT_EMPTY_PATH) = 0',
    "riscv64": 'newfstatat(3, "", ADDR, AT_EMPTY_PATH) = 0',
    "arm": 'statx(3, "", AT_NO_AUTOMOUNT|AT_EMPTY_PATH, 0x7ff, ADDR) = 0',
    "mipsel": 'statx(3, "", AT_NO_AUTOMOUNT|AT_EMPTY_PATH, 0x7ff, ADDR) = 0',
}
OLD_STYLE = ("x86_64", "arm", "mipsel")  # unlink/access rather than unlinkat/faccessat


def expected(arch: str) -> list[str]:
    at = "" if arch in OLD_STYLE else "AT_FDCWD, "
    openat = "open(" if arch == "x86_64" else "openat(AT_FDCWD, "
    return [
        OPEN_W.get(arch, f"{openat}{P}, O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3"),
        'write(3, "hello from the qpp probe guest!\\n", 32) = 32',
        "close(3) = 0",
        'write(1, "file: wrote 32\\n", 15) = 15',
        OPEN_R.get(arch, f"{openat}{P}, O_RDONLY) = 3"),
        SEEK.get(arch, "lseek(3, 6, SEEK_SET) = 6"),
        'write(1, "file: lseek 6\\n", 14) = 14',
        'read(3, "from the qpp probe", 18) = 18',
        "write(1, \"file: read 'from the qpp probe'\\n\", 32) = 32",
        STAT[arch],
        'write(1, "file: size 32\\n", 14) = 14',
        "close(3) = 0",
        f"{'unlink' if arch in OLD_STYLE else 'unlinkat'}({at}{P}{'' if at == '' else ', 0'}) = 0",
        f"{'access' if arch in OLD_STYLE else 'faccessat'}({at}{P}, F_OK) = "
        "-1 ENOENT (No such file or directory)",
        'write(1, "file: unlink ok\\n", 16) = 16',
        "exit_group(0) = ?",
    ]


def _tail(log: str) -> list[str]:
    lines = log.splitlines()
    start = next(i for i, x in enumerate(lines) if "probe.txt" in x)
    return [re.sub(r"0x[0-9a-f]{6,}", "ADDR", x) for x in lines[start:]]


@pytest.mark.parametrize(
    "arch",
    ["aarch64", "riscv64", *OLD_STYLE],
)
def test_strace_prints_what_qemu_strace_prints(qpp_run: Any, arch: str) -> None:
    run = qpp_run("probe", arch, "strace", args=("file", "probe.txt"), log_file=False)
    assert run.status == 0, run.stderr
    assert run.stdout.endswith("file: unlink ok\n")
    assert _tail(run.log) == expected(arch)


@pytest.mark.parametrize("arch", ["x86_64", "arm", "mipsel"])
def test_strace_matches_qemu_apart_from_the_access_result(qpp_run: Any, arch: str) -> None:
    run = qpp_run("probe", arch, "strace", args=("file", "probe.txt"), log_file=False)
    got, want = _tail(run.log), expected(arch)
    assert [x for x in got if not x.startswith("access(")] == [
        x for x in want if not x.startswith("access(")
    ]


def test_strace_trace_uses_the_per_call_callbacks(qpp_run: Any) -> None:
    run = qpp_run(
        "probe",
        "aarch64",
        "strace,trace=close,trace=lseek",
        args=("file", "probe.txt"),
        log_file=False,
    )
    assert run.log.splitlines() == ["close(3) = 0", "lseek(3, 6, SEEK_SET) = 6", "close(3) = 0"]


def test_strace_strsize_cuts_long_strings(qpp_run: Any) -> None:
    run = qpp_run(
        "probe",
        "riscv64",
        "strace,strsize=5,trace=write",
        args=("file", "probe.txt"),
        log_file=False,
    )
    assert run.log.splitlines()[0] == 'write(3, "hello"..., 32) = 32'


def test_strace_loads_syscalls_first_and_errors_are_named(qpp_run: Any) -> None:
    run = qpp_run("hello", "aarch64", "strace")
    assert run.status == 0
    assert "set_robust_list(ADDR, 24) = -1 ENOSYS (Function not implemented)" in [
        re.sub(r"0x[0-9a-f]{6,}", "ADDR", x) for x in run.log.splitlines()
    ]
    assert "brk(NULL) = 0x" in run.log


def test_syscalls_decodes_with_the_one_abi_table() -> None:
    from qpp_core.abi import NUMBERS
    from qpp_syscalls import plugin

    plugin._s.arch, plugin._s.bits, plugin._s.table = "x86_64", 64, NUMBERS["x86_64"]
    event = plugin.decode(257, (0xFFFF_FFFF_FFFF_FF9C, 0x1000, 0x241, 0o640, 0, 0))
    assert [(a.name, a.kind, a.value) for a in event.args] == [
        ("dfd", "dirfd", -100),
        ("filename", "str", 0x1000),
        ("flags", "oflags", 0x241),
        ("mode", "mode", 0o640),
    ]
    # an unsigned int fd of 0xffffffff is -1 to the reader, as strace shows it
    assert plugin.decode(0, (0xFFFF_FFFF, 0, 0, 0, 0, 0)).args[0].value == -1
    assert plugin.signature("kill") == (("int", "pid"), ("int", "sig"))
    assert plugin.syscall_name(425) == "io_uring_setup"
