"""Per-architecture ABI data: flag bits, errno numbers and struct layouts (data, no code paths).

Guest flag values differ between architectures (open flags on arm and mips, MAP_ANONYMOUS
on mips), and so do errno numbers (mips) and the layout of ``struct stat``. Everything
here is a table; :mod:`.structs` packs values with them.
"""

from __future__ import annotations

import errno as E
import os
import resource

# the flag tables are public (plugins decode flags with them); the kernel uses them from here
from qpp_core.abi.flags import MAP_ANONYMOUS as MAP_ANONYMOUS
from qpp_core.abi.flags import MAP_FIXED as MAP_FIXED
from qpp_core.abi.flags import MAP_FIXED_NOREPLACE as MAP_FIXED_NOREPLACE
from qpp_core.abi.flags import OPEN_FLAGS as OPEN_FLAGS

SHMLBA = {"arm": 0x4000, "mipsel": 0x40000}  # everyone else: a page
# struct shmid64_ds (with its ipc64_perm): fields key uid gid cuid cgid mode seq segsz
# atime dtime ctime cpid lpid nattch, the *_high words of 32-bit time being zero
SHMID_DS = {
    "arm": "<iIIIIH2xH2x4x4xI" + "I4xI4xI4xiiI8x",
    "mipsel": "<iIIIIIH2x4x4xI" + "IIIiiI8x",
}  # everyone else (64-bit):
SHMID_DS_64 = "<iIIIIIH2x4x8x8xQqqqiiQ16x"
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_EMPTY_PATH = 0x1000

# ioctl requests (mips encodes them differently)
TCGETS = {"mipsel": 0x540D}  # others: 0x5401
TIOCGWINSZ = {"mipsel": 0x40087468}  # others: 0x5413

# --- errno: host (generic Linux) -> mips ------------------------------------------------
MIPS_ERRNO = {
    E.ENOMSG: 35,
    E.EIDRM: 36,
    E.EDEADLK: 45,
    E.ENOLCK: 46,
    E.ENOSTR: 60,
    E.ENODATA: 61,
    E.ETIME: 62,
    E.ENOSR: 63,
    E.ENAMETOOLONG: 78,
    E.EOVERFLOW: 79,
    E.EILSEQ: 88,
    E.ENOSYS: 89,
    E.ELOOP: 90,
    E.ENOTEMPTY: 93,
    E.ENOTSOCK: 95,
    E.EOPNOTSUPP: 122,
    E.EADDRINUSE: 125,
    E.ENOBUFS: 132,
    E.ETIMEDOUT: 145,
    E.ECONNREFUSED: 146,
    E.EALREADY: 149,
    E.EINPROGRESS: 150,
    E.ECANCELED: 158,
}


def guest_errno(arch: str, host_errno: int) -> int:
    """The guest's number for a (host/generic) errno."""
    if arch == "mipsel":
        return MIPS_ERRNO.get(host_errno, host_errno)
    return host_errno


def open_flags_to_host(arch: str, flags: int) -> int:
    """Translate guest open(2) flags to the host's ``os.O_*`` values."""
    table = OPEN_FLAGS[arch]
    host = 0
    for name, value in table.items():
        if name in ("O_WRONLY", "O_RDWR"):
            continue
        if flags & value and hasattr(os, name):
            host |= getattr(os, name)
    return host | (flags & 3)


def open_flags_to_guest(arch: str, host: int) -> int:
    table = OPEN_FLAGS[arch]
    flags = host & 3
    for name, value in table.items():
        if name not in ("O_WRONLY", "O_RDWR") and hasattr(os, name) and host & getattr(os, name):
            flags |= value
    return flags


# --- struct layouts: field -> (offset, struct format char), plus total size ------------
Layout = tuple[int, dict[str, tuple[int, str]]]

