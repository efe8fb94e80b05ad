"""The Linux syscall layer: number tables and ABI data, the dispatcher, handlers by topic."""

from __future__ import annotations

from .kernel import LinuxKernel

__all__ = ["LinuxKernel"]
