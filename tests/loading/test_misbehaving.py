"""Plugins that raise ``SystemExit``, ``KeyboardInterrupt`` or another ``BaseException``.

None of them may end qpp behind its back: whatever a plugin raises, at import, install,
in a callback or at exit, ``qpp run`` prints one ``qpp: error:`` line naming the plugin,
no traceback, runs every other plugin's atexit once the guest has started, flushes the
log and exits with the documented status (74 import, 75 install, 80 callback or atexit).

Each case writes fake installed distributions and runs the real command in a
subprocess, as if they were pip-installed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fakesite import FakeSite

from qpp_core.errors import ExitStatus
from qpp_core.guests import guest_path

#: what the rude plugin raises, and how qpp names it
RAISES = {
    "SystemExit": ("sys.exit(3)", "SystemExit: 3"),
    "KeyboardInterrupt": ("raise KeyboardInterrupt", "KeyboardInterrupt"),
    "BaseException": ("raise Rude('no manners')", "Rude: no manners"),
}

HEADER = """
import sys
import qpp_core as api
from qpp_core import hookimpl, qemu_plugin_outs

class Rude(BaseException):
    pass

def misbehave():
    {raise_}
"""

#: where the rude plugin misbehaves: the hookimpls of each stage
STAGES = {
    "import": "misbehave()\n",
    "install": """
@hookimpl
def qemu_plugin_install(id, info, args):
    misbehave()
""",
    "syscall": """
@hookimpl
def qemu_plugin_vcpu_syscall(vcpu_index, num, args):
    misbehave()
""",
    "insn exec": """
def on_insn(vcpu_index, udata):
    misbehave()

@hookimpl
def qemu_plugin_vcpu_tb_trans(tb):
    api.qemu_plugin_register_vcpu_insn_exec_cb(api.qemu_plugin_tb_get_insn(tb, 0), on_insn)
""",
    "tb exec": """
def on_tb(vcpu_index, udata):
    misbehave()

@hookimpl
def qemu_plugin_vcpu_tb_trans(tb):
    api.qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb)
""",
    "atexit": """
@hookimpl
def qemu_plugin_atexit():
    misbehave()
""",
    "atexit_cb": """
def at_exit(id, udata):
    misbehave()

@hookimpl
def qemu_plugin_install(id, info, args):
    api.qemu_plugin_register_atexit_cb(id, at_exit)
""",
}

POLITE = """
from qpp_core import hookimpl, qemu_plugin_outs

@hookimpl
def qemu_plugin_atexit():
    qemu_plugin_outs("{name}: atexit\\n")
