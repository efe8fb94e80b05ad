"""Debian's busybox-static and bash-static, programs qpp's authors did not write, on qpp.

Every case of :mod:`thirdparty.cases` runs on all five targets as a separate ``qpp run``
process (an empty environment, ``data/`` as the working directory, stdin from a file) and
must give the stdout and exit status that qemu-user gave (expected.tsv, written by
record.py). Known gaps are listed in ``KNOWN_FAILURES`` with the diagnosed reason, as
strict xfails: a case that starts passing fails the run until its entry is removed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from thirdparty.cases import ARCHES, CASES, DATA_DIR, HERE, Case
from thirdparty.record import read_expected, run_qemu

QPP = Path(sys.executable).parent / "qpp"
TIMEOUT = 120
EXPECTED = read_expected()

# Known gaps, diagnosed with `qpp run -strace` (and a native run under a seccomp filter).
# (case, arch) -> reason; arch "*" means every target. Empty: every case on every target
# gives qemu-user's stdout and status (the earlier gaps, fork/exec, poll, int arguments,
# _llseek, the sigprocmask size, aarch64's HWCAP2, getpgid, getpeername, are closed).
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


def _reason(case: Case, arch: str) -> str | None:
    return KNOWN_FAILURES.get((case.name, arch)) or KNOWN_FAILURES.get((case.name, "*"))


def _params() -> list[object]:
    params: list[object] = []
    for case in CASES:
        for arch in ARCHES:
            marks = []
            reason = _reason(case, arch)
            if reason is not None:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            params.append(pytest.param(case, arch, marks=marks, id=f"{case.name}-{arch}"))
    return params


def run_qpp(case: Case, arch: str) -> tuple[int, bytes, bytes]:
    """``qpp run PROGRAM.ARCH ARGV...`` as record.py runs qemu-user: status, stdout, stderr."""
    stdin_path = DATA_DIR / case.stdin if case.stdin else Path(os.devnull)
    # -U LC_CTYPE: Python's locale coercion puts LC_CTYPE in qpp's own environment,
    # which the guest would otherwise inherit.
    argv = [str(QPP), "run", "-U", "LC_CTYPE", str(case.binary(arch)), *case.argv]
    with stdin_path.open("rb") as stdin:
        proc = subprocess.run(
            argv,
            cwd=DATA_DIR,
            env=dict(case.env),
            stdin=stdin,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    status = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    return status, proc.stdout, proc.stderr


ELF_MACHINES = {
    "x86_64": "EM_X86_64",
    "aarch64": "EM_AARCH64",
    "arm": "EM_ARM",
    "riscv64": "EM_RISCV",
    "mipsel": "EM_MIPS",
}


def _fetch_table() -> dict[tuple[str, str], tuple[str, str]]:
    """fetch.sh's table: (program, arch) -> (.deb file name, sha256 of the binary)."""
    text = (HERE / "fetch.sh").read_text()
    rows = re.findall(
        r"^(\w+) +\w+ +\S+ +(\w+) +(\S+\.deb) +[0-9a-f]{64} +([0-9a-f]{64})$", text, re.M
    )
    return {(name, arch): (deb, binsum) for name, arch, deb, binsum in rows}


PROGRAMS = sorted({c.program for c in CASES})


def test_fetch_table_covers_every_binary() -> None:
    """fetch.sh reproduces exactly the committed binaries."""
    committed = {tuple(p.name.split(".", 1)) for p in (HERE / "bin").iterdir()}
    assert set(_fetch_table()) == committed == {(p, a) for p in PROGRAMS for a in ARCHES}


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("arch", ARCHES)
def test_binary_is_the_debian_one(program: str, arch: str) -> None:
    """The committed binary is the static ELF that fetch.sh extracts from Debian's .deb."""
    deb, binsum = _fetch_table()[(program, arch)]
    path = HERE / "bin" / f"{program}.{arch}"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == binsum, f"not the binary of {deb}"
    with path.open("rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == ELF_MACHINES[arch]
        assert elf["e_type"] == "ET_EXEC"
        assert not any(seg["p_type"] == "PT_INTERP" for seg in elf.iter_segments())


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHES)
def test_recorded_results_reproduce_on_qemu(arch: str) -> None:
    """record.py's qemu-user run still gives the recorded result (where qemu-user exists)."""
    if shutil.which(f"qemu-{arch}") is None:
        pytest.skip(f"qemu-{arch} not installed")
    # sh_pipeline3 and sh_exec_chain run children through record.py's exec wrappers
    for name in (
        "awk_by_team",
        "tar_list",
        "sh_exit_status",
        "bash_strings",
        "sh_pipeline3",
        "sh_exec_chain",
    ):
        case = next(c for c in CASES if c.name == name)
        status, out = run_qemu(case, arch)
        row = EXPECTED[(name, arch)]
        assert (status, hashlib.sha256(out).hexdigest()) == (int(row["status"]), row["sha256"])


def test_every_case_recorded() -> None:
    """expected.tsv holds a qemu-user result for each case on each target, and no others."""
    wanted = {(c.name, a) for c in CASES for a in ARCHES}
    assert set(EXPECTED) == wanted


def test_qemu_results_agree_across_targets() -> None:
    """qemu-user gave one stdout and status per case on all five targets."""
    differing = [
        c.name
        for c in CASES
        if len({(EXPECTED[(c.name, a)]["status"], EXPECTED[(c.name, a)]["sha256"]) for a in ARCHES})
        > 1
    ]
    assert differing == []


def test_known_failures_name_real_cases() -> None:
    """Every KNOWN_FAILURES entry names an existing case and target."""
    names = {c.name for c in CASES}
    for name, arch in KNOWN_FAILURES:
        assert name in names
        assert arch == "*" or arch in ARCHES


@pytest.mark.slow
@pytest.mark.parametrize(("case", "arch"), _params())
def test_like_qemu(case: Case, arch: str) -> None:
    """qpp gives qemu-user's stdout and exit status for this command."""
    expected = EXPECTED[(case.name, arch)]
    status, out, err = run_qpp(case, arch)
    tail = err.decode(errors="replace")[-1500:]
    if hashlib.sha256(out).hexdigest() != expected["sha256"]:
        detail = f"stdout differs ({len(out)} bytes, qemu-user {expected['size']})"
        if expected["stdout"]:
            want = json.loads(expected["stdout"]).splitlines(keepends=True)
            got = out.decode(errors="replace").splitlines(keepends=True)
            detail += "\n" + "".join(difflib.unified_diff(want, got, "qemu-user", "qpp"))
        pytest.fail(f"{detail}\nstatus {status} (qemu-user {expected['status']})\n{tail}")
    assert status == int(expected["status"]), tail
