"""Global events: who listens, delivering an event to them, and what a failing plugin costs.

A global event (``vcpu_init``, ``tb_trans``, ``syscall`` ...) reaches both pluggy
hookimpls and callbacks registered through ``qemu_plugin_register_*``, newest plugin
first. An exception from a plugin callback becomes a
:class:`~qpp_core.errors.PluginRuntimeError` naming the plugin, the event and the guest
pc; with ``on_plugin_error="stop"`` the machine stops and ``machine.run()`` raises it, with
``"continue"`` the error is logged and only that plugin is disabled. That holds for any
exception, ``SystemExit`` and ``KeyboardInterrupt`` included (qpp's own SIGINT handler
never raises into a plugin, so a KeyboardInterrupt there is the plugin's).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from qpp_core.errors import PluginRuntimeError, QppError, QppUsageError
from qpp_core.instrument.handles import DisconType
from qpp_core.instrument.state import HOOK_NAMES, Listener, State
from qpp_core.interplugin.blame import culprit
from qpp_core.machine.hostsig import HostSignalInterrupt
from qpp_core.session import LoadedPlugin, exception_text, running_plugin


class EventsMixin(State):
    """Registration, listeners and delivery of global events; plugin errors."""

    def register_global(
        self,
        event: str,
        plugin: LoadedPlugin,
        cb: Callable[..., Any],
        *,
        discon: DisconType | None = None,
    ) -> None:
        """Register ``cb`` for a global event on behalf of ``plugin`` (one per plugin)."""
        if not callable(cb):
            raise QppUsageError(f"{plugin.name}: the {event} callback must be callable")
        self._registered[event][plugin.id] = (plugin, cb)
        if discon is not None:
            self._discon_types[plugin.id] = discon
        self._own(plugin)
        if event == "vcpu_init" and self.started and not self.finished:
            for vcpu in self.vcpus_live:
                self._call(plugin, "vcpu_init", cb, plugin.id, vcpu)
        if event == "tb_trans" and self.started:
            self.flush_all("a translation callback was registered")
        self._sync_hooks()

    def _own(self, plugin: LoadedPlugin) -> None:
        if plugin.id not in self._owners:
            self._owners.add(plugin.id)
            self.session.add_teardown(plugin, lambda: self.drop_plugin(plugin))

    def drop_plugin(self, plugin: LoadedPlugin, *, reason: str = "uninstall") -> None:
        """Remove everything ``plugin`` registered here, at once.

        Used by uninstall (teardown list and ``session.on_uninstall``), by reset, and when
        a plugin is disabled after an error. Its per-block instrumentation is cut out of
        the compiled plans in place, so the other plugins keep exact counts even inside
        the block that is running now (no flush needed, unlike QEMU).
        """
        if reason == "uninstall":
            self._gone.add(plugin.id)
        for table in self._registered.values():
            table.pop(plugin.id, None)
        self._discon_types.pop(plugin.id, None)
        self._purge(plugin)
        self._sync_hooks()

    def _on_uninstall(self, plugin: LoadedPlugin) -> None:
        self.drop_plugin(plugin)

    def reset_plugin(self, plugin: LoadedPlugin) -> None:
        """``qemu_plugin_reset``: forget the plugin's callbacks; it may register anew."""
        self.drop_plugin(plugin, reason="reset")

    reset = reset_plugin

    def refresh(self) -> None:
        """Re-evaluate the hooks after plugins were added to or removed from ``pm``.

        A newly loaded plugin that listens to translations gets every block announced
        again (QEMU flushes the translation cache for the same reason).
        """
        had_block = self._block_hook is not None
        self._sync_hooks()
        if self.started and had_block and self._wants("tb_trans"):
            self.flush_all("plugins changed")

    # --- listeners and delivery ------------------------------------------------------------

    def _listeners(self, event: str) -> list[Listener]:
        """(plugin, function, is_hookimpl) for an event, newest plugin first."""
        found: list[tuple[int, int, LoadedPlugin | None, Callable[..., Any], bool]] = []
        hook_name = HOOK_NAMES[event]
        if hook_name is not None:
            for impl in getattr(self.session.pm.hook, hook_name).get_hookimpls():
                owner = self.session.owner_of(impl.plugin)
                if owner is not None and (owner.disabled or owner.id in self._gone):
                    continue
                order = owner.id if owner is not None else 1 << 30
                found.append((order, 0, owner, _impl_caller(impl), True))
        for pid, (plugin, cb) in self._registered[event].items():
            if not plugin.disabled:
                found.append((pid, 1, plugin, cb, False))
        found.sort(key=lambda item: (-item[0], item[1]))
        return [(p, fn, is_impl) for _, _, p, fn, is_impl in found]

    def _wants(self, event: str) -> bool:
        return bool(self._listeners(event))

    def _dispatch(
        self,
        event: str,
        kwargs: dict[str, Any],
        args: tuple[Any, ...],
        *,
        first_result: bool = False,
    ) -> Any:
        """Deliver a global event: hookimpls get ``kwargs``, registered callbacks
        ``(id, *args)``. With ``first_result``, stop at the first non-None result."""
        for plugin, fn, is_impl in self._listeners(event):
            if is_impl:
                result = self._call(plugin, event, fn, kwargs)
            else:
                assert plugin is not None
                result = self._call(plugin, event, fn, plugin.id, *args)
            if first_result and result is not None:
                return result
        return None

    def _call(
        self, plugin: LoadedPlugin | None, event: str, fn: Callable[..., Any], *args: Any
    ) -> Any:
        self._in_event += 1
        try:
            with running_plugin(plugin):
                return fn(*args)
        except BaseException as exc:
            self._plugin_failed(plugin, event, exc)
            return None
        finally:
            self._in_event -= 1

    # --- errors ----------------------------------------------------------------------------

    def _plugin_failed(self, plugin: LoadedPlugin | None, event: str, exc: BaseException) -> None:
        """A plugin callback raised: raise the run-stopping error, or disable the plugin."""
        if isinstance(exc, HostSignalInterrupt):
            raise exc  # not the plugin's: a host signal ends the guest (machine.hostsig)
        name = plugin.name if plugin is not None else "<unknown plugin>"
        try:
            pc = f"{self._read_pc():#x}"
        except Exception:  # pragma: no cover - unicorn closed
            pc = "?"
        where = f"in {event} at guest pc {pc}"
        blame = culprit(exc)
        guilty = self.session.culprit(plugin, exc)
        if blame is not None and guilty is not None and guilty is not plugin:
            # a function ``guilty`` registered on a QPP callback that ``plugin`` ran
            where = f"{blame.where()} (run by {name} {where})"
            name = guilty.name
        error: QppError
        if isinstance(exc, QppError):
            error = type(exc)(f"plugin {name} {where}: {exc}")
        else:
            error = PluginRuntimeError(f"plugin {name} raised {where}: {exception_text(exc)}")
        error.__cause__ = exc
        if self.on_plugin_error == "stop" or guilty is None:
            raise error
        self.session.log.error(f"{error} (plugin disabled, the run goes on)")
        self.disable_plugin(guilty)

    def disable_plugin(self, plugin: LoadedPlugin) -> None:
        """Stop delivering anything to ``plugin``: events, instrumentation and the
        functions it registered on QPP callbacks (it stays loaded: its exports and the
        callbacks it created still exist for the plugins that use it)."""
        plugin.disabled = True
        self.drop_plugin(plugin, reason="disabled after an error")
        self.session.callbacks.disable(plugin)

    def _hook_failed(self, exc: BaseException) -> None:
        """Last resort inside a raw hook: stop the machine with the error."""
        with contextlib.suppress(BaseException):  # nothing may reach ctypes
            self.machine.stop(exc)


def _impl_caller(impl: Any) -> Callable[[dict[str, Any]], Any]:
    names = tuple(impl.argnames)
    function = impl.function

    def call(kwargs: dict[str, Any]) -> Any:
        return function(*(kwargs[n] for n in names))

    return call
