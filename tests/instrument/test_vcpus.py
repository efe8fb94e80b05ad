"""Each guest thread is a vCPU: vcpu_init/exit per thread, callbacks and syscalls carry the
running thread's index, scoreboards keep one element per vCPU (tests/guests thr_compute:
main and four workers at a time, re-created four times on vCPUs 1-4)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from instrument.harness import add_plugin, instrumentation, new_session

from qpp_core.instrument import api, vcpus
from qpp_core.instrument.handles import TranslationBlock
from qpp_core.linux import load_guest
from qpp_core.linux.options import GuestOptions

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"


@pytest.mark.parametrize("arch", ["x86_64", "arm"])
def test_threads_are_vcpus(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    machine = load_guest(GuestOptions(binary=str(BIN / f"thr_compute.{arch}"), args=("4",)))
    session = new_session(machine)
    score = api.qemu_plugin_scoreboard_new(8)
    entry = api.qemu_plugin_scoreboard_u64(score)
    events: list[tuple[str, int]] = []
    tb_vcpus: Counter[int] = Counter()
    syscall_vcpus: set[int] = set()

    def trans(tb: TranslationBlock) -> None:
        api.qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, tb.n_insns
        )
        api.qemu_plugin_register_vcpu_tb_exec_cb(tb, lambda v, ud: tb_vcpus.update([v]))

    def syscall(vcpu_index: int, num: int, args: Any) -> None:
        syscall_vcpus.add(vcpu_index)

    add_plugin(
        session,
        "v",
        qemu_plugin_vcpu_tb_trans=trans,
        qemu_plugin_vcpu_init=lambda vcpu_index: events.append(("init", vcpu_index)),
        qemu_plugin_vcpu_exit=lambda vcpu_index: events.append(("exit", vcpu_index)),
        qemu_plugin_vcpu_syscall=syscall,
    )
    instrumentation(session).start()
    result = machine.run()
    instrumentation(session).finish()
    out, _ = capfd.readouterr()
    assert result.status == 0
    assert out.startswith("threads 4 checksum")
    # vCPU 0 first and last; 16 workers, each on the lowest index above the live ones (a
    # worker that ended before the next was made leaves its index to it, as in QEMU)
    assert events[0] == ("init", 0)
    assert events[-1] == ("exit", 0)
    inits = [v for kind, v in events if kind == "init"]
    exits = [v for kind, v in events if kind == "exit"]
    assert len(inits) == 17
    assert sorted(exits) == sorted(inits)
    n = api.qemu_plugin_num_vcpus()
    assert set(inits) == set(range(n)) and 2 <= n <= 5
    # the inline counts per vCPU agree with the per-block callbacks' vcpu_index
    per_vcpu = [entry.get(v) for v in range(n)]
    assert all(count > 0 for count in per_vcpu)
    assert entry.sum() == sum(per_vcpu)
    assert set(tb_vcpus) == set(range(n))
    assert syscall_vcpus == set(range(n))  # workers end with a system call


def test_switch_parks_and_restores_values() -> None:
    """The live list (what blocks add to) holds the running vCPU's values only."""
    vcpus.reset()
    score = api.qemu_plugin_scoreboard_new(16)
    first, second = score.entry(0), score.entry(8)
    score.live[0] += 5  # vCPU 0 runs a block
    vcpus.switch(2)
    assert list(score.live) == [0, 0]
    score.live[1] += 7  # vCPU 2 runs
    vcpus.switch(0)
    assert list(score.live) == [5, 0]
    assert (first.get(0), first.get(2), second.get(2)) == (5, 0, 7)
    assert second.sum() == 7 and api.qemu_plugin_num_vcpus() == 3
    vcpus.reset()
