#!/usr/bin/env python3
"""qpp's machine against a bare unicorn run of the same image: the no-plugin overhead.

For each architecture the compute guest is loaded with ``load_guest`` and run (through
qpp's own syscall layer) to ``main``. There the whole state is copied (every mapped
region and the CPU context) into a second, bare unicorn engine of the same model, with
no hooks but one that ends emulation at the first syscall (the result being printed).
Then both run the same computation from ``main`` (alternating which goes first; best of
``--repeat``), fresh translation caches on both
sides: qpp with ``Machine.run()`` to the guest's exit, unicorn with ``emu_start``.
Printed per architecture: guest MIPS of each and the ratio qpp/bare (target >= 0.9).
The instruction count is measured once with a block hook on short runs (1 and 2
rounds) and extrapolated, since the work per round is constant.

usage: bench_machine.py [--rounds N] [--arch NAME ...] [--repeat K]
"""

from __future__ import annotations

import argparse
import os
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


def bench(arch: str, rounds: int, repeat: int) -> tuple[float, float, int]:
    binary = str(GUESTS / f"compute.{arch}")
    per_round = _count_insns(binary, 2) - _count_insns(binary, 1)
    insns = _count_insns(binary, 1) + (rounds - 1) * per_round
    best_qpp = best_bare = float("inf")
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
                    t0 = time.perf_counter()
                    if side == "bare":
                        bare.emu_start(begin, 0)
                        best_bare = min(best_bare, time.perf_counter() - t0)
                    else:
                        result = m.run()
                        best_qpp = min(best_qpp, time.perf_counter() - t0)
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            if result.status != 0:
                raise SystemExit(f"{binary}: exit {result.status} {result.message or ''}")
    return best_qpp, best_bare, insns


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--arch", action="append", choices=ARCHES)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(
        f"{'arch':8} {'insns':>12} {'qpp s':>8} {'bare s':>8} {'qpp MIPS':>9} "
        f"{'bare MIPS':>9} {'ratio':>6}"
    )
    worst = 1.0
    for arch in a.arch or ARCHES:
        q, b, n = bench(arch, a.rounds, a.repeat)
        ratio = b / q
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
