"""Tests for qpp's own guest binaries (qpp_core/guests).

Static checks (always run): every expected binary is committed, is a static
ELF of the right machine and class, is stripped or not as documented, and
matches bin/SHA256SUMS.  Behaviour checks run each guest under qemu-user and
compare with the documented output; they are skipped where qemu-ARCH is not
installed (e.g. CI), since qpp must not depend on it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from qpp_core import guests
from qpp_core.guests import ARCHES, GUEST_DIR, PROGRAMS

ALL_BINARIES: list[tuple[str, str]] = [(p, a) for p in PROGRAMS for a in ARCHES] + [
    ("hello", "x86_64-glibc")
]
STRIPPED = {"hello", "probe"}
QEMU_TIMEOUT = 60


def _ids(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{p}.{a}" for p, a in pairs]


# --------------------------------------------------------------------------- static


@pytest.mark.parametrize(("program", "arch"), ALL_BINARIES, ids=_ids(ALL_BINARIES))
def test_binary_is_static_elf_of_right_machine(program: str, arch: str) -> None:
    """Each binary exists and is a static executable for the arch in its name."""
    path = guests.guest_path(program, arch)
    machine, bits = guests.ELF_MACHINES[arch]
    with path.open("rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == machine
        assert elf.elfclass == bits
        assert elf.little_endian
        assert elf["e_type"] == "ET_EXEC"
        assert not any(seg["p_type"] == "PT_INTERP" for seg in elf.iter_segments())
        symtab = elf.get_section_by_name(".symtab")
        if program in STRIPPED:
            assert symtab is None, "hello/probe are shipped stripped"
        else:
            assert isinstance(symtab, SymbolTableSection), "compute/memloop keep symbols"
            names = {s.name for s in symtab.iter_symbols()}
            wanted = {
                "compute": {"main", "compute_round", "fnv1a", "crc32_update"},
                "memloop": {"_start", "memloop_loop", "memloop_exit", "memloop_cell"},
            }[program]
            assert wanted <= names
        if arch == "arm":
            assert elf["e_entry"] & 1, "arm guests start in Thumb state"


def test_sha256sums_match() -> None:
    """bin/SHA256SUMS lists exactly the shipped binaries, with the right hashes."""
    sums: dict[str, str] = {}
    for line in (GUEST_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.lstrip("*")] = digest
    assert sorted(sums) == guests.available()
    assert sorted(sums) == sorted(f"{p}.{a}" for p, a in ALL_BINARIES)
    for name, digest in sums.items():
        assert hashlib.sha256((GUEST_DIR / name).read_bytes()).hexdigest() == digest, name


def test_guest_path_errors_list_what_exists() -> None:
    with pytest.raises(KeyError, match="known programs"):
        guests.guest_path("nope")
    with pytest.raises(KeyError, match="riscv64"):
        guests.guest_path("hello", "sparc")


def test_default_guest_and_constants() -> None:
    assert guests.default_guest() == GUEST_DIR / "hello.x86_64"
    assert guests.MEMLOOP_LOADS == guests.MEMLOOP_STORES == guests.MEMLOOP_ITERATIONS == 1000
    assert guests.MEMLOOP_TOTAL_ACCESSES == 2000
    assert set(guests.MEMLOOP_INSNS) == set(ARCHES)
    assert guests.expected_hello_output(["h", "a"]) == (
        "Hello from the qpp guest!\nargv[0] = h\nargv[1] = a\n"
    )


# --------------------------------------------------------------------------- qemu


def _qemu(arch: str) -> str:
    qemu = shutil.which(f"qemu-{arch}")
    if qemu is None:
        pytest.skip(f"qemu-{arch} not installed")
    return qemu


def _run(
    arch: str, program: str, *args: str, cwd: Path, qemu_args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run bin/<program>.<arch> under qemu-user with a small fixed environment."""
    binary = guests.guest_path(program, arch)
    qemu = _qemu(arch.removesuffix("-glibc"))
    return subprocess.run(
        [qemu, *qemu_args, str(binary), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"QPP_PROBE_VAR": "forty two", "PATH": os.environ.get("PATH", "/usr/bin")},
        timeout=QEMU_TIMEOUT,
        check=False,
    )


