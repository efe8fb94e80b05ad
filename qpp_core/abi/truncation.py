"""How much of each argument register the kernel uses, per syscall number (from the
signature table): the kernel casts each register to the declared C type, so an ``int``
argument is the low 32 bits sign-extended, whatever the register's upper half holds.

glibc on x86_64 loads ``AT_FDCWD`` with ``mov $-100,%edi`` (upper half zero): without the
cast the call would see fd 4294967196.
"""

from __future__ import annotations

from functools import cache

from .numbers import NUMBERS
from .signatures import SIGNATURES

#: per argument: (mask, sign bit) with the value becoming ``((v & mask) ^ sign) - sign``
Cast = tuple[int, int]

_32 = 0xFFFF_FFFF


def _cast(ctype: str, bits: int) -> Cast | None:
    """The cast of one argument class on a ``bits``-wide target; ``None`` if a no-op."""
    if ctype == "u16":
        return (0xFFFF, 0)
    if bits == 64 and ctype == "int":
        return (_32, 0x8000_0000)
    if bits == 64 and ctype == "uint":
        return (_32, 0)
    return None


@cache
def casts(arch: str, bits: int) -> dict[int, tuple[Cast, ...]]:
    """``number -> six casts`` for the calls of ``arch`` that narrow an argument.

    A call with a ``loff`` argument is left alone on 32-bit targets, where the pair
    shifts the positions of the arguments after it (none of them narrower than a word).
    """
    full: Cast = ((1 << bits) - 1, 0)
    out: dict[int, tuple[Cast, ...]] = {}
    for nr, name in NUMBERS[arch].items():
        params = SIGNATURES.get(name, ())
        if bits == 32 and any(p.ctype == "loff" for p in params):
            continue
        per_arg = [_cast(p.ctype, bits) for p in params]
        if any(c is not None for c in per_arg):
            row = [c or full for c in per_arg] + [full] * (6 - len(per_arg))
            out[nr] = tuple(row[:6])
    return out


def apply(args: tuple[int, ...], row: tuple[Cast, ...], bits: int) -> tuple[int, ...]:
    """The arguments as the kernel sees them, as register words (a negative ``int``
    is its sign extension to the full width, e.g. 0xffffffffffffff9c for -100)."""
    word = (1 << bits) - 1
    return tuple((((v & m) ^ s) - s) & word for v, (m, s) in zip(args, row, strict=True))
