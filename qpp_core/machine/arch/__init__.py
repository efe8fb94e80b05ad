"""Guest architectures: one module per architecture, each defining ``ARCH`` and ``setup_cpu``.

:func:`by_elf_machine` finds the architecture for an ELF header, :func:`by_name` by name.
A run imports only its guest's module: :data:`ELF_IDS` gives each architecture's ELF
identity without importing it (a test checks it against the modules' ``ARCH``), and
:data:`ARCHES` imports a module when its entry is first read (start-up time).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping

from .base import Arch, SyscallAbi, Uc

#: architecture name -> (pyelftools' e_machine, bits, little endian), as its ``ARCH`` says
ELF_IDS: dict[str, tuple[str, int, bool]] = {
    "x86_64": ("EM_X86_64", 64, True),
    "aarch64": ("EM_AARCH64", 64, True),
    "arm": ("EM_ARM", 32, True),
    "riscv64": ("EM_RISCV", 64, True),
    "mipsel": ("EM_MIPS", 32, True),
}


class _ArchTable(MutableMapping[str, Arch]):
    """Every architecture by name; a module is imported when its entry is first read.

    An entry may be replaced (a test's variant of an architecture): the replacement is
    what :func:`by_name` and :func:`by_elf_machine` then give.
    """

    def __init__(self) -> None:
        self._loaded: dict[str, Arch] = {}

    def __getitem__(self, name: str) -> Arch:
        arch = self._loaded.get(name)
        if arch is None:
            if name not in ELF_IDS:
                raise KeyError(name)
            arch = self._loaded[name] = importlib.import_module(f"{__name__}.{name}").ARCH
        return arch

    def __setitem__(self, name: str, arch: Arch) -> None:
        self._loaded[name] = arch

    def __delitem__(self, name: str) -> None:
        raise TypeError("the architectures cannot be removed")

    def __iter__(self) -> Iterator[str]:
        return iter(ELF_IDS)

    def __len__(self) -> int:
        return len(ELF_IDS)


ARCHES: MutableMapping[str, Arch] = _ArchTable()


def by_name(name: str) -> Arch:
    return ARCHES[name]


def by_elf_machine(machine: str, bits: int, little_endian: bool) -> Arch | None:
    """The architecture for an ELF header's e_machine, class and data encoding, if any."""
    for name, elf_id in ELF_IDS.items():
        if elf_id == (machine, bits, little_endian):
            return ARCHES[name]
    return None


def cpu_setup(arch: Arch) -> Callable[..., None]:
    """The ``setup_cpu(uc, machine)`` function of an architecture's module."""
    fn: Callable[..., None] = importlib.import_module(f"{__name__}.{arch.name}").setup_cpu
    return fn


__all__ = [
    "ARCHES",
    "ELF_IDS",
    "Arch",
    "SyscallAbi",
    "Uc",
    "by_elf_machine",
    "by_name",
    "cpu_setup",
]
