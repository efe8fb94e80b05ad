"""How much of each argument register the kernel uses, per syscall number (from the
signature table): the kernel casts each register to the declared C type, so an ``int``
argument is the low 32 bits sign-extended, whatever the register's upper half holds.

glibc on x86_64 loads ``AT_FDCWD`` with ``mov $-100,%edi`` (upper half zero): without the
cast the call would see fd 4294967196.
"""

from __future__ import annotations

from functools import cache

from .numbers import numbers
from .signatures import declared

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


def row(name: str | None, bits: int) -> tuple[Cast, ...] | None:
    """The six casts of syscall ``name`` on a ``bits``-wide target; ``None`` if it narrows
    no argument (or is unknown).

    A call with a ``loff`` argument is left alone on 32-bit targets, where the pair
    shifts the positions of the arguments after it (none of them narrower than a word).
    """
    params = declared(name) if name is not None else None
    if not params or (bits == 32 and any(p.ctype == "loff" for p in params)):
        return None
    per_arg = [_cast(p.ctype, bits) for p in params]
    if all(c is None for c in per_arg):
        return None
    full: Cast = ((1 << bits) - 1, 0)
    cells = [c or full for c in per_arg] + [full] * (6 - len(per_arg))
    return tuple(cells[:6])


class CastRows(dict[int, "tuple[Cast, ...] | None"]):
    """``number -> six casts or None`` of one architecture, each row worked out on the
    number's first lookup (a run parses only the signatures of the calls it makes)."""

    def __init__(self, arch: str, bits: int) -> None:
        super().__init__()
        self.names = numbers(arch)
        self.bits = bits

    def __missing__(self, nr: int) -> tuple[Cast, ...] | None:
        cast = self[nr] = row(self.names.get(nr), self.bits)
        return cast


@cache
def rows(arch: str, bits: int) -> CastRows:
    """The :class:`CastRows` of ``arch`` (one per process, filled as calls are made)."""
    return CastRows(arch, bits)


@cache
def casts(arch: str, bits: int) -> dict[int, tuple[Cast, ...]]:
    """``number -> six casts`` for every call of ``arch`` that narrows an argument."""
    out: dict[int, tuple[Cast, ...]] = {}
    for nr, name in numbers(arch).items():
        cast = row(name, bits)
        if cast is not None:
            out[nr] = cast
    return out


def apply(args: tuple[int, ...], row: tuple[Cast, ...], bits: int) -> tuple[int, ...]:
    """The arguments as the kernel sees them, as register words (a negative ``int``
    is its sign extension to the full width, e.g. 0xffffffffffffff9c for -100)."""
    word = (1 << bits) - 1
    return tuple((((v & m) ^ s) - s) & word for v, (m, s) in zip(args, row, strict=True))
