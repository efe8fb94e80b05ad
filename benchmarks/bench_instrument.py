"""Instrumentation cost on the compute guest: qpp against hand-written bare unicorn.

Usage: ``python benchmarks/bench_instrument.py [--arch x86_64] [--rounds 32]
[--insn-rounds 4]``. Prints guest MIPS for each mode and, for each qpp mode, the ratio
to the bare unicorn script that counts the same way (targets, issue 4: inline counting
>= 0.8x the bare block-hook script; per-instruction callback >= 0.9x the bare code-hook
script). Per-instruction modes run fewer rounds (they are ~1000x slower).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import unicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "instrument"))

from harness import add_plugin, new_session

from qpp_core.guests import guest_path
from qpp_core.instrument import api
from qpp_core.instrument.handles import TranslationBlock
from qpp_core.linux import load_guest
from qpp_core.linux.options import GuestOptions


def _machine(arch: str, rounds: int) -> Any:
    return load_guest(GuestOptions(binary=str(guest_path("compute", arch)), args=(str(rounds),)))


def _timed(run: Callable[[], int]) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = run()
    return n, time.perf_counter() - t0


def bare_none(arch: str, rounds: int, insns: int) -> tuple[int, float]:
    m = _machine(arch, rounds)
    return _timed(lambda: (m.run(), insns)[1])


def bare_block(arch: str, rounds: int, insns: int) -> tuple[int, float]:
    """A block hook through the unicorn binding adding a cached per-block count."""
    m = _machine(arch, rounds)
    count = [0]
    sizes: dict[int, int] = {}
    thumb = m.arch.name == "arm"

    def on_block(uc: Any, address: int, size: int, ud: Any) -> None:
        n = sizes.get(address)
        if n is None:
            t = thumb and bool(uc.reg_read(m.arch.registers["cpsr"]) & 0x20)
            n = sizes[address] = m.arch.count_insns(bytes(uc.mem_read(address, size)), t)
        count[0] += n

    m.uc.hook_add(unicorn.UC_HOOK_BLOCK, on_block)
    return _timed(lambda: (m.run(), count[0])[1])


def bare_code(arch: str, rounds: int, insns: int) -> tuple[int, float]:
    """A code hook through the unicorn binding counting every instruction."""
    m = _machine(arch, rounds)
    count = [0]

    def on_code(uc: Any, address: int, size: int, ud: Any) -> None:
        count[0] += 1

    m.uc.hook_add(unicorn.UC_HOOK_CODE, on_code)
    return _timed(lambda: (m.run(), count[0])[1])


def _qpp(
    arch: str,
    rounds: int,
    trans: Callable[[TranslationBlock], None] | None,
    result: Callable[[], int],
) -> tuple[int, float]:
    m = _machine(arch, rounds)
    session = new_session(m)
    with session.activate():
        if trans is not None:
            add_plugin(session, "bench", qemu_plugin_vcpu_tb_trans=trans)

        def go() -> int:
            session.instrumentation.start()
            m.run()
            session.instrumentation.finish()
            return result()

        return _timed(go)


def qpp_none(arch: str, rounds: int, insns: int) -> tuple[int, float]:
    return _qpp(arch, rounds, None, lambda: insns)


def qpp_inline(arch: str, rounds: int, insns: int) -> tuple[int, float]:
    entry = api.qemu_plugin_scoreboard_u64(api.qemu_plugin_scoreboard_new(8))

    def trans(tb: TranslationBlock) -> None:
        for insn in tb.insns:
            api.qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                insn, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, 1
            )

    return _qpp(arch, rounds, trans, lambda: api.qemu_plugin_u64_sum(entry))


def qpp_block_cb(arch: str, rounds: int, insns: int) -> tuple[int, float]:
    count = [0]

    def on_tb(vcpu: int, n: int) -> None:
        count[0] += n

    def trans(tb: TranslationBlock) -> None:
        api.qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb, userdata=tb.n_insns)

    return _qpp(arch, rounds, trans, lambda: count[0])


def qpp_insn_cb(arch: str, rounds: int, insns: int) -> tuple[int, float]:
    count = [0]

    def on_insn(vcpu: int, ud: Any) -> None:
        count[0] += 1

    def trans(tb: TranslationBlock) -> None:
        for insn in tb.insns:
            api.qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn)

    return _qpp(arch, rounds, trans, lambda: count[0])


PAIRS: list[tuple[str, str, Callable[..., tuple[int, float]], Callable[..., tuple[int, float]]]] = [
    # (qpp mode, bare mode it is compared with, qpp runner, bare runner)
    ("no plugins", "no hooks", qpp_none, bare_none),
    ("inline insn count", "block-hook count", qpp_inline, bare_block),
    ("per-block callback", "block-hook count", qpp_block_cb, bare_block),
    ("per-insn callback", "code-hook count", qpp_insn_cb, bare_code),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="x86_64")
    ap.add_argument("--rounds", type=int, default=128)
    ap.add_argument("--insn-rounds", type=int, default=8)
    ap.add_argument("-n", "--repeat", type=int, default=5, help="runs per mode (best-of)")
    a = ap.parse_args()
    # the guest's stdout (its digest, once per run) goes to a pipe-less sink: a file
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            return _bench(a, os.fdopen(os.dup(saved), "w", buffering=1))
        finally:
            os.dup2(saved, 1)


def _bench(a: argparse.Namespace, out: Any) -> int:
    def print(*args: Any) -> None:  # the report goes to the real stdout
        out.write(" ".join(map(str, args)) + "\n")

    n_full, _ = qpp_inline(a.arch, a.rounds, 0)
    n_small, _ = qpp_inline(a.arch, a.insn_rounds, 0)
    print(
        f"compute.{a.arch}: {n_full} insns at {a.rounds} rounds, "
        f"{n_small} at {a.insn_rounds} rounds; best of {a.repeat} interleaved runs, "
        "ratio = qpp MIPS / bare MIPS (best times; paired median in brackets)"
    )
    print(f"{'mode':<20}{'who':<5}{'insns':>11}{'best s':>8}{'MIPS':>9}  ratio")
    for qname, bname, qfn, bfn in PAIRS:
        small = qname == "per-insn callback"
        rounds, expected = (a.insn_rounds, n_small) if small else (a.rounds, n_full)
        q_times: list[float] = []
        b_times: list[float] = []
        counts: set[int] = set()
        for _ in range(a.repeat):
            # interleaved in one process, so that load drifts hit both sides alike
            _, dt = bfn(a.arch, rounds, expected)
            b_times.append(dt)
            n_q, dt_q = qfn(a.arch, rounds, expected)
            q_times.append(dt_q)
            counts.add(n_q)
        q_best, b_best = min(q_times), min(b_times)
        paired = statistics.median(b / q for b, q in zip(b_times, q_times, strict=True))
        bad = "" if counts == {expected} else f"  COUNT MISMATCH {sorted(counts)} != {expected}"
        print(f"{bname:<20}{'bare':<5}{expected:>11}{b_best:>8.3f}{expected / b_best / 1e6:>9.2f}")
        print(
            f"{qname:<20}{'qpp':<5}{expected:>11}{q_best:>8.3f}{expected / q_best / 1e6:>9.2f}"
            f"  {b_best / q_best:.2f}x [{paired:.2f}x]{bad}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
