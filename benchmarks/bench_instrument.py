"""Instrumentation cost on the compute guest: qpp against hand-written bare unicorn.

Usage: ``python benchmarks/bench_instrument.py [--arch x86_64] [--rounds 32]
[--insn-rounds 4]``. Prints guest MIPS for each mode and, for each qpp mode, the ratio
to the bare unicorn script that counts the same way (targets, issue 4: inline counting
>= 0.8x the bare block-hook script; per-instruction callback >= 0.9x the bare code-hook
script). Per-instruction modes run fewer rounds (they are ~1000x slower).
"""

from __future__ import annotations

import argparse
import sys
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="x86_64")
    ap.add_argument("--rounds", type=int, default=32)
    ap.add_argument("--insn-rounds", type=int, default=2)
    a = ap.parse_args()
    n_full, _ = qpp_inline(a.arch, a.rounds, 0)
    n_small, _ = qpp_inline(a.arch, a.insn_rounds, 0)
    rows: list[tuple[str, str, Callable[..., tuple[int, float]], int, int]] = [
        ("no hooks", "bare", bare_none, a.rounds, n_full),
        ("no plugins", "qpp", qpp_none, a.rounds, n_full),
        ("block-hook count", "bare", bare_block, a.rounds, n_full),
        ("inline insn count", "qpp", qpp_inline, a.rounds, n_full),
        ("per-block callback", "qpp", qpp_block_cb, a.rounds, n_full),
        ("code-hook count", "bare", bare_code, a.insn_rounds, n_small),
        ("per-insn callback", "qpp", qpp_insn_cb, a.insn_rounds, n_small),
    ]
    baseline = {
        "no plugins": "no hooks",
        "inline insn count": "block-hook count",
        "per-block callback": "block-hook count",
        "per-insn callback": "code-hook count",
    }
    mips: dict[str, float] = {}
    print(
        f"compute.{a.arch}: {n_full} insns at {a.rounds} rounds, "
        f"{n_small} at {a.insn_rounds} rounds"
    )
    print(f"{'mode':<22}{'who':<6}{'insns':>12}{'seconds':>9}{'MIPS':>9}  ratio")
    for name, who, fn, rounds, expected in rows:
        n, dt = fn(a.arch, rounds, expected)
        mips[name] = n / dt / 1e6
        ratio = ""
        if name in baseline:
            ratio = f"{mips[name] / mips[baseline[name]]:.2f}x {baseline[name]}"
        flag = "" if n == expected else f"  COUNT MISMATCH (expected {expected})"
        print(f"{name:<22}{who:<6}{n:>12}{dt:>9.2f}{mips[name]:>9.2f}  {ratio}{flag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
