"""A fatal host signal inside the engine ends the run with one ``qpp: error:`` line.

A bug in unicorn's C code (a translator that overruns a table, say) raises SIGSEGV,
SIGBUS, SIGILL or SIGFPE synchronously on the thread running the guest. A Python handler
installed with :func:`signal.signal` never runs for those: CPython's C-level handler only
sets a flag and returns to the faulting instruction, which faults again. ``faulthandler``
can only dump tracebacks. So :func:`guard_fatal_signals` installs a C handler made with
ctypes (``sigaction``). Unicorn runs guest code with the GIL released (ctypes releases it
around ``uc_emu_start``), and the handler takes it back as unicorn's own hooks do; it then:

1. puts the previous handlers back, so that a second fault inside the handler is handled
   as before the guard existed (default action, or ``faulthandler`` if it was enabled);
2. writes ``qpp: error: the engine crashed (SIGSEGV) near guest pc 0x... (ARCH) ...``
   straight to file descriptor 2;
3. calls ``on_fatal`` (the runner flushes the plugin log and runs the plugins' atexit
   callbacks): the fault happened inside the engine's C code, with Python's own state
   intact, so this is as safe as any hook callback; anything it raises is ignored;
4. ends the process with status 85 (:attr:`ExitStatus.INTERNAL`) without unwinding.

A supervising parent process was the alternative: it survives anything, but it cannot
name the guest pc or run the plugins' atexit, and costs a fork per run. The guard is only
installed while the guest runs, so a fault elsewhere keeps Python's usual behaviour.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from ..errors import ExitStatus

#: the signals a host-side engine bug raises
FATAL_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE)

_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_int)


class _Sigaction(ctypes.Structure):
    """glibc's ``struct sigaction`` (the same layout on x86_64 and aarch64 hosts)."""

    _fields_ = [
        ("handler", ctypes.c_void_p),
        ("mask", ctypes.c_ulong * (1024 // (8 * ctypes.sizeof(ctypes.c_ulong)))),
        ("flags", ctypes.c_int),
        ("restorer", ctypes.c_void_p),
    ]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.sigaction.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]


def _sigaction(sig: int, new: _Sigaction | None) -> _Sigaction:
    old = _Sigaction()
    new_ref = ctypes.byref(new) if new is not None else None
    if _libc.sigaction(sig, new_ref, ctypes.byref(old)) != 0:
        raise OSError(ctypes.get_errno(), f"sigaction({sig})")
    return old


@contextmanager
def guard_fatal_signals(
    describe: Callable[[], str], on_fatal: Callable[[], None] = lambda: None
) -> Iterator[None]:
    """While the body runs, a fatal host signal ends qpp with one error line and status 85.

    ``describe`` names where the guest was (e.g. ``"near guest pc 0x400abc (mipsel)"``);
    ``on_fatal`` flushes what can be flushed. Both run inside the signal handler.
    """
    saved: dict[int, _Sigaction] = {}

    def restore() -> None:
        for sig, old in saved.items():
            _sigaction(sig, old)

    def handler(sig: int) -> None:
        restore()
        try:
            where = describe()
        except BaseException:
            where = "(guest pc unknown)"
        name = signal.Signals(sig).name
        line = (
            f"qpp: error: the engine crashed ({name}) {where}; this is a bug in qpp or "
            "unicorn, please report it with the guest binary\n"
        )
        os.write(2, line.encode())
        with suppress(BaseException):  # reported above; the process ends regardless
            on_fatal()
        os._exit(int(ExitStatus.INTERNAL))

    trampoline = _HANDLER(handler)
    action = _Sigaction()
    action.handler = ctypes.cast(trampoline, ctypes.c_void_p).value
    for sig in FATAL_SIGNALS:
        saved[sig] = _sigaction(sig, action)
    try:
        yield
    finally:
        restore()
