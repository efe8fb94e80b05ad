"""The handler registry: ``@handles("name", ...)`` puts a function into :data:`HANDLERS`.

A handler takes the kernel and the six raw argument words and returns the result in the
negative-errno convention; raising ``OSError`` returns ``-errno`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .kernel import LinuxKernel

Args = tuple[int, int, int, int, int, int]
Handler = Callable[["LinuxKernel", Args], int]

HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register
