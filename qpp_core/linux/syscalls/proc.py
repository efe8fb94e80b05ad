"""Process syscalls: exit, ids, TLS setup, limits, signals (as honest no-ops), randomness."""

from __future__ import annotations

import errno
import os
import resource
import signal
import struct
from typing import TYPE_CHECKING

from ... import hostfds
from . import abi
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel


@handles("exit", "exit_group")
def sys_exit(k: LinuxKernel, a: Args) -> int:
    if k.strace is not None:
        k.strace.stream.write("\n")
        k.strace.stream.flush()
    k.m.exit(a[0])
    return 0


@handles("getpid", "gettid")
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


@handles("set_tid_address")
def sys_set_tid_address(k: LinuxKernel, a: Args) -> int:
    return os.getpid()


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


@handles("cacheflush")
def sys_cacheflush(k: LinuxKernel, a: Args) -> int:
    return 0


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


def _rlimit_words(k: LinuxKernel, res: int, bits: int) -> tuple[int, int]:
    soft, hard = resource.getrlimit(res)
    if res == resource.RLIMIT_NOFILE:  # the numbers above are qpp's own (qpp_core.hostfds)
        soft = hostfds.guest_nofile(soft)
    inf = (1 << bits) - 1
    return (
        inf if soft == resource.RLIM_INFINITY else soft,
        inf if hard == resource.RLIM_INFINITY else hard,
    )


@handles("prlimit64")
def sys_prlimit64(k: LinuxKernel, a: Args) -> int:
    if a[0] not in (0, os.getpid()):
        return -errno.ESRCH
    if a[3]:
        k.write(a[3], struct.pack("<QQ", *_rlimit_words(k, a[1], 64)))
    return 0


@handles("getrlimit", "ugetrlimit")
def sys_getrlimit(k: LinuxKernel, a: Args) -> int:
    k.put_words(a[1], *_rlimit_words(k, a[0], k.m.arch.bits))
    return 0


@handles("setrlimit")
def sys_setrlimit(k: LinuxKernel, a: Args) -> int:
    return 0


@handles("rt_sigaction", "rt_sigprocmask", "sigaltstack")
def sys_signals(k: LinuxKernel, a: Args) -> int:
    """Accepted without effect: qpp delivers no asynchronous signals to the guest."""
    if a[2]:  # old action / old mask: report "default, nothing blocked"
        k.write(a[2], bytes(8 if k.m.arch.bits == 32 else 16))
    return 0


def _signal_self(k: LinuxKernel, pid: int, sig: int) -> int:
    sig = abi.host_signal(k.arch_name, sig)
    if pid not in (os.getpid(), 0):
        return -errno.EPERM
    if sig == 0:
        return 0
    if sig in (signal.SIGCHLD, signal.SIGWINCH, signal.SIGURG, signal.SIGCONT):
        return 0  # ignored by default
    k.m.kill(sig)
    return 0


@handles("kill")
def sys_kill(k: LinuxKernel, a: Args) -> int:
    return _signal_self(k, k.signed(a[0]) if k.m.arch.bits == 64 else a[0], a[1])


@handles("tgkill")
def sys_tgkill(k: LinuxKernel, a: Args) -> int:
    return _signal_self(k, a[1], a[2])


@handles("tkill")
def sys_tkill(k: LinuxKernel, a: Args) -> int:
    return _signal_self(k, a[0], a[1])


@handles("sched_yield")
def sys_sched_yield(k: LinuxKernel, a: Args) -> int:
    return 0


@handles("sched_getaffinity")
def sys_sched_getaffinity(k: LinuxKernel, a: Args) -> int:
    size = min(a[1], 128)
    k.write(a[2], b"\x01" + bytes(size - 1))
    return size


@handles("getcpu")
def sys_getcpu(k: LinuxKernel, a: Args) -> int:
    for addr in (a[0], a[1]):
        if addr:
            k.write(addr, b"\0\0\0\0")
    return 0


@handles("futex")
def sys_futex(k: LinuxKernel, a: Args) -> int:
    op = a[1] & 0x7F
    if op == 1:  # FUTEX_WAKE: nobody else is waiting
        return 0
    return -errno.EAGAIN if op == 0 else -errno.ENOSYS


#: prctl options answered with a constant, per arch: (arch, option) -> result, as qemu-user
#: 7.2 answers them (mips PR_GET_FP_MODE: PR_FP_MODE_FR, 64-bit FP registers; the dynamic
#: linker asks before loading libraries)
_PRCTL_ANSWERS = {("mipsel", 46): 1}


@handles("prctl")
def sys_prctl(k: LinuxKernel, a: Args) -> int:
    return _PRCTL_ANSWERS.get((k.arch_name, a[0]), -errno.EINVAL)


@handles("getrandom")
def sys_getrandom(k: LinuxKernel, a: Args) -> int:
    n = min(a[1], 1 << 20)
    k.write(a[0], k.random_bytes(n))
    return n


@handles("getrusage")
def sys_getrusage(k: LinuxKernel, a: Args) -> int:
    k.write(a[1], bytes(18 * k.m.arch.word))
    return 0
