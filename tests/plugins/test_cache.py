"""The ``cache`` plugin (QEMU's contrib/plugins/cache.c): the model against hand-computed
sequences and a straightforward reference model written here, and the plugin on real
guests against memloop's source and the address trace ``execlog`` logs in the same run."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from qpp_core.guests import ARCHES, MEMLOOP_INSNS, MEMLOOP_LOADS, MEMLOOP_STORES
from qpp_core.plugins.cache import Cache, config_error

# --- the model ----------------------------------------------------------------------------


class Reference:
    """QEMU's layout, written plainly: per set ``assoc`` blocks (valid, tag), an LRU
    generation stamp per block, a FIFO queue of block indices; an empty block is filled
    first, else the policy's victim."""

    def __init__(self, size: int, blksize: int, assoc: int, policy: str) -> None:
        self.blksize, self.assoc, self.policy = blksize, assoc, policy
        self.n_sets = size // (blksize * assoc)
        self.blocks = [[(False, 0)] * assoc for _ in range(self.n_sets)]
        self.stamp = [[0] * assoc for _ in range(self.n_sets)]
        self.queue: list[list[int]] = [[] for _ in range(self.n_sets)]
        self.gen = 0
        self.misses = 0

    def access(self, addr: int) -> bool:
        block = addr // self.blksize
        s, tag = block % self.n_sets, block // self.n_sets
        self.gen += 1
        for i, (valid, t) in enumerate(self.blocks[s]):
            if valid and t == tag:
                self.stamp[s][i] = self.gen
                return True
        self.misses += 1
        empty = [i for i, (valid, _) in enumerate(self.blocks[s]) if not valid]
        if empty:
            victim = empty[0]
        elif self.policy == "lru":
            victim = min(range(self.assoc), key=lambda i: self.stamp[s][i])
        else:
            victim = self.queue[s].pop(0)
        self.blocks[s][victim] = (True, tag)
        self.stamp[s][victim] = self.gen
        self.queue[s].append(victim)
        return False


def _hits(cache: Cache, addrs: list[int]) -> list[bool]:
    return [cache.access(a) for a in addrs]


# 16-byte blocks, 2 ways, 2 sets: A, B and C (lines 0, 2, 4) share set 0
A, B, C = 0x00, 0x20, 0x40


def test_lru_by_hand() -> None:
    cache = Cache(64, 16, 2, "lru")
    # A B | A hits (A newest) | C evicts B | A hits | B evicts C
    assert _hits(cache, [A, B, A, C, A, B]) == [False, False, True, False, True, False]
    assert cache.contents(A) == [A >> 4, B >> 4]  # B newest
    assert (cache.accesses, cache.misses) == (6, 4)


def test_fifo_by_hand() -> None:
    cache = Cache(64, 16, 2, "fifo")
    # A B | A hits but stays oldest | C evicts A | A evicts B | B evicts C
    assert _hits(cache, [A, B, A, C, A, B]) == [False, False, True, False, False, False]
    assert cache.contents(A) == [A >> 4, B >> 4]
    assert (cache.accesses, cache.misses) == (6, 5)


@pytest.mark.parametrize("policy", ["lru", "fifo", "rand"])
def test_lines_and_sets(policy: str) -> None:
    cache = Cache(64, 16, 2, policy)
    assert _hits(cache, [0x0, 0xF, 0x10, 0x1F]) == [False, True, False, True]  # 2 lines
    # set 1 (lines 1, 3, 5...) filling up leaves set 0 alone
    assert _hits(cache, [0x30, 0x50, 0x70, 0x0]) == [False, False, False, True]
    direct = Cache(32, 16, 1, policy)  # direct mapped: A and B ping-pong in set 0
    assert _hits(direct, [A, B, A, B, 0x10, 0x10]) == [False] * 5 + [True]


def test_rand_fills_empty_ways_then_replaces_one_way() -> None:
    cache = Cache(64, 16, 2, "rand", seed=7)
    assert _hits(cache, [A, B, A, B]) == [False, False, True, True]
    assert cache.access(C) is False
    left = cache.contents(A)
    assert len(left) == 2 and C >> 4 in left and len({A >> 4, B >> 4} & set(left)) == 1
    again = Cache(64, 16, 2, "rand", seed=7)
    _hits(again, [A, B, A, B, C])
    assert again.contents(A) == left  # seeded: reproducible


