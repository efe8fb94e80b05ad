"""Record qemu-user's stdout and exit status for every case on all five targets.

Usage: python tests/thirdparty/record.py [CASE...]   (default: all cases)

Runs ``qemu-ARCH PROGRAM.ARCH ARGV...`` directly, as qpp's tests run ``qpp run``: an
empty environment, ``data/`` as the working directory, stdin from the case's file (or
/dev/null). Cases that run other processes (``needs_fork``) also get ``PATH`` naming a
directory of wrappers, what binfmt_misc would do: qemu-user hands a guest ``execve`` to
the host kernel, which cannot run a foreign ELF here (``execve("/proc/self/exe")`` fails
with ENOEXEC), so busybox then looks its own name up in ``PATH`` and finds a script that
re-runs ``qemu-ARCH``. On x86_64 the host runs the exec'd busybox natively. Writes expected.tsv (one row per case and arch: status, sha256 and size of
stdout, and stdout itself as a JSON string when it is short text) and prints the cases
whose results differ between the targets.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from thirdparty.cases import ARCHES, CASES, DATA_DIR, EXPECTED, Case

TEXT_LIMIT = 400  # stdout up to this many bytes of UTF-8 is kept verbatim
COLUMNS = ("case", "arch", "status", "sha256", "size", "stdout")


def exec_wrappers(arch: str, where: Path) -> Path:
    """A directory of scripts that re-run ``qemu-ARCH`` on the Debian binaries.

    One per busybox applet (``tr`` runs ``qemu-ARCH -0 tr busybox.ARCH``), plus
    ``busybox`` and ``bash``: what binfmt_misc would do for the guest's ``execve``.
    """
    busybox = (DATA_DIR.parent / "bin" / f"busybox.{arch}").resolve()
    applets = subprocess.run(
        [_qemu(arch), str(busybox), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in [*applets, "busybox", "bash"]:
        program = "bash" if name == "bash" else "busybox"
        binary = (DATA_DIR.parent / "bin" / f"{program}.{arch}").resolve()
        script = where / name
        script.write_text(f'#!/bin/sh\nexec {_qemu(arch)} -0 {name} {binary} "$@"\n')
        script.chmod(0o755)
    return where


def _qemu(arch: str) -> str:
    return shutil.which(f"qemu-{arch}") or f"qemu-{arch}"


def run_qemu(case: Case, arch: str) -> tuple[int, bytes]:
    """qemu-user's exit status (128+N for signal N, as a shell reports) and stdout."""
    env = dict(case.env)
    with tempfile.TemporaryDirectory() as wrappers:
        if case.needs_fork:
            env["PATH"] = str(exec_wrappers(arch, Path(wrappers)))
        return _run(case, arch, env)


def _run(case: Case, arch: str, env: dict[str, str]) -> tuple[int, bytes]:
    stdin_path = DATA_DIR / case.stdin if case.stdin else Path("/dev/null")
    with stdin_path.open("rb") as stdin:
        proc = subprocess.run(
            [_qemu(arch), str(case.binary(arch)), *case.argv],
            cwd=DATA_DIR,
            env=env,
            stdin=stdin,
            capture_output=True,
            timeout=300,
            check=False,
        )
    status = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    return status, proc.stdout


def row(case: Case, arch: str, status: int, out: bytes) -> dict[str, str]:
    """One expected.tsv row."""
    text = ""
    if len(out) <= TEXT_LIMIT:
        try:
            text = json.dumps(out.decode("utf-8"))
        except UnicodeDecodeError:
            text = ""
    return {
        "case": case.name,
        "arch": arch,
        "status": str(status),
        "sha256": hashlib.sha256(out).hexdigest(),
        "size": str(len(out)),
        "stdout": text,
    }


def read_expected(path: Path = EXPECTED) -> dict[tuple[str, str], dict[str, str]]:
    """expected.tsv as {(case, arch): row}."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    if not path.exists():
        return rows
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        r = dict(zip(header, line.split("\t"), strict=True))
        rows[(r["case"], r["arch"])] = r
    return rows


def write_expected(rows: dict[tuple[str, str], dict[str, str]], path: Path = EXPECTED) -> None:
    """Rows in the order of CASES and ARCHES (rows of removed cases are dropped)."""
    lines = ["\t".join(COLUMNS)]
    for case in CASES:
        for arch in ARCHES:
            r = rows.get((case.name, arch))
            if r is not None:
                lines.append("\t".join(r[c] for c in COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(names: list[str]) -> int:
    rows = read_expected()
    chosen = [c for c in CASES if not names or c.name in names]
    for case in chosen:
        for arch in ARCHES:
            status, out = run_qemu(case, arch)
            rows[(case.name, arch)] = row(case, arch, status, out)
        results = {(rows[(case.name, a)]["status"], rows[(case.name, a)]["sha256"]) for a in ARCHES}
        flag = "" if len(results) == 1 else "  <- differs between targets"
        print(f"{case.name}: status {sorted({s for s, _ in results})}{flag}")
    write_expected(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
