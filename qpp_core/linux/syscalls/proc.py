"""Process syscalls: exit, ids, TLS setup, limits, signals (as honest no-ops), randomness."""

from __future__ import annotations

import errno
import os
import resource
import signal
import struct
from typing import TYPE_CHECKING

from ... import hostfds
from ...machine.signals import target_signal_number
from . import abi, sigstate
from .cint import c_int
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel


@handles("exit_group")  # exit: threads.py
def sys_exit(k: LinuxKernel, a: Args) -> int:
    if k.strace is not None:
        k.strace.stream.write("\n")
        k.strace.stream.flush()
    k.m.exit(a[0])
    return 0


@handles("getpid")
def sys_getpid(k: LinuxKernel, a: Args) -> int:
    return os.getpid()


@handles("getppid")
def sys_getppid(k: LinuxKernel, a: Args) -> int:
    return os.getppid()


@handles("getuid", "getuid32")
def sys_getuid(k: LinuxKernel, a: Args) -> int:
    return os.getuid()


@handles("geteuid", "geteuid32")
def sys_geteuid(k: LinuxKernel, a: Args) -> int:
    return os.geteuid()


@handles("getgid", "getgid32")
def sys_getgid(k: LinuxKernel, a: Args) -> int:
    return os.getgid()


@handles("getegid", "getegid32")
def sys_getegid(k: LinuxKernel, a: Args) -> int:
    return os.getegid()


@handles("getpgrp")
def sys_getpgrp(k: LinuxKernel, a: Args) -> int:
    return os.getpgrp()


@handles("set_robust_list")
def sys_set_robust_list(k: LinuxKernel, a: Args) -> int:
    return -errno.ENOSYS  # as qemu-user 7.2: glibc then does without


@handles("arch_prctl")
def sys_arch_prctl(k: LinuxKernel, a: Args) -> int:
    from unicorn import x86_const as X

    code, addr = a[0], a[1]
    if code == 0x1002:  # ARCH_SET_FS
        k.m.uc.reg_write(X.UC_X86_REG_FS_BASE, addr)
        return 0
    if code == 0x1001:  # ARCH_SET_GS
        k.m.uc.reg_write(X.UC_X86_REG_GS_BASE, addr)
        return 0
    if code == 0x1003:  # ARCH_GET_FS
        k.put_words(addr, k.m.uc.reg_read(X.UC_X86_REG_FS_BASE))
        return 0
    if code == 0x1004:
        k.put_words(addr, k.m.uc.reg_read(X.UC_X86_REG_GS_BASE))
        return 0
    return -errno.EINVAL


@handles("set_thread_area")
def sys_set_thread_area(k: LinuxKernel, a: Args) -> int:
    from unicorn.mips_const import UC_MIPS_REG_CP0_USERLOCAL

    k.m.uc.reg_write(UC_MIPS_REG_CP0_USERLOCAL, a[0])
    return 0


@handles("set_tls")
def sys_set_tls(k: LinuxKernel, a: Args) -> int:
    from unicorn.arm_const import UC_ARM_REG_C13_C0_3

    k.m.uc.reg_write(UC_ARM_REG_C13_C0_3, a[0])
    return 0


@handles("get_tls")
def sys_get_tls(k: LinuxKernel, a: Args) -> int:
    from unicorn.arm_const import UC_ARM_REG_C13_C0_3

    value: int = k.m.uc.reg_read(UC_ARM_REG_C13_C0_3)
    return value


@handles("uname")
def sys_uname(k: LinuxKernel, a: Args) -> int:
    u = os.uname()
    fields = [u.sysname, u.nodename, u.release, u.version, abi.UNAME_MACHINE[k.arch_name], "(none)"]
    data = b"".join(os.fsencode(f)[: abi.UTS_FIELD - 1].ljust(abi.UTS_FIELD, b"\0") for f in fields)
    k.write(a[0], data)
    return 0