_STAT_TIMES_64 = {
    "atime": (72, "q"),
    "atime_nsec": (80, "Q"),
    "mtime": (88, "q"),
    "mtime_nsec": (96, "Q"),
    "ctime": (104, "q"),
    "ctime_nsec": (112, "Q"),
}
STAT_X86_64: Layout = (
    144,
    {
        "dev": (0, "Q"),
        "ino": (8, "Q"),
        "nlink": (16, "Q"),
        "mode": (24, "I"),
        "uid": (28, "I"),
        "gid": (32, "I"),
        "rdev": (40, "Q"),
        "size": (48, "q"),
        "blksize": (56, "q"),
        "blocks": (64, "q"),
        **_STAT_TIMES_64,
    },
)
STAT_GENERIC64: Layout = (
    128,
    {
        "dev": (0, "Q"),
        "ino": (8, "Q"),
        "mode": (16, "I"),
        "nlink": (20, "I"),
        "uid": (24, "I"),
        "gid": (28, "I"),
        "rdev": (32, "Q"),
        "size": (48, "q"),
        "blksize": (56, "i"),
        "blocks": (64, "q"),
        **_STAT_TIMES_64,
    },
)
STAT64_ARM: Layout = (
    104,
    {
        "dev": (0, "Q"),
        "ino32": (12, "I"),
        "mode": (16, "I"),
        "nlink": (20, "I"),
        "uid": (24, "I"),
        "gid": (28, "I"),
        "rdev": (32, "Q"),
        "size": (48, "q"),
        "blksize": (56, "I"),
        "blocks": (64, "Q"),
        "atime": (72, "I"),
        "atime_nsec": (76, "I"),
        "mtime": (80, "I"),
        "mtime_nsec": (84, "I"),
        "ctime": (88, "I"),
        "ctime_nsec": (92, "I"),
        "ino": (96, "Q"),
    },
)
STAT64_MIPS: Layout = (
    104,
    {
        "dev": (0, "I"),
        "ino": (16, "Q"),
        "mode": (24, "I"),
        "nlink": (28, "I"),
        "uid": (32, "I"),
        "gid": (36, "I"),
        "rdev": (40, "I"),
        "size": (56, "q"),
        "atime": (64, "I"),
        "atime_nsec": (68, "I"),
        "mtime": (72, "I"),
        "mtime_nsec": (76, "I"),
        "ctime": (80, "I"),
        "ctime_nsec": (84, "I"),
        "blksize": (88, "I"),
        "blocks": (96, "Q"),
    },
)
STAT_LAYOUT: dict[str, Layout] = {
    "x86_64": STAT_X86_64,
    "aarch64": STAT_GENERIC64,
    "riscv64": STAT_GENERIC64,
    "arm": STAT64_ARM,
    "mipsel": STAT64_MIPS,
}
STATX: Layout = (
    256,
    {
        "mask": (0, "I"),
        "blksize": (4, "I"),
        "attributes": (8, "Q"),
        "nlink": (16, "I"),
        "uid": (20, "I"),
        "gid": (24, "I"),
        "mode": (28, "H"),
        "ino": (32, "Q"),
        "size": (40, "Q"),
        "blocks": (48, "Q"),
        "attributes_mask": (56, "Q"),
        "atime": (64, "q"),
        "atime_nsec": (72, "I"),
        "btime": (80, "q"),
        "btime_nsec": (88, "I"),
        "ctime": (96, "q"),
        "ctime_nsec": (104, "I"),
        "mtime": (112, "q"),
        "mtime_nsec": (120, "I"),
        "rdev_major": (128, "I"),
        "rdev_minor": (132, "I"),
        "dev_major": (136, "I"),
        "dev_minor": (140, "I"),
    },
)

