"""Who listens to which global event: pluggy hookimpls and ``qemu_plugin_register_*``
registrations, newest plugin first.

The registry outlives the machine: what plugins registered globally stays when the guest
execs another program (the instrumentation layer is rebuilt around it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument.handles import DisconType
from qpp_core.session import LoadedPlugin, Session

#: events a plugin can listen to globally, and their hookspec names
HOOK_NAMES: dict[str, str | None] = {
    "vcpu_init": "qemu_plugin_vcpu_init",
    "vcpu_exit": "qemu_plugin_vcpu_exit",
    "tb_trans": "qemu_plugin_vcpu_tb_trans",
    "syscall": "qemu_plugin_vcpu_syscall",
    "syscall_filter": "qemu_plugin_vcpu_syscall_filter",
    "syscall_ret": "qemu_plugin_vcpu_syscall_ret",
    "flush": "qemu_plugin_flush",
    "exec": "qpp_guest_exec",
    "signal": "qpp_signal_delivered",
    "signal_return": "qpp_signal_returned",
    "discon": None,
}

#: (plugin, function, is_hookimpl): one listener of a global event
Listener = tuple[LoadedPlugin | None, Callable[..., Any], bool]


class Registry:
    """The global registrations of one session's plugins (one callback per plugin and
    event, as in QEMU) and the listeners they make."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.registered: dict[str, dict[int, tuple[LoadedPlugin, Callable[..., Any]]]] = {
            name: {} for name in HOOK_NAMES
        }
        #: the discontinuity kinds each ``discon`` listener asked for
        self.discon_types: dict[int, DisconType] = {}
        #: plugins whose teardown knows about this layer
        self.owners: set[int] = set()
        #: plugins uninstalled (pluggy still lists their hooks while teardown runs)
        self.gone: set[int] = set()

    def add(
        self,
        event: str,
        plugin: LoadedPlugin,
        cb: Callable[..., Any],
        discon: DisconType | None = None,
    ) -> None:
        self.registered[event][plugin.id] = (plugin, cb)
        if discon is not None:
            self.discon_types[plugin.id] = discon

    def forget(self, plugin: LoadedPlugin, *, gone: bool) -> None:
        """Drop every global registration of ``plugin`` (``gone``: it is uninstalled)."""
        if gone:
            self.gone.add(plugin.id)
        for table in self.registered.values():
            table.pop(plugin.id, None)
        self.discon_types.pop(plugin.id, None)

    def listeners(self, event: str) -> list[Listener]:
        """(plugin, function, is_hookimpl) for an event, newest plugin first."""
        found: list[tuple[int, int, LoadedPlugin | None, Callable[..., Any], bool]] = []
        hook_name = HOOK_NAMES[event]
        if hook_name is not None:
            for impl in getattr(self.session.pm.hook, hook_name).get_hookimpls():
                owner = self.session.owner_of(impl.plugin)
                if owner is not None and (owner.disabled or owner.id in self.gone):
                    continue
                order = owner.id if owner is not None else 1 << 30
                found.append((order, 0, owner, _impl_caller(impl), True))
        for pid, (plugin, cb) in self.registered[event].items():
            if not plugin.disabled:
                found.append((pid, 1, plugin, cb, False))
        found.sort(key=lambda item: (-item[0], item[1]))
        return [(p, fn, is_impl) for _, _, p, fn, is_impl in found]

    def wants(self, event: str) -> bool:
        return bool(self.listeners(event))


def _impl_caller(impl: Any) -> Callable[[dict[str, Any]], Any]:
    names = tuple(impl.argnames)
    function = impl.function

    def call(kwargs: dict[str, Any]) -> Any:
        return function(*(kwargs[n] for n in names))

    return call