@handles("sysinfo")
def sys_sysinfo(k: LinuxKernel, a: Args) -> int:
    with open("/proc/uptime") as f:
        uptime = int(float(f.read().split()[0]))
    load = [int(x * 65536) for x in os.getloadavg()]
    pages = os.sysconf("SC_PHYS_PAGES")
    avail = os.sysconf("SC_AVPHYS_PAGES")
    psize = os.sysconf("SC_PAGE_SIZE")
    words = [uptime, *load, pages * psize, avail * psize, 0, 0, 0, 0]
    w = k.m.arch.word
    mask = k.m.arch.mask
    raw = struct.pack(k.word_fmt(len(words)), *(x & mask for x in words))
    raw += struct.pack("<HH", 0, 0) + (b"\0" * 4 if w == 8 else b"")  # procs, pad
    raw += struct.pack(k.word_fmt(2), 0, 0) + struct.pack("<I", 1)  # totalhigh, freehigh, unit
    k.write(a[0], raw.ljust(112 if w == 8 else 64, b"\0"))
    return 0


#: RLIM_NLIMITS: resources 0..15 exist on every target (mips numbers five of them its own
#: way: :data:`.abi.RLIMIT_TO_HOST`)
RLIM_NLIMITS = 16
#: limits the host process does not take: they would bound qpp's own memory, not only the
#: guest's (qemu-user's reason too); the call succeeds and changes nothing
_NOT_APPLIED = frozenset((resource.RLIMIT_AS, resource.RLIMIT_DATA, resource.RLIMIT_STACK))


def _host_resource(k: LinuxKernel, res: int) -> int:
    if res >= RLIM_NLIMITS:
        raise OSError(errno.EINVAL, "no such resource")
    return abi.rlimit_to_host(k.arch_name, res)


def _limits_out(k: LinuxKernel, host_res: int, inf: int) -> tuple[int, int]:
    """The limits of ``host_res`` in guest words, ``inf`` standing for RLIM_INFINITY."""
    soft, hard = resource.getrlimit(host_res)
    if host_res == resource.RLIMIT_NOFILE:  # the numbers above are qpp's own (hostfds)
        soft = hostfds.guest_nofile(soft)
    return (
        inf if soft == resource.RLIM_INFINITY or soft >= inf else soft,
        inf if hard == resource.RLIM_INFINITY or hard >= inf else hard,
    )


def _limits_in(host_res: int, cur: int, top: int, inf: int) -> None:
    """Apply the guest's new limits (``inf``: the guest's RLIM_INFINITY) to the host
    process, as qemu-user does, but for :data:`_NOT_APPLIED`. A forked child and an exec'd
    program inherit them with the host process."""
    new = [resource.RLIM_INFINITY if v >= inf else v for v in (cur, top)]
    if cur > top:  # RLIM_INFINITY is the largest value
        raise OSError(errno.EINVAL, "soft limit above hard limit")
    if host_res in _NOT_APPLIED:
        return
    try:
        if host_res == resource.RLIMIT_NOFILE:
            hostfds.set_guest_nofile(new[0], new[1])
        else:
            resource.setrlimit(host_res, (new[0], new[1]))
    except ValueError as e:  # CPython's words for EINVAL and EPERM
        raise OSError(errno.EPERM if "raise" in str(e) else errno.EINVAL, str(e)) from e


def _is_self(k: LinuxKernel, pid: int) -> bool:
    return c_int(pid) in (0, os.getpid())


_RLIM64_INFINITY = (1 << 64) - 1


@handles("prlimit64")
def sys_prlimit64(k: LinuxKernel, a: Args) -> int:
    """The limits of the caller (another process: ESRCH or EPERM), set as :func:`_limits_in`."""
    new = struct.unpack("<QQ", k.read(a[2], 16)) if a[2] else None
    if not _is_self(k, a[0]):
        return -errno.ESRCH if _no_such_process(c_int(a[0])) else -errno.EPERM
    res = _host_resource(k, a[1] & 0xFFFFFFFF)  # EINVAL after the process is found
    old = _limits_out(k, res, _RLIM64_INFINITY) if a[3] else None
    if new is not None:
        _limits_in(res, new[0], new[1], _RLIM64_INFINITY)
    if old is not None:
        k.write(a[3], struct.pack("<QQ", *old))
    return 0


def _word_infinity(k: LinuxKernel) -> int:
    return abi.RLIM_INFINITY_WORD.get(k.arch_name, k.m.arch.mask)


@handles("getrlimit", "ugetrlimit")
def sys_getrlimit(k: LinuxKernel, a: Args) -> int:
    res = _host_resource(k, a[0] & 0xFFFFFFFF)
    k.put_words(a[1], *_limits_out(k, res, _word_infinity(k)))
    return 0


