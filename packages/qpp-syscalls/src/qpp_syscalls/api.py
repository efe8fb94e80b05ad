"""What the ``syscalls`` plugin offers other plugins, typed (QPP's ``QPP_FUN_PROTOTYPE``).

Import this module, not :mod:`qpp_syscalls.plugin` (declarations only)::

    from qpp_core import qpp, qpp_callback
    from qpp_syscalls.api import ON_SYS_RETURN, PLUGIN, SyscallEvent, SyscallsApi

    sc = qpp.typed(SyscallsApi)
    sc.syscalls_syscall_name_qpp(64)            # "write" on aarch64

    @qpp_callback(PLUGIN, ON_SYS_RETURN)
    def done(evdata: SyscallEvent) -> None: ...  # parameters: evdata and/or udata

Callbacks (``evdata`` is a :class:`SyscallEvent`, ``udata`` is ``None``):

* ``on_sys_enter`` before every syscall, ``on_sys_return`` after it (``event.ret`` set);
* ``on_sys_<name>_enter`` and ``on_sys_<name>_return`` for each syscall name, as PANDA's
  syscalls2 names them (``on_sys_write_enter``...). They exist for the names of all five
  architectures, whatever the guest's, so a plugin registering on ``on_sys_open_enter``
  loads everywhere and is simply never called on aarch64 (which has no ``open``): use
  :func:`callback_name` to spell them. ``on_sys_unknown_enter``/``_return`` run for
  numbers the architecture's table does not name.

The per-name callback runs after the generic one, on enter and on return alike. The
same :class:`SyscallEvent` object is passed to the enter and the return callbacks of
one call, so a plugin may stash state on it (``event.notes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

PLUGIN = "syscalls"
ON_SYS_ENTER = "on_sys_enter"
ON_SYS_RETURN = "on_sys_return"
UNKNOWN = "unknown"


def callback_name(syscall: str, when: str) -> str:
    """``on_sys_<syscall>_<when>``; ``when`` is ``"enter"`` or ``"return"``."""
    if when not in ("enter", "return"):
        raise ValueError(f"when={when!r}: expected 'enter' or 'return'")
    return f"on_sys_{syscall}_{when}"


@dataclass(frozen=True)
class SyscallArg:
    """One decoded argument: its name and kind (see :mod:`qpp_core.abi.signatures`),
    the register word as the kernel uses it (narrowed to the declared C type), and
    ``value``: signed for int-like kinds (int, fd, dirfd), unsigned otherwise."""

    name: str
    kind: str
    raw: int
    value: int


@dataclass
class SyscallEvent:
    """One syscall, as the callbacks see it."""

    #: the architecture's number (mips o32 numbers include the 4000 offset)
    nr: int
    #: the kernel's name, or ``"unknown"``
    name: str
    #: the arguments the call has, decoded (no more than its signature lists)
    args: tuple[SyscallArg, ...]
    #: all six raw argument words
    raw: tuple[int, ...]
    #: the result (``-errno`` on failure, host/generic errno numbers on every arch);
    #: ``None`` until the call returned
    ret: int | None = None
    #: scratch space for the plugins handling this event
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def errno(self) -> int | None:
        """The error number when the call failed, else ``None``."""
        if self.ret is not None and -4096 < self.ret < 0:
            return -self.ret
        return None

    def arg(self, name: str) -> SyscallArg:
        """The argument called ``name`` (``KeyError`` if the call has none)."""
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(f"{self.name} has no argument {name!r}")


class SyscallsApi(Protocol):
    """``syscalls``' exported functions under their ``_qpp`` names."""

    def syscalls_arch_qpp(self) -> str:
        """The guest architecture: x86_64, aarch64, arm, riscv64 or mipsel."""
        ...

    def syscalls_syscall_name_qpp(self, nr: int) -> str | None:
        """The name of syscall ``nr`` on the guest's architecture, ``None`` if unknown."""
        ...

    def syscalls_syscall_number_qpp(self, name: str) -> int | None:
        """The guest architecture's number for ``name``, ``None`` if it has no such call."""
        ...

    def syscalls_syscall_names_qpp(self) -> list[str]:
        """Every syscall name the guest's architecture has, sorted."""
        ...

    def syscalls_signature_qpp(self, name: str) -> tuple[tuple[str, str], ...]:
        """``((kind, argument name), ...)`` for syscall ``name``."""
        ...

    def syscalls_decode_qpp(self, nr: int, raw: tuple[int, ...]) -> SyscallEvent:
        """Decode a syscall from its number and raw argument words."""
        ...

    def syscalls_errno_name_qpp(self, err: int) -> str | None:
        """``"ENOENT"`` for 2: the symbolic name of a (positive) error number."""
        ...

    def syscalls_flags_text_qpp(self, kind: str, value: int) -> str:
        """An argument of a flags kind (oflags, prot, mflags, atflags, amode, whence, mode)
        as the architecture's symbolic names, e.g. ``O_WRONLY|O_CREAT|O_TRUNC``."""
        ...

    def syscalls_read_string_qpp(self, addr: int, limit: int = 4096) -> bytes | None:
        """The NUL-terminated string at guest ``addr`` (at most ``limit`` bytes), without
        its NUL; ``None`` if the memory is not mapped."""
        ...
