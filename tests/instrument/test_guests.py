"""Counting on the project's own guests, hook economy, errors, late registration,
syscalls and uninstall; each run is a few thousand instructions (memloop, hello)."""

from __future__ import annotations

from typing import Any

import pytest
from instrument.harness import add_plugin, instrumentation, log_text, machine_of, new_session

from qpp_core.errors import PluginRuntimeError, QppUsageError
from qpp_core.guests import (
    ARCHES,
    COMPUTE_OUTPUT,
    MEMLOOP_INSNS,
    MEMLOOP_LOADS,
    MEMLOOP_STORES,
    guest_path,
)
from qpp_core.instrument import api
from qpp_core.instrument.handles import TranslationBlock
from qpp_core.linux import load_guest
from qpp_core.linux.options import GuestOptions
from qpp_core.session import PluginId, Session


def _machine(program: str, arch: str = "x86_64") -> Any:
    return load_guest(GuestOptions(binary=str(guest_path(program, arch))))


def _run(session: Session) -> Any:
    instrumentation(session).start()
    result = machine_of(session).run()
    instrumentation(session).finish()
    return result


class Counter:
    """A plugin counting instructions three ways, and memory accesses."""

    def __init__(self, session: Session, name: str = "count", *, mem: bool = False) -> None:
        self.inline = api.qemu_plugin_scoreboard_u64(api.qemu_plugin_scoreboard_new(8))
        self.tb_insns = 0
        self.callbacks = 0
        self.loads = 0
        self.stores = 0
        self.mem = mem
        self.plugin = add_plugin(session, name, qemu_plugin_vcpu_tb_trans=self.trans)

    def _tb(self, vcpu: int, n: int) -> None:
        self.tb_insns += n

    def _insn(self, vcpu: int, ud: Any) -> None:
        self.callbacks += 1

    def _mem(self, vcpu: int, info: Any, vaddr: int, ud: Any) -> None:
        if info.is_store:
            self.stores += 1
        else:
            self.loads += 1

    def trans(self, tb: TranslationBlock) -> None:
        api.qemu_plugin_register_vcpu_tb_exec_cb(tb, self._tb, userdata=tb.n_insns)
        for insn in tb.insns:
            api.qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                insn, api.QEMU_PLUGIN_INLINE_ADD_U64, self.inline, 1
            )
            api.qemu_plugin_register_vcpu_insn_exec_cb(insn, self._insn)
            if self.mem:
                api.qemu_plugin_register_vcpu_mem_cb(insn, self._mem)


@pytest.mark.parametrize("arch", ARCHES)
def test_counts_agree_and_memory_accesses_are_exact(arch: str) -> None:
    machine = _machine("memloop", arch)
    session = new_session(machine)
    with session.activate():
        counter = Counter(session, mem=True)
        assert _run(session).status == 0
    total = api.qemu_plugin_u64_sum(counter.inline)
    assert total == counter.tb_insns == counter.callbacks == MEMLOOP_INSNS[arch]
    assert (counter.loads, counter.stores) == (MEMLOOP_LOADS, MEMLOOP_STORES)


def test_a_plugin_that_registers_nothing_adds_no_hook() -> None:
    machine = _machine("memloop")
    session = new_session(machine)
    with session.activate():
        add_plugin(session, "idle", install=lambda id: None)
        instrumentation(session).start()
        assert instrumentation(session).raw.count == 0
        assert machine.syscall_observer is None
        assert _run(session).status == 0


def test_several_plugins_share_one_hook_per_event() -> None:
    machine = _machine("memloop")
    session = new_session(machine)
    with session.activate():
        counters = [Counter(session, f"c{i}", mem=True) for i in range(3)]
        _run(session)
        instr = instrumentation(session)
        # one block hook, one memory hook, code hooks only over the coalesced ranges, and
        # no store watch: the code is in a read-only mapping (a store hook anywhere would
        # send every guest access through unicorn's slow memory path)
        assert instr.raw.count == 2 + len(instr.code_hook_ranges)
        assert len(instr.code_hook_ranges) == 1
        assert instr.code_watch_ranges == []
    assert len({c.callbacks for c in counters}) == 1