@handles("setrlimit")
def sys_setrlimit(k: LinuxKernel, a: Args) -> int:
    res = _host_resource(k, a[0] & 0xFFFFFFFF)
    cur, top = k.get_words(a[1], 2)
    _limits_in(res, cur, top, _word_infinity(k))
    return 0


# --- signals: dispositions, mask, alternate stack (see sigstate; delivery runs handlers) ---


def _valid_signal(k: LinuxKernel, sig: int) -> bool:
    return 1 <= sig <= sigstate.SIG_ABI[k.arch_name].nsig


@handles("rt_sigaction")
def sys_rt_sigaction(k: LinuxKernel, a: Args) -> int:
    sa = sigstate.SIG_ABI[k.arch_name]
    sig, act, old, setsize = c_int(a[0]), a[1], a[2], a[3]
    if setsize != sa.sigset_size:
        return -errno.EINVAL
    new = k.read(act, sa.action_size) if act else None
    if not _valid_signal(k, sig) or (new is not None and sig in (sa.sigkill, sa.sigstop)):
        return -errno.EINVAL
    st = sigstate.state(k)
    previous = st.actions.get(sig, bytes(sa.action_size))
    if new is not None:
        st.actions[sig] = new
        if k.m.arch.trapping_insn is not None and sig in _trap_signals(k):
            _watch_traps(k)
    if old:
        k.write(old, previous)
    return 0


def _trap_signals(k: LinuxKernel) -> tuple[int, ...]:
    """The guest's numbers of the signals CPU exceptions raise."""
    host = (signal.SIGILL, signal.SIGTRAP, signal.SIGFPE)
    return tuple(target_signal_number(k.arch_name, int(s)) for s in host)


def _watch_traps(k: LinuxKernel) -> None:
    """mips: while the guest handles a CPU exception's signal, a block hook records where
    each block starts, so that the trapping instruction can be found (and a handler that
    returns resumes at the right place)."""
    sigs = _trap_signals(k)

    def handled() -> bool:
        return any(sigstate.disposition(k, s) > sigstate.SIG_IGN for s in sigs)

    if handled():
        k.m.block_stop.add_source("cpu exceptions", handled, k.m.uc)


@handles("rt_sigprocmask")
def sys_rt_sigprocmask(k: LinuxKernel, a: Args) -> int:
    """The mask is kept and reported back; a signal it unblocks is delivered as it returns."""
    size = sigstate.SIG_ABI[k.arch_name].sigset_size
    how, new, old, setsize = c_int(a[0]), a[1], a[2], a[3]
    how -= sigstate.SIG_ABI[k.arch_name].sig_block  # SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK: 0..2
    if setsize != size:
        return -errno.EINVAL
    st = sigstate.state(k)
    current = int.from_bytes(st.mask or bytes(size), "little")
    if new:
        bits = int.from_bytes(k.read(new, size), "little")
        if how not in (0, 1, 2):  # SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK
            return -errno.EINVAL
        updated = (current | bits, current & ~bits, bits)[how]
    else:
        updated = current
    if old:
        k.write(old, current.to_bytes(size, "little"))
    st.mask = updated.to_bytes(size, "little")
    return 0


@handles("sigaltstack")
def sys_sigaltstack(k: LinuxKernel, a: Args) -> int:
    """Checked as Linux does; SS_ONSTACK is reported (and a change refused, EPERM) while
    the guest runs on it; handlers installed with SA_ONSTACK run on it (:mod:`.frames`)."""
    from .frames import altstack_words, set_altstack

    sa = sigstate.SIG_ABI[k.arch_name]
    sp_now = k.m.uc.reg_read(k.m.arch.sp)
    old = altstack_words(k, sp_now)
    if a[1]:
        k.read(a[1], 3 * k.m.arch.word)  # EFAULT for a bad old-stack pointer first, as qemu
    if a[0]:
        sp, second, third = k.get_words(a[0], 3)
        flags, size = (third, second) if sa.stack_flags_last else (second, third)
        err = set_altstack(k, sp_now, sp, flags, size)
        if err:
            return -err
    if a[1]:
        sp, flags, size = old
        words = (sp, size, flags) if sa.stack_flags_last else (sp, flags, size)
        k.put_words(a[1], *words)
    return 0


