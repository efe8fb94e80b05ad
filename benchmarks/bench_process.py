"""A guest's fork+execve+wait cycle under qpp, against a fresh ``qpp run`` of the same guest.

The guest ``proc_exec spawn N PROG`` forks, execs PROG (the built-in hello) in the child
and waits, N times. The cost of one cycle is the difference between a run with N cycles
and a run with none, divided by N; a fresh start is the wall time of ``qpp run hello``.
Both are measured in this one script, interleaved, best of several rounds. The exec
happens inside the forked qpp process (no Python start-up), so a cycle should cost a
fraction of a fresh start; the target is at most 0.2x.

Usage: python benchmarks/bench_process.py [--cycles N] [--rounds R] [--arch ARCH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPAWNER = ROOT / "tests" / "guests" / "bin"
HELLO = ROOT / "qpp_core" / "guests" / "bin"


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--arch", default="x86_64")
    args = parser.parse_args()
    qpp = [sys.executable, "-m", "qpp_core", "run"]
    spawner = str(SPAWNER / f"proc_exec.{args.arch}")
    hello = str(HELLO / f"hello.{args.arch}")
    fresh, none, many = [], [], []
    for _ in range(args.rounds):
        fresh.append(wall([*qpp, hello]))
        none.append(wall([*qpp, spawner, "spawn", "0", hello]))
        many.append(wall([*qpp, spawner, "spawn", str(args.cycles), hello]))
    start = min(fresh)
    cycle = (min(many) - min(none)) / args.cycles
    print(f"{args.arch}: best of {args.rounds} interleaved rounds, {args.cycles} cycles")
    print(f"fresh `qpp run hello`:        {start * 1e3:8.1f} ms")
    print(f"fork+execve(hello)+wait cycle: {cycle * 1e3:8.1f} ms")
    print(f"ratio cycle / fresh start:     {cycle / start:8.3f}x  (target <= 0.2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
