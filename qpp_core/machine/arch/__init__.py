"""Guest architectures: one module per architecture, each defining ``ARCH`` and ``setup_cpu``.

:func:`by_elf_machine` finds the architecture for an ELF header, :func:`by_name` by name.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from . import aarch64, arm, mipsel, riscv64, x86_64
from .base import Arch, SyscallAbi, Uc

_MODULES: dict[str, ModuleType] = {m.ARCH.name: m for m in (x86_64, aarch64, arm, riscv64, mipsel)}

ARCHES: dict[str, Arch] = {name: m.ARCH for name, m in _MODULES.items()}


def by_name(name: str) -> Arch:
    return ARCHES[name]


def by_elf_machine(machine: str, bits: int, little_endian: bool) -> Arch | None:
    """The architecture for an ELF header's e_machine, class and data encoding, if any."""
    for arch in ARCHES.values():
        if (arch.elf_machine, arch.bits, arch.little_endian) == (machine, bits, little_endian):
            return arch
    return None


def cpu_setup(arch: Arch) -> Callable[..., None]:
    """The ``setup_cpu(uc, machine)`` function of an architecture's module."""
    fn: Callable[..., None] = _MODULES[arch.name].setup_cpu
    return fn


__all__ = ["ARCHES", "Arch", "SyscallAbi", "Uc", "by_elf_machine", "by_name", "cpu_setup"]
