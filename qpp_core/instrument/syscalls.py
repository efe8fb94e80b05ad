"""System calls as plugin events: ``syscall``, ``syscall_filter``, ``syscall_ret`` and the
``discon`` (exception) transitions around them, seen through the machine's observer slot
(filled only while a plugin listens)."""

from __future__ import annotations

from qpp_core.instrument.context import REGS_RW, Context
from qpp_core.instrument.decode import Decoder
from qpp_core.instrument.events import EventBus
from qpp_core.instrument.failures import Failures
from qpp_core.instrument.handles import DisconType
from qpp_core.instrument.registry import Registry
from qpp_core.instrument.thumb_it import ThumbIt
from qpp_core.ports import MachinePort

#: the events that need the machine's syscall observer
SYSCALL_EVENTS = ("syscall", "syscall_filter", "syscall_ret", "discon")


class SyscallEvents:
    """What happens when the guest enters and leaves a system call (the machine's
    :class:`~qpp_core.machine.run.SyscallObserver`)."""

    def __init__(
        self,
        machine: MachinePort,
        ctx: Context,
        events: EventBus,
        registry: Registry,
        it: ThumbIt,
        decoder: Decoder,
        failures: Failures,
    ) -> None:
        self.machine = machine
        self.ctx = ctx
        self.events = events
        self.registry = registry
        self.it = it
        self.decoder = decoder
        self.failures = failures
        self.attached = False
        #: (pc of the syscall instruction, pc after it) while a discon listener waits
        self._pending_discon: tuple[int, int] | None = None

    def attach(self, on: bool) -> None:
        """Fill (or empty) the machine's syscall observer slot."""
        if on and not self.attached:
            self.machine.syscall_observer = self
            self.attached = True
        elif not on and self.attached:
            self.machine.syscall_observer = None
            self.attached = False

    def enter(self, num: int, args: tuple[int, ...]) -> int | None:
        ctx = self.ctx
        words = tuple(args[:8]) + (0,) * (8 - len(args[:8]))
        saved, ctx.regs = ctx.regs, REGS_RW
        try:
            self.it.flush_pending()
            vcpu = ctx.vcpu_index
            kwargs = {"vcpu_index": vcpu, "num": num, "args": words}
            if ctx.exiting:
                return 0  # the guest is gone: the call must not happen (its result is unused)
            self.events.dispatch("syscall", kwargs, (vcpu, num, *words))
            if ctx.exiting:
                return 0
            result = self.events.dispatch(
                "syscall_filter", kwargs, (vcpu, num, *words), first_result=True
            )
            if ctx.exiting:
                return 0
            if self.registry.discon_types:
                pc = ctx.read_pc()
                self._pending_discon = (pc - self.decoder.trap_size(ctx.is_thumb()), pc)
            return None if result is None else int(result)
        except BaseException as exc:
            self.failures.hook_failed(exc)
            return -38  # ENOSYS; the run stops anyway
        finally:
            ctx.regs = saved

    def leave(self, num: int, ret: int) -> None:
        ctx = self.ctx
        if ctx.exiting:
            return
        saved, ctx.regs = ctx.regs, REGS_RW
        try:
            vcpu = ctx.vcpu_index
            self.events.dispatch(
                "syscall_ret", {"vcpu_index": vcpu, "num": num, "ret": ret}, (vcpu, num, ret)
            )
            if self._pending_discon is not None:
                from_pc, _ = self._pending_discon
                self._pending_discon = None
                to_pc = ctx.read_pc()
                for plugin, fn, _impl in self.registry.listeners("discon"):
                    assert plugin is not None
                    wanted = self.registry.discon_types.get(plugin.id, DisconType.ALL)
                    if wanted & DisconType.EXCEPTION:
                        self.events.call(
                            plugin, "discon", fn, plugin.id, 0, DisconType.EXCEPTION, from_pc, to_pc
                        )
        except BaseException as exc:
            self.failures.hook_failed(exc)
        finally:
            ctx.regs = saved
