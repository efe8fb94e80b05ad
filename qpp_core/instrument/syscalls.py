"""System calls as plugin events: ``syscall``, ``syscall_filter``, ``syscall_ret`` and the
``discon`` (exception) transitions around them, seen through the machine's observer."""

from __future__ import annotations

from qpp_core.instrument.handles import DisconType
from qpp_core.instrument.state import REGS_RW, State


class SyscallsMixin(State):
    """What happens when the guest enters and leaves a system call."""

    def syscall_enter(self, num: int, args: tuple[int, ...]) -> int | None:
        words = tuple(args[:8]) + (0,) * (8 - len(args[:8]))
        saved, self.regs = self.regs, REGS_RW
        try:
            self._flush_it_pending()
            vcpu = self.vcpu_index
            kwargs = {"vcpu_index": vcpu, "num": num, "args": words}
            if self.exiting:
                return 0  # the guest is gone: the call must not happen (its result is unused)
            self._dispatch("syscall", kwargs, (vcpu, num, *words))
            if self.exiting:
                return 0
            result = self._dispatch(
                "syscall_filter", kwargs, (vcpu, num, *words), first_result=True
            )
            if self.exiting:
                return 0
            if self._discon_types:
                pc = self._read_pc()
                self._pending_discon = (pc - self._decoding.trap_size(self._is_thumb()), pc)
            return None if result is None else int(result)
        except BaseException as exc:
            self._hook_failed(exc)
            return -38  # ENOSYS; the run stops anyway
        finally:
            self.regs = saved

    def syscall_leave(self, num: int, ret: int) -> None:
        if self.exiting:
            return
        saved, self.regs = self.regs, REGS_RW
        try:
            vcpu = self.vcpu_index
            self._dispatch(
                "syscall_ret", {"vcpu_index": vcpu, "num": num, "ret": ret}, (vcpu, num, ret)
            )
            if self._pending_discon is not None:
                from_pc, _ = self._pending_discon
                self._pending_discon = None
                to_pc = self._read_pc()
                for plugin, fn, _impl in self._listeners("discon"):
                    assert plugin is not None
                    wanted = self._discon_types.get(plugin.id, DisconType.ALL)
                    if wanted & DisconType.EXCEPTION:
                        self._call(
                            plugin, "discon", fn, plugin.id, 0, DisconType.EXCEPTION, from_pc, to_pc
                        )
        except BaseException as exc:
            self._hook_failed(exc)
        finally:
            self.regs = saved


class SyscallObserver:
    """What the machine calls around each system call (installed only when needed)."""

    def __init__(self, instr: State) -> None:
        self.instr = instr

    def enter(self, num: int, args: tuple[int, ...]) -> int | None:
        return self.instr.syscall_enter(num, args)

    def leave(self, num: int, ret: int) -> None:
        self.instr.syscall_leave(num, ret)
