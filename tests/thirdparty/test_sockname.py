"""``getpeername``/``getsockname`` answer ENOTSOCK for descriptors that are not sockets, as
Linux: Debian's bash takes any other answer on its stdin for a network login and reads
``~/.bashrc`` (qemu-user does not make it do so, nor must qpp)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(__file__).resolve().parent / "bin"


@pytest.mark.parametrize("arch", ["x86_64", "arm"])
def test_bash_with_stdin_not_a_socket_reads_no_bashrc(arch: str, tmp_path: Path) -> None:
    (tmp_path / ".bashrc").write_text("echo bashrc was read\n")
    bash = str(BIN / f"bash.{arch}")
    with open(os.devnull) as null:
        r = subprocess.run(
            [sys.executable, "-m", "qpp_core", "run", "-strace", bash, "-c", "echo hi"],
            stdin=null,
            capture_output=True,
            text=True,
            env=dict(os.environ, HOME=str(tmp_path)),
            timeout=120,
        )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hi\n"
    assert "getpeername(0," in r.stderr and "errno=88" in r.stderr  # ENOTSOCK
