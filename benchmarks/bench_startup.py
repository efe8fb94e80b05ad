#!/usr/bin/env python3
"""Start-up: ``qpp run hello`` (and ``-p insn``) against the bare unicorn loader.

Issue 13's target: a trivial guest under ``qpp run`` costs at most 1.5x the wall time of
``bare_unicorn.py`` on the same guest (a shell script running many small programs is
dominated by it). The commands run interleaved, best of ``-n`` each (the least disturbed
run of each on a shared machine), as whole processes: wall time and CPU time (user +
system, less sensitive to other load). Run it with the interpreter of the installation to
measure (an editable install's import finder adds a few ms that ``pip install .`` does
not); ``PYTHONDONTWRITEBYTECODE`` is dropped so that imports use cached bytecode.

usage: bench_startup.py [-n RUNS]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELLO = str(ROOT / "qpp_core" / "guests" / "bin" / "hello.x86_64")
COMMANDS = {
    "bare unicorn hello": [sys.executable, str(ROOT / "benchmarks" / "bare_unicorn.py"), HELLO],
    "qpp run hello": [sys.executable, "-m", "qpp_core", "run", HELLO],
    "qpp run -p insn hello": [sys.executable, "-m", "qpp_core", "run", "-p", "insn", HELLO],
}


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, capture_output=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--repeat", type=int, default=20, help="runs per command (best-of)")
    a = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for cmd in COMMANDS.values():  # warm the bytecode caches and the page cache
        subprocess.run(cmd, env=env, capture_output=True, check=True)
    best = {label: (float("inf"), float("inf")) for label in COMMANDS}
    for _ in range(a.repeat):
        for label, cmd in COMMANDS.items():
            wall, cpu = timed(cmd, env)
            best[label] = (min(best[label][0], wall), min(best[label][1], cpu))
    bare_wall, bare_cpu = best["bare unicorn hello"]
    print(f"best of {a.repeat} interleaved runs; {sys.executable}")
    print(f"{'command':<24}{'wall ms':>9}{'x bare':>8}{'cpu ms':>9}{'x bare':>8}")
    for label, (wall, cpu) in best.items():
        print(
            f"{label:<24}{wall * 1e3:>9.1f}{wall / bare_wall:>8.2f}"
            f"{cpu * 1e3:>9.1f}{cpu / bare_cpu:>8.2f}"
        )
    print("target: qpp run hello <= 1.5x bare (wall)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
