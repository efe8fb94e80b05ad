#!/usr/bin/env python3
"""What instrumentation costs: qpp's counting plugins against qemu-user and bare unicorn.

Every figure is whole-process wall time (start-up included, as a user sees it) of the
compute guest (x86_64), best of ``--repeat`` runs interleaved so that the load of a shared
machine hits every mode alike, turned into guest MIPS (million guest instructions per
second; the instruction count is qpp's ``-p insn`` total, which equals QEMU's). Printed:

* qpp ``-p insn`` (inline), ``-p bb``, ``-p hotblocks``, ``-p mem,inline=on`` on the backend
  in use (``QPP_BACKEND``), and the same on the Python backend at fewer rounds;
* (a) qpp with no plugin, (b) bare unicorn with no hook (``bare_unicorn.py``, a minimal
  loader), (d) bare unicorn with a C block hook adding the block's size to a counter (one
  C call per block: the floor of any counting through unicorn's hooks; built here with
  gcc when it is installed), (c) qemu-user with no plugin and with a tiny C plugin
  counting with one inline add per instruction (built here with gcc; Debian ships no
  ``qemu-plugin.h``, so the few declarations of QEMU 7.2's plugin API are written out
  below) when ``qemu-x86_64`` and ``gcc`` are installed;
* a per-block Python callback (``-p bb,inline=off``) against a bare unicorn Python block
  hook doing the same count, at fewer rounds (both are ~20x slower);
* start-up: ``qpp run hello`` against ``bare_unicorn.py hello``.

Targets (issue 13): inline counting >= 0.8x qemu-user's inline counting and >= 0.6x qpp
without plugins; a per-block Python callback <= 1.0x the cost of the bare block hook;
start-up <= 1.5x the bare loader.

usage: bench_instrument.py [--rounds N] [--slow-rounds N] [--repeat K]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUESTS = ROOT / "qpp_core" / "guests" / "bin"
COMPUTE = str(GUESTS / "compute.x86_64")
HELLO = str(GUESTS / "hello.x86_64")
BARE = [sys.executable, str(ROOT / "benchmarks" / "bare_unicorn.py")]
QPP = [sys.executable, "-m", "qpp_core", "run"]


def build_qemu_plugin(tmp: Path) -> str | None:
    """The counting plugin's path, or ``None`` without qemu-x86_64 or gcc."""
    if not shutil.which("qemu-x86_64"):
        return None
    sys.path.insert(0, str(ROOT / "tools"))
    from qemu_insn_plugin import build

    return build(tmp)


C_BLOCK_HOOK = r"""
#include <stdint.h>
void count_block(void *uc, uint64_t address, uint32_t size, void *counter) {
    *(uint64_t *)counter += size;
}
"""


def build_c_block_hook(tmp: Path) -> str | None:
    """The bare loader's C block hook library, or ``None`` without gcc."""
    if not shutil.which("gcc"):
        return None
    src = tmp / "countblock.c"
    src.write_text(C_BLOCK_HOOK)
    lib = tmp / "libcountblock.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(lib), str(src)], check=True)
    return str(lib)


def wall(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system) of ``cmd`` and its stderr (stdout, the
    guest's, is dropped)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, check=True
    )
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return dt, cpu, out.stderr


