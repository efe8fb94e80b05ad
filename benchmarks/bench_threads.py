"""Guest threads: total MIPS of a 4-thread compute guest against the same work in one thread.

The guest ``thr_compute N SCALE`` (tests/guests/src/thr_compute.c) runs 16 equal jobs: in
main alone (N = 0, no thread at all), one worker thread at a time (N = 1), or four at a
time (N = 4); the instructions of the work are the same in all three. Each variant runs
in this process (``load_guest`` and ``Machine.run``, no Python start-up in the timing),
best of several interleaved rounds; the work's instruction count comes from ``-p insn``
runs at SCALE and at 0. Switching threads must be cheap: the target is 4 threads >= 0.9x
of main alone.

Usage: python benchmarks/bench_threads.py [--scale S] [--rounds R] [--arch ARCH]
       [--sched timeslice|deterministic]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "tests" / "guests" / "bin"


def wall(guest: str, args: tuple[str, ...], sched: str) -> float:
    """Seconds to run the guest in this process (its stdout sent to /dev/null)."""
    from qpp_core.linux import GuestOptions, load_guest

    machine = load_guest(GuestOptions(binary=guest, args=args, sched=sched))
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        start = time.perf_counter()
        result = machine.run()
        elapsed = time.perf_counter() - start
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    assert result.status == 0, result
    return elapsed


def insns(qpp: list[str], guest: str, n: str, scale: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "insn"
        subprocess.run(
            [*qpp, "-p", "insn", "-D", str(log), guest, n, str(scale)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        found = re.search(r"total insns: (\d+)", log.read_text())
        assert found is not None
        return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--arch", default="x86_64")
    parser.add_argument("--sched", default="timeslice", choices=("timeslice", "deterministic"))
    args = parser.parse_args()
    qpp = [sys.executable, "-m", "qpp_core", "run", "-sched", args.sched]
    guest = str(BIN / f"thr_compute.{args.arch}")
    work = insns(qpp, guest, "0", args.scale) - insns(qpp, guest, "0", 0)
    variants = {"main alone": "0", "1 thread": "1", "4 threads": "4"}
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, n in variants.items():
            t = wall(guest, (n, str(args.scale)), args.sched)
            best[name] = min(best.get(name, t), t)
    print(f"{args.arch}, -sched {args.sched}: {work / 1e6:.1f} M guest instructions of work,")
    print(f"best of {args.rounds} interleaved rounds, in-process")
    mips = {name: work / t / 1e6 for name, t in best.items()}
    for name, value in mips.items():
        print(f"{name:12s} {best[name]:7.3f} s  {value:8.1f} MIPS")
    ratio = mips["4 threads"] / mips["main alone"]
    print(f"4 threads / main alone: {ratio:.3f}x  (target >= 0.9x)")
    print(f"4 threads / 1 thread:   {mips['4 threads'] / mips['1 thread']:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
