"""What the standard plugins need to know about the guest program and to stop it.

QEMU gives plugins ``qemu_plugin_path_to_binary``, ``qemu_plugin_start_code``,
``qemu_plugin_end_code`` and ``qemu_plugin_entry_code``, and a plugin may simply call
``exit()``. qpp's instrumentation API does not offer these yet, so the standard plugins
get them here, from the session's machine, in one place to replace when it does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from qpp_core.errors import QppUsageError
from qpp_core.session import current_session


@dataclass(frozen=True)
class GuestImage:
    """The guest executable: absolute path, executable range (loaded addresses), entry."""

    path: str
    start_code: int
    end_code: int
    entry: int
    bits: int


def _machine() -> object:
    machine = current_session().machine
    if machine is None:
        raise QppUsageError("no guest is loaded")
    return machine


@lru_cache(maxsize=8)
def _image(path: str, entry: int, bits: int) -> GuestImage:
    from qpp_core.linux.elf import read_elf

    img = read_elf(path)
    bias = entry - img.entry
    code = [s for s in img.segments if s.prot & 4] or list(img.segments)
    start = min(s.vaddr for s in code) + bias
    end = max(s.vaddr + s.memsz for s in code) + bias
    return GuestImage(os.path.realpath(path), start, end, entry, bits)


def guest_image() -> GuestImage:
    """Describe the running guest's executable (as QEMU's path/start/end/entry queries)."""
    machine = _machine()
    kernel = getattr(machine, "kernel", None)
    opts = getattr(kernel, "opts", None)
    path = getattr(opts, "binary", None)
    entry = int(getattr(machine, "entry", 0))
    bits = int(getattr(getattr(machine, "arch", None), "bits", 64))
    if path is None:
        raise QppUsageError("the guest's executable path is unknown")
    return _image(str(path), entry, bits)


def exit_guest(status: int) -> None:
    """End the guest now with exit ``status``, as a QEMU plugin's ``exit(status)`` does;
    the atexit callbacks still run."""
    machine = _machine()
    machine.exit(status)  # type: ignore[attr-defined]
