"""The Linux syscall ABI of the five targets, as data: numbers (generated from the
kernel's headers), one signature table, and the argument casts the kernel applies.

Public: plugins (qpp-syscalls, qpp-strace) import it as well as qpp-core's kernel. The
whole-table names (``NUMBERS``, ``SYSNO``, ``ALL_NAMES``, ``SIGNATURES``) are built on
first access: a run only needs its own architecture's numbers and the signatures of the
calls its guest makes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .flags import MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, O_LARGEFILE, OPEN_FLAGS
from .signatures import CLASSES, DEFAULT, KINDS, PTR_RESULT, SyscallParam, signature

if TYPE_CHECKING:
    from .numbers import ALL_NAMES, NUMBERS, SYSNO
    from .signatures import SIGNATURES

_LAZY = {
    "ALL_NAMES": "numbers",
    "NUMBERS": "numbers",
    "SYSNO": "numbers",
    "SIGNATURES": "signatures",
}

__all__ = [
    "ALL_NAMES",
    "CLASSES",
    "DEFAULT",
    "KINDS",
    "MAP_ANONYMOUS",
    "MAP_FIXED",
    "MAP_FIXED_NOREPLACE",
    "NUMBERS",
    "OPEN_FLAGS",
    "O_LARGEFILE",
    "PTR_RESULT",
    "SIGNATURES",
    "SYSNO",
    "SyscallParam",
    "signature",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
