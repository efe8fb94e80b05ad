"""The Linux syscall ABI of the five targets, as data: numbers (generated from the
kernel's headers), one signature table, and the argument casts the kernel applies.

Public: plugins (qpp-syscalls, qpp-strace) import it as well as qpp-core's kernel.
"""

from __future__ import annotations

from .numbers import ALL_NAMES, NUMBERS, SYSNO
from .signatures import CLASSES, DEFAULT, KINDS, PTR_RESULT, SIGNATURES, SyscallParam, signature

__all__ = [
    "ALL_NAMES",
    "CLASSES",
    "DEFAULT",
    "KINDS",
    "NUMBERS",
    "PTR_RESULT",
    "SIGNATURES",
    "SYSNO",
    "SyscallParam",
    "signature",
]
