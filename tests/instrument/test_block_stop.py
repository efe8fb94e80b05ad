"""The instrumentation's block hook honours the machine's stop requests for signals
(:mod:`qpp_core.machine.blockstop`): while it exists the machine needs no block hook of
its own, and when it goes (no translation listener left, or the layer closes) the machine
is told to add one again if a guest timer needs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instrument.harness import add_plugin, instrumentation, new_session

from qpp_core.instrument import api
from qpp_core.instrument.handles import TranslationBlock
from qpp_core.linux import load_guest
from qpp_core.linux.options import GuestOptions

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"


def _count_blocks(tb: TranslationBlock) -> None:
    api.qemu_plugin_register_vcpu_tb_exec_cb(tb, lambda vcpu, ud: None)


def _machine() -> Any:
    return load_guest(GuestOptions(binary=str(BIN / "sig_handlers.x86_64")))


def test_the_block_hook_counts_as_a_checker_while_it_exists() -> None:
    machine = _machine()
    stops = machine.block_stop
    session = new_session(machine)
    with session.activate():
        plugin = add_plugin(session, "blocks", qemu_plugin_vcpu_tb_trans=_count_blocks)
        instrumentation(session).start()
        assert (stops.checkers, stops.watched, stops.sync_due) == (1, True, False)
        session.uninstall(plugin)  # no translation listener left: the block hook goes
        assert instrumentation(session).hooks.block is None
        assert (stops.checkers, stops.watched, stops.sync_due) == (0, False, True)


def test_closing_the_layer_releases_the_stop_requests() -> None:
    machine = _machine()
    stops = machine.block_stop
    session = new_session(machine)
    with session.activate():
        add_plugin(session, "blocks", qemu_plugin_vcpu_tb_trans=_count_blocks)
        instr = instrumentation(session)
        instr.start()
        assert stops.checkers == 1
        instr.close()
        assert (stops.checkers, stops.sync_due) == (0, True)
        instr.close()  # twice: nothing more to release
        assert stops.checkers == 0


def test_an_armed_request_stops_the_engine_before_the_block_counts() -> None:
    machine = _machine()
    session = new_session(machine)
    blocks: list[int] = []
    with session.activate():

        def trans(tb: TranslationBlock) -> None:
            api.qemu_plugin_register_vcpu_tb_exec_cb(
                tb, lambda vcpu, ud: blocks.append(ud), userdata=tb.vaddr
            )

        add_plugin(session, "blocks", qemu_plugin_vcpu_tb_trans=trans)
        instr = instrumentation(session)
        instr.start()
        machine.block_stop.flag.armed = 1  # as a timer's thread does: the engine stops at once
        machine.uc.emu_start(machine.entry, 0, 0, 0)
        assert blocks == []
        assert machine.uc.reg_read(machine.arch.pc) == machine.entry  # nothing of it ran
        machine.block_stop.disarm()
        machine.uc.emu_start(machine.entry, 0, 0, 50)
        assert blocks and blocks[0] == machine.entry
        instr.close()