#: struct flock's layout (type, whence, start, len, [mips: l_sysid], pid): 64-bit
#: offsets on the 64-bit targets and in every 32-bit target's struct flock64 (loff_t
#: aligned to 8); ``long`` offsets in the 32-bit targets' struct flock
FLOCK64 = "<hh4xqqi4x"
FLOCK32: dict[str, str] = {"arm": "<hhiii", "mipsel": "<hhiiii16x"}
#: fcntl's record-lock commands: guest number -> (F_GETLK/F_SETLK/F_SETLKW's generic
#: number, whether it is a 64-bit command of fcntl64's, taking struct flock64); mips
#: numbers them differently; on the 64-bit targets struct flock has 64-bit offsets
_LOCKS_64BIT = {5: (5, False), 6: (6, False), 7: (7, False)}
LOCK_COMMANDS_GENERIC: dict[int, tuple[int, bool]] = {
    **{5: (5, False), 6: (6, False), 7: (7, False)},
    **{12: (5, True), 13: (6, True), 14: (7, True)},
}
LOCK_COMMANDS: dict[str, dict[int, tuple[int, bool]]] = {
    "x86_64": _LOCKS_64BIT,
    "aarch64": _LOCKS_64BIT,
    "riscv64": _LOCKS_64BIT,
    "mipsel": {
        **{14: (5, False), 6: (6, False), 7: (7, False)},
        **{33: (5, True), 34: (6, True), 35: (7, True)},
    },
}


#: socket types whose numbers differ (mips swaps SOCK_STREAM and SOCK_DGRAM): guest -> host;
#: SOCK_NONBLOCK and SOCK_CLOEXEC are the target's O_NONBLOCK and O_CLOEXEC
SOCK_TYPES: dict[str, dict[int, int]] = {"mipsel": {1: 2, 2: 1}}
#: SOL_SOCKET where it is not 1 (mips: 0xffff), and SOL_SOCKET option names that differ
#: from the generic numbers (asm/socket.h): guest -> host; options absent agree
SOL_SOCKET = {"mipsel": 0xFFFF}
SOCKET_OPTIONS: dict[str, dict[int, int]] = {
    "mipsel": {
        0x0004: 2,  # SO_REUSEADDR
        0x0008: 9,  # SO_KEEPALIVE
        0x0010: 5,  # SO_DONTROUTE
        0x0020: 6,  # SO_BROADCAST
        0x0080: 13,  # SO_LINGER
        0x0100: 10,  # SO_OOBINLINE
        0x0200: 15,  # SO_REUSEPORT
        0x1001: 7,  # SO_SNDBUF
        0x1002: 8,  # SO_RCVBUF
        0x1003: 19,  # SO_SNDLOWAT
        0x1004: 18,  # SO_RCVLOWAT
        0x1005: 21,  # SO_SNDTIMEO_OLD
        0x1006: 20,  # SO_RCVTIMEO_OLD
        0x1007: 4,  # SO_ERROR
        0x1008: 3,  # SO_TYPE
        0x1009: 30,  # SO_ACCEPTCONN
        0x1028: 38,  # SO_PROTOCOL
        0x1029: 39,  # SO_DOMAIN
        17: 16,  # SO_PASSCRED
        18: 17,  # SO_PEERCRED
        31: 32,  # SO_SNDBUFFORCE
    },
}


#: struct epoll_event {u32 events; u64 data}: packed (12 bytes) on x86_64 only, where the
#: kernel declares it __attribute__((packed)); elsewhere the u64 is aligned (16 bytes).
#: Keyed by architecture name, host or guest (the host's epoll_wait fills the same layout).
EPOLL_EVENT: dict[str, str] = {"x86_64": "<IQ"}
EPOLL_EVENT_ALIGNED = "<I4xQ"


def epoll_event_format(arch: str) -> str:
    """The struct format of ``struct epoll_event`` on ``arch`` (see :data:`EPOLL_EVENT`)."""
    return EPOLL_EVENT.get(arch, EPOLL_EVENT_ALIGNED)


# struct utsname: six 65-byte fields; sysinfo is word-based (see proc.py)
UTS_FIELD = 65
UNAME_MACHINE = {
    "x86_64": "x86_64",
    "aarch64": "aarch64",
    "arm": "armv7l",
    "riscv64": "riscv64",
    "mipsel": "mips",
}


#: chown, lchown and fchown take 16-bit ids here (the kernel's ``*chown16``); elsewhere, and
#: in every ``*chown32``, ids are 32-bit
CHOWN_ID_BITS = {"arm": 16}


