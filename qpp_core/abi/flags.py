"""Flag bits of the syscall ABI that differ between the five targets (data only).

Public, like the rest of :mod:`qpp_core.abi`: the kernel translates guest flags with these
tables and plugins decode them (qpp-syscalls prints ``O_WRONLY|O_CREAT``) from the same
facts, so a guest value means one thing everywhere.
"""

from __future__ import annotations

# --- open(2) flags: guest value per architecture family, by host flag name --------------
_OPEN_COMMON = {
    "O_WRONLY": 0o1,
    "O_RDWR": 0o2,
    "O_CREAT": 0o100,
    "O_EXCL": 0o200,
    "O_NOCTTY": 0o400,
    "O_TRUNC": 0o1000,
    "O_APPEND": 0o2000,
    "O_NONBLOCK": 0o4000,
    "O_DSYNC": 0o10000,
    "O_DIRECT": 0o40000,
    "O_DIRECTORY": 0o200000,
    "O_NOFOLLOW": 0o400000,
    "O_NOATIME": 0o1000000,
    "O_CLOEXEC": 0o2000000,
    "O_PATH": 0o10000000,
}
_OPEN_ARM = dict(_OPEN_COMMON, O_DIRECTORY=0o40000, O_NOFOLLOW=0o100000, O_DIRECT=0o200000)
_OPEN_MIPS = {
    "O_WRONLY": 0o1,
    "O_RDWR": 0o2,
    "O_APPEND": 0x8,
    "O_DSYNC": 0x10,
    "O_NONBLOCK": 0x80,
    "O_CREAT": 0x100,
    "O_TRUNC": 0x200,
    "O_EXCL": 0x400,
    "O_NOCTTY": 0x800,
    "O_DIRECT": 0x8000,
    "O_DIRECTORY": 0x10000,
    "O_NOFOLLOW": 0x20000,
    "O_NOATIME": 0x40000,
    "O_CLOEXEC": 0x80000,
    "O_PATH": 0x200000,
}
OPEN_FLAGS: dict[str, dict[str, int]] = {
    "x86_64": _OPEN_COMMON,
    "riscv64": _OPEN_COMMON,
    "aarch64": _OPEN_ARM,
    "arm": _OPEN_ARM,
    "mipsel": _OPEN_MIPS,
}

MAP_FIXED = 0x10
MAP_FIXED_NOREPLACE = 0x100000
MAP_ANONYMOUS = {"mipsel": 0x800}  # everyone else: 0x20
# O_LARGEFILE: a guest bit with no host meaning (the host is 64-bit); only decoders need it
O_LARGEFILE: dict[str, int] = {
    "x86_64": 0o100000,
    "riscv64": 0o100000,
    "aarch64": 0o400000,
    "arm": 0o400000,
    "mipsel": 0x2000,
}