"""


def rude_source(stage: str, kind: str) -> str:
    return HEADER.format(raise_=RAISES[kind][0]) + STAGES[stage]


@pytest.fixture
def fake(tmp_path: Path) -> FakeSite:
    root = tmp_path / "site"
    root.mkdir()
    fake = FakeSite(root)
    fake.plugin("before", POLITE.format(name="before"))
    fake.plugin("after", POLITE.format(name="after"))
    return fake


def qpp(fake: FakeSite, *args: str) -> subprocess.CompletedProcess[str]:
    return fake.run_qpp(*args)


def run_rude(fake: FakeSite, tmp_path: Path, *options: str) -> tuple[int, list[str], str]:
    """``qpp run -p before -p rude -p after -D log memloop``: (status, stderr lines, log)."""
    log = tmp_path / "plugins.log"
    result = qpp(
        fake,
        "run",
        *options,
        "-p",
        "before",
        "-p",
        "rude",
        "-p",
        "after",
        "-D",
        str(log),
        str(guest_path("memloop", "x86_64")),
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert "Exception ignored" not in result.stderr, result.stderr
    return result.returncode, result.stderr.splitlines(), log.read_text()


@pytest.mark.parametrize("kind", RAISES)
def test_at_import(fake: FakeSite, tmp_path: Path, kind: str) -> None:
    fake.plugin("rude", rude_source("import", kind))
    status, lines, log = run_rude(fake, tmp_path)
    assert status == ExitStatus.PLUGIN_IMPORT
    assert lines == [
        f"qpp: error: plugin rude (rude-dist 1.0) failed to import module rude_mod: "
        f"{RAISES[kind][1]}; fix or reinstall rude-dist"
    ]
    assert log == ""  # the guest never started: no atexit (as QEMU's failing plugin load)


@pytest.mark.parametrize("kind", RAISES)
def test_at_install(fake: FakeSite, tmp_path: Path, kind: str) -> None:
    fake.plugin("rude", rude_source("install", kind))
    status, lines, log = run_rude(fake, tmp_path)
    assert status == ExitStatus.PLUGIN_INSTALL
    assert lines == [
        f"qpp: error: plugin rude (rude-dist 1.0) failed to install: {RAISES[kind][1]}"
    ]
    assert log == ""


@pytest.mark.parametrize("stage", ["syscall", "insn exec", "tb exec"])
@pytest.mark.parametrize("kind", RAISES)
def test_in_a_callback(fake: FakeSite, tmp_path: Path, kind: str, stage: str) -> None:
    fake.plugin("rude", rude_source(stage, kind))
    status, lines, log = run_rude(fake, tmp_path)
    assert status == ExitStatus.PLUGIN_RUNTIME
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"qpp: error: plugin rude raised in {stage} at guest pc 0x")
    assert lines[0].endswith(f": {RAISES[kind][1]}")
    assert log == "after: atexit\nbefore: atexit\n"


@pytest.mark.parametrize("kind", RAISES)
def test_in_a_callback_with_continue(fake: FakeSite, tmp_path: Path, kind: str) -> None:
    """``--on-plugin-error=continue``: only the rude plugin goes; the guest's status stands."""
    fake.plugin("rude", rude_source("insn exec", kind))
    status, lines, log = run_rude(fake, tmp_path, "--on-plugin-error=continue")
    assert status == 0, lines
    assert lines[0].startswith("qpp: plugin rude raised in insn exec at guest pc 0x")
    assert lines[0].endswith(f": {RAISES[kind][1]} (plugin disabled, the run goes on)")
    assert len(lines) == 1, lines
    assert log == lines[0] + "\nafter: atexit\nbefore: atexit\n"


@pytest.mark.parametrize("stage", ["atexit", "atexit_cb"])
@pytest.mark.parametrize("kind", RAISES)
def test_at_exit(fake: FakeSite, tmp_path: Path, kind: str, stage: str) -> None:
    """Every other plugin's atexit still runs (newest first), then qpp exits with 80."""
    fake.plugin("rude", rude_source(stage, kind))
    status, lines, log = run_rude(fake, tmp_path)
    assert status == ExitStatus.PLUGIN_RUNTIME
    what = "qemu_plugin_atexit" if stage == "atexit" else "its atexit callback"
    message = f"qpp: plugin rude raised in {what}: {RAISES[kind][1]}"
    assert lines == [message]
    assert log == f"after: atexit\n{message}\nbefore: atexit\n"


@pytest.mark.parametrize("kind", ["SystemExit", "BaseException"])
def test_list_check_and_help_survive_an_import(fake: FakeSite, kind: str) -> None:
    """``qpp list --check`` and ``qpp help`` import plugins too: same rule there."""
    fake.plugin("rude", rude_source("import", kind))
    checked = qpp(fake, "list", "--check", "--verbose")
    assert checked.returncode == ExitStatus.PLUGIN_IMPORT, checked.stderr  # a broken plugin
    assert f"broken: module rude_mod failed to import: {RAISES[kind][1]}" in checked.stdout
    helped = qpp(fake, "help", "rude")
    assert helped.returncode == ExitStatus.PLUGIN_IMPORT
    assert helped.stderr.startswith("qpp: error: plugin rude failed to import: ")
    assert "Traceback" not in checked.stderr + helped.stderr