def test_an_insn_callback_at_one_address_instruments_only_that_address() -> None:
    machine = _machine("memloop")
    session = new_session(machine)
    hits: list[int] = []
    target: list[int] = []

    def trans(tb: TranslationBlock) -> None:
        if tb.n_insns == 5 and not target:  # the loop block (entered mid-way, 1000 times)
            target.append(tb.insns[2].vaddr)
            api.qemu_plugin_register_vcpu_insn_exec_cb(
                tb.insns[2], lambda v, u: hits.append(u), userdata=1
            )

    with session.activate():
        add_plugin(session, "one", qemu_plugin_vcpu_tb_trans=trans)
        _run(session)
        assert instrumentation(session).code_hook_ranges == [(target[0], target[0])]
    assert len(hits) == 999  # the first iteration runs inside the entry block


def test_callback_error_stops_the_run_naming_plugin_event_and_pc() -> None:
    machine = _machine("memloop")
    session = new_session(machine)

    def boom(vcpu: int, ud: Any) -> None:
        raise ValueError("boom")

    def trans(tb: TranslationBlock) -> None:
        api.qemu_plugin_register_vcpu_insn_exec_cb(tb.insns[-1], boom)

    with session.activate():
        add_plugin(session, "bad", qemu_plugin_vcpu_tb_trans=trans)
        with pytest.raises(PluginRuntimeError) as info:
            _run(session)
    message = str(info.value)
    assert "plugin bad" in message and "insn exec" in message and "ValueError: boom" in message
    assert "guest pc 0x40" in message


def test_on_plugin_error_continue_disables_only_that_plugin() -> None:
    machine = _machine("memloop")
    session = new_session(machine, on_plugin_error="continue")

    def trans(tb: TranslationBlock) -> None:
        api.qemu_plugin_register_vcpu_tb_exec_cb(tb, lambda v, u: 1 / 0)

    with session.activate():
        good = Counter(session, "good")
        bad = add_plugin(session, "bad", qemu_plugin_vcpu_tb_trans=trans)
        assert _run(session).status == 0
    assert bad.disabled and not good.plugin.disabled
    assert api.qemu_plugin_u64_sum(good.inline) == good.callbacks == good.tb_insns
    assert "plugin bad raised in tb exec" in log_text(session)


def test_registering_outside_the_translation_callback_is_a_clear_error() -> None:
    machine = _machine("memloop")
    session = new_session(machine)
    kept: list[TranslationBlock] = []
    with session.activate():
        add_plugin(session, "p", qemu_plugin_vcpu_tb_trans=lambda tb: kept.append(tb))
        _run(session)
        with pytest.raises(QppUsageError, match="no longer being translated"):
            api.qemu_plugin_register_vcpu_tb_exec_cb(kept[0], lambda v, u: None)
        with pytest.raises(QppUsageError, match="outside any vcpu callback"):
            api.qemu_plugin_read_register(api.qemu_plugin_get_registers()[0])


def test_late_translation_callback_sees_code_translated_before() -> None:
    """A plugin registering its translation callback mid-run (here at the first syscall)
    still instruments the loop that was translated and ran before."""
    machine = _machine("hello")
    session = new_session(machine)
    early = Counter(session, "early")
    late_inline = api.qemu_plugin_scoreboard_u64(api.qemu_plugin_scoreboard_new(8))
    seen: set[int] = set()

    def late_trans(id: int, tb: TranslationBlock) -> None:
        seen.add(tb.vaddr)
        api.qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, api.QEMU_PLUGIN_INLINE_ADD_U64, late_inline, tb.n_insns
        )

    def on_syscall(id: PluginId, vcpu: int, num: int, *args: int) -> None:
        if not seen:
            api.qemu_plugin_register_vcpu_tb_trans_cb(id, late_trans)

    with session.activate():
        late = add_plugin(session, "late")
        api.qemu_plugin_register_vcpu_syscall_cb(late.id, on_syscall)
        _run(session)
    assert instrumentation(session).n_flushes >= 1
    assert 0 < api.qemu_plugin_u64_sum(late_inline) < api.qemu_plugin_u64_sum(early.inline)
    assert early.callbacks == api.qemu_plugin_u64_sum(early.inline)


