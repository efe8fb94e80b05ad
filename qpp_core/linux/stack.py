"""The initial stack exactly as qemu-user 7.2 builds it (linux-user/elfload.c).

From the top (stack limit + size - 8, also on 32-bit guests) downwards: the execfn
string, the environment strings, the argv strings, the base-platform and platform strings
(each padded to the word size), alignment to 16, 16 random bytes (AT_RANDOM), then the
table argc / argv[] / NULL / envp[] / NULL / auxv aligned down to 16.
"""

from __future__ import annotations

import os
import struct
from typing import NamedTuple

from ..machine.arch import Arch

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = (
    0,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
)
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 15, 16, 17
AT_SECURE, AT_BASE_PLATFORM, AT_RANDOM, AT_HWCAP2, AT_EXECFN = 23, 24, 25, 26, 31


class StackImage(NamedTuple):
    """The bytes to write at ``base`` and the resulting initial stack pointer."""

    base: int
    data: bytes
    sp: int
    auxv: tuple[tuple[int, int], ...]
    arg_start: int  #: the argument strings: [arg_start, env_start)
    env_start: int  #: the environment strings: [env_start, env_end)
    env_end: int


def build_stack(
    arch: Arch,
    top: int,
    argv: list[bytes],
    envp: list[bytes],
    execfn: bytes,
    random16: bytes,
    phdr: int,
    phnum: int,
    phent: int,
    entry: int,
    base: int = 0,
) -> StackImage:
    """Lay out the initial stack below ``top``; nothing is written to the guest here."""
    w = arch.word
    fmt = ("<" if arch.little_endian else ">") + ("Q" if w == 8 else "I")
    chunks: dict[int, bytes] = {}

    p = top

    def push_string(s: bytes) -> int:
        nonlocal p
        p -= len(s) + 1
        chunks[p] = s + b"\0"
        return p

    execfn_at = push_string(execfn)
    env_at = [push_string(s) for s in reversed(envp)][::-1]
    argv_at = [push_string(s) for s in reversed(argv)][::-1]

    def push_padded(s: str) -> int:
        nonlocal p
        raw = s.encode() + b"\0"
        p -= (len(raw) + w - 1) & ~(w - 1)
        chunks[p] = raw
        return p

    base_platform_at = push_padded(arch.base_platform) if arch.base_platform else 0
    platform_at = push_padded(arch.platform) if arch.platform else 0
    p &= ~15
    p -= 16
    random_at = p
    chunks[p] = random16

    auxv: list[tuple[int, int]] = [
        (AT_PHDR, phdr),
        (AT_PHENT, phent),
        (AT_PHNUM, phnum),
        (AT_PAGESZ, 4096),
        (AT_BASE, base),
        (AT_FLAGS, 0),
        (AT_ENTRY, entry),
        (AT_UID, os.getuid()),
        (AT_EUID, os.geteuid()),
        (AT_GID, os.getgid()),
        (AT_EGID, os.getegid()),
        (AT_HWCAP, arch.hwcap),
        (AT_CLKTCK, os.sysconf("SC_CLK_TCK")),
        (AT_RANDOM, random_at),
        (AT_SECURE, 0),
        (AT_EXECFN, execfn_at),
    ]
    if arch.hwcap2 is not None:
        auxv.append((AT_HWCAP2, arch.hwcap2))
    if base_platform_at:
        auxv.append((AT_BASE_PLATFORM, base_platform_at))
    if platform_at:
        auxv.append((AT_PLATFORM, platform_at))
    auxv.append((AT_NULL, 0))

    words = 1 + len(argv) + 1 + len(envp) + 1 + 2 * len(auxv)
    sp = (p - words * w) & ~15
    table = [len(argv), *argv_at, 0, *env_at, 0]
    for k, v in auxv:
        table += [k, v]
    chunks[sp] = b"".join(struct.pack(fmt, x & arch.mask) for x in table)

    low = min(chunks)
    buf = bytearray(top - low)
    for addr, data in chunks.items():
        buf[addr - low : addr - low + len(data)] = data
    env_start = env_at[0] if env_at else execfn_at
    arg_start = argv_at[0] if argv_at else env_start
    return StackImage(low, bytes(buf), sp, tuple(auxv), arg_start, env_start, execfn_at)
