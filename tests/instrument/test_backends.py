"""The two instrumentation backends: choosing one, and identical results from both.

The native fast path (``_fastpath.c``) and the pure-Python backend must agree exactly:
every standard counting plugin is run on real guests of all five architectures under
each (``QPP_BACKEND``) and the outputs compared byte for byte. Tests of the native side
skip when this install has no native build (no compiler when it was installed); the
whole suite can also run on one backend with ``pytest --backend=native|python``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from instrument.harness import add_plugin, instrumentation, new_session

from qpp_core.errors import ExitStatus
from qpp_core.guests import guest_path
from qpp_core.instrument import api, vcpus
from qpp_core.instrument.backend import native_lib
from qpp_core.instrument.handles import TranslationBlock
from qpp_core.linux import load_guest
from qpp_core.linux.options import GuestOptions

ARCHES = ["x86_64", "aarch64", "arm", "riscv64", "mipsel"]
QPP = [sys.executable, "-m", "qpp_core"]
needs_native = pytest.mark.skipif(native_lib() is None, reason="the native fast path is not built")


def _qpp(backend: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QPP_BACKEND=backend)
    return subprocess.run(
        [*QPP, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_version_names_the_backend_in_use() -> None:
    out = _qpp("python", "--version")
    assert out.returncode == 0
    assert "instrumentation backend: python (forced by QPP_BACKEND)" in out.stdout


@needs_native
def test_version_names_the_native_backend() -> None:
    assert "instrumentation backend: native" in _qpp("native", "--version").stdout


def test_an_unknown_backend_is_one_line_and_its_own_status() -> None:
    out = _qpp("turbo", "run", str(guest_path("hello", "x86_64")))
    assert out.returncode == ExitStatus.BACKEND_UNAVAILABLE
    assert out.stderr.strip().splitlines() == [
        "qpp: error: QPP_BACKEND='turbo' is not a backend: use 'native' or 'python'"
    ]


def test_native_forced_without_a_build_is_one_line_and_its_own_status() -> None:
    # this process may have the build: hide it from a fresh interpreter
    code = (
        "import sys\n"
        "from qpp_core.instrument import backend\n"
        "backend._load = lambda: (None, 'not built: no C compiler when qpp was installed')\n"
        "from qpp_core.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = dict(os.environ, QPP_BACKEND="native")
    hello = str(guest_path("hello", "x86_64"))
    out = subprocess.run(
        [sys.executable, "-c", code, "run", hello], capture_output=True, text=True, env=env
    )
    assert out.returncode == ExitStatus.BACKEND_UNAVAILABLE
    assert out.stderr.strip().splitlines() == [
        "qpp: error: QPP_BACKEND=native but the native fast path is not built: "
        "no C compiler when qpp was installed"
    ]
    # without the request the same install falls back to Python quietly
    env["QPP_BACKEND"] = ""
    out = subprocess.run(
        [sys.executable, "-c", code, "run", hello], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert "Hello" in out.stdout


PLUGINS = [
    "insn",
    "bb",
    "hotblocks,limit=0",
    "mem,inline=on,callback=on",
    "howvec,verbose=on",
    "drcov,filename=cov.drcov",
]


def _outputs(backend: str, arch: str, tmp: Path) -> tuple[int, str, str, bytes]:
    work = tmp / backend
    work.mkdir()
    cmd = ["run", "-D", "plugins.log"]
    for p in PLUGINS:
        cmd += ["-p", p]
    out = _qpp(backend, *cmd, str(guest_path("compute", arch)), "4", cwd=work)
    return (
        out.returncode,
        out.stdout,
        (work / "plugins.log").read_text(),
        (work / "cov.drcov").read_bytes(),
    )


@needs_native
@pytest.mark.parametrize("arch", ARCHES)
def test_both_backends_give_identical_plugin_outputs(arch: str, tmp_path: Path) -> None:
    native = _outputs("native", arch, tmp_path)
    python = _outputs("python", arch, tmp_path)
    assert native[0] == 0, native
    assert "total insns: " in native[2] and "inline mem accesses: " in native[2]
    assert native == python


def _count_on(arch: str, trans: Any) -> Any:
    m = load_guest(GuestOptions(binary=str(guest_path("compute", arch)), args=("2",)))
    session = new_session(m)
    with session.activate():
        add_plugin(session, "t", qemu_plugin_vcpu_tb_trans=trans)
        instr = instrumentation(session)
        instr.start()
        m.run()
        instr.finish()
    return instr


@needs_native
@pytest.mark.skipif(os.environ.get("QPP_BACKEND") == "python", reason="Python backend forced")
def test_inline_only_blocks_never_enter_python() -> None:
    """Once announced, a block with only inline ops runs in C: Python sees each block
    about once (its translation), not once per execution."""
    entry = api.qemu_plugin_scoreboard_u64(api.qemu_plugin_scoreboard_new(8))

    def trans(tb: TranslationBlock) -> None:
        api.qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, 1
        )

    instr = _count_on("x86_64", trans)
    assert instr.backend == "native"
    native, python, _ = instr.native.counts
    assert native + python == api.qemu_plugin_u64_get(entry, 0)
    assert python <= instr.n_translations + instr.n_retranslations + 10
    assert native > 20 * python


@needs_native
@pytest.mark.skipif(os.environ.get("QPP_BACKEND") == "python", reason="Python backend forced")
def test_a_conditional_callback_enters_python_only_when_it_holds() -> None:
    """A tb callback ``if count == 3`` (count added to by the block itself, after it):
    Python is called exactly once per block, on its fourth execution."""
    calls: dict[int, int] = {}
    seen: dict[int, api.U64] = {}

    def on_tb(vcpu: int, vaddr: int) -> None:
        calls[vaddr] = calls.get(vaddr, 0) + 1

    def trans(tb: TranslationBlock) -> None:
        entry = seen.get(tb.vaddr)
        if entry is None:
            entry = seen[tb.vaddr] = api.qemu_plugin_scoreboard_u64(
                api.qemu_plugin_scoreboard_new(8)
            )
        api.qemu_plugin_register_vcpu_tb_exec_cond_cb(
            tb, on_tb, api.QEMU_PLUGIN_CB_NO_REGS, api.QEMU_PLUGIN_COND_EQ, entry, 3, tb.vaddr
        )
        api.qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, api.QEMU_PLUGIN_INLINE_ADD_U64, entry, 1
        )

    _count_on("x86_64", trans)
    ran4 = {a for a, e in seen.items() if api.qemu_plugin_u64_get(e, 0) >= 4}
    assert ran4 and set(calls) == ran4
    assert set(calls.values()) == {1}


def test_scoreboards_read_the_storage_the_backend_writes() -> None:
    score = api.qemu_plugin_scoreboard_new(16)
    entry = api.qemu_plugin_scoreboard_u64_in_struct(score, 8)
    api.qemu_plugin_u64_set(entry, 0, -1)
    assert api.qemu_plugin_u64_get(entry, 0) == 2**64 - 1
    api.qemu_plugin_u64_add(entry, 0, 2)
    assert api.qemu_plugin_u64_sum(entry) == 1
    try:
        vcpus.switch(2)  # a new guest thread runs: its vCPU starts from zeroed slots
        assert api.qemu_plugin_u64_get(entry, 2) == 0
        score.live[1] += 5  # what an inline add on the running vCPU does
        vcpus.switch(0)  # values swap back: each vCPU keeps its own
        assert [api.qemu_plugin_u64_get(entry, i) for i in range(3)] == [1, 0, 5]
        assert api.qemu_plugin_u64_sum(entry) == 6
    finally:
        vcpus.reset()
