"""Linux user-mode emulation: load a static ELF program and run it on the unicorn machine.

Public surface: :class:`GuestOptions`, :func:`load_guest`, and the machine types
:class:`Machine`, :class:`GuestExit`, :class:`SyscallObserver`, :class:`Arch`.
"""

from __future__ import annotations

from ..machine import Arch, GuestExit, Machine, SyscallObserver
from .load import load_guest
from .options import GuestOptions

__all__ = ["Arch", "GuestExit", "GuestOptions", "Machine", "SyscallObserver", "load_guest"]
