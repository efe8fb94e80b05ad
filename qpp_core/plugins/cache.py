"""``cache``: an L1 instruction/data cache model, and an optional L2 (QEMU's
contrib/plugins/cache.c).

Every instruction fetch goes to the L1 instruction cache and every memory access to the
L1 data cache (looked up by the access's start address, as QEMU does); with ``l2=on`` the
L1 misses of both go to a unified L2. Caches are set-associative, with ``evict=lru``
(default), ``fifo`` or ``rand`` replacement; empty ways are filled first. At exit the
summary table and the instructions with the most misses, in QEMU's layout::

    core #, data accesses, data misses, dmiss rate, insn accesses, insn misses, imiss rate
    0       2000           1               0.0500%  5005           1               0.0200%

    address, data misses, instruction
    0x40100c (_start), 1, mov eax, dword ptr [rdi]
    ...

    address, fetch misses, instruction
    0x401000 (_start), 1, lea rdi, [rip + 0xff9]
    ...

(with ``l2=on``: ``l2 accesses, l2 misses, l2 miss rate`` columns and an
``address, L2 misses, instruction`` list). The lists hold ``limit`` instructions (32),
most misses first (ties by address); like QEMU's, they include instructions without
misses when fewer than ``limit`` missed. The symbol is the one holding the instruction
(``qemu_plugin_insn_symbol``), when known. Disassembly is capstone's.

Arguments (QEMU's names and defaults): ``icachesize`` (16384), ``iblksize`` (64),
``iassoc`` (8), ``dcachesize`` (16384), ``dblksize`` (64), ``dassoc`` (8), ``l2=on|off``
(off), ``l2cachesize`` (2097152), ``l2blksize`` (64), ``l2assoc`` (16) -- giving any
``l2*`` size turns the L2 on unless ``l2=off`` is given --, ``evict=lru|fifo|rand``,
``limit=N`` (32), ``cores=N`` (1: user mode has one vcpu; with more, every core but 0
reports zeros and a ``sum`` row follows, as in QEMU). Block sizes and set counts must be
powers of two and a cache size a multiple of ``blksize * assoc``.

Speed: one Python call per memory access and one per executed block (a block's fetches
are modelled when it starts: instructions after the first in the same cache line are
hits without a lookup). The L1 numbers are what per-instruction fetches give; with
``l2=on`` a block's fetch misses reach the L2 before its data misses, where QEMU
interleaves them per instruction, so L2 numbers can differ slightly from QEMU's.
``rand`` uses Python's generator (seed 1), not glib's: the same run gives the same
numbers, but not QEMU's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from qpp_core import (
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_MEM_RW,
    Arg,
    MemInfo,
    PluginArgumentError,
    TranslationBlock,
    describe_args,
    hookimpl,
    qemu_plugin_outs,
    qemu_plugin_register_vcpu_mem_cb,
    qemu_plugin_register_vcpu_tb_exec_cb,
)

qemu_plugin_version = 2

POLICIES = ("lru", "fifo", "rand")


class Cache:
    """A set-associative cache: ``access(addr)`` counts the access and returns whether it
    hit.

    Lines are identified by ``addr >> log2(blksize)``; the set is that line number's low
    bits. Each set is a dict of resident line numbers in replacement order (oldest
    first): LRU moves a hit line to the end, FIFO leaves the order alone, and both evict
    the first one when the set is full. ``rand`` keeps a list per set and replaces a
    random way once all ways are filled. ``lookup(line)`` is the same without counting
    the access (misses are counted), for callers that count accesses in bulk.
    """

    def __init__(
        self, size: int, blksize: int, assoc: int, policy: str = "lru", seed: int = 1
    ) -> None:
        error = config_error(size, blksize, assoc)
        if error:
            raise ValueError(error)
        if policy not in POLICIES:
            raise ValueError(f"invalid eviction policy: {policy}")
        self.size, self.blksize, self.assoc, self.policy = size, blksize, assoc, policy
        self.n_sets = size // (blksize * assoc)
        self.shift = blksize.bit_length() - 1
        self.set_mask = self.n_sets - 1
        self.accesses = 0
        self.misses = 0
        self._rng = random.Random(seed)
        self._sets: list[dict[int, None]] = [{} for _ in range(self.n_sets)]
        self._ways: list[list[int]] = [[] for _ in range(self.n_sets)] if policy == "rand" else []
        self.lookup: Callable[[int], bool] = {
            "lru": self._lookup_lru,
            "fifo": self._lookup_fifo,
            "rand": self._lookup_rand,
        }[policy]

    def access(self, addr: int) -> bool:
        self.accesses += 1
        return self.lookup(addr >> self.shift)

    def _lookup_lru(self, line: int) -> bool:
        s = self._sets[line & self.set_mask]
        if line in s:
            del s[line]
            s[line] = None
            return True
        self.misses += 1
        if len(s) >= self.assoc:
            del s[next(iter(s))]
        s[line] = None
        return False

    def _lookup_fifo(self, line: int) -> bool:
        s = self._sets[line & self.set_mask]
        if line in s:
            return True
        self.misses += 1
        if len(s) >= self.assoc:
            del s[next(iter(s))]
        s[line] = None
        return False

    def _lookup_rand(self, line: int) -> bool:
        index = line & self.set_mask
        s = self._sets[index]
        if line in s:
            return True
        self.misses += 1
        ways = self._ways[index]
        if len(ways) < self.assoc:
            ways.append(line)
        else:
            way = self._rng.randrange(self.assoc)
            del s[ways[way]]
            ways[way] = line
        s[line] = None
        return False

    def contents(self, addr: int) -> list[int]:
        """Line numbers resident in ``addr``'s set, oldest (next victim for LRU/FIFO) first."""
        line = addr >> self.shift
        return list(self._sets[line & self.set_mask])


