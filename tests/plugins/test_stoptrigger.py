"""stoptrigger is exact at instruction granularity, mid-block included, on x86_64, arm
(Thumb), riscv64 and mipsel (delay slots): the guest exits with CODE after exactly N
instructions, ``insn`` (both modes) and ``execlog`` in the same run see exactly N, and no
syscall runs past the stop (the guest's output is cut exactly there)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from qpp_core.guests import MEMLOOP_INSNS
from qpp_core.linux.syscalls.numbers import NUMBERS

ARCHS = ["x86_64", "arm", "riscv64", "mipsel"]
TRAPS = {"x86_64": '"syscall"', "arm": '"svc #0"', "riscv64": '"ecall"', "mipsel": '"syscall"'}


def _execlog(log: str) -> list[str]:
    """The executed instructions' addresses, in order."""
    return [m.group(1) for m in re.finditer(r"^0, (0x[0-9a-f]+), 0x[0-9a-f]+, \"", log, re.M)]


def _lines(log: str) -> list[str]:
    return [x for x in log.splitlines() if re.match(r"0, 0x[0-9a-f]+, 0x[0-9a-f]+, \"", x)]


def _total(log: str) -> int:
    m = re.search(r"total insns: (\d+)", log)
    assert m, log
    return int(m.group(1))


def _loop_positions(addrs: list[str]) -> tuple[int, int]:
    """(n, n + 1): n instructions bring the guest to the head of its hot loop (the most
    frequent backward-branch target, so a block start), n + 1 into that block."""
    back = [i + 1 for i in range(len(addrs) - 1) if int(addrs[i + 1], 16) < int(addrs[i], 16)]
    head = Counter(addrs[i] for i in back).most_common(1)[0][0]
    n = [i for i, a in enumerate(addrs) if a == head][3]
    return n, n + 1


@pytest.mark.parametrize("arch", ARCHS)
def test_icount_is_exact_at_and_inside_a_block(qpp_run: Any, arch: str) -> None:
    addrs = _execlog(qpp_run("memloop", arch, "execlog").log)
    assert len(addrs) == MEMLOOP_INSNS[arch]
    boundary, inside = _loop_positions(addrs)
    # the loop block has 5 instructions: boundary + 4 is its last (mipsel: a delay slot)
    cases = [(n, mode) for n in (0, boundary, inside, boundary + 4) for mode in ("", ",inline=off")]
    for n, mode in [*cases, (len(addrs) - 1, "")]:
        insn = "insn" + mode
        run = qpp_run("memloop", arch, insn, f"stoptrigger,icount={n}:5", "execlog")
        assert run.status == 5, (n, run.stderr)
        assert _total(run.log) == n, (insn, n)
        assert _execlog(run.log) == addrs[:n], (insn, n)
        assert f"icount reached at {addrs[n]}, exiting" in run.log


def _calls(log: str) -> list[int]:
    return [int(n) for n in re.findall(r"^syscall #(\d+)$", log, re.M)]


@pytest.mark.parametrize("arch", ARCHS)
def test_icount_cuts_the_output_at_the_exact_syscall(qpp_run: Any, arch: str) -> None:
    full = qpp_run("hello", arch, "execlog", "syscall,print=true")
    traps = [i for i, x in enumerate(_lines(full.log)) if x.endswith(TRAPS[arch])]
    calls = _calls(full.log)
    assert len(traps) == len(calls)  # the n-th trap makes the n-th call
    write = next(nr for nr, name in NUMBERS[arch].items() if name == "write")
    third = traps[[k for k, nr in enumerate(calls) if nr == write][2]]
    before = qpp_run("hello", arch, "insn", f"stoptrigger,icount={third}:3", "syscall,print=true")
    after = qpp_run("hello", arch, "insn", f"stoptrigger,icount={third + 1}:3")
    assert before.status == after.status == 3
    assert _total(before.log) == third and _total(after.log) == third + 1
    done = traps.index(third)
    assert _calls(before.log) == calls[:done]  # every call before the stop, none after
    # the third write's bytes appear exactly when its trap was allowed to run
    assert before.stdout and len(after.stdout) > len(before.stdout)
    assert full.stdout.startswith(after.stdout) and after.stdout.startswith(before.stdout)


@pytest.mark.parametrize("arch", ARCHS)
def test_addr_stops_mid_block_before_the_instruction(qpp_run: Any, arch: str) -> None:
    addrs = _execlog(qpp_run("memloop", arch, "execlog").log)
    _, inside = _loop_positions(addrs)
    target = addrs[inside]
    first = addrs.index(target)
    for insn in ("insn", "insn,inline=off"):
        run = qpp_run("memloop", arch, f"stoptrigger,addr={target}:9", insn)
        assert run.status == 9, run.stderr
        assert f"{target} reached, exiting" in run.log
        assert _total(run.log) == first
