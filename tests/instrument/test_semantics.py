"""What plugin authors rely on: translation before execution, exact per-insn delivery,
x86 ``rep`` iterations, Thumb IT blocks, memory accesses, inline ops, conditions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from instrument.harness import BASE, SnippetMachine, add_plugin, instrumentation, new_session

from qpp_core.instrument import api
from qpp_core.instrument.handles import (
    InlineOp,
    InlineRecord,
    Instruction,
    Scoreboard,
    TranslationBlock,
)
from qpp_core.instrument.plan import fold_inline

# x86-64, at BASE:
#   0x10000 mov rcx, 3            0x10015 rep movsb (runs 4 times: rcx 3, 2, 1, 0)
#   0x10007 lea rsi, [rip+0x100]  0x10017 movsx rax, byte [0x1800f]   (a signed load)
#   0x1000e lea rdi, [rip+0x200]  0x1001f mov [0x18016], rax           (a store)
#                                 0x10026 nop
X86_REP = bytes.fromhex(
    "48c7c103000000488d3500010000488d3d00020000f3a4480fbe05f07f0000488905f07f000090"
)
X86_REP_EXECUTED = [0x10000, 0x10007, 0x1000E] + [0x10015] * 4 + [0x10017, 0x1001F, 0x10026]
X86_DATA = bytes(15) + b"\xff"

# Thumb-2: movs r0,#1; cmp r0,#2; ite eq; addeq r1,#1 (skipped); addne r2,#1;
#          itt eq; addeq r1,#1 (skipped); addeq r1,#1 (skipped); nop
THUMB_IT = bytes.fromhex("012002280cbf0131013204bf01310131c046")
THUMB_ADDRS = [BASE + 2 * i for i in range(9)]


def _counting_plugin(
    session: Any, name: str, log: list[Any], *, inline: Any = None, mem: list[Any] | None = None
) -> Any:
    def trans(tb: TranslationBlock) -> None:
        log.append(("trans", tb.vaddr))
        for insn in tb.insns:
            api.qemu_plugin_register_vcpu_insn_exec_cb(
                insn, lambda vcpu, addr: log.append(addr), userdata=insn.vaddr
            )
            if inline is not None:
                api.qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                    insn, api.QEMU_PLUGIN_INLINE_ADD_U64, inline, 1
                )
            if mem is not None:
                api.qemu_plugin_register_vcpu_mem_cb(
                    insn,
                    lambda vcpu, info, vaddr, ud: mem.append((ud, vaddr, info)),
                    api.QEMU_PLUGIN_CB_NO_REGS,
                    api.QEMU_PLUGIN_MEM_RW,
                    insn.vaddr,
                )

    return add_plugin(session, name, qemu_plugin_vcpu_tb_trans=trans)


def test_translation_precedes_execution_and_callbacks_fire_the_first_time() -> None:
    machine = SnippetMachine("x86_64", X86_REP, data=X86_DATA)
    session = new_session(machine)
    log: list[Any] = []
    entry = api.qemu_plugin_scoreboard_u64(Scoreboard(8))
    with session.activate():
        _counting_plugin(session, "p", log, inline=entry)
        instrumentation(session).start()
        machine.run()
    assert log[0] == ("trans", BASE)
    executed = [x for x in log if isinstance(x, int)]
    assert executed == X86_REP_EXECUTED  # every rep iteration, first execution included
    assert entry.sum() == len(X86_REP_EXECUTED)  # inline, per block, same count


def test_memory_callbacks_see_each_access_with_size_sign_and_value() -> None:
    machine = SnippetMachine("x86_64", X86_REP, data=X86_DATA)
    session = new_session(machine)
    mem: list[Any] = []
    with session.activate():
        _counting_plugin(session, "p", [], mem=mem)
        instrumentation(session).start()
        machine.run()
    rep = [(vaddr, info.is_store) for pc, vaddr, info in mem if pc == 0x10015]
    assert len(rep) == 6 and sum(store for _, store in rep) == 3
    ((_, load_addr, load),) = [m for m in mem if m[0] == 0x10017]
    assert (load_addr, load.size, load.is_store, load.value) == (0x1800F, 1, False, 0xFF)
    assert load.sign_extended and not load.big_endian
    ((_, store_addr, store),) = [m for m in mem if m[0] == 0x1001F]
    assert (store_addr, store.size_shift, store.is_store) == (0x18016, 3, True)
    assert store.value == (1 << 64) - 1


def test_thumb_it_block_skipped_instructions_get_their_callbacks() -> None:
    machine = SnippetMachine("arm", THUMB_IT, thumb=True)
    session = new_session(machine)
    log: list[Any] = []
    entry = api.qemu_plugin_scoreboard_u64(Scoreboard(8))
    with session.activate():
        _counting_plugin(session, "p", log, inline=entry)
        instrumentation(session).start()
        machine.run()
    executed = [x for x in log if isinstance(x, int)]
    assert executed == THUMB_ADDRS  # as QEMU: the three skipped ones are counted, in order
    assert entry.sum() == 9


def test_inline_ops_fold_in_program_order() -> None:
    score = Scoreboard(16)
    a, b = score.entry(0), score.entry(8)
    records = [
        InlineRecord(None, InlineOp.ADD_U64, a, 1),
        InlineRecord(None, InlineOp.ADD_U64, a, 2),
        InlineRecord(None, InlineOp.ADD_U64, b, 5),
        InlineRecord(None, InlineOp.STORE_U64, b, 7),
        InlineRecord(None, InlineOp.ADD_U64, b, 1),
    ]
    adds, stores = fold_inline(records)
    assert [(s, v) for _, s, v in adds] == [(0, 3)]
    assert [(s, v) for _, s, v in stores] == [(1, 8)]


def test_conditional_and_tb_callbacks() -> None:
    machine = SnippetMachine("x86_64", X86_REP, data=X86_DATA)
    session = new_session(machine)
    score = api.qemu_plugin_scoreboard_new(8)
    entry = api.qemu_plugin_scoreboard_u64(score)
    fired: list[str] = []

    def trans(tb: TranslationBlock) -> None:
        api.qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, 1
        )
        api.qemu_plugin_register_vcpu_tb_exec_cb(tb, lambda v, ud: fired.append("tb"))
        api.qemu_plugin_register_vcpu_tb_exec_cond_cb(
            tb,
            lambda v, ud: fired.append("ge3"),
            api.QEMU_PLUGIN_CB_NO_REGS,
            api.QEMU_PLUGIN_COND_GE,
            entry,
            3,
        )

    with session.activate():
        add_plugin(session, "p", qemu_plugin_vcpu_tb_trans=trans)
        instrumentation(session).start()
        machine.run()
    # blocks: [0x10000..rep], rep, rep, rep (rcx=0), [movsx..nop]: 5 executions
    assert api.qemu_plugin_u64_sum(entry) == 5
    assert fired.count("tb") == 5
    assert fired.count("ge3") == 3


@pytest.mark.parametrize("flags, ok", [(0, False), (1, True), (2, True)])
def test_register_access_needs_the_flag(flags: int, ok: bool) -> None:
    machine = SnippetMachine("x86_64", X86_REP, data=X86_DATA)
    session = new_session(machine)
    seen: list[int] = []
    regs = {r.name: r for r in instrumentation(session).registers()}

    def on_nop(vcpu: int, ud: Any) -> None:
        seen.append(api.qemu_plugin_read_register_int(regs["rcx"]))
        assert api.qemu_plugin_read_register(regs["rcx"]) == bytes(8)
        if flags == 2:
            api.qemu_plugin_write_register(regs["rcx"], 42)

    def trans(tb: TranslationBlock) -> None:
        for insn in tb.insns:
            if insn.mnemonic == "nop":
                api.qemu_plugin_register_vcpu_insn_exec_cb(insn, on_nop, flags)

    with session.activate():
        add_plugin(session, "p", qemu_plugin_vcpu_tb_trans=trans)
        instrumentation(session).start()
        if ok:
            machine.run()
            assert seen == [0]
        else:
            with pytest.raises(Exception, match="QEMU_PLUGIN_CB_R_REGS"):
                machine.run()
    if flags == 2:
        assert machine.uc.reg_read(machine.arch.registers["rcx"]) == 42


def test_handle_queries() -> None:
    machine = SnippetMachine("x86_64", X86_REP, data=X86_DATA)
    session = new_session(machine)
    blocks: list[TranslationBlock] = []
    with session.activate():
        add_plugin(session, "p", qemu_plugin_vcpu_tb_trans=lambda tb: blocks.append(tb))
        instrumentation(session).start()
        machine.run()
    tb = blocks[0]
    assert api.qemu_plugin_tb_vaddr(tb) == BASE and api.qemu_plugin_tb_n_insns(tb) == 4
    insn = api.qemu_plugin_tb_get_insn(tb, 3)
    assert api.qemu_plugin_insn_disas(insn).startswith("rep movsb")
    assert api.qemu_plugin_insn_data(insn) == b"\xf3\xa4"
    assert api.qemu_plugin_insn_size(insn) == 2 and api.qemu_plugin_insn_vaddr(insn) == 0x10015
    assert api.qemu_plugin_insn_symbol(api.qemu_plugin_tb_get_insn(tb, 0)) == "start"
    # typed to return None (a Python plugin has no host address): read as QEMU's void *
    haddr: Callable[[Instruction], object] = api.qemu_plugin_insn_haddr
    assert haddr(insn) is None


def _mips_i(op: int, rs: int, rt: int, imm: int) -> bytes:
    return ((op << 26) | (rs << 21) | (rt << 16) | (imm & 0xFFFF)).to_bytes(4, "little")


# mipsel: 0x10000 loop: addiu t1,t1,1; addiu a2,a2,-1; bne a2,zero,loop; sw t1,0(a1) (slot)
#         0x10010 b 0x10018 (beq zero,zero); nop (slot); 0x10018 nop
MIPS_DELAY_STORE = (
    _mips_i(9, 9, 9, 1)
    + _mips_i(9, 6, 6, -1)
    + _mips_i(5, 6, 0, -3)
    + _mips_i(0x2B, 5, 9, 0)
    + _mips_i(4, 0, 0, 1)
    + bytes(8)
)


@pytest.mark.parametrize("mem_cb", [True, False])
def test_mips_delay_slot_store_with_memory_hooks_runs_the_guest_exactly(mem_cb: bool) -> None:
    """unicorn 2.1.4 runs a branch target's first instruction twice after a hooked store in
    the delay slot, and after a not-taken branch raises a reserved-instruction exception
    on a branch: the layer leaves those stale one-instruction blocks (_mips_replay_guard)."""
    machine = SnippetMachine("mipsel", MIPS_DELAY_STORE)
    machine.uc.reg_write(machine.arch.registers["a1"], BASE + 0x8000)
    machine.uc.reg_write(machine.arch.registers["a2"], 10)
    session = new_session(machine)
    log: list[Any] = []
    mem: list[Any] = []
    entry = api.qemu_plugin_scoreboard_u64(Scoreboard(8))
    with session.activate():
        _counting_plugin(session, "p", log, inline=entry, mem=mem if mem_cb else None)
        instrumentation(session).start()
        machine.run()
    assert machine.uc.reg_read(machine.arch.registers["t1"]) == 10  # not 19
    executed = [x for x in log if isinstance(x, int)]
    assert executed == [BASE, BASE + 4, BASE + 8, BASE + 12] * 10 + [
        BASE + 16,
        BASE + 20,
        BASE + 24,
    ]
    assert entry.sum() == 43
    trans = [x[1] for x in log if isinstance(x, tuple)]
    assert trans == [BASE, BASE + 16, BASE + 24]  # QEMU's blocks, each announced once
    if mem_cb:
        assert [(vaddr, info.value) for _, vaddr, info in mem] == [
            (BASE + 0x8000, i) for i in range(1, 11)
        ]
        assert instrumentation(session).n_mips_replays == 10


# x86-64 self-modifying loop: 0x10000 mov ecx, 3
#   0x10005 loop: mov eax, 1        (its immediate, at 0x10006, is rewritten every time)
#   0x1000a add ebx, eax
#   0x1000c mov byte [0x10006], cl  (store into the running block)
#   0x10013 dec ecx ; 0x10015 jnz loop ; 0x10017 nop
X86_SMC = bytes.fromhex("b903000000b80100000001c3880c2506000100ffc975ee90")


def test_self_modifying_code_is_retranslated_and_announced_again() -> None:
    machine = SnippetMachine("x86_64", X86_SMC)
    session = new_session(machine)
    log: list[Any] = []
    seen: list[tuple[int, str]] = []
    entry = api.qemu_plugin_scoreboard_u64(Scoreboard(8))

    def watch(tb: TranslationBlock) -> None:
        seen.extend((i.vaddr, i.disas()) for i in tb.insns if i.vaddr == BASE + 5)

    with session.activate():
        _counting_plugin(session, "p", log, inline=entry)
        add_plugin(session, "w", qemu_plugin_vcpu_tb_trans=watch)
        instrumentation(session).start()
        machine.run()
    ebx = machine.uc.reg_read(machine.arch.registers["rbx"])
    assert ebx == 1 + 3 + 2  # the guest ran the code as rewritten
    # the loop block was announced again after each rewrite, with the new immediate
    assert [d for _, d in seen] == ["mov eax, 1", "mov eax, 3", "mov eax, 2"]
    assert instrumentation(session).n_code_writes == 3
    # exact retired-instruction count: mov ecx + 3 * 5 + nop (the store into the running
    # block is restarted by unicorn: its inline count and the rest of the block's are
    # taken back)
    assert entry.sum() == 17
    executed = [x for x in log if isinstance(x, int)]
    # execution callbacks come before the instruction: the restarted store gets two
    assert len(executed) == 17 + 3
    assert executed.count(BASE + 0xC) == 6
