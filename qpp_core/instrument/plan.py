"""What runs when an announced block executes: :class:`BlockPlan` and its compilation.

Inline operations are folded per block at translation time (every instruction's ``add``
to the same entry becomes one add of the sum, a ``store`` followed by adds becomes one
store), so inline counting costs one Python call per executed block, never one per
instruction. The plan keeps them as plain ``(slots, index, value)`` triples so that a
native backend could replace the Python loop without any plugin noticing.

The signatures here decide when two blocks registered the same callbacks on one address,
so that they can share one dispatcher (see ``Tables._per_block``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument.backend import new_cell
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
    ``extra`` runs the block's execution callbacks (``None`` when it has none);
    ``extra_kind`` is ``"exec"`` when ``extra`` is exactly the compiled ``tb.exec_cbs``
    (then the native backend may test their conditions before calling it).
    ``snaps`` are ``(cell, slots, index)``: entries whose value at block start is saved
    into ``cell[0]`` before the folded ops apply (see :func:`exact_conds`).
    """

    __slots__ = (
        "adds",
        "extra",
        "extra_kind",
        "retranslated",
        "size",
        "snaps",
        "stores",
        "tb",
        "vaddr",
    )

    def __init__(self, tb: TranslationBlock) -> None:
        self.tb = tb
        self.vaddr = tb.vaddr
        self.size = tb.size
        self.adds: list[Folded] = []
        self.stores: list[Folded] = []
        self.snaps: list[tuple[Any, Any, int]] = []
        self.extra: Callable[[], None] | None = None
        self.extra_kind = ""
        self.retranslated = False


def fold_inline(records: list[InlineRecord]) -> tuple[list[Folded], list[Folded]]:
    """Fold inline ops applied in order into at most one add or one store per entry."""
    folded: dict[tuple[int, int], tuple[list[int], int, InlineOp, int]] = {}
    for rec in records:
        vals = rec.entry.score.live
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


def make_cond(
    cond: Cond, entry: Any, imm: int, k: int = 0, snap: Any = None
) -> Callable[[], bool] | None:
    """A predicate for a conditional callback (``None`` for ALWAYS).

    It tests ``entry - k`` (plus ``snap[0]``, the entry's value at block start, when
    given): the value QEMU would show, the block's inline ops being folded (see
    :func:`exact_conds`)."""
    if cond is Cond.ALWAYS:
        return None
    vals = entry.score.live
    slot = entry.slot
    if snap is not None:
        cell = snap

        def value() -> int:
            return int(vals[slot] - k + cell[0])

        tests: dict[Cond, Callable[[], bool]] = {
            Cond.EQ: lambda: value() == imm,
            Cond.NE: lambda: value() != imm,
            Cond.LT: lambda: value() < imm,
            Cond.LE: lambda: value() <= imm,
            Cond.GT: lambda: value() > imm,
            Cond.GE: lambda: value() >= imm,
        }
        return tests[cond]
    # ``entry - k <cond> imm`` is ``entry <cond> imm + k``: no subtraction per test
    lim = imm + k
    tests = {
        Cond.EQ: lambda: vals[slot] == lim,
        Cond.NE: lambda: vals[slot] != lim,
        Cond.LT: lambda: vals[slot] < lim,
        Cond.LE: lambda: vals[slot] <= lim,
        Cond.GT: lambda: vals[slot] > lim,
        Cond.GE: lambda: vals[slot] >= lim,
    }
    return tests[cond]


#: the folded effect of inline ops on one entry: ``(False, a)`` adds ``a``,
#: ``(True, s)`` leaves ``s`` whatever the value before
Effect = tuple[bool, int]


def _effect(records: list[InlineRecord], vals: list[int], slot: int) -> Effect:
    store, value = False, 0
    for rec in records:
        if rec.entry.score.live is vals and rec.entry.slot == slot:
            if rec.op is InlineOp.STORE_U64:
                store, value = True, rec.imm
            else:
                value += rec.imm
    return store, value


def exact_conds(plan: BlockPlan) -> None:
    """Make the conditional callbacks of ``plan``'s block see QEMU's value.

    QEMU applies a block's inline ops and runs its callbacks in registration order, the
    block's at its start, each instruction's as it executes; qpp folds all of them into
    one application at block start. So each condition is compiled, per block, against
    the value it reads then: with ``F`` the folded effect of the whole block on the
    entry and ``P`` that of the ops before the callback (the block's, the earlier
    instructions', and its own instruction's registered before it), QEMU's value is
    ``v - (F - P)`` when both are adds or both end in a store (``v`` the value read);
    when the block stores to the entry only after the callback, the value at block start
    is saved (``plan.snaps``) and QEMU's is ``v - F + start + P``. Memory inline ops
    apply as the accesses happen in both, so their adds are seen exactly (a memory inline
    *store* to an entry that the block also adds to is not: the folded adds are lost).
    """
    tb = plan.tb
    plan.snaps = []
    if not any(e.cond_spec for e in tb.exec_cbs) and not any(
        e.cond_spec for insn in tb.insns for e in insn.exec_cbs
    ):
        return  # the usual case: nothing to correct
    # (callback, the records applied before it runs)
    cbs = [(e, [r for r in tb.inline if r.seq < e.seq]) for e in tb.exec_cbs if e.cond_spec]
    before: list[InlineRecord] = list(tb.inline)
    for insn in tb.insns:
        cbs += [
            (e, before + [r for r in insn.inline if r.seq < e.seq])
            for e in insn.exec_cbs
            if e.cond_spec
        ]
        before = before + insn.inline
    snapped: dict[tuple[int, int], Any] = {}
    for e, records in cbs:
        assert e.cond_spec is not None
        cond, entry, imm = e.cond_spec
        vals, slot = entry.score.live, entry.slot
        fstore, fval = _effect(before, vals, slot)
        pstore, pval = _effect(records, vals, slot)
        snap = None
        if fstore and not pstore:
            key = (id(vals), slot)
            snap = snapped.get(key)
            if snap is None:
                snap = snapped[key] = new_cell()
                plan.snaps.append((snap, vals, slot))
        k = fval - pval
        e.cond = make_cond(cond, entry, imm, k, snap)
        e.cond_exact = (cond, entry, imm, k, snap)
        e.cond_key = (int(cond), id(entry.score), slot, imm, k, id(snap))


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
