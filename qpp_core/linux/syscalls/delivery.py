"""Running guest signal handlers: when a system call ends, at a fault, between blocks.

A signal the guest should handle (its ``SIGCHLD`` when a child ends, a ``kill`` or
``raise`` of itself, ``SIGPIPE``, a timer's, a fault) is made pending; when a system call
returns (or the engine stops between blocks) and the signal is not blocked, the handler is
called as the kernel calls it: the kernel's own signal frame for the architecture
(:mod:`.frames`, :mod:`.frame_layouts`) goes on the guest's stack (or its alternate signal
stack, under ``SA_ONSTACK``) with the siginfo and a ``ucontext`` holding every interrupted
register; the handler runs with ``(sig, siginfo, ucontext)`` and returns through the
guest's ``sa_restorer`` (or qpp's trampoline, in the page where qemu-user keeps its own)
into ``rt_sigreturn`` (``sigreturn`` for arm's and mips' handlers without ``SA_SIGINFO``),
which restores what the frame then holds: registers, the interrupted call's result and the
signal mask, whatever the handler changed in them.

The frame code is imported where it is used: an x86_64 run (no trampoline page) whose
guest meets no signal never loads it (start-up time).
"""

from __future__ import annotations

import errno
import os
import struct
import time
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from ...machine.arch.base import UcError
from ...machine.signals import target_signal_number
from ...machine.threads import GuestThread, Wait
from . import sigstate, thread_signals
from .futex import BLOCKED
from .process import CHILD_SIGNALS
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

#: a handler's return value meaning "the registers are already what they must be"
KEEP_REGISTERS = -(1 << 62)

SA_ONSTACK = 0x08000000
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000
SA_RESTORER = 0x04000000
SI_USER = 0
SI_TKILL = -6
CLD_EXITED = 1
SIGINFO_SIZE = 128


class _State:
    __slots__ = ("pending",)

    def __init__(self) -> None:
        #: process-directed pending signal -> its siginfo (None: made at delivery, from the
        #: signal alone); each thread's own are in :mod:`.thread_signals`
        self.pending: dict[int, bytes | None] = {}


_STATES: WeakKeyDictionary[LinuxKernel, _State] = WeakKeyDictionary()


def _state(k: LinuxKernel) -> _State:
    st = _STATES.get(k)
    if st is None:
        st = _STATES[k] = _State()
    return st


def install_trampoline(k: LinuxKernel, addr: int) -> None:
    """Write the ``rt_sigreturn`` trampoline at ``addr`` (a page of the guest's)."""
    from . import frames  # on first use, see the module docstring

    sabi = frames.signal_abi(k)
    code = sabi.trampoline_for(sabi.rt)
    if sabi.plain is not None:  # sigreturn for handlers without SA_SIGINFO, 8 bytes on
        code += sabi.trampoline_for(sabi.plain)
    k.m.uc.mem_write(addr, code)
    k.sigtramp = addr


def post(k: LinuxKernel, sig: int, info: bytes | None = None) -> None:
    """Guest signal ``sig`` (guest numbering) is pending for the process, with its siginfo
    if known (a standard signal already pending keeps its first siginfo: they do not
    queue)."""
    _state(k).pending.setdefault(sig, info)


def shared_pending(k: LinuxKernel) -> dict[int, bytes | None]:
    """The process-directed pending signals (the dict itself)."""
    return _state(k).pending


def post_from_self(k: LinuxKernel, sig: int, code: int = SI_USER) -> None:
    """The guest sent itself ``sig`` (kill: SI_USER, tgkill/tkill: SI_TKILL)."""
    post(k, sig, _siginfo(k, sig, code, 0))


def carry_pending(old: LinuxKernel, new: LinuxKernel) -> None:
    """execve: the signals pending for the process stay pending for its new program."""
    st = _STATES.get(old)
    if st is not None and st.pending:
        _state(new).pending.update(st.pending)
    thread_signals.of(new).pending.update(thread_signals.of(old).pending)


def pending_mask(k: LinuxKernel) -> int:
    """rt_sigpending: the signals pending for the calling thread or the process (blocked
    or not yet delivered), as a bit mask."""
    st = _STATES.get(k)
    sigs = set(thread_signals.of(k).pending) | (set(st.pending) if st is not None else set())
    return sum(1 << (sig - 1) for sig in sigs)


