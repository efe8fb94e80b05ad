"""Syscall numbers per architecture, for the dispatcher: see :mod:`qpp_core.abi.numbers`
(generated from the kernel's headers; this module only keeps the old import path)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...abi.numbers import NUMBERS

__all__ = ["NUMBERS"]


def __getattr__(name: str) -> Any:
    from ...abi import numbers

    return getattr(numbers, name)
