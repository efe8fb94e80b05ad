"""Dynamically linked guests with ``-L SYSROOT``: the PT_INTERP linker from the sysroot.

``guests/dyn.<arch>`` (built by ``guests/build.sh``) links glibc dynamically (PIE;
``dyn-nopie.<arch>`` at a fixed address); each arch
runs where its sysroot is installed (Debian's libc6-<arch>-cross gives /usr/<triplet>;
x86_64 uses the host's own libraries with ``-L /``) and is skipped otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from linux.guestrun import ARCHES, run_guest

from qpp_core.errors import BadBinaryError, HostError
from qpp_core.linux import GuestOptions, load_guest
from qpp_core.linux.elf import read_elf
from qpp_core.linux.fs import FileView

GUESTS = Path(__file__).resolve().parent / "guests"
SYSROOTS = {
    "x86_64": "/",
    "aarch64": "/usr/aarch64-linux-gnu",
    "arm": "/usr/arm-linux-gnueabihf",
    "riscv64": "/usr/riscv64-linux-gnu",
    "mipsel": "/usr/mipsel-linux-gnu",
}


def _dyn(arch: str, program: str = "dyn") -> tuple[str, str]:
    binary = str(GUESTS / f"{program}.{arch}")
    interp = read_elf(binary).interpreter
    assert interp is not None
    sysroot = SYSROOTS[arch]
    if not os.path.exists(os.path.join(sysroot, interp.lstrip("/"))):
        pytest.skip(f"no {arch} sysroot with {interp} under {sysroot}")
    return binary, sysroot


@pytest.mark.parametrize("program", ["dyn", "dyn-nopie"])
@pytest.mark.parametrize("arch", ARCHES)
def test_dynamic_program_runs_with_sysroot(
    arch: str, program: str, capfd: pytest.CaptureFixture[str]
) -> None:
    binary, sysroot = _dyn(arch, program)
    r = run_guest(capfd, binary, "a", "bb", sysroot=sysroot)
    assert (r.status, r.stdout) == (7, "dyn: 3 500500 bb\n")
    r = run_guest(capfd, binary, sysroot=sysroot)
    assert (r.status, r.stdout) == (0, f"dyn: 1 500500 {binary}\n")


def _auxv(m: Any) -> dict[int, int]:
    sp = m.read_register("sp")
    words = struct.unpack("<512Q", m.read_memory(sp, 512 * 8))
    i = 1 + words[0] + 1  # argc, argv..., NULL
    while words[i]:
        i += 1
    i += 1
    aux = {}
    while words[i]:
        aux[words[i]] = words[i + 1]
        i += 2
    return aux


def test_linker_mapped_and_started_first() -> None:
    binary, sysroot = _dyn("aarch64")
    m = load_guest(GuestOptions(binary=binary, sysroot=sysroot))
    aux = _auxv(m)
    at_base, at_entry, at_phdr = aux[7], aux[9], aux[3]
    program, linker = read_elf(binary), read_elf(os.path.join(sysroot, "lib/ld-linux-aarch64.so.1"))
    assert at_base and m.entry == at_base + linker.entry  # the linker runs first
    assert at_entry - at_phdr == program.entry - (
        program.phdr_vaddr or 0
    )  # AT_ENTRY: the program's
    regions = {(b, e, p) for b, e, p in m.uc.mem_regions()}
    assert any(b <= m.entry <= e and p & 4 for b, e, p in regions)


def test_without_sysroot_refused_with_hint() -> None:
    with pytest.raises(BadBinaryError, match="-L SYSROOT"):
        load_guest(GuestOptions(binary=str(GUESTS / "dyn.aarch64")))


def test_missing_linker_is_a_host_error(tmp_path: Path) -> None:
    binary = str(GUESTS / "dyn.riscv64")
    interp = read_elf(binary).interpreter
    assert interp is not None
    if os.path.exists(interp):
        pytest.skip(f"the host itself has {interp}")
    with pytest.raises(HostError, match="dynamic linker"):
        load_guest(GuestOptions(binary=binary, sysroot=str(tmp_path)))


def test_sysroot_redirects_existing_absolute_paths_only(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "only-in-sysroot").write_text("x")
    view = FileView("/bin/true", None, lambda line: None, str(tmp_path))
    assert view.host_path("/etc/only-in-sysroot") == f"{tmp_path}/etc/only-in-sysroot"
    assert view.host_path("/etc/passwd") == "/etc/passwd"  # falls through to the host
    assert view.host_path("/") == "/"
    assert view.host_path("etc/only-in-sysroot", follow=True).startswith(os.getcwd())
    assert FileView("/bin/true", None, lambda line: None, "/").sysroot is None


def _qemu_7_2(arch: str) -> bool:
    exe = shutil.which(f"qemu-{arch}")
    if exe is None:
        return False
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    return "version 7.2." in out


@pytest.fixture(scope="module")
def qemu_count_plugin(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The guests' minimal QEMU counting plugin, built with the host's cc (else skip)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler for the QEMU counting plugin")
    src = Path(__file__).resolve().parents[2] / "qpp_core/guests/tools/qemu_count_plugin.c"
    out = tmp_path_factory.mktemp("plugin") / "libcount.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(out), str(src)], check=True)
    return str(out)


# fixed-address programs share the placement code; x86_64 (IDT/GDT pages) stands for them
#: qpp's count minus qemu's where the CPUs differ on purpose: qemu-aarch64 7.2 advertises
#: HWCAP2_MTE, which unicorn cannot run, and glibc's init_cpu_features takes one more
#: instruction without it (qpp_core/machine/arch/aarch64.py)
CPU_DELTA = {"aarch64": 1}
COUNTED = [(arch, "dyn") for arch in ARCHES] + [("x86_64", "dyn-nopie")]


@pytest.mark.parametrize(("arch", "program"), COUNTED)
def test_dynamic_instruction_count_matches_qemu(
    arch: str, program: str, qemu_count_plugin: str
) -> None:
    """Linker placement, auxv and syscalls as qemu-user's: the same instruction count."""
    binary, sysroot = _dyn(arch, program)
    if not _qemu_7_2(arch):
        pytest.skip(f"qemu-{arch} 7.2 (the reference) not installed")
    cpu = ["-cpu", "qemu64"] if arch == "x86_64" else []
    plugin = ["-plugin", qemu_count_plugin, "-d", "plugin"]
    qemu = subprocess.run(
        [f"qemu-{arch}", *cpu, "-L", sysroot, *plugin, binary, "x"],
        capture_output=True,
        text=True,
        env={},
    )
    expected = re.search(r"insns (\d+)", qemu.stderr)
    assert expected is not None, qemu.stderr
    qpp_run = [sys.executable, "-m", "qpp_core", "run", "-U", "LC_CTYPE"]
    qpp = subprocess.run(
        [*qpp_run, *cpu, "-L", sysroot, "-p", "insn", binary, "x"],
        capture_output=True,
        text=True,
        env={},
    )
    assert (qpp.returncode, qpp.stdout) == (qemu.returncode, qemu.stdout)
    got = re.search(r"total insns: (\d+)", qpp.stderr)
    assert got is not None, qpp.stderr
    assert int(got.group(1)) == int(expected.group(1)) + CPU_DELTA.get(arch, 0)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/usr/bin/sort"], "a\nb\nc\n"),  # sort calls sysinfo (its buffer size)
        (["/bin/sh", "-c", "read x; echo sh:$x"], "sh:c\n"),
    ],
)
def test_host_dynamic_programs(
    argv: list[str], expected: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The host's own x86_64 programs run with ``-L /`` (the host as the sysroot)."""
    if os.uname().machine != "x86_64" or not os.path.exists(argv[0]):
        pytest.skip(f"needs an x86_64 host with {argv[0]}")
    stdin = tmp_path / "in"
    stdin.write_text("c\nb\na\n")
    saved = os.dup(0)
    with open(stdin) as f:
        os.dup2(f.fileno(), 0)
    try:
        r = run_guest(capfd, argv[0], *argv[1:], sysroot="/")
    finally:
        os.dup2(saved, 0)
        os.close(saved)
    assert (r.status, r.stdout) == (0, expected)
