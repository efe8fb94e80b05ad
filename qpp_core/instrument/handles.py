"""The handles a plugin receives: blocks, instructions, memory accesses, scoreboards.

These are the Python forms of QEMU's opaque ``struct qemu_plugin_tb``,
``struct qemu_plugin_insn``, ``qemu_plugin_meminfo_t``, ``struct qemu_plugin_scoreboard``
and ``qemu_plugin_u64``. As in QEMU, a :class:`TranslationBlock` and its
:class:`Instruction` handles are valid only inside the translation callback that received
them: execution callbacks, memory callbacks and inline operations are registered there and
nowhere else (using a stale handle raises :class:`~qpp_core.errors.QppUsageError`).
Queries (address, size, bytes, disassembly, symbol) stay available afterwards, since a
Python object cannot dangle.

The enumerations keep QEMU's names as module constants (``QEMU_PLUGIN_CB_R_REGS``...)
so that code ported from C reads the same.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from qpp_core.errors import QppUsageError
from qpp_core.instrument.vcpus import ScoreboardStore

if TYPE_CHECKING:
    from qpp_core.session import LoadedPlugin


class CbFlags(enum.IntEnum):
    """What an execution callback may do with registers (``enum qemu_plugin_cb_flags``)."""

    NO_REGS = 0
    R_REGS = 1
    RW_REGS = 2


class MemRW(enum.IntFlag):
    """Which memory accesses a memory callback wants (``enum qemu_plugin_mem_rw``)."""

    R = 1
    W = 2
    RW = 3


class InlineOp(enum.IntEnum):
    """An inline operation on a scoreboard entry (``enum qemu_plugin_op``)."""

    ADD_U64 = 0
    STORE_U64 = 1


class Cond(enum.IntEnum):
    """How a conditional callback compares its entry with its immediate."""

    NEVER = 0
    ALWAYS = 1
    EQ = 2
    NE = 3
    LT = 4
    LE = 5
    GT = 6
    GE = 7


class DisconType(enum.IntFlag):
    """Kinds of control-flow discontinuity (``enum qemu_plugin_discon_type``)."""

    INTERRUPT = 1
    EXCEPTION = 2
    HOSTCALL = 4
    ALL = 7


QEMU_PLUGIN_CB_NO_REGS = CbFlags.NO_REGS
QEMU_PLUGIN_CB_R_REGS = CbFlags.R_REGS
QEMU_PLUGIN_CB_RW_REGS = CbFlags.RW_REGS
QEMU_PLUGIN_MEM_R = MemRW.R
QEMU_PLUGIN_MEM_W = MemRW.W
QEMU_PLUGIN_MEM_RW = MemRW.RW
QEMU_PLUGIN_INLINE_ADD_U64 = InlineOp.ADD_U64
QEMU_PLUGIN_INLINE_STORE_U64 = InlineOp.STORE_U64
QEMU_PLUGIN_COND_NEVER = Cond.NEVER
QEMU_PLUGIN_COND_ALWAYS = Cond.ALWAYS
QEMU_PLUGIN_COND_EQ = Cond.EQ
QEMU_PLUGIN_COND_NE = Cond.NE
QEMU_PLUGIN_COND_LT = Cond.LT
QEMU_PLUGIN_COND_LE = Cond.LE
QEMU_PLUGIN_COND_GT = Cond.GT
QEMU_PLUGIN_COND_GE = Cond.GE
QEMU_PLUGIN_DISCON_INTERRUPT = DisconType.INTERRUPT
QEMU_PLUGIN_DISCON_EXCEPTION = DisconType.EXCEPTION
QEMU_PLUGIN_DISCON_HOSTCALL = DisconType.HOSTCALL
QEMU_PLUGIN_DISCON_ALL = DisconType.ALL

U64_MASK = (1 << 64) - 1


class Scoreboard:
    """Per-vcpu storage for inline operations (``qemu_plugin_scoreboard_new``).

    Each vcpu owns ``element_size`` bytes, seen as u64 slots (offset / 8). The Python
    backend keeps the running vcpu's values in ``live``: an inline add is
    ``slots[i] += imm``, values wrap to 64 bits when read; the other vcpus' values are
    parked in the store (:mod:`qpp_core.instrument.vcpus`) and swapped in when their
    thread runs. ``live`` is a list of ints on the Python backend and a ctypes u64 array
    in C memory on the native one (the C hooks add to it, Python reads it without copies).
    """

    def __init__(self, element_size: int) -> None:
        if element_size <= 0:
            raise QppUsageError(f"a scoreboard element needs a positive size, not {element_size}")
        self.element_size = element_size
        self.n_slots = max(1, (element_size + 7) // 8)
        self.store = ScoreboardStore(self.n_slots)
        #: the running vCPU's slots: what the blocks' inline ops are bound to
        self.live: Any = self.store.live
        self.freed = False

    def entry(self, offset: int = 0) -> U64:
        """The u64 at byte ``offset`` of each vcpu's element."""
        if offset % 8 or not 0 <= offset < self.n_slots * 8:
            raise QppUsageError(
                f"scoreboard offset {offset} is not an aligned u64 inside a "
                f"{self.element_size}-byte element"
            )
        return U64(self, offset // 8)


@dataclass(frozen=True)
class U64:
    """One u64 of a scoreboard, per vcpu (``qemu_plugin_u64``)."""

    score: Scoreboard
    slot: int

    def get(self, vcpu_index: int = 0) -> int:
        return int(self.score.store.slots(vcpu_index)[self.slot]) & U64_MASK

    def set(self, vcpu_index: int, value: int) -> None:
        self.score.store.slots(vcpu_index)[self.slot] = value & U64_MASK

    def add(self, vcpu_index: int, value: int) -> None:
        vals = self.score.store.slots(vcpu_index)
        vals[self.slot] = (vals[self.slot] + value) & U64_MASK

    def sum(self) -> int:
        return int(sum(v[self.slot] for v in self.score.store.all_slots())) & U64_MASK


@dataclass(frozen=True)
class RegisterDescriptor:
    """One guest register (``qemu_plugin_reg_descriptor``): handle, name, feature."""

    handle: int
    name: str
    feature: str


#: registration order of execution callbacks and inline ops
_SEQ = itertools.count()


@dataclass
class ExecCallback:
    """A registered execution callback: ``fn(vcpu_index, userdata)``."""

    owner: LoadedPlugin | None
    fn: Callable[[int, Any], object]
    flags: CbFlags
    userdata: Any
    cond: Callable[[], bool] | None = None
    #: (cond, scoreboard id, slot, imm[, correction]): tells identical conditional
    #: registrations apart (the correction is set per block, see ``plan.exact_conds``)
    cond_key: tuple[Any, ...] | None = None
    #: (cond, entry, imm) of a conditional callback, as registered
    cond_spec: tuple[Cond, U64, int] | None = None
    #: (cond, entry, imm, correction, snapshot cell) as compiled for the block it is in
    #: (``plan.exact_conds``): what the native backend evaluates before calling Python
    cond_exact: tuple[Cond, U64, int, int, Any] | None = None
    #: registration order, shared with inline ops (QEMU runs both in that order)
    seq: int = field(default_factory=lambda: next(_SEQ), compare=False)


@dataclass
class MemCallback:
    """A registered memory callback: ``fn(vcpu_index, info, vaddr, userdata)``."""

    owner: LoadedPlugin | None
    fn: Callable[[int, MemInfo, int, Any], object]
    flags: CbFlags
    rw: MemRW
    userdata: Any


@dataclass
class InlineRecord:
    """A registered inline operation on one scoreboard entry."""

    owner: LoadedPlugin | None
    op: InlineOp
    entry: U64
    imm: int
    rw: MemRW = MemRW.RW  # memory inline ops only
    #: registration order, shared with execution callbacks
    seq: int = field(default_factory=lambda: next(_SEQ), compare=False)


class Instruction:
    """One guest instruction of a block being translated (``struct qemu_plugin_insn``)."""

    __slots__ = (
        "_disas",
        "exec_cbs",
        "inline",
        "mem_cbs",
        "mem_inline",
        "mnemonic",
        "op_str",
        "size",
        "tb",
        "vaddr",
    )

    def __init__(
        self, tb: TranslationBlock, vaddr: int, size: int, mnemonic: str, op_str: str
    ) -> None:
        self.tb = tb
        self.vaddr = vaddr
        self.size = size
        self.mnemonic = mnemonic
        self.op_str = op_str
        self._disas: str | None = None
        self.exec_cbs: list[ExecCallback] = []
        self.inline: list[InlineRecord] = []
        self.mem_cbs: list[MemCallback] = []
        self.mem_inline: list[InlineRecord] = []

    @property
    def data(self) -> bytes:
        """The instruction's bytes (``qemu_plugin_insn_data``)."""
        off = self.vaddr - self.tb.vaddr
        return self.tb.data[off : off + self.size]

    def disas(self) -> str:
        """Disassembly in capstone's syntax, ``"mnemonic operands"``."""
        if self._disas is None:
            self._disas = f"{self.mnemonic} {self.op_str}".strip() if self.mnemonic else "(bad)"
        return self._disas

    def symbol(self) -> str | None:
        """The ELF symbol this instruction starts, if any (``qemu_plugin_insn_symbol``)."""
        try:
            return self.tb.symbols.symbol_at(self.vaddr)
        except Exception:  # no symbol table to read is no symbol
            return None

    def __repr__(self) -> str:
        return f"<Instruction {self.vaddr:#x} {self.disas()!r}>"


class Symbols(Protocol):
    """Where a block's instructions find their symbols (the machine)."""

    def symbol_at(self, addr: int) -> str | None: ...


@dataclass(eq=False)
class TranslationBlock:
    """A translated block, announced to ``qemu_plugin_vcpu_tb_trans`` before it first runs."""

    symbols: Symbols
    vaddr: int
    size: int
    data: bytes
    thumb: bool
    insns: list[Instruction] = field(default_factory=list)
    exec_cbs: list[ExecCallback] = field(default_factory=list)
    inline: list[InlineRecord] = field(default_factory=list)
    #: true only while the translation callbacks run: registrations are accepted then
    open: bool = True

    @property
    def n_insns(self) -> int:
        return len(self.insns)

    def insn(self, index: int) -> Instruction:
        """``qemu_plugin_tb_get_insn``: the ``index``-th instruction."""
        try:
            return self.insns[index]
        except IndexError:
            raise QppUsageError(
                f"block {self.vaddr:#x} has {self.n_insns} instructions, no index {index}"
            ) from None

    def check_open(self, what: str) -> None:
        """Registrations on a block are valid only inside its translation callback."""
        if not self.open:
            raise QppUsageError(
                f"{what}: the block at {self.vaddr:#x} is no longer being translated; "
                "register execution, memory and inline callbacks from inside the "
                "qemu_plugin_vcpu_tb_trans callback that received the block"
            )

    def __repr__(self) -> str:
        return f"<TranslationBlock {self.vaddr:#x} size={self.size} n_insns={self.n_insns}>"


class MemInfo:
    """One memory access as a memory callback sees it (``qemu_plugin_meminfo_t``)."""

    __slots__ = ("big_endian", "is_store", "sign_extended", "size", "value")

    def __init__(
        self, size: int, is_store: bool, value: int, sign_extended: bool, big_endian: bool
    ) -> None:
        self.size = size
        self.is_store = is_store
        self.value = value
        self.sign_extended = sign_extended
        self.big_endian = big_endian

    @property
    def size_shift(self) -> int:
        """log2 of the access size (``qemu_plugin_mem_size_shift``)."""
        return max(0, self.size.bit_length() - 1)

    def __repr__(self) -> str:
        kind = "store" if self.is_store else "load"
        return f"<MemInfo {kind} size={self.size} value={self.value:#x}>"