def config_error(size: int, blksize: int, assoc: int) -> str | None:
    """Why a cache of these parameters cannot be built (QEMU's checks, plus the powers of
    two its set/tag masks assume), or ``None``."""
    if size <= 0 or blksize <= 0 or assoc <= 0:
        return "cache size, block size and associativity must be positive"
    if blksize & (blksize - 1):
        return f"block size {blksize} is not a power of two"
    if size % blksize:
        return "cache size must be divisible by block size"
    if size % (blksize * assoc):
        return "cache size must be divisible by set size (assoc * block size)"
    sets = size // (blksize * assoc)
    if sets & (sets - 1):
        return f"the number of sets (size / (assoc * block size) = {sets}) is not a power of two"
    return None


def _positive(text: str) -> int:
    value = int(text, 0)
    if value <= 0:
        raise ValueError("expected a positive integer")
    return value


def _policy(text: str) -> str:
    if text not in POLICIES:
        raise ValueError("expected lru, fifo or rand")
    return text


_positive.__name__ = "int"
_policy.__name__ = "lru|fifo|rand"

qemu_plugin_args = {
    "icachesize": Arg(_positive, 16384, "L1 instruction cache size in bytes"),
    "iblksize": Arg(_positive, 64, "L1 instruction cache block size (a power of two)"),
    "iassoc": Arg(_positive, 8, "L1 instruction cache associativity"),
    "dcachesize": Arg(_positive, 16384, "L1 data cache size in bytes"),
    "dblksize": Arg(_positive, 64, "L1 data cache block size (a power of two)"),
    "dassoc": Arg(_positive, 8, "L1 data cache associativity"),
    "l2": Arg(bool, None, "model a unified L2 behind both L1s (default off)"),
    "l2cachesize": Arg(_positive, None, "L2 size in bytes (default 2097152; turns the L2 on)"),
    "l2blksize": Arg(_positive, None, "L2 block size (default 64; turns the L2 on)"),
    "l2assoc": Arg(_positive, None, "L2 associativity (default 16; turns the L2 on)"),
    "evict": Arg(_policy, "lru", "eviction policy"),
    "limit": Arg(int, 32, "instructions in each list of most misses"),
    "cores": Arg(_positive, 1, "caches per core (user mode runs one vcpu: core 0)"),
}