def take_pending(k: LinuxKernel, wanted: int) -> tuple[int, bytes] | None:
    """rt_sigtimedwait: remove the lowest pending signal of the ``wanted`` mask (the
    calling thread's own first, then the process's); with its siginfo."""
    thread_signals.drain_directed(k)
    for pending in (thread_signals.of(k).pending, _state(k).pending):
        sig = next((s for s in sorted(pending) if wanted >> (s - 1) & 1), None)
        if sig is not None:
            info = pending.pop(sig)
            return sig, info if info is not None else _siginfo(k, sig, None, 0)
    return None


def wanted_pending(k: LinuxKernel, t: GuestThread, wanted: int) -> bool:
    """Whether a signal of the ``wanted`` mask is pending for thread ``t`` or the process."""
    sigs = set(thread_signals.of(k, t).pending) | set(_state(k).pending)
    return any(wanted >> (s - 1) & 1 for s in sigs)


def blocked(k: LinuxKernel, sig: int) -> bool:
    """Whether every thread's mask blocks process-directed ``sig`` (it then stays pending
    whatever its disposition)."""
    return thread_signals.every_thread_blocks(k, sig)


def _blocked(k: LinuxKernel, sig: int) -> bool:
    """Whether the running thread's mask blocks ``sig``."""
    mask = int.from_bytes(sigstate.state(k).mask or b"\0", "little")
    return bool(mask >> (sig - 1) & 1)


def _deliverable(k: LinuxKernel) -> int | None:
    """The pending signal a handler would run for now, if any (SIGCHLDs become pending)."""
    if CHILD_SIGNALS.pending:
        chld = sigstate.guest_sigchld(k)
        if sigstate.disposition(k, chld) > sigstate.SIG_IGN:
            CHILD_SIGNALS.take()
            post(k, chld)
    own = thread_signals.of(k).pending
    if own:
        sig = next((s for s in sorted(own) if not _blocked(k, s)), None)
        if sig is not None:
            return sig
    st = _STATES.get(k)
    if st is None:
        return None
    return next((sig for sig in sorted(st.pending) if not _blocked(k, sig)), None)


def _any_pending(k: LinuxKernel) -> bool:
    thread_signals.drain_directed(k)
    st = _STATES.get(k)
    return bool(
        CHILD_SIGNALS.pending or (st is not None and st.pending) or thread_signals.of(k).pending
    )


def signal_waiting(k: LinuxKernel) -> bool:
    """Whether a handler is due: a blocking call then ends with EINTR (no SA_RESTART yet)."""
    return _any_pending(k) and _deliverable(k) is not None


def deliver_pending(k: LinuxKernel, in_trap: bool = True) -> None:
    """At the end of a system call: run the handler of one pending, unblocked signal.
    ``in_trap``: from inside the call's hook (not: a thread's call ending as it is
    switched to)."""
    sig = _deliverable(k)
    if sig is None:
        own = thread_signals.of(k)
        if own.suspended_mask is not None:  # rt_sigsuspend ended anyway
            sigstate.state(k).mask, own.suspended_mask = own.suspended_mask, None
        return
    _take(k, sig, in_trap=in_trap)


def _take(k: LinuxKernel, sig: int, *, in_trap: bool) -> None:
    """Deliver pending ``sig``: its handler runs, or its default action is taken (a signal
    blocked when it came, and its handler gone since), or it is ignored."""
    own = thread_signals.of(k).pending
    info = own.pop(sig) if sig in own else _state(k).pending.pop(sig)
    action = sigstate.disposition(k, sig)
    if action > sigstate.SIG_IGN:
        _run_handler(k, sig, in_trap=in_trap, info=info)
    elif action == sigstate.SIG_DFL and sig not in sigstate.SIG_ABI[k.arch_name].default_ignored:
        k.m.kill(sigstate.host_signal(k, sig))


#: how often a waiting ``rt_sigsuspend`` looks again (a host signal also ends the wait)
WAIT_SLICE = 0.02


