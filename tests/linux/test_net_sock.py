"""The socket API (tests/guests/src/net_sock.c): TCP and UDP over loopback, socket
options, an AF_UNIX socket bound in a directory, descriptors passed with sendmsg/recvmsg,
EPIPE and SIGPIPE. Every call once answered ENOSYS but ``socketpair`` and ``shutdown``.
``expected/net_sock.out`` is qemu-user's output on all five targets (it passes the calls to
the host); mips numbers socket types, ``SOL_SOCKET`` and its options its own way, and the
32-bit targets' ``SO_RCVTIMEO`` and control messages have 32-bit words.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest


@pytest.mark.parametrize("arch", ARCHES)
def test_sockets_as_linux(arch: str, tmp_path: Path) -> None:
    status, out, err = qpp_run_guest("net_sock", arch, str(tmp_path))
    assert (status, err) == (0, "")
    assert out == expected("net_sock")


def test_a_jailed_guest_binds_its_unix_socket_inside_the_jail(tmp_path: Path) -> None:
    """Under --jail the socket's path is looked up like any path: the jail's directory
    (here the jail is the directory itself, so the guest names it as it is)."""
    status, out, err = qpp_run_guest(
        "net_sock", "aarch64", str(tmp_path), options=("--jail", str(tmp_path))
    )
    assert (status, err) == (0, "")
    assert out == expected("net_sock")
    assert (tmp_path / "sock").is_socket()


@pytest.mark.parametrize("arch", ["x86_64", "mipsel"])
def test_busybox_wget_fetches_from_a_local_server(arch: str, tmp_path: Path) -> None:
    """Debian's busybox wget (DNS-free: a numeric address) against a real HTTP server."""
    import functools
    import http.server
    import subprocess
    import sys
    import threading

    (tmp_path / "page.txt").write_text("hello over http\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        busybox = Path(__file__).resolve().parents[1] / "thirdparty" / "bin" / f"busybox.{arch}"
        url = f"http://127.0.0.1:{server.server_address[1]}/page.txt"
        r = subprocess.run(
            [sys.executable, "-m", "qpp_core", "run", str(busybox), "wget", "-q", "-O", "-", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert (r.returncode, r.stdout, r.stderr) == (0, "hello over http\n", "")
