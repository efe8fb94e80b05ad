"""C ``int`` arguments: the kernel reads only the low 32 bits of the register, signed.

Handlers that take an ``int`` (signal numbers, clock ids, resource numbers, timeouts in
ms, ``how``...) read it through :func:`c_int`, so that whatever the upper half of a
64-bit register holds, the value is the one Linux sees.
"""

from __future__ import annotations


def c_int(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v
