"""The unicorn machine: per-architecture CPU setup, registers, the run loop and faults."""

from __future__ import annotations

from .arch import ARCHES, Arch, by_elf_machine, by_name
from .cpu import create_cpu, resolve_cpu_model
from .run import GuestExit, Kernel, Machine, SyscallObserver
from .symbols import SymbolTable

__all__ = [
    "ARCHES",
    "Arch",
    "GuestExit",
    "Kernel",
    "Machine",
    "SymbolTable",
    "SyscallObserver",
    "by_elf_machine",
    "by_name",
    "create_cpu",
    "resolve_cpu_model",
]