# --- resource limits -------------------------------------------------------------------------
#: guest resource number -> host (generic Linux) number, where they differ: mips numbers
#: NOFILE, AS, RSS, NPROC and MEMLOCK its own way (asm/resource.h); 0-4 and 10-15 agree
RLIMIT_TO_HOST = {
    "mipsel": {
        5: resource.RLIMIT_NOFILE,
        6: resource.RLIMIT_AS,
        7: resource.RLIMIT_RSS,
        8: resource.RLIMIT_NPROC,
        9: resource.RLIMIT_MEMLOCK,
    },
}
#: RLIM_INFINITY of the old ``getrlimit``/``setrlimit`` where it is not all ones: 32-bit
#: mips' (``prlimit64`` uses all 64 bits everywhere)
RLIM_INFINITY_WORD = {"mipsel": 0x7FFF_FFFF}


def rlimit_to_host(arch: str, res: int) -> int:
    """The host's resource number for the guest's ``res`` (checked < RLIM_NLIMITS)."""
    return RLIMIT_TO_HOST.get(arch, {}).get(res, res)


# --- file-system statistics (statfs) ---------------------------------------------------------
#: struct statfs: (struct format, field order); "f0"/"f1" are f_fsid's two ints, "x" spare
_STATFS_GENERIC = [
    "type",
    "bsize",
    "blocks",
    "bfree",
    "bavail",
    "files",
    "ffree",
    "f0",
    "f1",
    "namelen",
    "frsize",
    "flags",
    "x",
    "x",
    "x",
    "x",
]
_STATFS_MIPS = [
    "type",
    "bsize",
    "frsize",
    "blocks",
    "bfree",
    "files",
    "ffree",
    "bavail",
    "f0",
    "f1",
    "namelen",
    "flags",
    "x",
    "x",
    "x",
    "x",
    "x",
]
STATFS = {
    "x86_64": ("<qqQQQQQiiqqq4q", _STATFS_GENERIC),
    "aarch64": ("<qqQQQQQiiqqq4q", _STATFS_GENERIC),
    "riscv64": ("<qqQQQQQiiqqq4q", _STATFS_GENERIC),
    "arm": ("<7I2i3I4I", _STATFS_GENERIC),
    "mipsel": ("<8I2i2I5I", _STATFS_MIPS),
}
#: struct statfs64 of the 32-bit targets (``statfs64(path, size, buf)`` checks the size;
#: EABI arm packs it to 84 bytes and accepts 88, what old toolchains passed)
STATFS64 = {
    "arm": ("<II5Q2i3I4I", _STATFS_GENERIC),
    "mipsel": ("<4I5Q2i2I5I4x", ["type", "bsize", "frsize", "x", *_STATFS_MIPS[3:]]),
}
STATFS64_SIZES = {"arm": (84, 88), "mipsel": (96,)}


# --- processes ------------------------------------------------------------------------------
#: clone's argument order: (flags, newsp, parent_tid, tls, child_tid) where the kernel has
#: CONFIG_CLONE_BACKWARDS; x86_64 has (flags, newsp, parent_tid, child_tid, tls)
CLONE_TLS_BEFORE_CHILD_TID = {"aarch64": True, "arm": True, "riscv64": True, "mipsel": True}
#: mips' siginfo_t has si_code before si_errno
SIGINFO_CODE_BEFORE_ERRNO = {"mipsel": True}


def tls_register(arch: str) -> int:
    """The unicorn id of the register that holds the thread pointer (``CLONE_SETTLS``)."""
    from unicorn import arm64_const, arm_const, mips_const, riscv_const, x86_const

    registers: dict[str, int] = {
        "x86_64": x86_const.UC_X86_REG_FS_BASE,
        "aarch64": arm64_const.UC_ARM64_REG_TPIDR_EL0,
        "arm": arm_const.UC_ARM_REG_C13_C0_3,
        "riscv64": riscv_const.UC_RISCV_REG_TP,
        "mipsel": mips_const.UC_MIPS_REG_CP0_USERLOCAL,
    }
    return registers[arch]
