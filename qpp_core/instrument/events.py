"""Delivering global events (``vcpu_init``, ``tb_trans``, ``syscall`` ...) to their
listeners: pluggy hookimpls get keyword arguments, registered callbacks ``(id, *args)``;
a listener's exception goes to the plugin-error policy (:mod:`.failures`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument.context import Context
from qpp_core.instrument.failures import Failures
from qpp_core.instrument.registry import Registry
from qpp_core.session import LoadedPlugin, running_plugin


class EventBus:
    """Delivery of global events for one machine (the listeners are the registry's)."""

    def __init__(self, registry: Registry, ctx: Context, failures: Failures) -> None:
        self.registry = registry
        self.ctx = ctx
        self.failures = failures

    def wants(self, event: str) -> bool:
        return self.registry.wants(event)

    def dispatch(
        self,
        event: str,
        kwargs: dict[str, Any],
        args: tuple[Any, ...],
        *,
        first_result: bool = False,
        regs: int | None = None,
    ) -> Any:
        """Deliver a global event: hookimpls get ``kwargs``, registered callbacks
        ``(id, *args)``. With ``first_result``, stop at the first non-None result; with
        ``regs``, the listeners run with that register access (restored after)."""
        ctx = self.ctx
        if regs is not None:
            saved, ctx.regs = ctx.regs, regs
        try:
            for plugin, fn, is_impl in self.registry.listeners(event):
                if is_impl:
                    result = self.call(plugin, event, fn, kwargs)
                else:
                    assert plugin is not None
                    result = self.call(plugin, event, fn, plugin.id, *args)
                if first_result and result is not None:
                    return result
            return None
        finally:
            if regs is not None:
                ctx.regs = saved

    def call(
        self, plugin: LoadedPlugin | None, event: str, fn: Callable[..., Any], *args: Any
    ) -> Any:
        """Run one listener as ``plugin``; its exception goes to the policy."""
        ctx = self.ctx
        ctx.in_event += 1
        try:
            with running_plugin(plugin):
                return fn(*args)
        except BaseException as exc:
            self.failures.plugin_failed(plugin, event, exc)
            return None
        finally:
            ctx.in_event -= 1
