"""Conditional callbacks see the scoreboard value QEMU shows at their instruction.

QEMU applies each instruction's inline ops and runs its callbacks as that instruction
executes, in registration order; qpp folds a block's inline ops into one application at
block start and corrects each condition per block. The snippet (x86-64, at BASE):

    0x10000 mov ecx, 3
    0x10005 nop        <- loop
    0x10006 nop
    0x10007 nop        <- the conditional callbacks (3rd instruction of the loop block)
    0x10008 nop
    0x10009 dec ecx
    0x1000b jnz loop

runs as one block of 7 instructions, then twice as the block of 6 at 0x10005: 19 in all.
With an inline add of 1 on every instruction, QEMU's value at 0x10007 (its own add
registered before the condition) is 4, 10 and 16; the folded value is 7, 13 and 19.
"""

from __future__ import annotations

from typing import Any

import pytest
from instrument.harness import BASE, SnippetMachine, add_plugin, instrumentation, new_session

from qpp_core.instrument import api
from qpp_core.instrument.handles import Scoreboard, TranslationBlock

LOOP = bytes.fromhex("b903000000" + "90" * 4 + "ffc9" + "75f8")
COND_AT = BASE + 7
N_INSNS = 19


def _cond(insn: Any, fired: list[Any], cond: int, entry: Any, imm: int, tag: Any = None) -> None:
    api.qemu_plugin_register_vcpu_insn_exec_cond_cb(
        insn,
        lambda vcpu, ud: fired.append(ud),
        api.QEMU_PLUGIN_CB_NO_REGS,
        cond,
        entry,
        imm,
        imm if tag is None else tag,
    )


def _run(*plugins: tuple[str, Any]) -> None:
    machine = SnippetMachine("x86_64", LOOP)
    session = new_session(machine)
    with session.activate():
        for name, trans in plugins:
            add_plugin(session, name, qemu_plugin_vcpu_tb_trans=trans)
        instrumentation(session).start()
        machine.run()


@pytest.mark.parametrize("cond_first", [False, True])
def test_mid_block_condition_sees_only_the_adds_so_far(cond_first: bool) -> None:
    entry = api.qemu_plugin_scoreboard_u64(Scoreboard(8))
    fired: list[Any] = []
    EQ, GE, LT = api.QEMU_PLUGIN_COND_EQ, api.QEMU_PLUGIN_COND_GE, api.QEMU_PLUGIN_COND_LT

    def trans(tb: TranslationBlock) -> None:
        for insn in tb.insns:
            if insn.vaddr == COND_AT and cond_first:
                for imm in (3, 9, 10, 15):
                    _cond(insn, fired, EQ, entry, imm)
                _cond(insn, fired, GE, entry, 5, "ge5")
                _cond(insn, fired, LT, entry, 5, "lt5")
            api.qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                insn, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, 1
            )
            if insn.vaddr == COND_AT and not cond_first:
                for imm in (4, 7, 10, 13, 16, 19):
                    _cond(insn, fired, EQ, entry, imm)
                _cond(insn, fired, GE, entry, 5, "ge5")
                _cond(insn, fired, LT, entry, 5, "lt5")

    _run(("p", trans))
    assert entry.sum() == N_INSNS
    if cond_first:
        # registered before the instruction's own add: 3, 9, 15
        assert fired == [3, "lt5", 9, "ge5", 15, "ge5"]
    else:
        # QEMU: 4, 10, 16 (never the folded 7, 13, 19)
        assert fired == [4, "lt5", 10, "ge5", 16, "ge5"]


def test_two_plugins_inline_on_one_entry() -> None:
    """Plugin a adds 1 and plugin b adds 2 per instruction to one entry; b's condition
    on 0x10007 comes after b's add there, and before or after a's, in dispatch order."""
    entry = api.qemu_plugin_scoreboard_u64(Scoreboard(8))
    fired: list[Any] = []
    order: list[str] = []

    def adder(name: str, imm: int, with_cond: bool) -> Any:
        def trans(tb: TranslationBlock) -> None:
            if tb.vaddr == BASE:
                order.append(name)
            for insn in tb.insns:
                api.qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                    insn, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, imm
                )
                if with_cond and insn.vaddr == COND_AT:
                    for value in range(3 * N_INSNS + 1):
                        _cond(insn, fired, api.QEMU_PLUGIN_COND_EQ, entry, value)

        return trans

    _run(("a", adder("a", 1, False)), ("b", adder("b", 2, True)))
    assert entry.sum() == 3 * N_INSNS
    executed_before = [3, 9, 15]  # instructions run before 0x10007, each time
    if order == ["b", "a"]:  # a's add at 0x10007 comes after b's condition
        expected = [3 * n + 2 for n in executed_before]
    else:
        assert order == ["a", "b"]
        expected = [3 * n + 3 for n in executed_before]
    assert fired == expected


@pytest.mark.parametrize(
    "store_at, store, expected",
    [
        # a store after the condition (dec, 0x10009): 4, then 104 twice
        (BASE + 9, 100, [4, 104, 104]),
        # a store before it (the 1st nop, 0x10005): 52 every time
        (BASE + 5, 50, [52, 52, 52]),
    ],
)
def test_inline_store_in_the_block(store_at: int, store: int, expected: list[int]) -> None:
    entry = api.qemu_plugin_scoreboard_u64(Scoreboard(8))
    fired: list[Any] = []

    def trans(tb: TranslationBlock) -> None:
        for insn in tb.insns:
            api.qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                insn, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, 1
            )
            if insn.vaddr == store_at:
                api.qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                    insn, api.QEMU_PLUGIN_INLINE_STORE_U64, entry, store
                )
            if insn.vaddr == COND_AT:
                for value in [*sorted(set(expected)), 7, 13, 19, 107, 113]:
                    _cond(insn, fired, api.QEMU_PLUGIN_COND_EQ, entry, value)

    _run(("p", trans))
    assert fired == expected


def test_tb_condition_sees_only_earlier_blocks() -> None:
    """A tb conditional callback runs at block start: it sees the block's own ops
    registered before it, not its instructions' (0, 7 and 13 here, plus 1 for the tb add)."""
    entry = api.qemu_plugin_scoreboard_u64(Scoreboard(8))
    fired: list[Any] = []

    def trans(tb: TranslationBlock) -> None:
        api.qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, 1
        )
        for value in range(30):
            api.qemu_plugin_register_vcpu_tb_exec_cond_cb(
                tb,
                lambda vcpu, ud: fired.append(ud),
                api.QEMU_PLUGIN_CB_NO_REGS,
                api.QEMU_PLUGIN_COND_EQ,
                entry,
                value,
                value,
            )
        for insn in tb.insns:
            api.qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                insn, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, 1
            )

    _run(("p", trans))
    assert entry.sum() == N_INSNS + 3
    assert fired == [1, 1 + 7 + 1, 1 + 7 + 1 + 6 + 1]