#: insn vaddr -> [data misses, fetch misses, L2 misses] (QEMU's InsnData counters)
_misses: dict[int, list[int]] = {}
#: insn vaddr -> (disassembly, symbol it starts or None)
_meta: dict[int, tuple[str, str | None]] = {}
_state: dict[str, Any] = {}

_dcache: Cache | None = None
_icache: Cache | None = None
_l2: Cache | None = None


def _build(kind: str, size: int, blksize: int, assoc: int, policy: str) -> Cache:
    error = config_error(size, blksize, assoc)
    if error:
        raise PluginArgumentError(
            f"{kind} cannot be constructed from given parameters: {error}; "
            f"it accepts: {describe_args(qemu_plugin_args)}"
        )
    return Cache(size, blksize, assoc, policy)


@hookimpl
def qemu_plugin_install(args: Any) -> None:
    global _dcache, _icache, _l2
    get = args.get
    policy = str(get("evict") or "lru")
    l2_given = any(get(k) is not None for k in ("l2cachesize", "l2blksize", "l2assoc"))
    use_l2 = l2_given if get("l2") is None else bool(get("l2"))
    icache = _build("icache", get("icachesize"), get("iblksize"), get("iassoc"), policy)
    dcache = _build("dcache", get("dcachesize"), get("dblksize"), get("dassoc"), policy)
    l2 = None
    if use_l2:
        l2 = _build(
            "L2 cache",
            get("l2cachesize") or 2097152,
            get("l2blksize") or 64,
            get("l2assoc") or 16,
            policy,
        )
    _icache, _dcache, _l2 = icache, dcache, l2
    _misses.clear()
    _meta.clear()
    _state.clear()
    _state.update(
        limit=int(get("limit")),
        cores=int(get("cores")),
        callbacks=_callbacks(dcache, icache, l2),
    )


MemCb = Callable[[int, MemInfo, int, list[int]], None]
#: per block: (line, insn address, miss record) of each first instruction in a cache
#: line, and the block's instruction count
TbPlan = tuple[tuple[tuple[int, int, list[int]], ...], int]


def _callbacks(
    dcache: Cache, icache: Cache, l2: Cache | None
) -> tuple[MemCb, Callable[[int, TbPlan], None], Callable[[], None]]:
    """The memory and block callbacks, closures over the caches (fast lookups), and a
    function that stores the access counts they keep into the caches.

    Both L1s skip the lookup when an access is to the line the cache saw last: that line
    is resident and the newest of its set, and hitting it again changes nothing under any
    policy."""
    dlookup, dshift = dcache.lookup, dcache.shift
    ilookup = icache.lookup
    l2access = l2.access if l2 is not None else None
    dlast = ilast = -1
    dcount = icount = 0

    def on_mem(vcpu_index: int, info: MemInfo, vaddr: int, rec: list[int]) -> None:
        nonlocal dlast, dcount
        dcount += 1
        line = vaddr >> dshift
        if line != dlast:
            dlast = line
            if not dlookup(line):
                rec[0] += 1
                if l2access is not None and not l2access(vaddr):
                    rec[2] += 1

    def on_tb(vcpu_index: int, plan: TbPlan) -> None:
        # the first instruction of each cache line the block covers is looked up; the
        # others in that line hit (the line was just used and the L1i sees nothing else
        # in between): they are only counted
        nonlocal ilast, icount
        fetches, n_insns = plan
        icount += n_insns
        for line, addr, rec in fetches:
            if line != ilast:
                ilast = line
                if not ilookup(line):
                    rec[1] += 1
                    if l2access is not None and not l2access(addr):
                        rec[2] += 1

    def sync() -> None:
        dcache.accesses, icache.accesses = dcount, icount

    return on_mem, on_tb, sync


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    icache = _icache
    assert icache is not None
    on_mem, on_tb, _ = _state["callbacks"]
    shift = icache.shift
    fetches: list[tuple[int, int, list[int]]] = []
    last_line = -1
    for insn in tb.insns:
        vaddr = insn.vaddr
        rec = _misses.get(vaddr)
        if rec is None:
            rec = _misses[vaddr] = [0, 0, 0]
            _meta[vaddr] = (insn.disas(), insn.symbol())
        if vaddr >> shift != last_line:
            last_line = vaddr >> shift
            fetches.append((last_line, vaddr, rec))
        qemu_plugin_register_vcpu_mem_cb(
            insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, userdata=rec
        )
    plan = (tuple(fetches), len(tb.insns))
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb, QEMU_PLUGIN_CB_NO_REGS, plan)


