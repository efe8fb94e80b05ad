"""``qpp batch`` throughput with 1 and 2 local workers, and its per-job overhead against a
loop of ``qpp run``, all measured in this one script.

200 short guest runs (the built-in hello, ``-p insn``, one argument each). For each
worker count, a fresh ``qpp batch`` runs them; throughput is jobs per second of the
batch's own wall time (``summary.json``: from the first job started to the last recorded,
without the command's start-up). Then:

* ``run``: the wall time of one ``qpp run -p insn hello`` (a loop of them, best of the
  loop): what a shell loop pays per job;
* ``work``: the same run done in this process by ``qpp_core.runner.run``, repeatedly
  (no start-up, no fork): the job's own work;
* ``start-up`` = ``run - work``: what a fresh ``qpp run`` pays besides the work;
* ``overhead`` = ``batch per-job wall (1 worker) - work``: what a batch job pays besides
  the work (fork, redirections, the record, the result).

Targets: 2 workers at least 1.8x one worker (on 2 free cores); overhead at most 0.2x of
start-up. On a shared machine the load average printed says how free the cores were.

Usage: python benchmarks/bench_batch.py [--jobs N] [--runs R] [--rounds B]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELLO = str(ROOT / "qpp_core" / "guests" / "bin" / "hello.x86_64")
QPP = [sys.executable, "-m", "qpp_core"]


def batch_wall(folder: Path, jobs: int, workers: int) -> float:
    """The batch's own wall time (summary.json) for ``jobs`` runs on ``workers``."""
    job_file = folder / "jobs.jsonl"
    job_file.write_text(
        "".join(json.dumps({"program": HELLO, "args": [f"a{i}"]}) + "\n" for i in range(jobs))
    )
    results = Path(tempfile.mkdtemp(prefix=f"results-{workers}-", dir=folder))
    command = [*QPP, "batch", "--quiet", "-p", "insn", "--workers", str(workers)]
    subprocess.run(
        [*command, "--results", str(results), "--jobs", str(job_file)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    summary = json.loads((results / "summary.json").read_text())
    assert summary["statuses"] == {"ok": jobs}, summary
    return float(summary["wall"])


def fresh_run() -> float:
    start = time.perf_counter()
    subprocess.run([*QPP, "run", "-p", "insn", HELLO, "a0"], check=True, capture_output=True)
    return time.perf_counter() - start


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def in_process_run() -> float:
    from qpp_core.linux import GuestOptions
    from qpp_core.loading.args import PluginRequest
    from qpp_core.runner import RunOptions, run

    options = RunOptions(
        guest=GuestOptions(binary=HELLO, args=("a0",)),
        plugins=[PluginRequest("insn")],
        log_file=os.devnull,
    )
    with quiet_stdout():
        start = time.perf_counter()
        status = run(options)
        took = time.perf_counter() - start
    assert status == 0
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--runs", type=int, default=10, help="qpp run / in-process runs")
    parser.add_argument("--rounds", type=int, default=2, help="batches per worker count")
    args = parser.parse_args()
    ones, twos = [], []
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        for _ in range(args.rounds):  # interleaved, best of: the machine may be shared
            ones.append(batch_wall(Path(tmp), args.jobs, 1))
            twos.append(batch_wall(Path(tmp), args.jobs, 2))
    one, two = min(ones), min(twos)
    runs = [fresh_run() for _ in range(args.runs)]
    in_process_run()  # warm: imports and first-use costs are start-up, not work
    work = min(in_process_run() for _ in range(args.runs))
    run_wall = min(runs)
    startup = run_wall - work
    per_job = one / args.jobs
    overhead = per_job - work
    speedup = one / two
    print(f"{args.jobs} jobs of `hello a<i>` with -p insn, on {os.cpu_count()} cores,", end=" ")
    print(f"best of {args.rounds} batches (load average now: {os.getloadavg()[0]:.1f})")
    print(f"1 worker:  {args.jobs / one:7.1f} jobs/s  ({per_job * 1e3:6.1f} ms a job)")
    print(f"2 workers: {args.jobs / two:7.1f} jobs/s  ({speedup:.2f}x one worker; target >= 1.8x)")
    print(f"`qpp run` (best of {args.runs}): {run_wall * 1e3:7.1f} ms")
    print(f"the run's own work (in process): {work * 1e3:7.1f} ms")
    print(f"`qpp run` start-up: {startup * 1e3:7.1f} ms")
    ratio = overhead / startup
    print(
        f"batch per-job overhead: {overhead * 1e3:7.1f} ms = {ratio:.3f}x start-up (target <= 0.2x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
