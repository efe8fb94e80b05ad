"""Syscall numbers of the five targets: ``NUMBERS[arch][number] -> name``.

The per-architecture tables are generated from the kernel's uapi headers by
``tools/gen_syscall_numbers.py`` (``numbers_<arch>.py``); names are the kernel's, so one
handler, one signature and one strace format serve a call under whatever number each
architecture gives it. mips o32 numbers include its 4000 offset; arm's private calls
(``breakpoint`` ... ``get_tls``) are 0xf0001 and up.

A run needs only its guest's table: :func:`numbers` and :func:`sysno` import one
architecture's module on first use. ``NUMBERS``, ``SYSNO`` and ``ALL_NAMES`` (every
architecture at once, for plugins and tools) are built on first access.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

#: the architectures with a generated table
ARCHES: tuple[str, ...] = ("x86_64", "aarch64", "riscv64", "arm", "mipsel")

if TYPE_CHECKING:
    NUMBERS: dict[str, dict[int, str]]
    #: ``SYSNO[arch][name] -> number``: the inverse tables
    SYSNO: dict[str, dict[str, int]]
    #: every syscall name of the five architectures
    ALL_NAMES: frozenset[str]


@cache
def numbers(arch: str) -> dict[int, str]:
    """``number -> name`` for ``arch`` (KeyError for an architecture without a table)."""
    if arch not in ARCHES:
        raise KeyError(arch)
    table: dict[int, str] = import_module(f"{__package__}.numbers_{arch}").NUMBERS
    return table


@cache
def sysno(arch: str) -> dict[str, int]:
    """``name -> number`` for ``arch``: the inverse of :func:`numbers`."""
    return {name: nr for nr, name in numbers(arch).items()}


def __getattr__(name: str) -> Any:
    """The all-architecture tables, built (and kept) on first access."""
    value: Any
    if name == "NUMBERS":
        value = {arch: numbers(arch) for arch in ARCHES}
    elif name == "SYSNO":
        value = {arch: sysno(arch) for arch in ARCHES}
    elif name == "ALL_NAMES":
        value = frozenset(n for arch in ARCHES for n in numbers(arch).values())
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