def _stats_line(
    daccess: int, dmisses: int, iaccess: int, imisses: int, l2access: int, l2misses: int
) -> str:
    drate = dmisses / daccess * 100.0 if daccess else 0.0
    irate = imisses / iaccess * 100.0 if iaccess else 0.0
    line = f"{daccess:<14} {dmisses:<12} {drate:9.4f}%  {iaccess:<14} {imisses:<12} {irate:9.4f}%"
    if l2access and l2misses:  # as QEMU: no L2 columns for a core whose L2 never missed
        line += f"  {l2access:<12} {l2misses:<11} {l2misses / l2access * 100.0:10.4f}%"
    return line + "\n"


def stats() -> list[tuple[int, int, int, int, int, int]]:
    """Per core: (data accesses, data misses, insn accesses, insn misses, L2 accesses,
    L2 misses). Only core 0 runs in user mode."""
    d, i, l2 = _dcache, _icache, _l2
    assert d is not None and i is not None
    _state["callbacks"][2]()
    core0 = (
        d.accesses,
        d.misses,
        i.accesses,
        i.misses,
        l2.accesses if l2 else 0,
        l2.misses if l2 else 0,
    )
    return [core0] + [(0, 0, 0, 0, 0, 0)] * (int(_state.get("cores", 1)) - 1)


def top(which: int, limit: int | None = None) -> list[tuple[int, int]]:
    """(insn address, misses) most misses first: ``which`` 0 data, 1 fetch, 2 L2."""
    n = int(_state.get("limit", 32)) if limit is None else limit
    rows = sorted(((-rec[which], addr) for addr, rec in _misses.items()))
    return [(addr, -neg) for neg, addr in rows[: max(n, 0)]]


def _insn_lines(which: int) -> str:
    out = []
    for addr, misses in top(which):
        disas, symbol = _meta[addr]
        sym = f" ({symbol})" if symbol else ""
        out.append(f"0x{addr:x}{sym}, {misses}, {disas}\n")
    return "".join(out)


@hookimpl
def qemu_plugin_atexit() -> None:
    if _dcache is None:
        return
    head = "core #, data accesses, data misses, dmiss rate, insn accesses, insn misses, imiss rate"
    if _l2 is not None:
        head += ", l2 accesses, l2 misses, l2 miss rate"
    rows = stats()
    out = [head + "\n"]
    for core, row in enumerate(rows):
        out.append(f"{core:<8}" + _stats_line(*row))
    if len(rows) > 1:
        sums = [sum(col) for col in zip(*rows, strict=True)]
        out.append(f"{'sum':<8}" + _stats_line(*sums))
    out.append("\n")
    qemu_plugin_outs("".join(out))
    report = "address, data misses, instruction\n" + _insn_lines(0)
    report += "\naddress, fetch misses, instruction\n" + _insn_lines(1)
    if _l2 is not None:
        report += "\naddress, L2 misses, instruction\n" + _insn_lines(2)
    qemu_plugin_outs(report)
