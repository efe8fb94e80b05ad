"""How a guest that dies from a signal is reported: qemu-user's line and the shell's status.

qemu-user 7.2 prints ``qemu: uncaught target signal N (Name) - core dumped`` only after it
has "dumped core": for the signals whose default action dumps core in its own list
(SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV; not SIGXCPU, SIGXFSZ or SIGSYS)
and only on targets for which it can write an ELF core file (not riscv64). Every other
death (SIGTERM, SIGKILL, real-time signals, any signal on riscv64) is silent; the status
alone (128 + the host's signal number) tells it.
"""

from __future__ import annotations

import signal

#: mips o32 numbers signals 7..31 its own way: target number -> host (x86/generic) number,
#: as qemu-user maps them (SIGEMT, which the host lacks, becomes SIGSTKFLT)
_MIPS_TO_HOST = {
    7: 16, 10: 7, 12: 31, 16: 10, 17: 12, 18: 17, 19: 30, 20: 28, 21: 23, 22: 29,
    23: 19, 24: 20, 25: 18, 26: 21, 27: 22, 28: 26, 29: 27, 30: 24, 31: 25,
}  # fmt: skip
_TO_HOST = {"mipsel": _MIPS_TO_HOST}
_TO_TARGET = {arch: {h: t for t, h in table.items()} for arch, table in _TO_HOST.items()}

#: host signals after which qemu-user 7.2 dumps core (its ``core_dump_signal``)
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
    )
)

#: targets without an ELF core dump in qemu-user 7.2: it never prints the line for them
_NO_CORE_DUMP = frozenset({"riscv64"})


def target_signal_number(arch_name: str, host_signal: int) -> int:
    """The guest's number for a (host-numbered) signal."""
    return _TO_TARGET.get(arch_name, {}).get(host_signal, host_signal)


def host_signal_number(arch_name: str, target_signal: int) -> int:
    """The host's number for a signal the guest names (kill, tgkill, sigaction)."""
    return _TO_HOST.get(arch_name, {}).get(target_signal, target_signal)


def uncaught_message(arch_name: str, sig: int, detail: str | None = None) -> str | None:
    """What qemu-user prints when the guest dies from host signal ``sig`` (+ qpp's detail).

    ``qemu: uncaught target signal 11 (Segmentation fault) - core dumped`` for a signal
    that dumps core; None (or only qpp's detail line) for a silent death.
    """
    lines: list[str] = []
    if sig in CORE_SIGNALS and arch_name not in _NO_CORE_DUMP:
        name = signal.strsignal(sig) or f"signal {sig}"
        number = target_signal_number(arch_name, sig)
        lines.append(f"qemu: uncaught target signal {number} ({name}) - core dumped")
    if detail:
        lines.append(f"qpp: {detail}")
    return "\n".join(lines) or None
