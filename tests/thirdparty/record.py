"""Record qemu-user's stdout and exit status for every case on all five targets.

Usage: python tests/thirdparty/record.py [CASE...]   (default: all cases)

Runs ``qemu-ARCH PROGRAM.ARCH ARGV...`` directly, as qpp's tests run ``qpp run``: an
empty environment, ``data/`` as the working directory, stdin from the case's file (or
/dev/null). Writes expected.tsv (one row per case and arch: status, sha256 and size of
stdout, and stdout itself as a JSON string when it is short text) and prints the cases
whose results differ between the targets.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from thirdparty.cases import ARCHES, CASES, DATA_DIR, EXPECTED, Case

TEXT_LIMIT = 400  # stdout up to this many bytes of UTF-8 is kept verbatim
COLUMNS = ("case", "arch", "status", "sha256", "size", "stdout")


def run_qemu(case: Case, arch: str) -> tuple[int, bytes]:
    """qemu-user's exit status (128+N for signal N, as a shell reports) and stdout."""
    stdin_path = DATA_DIR / case.stdin if case.stdin else Path("/dev/null")
    with stdin_path.open("rb") as stdin:
        proc = subprocess.run(
            [f"qemu-{arch}", str(case.binary(arch)), *case.argv],
            cwd=DATA_DIR,
            env=dict(case.env),
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