@handles("rt_sigsuspend", "pause")
def sys_sigsuspend(k: LinuxKernel, a: Args) -> int:
    """Wait, with rt_sigsuspend's mask, until a handler is to run; then EINTR, as Linux.

    The signals that come are a guest child's SIGCHLD and those the guest sends itself
    (from another guest process too: they are host processes); a host signal that ends
    the guest ends the wait.
    """
    sst = sigstate.state(k)
    size = sigstate.SIG_ABI[k.arch_name].sigset_size
    if k.table.get(k.m.uc.reg_read(k.m.arch.syscall.number)) == "rt_sigsuspend":
        if a[1] != size:
            return -errno.EINVAL
        thread_signals.of(k).suspended_mask = sst.mask or bytes(size)
        sst.mask = k.read(a[0], size)
    threads = k.m.threads
    if threads is not None and threads.count > 1 and _deliverable(k) is None:
        k.block(Wait("rt_sigsuspend", poll=_never))  # a signal ends it (thread_signals)
        return BLOCKED
    while _deliverable(k) is None:
        if k.m.host_signal is not None:
            break
        time.sleep(WAIT_SLICE)
    return -errno.EINTR


def _never() -> bool:
    return False


def action_of(k: LinuxKernel, sig: int) -> tuple[int, int, int | None, int]:
    """(handler, flags, restorer or None, mask) of the guest's ``struct sigaction``."""
    from . import frames  # on first use, see the module docstring

    sa = sigstate.SIG_ABI[k.arch_name]
    raw = sigstate.state(k).actions.get(sig, bytes(sa.action_size))
    return frames.signal_abi(k).parse_action(raw)


SA_RESTART = 0x10000000
#: blocking calls a handler's signal interrupts (Linux's "slow" calls): EINTR, or under
#: SA_RESTART the call goes on (signal(7)); poll, select, the sleeps and the waits for
#: signals end with EINTR on their own (they look for a due handler as they wait)
RESTARTABLE_CALLS = frozenset(
    (
        *("read", "readv", "write", "writev", "pread64", "pwrite64", "open", "openat"),
        *("ioctl", "wait4", "waitid", "waitpid", "accept", "accept4", "connect", "recv"),
        *("recvfrom", "recvmsg", "recvmmsg", "send", "sendto", "sendmsg", "sendmmsg"),
        *("flock", "fcntl", "fcntl64", "futex", "getrandom", "sendfile", "sendfile64"),
    )
)
#: blocking calls that end with EINTR whatever SA_RESTART says
NEVER_RESTARTED_CALLS = frozenset(
    ["msgrcv", "msgsnd", "semop", "semtimedop", "epoll_wait", "epoll_pwait", "epoll_pwait2"]
)


def interrupts_call(k: LinuxKernel, host_sig: int) -> bool:
    """A host signal was just posted for a guest handler while a syscall runs: whether the
    call, if it is one that blocks, ends with EINTR (not under SA_RESTART). A call on a
    descriptor that is ready does not block, so it goes on (the handler runs after it)."""
    name = k.running_call  # not the number register: it may hold the result already
    if name not in RESTARTABLE_CALLS and name not in NEVER_RESTARTED_CALLS:
        return False
    if not k.call_may_wait:  # it does not wait (:mod:`.readiness`)
        return False
    sig = target_signal_number(k.arch_name, host_sig)
    if _blocked(k, sig) or sigstate.disposition(k, sig) <= sigstate.SIG_IGN:
        return False
    _handler, flags, _restorer, _mask = action_of(k, sig)
    return name in NEVER_RESTARTED_CALLS or not flags & SA_RESTART


def post_host_signal(k: LinuxKernel, host_sig: int) -> bool:
    """A host signal (a timer's, or sent to qpp) for which the guest has a handler: post it
    (True); the handler runs at the next block boundary or system call end."""
    sig = target_signal_number(k.arch_name, host_sig)
    if sigstate.disposition(k, sig) <= sigstate.SIG_IGN and not blocked(k, sig):
        return False
    post(k, sig)
    return True


def deliver_posted(k: LinuxKernel) -> bool:
    """Between two engine runs: run the handler of a posted, unblocked signal (True)."""
    if not _any_pending(k):
        return False
    sig = _deliverable(k)
    if sig is None:
        return False
    _take(k, sig, in_trap=False)
    return True