def test_syscalls_filter_and_return(capfd: pytest.CaptureFixture[str]) -> None:
    machine = _machine("hello")
    session = new_session(machine)
    calls: list[tuple[str, int, int]] = []

    def on_sys(id: int, vcpu: int, num: int, *args: int) -> None:
        calls.append(("enter", num, args[2]))

    def on_filter(id: int, vcpu: int, num: int, *args: int) -> int | None:
        return args[2] if num in (1, 20) else None  # write, writev: pretend all went out

    def on_ret(id: int, vcpu: int, num: int, ret: int) -> None:
        calls.append(("ret", num, ret))

    with session.activate():
        p = add_plugin(session, "sys")
        api.qemu_plugin_register_vcpu_syscall_cb(p.id, on_sys)
        api.qemu_plugin_register_vcpu_syscall_filter_cb(p.id, on_filter)
        api.qemu_plugin_register_vcpu_syscall_ret_cb(p.id, on_ret)
        assert _run(session).status == 0
    assert "Hello" not in capfd.readouterr().out
    writes = [c for c in calls if c[1] == 1]
    assert writes and writes[0][0] == "enter" and writes[1] == ("ret", 1, writes[0][2])


def test_uninstall_removes_every_hook_and_reset_drops_instrumentation() -> None:
    machine = _machine("memloop")
    session = new_session(machine)
    with session.activate():
        counter = Counter(session, mem=True)
        p = add_plugin(session, "sys")
        api.qemu_plugin_register_vcpu_syscall_cb(p.id, lambda *a: None)
        _run(session)
        instr = instrumentation(session)
        assert instr.raw.count > 0 and machine.syscall_observer is not None
        session.uninstall(p)
        assert machine.syscall_observer is None
        instr.reset_plugin(counter.plugin)
        assert instr.code_table == {} and instr.mem_table == {}
        session.uninstall(counter.plugin)
        assert instr.raw.count == 0


def test_mipsel_glibc_runs_with_memory_hooks(capfd: pytest.CaptureFixture[str]) -> None:
    """Without the stale-branch workaround, memory hooks make unicorn 2.1.4 raise a
    reserved-instruction exception in glibc's start-up (compute dies with SIGILL)."""
    machine = load_guest(GuestOptions(binary=str(guest_path("compute", "mipsel")), args=("1",)))
    session = new_session(machine)
    accesses = api.qemu_plugin_scoreboard_u64(api.qemu_plugin_scoreboard_new(8))
    insns = api.qemu_plugin_scoreboard_u64(api.qemu_plugin_scoreboard_new(8))

    def trans(tb: TranslationBlock) -> None:
        api.qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, api.QEMU_PLUGIN_INLINE_ADD_U64, insns, tb.n_insns
        )
        for insn in tb.insns:
            api.qemu_plugin_register_vcpu_mem_inline_per_vcpu(
                insn, api.QEMU_PLUGIN_MEM_RW, api.QEMU_PLUGIN_INLINE_ADD_U64, accesses, 1
            )

    with session.activate():
        add_plugin(session, "mem", qemu_plugin_vcpu_tb_trans=trans)
        assert _run(session).status == 0
    assert capfd.readouterr().out == COMPUTE_OUTPUT[1]
    assert instrumentation(session).n_mips_replays > 0
    assert api.qemu_plugin_u64_sum(accesses) > 0


def test_mipsel_branch_at_a_page_end_keeps_its_delay_slot() -> None:
    """A one-instruction block holding the delay slot of a branch that ended the previous
    block (page end) legitimately starts with a pending branch: it must run as it is."""
    machine = _machine("hello", "mipsel")
    session = new_session(machine)
    with session.activate():
        counter = Counter(session)
        assert _run(session).status == 0
    assert api.qemu_plugin_u64_sum(counter.inline) == counter.tb_insns == counter.callbacks