@pytest.mark.parametrize("policy", ["lru", "fifo"])
@pytest.mark.parametrize(("size", "blksize", "assoc"), [(256, 16, 4), (192, 16, 3), (64, 8, 1)])
def test_model_matches_the_reference(policy: str, size: int, blksize: int, assoc: int) -> None:
    rng = random.Random(size + assoc)
    hot = [rng.randrange(0, 4096) for _ in range(24)]
    trace = [
        rng.choice(hot) if rng.random() < 0.7 else rng.randrange(0, 1 << 16) for _ in range(5000)
    ]
    cache, ref = Cache(size, blksize, assoc, policy), Reference(size, blksize, assoc, policy)
    assert _hits(cache, trace) == [ref.access(a) for a in trace]
    assert cache.misses == ref.misses


def test_config_errors() -> None:
    assert config_error(16384, 64, 8) is None
    assert config_error(3 * 64 * 16, 64, 3) is None  # assoc need not be a power of two
    assert "power of two" in str(config_error(16384, 48, 8))
    assert "divisible by set size" in str(config_error(16384, 64, 3))
    assert "divisible by block size" in str(config_error(100, 64, 1))
    assert "number of sets" in str(config_error(3 * 64 * 8, 64, 8))
    with pytest.raises(ValueError, match="eviction policy"):
        Cache(64, 16, 2, "lfu")


# --- on guests ----------------------------------------------------------------------------

HEAD = "core #, data accesses, data misses, dmiss rate, insn accesses, insn misses, imiss rate"
L2_HEAD = HEAD + ", l2 accesses, l2 misses, l2 miss rate"
ROW = re.compile(
    r"(\d+|sum) +(\d+) +(\d+) +(\d+\.\d{4})%  (\d+) +(\d+) +(\d+\.\d{4})%"
    r"(?:  (\d+) +(\d+) +(\d+\.\d{4})%)?"
)


def _summary(log: str) -> dict[str, tuple[int, ...]]:
    lines = log.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("core #"))
    rows = {}
    for line in lines[start + 1 :]:
        if not line:
            break
        m = ROW.fullmatch(line)
        assert m, line
        rows[m[1]] = tuple(int(m[i]) for i in (2, 3, 5, 6, 8, 9) if m[i] is not None)
        for acc, miss, rate in ((2, 3, 4), (5, 6, 7)):
            a, b = int(m[acc]), int(m[miss])
            assert float(m[rate]) == pytest.approx(100 * b / a if a else 0, abs=1e-4)
    return rows


def _top(log: str, what: str) -> list[tuple[int, str | None, int, str]]:
    lines = log.splitlines()
    start = lines.index(f"address, {what} misses, instruction")
    rows = []
    for line in lines[start + 1 :]:
        if not line:
            break
        m = re.fullmatch(r"0x([0-9a-f]+)(?: \((\S+)\))?, (\d+), (.+)", line)
        assert m, line
        rows.append((int(m[1], 16), m[2], int(m[3]), m[4]))
    return rows


def _trace(log: str) -> tuple[list[int], list[int]]:
    """Instruction addresses and data addresses, in order, from execlog's lines."""
    insns, data = [], []
    for line in log.splitlines():
        m = re.match(
            r"0, 0x([0-9a-f]+), 0x[0-9a-f]+, \".*\"((?:, (?:load|store), 0x[0-9a-f]+)*)$", line
        )
        if m:
            insns.append(int(m[1], 16))
            data += [int(a, 16) for a in re.findall(r", (?:load|store), 0x([0-9a-f]+)", m[2])]
    return insns, data


