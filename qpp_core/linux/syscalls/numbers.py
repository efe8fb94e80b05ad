"""Syscall numbers per architecture, for the dispatcher: see :mod:`qpp_core.abi.numbers`
(generated from the kernel's headers; this module only keeps the old import path)."""

from __future__ import annotations

from ...abi.numbers import NUMBERS

__all__ = ["NUMBERS"]
