#!/usr/bin/env python3
"""qpp's machine against a bare unicorn run of the same image: the no-plugin overhead.

For each architecture the compute guest is loaded with ``load_guest`` and run (through
qpp's own syscall layer) to ``main``. There the whole state is copied (every mapped
region and the CPU context) into a second, bare unicorn engine of the same model, with
no hooks but one that ends emulation at the first syscall (the result being printed).
Then both run the same computation from ``main`` back to back (alternating which goes
first), fresh translation caches on both sides: qpp with ``Machine.run()`` to the guest's
exit, unicorn with ``emu_start``. The bare engine has no hooks at all but that stop (qpp's
per-site quirk hooks, e.g. aarch64's MRS DCZID_EL0, are not copied to it).
Printed per architecture: guest MIPS of each (best of ``--repeat``) and the ratio
bare time / qpp time (target >= 0.9) as the median over the back-to-back pairs, which
resists the load of a shared machine better than a ratio of two best times. Times are the
thread's CPU time by default (``--clock wall`` for elapsed time).
The instruction count is measured once with a block hook on short runs (1 and 2
rounds) and extrapolated, since the work per round is constant.

usage: bench_machine.py [--rounds N] [--arch NAME ...] [--repeat K] [--clock cpu|wall]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import unicorn

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.machine import Machine, create_cpu

ROOT = Path(__file__).resolve().parents[1]
GUESTS = ROOT / "qpp_core" / "guests" / "bin"
ARCHES = ["x86_64", "aarch64", "arm", "riscv64", "mipsel"]


def _at_main(binary: str, rounds: int) -> tuple[Machine, int]:
    m = load_guest(GuestOptions(binary=binary, args=(str(rounds),)))
    main = m.symbols.address_of("main")
    if main is None:
        raise SystemExit(f"{binary}: no 'main' symbol")
    if m.run_until(main) is not None:
        raise SystemExit(f"{binary}: ended before main")
    return m, main


def _count_insns(binary: str, rounds: int) -> int:
    """Guest instructions from main to exit, counted per executed block."""
    m, _ = _at_main(binary, rounds)
    total = 0
    arch = m.arch
    cache: dict[tuple[int, int], int] = {}

    def on_block(uc: Any, addr: int, size: int, data: Any) -> None:
        nonlocal total
        key = (addr, size)
        n = cache.get(key)
        if n is None:
            thumb = arch.name == "arm" and bool(uc.reg_read(arch.registers["cpsr"]) & 0x20)
            n = cache[key] = arch.count_insns(bytes(uc.mem_read(addr, size)), thumb)
        total += n

    m.uc.hook_add(unicorn.UC_HOOK_BLOCK, on_block)
    with open(os.devnull, "w") as null:
        saved = os.dup(1)
        os.dup2(null.fileno(), 1)
        try:
            m.run()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    return total


def _bare_copy(m: Machine) -> Any:
    """A hookless engine of the same model holding the same memory and CPU state."""
    uc = create_cpu(m.arch, None)
    for begin, end, prot in m.uc.mem_regions():
        uc.mem_map(begin, end - begin + 1, prot)
        if prot & 1:
            uc.mem_write(begin, bytes(m.uc.mem_read(begin, end - begin + 1)))
    uc.context_restore(m.uc.context_save())

    def stop(uc: Any, *args: Any) -> None:
        uc.emu_stop()

    if m.arch.syscall.intno is None:
        from unicorn.x86_const import UC_X86_INS_SYSCALL

        uc.hook_add(unicorn.UC_HOOK_INSN, stop, None, 1, 0, UC_X86_INS_SYSCALL)
    else:
        uc.hook_add(unicorn.UC_HOOK_INTR, stop)
    return uc


def bench(
    arch: str, rounds: int, repeat: int, clock: Any = time.thread_time
) -> tuple[float, float, float, int]:
    """(best qpp seconds, best bare seconds, median pair ratio bare/qpp, instructions)."""
    binary = str(GUESTS / f"compute.{arch}")
    per_round = _count_insns(binary, 2) - _count_insns(binary, 1)
    insns = _count_insns(binary, 1) + (rounds - 1) * per_round
    qpp_times: list[float] = []
    bare_times: list[float] = []
    with open(os.devnull, "w") as null:
        for i in range(repeat):
            m, main = _at_main(binary, rounds)
            bare = _bare_copy(m)
            thumb = arch == "arm" and m.uc.reg_read(m.arch.registers["cpsr"]) & 0x20
            begin = main | 1 if thumb else main
            saved = os.dup(1)
            os.dup2(null.fileno(), 1)
            try:
                for side in ("bare", "qpp") if i % 2 == 0 else ("qpp", "bare"):
                    t0 = clock()
                    if side == "bare":
                        bare.emu_start(begin, 0)
                        bare_times.append(clock() - t0)
                    else:
                        result = m.run()
                        qpp_times.append(clock() - t0)
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            if result.status != 0:
                raise SystemExit(f"{binary}: exit {result.status} {result.message or ''}")
    ratio = statistics.median(b / q for b, q in zip(bare_times, qpp_times, strict=True))
    return min(qpp_times), min(bare_times), ratio, insns


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--arch", action="append", choices=ARCHES)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    a = ap.parse_args()
    clock = time.thread_time if a.clock == "cpu" else time.perf_counter
    print(
        f"{'arch':8} {'insns':>12} {'qpp s':>8} {'bare s':>8} {'qpp MIPS':>9} "
        f"{'bare MIPS':>9} {'ratio':>6}"
    )
    worst = 1.0
    for arch in a.arch or ARCHES:
        q, b, ratio, n = bench(arch, a.rounds, a.repeat, clock)
        worst = min(worst, ratio)
        print(
            f"{arch:8} {n:12d} {q:8.3f} {b:8.3f} {n / q / 1e6:9.1f} {n / b / 1e6:9.1f} "
            f"{ratio:6.3f}",
            flush=True,
        )
    print(f"worst ratio {worst:.3f} (target >= 0.9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
