"""x86_64 CPUID: ``-cpu qemu64`` answers as qemu-user 7.2's ``qemu64`` model, the default
(``max``) as qemu-user 7.2's default less what unicorn cannot execute.

glibc's start-up reads CPUID to pick string routines and cache sizes; any difference
changes its instruction count (and code paths) against qemu-user. The test guest
``guests/cpuid.x86_64`` (built by ``guests/build.sh``) prints ``LEAF.SUB: RAX RBX RCX RDX``
for the leaves glibc reads.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from linux.guestrun import run_guest

from qpp_core.machine.arch.x86_64 import max_cpuid, qemu64_cpuid

CPUID_GUEST = str(Path(__file__).resolve().parent / "guests" / "cpuid.x86_64")


def _parse(text: str) -> dict[tuple[int, int], tuple[int, ...]]:
    answers = {}
    for line in text.splitlines():
        key, regs = line.split(": ")
        leaf, sub = key.split(".")
        answers[(int(leaf, 16), int(sub, 16))] = tuple(int(r, 16) for r in regs.split())
    return answers


def test_cpuid_matches_qemu64_table(capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, CPUID_GUEST, cpu="qemu64")
    assert r.status == 0
    answers = _parse(r.stdout)
    assert len(answers) > 30
    for (leaf, sub), regs in answers.items():
        # full 64-bit registers: CPUID clears the upper halves the guest preloaded
        assert regs == qemu64_cpuid(leaf, sub), f"leaf {leaf:#x}.{sub}"
    assert answers[(0, 0)][1:] == (0x68747541, 0x444D4163, 0x69746E65)  # "AuthenticAMD"
    assert answers[(1, 0)][0] == 0x60FB1
    assert answers[(0x80000006, 0)][3] == 0x00808140  # the L3 glibc's cacheinfo reads


@pytest.mark.parametrize("cpu", [None, "max", "MAX"])
def test_default_is_max(cpu: str | None, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, CPUID_GUEST, cpu=cpu)
    assert r.status == 0
    answers = _parse(r.stdout)
    for (leaf, sub), regs in answers.items():
        assert regs == max_cpuid(leaf, sub), f"leaf {leaf:#x}.{sub}"
    ecx1 = answers[(1, 0)][2]
    for bit in (9, 19, 20, 23):  # SSSE3, SSE4.1, SSE4.2, POPCNT
        assert ecx1 >> bit & 1
    for bit in (12, 26, 27, 28, 29):  # FMA, XSAVE, OSXSAVE, AVX, F16C: unicorn cannot
        assert not ecx1 >> bit & 1
    ebx7 = answers[(7, 0)][1]
    assert ebx7 >> 19 & 1  # ADX
    assert not ebx7 >> 5 & 1 and not ebx7 >> 16 & 1  # AVX2, AVX512F
    assert answers[(0xD, 0)] == (0, 0, 0, 0)  # no XSAVE state components


def test_other_models_keep_unicorns_cpuid(capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, CPUID_GUEST, cpu="haswell")
    assert r.status == 0
    assert _parse(r.stdout)[(0, 0)][1:] == (0x756E6547, 0x6C65746E, 0x49656E69)  # GenuineIntel


def _qemu_7_2() -> bool:
    if shutil.which("qemu-x86_64") is None:
        return False
    out = subprocess.run(["qemu-x86_64", "--version"], capture_output=True, text=True).stdout
    return "version 7.2." in out


@pytest.mark.skipif(not _qemu_7_2(), reason="qemu-user 7.2 (the reference) not installed")
def test_cpuid_table_matches_real_qemu(capfd: pytest.CaptureFixture[str]) -> None:
    binary = CPUID_GUEST
    real = subprocess.run(
        ["qemu-x86_64", "-cpu", "qemu64", binary], capture_output=True, text=True, check=True
    )
    assert run_guest(capfd, binary, cpu="qemu64").stdout == real.stdout


@pytest.mark.skipif(not _qemu_7_2(), reason="qemu-user 7.2 (the reference) not installed")
def test_max_is_qemus_default_less_what_unicorn_cannot_run(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Every bit of the default is qemu's default's (qemu-x86_64 without -cpu is ``max``)."""
    real = _parse(
        subprocess.run(
            ["qemu-x86_64", CPUID_GUEST], capture_output=True, text=True, check=True
        ).stdout
    )
    ours = _parse(run_guest(capfd, CPUID_GUEST).stdout)
    assert ours[(0, 0)] == real[(0, 0)]  # vendor, highest leaf
    for key in [(1, 0), (7, 0), (0x80000001, 0)]:
        for mine, theirs in zip(ours[key][2:], real[key][2:], strict=True):
            assert mine & ~theirs == 0, f"leaf {key}: bits qemu's default does not have"
    assert real[(1, 0)][2] >> 28 & 1  # qemu's default has AVX, which unicorn cannot run
