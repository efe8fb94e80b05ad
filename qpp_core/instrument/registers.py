"""Guest register access for plugins, allowed only as their callbacks' flags say."""

from __future__ import annotations

from typing import Any

from qpp_core.errors import QppUsageError
from qpp_core.instrument.context import REGS_NONE, REGS_OUTSIDE, REGS_READ, REGS_RW, Context
from qpp_core.instrument.handles import RegisterDescriptor
from qpp_core.machine.arch.base import Arch


class Registers:
    """``qemu_plugin_get_registers``, ``read_register`` and ``write_register``."""

    def __init__(self, arch: Arch, uc: Any, ctx: Context) -> None:
        self.arch = arch
        self.uc = uc
        self.ctx = ctx

    def registers(self) -> list[RegisterDescriptor]:
        """The guest's registers, one descriptor per unicorn register (QEMU/gdb names)."""
        by_id: dict[int, str] = {}
        for name, reg_id in self.arch.registers.items():
            by_id[reg_id] = name
        feature = f"org.qpp.{self.arch.name}.core"
        return [RegisterDescriptor(rid, name, feature) for rid, name in by_id.items()]

    def check(self, write: bool) -> None:
        """A usage error unless the running callback may read (or ``write``) registers."""
        regs = self.ctx.regs
        need = REGS_RW if write else REGS_READ
        if regs >= need:
            return
        what = "write" if write else "read"
        if regs == REGS_OUTSIDE:
            where = "outside any vcpu callback"
        elif self.ctx.translating is not None or regs == REGS_NONE:
            where = "from a callback registered without register access"
        else:
            where = "from a callback registered with QEMU_PLUGIN_CB_R_REGS"
        flag = "QEMU_PLUGIN_CB_RW_REGS" if write else "QEMU_PLUGIN_CB_R_REGS (or RW)"
        raise QppUsageError(f"cannot {what} registers {where}: register the callback with {flag}")

    def read(self, reg_id: int) -> int:
        self.check(False)
        value = self.uc.reg_read(reg_id)
        if not isinstance(value, int):
            raise QppUsageError(f"register {reg_id} has no plain integer value ({value!r})")
        return value

    def write(self, reg_id: int, value: int) -> None:
        self.check(True)
        self.uc.reg_write(reg_id, value)
