"""The guest-program queries, one-shot breakpoints and exact ``qemu_plugin_exit_guest``
on real guests (memloop: a 5-instruction loop block run 1000 times; hello)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from instrument.harness import add_plugin, instrumentation, machine_of, new_session

from qpp_core.guests import MEMLOOP_INSNS, guest_path
from qpp_core.instrument import api
from qpp_core.instrument.handles import TranslationBlock
from qpp_core.linux import load_guest
from qpp_core.linux.options import GuestOptions


def _session(program: str, arch: str = "x86_64") -> Any:
    return new_session(load_guest(GuestOptions(binary=str(guest_path(program, arch)))))


def _run(session: Any) -> Any:
    instrumentation(session).start()
    result = machine_of(session).run()
    instrumentation(session).finish()
    return result


class Insns:
    """Counts instructions inline and by callback; remembers executed blocks in order."""

    def __init__(self, session: Any) -> None:
        self.inline = api.qemu_plugin_scoreboard_u64(api.qemu_plugin_scoreboard_new())
        self.calls: list[int] = []
        self.plugin = add_plugin(session, "insns", qemu_plugin_vcpu_tb_trans=self.trans)

    def trans(self, tb: TranslationBlock) -> None:
        for insn in tb.insns:
            api.qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                insn, api.QEMU_PLUGIN_INLINE_ADD_U64, self.inline, 1
            )
            api.qemu_plugin_register_vcpu_insn_exec_cb(insn, self._hit, userdata=insn.vaddr)

    def _hit(self, vcpu: int, vaddr: int) -> None:
        self.calls.append(vaddr)

    @property
    def total(self) -> int:
        return api.qemu_plugin_u64_sum(self.inline)


@pytest.mark.parametrize("arch", ["x86_64", "mipsel"])
def test_guest_program_queries(arch: str) -> None:
    session = _session("memloop", arch)
    with session.activate():
        assert api.qemu_plugin_path_to_binary() == os.path.realpath(guest_path("memloop", arch))
        start, end = api.qemu_plugin_start_code(), api.qemu_plugin_end_code()
        assert start <= api.qemu_plugin_entry_code() < end
        assert api.qemu_plugin_entry_code() == machine_of(session).entry
        assert api.qemu_plugin_guest_bits() == (64 if arch == "x86_64" else 32)


def _loop_block(arch: str) -> tuple[int, tuple[int, ...]]:
    """(address, instruction addresses) of memloop's hot block, found by a first run."""
    session = _session("memloop", arch)
    seen: dict[int, list[Any]] = {}

    def trans(tb: TranslationBlock) -> None:
        def hit(vcpu: int, ud: Any) -> None:
            seen.setdefault(tb.vaddr, [insns, 0])[1] += 1

        insns = tuple(i.vaddr for i in tb.insns)

        api.qemu_plugin_register_vcpu_tb_exec_cb(tb, hit)

    with session.activate():
        add_plugin(session, "blocks", qemu_plugin_vcpu_tb_trans=trans)
        _run(session)
    vaddr, (insns, _) = max(seen.items(), key=lambda kv: kv[1][1])
    return vaddr, insns


@pytest.mark.parametrize("arch", ["x86_64", "arm", "mipsel"])
def test_breakpoint_fires_once_before_the_other_callbacks(arch: str) -> None:
    _, insns = _loop_block(arch)
    session = _session("memloop", arch)
    with session.activate():
        counter = Insns(session)
        fired: list[int] = []

        def install(id: int) -> None:
            def hit(vcpu: int, ud: Any) -> None:
                fired.append(len(counter.calls))  # callbacks seen before the breakpoint

            api.qemu_plugin_register_vcpu_breakpoint_cb(id, insns[1], hit)

        add_plugin(session, "bp", install)
        assert _run(session).status == 0
    assert counter.total == len(counter.calls) == MEMLOOP_INSNS[arch]
    assert len(fired) == 1 and counter.calls[fired[0]] == insns[1]  # it ran before that one


@pytest.mark.parametrize("arch", ["x86_64", "riscv64", "mipsel"])
@pytest.mark.parametrize("where", ["tb", "breakpoint", "insn"])
def test_exit_guest_counts_stop_exactly(arch: str, where: str) -> None:
    head, block = _loop_block(arch)
    session = _session("memloop", arch)
    with session.activate():
        counter = Insns(session)
        state = {"runs": 0, "at": 0}

        def stop(vcpu: int, ud: Any) -> None:
            state["at"] = len(counter.calls)
            api.qemu_plugin_exit_guest(ud, 42)

        def on_block(vcpu: int, ud: tuple[int, tuple[int, ...]]) -> None:
            id, insns = ud
            state["runs"] += 1
            if state["runs"] == 10:
                if where == "tb":
                    stop(vcpu, id)
                else:
                    api.qemu_plugin_register_vcpu_breakpoint_cb(id, insns[2], stop, userdata=id)

        def trans(tb: TranslationBlock) -> None:
            if tb.vaddr == head:
                ud = (pid, tuple(i.vaddr for i in tb.insns))
                if where == "insn":
                    api.qemu_plugin_register_vcpu_insn_exec_cb(tb.insns[3], on_insn, userdata=ud)
                else:
                    api.qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, userdata=ud)

        def on_insn(vcpu: int, ud: tuple[int, tuple[int, ...]]) -> None:
            state["runs"] += 1
            if state["runs"] == 10:
                stop(vcpu, ud[0])

        pid = add_plugin(session, "stopper", qemu_plugin_vcpu_tb_trans=trans).id
        assert _run(session).status == 42
    # the stopper registered after the counter: at the stop instruction it runs first
    assert counter.total == len(counter.calls) == state["at"]
    # the last instruction counted is the one before the stop
    # (from tb: the 9th iteration of the loop block ran entirely, the 10th not at all)
    last = {"tb": -1, "breakpoint": 1, "insn": 2}[where]
    assert len(counter.calls) > 10 and counter.calls[-1] == block[last]
