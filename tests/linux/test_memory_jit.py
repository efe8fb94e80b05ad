"""JIT-style code: written into RWX pages (or RW then mprotect RX), run, rewritten, run
again, also across a page boundary and when the kernel writes it (read()); plugins are
shown each new version of a block before it runs."""

from __future__ import annotations

from typing import Any

import pytest
from instrument.harness import add_plugin, instrumentation, new_session
from linux.guestrun import run_guest
from linux.memguests import ARCHES, binary, expected

from qpp_core.instrument import api
from qpp_core.instrument.handles import TranslationBlock
from qpp_core.linux import GuestOptions, load_guest


@pytest.mark.parametrize("arch", ARCHES)
def test_jit_code_runs_fresh(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, binary("mem_jit", arch))
    assert "w^x rewritten: 150" in r.stdout and "read again: 99" in r.stdout
    assert (r.stdout, r.status) == expected("mem_jit", arch)


@pytest.mark.parametrize("arch", ARCHES)
def test_plugins_see_each_new_block(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    """Every block executed is the block announced: its bytes are what runs."""
    machine = load_guest(GuestOptions(binary=binary("mem_jit", arch)))
    session = new_session(machine)
    stale: list[int] = []
    announced: dict[int, set[bytes]] = {}

    def check(vcpu: int, tb: Any) -> None:
        if machine.read_memory(tb[0], len(tb[1])) != tb[1]:
            stale.append(tb[0])

    def trans(tb: TranslationBlock) -> None:
        announced.setdefault(tb.vaddr, set()).add(tb.data)
        api.qemu_plugin_register_vcpu_tb_exec_cb(tb, check, userdata=(tb.vaddr, tb.data))

    with session.activate():
        add_plugin(session, "jitwatch", qemu_plugin_vcpu_tb_trans=trans)
        instrumentation(session).start()
        result = machine.run()
        instrumentation(session).finish()
    out, _ = capfd.readouterr()
    assert (out, result.status) == expected("mem_jit", arch)
    assert stale == []
    assert max(len(v) for v in announced.values()) >= 9  # the RWX buffer's versions
