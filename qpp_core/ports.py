"""What the layers above the machine need of it, as typed ports (Protocols).

The instrumentation layer, the session and the runner hold the machine through these
rather than through :class:`~qpp_core.machine.run.Machine` itself: what they may touch is
written down here and checked by ``mypy --strict``, and any object with these members
serves (the tests' snippet machines do). A leaf: nothing is imported at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from qpp_core.machine.arch.base import Arch
    from qpp_core.machine.blockstop import StopFlag
    from qpp_core.machine.run import GuestExit, SignalObserver, SyscallObserver
    from qpp_core.machine.threads import VcpuObserver


class StopRequests(Protocol):
    """The machine's stop request for a signal from another thread, honoured at the next
    block start (:class:`~qpp_core.machine.blockstop.BlockStop`): the instrumentation's
    block hook tests it first, so qpp adds no block hook of its own while one exists."""

    #: the flag the hooks test (and where they record the block that started last)
    flag: StopFlag
    #: block hooks of the instrumentation that test the flag now
    checkers: int
    #: qpp's own hook must be added or removed at the next stop
    sync_due: bool

    @property
    def address(self) -> int:
        """The flag's address, for the native block hook."""


class MachinePort(Protocol):
    """What the instrumentation layer needs of the machine it instruments."""

    #: the guest architecture's record, and its unicorn engine (where hooks go)
    arch: Arch
    uc: Any
    #: the program's entry point (plugins ask for the executable's image)
    entry: int
    #: the slots the instrumentation layer fills to be told of syscalls, of which vCPU
    #: runs, starts and ends, and of guest signal handlers
    syscall_observer: SyscallObserver | None
    vcpu_observer: VcpuObserver | None
    signal_observer: SignalObserver | None
    #: told ``(lo, hi)`` when code changes without a guest store (the kernel wrote it,
    #: a page was remapped or made executable)
    code_listeners: list[Callable[[int, int], None]]

    @property
    def block_stop(self) -> StopRequests | None:
        """Stops at the next block start that the block hook honours (None: the machine
        never asks for any, as a test's snippet)."""

    def read_memory(self, addr: int, size: int) -> bytes: ...
    def write_memory(self, addr: int, data: bytes) -> None: ...
    def symbol_at(self, addr: int) -> str | None: ...

    def request_restart(self) -> None:
        """From a hook: leave the engine and resume at the then-current pc."""

    def stop(self, reason: BaseException | None = None) -> None:
        """From a hook: end the run (re-raising ``reason`` from ``run``)."""

    def exit(self, status: int) -> None:
        """End the guest with ``status`` (a plugin's ``exit_guest``)."""


class RunMachine(MachinePort, Protocol):
    """What the session's other users (the runner, ``qpp batch``'s job) need besides."""

    #: this process is a guest fork's child
    is_fork_child: bool

    @property
    def exited(self) -> GuestExit | None: ...

    def where(self) -> str:
        """Where the guest is, for error messages."""