def deliver_fault(k: LinuxKernel, host_sig: int, addr: int | None, code: int) -> bool:
    """A synchronous fault: run the guest's handler for it now, if it has one it does not
    block (a blocked or ignored fault signal kills the guest, as Linux forces it)."""
    sig = target_signal_number(k.arch_name, host_sig)
    if sigstate.disposition(k, sig) <= sigstate.SIG_IGN or _blocked(k, sig):
        return False
    _run_handler(k, sig, in_trap=False, addr=addr or 0, code=code)
    return True


def _siginfo(k: LinuxKernel, sig: int, code: int | None, addr: int) -> bytes:
    """The 128-byte siginfo of a signal: a fault's address, or the sender (this process)."""
    from . import frames  # on first use, see the module docstring

    if code is None:
        code = CLD_EXITED if sig == sigstate.guest_sigchld(k) else SI_USER
    info = bytearray(SIGINFO_SIZE)
    if frames.signal_abi(k).code_before_errno:  # si_signo, si_code, si_errno
        struct.pack_into("<iii", info, 0, sig, code, 0)
    else:
        struct.pack_into("<iii", info, 0, sig, 0, code)
    union = 16 if k.m.arch.bits == 64 else 12
    if addr:  # si_addr: the union's first member
        struct.pack_into("<Q" if k.m.arch.bits == 64 else "<I", info, union, addr)
    elif code in (SI_USER, SI_TKILL):  # sent by itself: si_pid, si_uid
        struct.pack_into("<iI", info, union, os.getpid(), os.getuid())
    return bytes(info)


def _run_handler(
    k: LinuxKernel,
    sig: int,
    *,
    in_trap: bool = True,
    addr: int = 0,
    code: int | None = None,
    info: bytes | None = None,
) -> None:
    """Call the guest's handler for ``sig``; ``in_trap``: from inside a syscall's hook."""
    from . import frames  # on first use, see the module docstring

    handler, flags, restorer, sa_mask = action_of(k, sig)
    sst = sigstate.state(k)
    size = sigstate.SIG_ABI[k.arch_name].sigset_size
    own = thread_signals.of(k)
    old_mask = own.suspended_mask or sst.mask or bytes(size)
    own.suspended_mask = None
    blocked = int.from_bytes(old_mask, "little") | sa_mask
    if not flags & SA_NODEFER:
        blocked |= 1 << (sig - 1)
    if flags & SA_RESETHAND:
        sst.actions.pop(sig, None)
    ret = restorer if flags & SA_RESTORER and restorer else k.sigtramp
    sabi = frames.signal_abi(k)
    if ret == k.sigtramp and frames.layout_for(sabi, flags) is sabi.plain:
        ret += 8  # the second trampoline: sigreturn
    delivery = frames.Delivery(
        sig=sig,
        handler=handler,
        flags=flags,
        restorer=ret,
        siginfo=info if info is not None else _siginfo(k, sig, code, addr),
        old_mask=int.from_bytes(old_mask, "little"),
        fault_address=addr,
    )
    try:
        resume = frames.push_frame(k, delivery, in_trap=in_trap, onstack=bool(flags & SA_ONSTACK))
    except UcError:  # no room for the frame: Linux forces SIGSEGV
        sst.mask = old_mask
        k.m.kill(11, f"no room for the signal {sig} frame on the stack")
        return
    sst.mask = (blocked & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    k.m.request_restart()
    observer = k.m.signal_observer
    if observer is not None:
        observer.signal_delivered(sig, handler & ~1 if sabi.thumb_cpsr else handler, resume)


def sigreturn(k: LinuxKernel, rt: bool = True) -> int:
    """``rt_sigreturn``/``sigreturn``: back to where the signal interrupted, with the
    registers and mask the frame on the stack holds."""
    from . import frames  # on first use, see the module docstring

    popped = frames.pop_frame(k, rt)
    if popped is None:
        k.m.kill(11, "sigreturn without a readable signal frame")  # Linux: SIGSEGV
        return KEEP_REGISTERS
    mask, pc = popped
    sa = sigstate.SIG_ABI[k.arch_name]
    mask &= ~(1 << (sa.sigkill - 1) | 1 << (sa.sigstop - 1))
    sigstate.state(k).mask = mask.to_bytes(sa.sigset_size, "little")
    k.m.request_restart()
    observer = k.m.signal_observer
    if observer is not None:
        observer.signal_returned(pc & ~1 if frames.signal_abi(k).thumb_cpsr else pc)
    return KEEP_REGISTERS
