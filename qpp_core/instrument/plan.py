"""What runs when an announced block executes: :class:`BlockPlan` and its compilation.

Inline operations are folded per block at translation time (every instruction's ``add``
to the same entry becomes one add of the sum, a ``store`` followed by adds becomes one
store), so inline counting costs one Python call per executed block, never one per
instruction. The plan keeps them as plain ``(slots, index, value)`` triples so that a
native backend could replace the Python loop without any plugin noticing.

The signatures here decide when two blocks registered the same callbacks on one address,
so that they can share one dispatcher (see ``TablesMixin._per_block``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument.handles import (
    Cond,
    ExecCallback,
    InlineOp,
    InlineRecord,
    Instruction,
    TranslationBlock,
)
from qpp_core.session import LoadedPlugin

#: one folded inline operation: the scoreboard's value list, the slot, the operand
Folded = tuple[list[int], int, int]


class BlockPlan:
    """What runs when one announced block executes.

    ``adds`` and ``stores`` are the folded inline operations, ``(slots, index, value)``;
    ``extra`` runs the block's execution callbacks (``None`` when it has none).
    """

    __slots__ = ("adds", "extra", "retranslated", "size", "stores", "tb", "vaddr")

    def __init__(self, tb: TranslationBlock) -> None:
        self.tb = tb
        self.vaddr = tb.vaddr
        self.size = tb.size
        self.adds: list[Folded] = []
        self.stores: list[Folded] = []
        self.extra: Callable[[], None] | None = None
        self.retranslated = False


def fold_inline(records: list[InlineRecord]) -> tuple[list[Folded], list[Folded]]:
    """Fold inline ops applied in order into at most one add or one store per entry."""
    folded: dict[tuple[int, int], tuple[list[int], int, InlineOp, int]] = {}
    for rec in records:
        vals = rec.entry.score.vcpus[0]
        key = (id(vals), rec.entry.slot)
        prev = folded.get(key)
        if rec.op is InlineOp.STORE_U64 or prev is None:
            folded[key] = (vals, rec.entry.slot, rec.op, rec.imm)
        else:
            folded[key] = (vals, rec.entry.slot, prev[2], prev[3] + rec.imm)
    adds = [(v, s, imm) for v, s, op, imm in folded.values() if op is InlineOp.ADD_U64 and imm]
    stores = [(v, s, imm) for v, s, op, imm in folded.values() if op is InlineOp.STORE_U64]
    return adds, stores


def block_inline(tb: TranslationBlock) -> list[InlineRecord]:
    """The inline ops of ``tb`` in the order they apply: the block's, then each insn's."""
    records = list(tb.inline)
    for insn in tb.insns:
        records.extend(insn.inline)
    return records


def make_cond(cond: Cond, entry: Any, imm: int) -> Callable[[], bool] | None:
    """A predicate for a conditional callback (``None`` for ALWAYS)."""
    vals = entry.score.vcpus[0]
    slot = entry.slot
    tests: dict[Cond, Callable[[], bool]] = {
        Cond.EQ: lambda: vals[slot] == imm,
        Cond.NE: lambda: vals[slot] != imm,
        Cond.LT: lambda: vals[slot] < imm,
        Cond.LE: lambda: vals[slot] <= imm,
        Cond.GT: lambda: vals[slot] > imm,
        Cond.GE: lambda: vals[slot] >= imm,
    }
    if cond is Cond.ALWAYS:
        return None
    return tests[cond]


def disabled(owner: LoadedPlugin | None) -> bool:
    """Whether ``owner`` was disabled after an error (its registrations no longer run)."""
    return owner is not None and owner.disabled


def exec_signature(entries: list[ExecCallback]) -> list[tuple[Any, ...]]:
    """What makes two lists of execution callbacks behave the same."""
    return [(id(e.owner), e.fn, _ident(e.userdata), e.flags, e.cond_key) for e in entries]


def mem_signature(insn: Instruction) -> tuple[list[Any], list[Any]]:
    """What makes the memory instrumentation of two instructions behave the same."""
    return (
        [(id(c.owner), c.fn, _ident(c.userdata), c.flags, c.rw) for c in insn.mem_cbs],
        [
            (id(r.owner), r.op, id(r.entry.score), r.entry.slot, r.imm, r.rw)
            for r in insn.mem_inline
        ],
    )


def _ident(value: Any) -> Any:
    """Compare userdata by value when cheap and safe, by identity otherwise."""
    if value is None or isinstance(value, (int, str, bytes, float, bool)):
        return (type(value), value)
    return id(value)
