"""Whether a system call on a file descriptor can wait at all: Linux ends a call with
EINTR for a signal only while it waits, and a read of a ready descriptor (a regular file,
/dev/zero, a pipe holding data) or a write to one with room never does.

The kernel asks :func:`may_wait` as such a call starts; a host signal that comes while
it runs interrupts it (:func:`.delivery.interrupts_call`) only if it could wait. Asking
when the signal comes would be too late: a read that has just taken the last bytes of a
pipe leaves it not ready, and the bytes would be lost with the EINTR.
"""

from __future__ import annotations

import select
from collections.abc import Sequence

#: calls on a file descriptor (their first argument) that wait only when it is not
#: ready: name -> whether they write
FD_CALLS = {
    **dict.fromkeys(("read", "readv", "pread64", "recv", "recvfrom", "recvmsg"), False),
    **dict.fromkeys(("recvmmsg", "accept", "accept4"), False),
    **dict.fromkeys(("write", "writev", "pwrite64", "send", "sendto", "sendmsg"), True),
    **dict.fromkeys(("sendmmsg", "sendfile", "sendfile64"), True),
}


def may_wait(name: str | None, args: Sequence[int]) -> bool:
    """Whether call ``name`` with ``args`` may wait (True for calls not on a descriptor)."""
    writes = FD_CALLS.get(name) if name is not None else None
    if writes is None:
        return True
    fd = args[0] & 0xFFFFFFFF  # an int in the kernel: 32 bits on every target
    if fd >= 1024:  # negative, or past select's FD_SETSIZE: treat it as a call that waits
        return True
    try:
        ready = select.select([], [fd], [], 0)[1] if writes else select.select([fd], [], [], 0)[0]
    except (OSError, ValueError):  # a bad descriptor: the call fails at once
        return False
    return not ready
