"""The Linux syscall ABI of the five targets, as data: numbers (generated from the
kernel's headers), one signature table, and the argument casts the kernel applies.

Public: plugins (qpp-syscalls, qpp-strace) import it as well as qpp-core's kernel.
"""

from __future__ import annotations

from .flags import MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, O_LARGEFILE, OPEN_FLAGS
from .numbers import ALL_NAMES, NUMBERS, SYSNO
from .signatures import CLASSES, DEFAULT, KINDS, PTR_RESULT, SIGNATURES, SyscallParam, signature

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