def _killed_by(proc: subprocess.CompletedProcess[str], signo: int) -> bool:
    # qemu-user re-raises the guest's signal on itself; a shell would show 128+signo.
    return proc.returncode in (-signo, 128 + signo)


@pytest.mark.parametrize("arch", [*ARCHES, "x86_64-glibc"])
def test_hello_under_qemu(arch: str, tmp_path: Path) -> None:
    proc = _run(arch, "hello", "a", "b c", cwd=tmp_path)
    binary = guests.guest_path("hello", arch)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == guests.expected_hello_output([str(binary), "a", "b c"])


@pytest.mark.parametrize("arch", ARCHES)
def test_probe_under_qemu(arch: str, tmp_path: Path) -> None:
    def ok(*args: str) -> str:
        proc = _run(arch, "probe", *args, cwd=tmp_path)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc.stdout

    binary = guests.guest_path("probe", arch)
    assert ok("args", "x", "y") == (
        f"argc = 4\nargv[0] = {binary}\nargv[1] = args\nargv[2] = x\nargv[3] = y\n"
    )
    assert ok("env", "QPP_PROBE_VAR", "QPP_UNSET_VAR") == (
        "QPP_PROBE_VAR=forty two\nQPP_UNSET_VAR=(unset)\n"
    )
    target = tmp_path / "probe-file"
    assert ok("file", str(target)) == (
        "file: wrote 32\nfile: lseek 6\nfile: read 'from the qpp probe'\n"
        "file: size 32\nfile: unlink ok\n"
    )
    assert not target.exists()
    assert ok("brk") == "brk: ok checksum 0x5d493dd9\n"
    assert ok("mmap") == "mmap: ok\n"
    assert ok("cwd") == f"cwd: {tmp_path.resolve()}\n"
    assert ok("pipe") == "pipe: ping\n"
    assert ok("time") == "time: ok\n"
    assert ok("uname") == "uname: Linux\n"

    assert _run(arch, "probe", "exit", "7", cwd=tmp_path).returncode == 7
    assert _run(arch, "probe", "exit", "0", cwd=tmp_path).returncode == 0
    assert _killed_by(_run(arch, "probe", "fault", cwd=tmp_path), 11)
    assert _killed_by(_run(arch, "probe", "abort", cwd=tmp_path), 6)
    bad = _run(arch, "probe", "no-such-command", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "unknown subcommand 'no-such-command'" in bad.stderr
    assert _run(arch, "probe", cwd=tmp_path).returncode == 2


@pytest.mark.parametrize("arch", ARCHES)
def test_compute_under_qemu(arch: str, tmp_path: Path) -> None:
    for rounds in (1, 16):
        proc = _run(arch, "compute", str(rounds), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == guests.COMPUTE_OUTPUT[rounds]
    proc = _run(arch, "compute", cwd=tmp_path)
    assert proc.stdout == guests.COMPUTE_OUTPUT[guests.COMPUTE_DEFAULT_ROUNDS]


@pytest.fixture(scope="module")
def count_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build tools/qemu_count_plugin.c with the host compiler (skip if none)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler to build the qemu counting plugin")
    out = tmp_path_factory.mktemp("plugin") / "libcount.so"
    # a development tool, kept in the repository but not installed with the package
    src = Path(__file__).resolve().parents[1] / "qpp_core/guests/tools/qemu_count_plugin.c"
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(out), str(src)], check=True)
    return out


@pytest.mark.parametrize("arch", ARCHES)
def test_memloop_counts_under_qemu(arch: str, tmp_path: Path, count_plugin: Path) -> None:
    """qemu-user's own plugin API sees exactly the documented memloop counts."""
    proc = _run(
        arch,
        "memloop",
        cwd=tmp_path,
        qemu_args=("-plugin", str(count_plugin), "-d", "plugin"),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert (
        f"insns {guests.MEMLOOP_INSNS[arch]} "
        f"loads {guests.MEMLOOP_LOADS} stores {guests.MEMLOOP_STORES}"
    ) in proc.stderr
