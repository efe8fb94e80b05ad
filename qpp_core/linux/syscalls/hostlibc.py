"""The host's C library, for the calls Python's ``os`` and ``socket`` do not offer with
raw arguments (statfs, timerfd, the socket calls on a guest's sockaddr bytes).

Loaded once, on first use (ctypes costs start-up); :func:`call` turns a failure into
``OSError`` and calls again when a signal interrupted the call (when the guest's handler
must end it, qpp's host signal handler has raised by then).
"""

from __future__ import annotations

import ctypes
import errno
import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def libc() -> Any:
    """The host C library, with errno kept for :func:`ctypes.get_errno`."""
    return ctypes.CDLL(None, use_errno=True)


def call(name: str, *args: Any) -> int:
    """``libc().name(*args)``: its non-negative result, or OSError with its errno."""
    fn = getattr(libc(), name)
    while True:
        ret = fn(*args)
        if ret >= 0:
            return int(ret)
        err = ctypes.get_errno()
        if err != errno.EINTR:
            raise OSError(err, os.strerror(err))
