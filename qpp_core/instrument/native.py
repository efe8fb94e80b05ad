"""The native backend's Python half: mirroring plans into the C tables of ``_fastpath.c``.

With the native backend the block hook and the memory hook unicorn calls are C functions
(``qpp_on_block``, ``qpp_on_mem``). They read tables that this module keeps equal to the
Python ones: :class:`BlockTable` is the engine's ``blocks`` dict, and every change to it
(a block announced, forgotten, flushed) is mirrored as the block's folded inline
operations, the conditions of its conditional callbacks and a flag saying whether it
needs Python; :class:`MemTable` does the same for the memory table (per accessing
instruction: its memory inline operations, and whether it has Python callbacks).

What the C side cannot do it hands to Python unchanged: a block not announced yet, or one
that must go through Python for another reason (Thumb IT callbacks pending, a mips
one-instruction block to check) runs the Python block hook, which does everything itself
on the same scoreboard memory. So the two backends share every decision and can only
differ in speed.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qpp_core.instrument import _uc
from qpp_core.instrument.backend import native_lib
from qpp_core.instrument.handles import Cond, InlineOp, Instruction

if TYPE_CHECKING:
    from qpp_core.instrument.context import Context
    from qpp_core.instrument.failures import Failures
    from qpp_core.instrument.plan import BlockPlan
    from qpp_core.machine.arch.base import Arch

_u64 = ctypes.c_uint64
_u32 = ctypes.c_uint32
_ptr = ctypes.c_void_p

OP_ADD, OP_STORE, OP_SNAP = 0, 1, 2
F_PY, F_BRANCH = 1, 2
_CMP = {Cond.EQ: 0, Cond.NE: 1, Cond.LT: 2, Cond.LE: 3, Cond.GT: 4, Cond.GE: 5}
_I64 = 1 << 63
_I128 = 1 << 127


class _Table(ctypes.Structure):
    _fields_ = (("tab", _ptr), ("cap", _u64), ("used", _u64), ("filled", _u64))


class _State(ctypes.Structure):
    """``qpp_state``."""

    _fields_ = (
        ("blocks", _Table),
        ("mem", _Table),
        ("current_vcpu", _u32),
        ("py_all", _u32),
        ("mips_guard", _u32),
        ("cur", _ptr),
        ("slot_next", _ptr),
        ("py_block", _ptr),
        ("py_extra", _ptr),
        ("py_mem", _ptr),
        ("reg_read", _ptr),
        ("pc_reg", ctypes.c_int),
        ("n_native", _u64),
        ("n_python", _u64),
        ("n_mem_native", _u64),
        ("stop_req", _ptr),
    )


class _Op(ctypes.Structure):
    _fields_ = (
        ("kind", _u32),
        ("rw", _u32),
        ("score", _ptr),
        ("slot", _u64),
        ("imm", _u64),
        ("cell", _ptr),
    )


class _Cond(ctypes.Structure):
    _fields_ = (
        ("cmp", _u32),
        ("has_cell", _u32),
        ("score", _ptr),
        ("slot", _u64),
        ("k", ctypes.c_int64),
        ("imm_hi", ctypes.c_int64),
        ("imm_lo", _u64),
        ("cell", _ptr),
    )


_PY_BLOCK = ctypes.CFUNCTYPE(None, _u64, _u32)
_PY_EXTRA = ctypes.CFUNCTYPE(None, _u64)
_PY_MEM = ctypes.CFUNCTYPE(None, _u64, ctypes.c_int, _u64, ctypes.c_int, ctypes.c_int64)


def _setup(lib: Any) -> None:
    if getattr(lib, "_qpp_typed", False):
        return
    lib.qpp_block_put.argtypes = (_ptr, _u64, _u32, _u32, _ptr, _u32, _ptr, _u32)
    lib.qpp_block_del.argtypes = (_ptr, _u64)
    lib.qpp_blocks_clear.argtypes = (_ptr,)
    lib.qpp_mem_put.argtypes = (_ptr, _u64, _u32, _ptr, _u32)
    lib.qpp_mem_del.argtypes = (_ptr, _u64)
    lib.qpp_mem_clear.argtypes = (_ptr,)
    lib._qpp_typed = True


def _score(vals: Any) -> int | None:
    """The ``qpp_score`` address behind a vCPU's slots (``None``: not native storage)."""
    store = getattr(vals, "store", None)
    if store is None or store.desc is None:
        return None
    return ctypes.addressof(store.desc)