@pytest.mark.parametrize("arch", ARCHES)
def test_memloop_counts_are_the_sources(qpp_run: Any, arch: str) -> None:
    run = qpp_run("memloop", arch, "cache", "execlog")
    assert run.status == 0, run.stderr
    insns, _ = _trace(run.log)
    assert run.log.splitlines()[len(insns)] == HEAD  # execlog's lines, then the table
    (row,) = _summary(run.log).values()
    daccess, dmisses, iaccess, imisses = row
    assert daccess == MEMLOOP_LOADS + MEMLOOP_STORES
    assert dmisses == 1  # one aligned 32-bit word: one line, one compulsory miss
    assert iaccess == MEMLOOP_INSNS[arch]
    assert imisses == len({a // 64 for a in insns})  # code fits: compulsory misses only
    load = next(a for a, line in zip(insns, run.log.splitlines(), strict=False) if "load" in line)
    top = _top(run.log, "data")
    assert top[0][0] == load and top[0][2] == 1
    assert [r[2] for r in top[1:]] == [0] * (len(top) - 1)
    assert len(top) == len(set(insns))  # fewer than limit (32): every instruction, as QEMU
    fetch = _top(run.log, "fetch")
    assert sum(r[2] for r in fetch) == imisses and fetch[0][0] == insns[0]


@pytest.mark.parametrize(
    ("arch", "guest", "args"),
    [
        ("x86_64", "memloop", "iblksize=4,iassoc=1,icachesize=8"),
        ("riscv64", "memloop", "iblksize=4,iassoc=2,icachesize=8,evict=fifo"),
        ("x86_64", "hello", "dcachesize=256,dblksize=16,dassoc=2,icachesize=512,iblksize=32"),
        ("aarch64", "hello", "dcachesize=128,dblksize=8,dassoc=4,evict=fifo,icachesize=512"),
    ],
)
def test_tiny_caches_match_the_reference_on_execlogs_trace(
    qpp_run: Any, arch: str, guest: str, args: str
) -> None:
    run = qpp_run(guest, arch, f"cache,{args}", "execlog")
    assert run.status == 0, run.stderr
    opts = dict(kv.split("=") for kv in args.split(","))
    policy = opts.get("evict", "lru")

    def ref(p: str) -> Reference:
        return Reference(
            int(opts.get(f"{p}cachesize", 16384)),
            int(opts.get(f"{p}blksize", 64)),
            int(opts.get(f"{p}assoc", 8)),
            policy,
        )

    iref, dref = ref("i"), ref("d")
    insns, data = _trace(run.log)
    for a in insns:
        iref.access(a)
    for a in data:
        dref.access(a)
    (row,) = _summary(run.log).values()
    assert row == (len(data), dref.misses, len(insns), iref.misses)
    assert iref.misses > len({a // iref.blksize for a in insns}) or dref.misses > len(
        {a // dref.blksize for a in data}
    )  # the geometry really causes conflict or capacity misses


def test_l2_sees_the_l1_misses(qpp_run: Any) -> None:
    run = qpp_run("hello", "x86_64", "cache,l2=on,limit=4")
    (row,) = _summary(run.log).values()
    _, dmisses, _, imisses, l2access, l2misses = row
    assert run.log.splitlines()[0] == L2_HEAD
    assert l2access == dmisses + imisses
    assert l2misses == l2access  # L1 and L2 lines are both 64 bytes: all compulsory
    for what in ("data", "fetch", "L2"):
        assert len(_top(run.log, what)) == 4
    l2top = _top(run.log, "L2")
    assert [r[2] for r in l2top] == sorted((r[2] for r in l2top), reverse=True)
    # an L2 size alone turns the L2 on, l2=off wins
    assert qpp_run("memloop", "x86_64", "cache,l2assoc=8").log.splitlines()[0] == L2_HEAD
    assert qpp_run("memloop", "x86_64", "cache,l2assoc=8,l2=off").log.splitlines()[0] == HEAD


def test_cores_rows_and_sum(qpp_run: Any) -> None:
    rows = _summary(qpp_run("memloop", "x86_64", "cache,cores=3").log)
    assert list(rows) == ["0", "1", "2", "sum"]
    assert rows["1"] == rows["2"] == (0, 0, 0, 0)
    assert rows["sum"] == rows["0"] == (2000, 1, MEMLOOP_INSNS["x86_64"], 1)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ("iblksize=48", "icache cannot be constructed from given parameters: block size 48 is"),
        ("dassoc=3", "dcache cannot be constructed from given parameters: cache size must be"),
        ("l2assoc=3", "L2 cache cannot be constructed from given parameters"),
        ("evict=lfu", "evict=lfu: expected lru, fifo or rand; it accepts: cores="),
        ("dcachesize=0", "dcachesize=0: expected a positive integer"),
        ("colour=1", "has no argument 'colour'; it accepts: cores="),
    ],
)
def test_bad_arguments_fail_before_the_guest_starts(qpp_run: Any, args: str, needle: str) -> None:
    run = qpp_run("hello", "x86_64", f"cache,{args}")
    assert run.status == 77
    assert needle in run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert run.stdout == ""


def test_help_and_list() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "qpp_core", "help", "cache"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "iblksize" in out.stdout and "evict" in out.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "qpp_core", "list"], capture_output=True, text=True
    ).stdout
    assert [x.split()[0] for x in listed.splitlines()[1:] if x.strip()].count("cache") == 1
