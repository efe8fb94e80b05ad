"""Guest register access for plugins, allowed only as their callbacks' flags say."""

from __future__ import annotations

from qpp_core.errors import QppUsageError
from qpp_core.instrument.handles import RegisterDescriptor
from qpp_core.instrument.state import REGS_NONE, REGS_OUTSIDE, REGS_READ, REGS_RW, State


class RegistersMixin(State):
    """``qemu_plugin_get_registers``, ``read_register`` and ``write_register``."""

    def registers(self) -> list[RegisterDescriptor]:
        """The guest's registers, one descriptor per unicorn register (QEMU/gdb names)."""
        by_id: dict[int, str] = {}
        for name, reg_id in self.arch.registers.items():
            by_id[reg_id] = name
        feature = f"org.qpp.{self.arch.name}.core"
        return [RegisterDescriptor(rid, name, feature) for rid, name in by_id.items()]

    def check_regs(self, write: bool) -> None:
        need = REGS_RW if write else REGS_READ
        if self.regs >= need:
            return
        what = "write" if write else "read"
        if self.regs == REGS_OUTSIDE:
            where = "outside any vcpu callback"
        elif self.translating is not None or self.regs == REGS_NONE:
            where = "from a callback registered without register access"
        else:
            where = "from a callback registered with QEMU_PLUGIN_CB_R_REGS"
        flag = "QEMU_PLUGIN_CB_RW_REGS" if write else "QEMU_PLUGIN_CB_R_REGS (or RW)"
        raise QppUsageError(f"cannot {what} registers {where}: register the callback with {flag}")

    def read_register(self, reg_id: int) -> int:
        self.check_regs(False)
        value = self.uc.reg_read(reg_id)
        if not isinstance(value, int):
            raise QppUsageError(f"register {reg_id} has no plain integer value ({value!r})")
        return value

    def write_register(self, reg_id: int, value: int) -> None:
        self.check_regs(True)
        self.uc.reg_write(reg_id, value)