def _addr(cell: Any) -> int:
    return ctypes.addressof(cell)


class Native:
    """The C state of one engine, and the mirroring of its tables into it.

    It owns the two mirrored tables, :attr:`blocks` and :attr:`mem_table`, which the
    block cache and the callback tables use as their dicts.
    """

    def __init__(self, arch: Arch, raw: _uc.RawHooks, ctx: Context, failures: Failures) -> None:
        lib = native_lib()
        _setup(lib)
        self.lib = lib
        self.raw = raw
        self.ctx = ctx
        self.failures = failures
        self.state = _State()
        self.ptr = ctypes.addressof(self.state)
        self.state.cur = _addr(ctx.cur)
        self.state.slot_next = _addr(ctx.slot_next)
        self.state.reg_read = ctypes.cast(_uc._lib.uc_reg_read, _ptr).value
        self.state.pc_reg = arch.pc
        self.block_fn = int(ctypes.cast(lib.qpp_on_block, _ptr).value or 0)
        self.mem_fn = int(ctypes.cast(lib.qpp_on_mem, _ptr).value or 0)
        self._py_block: Any = None
        #: per block address: (fn, userdata, flags, owner) of a block whose callbacks are
        #: one unconditional callback, called without the compiled dispatcher's frame
        self.extra_fast: dict[int, tuple[Any, Any, int, Any]] = {}
        self._py_extra: Any = None
        self._py_mem = _PY_MEM(self._run_mem)
        self.state.py_mem = ctypes.cast(self._py_mem, _ptr).value
        #: per memory pc: what Python runs when the C hook hands an access over
        self.mem_py: dict[int, Callable[[int, int, int, int], None]] = {}
        #: mips: which block ends leave their delay slot to the next block
        self.delay_slot_branch = arch.delay_slot_branch
        self.blocks = BlockTable(self)
        self.mem_table = MemTable(self)

    # --- hooks ---------------------------------------------------------------------------

    def block_hook(
        self,
        python_hook: Callable[[int, int, int, int], None],
        guarded: bool,
        stop_req: int | None = None,
    ) -> int:
        """Add the C block hook; blocks it cannot run go to ``python_hook``. ``stop_req``:
        the address of the machine's stop request (``qpp_slice``), tested first."""
        self.state.stop_req = stop_req

        def py_block(address: int, size: int) -> None:
            python_hook(0, address, size, 0)

        self._py_block = _PY_BLOCK(py_block)
        self.state.py_block = ctypes.cast(self._py_block, _ptr).value
        self._py_extra = _PY_EXTRA(self._make_run_extra())
        self.state.py_extra = ctypes.cast(self._py_extra, _ptr).value
        self.state.mips_guard = int(guarded)
        return self.raw.add_native(_uc.HOOK_BLOCK, self.block_fn, self.ptr)

    def mem_hook(self) -> int:
        """Add the C memory hook (loads after they read, stores)."""
        return self.raw.add_native(
            _uc.HOOK_MEM_READ_AFTER | _uc.HOOK_MEM_WRITE, self.mem_fn, self.ptr
        )

    def _make_run_extra(self) -> Callable[[int], None]:
        """What the C hook calls for a block's Python callbacks (``plan.extra``)."""
        ctx = self.ctx
        tb_ctx = ctx.tb_ctx
        blocks = self.blocks
        fast = self.extra_fast
        plugin_failed = self.failures.plugin_failed
        hook_failed = self.failures.hook_failed

        def run_extra(address: int) -> None:
            entry = fast.get(address)
            try:
                if entry is not None:  # the hot case: one plain callback
                    fn, ud, flags, owner = entry
                    ctx.regs = flags
                    tb_ctx[0] = True
                    try:
                        fn(ctx.vcpu_index, ud)
                    except BaseException as exc:
                        plugin_failed(owner, "tb exec", exc)
                    tb_ctx[0] = False
                    return
                plan = blocks.get(address)
                if plan is not None and plan.extra is not None:
                    tb_ctx[0] = True
                    plan.extra()
                    tb_ctx[0] = False
            except BaseException as exc:
                tb_ctx[0] = False
                hook_failed(exc)

        return run_extra

    def _run_mem(self, pc: int, access: int, address: int, size: int, value: int) -> None:
        fn = self.mem_py.get(pc)
        if fn is not None:
            try:
                fn(access, address, size, value)
            except BaseException as exc:
                self.failures.hook_failed(exc)

    def close(self) -> None:
        self.lib.qpp_blocks_clear(self.ptr)
        self.lib.qpp_mem_clear(self.ptr)
        self.mem_py.clear()

    @property
    def counts(self) -> tuple[int, int, int]:
        """(blocks run natively, blocks handed to Python, memory accesses seen natively)."""
        s = self.state
        return int(s.n_native), int(s.n_python), int(s.n_mem_native)

    # --- blocks --------------------------------------------------------------------------

    def put_block(self, plan: BlockPlan) -> None:
        """Mirror ``plan`` (or drop the block's entry when C cannot run it)."""
        ops: list[tuple[int, Any, int, int, Any]] = []
        if plan.stores:
            ops += [(OP_SNAP, vals, slot, 0, cell) for cell, vals, slot in plan.snaps]
        ops += [(OP_ADD, vals, slot, imm, None) for vals, slot, imm in plan.adds]
        ops += [(OP_STORE, vals, slot, imm, None) for vals, slot, imm in plan.stores]
        c_ops = self._ops(ops)
        if c_ops is None:
            self.del_block(plan.vaddr)
            return
        flags = 0
        conds: list[_Cond] = []
        self.extra_fast.pop(plan.vaddr, None)
        cbs = plan.tb.exec_cbs
        if plan.extra_kind == "exec" and len(cbs) == 1 and cbs[0].cond is None:
            e = cbs[0]
            self.extra_fast[plan.vaddr] = (e.fn, e.userdata, int(e.flags), e.owner)
        if plan.extra is not None:
            gate = self._gate(plan)
            if gate is None:
                flags |= F_PY
            else:
                conds = gate
        is_branch, insns = self.delay_slot_branch, plan.tb.insns
        if is_branch is not None and insns and is_branch(insns[-1].mnemonic):
            flags |= F_BRANCH
        c_conds = (_Cond * len(conds))(*conds)
        self.lib.qpp_block_put(
            self.ptr, plan.vaddr, plan.size, flags, c_ops, len(c_ops), c_conds, len(conds)
        )

    def _ops(self, ops: list[tuple[int, Any, int, int, Any]]) -> Any:
        out = []
        for kind, vals, slot, imm, cell in ops:
            score = _score(vals)
            if score is None:
                return None
            out.append(_Op(kind, 0, score, slot, imm & 0xFFFFFFFFFFFFFFFF, cell and _addr(cell)))
        return (_Op * len(out))(*out)

    def _gate(self, plan: BlockPlan) -> list[_Cond] | None:
        """The conditions under which the block's callbacks can run at all, or ``None``
        when Python must be entered every time (an unconditional callback, or a plan
        whose ``extra`` is not just its conditional callbacks)."""
        if plan.extra_kind != "exec" or not plan.tb.exec_cbs:
            return None
        conds = []
        for e in plan.tb.exec_cbs:
            if e.cond_exact is None:
                return None
            cond, entry, imm, k, snap = e.cond_exact
            score = _score(entry.score.live)
            if score is None or not -_I64 <= k < _I64 or not -_I128 <= imm < _I128:
                return None
            imm128 = imm & ((1 << 128) - 1)
            hi = imm128 >> 64
            conds.append(
                _Cond(
                    _CMP[cond],
                    int(snap is not None),
                    score,
                    entry.slot,
                    k,
                    hi - (1 << 64) if hi >= _I64 else hi,
                    imm128 & 0xFFFFFFFFFFFFFFFF,
                    _addr(snap) if snap is not None else None,
                )
            )
        return conds

    def del_block(self, vaddr: int) -> None:
        self.extra_fast.pop(vaddr, None)
        self.lib.qpp_block_del(self.ptr, vaddr)

    def clear_blocks(self) -> None:
        self.extra_fast.clear()
        self.lib.qpp_blocks_clear(self.ptr)

    def python_for_all(self, on: bool) -> None:
        """Whether every block must go through the Python block hook (Thumb IT
        callbacks are being tracked)."""
        self.state.py_all = int(on)

    def resync(self) -> None:
        """Mirror every plan again (after plans were changed in place: a purge)."""
        self.clear_blocks()
        for plan in self.blocks.values():
            self.put_block(plan)

    # --- memory --------------------------------------------------------------------------

    def put_mem(
        self,
        pc: int,
        per_block: dict[int, Instruction],
        same: bool,
        full: Callable[[int, int, int, int], None] | None,
        cbs_only: Callable[[Instruction], Callable[[int, int, int, int], None] | None],
    ) -> None:
        """Mirror the memory instrumentation of the instruction at ``pc``.

        ``same``: every block holding it registered the same (then C applies the inline
        ops and Python sees only accesses with callbacks); otherwise Python's ``full``
        dispatcher, which picks the executing block's, does everything."""
        if full is None:
            self.del_mem(pc)
            return
        c_ops: Any = None
        py: Callable[[int, int, int, int], None] | None = full
        if same:
            insn = next(iter(per_block.values()))
            from qpp_core.instrument.plan import disabled

            ops = []
            for r in insn.mem_inline:
                if disabled(r.owner):
                    continue
                score = _score(r.entry.score.live)
                if score is None:
                    break
                kind = OP_ADD if r.op is InlineOp.ADD_U64 else OP_STORE
                ops.append(_Op(kind, int(r.rw), score, r.entry.slot, r.imm & (2**64 - 1), None))
            else:
                c_ops = (_Op * len(ops))(*ops)
                py = cbs_only(insn)
        if c_ops is None:
            c_ops = (_Op * 0)()
        if py is None:
            self.mem_py.pop(pc, None)
        else:
            self.mem_py[pc] = py
        self.lib.qpp_mem_put(self.ptr, pc, F_PY if py is not None else 0, c_ops, len(c_ops))

    def del_mem(self, pc: int) -> None:
        self.mem_py.pop(pc, None)
        self.lib.qpp_mem_del(self.ptr, pc)

    def clear_mem(self) -> None:
        self.mem_py.clear()
        self.lib.qpp_mem_clear(self.ptr)


