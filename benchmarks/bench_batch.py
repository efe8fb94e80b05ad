"""``qpp batch`` throughput with 1 and 2 local workers, and its per-job overhead against a
loop of ``qpp run``, all measured in this one script.

200 short guest runs (the built-in hello, ``-p insn``, one argument each). For each
worker count, a fresh ``qpp batch`` runs them; throughput is jobs per second of the
batch's own wall time (``summary.json``: from the first job started to the last recorded,
without the command's start-up). Then:

* ``run``: one ``qpp run -p insn hello`` (a loop of them, best of the loop): what a shell
  loop pays per job;
* ``work``: the same run done in this process by ``qpp_core.runner.run``, repeatedly
  (no start-up, no fork): the job's own work;
* ``start-up`` = ``run - work``: what a fresh ``qpp run`` pays besides the work;
* ``overhead`` = ``batch per-job time (1 worker) - work``: what a batch job pays besides
  the work (fork, redirections, the record, the result).

Each is given in wall time and in CPU time (the batch's and its children's, from
``getrusage``): on a shared machine other processes stretch wall times, much less CPU
times, and the load average printed says how free the cores were. The CPU times also
give the part of each job that the batch process itself does, serially (forking,
reaping, recording): the rest runs in parallel on as many cores as there are workers.

Targets: 2 workers at least 1.8x one worker (on 2 free cores); overhead at most 0.2x of
start-up.

Usage: python benchmarks/bench_batch.py [--jobs N] [--runs R] [--rounds B]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELLO = str(ROOT / "qpp_core" / "guests" / "bin" / "hello.x86_64")
QPP = [sys.executable, "-m", "qpp_core"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Batch:
    wall: float  #: the batch's own wall time (summary.json)
    cpu: float  #: CPU time of the batch process and its job children
    jobs_cpu: float  #: CPU time of the job children alone (summary.json)


def run_batch(folder: Path, jobs: int, workers: int) -> Batch:
    job_file = folder / "jobs.jsonl"
    job_file.write_text(
        "".join(json.dumps({"program": HELLO, "args": [f"a{i}"]}) + "\n" for i in range(jobs))
    )
    results = Path(tempfile.mkdtemp(prefix=f"results-{workers}-", dir=folder))
    command = [*QPP, "batch", "--quiet", "-p", "insn", "--workers", str(workers)]
    before = children_cpu()
    subprocess.run(
        [*command, "--results", str(results), "--jobs", str(job_file)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cpu = children_cpu() - before
    summary = json.loads((results / "summary.json").read_text())
    assert summary["statuses"] == {"ok": jobs}, summary
    return Batch(float(summary["wall"]), cpu, float(summary["cpu"]))


def fresh_run() -> tuple[float, float]:
    before, start = children_cpu(), time.perf_counter()
    subprocess.run([*QPP, "run", "-p", "insn", HELLO, "a0"], check=True, capture_output=True)
    return time.perf_counter() - start, children_cpu() - before


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


def in_process_run() -> tuple[float, float]:
    from qpp_core.linux import GuestOptions
    from qpp_core.loading.args import PluginRequest
    from qpp_core.runner import RunOptions, run

    options = RunOptions(
        guest=GuestOptions(binary=HELLO, args=("a0",)),
        plugins=[PluginRequest("insn")],
        log_file=os.devnull,
    )
    with quiet_stdout():
        start, cpu = time.perf_counter(), time.process_time()
        status = run(options)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert status == 0
    return took, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--runs", type=int, default=10, help="qpp run / in-process runs")
    parser.add_argument("--rounds", type=int, default=2, help="batches per worker count")
    args = parser.parse_args()
    n = args.jobs
    ones, twos = [], []
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        for _ in range(args.rounds):  # interleaved, best of: the machine may be shared
            ones.append(run_batch(Path(tmp), n, 1))
            twos.append(run_batch(Path(tmp), n, 2))
    one = min(ones, key=lambda b: b.wall)
    two = min(twos, key=lambda b: b.wall)
    runs = [fresh_run() for _ in range(args.runs)]
    in_process_run()  # warm: imports and first-use costs are start-up, not work
    works = [in_process_run() for _ in range(args.runs)]
    run_wall, run_cpu = min(w for w, _ in runs), min(c for _, c in runs)
    work_wall, work_cpu = min(w for w, _ in works), min(c for _, c in works)
    load = os.getloadavg()[0]
    print(f"{n} jobs of `hello a<i>` with -p insn, on {os.cpu_count()} cores,", end=" ")
    print(f"best of {args.rounds} batches (load average now: {load:.1f})")
    print(f"1 worker:  {n / one.wall:7.1f} jobs/s  ({one.wall / n * 1e3:6.1f} ms a job)")
    print(
        f"2 workers: {n / two.wall:7.1f} jobs/s  "
        f"({one.wall / two.wall:.2f}x one worker; target >= 1.8x)"
    )
    serial = (one.cpu - one.jobs_cpu) / n
    per_job_cpu = one.cpu / n
    print(
        f"CPU a job: {per_job_cpu * 1e3:.1f} ms (1 worker), {two.cpu / n * 1e3:.1f} ms "
        f"(2 workers), of which the batch process's serial part: {serial * 1e3:.1f} ms"
    )
    bound = per_job_cpu / max(serial, per_job_cpu / 2)
    print(f"  => on 2 free cores, 2 workers can reach {bound:.2f}x one worker")
    for label, run_t, work_t, batch_t in (
        ("wall", run_wall, work_wall, one.wall / n),
        ("CPU ", run_cpu, work_cpu, one.cpu / n),
    ):
        startup, overhead = run_t - work_t, batch_t - work_t
        print(
            f"{label}: `qpp run` {run_t * 1e3:6.1f} ms = work {work_t * 1e3:5.1f} ms + "
            f"start-up {startup * 1e3:6.1f} ms; batch job overhead {overhead * 1e3:5.1f} ms "
            f"= {overhead / startup:.3f}x start-up (target <= 0.2x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