def insns_of(rounds: int, env: dict[str, str]) -> int:
    _, _, err = wall([*QPP, "-p", "insn", COMPUTE, str(rounds)], env)
    m = re.search(r"total insns: (\d+)", err)
    assert m, err
    return int(m[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2048, help="compute rounds, fast modes")
    ap.add_argument("--slow-rounds", type=int, default=128, help="rounds, Python-call modes")
    ap.add_argument("-n", "--repeat", type=int, default=3, help="runs per mode (best-of)")
    a = ap.parse_args()
    from qpp_core.instrument.backend import active, describe

    # every run sees the same environment size (QPP_BACKEND's values are equally long),
    # so that the guest executes exactly the same instructions in each
    env = dict(os.environ, QPP_BACKEND=active())
    env_py = dict(os.environ, QPP_BACKEND="python")
    # start-up as a user runs qpp: no QPP_BACKEND (forcing one checks it up front, which
    # imports the instrumentation layer) and bytecode caches written (bench_startup.py)
    unset = ("QPP_BACKEND", "PYTHONDONTWRITEBYTECODE")
    env_user = {k: v for k, v in os.environ.items() if k not in unset}
    with tempfile.TemporaryDirectory() as tmp:
        plugin = build_qemu_plugin(Path(tmp))
        c_hook = build_c_block_hook(Path(tmp))
        r, s = str(a.rounds), str(a.slow_rounds)
        # (label, command, rounds, environment)
        modes: list[tuple[str, list[str], int, dict[str, str]]] = [
            ("(b) bare unicorn, no hook", [*BARE, COMPUTE, r], a.rounds, env),
            ("(a) qpp, no plugin", [*QPP, COMPUTE, r], a.rounds, env),
            ("qpp -p insn (inline)", [*QPP, "-p", "insn", COMPUTE, r], a.rounds, env),
            ("qpp -p bb", [*QPP, "-p", "bb", COMPUTE, r], a.rounds, env),
            ("qpp -p hotblocks", [*QPP, "-p", "hotblocks", COMPUTE, r], a.rounds, env),
            ("qpp -p mem,inline=on", [*QPP, "-p", "mem,inline=on", COMPUTE, r], a.rounds, env),
            ("python backend: -p insn", [*QPP, "-p", "insn", COMPUTE, s], a.slow_rounds, env_py),
            (
                "python backend: -p mem,inline=on",
                [*QPP, "-p", "mem,inline=on", COMPUTE, s],
                a.slow_rounds,
                env_py,
            ),
            (
                "bare unicorn, Python block hook",
                [*BARE, "--block-hook", COMPUTE, s],
                a.slow_rounds,
                None,
            ),
            (
                "qpp -p bb,inline=off (Python cb)",
                [*QPP, "-p", "bb,inline=off", COMPUTE, s],
                a.slow_rounds,
                None,
            ),
            ("start-up: bare unicorn hello", [*BARE, HELLO], 0, env_user),
            ("start-up: qpp run hello", [*QPP, HELLO], 0, env_user),
        ]
        if c_hook is not None:
            modes.append(
                (
                    "(d) bare unicorn, C block hook",
                    [*BARE, "--c-block-hook", c_hook, COMPUTE, r],
                    a.rounds,
                    env,
                )
            )
        if plugin is not None:
            modes += [
                ("(c) qemu-user, no plugin", ["qemu-x86_64", COMPUTE, r], a.rounds, env),
                (
                    "(c) qemu-user, C inline count",
                    ["qemu-x86_64", "-plugin", plugin, "-d", "plugin", COMPUTE, r],
                    a.rounds,
                    env,
                ),
            ]
        counts = {a.rounds: insns_of(a.rounds, env), a.slow_rounds: insns_of(a.slow_rounds, env)}
        counts[0] = 0
        best: dict[str, float] = {}
        best_cpu: dict[str, float] = {}
        for _ in range(a.repeat):
            for label, cmd, _rounds, run_env in modes:
                dt, cpu, err = wall(cmd, run_env)
                best[label] = min(best.get(label, dt), dt)
                best_cpu[label] = min(best_cpu.get(label, cpu), cpu)
                m = re.search(r"total insns: (\d+)", err)
                if m and int(m[1]) != counts[_rounds]:
                    print(f"COUNT MISMATCH {label}: {m[1]} != {counts[_rounds]}")
    print(
        f"compute.x86_64: {counts[a.rounds]} insns at {a.rounds} rounds, "
        f"{counts[a.slow_rounds]} at {a.slow_rounds}; best of {a.repeat} interleaved runs"
    )
    print(describe())
    mips: dict[str, float] = {}
    print(f"{'mode':<36}{'rounds':>7}{'wall s':>8}{'MIPS':>8}{'cpu s':>8}{'MIPS':>8}")
    for label, _cmd, rounds, _env in modes:
        w, c = best[label], best_cpu[label]
        if rounds:
            mips[label] = counts[rounds] / w / 1e6
            cpu_mips = counts[rounds] / c / 1e6
            print(f"{label:<36}{rounds:>7}{w:>8.3f}{mips[label]:>8.1f}{c:>8.3f}{cpu_mips:>8.1f}")
        else:
            print(f"{label:<36}{'':>7}{w:>8.3f}{'':>8}{c:>8.3f}")
    print("ratios of whole-process wall-time MIPS (unless said):")
    inline = mips["qpp -p insn (inline)"]
    none = mips["(a) qpp, no plugin"]
    bare = mips["(b) bare unicorn, no hook"]
    print(f"  -p insn / qpp no plugin:           {inline / none:6.2f}x  (target >= 0.6)")
    print(f"  -p insn / bare unicorn:            {inline / bare:6.2f}x")
    if c_hook is not None:
        floor = mips["(d) bare unicorn, C block hook"]
        print(f"  bare C block hook / bare unicorn:  {floor / bare:6.2f}x  (hook-based ceiling)")
        print(f"  -p insn / bare C block hook:       {inline / floor:6.2f}x")
    for other in ("qpp -p bb", "qpp -p hotblocks", "qpp -p mem,inline=on"):
        print(f"  {other[4:] + ' / qpp no plugin:':<35}{mips[other] / none:6.2f}x")
    if plugin is not None:
        q = mips["(c) qemu-user, C inline count"]
        print(f"  -p insn / qemu-user inline count:  {inline / q:6.2f}x  (target >= 0.8)")
        print(
            f"  qpp no plugin / qemu-user no plugin: "
            f"{none / mips['(c) qemu-user, no plugin']:6.2f}x"
        )
    cb = best["qpp -p bb,inline=off (Python cb)"] / best["bare unicorn, Python block hook"]
    print(f"  per-block Python cb, time / bare block hook: {cb:6.2f}x  (target <= 1.0)")
    start = best["start-up: qpp run hello"] / best["start-up: bare unicorn hello"]
    print(f"  start-up, time qpp / bare loader:  {start:6.2f}x  (target <= 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
