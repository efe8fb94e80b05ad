"""The ABI tables (qpp_core.abi): generated numbers, the one signature table, the casts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import qpp_core.abi
from qpp_core.abi import ALL_NAMES, CLASSES, KINDS, NUMBERS, SIGNATURES, SYSNO, signature
from qpp_core.abi.numbers import numbers, sysno
from qpp_core.abi.signatures import declared
from qpp_core.abi.truncation import CastRows, apply, casts
from qpp_core.linux.syscalls.numbers import NUMBERS as KERNEL_NUMBERS
from qpp_core.linux.syscalls.registry import all_handlers

ROOT = Path(__file__).resolve().parents[2]
BITS = {"x86_64": 64, "aarch64": 64, "riscv64": 64, "arm": 32, "mipsel": 32}
HEADERS = [
    "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
    "/usr/aarch64-linux-gnu/include/asm/unistd.h",
    "/usr/riscv64-linux-gnu/include/asm/unistd.h",
    "/usr/arm-linux-gnueabihf/include/asm/unistd.h",
    "/usr/mipsel-linux-gnu/include/asm/unistd.h",
]


@pytest.mark.skipif(
    shutil.which("cpp") is None or not all(Path(h).exists() for h in HEADERS),
    reason="needs cpp and the linux-libc-dev(-ARCH-cross) headers",
)
def test_generated_modules_are_what_the_headers_say() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_syscall_numbers.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("arch", list(BITS))
def test_every_number_has_one_kernel_name(arch: str) -> None:
    table = NUMBERS[arch]
    assert KERNEL_NUMBERS[arch] is table
    assert len(table) > 300
    for nr, name in table.items():
        assert nr >= 0 and name.isidentifier() and name == name.lower(), (nr, name)
    assert len(set(table.values())) == len(table)  # no name twice
    assert all(SYSNO[arch][name] == nr for nr, name in table.items())


@pytest.mark.parametrize(
    ("arch", "known"),
    [
        ("x86_64", {"read": 0, "openat": 257, "rseq": 334, "io_uring_setup": 425, "semop": 65}),
        ("aarch64", {"openat": 56, "renameat": 38, "fstat": 80, "newfstatat": 79, "mmap": 222}),
        ("riscv64", {"openat": 56, "riscv_flush_icache": 259, "fstat": 80, "mmap": 222}),
        ("arm", {"openat": 322, "mmap2": 192, "set_tls": 0xF0005, "breakpoint": 0xF0001}),
        ("mipsel", {"syscall": 4000, "write": 4004, "openat": 4288, "cacheflush": 4147}),
    ],
)
def test_numbers_are_the_architectures(arch: str, known: dict[str, int]) -> None:
    assert {name: SYSNO[arch].get(name) for name in known} == known


def test_per_architecture_conditionals_are_resolved() -> None:
    # asm-generic: 64-bit targets get fstat/newfstatat/mmap, not the 32-bit *64 names;
    # riscv64 does not want renameat (aarch64 does); only arm has its private calls
    for arch in ("aarch64", "riscv64"):
        assert not {"fstat64", "fstatat64", "mmap2", "open", "fork"} & set(SYSNO[arch])
    assert "renameat" not in SYSNO["riscv64"]
    assert "riscv_flush_icache" not in SYSNO["aarch64"]
    assert "get_tls" in SYSNO["arm"] and "get_tls" not in SYSNO["mipsel"]


def test_every_handled_call_has_a_number_and_a_signature() -> None:
    names = set(all_handlers())
    assert names <= ALL_NAMES, names - ALL_NAMES
    assert names <= set(SIGNATURES), names - set(SIGNATURES)
    assert set(SIGNATURES) <= ALL_NAMES, set(SIGNATURES) - ALL_NAMES


def test_common_calls_have_signatures() -> None:
    common = [
        "clone",
        "clone3",
        "execve",
        "wait4",
        "waitid",
        "socket",
        "connect",
        "accept4",
        "sendto",
        "recvfrom",
        "poll",
        "ppoll",
        "select",
        "pselect6",
        "epoll_wait",
        "rt_sigaction",
        "rt_sigprocmask",
        "kill",
        "tgkill",
        "futex",
        "sched_getaffinity",
        "io_uring_setup",
    ]
    assert [n for n in common if n not in SIGNATURES] == []


def test_signatures_follow_the_kernels_declarations() -> None:
    def ctypes(name: str) -> list[str]:
        return [p.ctype for p in signature(name)]

    assert ctypes("read") == ["uint", "ptr", "size"]  # (unsigned int fd, char *, size_t)
    assert ctypes("openat") == ["int", "str", "int", "u16"]  # (int dfd, ..., umode_t)
    assert ctypes("kill") == ["int", "int"]  # (pid_t, int)
    assert ctypes("lseek") == ["uint", "long", "uint"]  # (unsigned int, off_t, unsigned int)
    assert ctypes("readv") == ["ulong", "ptr", "ulong"]  # (unsigned long fd, ...)
    assert [p.kind for p in signature("openat")] == ["dirfd", "str", "oflags", "mode"]
    for params in SIGNATURES.values():
        assert all(p.ctype in CLASSES and p.kind in KINDS for p in params)
        assert len(params) <= 6
    assert signature("no_such_call") == signature("another") and len(signature("x")) == 6


def test_casts_narrow_int_arguments_on_64_bit_targets() -> None:
    openat = casts("x86_64", 64)[257]
    glibc = (0xFFFF_FF9C, 0x4000, 0xDEAD_BEEF_0000_0241, 0xDEAD_BEEF_0000_01A0, 7, 8)
    assert apply(glibc, openat, 64) == (
        0xFFFF_FFFF_FFFF_FF9C,  # AT_FDCWD: -100 sign-extended
        0x4000,  # the path pointer, full width
        0x241,
        0x1A0,
        7,
        8,
    )
    write = casts("aarch64", 64)[SYSNO["aarch64"]["write"]]
    assert apply((1 << 32 | 1, 1 << 40, 1 << 33, 0, 0, 0), write, 64) == (
        1,
        1 << 40,
        1 << 33,  # size_t: full width
        0,
        0,
        0,
    )


def test_casts_on_32_bit_targets_only_narrow_umode_t() -> None:
    arm = casts("arm", 32)
    assert SYSNO["arm"]["write"] not in arm  # int is the word: nothing to do
    mkdir = arm[SYSNO["arm"]["mkdirat"]]
    assert apply((0xFFFF_FF9C, 0x1000, 0x1_01ED, 0, 0, 0), mkdir, 32)[::2] == (
        0xFFFF_FF9C,
        0x1ED,
        0,
    )
    # a loff_t pair moves the arguments after it: such calls are left alone on 32-bit
    assert SYSNO["arm"]["pread64"] not in arm
    assert SYSNO["x86_64"]["pread64"] in casts("x86_64", 64)


def test_calls_without_narrow_arguments_cost_nothing() -> None:
    table = casts("x86_64", 64)
    for name in ("mmap", "brk", "munmap", "getpid", "set_tid_address", "io_submit"):
        assert SYSNO["x86_64"][name] not in table


@pytest.mark.parametrize("arch", sorted(BITS))
def test_rows_worked_out_per_call_equal_the_whole_table(arch: str) -> None:
    """The kernel's per-number rows (parsed on a call's first use) are the table's rows."""
    rows = CastRows(arch, BITS[arch])
    whole = casts(arch, BITS[arch])
    for nr in [*NUMBERS[arch], 0x7FFF_FFFF]:  # and a number no architecture has
        assert rows[nr] == whole.get(nr)
    assert {nr: r for nr, r in rows.items() if r is not None} == whole


def test_the_lazy_tables_are_the_per_architecture_ones() -> None:
    """``NUMBERS``/``SYSNO``/``SIGNATURES`` are built on first access from the same data a
    run reads one architecture (and one call) at a time."""
    for arch in BITS:
        assert NUMBERS[arch] is numbers(arch) and SYSNO[arch] == sysno(arch)
    assert {n for arch in BITS for n in numbers(arch).values()} == ALL_NAMES
    for name, params in SIGNATURES.items():
        assert declared(name) == params
    assert declared("no_such_call") is None
    with pytest.raises(KeyError):
        numbers("vax")
    with pytest.raises(AttributeError):
        _ = qpp_core.abi.NO_SUCH_TABLE  # type: ignore[attr-defined]