class BlockTable(dict[int, "BlockPlan"]):
    """The engine's ``blocks``: a dict whose changes are mirrored into the C table."""

    def __init__(self, native: Native) -> None:
        super().__init__()
        self.native = native

    def __setitem__(self, vaddr: int, plan: BlockPlan) -> None:
        super().__setitem__(vaddr, plan)
        self.native.put_block(plan)

    def __delitem__(self, vaddr: int) -> None:
        super().__delitem__(vaddr)
        self.native.del_block(vaddr)

    def pop(self, vaddr: int, *default: Any) -> Any:  # type: ignore[override, unused-ignore]
        self.native.del_block(vaddr)
        return super().pop(vaddr, *default)

    def clear(self) -> None:
        super().clear()
        self.native.clear_blocks()


class MemTable(dict[int, Callable[[int, int, int, int], None]]):
    """The engine's memory table: removals are mirrored (additions go through
    :meth:`Native.put_mem`, which needs more than the dispatcher)."""

    def __init__(self, native: Native) -> None:
        super().__init__()
        self.native = native

    def __delitem__(self, pc: int) -> None:
        super().__delitem__(pc)
        self.native.del_mem(pc)

    def pop(self, pc: int, *default: Any) -> Any:  # type: ignore[override, unused-ignore]
        self.native.del_mem(pc)
        return super().pop(pc, *default)

    def clear(self) -> None:
        super().clear()
        self.native.clear_mem()
