"""Plugins see guest signal handlers start and return (``qpp_signal_delivered`` and
``qpp_signal_returned``), on the sig_handlers guest (tests/guests) of each target."""

from __future__ import annotations

from pathlib import Path

import pytest
from instrument.harness import add_plugin, instrumentation, new_session

from qpp_core.linux import load_guest
from qpp_core.linux.options import GuestOptions

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"
#: SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD in each target's numbering (mips has its own)
SIGNALS = {"mipsel": {16, 17, 13, 18}}
LINUX = {10, 12, 13, 17}


@pytest.mark.parametrize("arch", ["x86_64", "aarch64", "arm", "riscv64", "mipsel"])
def test_plugins_see_handlers_start_and_return(
    arch: str, capfd: pytest.CaptureFixture[str]
) -> None:
    machine = load_guest(GuestOptions(binary=str(BIN / f"sig_handlers.{arch}")))
    session = new_session(machine)
    events: list[tuple[str, int, int, int]] = []
    add_plugin(
        session,
        "sigwatch",
        qpp_signal_delivered=lambda vcpu_index, signum, handler, pc: events.append(
            ("in", signum, handler, pc)
        ),
        qpp_signal_returned=lambda vcpu_index, pc: events.append(("out", 0, 0, pc)),
    )
    instrumentation(session).start()
    result = machine.run()
    instrumentation(session).finish()
    out, _ = capfd.readouterr()
    assert result.status == 0, out
    delivered = [e for e in events if e[0] == "in"]
    assert {signum for _, signum, _, _ in delivered} == SIGNALS.get(arch, LINUX)
    # every handler returns, to the pc its delivery saved, innermost first
    stack: list[int] = []
    for kind, _signum, handler, pc in events:
        if kind == "in":
            assert handler and pc and handler != pc
            stack.append(pc)
        else:
            assert stack and stack.pop() == pc
    assert not stack
    # the guest's handlers are few functions, run many times
    assert len({h for _, _, h, _ in delivered}) <= 3 < len(delivered)
