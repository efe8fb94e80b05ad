"""Syscall numbers of the five targets: ``NUMBERS[arch][number] -> name``.

The per-architecture tables are generated from the kernel's uapi headers by
``tools/gen_syscall_numbers.py`` (``numbers_<arch>.py``); names are the kernel's, so one
handler, one signature and one strace format serve a call under whatever number each
architecture gives it. mips o32 numbers include its 4000 offset; arm's private calls
(``breakpoint`` ... ``get_tls``) are 0xf0001 and up.
"""

from __future__ import annotations

from . import numbers_aarch64, numbers_arm, numbers_mipsel, numbers_riscv64, numbers_x86_64

NUMBERS: dict[str, dict[int, str]] = {
    "x86_64": numbers_x86_64.NUMBERS,
    "aarch64": numbers_aarch64.NUMBERS,
    "riscv64": numbers_riscv64.NUMBERS,
    "arm": numbers_arm.NUMBERS,
    "mipsel": numbers_mipsel.NUMBERS,
}

#: ``SYSNO[arch][name] -> number``: the inverse tables
SYSNO: dict[str, dict[str, int]] = {
    arch: {name: nr for nr, name in table.items()} for arch, table in NUMBERS.items()
}

#: every syscall name of the five architectures
ALL_NAMES: frozenset[str] = frozenset(n for t in NUMBERS.values() for n in t.values())
