"""Who the process is and how it is scheduled: supplementary groups, real/effective/saved
ids, CPU times, nice values and scheduling policy (``id``, ``time``, ``nice``, ``chrt``).

All are the host process's, as under qemu-user; arm's original calls (``getgroups``,
``getresuid``, ``getresgid``) carry 16-bit ids, a larger id reading as the overflow id
65534 as Linux writes it (its ``*32`` calls, and every other target's, are 32-bit).
Setting ids and scheduling policies is not done here: the host process would change.
"""

from __future__ import annotations

import errno
import os
import struct
from typing import TYPE_CHECKING

from .cint import c_int
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

OVERFLOW_ID = 65534
NGROUPS_MAX = 65536


def _narrow(k: LinuxKernel, name: str) -> bool:
    """Whether this call carries 16-bit ids (arm's calls without the 32 suffix)."""
    return k.arch_name == "arm" and not name.endswith("32")


def _ids(values: list[int], narrow: bool) -> bytes:
    if narrow:
        return struct.pack(f"<{len(values)}H", *(v if v <= 0xFFFF else OVERFLOW_ID for v in values))
    return struct.pack(f"<{len(values)}I", *values)


def _name(k: LinuxKernel) -> str:
    return k.running_call or ""


@handles("getgroups", "getgroups32")
def sys_getgroups(k: LinuxKernel, a: Args) -> int:
    size = c_int(a[0])
    if size < 0:
        return -errno.EINVAL
    groups = os.getgroups()
    if size == 0:
        return len(groups)
    if size < len(groups):
        return -errno.EINVAL
    k.write(a[1], _ids(groups, _narrow(k, _name(k))))
    return len(groups)


def _put_three(k: LinuxKernel, addrs: tuple[int, int, int], ids: tuple[int, int, int]) -> int:
    narrow = _narrow(k, _name(k))
    for addr, value in zip(addrs, ids, strict=True):
        k.write(addr, _ids([value], narrow))
    return 0


@handles("getresuid", "getresuid32")
def sys_getresuid(k: LinuxKernel, a: Args) -> int:
    return _put_three(k, (a[0], a[1], a[2]), os.getresuid())


@handles("getresgid", "getresgid32")
def sys_getresgid(k: LinuxKernel, a: Args) -> int:
    return _put_three(k, (a[0], a[1], a[2]), os.getresgid())


@handles("times")
def sys_times(k: LinuxKernel, a: Args) -> int:
    """The process's CPU times in clock ticks (qpp's own: the guest runs in it), and the
    ticks since an arbitrary point as the result."""
    t = os.times()
    hz = os.sysconf("SC_CLK_TCK")
    if a[0]:
        ticks = [int(x * hz) for x in (t.user, t.system, t.children_user, t.children_system)]
        k.put_words(a[0], *ticks)
    return int(t.elapsed * hz) & k.m.arch.mask


# --- nice values and scheduling --------------------------------------------------------------


@handles("getpriority")
def sys_getpriority(k: LinuxKernel, a: Args) -> int:
    """As the kernel returns it: 20 - nice (1..40), never negative; C libraries convert."""
    return 20 - os.getpriority(c_int(a[0]), c_int(a[1]))


@handles("setpriority")
def sys_setpriority(k: LinuxKernel, a: Args) -> int:
    os.setpriority(c_int(a[0]), c_int(a[1]), max(-20, min(19, c_int(a[2]))))
    return 0


def _pid(v: int) -> int:
    pid = c_int(v)
    if pid < 0:
        raise OSError(errno.EINVAL, "negative pid")
    return pid


@handles("sched_getscheduler")
def sys_sched_getscheduler(k: LinuxKernel, a: Args) -> int:
    return os.sched_getscheduler(_pid(a[0]))


@handles("sched_getparam")
def sys_sched_getparam(k: LinuxKernel, a: Args) -> int:
    pid = _pid(a[0])
    if a[1] == 0:
        return -errno.EINVAL
    k.write(a[1], struct.pack("<i", os.sched_getparam(pid).sched_priority))
    return 0


@handles("sched_get_priority_max")
def sys_sched_get_priority_max(k: LinuxKernel, a: Args) -> int:
    return os.sched_get_priority_max(c_int(a[0]))


@handles("sched_get_priority_min")
def sys_sched_get_priority_min(k: LinuxKernel, a: Args) -> int:
    return os.sched_get_priority_min(c_int(a[0]))


@handles("sched_rr_get_interval", "sched_rr_get_interval_time64")
def sys_sched_rr_get_interval(k: LinuxKernel, a: Args) -> int:
    ns = int(os.sched_rr_get_interval(_pid(a[0])) * 1e9)
    sec, nsec = divmod(ns, 1_000_000_000)
    if k.m.arch.bits == 64 or _name(k).endswith("time64"):
        k.write(a[1], struct.pack("<qq", sec, nsec))
    else:
        k.write(a[1], struct.pack("<ii", sec, nsec))
    return 0
