"""How a guest that dies from a signal is reported: qemu-user's line and the shell's status."""

from __future__ import annotations

import signal

# qemu prints the *target* signal number; mips numbers a few signals differently
_MIPS_NUMBERS = {int(signal.SIGBUS): 10, int(signal.SIGUSR1): 16, int(signal.SIGUSR2): 17}


def target_signal_number(arch_name: str, host_signal: int) -> int:
    """The guest's number for a (host-numbered) signal."""
    if arch_name == "mipsel":
        return _MIPS_NUMBERS.get(host_signal, host_signal)
    return host_signal


#: signals whose default action dumps core: only for these does qemu-user print its line
CORE_SIGNALS = frozenset(
    int(s)
    for s in (
        signal.SIGQUIT,
        signal.SIGILL,
        signal.SIGTRAP,
        signal.SIGABRT,
        signal.SIGBUS,
        signal.SIGFPE,
        signal.SIGSEGV,
        signal.SIGXCPU,
        signal.SIGXFSZ,
        signal.SIGSYS,
    )
)


def uncaught_message(arch_name: str, sig: int, detail: str | None = None) -> str | None:
    """``qemu: uncaught target signal 11 (Segmentation fault) - core dumped`` (+ detail line).

    None for a signal that terminates without a core dump (SIGPIPE, SIGTERM...): qemu-user
    dies of it silently, as a native program does.
    """
    if sig not in CORE_SIGNALS:
        return f"qpp: {detail}" if detail else None
    name = signal.strsignal(sig) or f"signal {sig}"
    number = target_signal_number(arch_name, sig)
    line = f"qemu: uncaught target signal {number} ({name}) - core dumped"
    return f"{line}\nqpp: {detail}" if detail else line
