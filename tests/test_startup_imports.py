"""Start-up: what a plain ``qpp run`` imports (issue 13: start-up at most 1.5x a bare
unicorn loader). Not timed: the modules a short run must not load are named, and a
subprocess run reports which of them it loaded (a module imported again by mistake fails
here on any machine, however fast)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from qpp_core.guests import guest_path
from qpp_core.machine.arch import ARCHES, ELF_IDS

#: runs ``qpp run ARGS``, then writes the sorted names of the loaded modules to stderr
_RUN_AND_LIST = """
import sys, runpy
sys.argv = ["qpp", "run", *sys.argv[1:]]
try:
    runpy.run_module("qpp_core", run_name="__main__")
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write(" ".join(sorted(sys.modules)))
"""

#: what a run of hello.x86_64 needs none of: other commands, plugin discovery and loading,
#: the instrumentation layer, pluggy and the QPP callbacks (without -p), the other
#: architectures and their syscall numbers, the syscall topics hello does not call, the
#: signal frames (no signal, no trampoline on x86_64), -strace, dataclasses (a millisecond
#: of class creation each), messages' helpers
NOT_FOR_A_PLAIN_RUN = [
    "qpp_core.cli.batch",
    "qpp_core.cli.listing",
    "qpp_core.cli.scaffold",
    "qpp_core.batch",
    "qpp_core.discovery.finder",
    "qpp_core.discovery.metadata",
    "qpp_core.discovery.resolve",
    "qpp_core.loading.args",
    "qpp_core.loading.loader",
    "qpp_core.guests",
    "qpp_core.instrument",
    "qpp_core.instrument.core",
    "qpp_core.instrument.handles",
    "qpp_core.plugin_manager",
    "qpp_core.hookspecs",
    "qpp_core.interplugin.callbacks",
    "pluggy",
    "qpp_core.machine.arch.aarch64",
    "qpp_core.machine.arch.arm",
    "qpp_core.machine.arch.mipsel",
    "qpp_core.machine.arch.riscv64",
    "qpp_core.linux.syscalls.arch_misc",
    "qpp_core.linux.syscalls.execve",
    "qpp_core.linux.syscalls.frame_layouts",
    "qpp_core.linux.syscalls.frames",
    "qpp_core.linux.syscalls.perm",
    "qpp_core.linux.syscalls.poll",
    "qpp_core.linux.syscalls.prctl",
    "qpp_core.linux.syscalls.posix_timers",
    "qpp_core.linux.syscalls.sigwait",
    "qpp_core.linux.syscalls.sockaddr",
    "qpp_core.linux.syscalls.time",
    "qpp_core.linux.syscalls.timers",
    "qpp_core.abi.numbers_aarch64",
    "qpp_core.abi.numbers_arm",
    "qpp_core.abi.numbers_mipsel",
    "qpp_core.abi.numbers_riscv64",
    "qpp_core.linux.strace",
    "dataclasses",
    "capstone",
    "elftools",
    "importlib_metadata",
    "importlib.metadata",
    "difflib",
    "traceback",
]

#: with -p insn: the plugin's discovery, loading and arguments come in, and capstone (the
#: translator splits each block into instructions); the rest stays out
NOT_FOR_INSN = [
    m
    for m in NOT_FOR_A_PLAIN_RUN
    if not m.startswith(
        (
            "qpp_core.discovery",
            "qpp_core.loading",
            "qpp_core.instrument",
            "qpp_core.plugin_manager",
            "qpp_core.hookspecs",
            "qpp_core.interplugin",
            "pluggy",
            "importlib",
            "capstone",
            "dataclasses",
        )
    )
]


def _loaded(*args: str) -> set[str]:
    """The modules a run imports, as a user without QPP_BACKEND runs it (forcing a backend
    makes ``qpp`` check it up front, which imports the instrumentation layer)."""
    env = {k: v for k, v in os.environ.items() if k != "QPP_BACKEND"}
    r = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST, *args, str(guest_path("hello", "x86_64"))],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.stdout.startswith("Hello from the qpp guest!"), r.stderr
    return set(r.stderr.split())


@pytest.mark.parametrize(
    ("options", "unwanted"), [((), NOT_FOR_A_PLAIN_RUN), (("-p", "insn"), NOT_FOR_INSN)]
)
def test_a_short_run_imports_only_what_it_uses(
    options: tuple[str, ...], unwanted: list[str]
) -> None:
    loaded = _loaded(*options)
    assert "qpp_core.linux.syscalls.fs" in loaded  # the check sees what the run loaded
    assert sorted(set(unwanted) & loaded) == []


def test_the_elf_identities_match_the_architectures() -> None:
    """by_elf_machine reads ELF_IDS so as to import only the guest's architecture."""
    assert list(ELF_IDS) == list(ARCHES)
    for name, elf_id in ELF_IDS.items():
        arch = ARCHES[name]
        assert (arch.name, arch.elf_machine, arch.bits, arch.little_endian) == (name, *elf_id)


#: runs the ``qpp`` entry point on a guest, noting each garbage collection and the
#: collector's state as the guest starts; writes them to stderr
_ENTRY_GC = """
import gc, sys
import qpp_core.runner as runner
events = []
run_guest = runner._run_guest
def spy(*args, **kwargs):
    events.append(("guest", gc.isenabled(), gc.get_freeze_count() > 0))
    return run_guest(*args, **kwargs)
runner._run_guest = spy
from qpp_core.cli.entry import main
sys.argv = ["qpp", "run", sys.argv[1]]
gc.callbacks.append(lambda phase, info: phase == "start" and events.append("collect"))
status = main()
sys.stderr.write(repr((events[: events.index(("guest", True, True)) + 1], gc.isenabled(), status)))
"""


def test_the_command_starts_without_collections_and_runs_the_guest_with_them() -> None:
    """``qpp`` turns the garbage collector off for its start-up (cli/entry.py) and back on,
    start-up's objects frozen, as the guest starts."""
    r = subprocess.run(
        [sys.executable, "-c", _ENTRY_GC, str(guest_path("hello", "x86_64"))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.stdout.startswith("Hello from the qpp guest!"), r.stderr
    before_guest, enabled_after, status = ast.literal_eval(r.stderr)
    assert before_guest == [("guest", True, True)]  # no collection before the guest ran
    assert (enabled_after, status) == (True, 0)
