"""What the machine and the Linux layer report about the guest, as plugin events: guest
threads as vCPUs (the machine's ``vcpu_observer``), signal handlers starting and returning
(its ``signal_observer``) and the program an ``execve`` runs. The signal observer also
hears of blocks a fault or CPU exception ended early, for exact counts
(:mod:`.cpu_exceptions`)."""

from __future__ import annotations

from typing import Any

from qpp_core.instrument import vcpus
from qpp_core.instrument.context import REGS_NONE, REGS_RW, Context
from qpp_core.instrument.cpu_exceptions import CpuExceptions
from qpp_core.instrument.events import EventBus
from qpp_core.instrument.failures import Failures


class GuestEvents:
    """The machine's vCPU and signal observer (see the module docstring)."""

    def __init__(
        self,
        ctx: Context,
        events: EventBus,
        failures: Failures,
        target: str,
        cpu_exceptions: CpuExceptions,
    ) -> None:
        self.ctx = ctx
        self.events = events
        self.failures = failures
        self.cpu_exceptions = cpu_exceptions
        #: QEMU's target name (what ``qpp_guest_exec`` reports)
        self.target = target

    # --- guest threads: each is a vCPU (the machine tells which runs) ----------------------

    def switch_vcpu(self, index: int) -> None:
        """The running guest thread changed: its vCPU is ``index`` from now on."""
        self.ctx.vcpu_index = index
        vcpus.switch(index)

    def vcpu_started(self, index: int) -> None:
        """A new guest thread runs for the first time (it is the running one)."""
        if index not in self.ctx.vcpus_live:
            self.ctx.vcpus_live.append(index)
        self._vcpu_event("vcpu_init", index)

    def vcpu_ended(self, index: int) -> None:
        """A guest thread ended (``exit`` of one thread)."""
        if index in self.ctx.vcpus_live:
            self.ctx.vcpus_live.remove(index)
            self._vcpu_event("vcpu_exit", index)

    def _vcpu_event(self, event: str, index: int) -> None:
        ctx = self.ctx
        if ctx.finished or ctx.exiting:
            return
        try:
            self.events.dispatch(event, {"vcpu_index": index}, (index,), regs=REGS_RW)
        except BaseException as exc:
            self.failures.hook_failed(exc)

    # --- signals and exec ------------------------------------------------------------------

    def signal_delivered(self, signum: int, handler: int, pc: int) -> None:
        """A guest signal handler starts (``qpp_signal_delivered``)."""
        self._event(
            "signal",
            {"vcpu_index": self.ctx.vcpu_index, "signum": signum, "handler": handler, "pc": pc},
        )

    def signal_returned(self, pc: int) -> None:
        """A guest signal handler returned through sigreturn (``qpp_signal_returned``)."""
        self._event("signal_return", {"vcpu_index": self.ctx.vcpu_index, "pc": pc})

    def block_cut(self, pc: int) -> None:
        """The running block ended at the instruction at ``pc`` (a fault or CPU exception
        there; see :meth:`.CpuExceptions.block_cut`)."""
        self.cpu_exceptions.block_cut(pc)

    def insn_raised(self, pc: int) -> None:
        """An instruction unicorn cannot translate raised at ``pc`` (SIGILL; see
        :meth:`.CpuExceptions.insn_raised`)."""
        self.cpu_exceptions.insn_raised(pc)

    def announce_exec(self, path: str, argv: list[str], load_bias: int, entry: int) -> None:
        """Tell plugins which program the process runs now (``qpp_guest_exec``)."""
        self._event(
            "exec",
            {
                "path": path,
                "argv": list(argv),
                "arch": self.target,
                "load_bias": load_bias,
                "entry": entry,
            },
        )

    def _event(self, event: str, kwargs: dict[str, Any]) -> None:
        self.events.dispatch(event, kwargs, tuple(kwargs.values()), regs=REGS_NONE)