def _no_such_process(pid: int) -> bool:
    """Whether no process (pid > 0) or process group (pid < -1) has this id; probed with
    signal 0, which sends nothing."""
    if pid in (0, -1, -(1 << 31)):  # -(1 << 31) would be negated to itself: Linux ESRCH
        return pid != -1 and pid != 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _signal_self(k: LinuxKernel, pid: int, sig: int, code: int = 0) -> int:
    """kill(2): guest processes are host processes, so others get the host signal; this
    process applies the guest's disposition (a handler runs as the call returns)."""
    pid, sig = c_int(pid), c_int(sig)
    me = os.getpid()
    if pid not in (me, 0, -1) and _no_such_process(pid):
        return -errno.ESRCH  # Linux looks the target up before it checks the signal
    if not 0 <= sig <= sigstate.SIG_ABI[k.arch_name].nsig:
        return -errno.EINVAL
    if pid == -1:
        return -errno.EPERM  # every process of the host: qpp refuses rather than obey
    if pid == me:
        if sig:
            sigstate.raise_in_guest(k, sig, code)
        return 0
    host = sigstate.host_signal(k, sig) if sig else 0
    if pid > 0:
        os.kill(pid, host)
        return 0
    group = os.getpgrp() if pid == 0 else -pid
    if group != os.getpgrp() or not host:
        os.killpg(group, host)
        return 0
    # our own group: the others get the host signal, this process the guest's disposition
    catchable = host not in (signal.SIGKILL, signal.SIGSTOP)
    if catchable:
        signal.pthread_sigmask(signal.SIG_BLOCK, {host})
    try:
        os.killpg(group, host)
    finally:
        if catchable:
            signal.sigtimedwait({host}, 0)  # take back the copy sent to qpp itself
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {host})
    sigstate.raise_in_guest(k, sig, code)
    return 0


@handles("kill")
def sys_kill(k: LinuxKernel, a: Args) -> int:
    return _signal_self(k, a[0], a[1])


#: si_code of a signal sent by tgkill/tkill (their handlers live in :mod:`.threads`)
SI_TKILL = -6


#: the size of the kernel's cpumask the host reports (one long: up to 64 CPUs)
_CPUMASK_SIZE = 8


@handles("sched_getaffinity")
def sys_sched_getaffinity(k: LinuxKernel, a: Args) -> int:
    """One CPU (qpp runs one guest thread); sizes checked as Linux does."""
    size = a[1]
    if size == 0 or size & (k.m.arch.word - 1):
        return -errno.EINVAL
    if not _is_self(k, a[0]):
        return -errno.ESRCH if _no_such_process(c_int(a[0])) else -errno.EPERM
    size = min(size, _CPUMASK_SIZE)
    k.write(a[2], b"\x01" + bytes(size - 1))
    return size


@handles("getcpu")
def sys_getcpu(k: LinuxKernel, a: Args) -> int:
    for addr in (a[0], a[1]):
        if addr:
            k.write(addr, b"\0\0\0\0")
    return 0


#: prctl options answered with a constant, per arch: (arch, option) -> result, as qemu-user
#: 7.2 answers them (mips PR_GET_FP_MODE: PR_FP_MODE_FR, 64-bit FP registers; the dynamic
#: linker asks before loading libraries)
_PRCTL_ANSWERS = {("mipsel", 46): 1}


def sys_prctl(k: LinuxKernel, a: Args) -> int:
    """prctl's options common to all targets (the handler is arch_misc's, which calls this)."""
    answer = _PRCTL_ANSWERS.get((k.arch_name, a[0]))
    if answer is not None:
        return answer
    from .prctl import common_prctl

    return common_prctl(k, a)


@handles("getrandom")
def sys_getrandom(k: LinuxKernel, a: Args) -> int:
    flags = a[2] & 0xFFFFFFFF
    if flags & ~0x7 or flags & 0x6 == 0x6:  # NONBLOCK|RANDOM|INSECURE; not RANDOM+INSECURE
        return -errno.EINVAL
    n = min(a[1], 1 << 20)
    k.write(a[0], k.random_bytes(n))
    return n


@handles("getrusage")
def sys_getrusage(k: LinuxKernel, a: Args) -> int:
    if c_int(a[0]) not in (0, -1, 1):  # RUSAGE_SELF, _CHILDREN, _THREAD
        return -errno.EINVAL
    k.write(a[1], bytes(18 * k.m.arch.word))
    return 0
