"""The guest's signal dispositions (process-wide), the running thread's mask and
alternate stack (each thread's own: :mod:`.thread_signals` swaps them).

A signal the guest provokes (``SIGPIPE`` from a write to a pipe without a reader, ``kill``
of itself) is ignored, kills the guest (default action), or is made pending for its handler
(:mod:`.delivery`). ``rt_sigaction`` stores each signal's ``struct sigaction`` as the guest
wrote it, in the guest's own layout, and hands it back as the old action.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any, NamedTuple
from weakref import WeakKeyDictionary

from ...machine.signals import host_signal_number, target_signal_number

if TYPE_CHECKING:
    from .kernel import LinuxKernel

SIG_DFL = 0
SIG_IGN = 1


class SigAbi(NamedTuple):
    """One architecture's signal ABI: numbers of signals and ``struct sigaction`` shape."""

    nsig: int  #: _NSIG: valid signals are 1..nsig
    sigset_size: int  #: sizeof(sigset_t) the kernel insists on (rt_sigaction's last arg)
    action_size: int  #: sizeof(struct sigaction) as the kernel reads it
    handler_offset: int  #: where sa_handler sits in it
    sigkill: int = 9
    sigstop: int = 19
    #: SIGCHLD, SIGCONT, SIGURG, SIGWINCH: the default action does nothing
    default_ignored: frozenset[int] = frozenset({17, 18, 23, 28})
    minsigstksz: int = 2048  #: the smallest alternate signal stack (else ENOMEM)
    #: stack_t is {sp, flags, size}; mips puts the flags last: {sp, size, flags}
    stack_flags_last: bool = False
    #: rt_sigprocmask's SIG_BLOCK (then SIG_UNBLOCK, SIG_SETMASK): 0, but 1 on mips
    sig_block: int = 0


#: Linux's uapi asm/signal.h per architecture (mips o32: flags first, 128 signals)
SIG_ABI: dict[str, SigAbi] = {
    "x86_64": SigAbi(64, 8, 32, 0),  # handler, flags, restorer, mask
    "aarch64": SigAbi(64, 8, 32, 0, minsigstksz=5120),  # handler, flags, restorer, mask
    "riscv64": SigAbi(64, 8, 24, 0),  # handler, flags, mask (no sa_restorer)
    "arm": SigAbi(64, 8, 20, 0),  # handler, flags, restorer, mask
    "mipsel": SigAbi(
        128,
        16,
        24,  # flags, handler, mask[4]
        4,
        sigstop=23,
        stack_flags_last=True,
        sig_block=1,
        default_ignored=frozenset({18, 20, 21, 25}),  # SIGCHLD, SIGWINCH, SIGURG, SIGCONT
    ),
}


class SignalState:
    """Per-guest: the raw sigaction of each signal the guest set, the blocked mask and the
    alternate signal stack."""

    __slots__ = ("actions", "altstack", "mask")

    def __init__(self) -> None:
        self.actions: dict[int, bytes] = {}
        self.mask = b""
        self.altstack: tuple[int, int, int] = (0, 0, 0)  #: sigaltstack's (sp, flags, size)


_STATES: WeakKeyDictionary[LinuxKernel, SignalState] = WeakKeyDictionary()


def state(k: LinuxKernel) -> SignalState:
    s = _STATES.get(k)
    if s is None:
        s = _STATES[k] = SignalState()
    return s


def disposition(k: LinuxKernel, sig: int) -> int:
    """SIG_DFL (0), SIG_IGN (1) or the guest handler's address for guest signal ``sig``."""
    sa = SIG_ABI[k.arch_name]
    raw = state(k).actions.get(sig)
    if raw is None:
        return SIG_DFL
    w = k.m.arch.word
    return int.from_bytes(raw[sa.handler_offset : sa.handler_offset + w], "little")


def host_signal(k: LinuxKernel, sig: int) -> int:
    """The host's number for a guest-numbered signal (mips numbers many differently)."""
    return host_signal_number(k.arch_name, sig)


def guest_sigchld(k: LinuxKernel) -> int:
    """The guest's number for SIGCHLD (18 on mips, 17 elsewhere)."""
    return target_signal_number(k.arch_name, int(signal.SIGCHLD))


def raise_in_guest(
    k: LinuxKernel, sig: int, code: int | None = None, *, thread: bool = False
) -> None:
    """The guest provoked signal ``sig`` (guest numbering): apply its disposition.

    A blocked signal stays pending (whatever its disposition, as Linux). Default action:
    the guest dies as under Linux (128+N), unless the signal is ignored by default.
    ``SIG_IGN``: nothing. A handler: it runs when the current system call returns
    (:mod:`.delivery`). ``code``: si_code of a signal the guest sent itself (SI_USER,
    SI_TKILL); None for one the kernel raises (SIGPIPE). ``thread``: for the calling thread
    alone (tkill of itself), else for the process (a thread that does not block it
    takes it: :mod:`.thread_signals`).
    """
    from . import thread_signals
    from .delivery import _siginfo, blocked, post, post_from_self

    sa = SIG_ABI[k.arch_name]
    action = disposition(k, sig)
    if action > SIG_IGN or blocked(k, sig):
        if thread:
            info = _siginfo(k, sig, code, 0) if code is not None else None
            thread_signals.of(k).pending.setdefault(sig, info)
        elif code is None:
            post(k, sig)
        else:
            post_from_self(k, sig, code)
        thread_signals.wake_for_signals(k)
        return
    if action != SIG_DFL or sig in sa.default_ignored:
        return
    k.m.kill(host_signal(k, sig))


def ignores_host_signal(k: LinuxKernel, host_sig: int) -> bool:
    """Whether the guest's disposition for host signal ``host_sig`` is SIG_IGN."""
    return disposition(k, target_signal_number(k.arch_name, host_sig)) == SIG_IGN


def inherit_across_exec(old: LinuxKernel, new: Any) -> None:
    """execve: ignored signals stay ignored, the mask and pending signals stay; handlers
    become SIG_DFL; POSIX timers end."""
    from .delivery import carry_pending
    from .posix_timers import drop_all

    drop_all(old)
    if new.arch_name == old.arch_name:
        carry_pending(old, new)
    sa = SIG_ABI[old.arch_name]
    before = state(old)
    after = state(new)
    after.mask = before.mask
    for sig, raw in before.actions.items():
        if disposition(old, sig) == SIG_IGN and new.arch_name == old.arch_name:
            after.actions[sig] = raw[: sa.action_size]
