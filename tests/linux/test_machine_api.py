"""The Machine surface other layers use: registers, memory, symbols, restart, stop, counting."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest
import unicorn
from linux.guestrun import ARCHES, guest, run_guest

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.machine import ARCHES as ARCH_TABLE


@pytest.mark.parametrize("arch", ARCHES)
def test_registers_and_memory(arch: str) -> None:
    m = load_guest(GuestOptions(binary=guest("hello", arch)))
    assert m.arch.name == arch
    sp_name = "rsp" if arch == "x86_64" else "sp"
    sp = m.read_register(sp_name)
    argc = m.read_memory(sp, m.arch.bits // 8)
    assert int.from_bytes(argc, "little") == 1
    m.write_memory(sp, argc)
    m.read_register("rip" if arch == "x86_64" else "pc")
    m.write_register(sp_name, sp)
    with pytest.raises(ValueError):
        m.read_register("no_such_register")


@pytest.mark.parametrize("arch", ARCHES)
def test_symbols(arch: str) -> None:
    m = load_guest(GuestOptions(binary=guest("compute", arch)))
    main = m.symbols.address_of("main")
    assert main is not None and m.symbol_at(main) == "main"


def test_seed_makes_at_random_deterministic() -> None:
    def at_random(seed: int | None) -> bytes:
        m = load_guest(GuestOptions(binary=guest("hello", "x86_64"), seed=seed))
        sp = m.read_register("rsp")
        n = (m.arch.stack_base + 0x1000 + (8 << 20) - 8 - sp) // 8
        words = struct.unpack(f"<{n}Q", m.read_memory(sp, n * 8))
        i = 1 + words[0] + 1
        while words[i]:
            i += 1
        i += 1
        while words[i]:
            if words[i] == 25:
                return m.read_memory(words[i + 1], 16)
            i += 2
        raise AssertionError("no AT_RANDOM")

    assert at_random(42) == at_random(42) != at_random(43)


def test_strace_lines(capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, guest("hello", "x86_64"), strace=True)
    assert r.status == 0
    lines = r.stderr.splitlines()
    assert any(
        (" write(1," in line and line.endswith(" = 19")) or " write(1," in line for line in lines
    )
    assert lines[-1].endswith("exit_group(0)")


def test_unknown_syscall_counted_and_reported(capfd: pytest.CaptureFixture[str]) -> None:
    binary = guest("hello", "x86_64-glibc")  # glibc calls rseq, which qemu-user 7.2 lacks
    report = io.StringIO()
    m = load_guest(
        GuestOptions(binary=binary, cpu="qemu64", debug=frozenset({"unimp"})), stderr=report
    )
    assert m.run().status == 0
    capfd.readouterr()
    assert m.kernel.unknown[334] == 1  # type: ignore[attr-defined]
    assert "unsupported syscall: 334" in report.getvalue()


class _Observer:
    def __init__(self) -> None:
        self.seen: list[int] = []

    def enter(self, num: int, args: tuple[int, ...]) -> int | None:
        self.seen.append(num)
        return -38 if num == 39 else None  # getpid skipped: -ENOSYS

    def leave(self, num: int, ret: int) -> None:
        self.seen.append(-ret if num == 39 else 0)


def test_syscall_observer(capfd: pytest.CaptureFixture[str]) -> None:
    m = load_guest(GuestOptions(binary=guest("hello", "x86_64")))
    obs = _Observer()
    m.syscall_observer = obs
    assert m.run().status == 0
    assert 1 in obs.seen and 231 in obs.seen  # write, exit_group
    capfd.readouterr()


@pytest.mark.parametrize("arch", ARCHES)
def test_request_restart_resumes(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    m = load_guest(GuestOptions(binary=guest("compute", arch), args=("1",)))
    main = m.symbols.address_of("main")
    if main is None:
        pytest.skip("stripped")
    hits: list[int] = []

    def on_main(uc: Any, addr: int, size: int, data: Any) -> None:
        hits.append(addr)
        if len(hits) == 1:
            m.request_restart()

    m.uc.hook_add(unicorn.UC_HOOK_CODE, on_main, None, main, main)
    assert m.run().status == 0
    assert "digest" in capfd.readouterr().out
    assert hits and hits[0] == main


def test_stop_reraises_reason(capfd: pytest.CaptureFixture[str]) -> None:
    m = load_guest(GuestOptions(binary=guest("compute", "x86_64")))
    main = m.symbols.address_of("main")
    assert main is not None

    def on_main(uc: Any, addr: int, size: int, data: Any) -> None:
        m.stop(RuntimeError("plugin failed"))

    m.uc.hook_add(unicorn.UC_HOOK_CODE, on_main, None, main, main)
    with pytest.raises(RuntimeError, match="plugin failed"):
        m.run()
    capfd.readouterr()


def test_count_insns() -> None:
    a = ARCH_TABLE
    assert a["x86_64"].count_insns(bytes.fromhex("4889e590c3"), False) == 3
    assert a["aarch64"].count_insns(bytes(12), False) == 3
    assert a["mipsel"].count_insns(bytes(8), False) == 2
    assert a["arm"].count_insns(bytes(8), False) == 2
    # Thumb: a 16-bit movs, then a 32-bit bl (first halfword 0xf000), then 16-bit bx lr
    thumb = struct.pack("<HHHH", 0x2001, 0xF000, 0xF800, 0x4770)
    assert a["arm"].count_insns(thumb, True) == 3
    # riscv: c.nop (2 bytes) + addi (4 bytes)
    assert a["riscv64"].count_insns(bytes.fromhex("010013050000"), False) == 2


def test_arch_metadata() -> None:
    for name, arch in ARCH_TABLE.items():
        assert arch.qemu_target == name
        assert arch.sp in arch.registers.values() and arch.pc in arch.registers.values()
        assert arch.cs_mode(False) is not None
