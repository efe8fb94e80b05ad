"""The ``qemu_plugin_*`` functions of the plugin lifecycle and of QPP.

These keep the names and the argument order of QEMU's ``qemu-plugin.h`` and of the QPP
proposal's ``plugin-qpp.h``, so that a C plugin ports line by line; where Python reads
better there is a second form beside them (:func:`qpp_callback`, :class:`QppCallback`'s
``run``). The instrumentation functions (``qemu_plugin_register_vcpu_*`` ...) live in
:mod:`qpp_core.instrument.api`; :mod:`qpp_core` re-exports both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from qpp_core.errors import QppUsageError
from qpp_core.interplugin import decorated
from qpp_core.interplugin.callbacks import CallbackFunction, QppCallback
from qpp_core.loading.args import Arg, bool_parse, describe
from qpp_core.session import (
    LoadedPlugin,
    PluginId,
    active_plugin,
    current_session,
    has_session,
)

F = TypeVar("F", bound=Callable[..., Any])


# -- lifecycle ----------------------------------------------------------------------------


def qemu_plugin_outs(text: str) -> None:
    """Write to the plugin log (stderr, or the ``-D FILE``); no newline is added."""
    current_session().log.outs(text)


def qemu_plugin_bool_parse(name: str, value: str) -> bool:
    """Parse ``on|off|true|false|yes|no``; raise ``ValueError`` naming the argument."""
    return bool_parse(name, value)


def qemu_plugin_register_atexit_cb(
    id: PluginId, cb: Callable[[PluginId, Any], None], udata: Any = None
) -> None:
    """Call ``cb(id, udata)`` when the run is over (after the guest exited or crashed)."""
    current_session().plugin(id).atexit.append((cb, udata))


def qemu_plugin_uninstall(id: PluginId, cb: Callable[[PluginId], None] | None = None) -> None:
    """Remove the plugin and everything it registered; then call ``cb(id)`` if given."""
    session = current_session()
    session.uninstall(session.plugin(id))
    if cb is not None:
        cb(id)


def qemu_plugin_reset(id: PluginId, cb: Callable[[PluginId], None] | None = None) -> None:
    """Drop the plugin's instrumentation (its callbacks and hooks) but keep it loaded."""
    session = current_session()
    plugin = session.plugin(id)
    if session.instrumentation is not None:
        session.instrumentation.reset(plugin)
    if cb is not None:
        cb(id)


def qemu_plugin_name(id: PluginId) -> str:
    """The name of the plugin with this id."""
    return current_session().plugin(id).name


# -- QPP callbacks ------------------------------------------------------------------------


def qemu_plugin_create_callback(id: PluginId, name: str) -> QppCallback:
    """Create the QPP callback ``name`` owned by plugin ``id``; return its handle.

    The handle's ``run(evdata, udata)`` is the fast way for the owner to run it.
    """
    session = current_session()
    return session.callbacks.create(session.plugin(id), name)


def qemu_plugin_run_callback(
    id: PluginId, name: str, evdata: Any = None, udata: Any = None
) -> bool:
    """Run plugin ``id``'s callback ``name``: every registered function, in order."""
    session = current_session()
    session.callbacks.get_own(session.plugin(id), name).run(evdata, udata)
    return True


def _registrant() -> LoadedPlugin | None:
    return active_plugin()


def qemu_plugin_reg_callback(
    plugin_name: str,
    cb_name: str,
    function: CallbackFunction,
    *,
    before: Iterable[str] = (),
    after: Iterable[str] = (),
) -> None:
    """Register ``function(evdata, udata)`` on ``plugin_name``'s callback ``cb_name``.

    The registration belongs to the plugin whose code is running (its import, install or
    hook) and disappears when that plugin is uninstalled. ``before``/``after`` name
    plugins whose functions on this callback this one must run before or after
    (DynamoRIO drmgr's ordering; conflicting constraints are an error).
    """
    session = current_session()
    session.callbacks.register(
        plugin_name, cb_name, function, _registrant(), before=before, after=after
    )


def qemu_plugin_unreg_callback(plugin_name: str, cb_name: str, function: CallbackFunction) -> bool:
    """Remove the first registration of ``function``; ``False`` if there was none."""
    return current_session().callbacks.unregister(plugin_name, cb_name, function)


def qpp_callback(
    plugin_name: str, cb_name: str, *, before: Iterable[str] = (), after: Iterable[str] = ()
) -> Callable[[F], F]:
    """Decorator form of :func:`qemu_plugin_reg_callback`.

    On a plugin module's top-level function it records the registration, which is made
    when the plugin is installed, in every run (so importing the module needs no session:
    ``qpp help`` and ``qpp list --check`` work). Elsewhere it registers at once.
    """
    before_t = (before,) if isinstance(before, str) else tuple(before)
    after_t = (after,) if isinstance(after, str) else tuple(after)

    def decorate(function: F) -> F:
        plugin = active_plugin()
        importing = plugin is not None and not plugin.installed
        if decorated.is_module_level(function) and (importing or not has_session()):
            decorated.record(
                decorated.Decorated(
                    getattr(function, "__module__", "") or "",
                    plugin_name,
                    cb_name,
                    function,
                    before_t,
                    after_t,
                )
            )
        else:
            qemu_plugin_reg_callback(plugin_name, cb_name, function, before=before_t, after=after_t)
        return function

    return decorate


def qpp_callbacks_of(plugin_name: str) -> list[str]:
    """The names of the QPP callbacks a loaded plugin has created."""
    session = current_session()
    if plugin_name not in session.by_name:
        raise QppUsageError(f"plugin {plugin_name} is not loaded")
    return session.callbacks.names_of(plugin_name)


def describe_args(declared: Mapping[str, Arg]) -> str:
    """``key=<type, default X>, ...`` for a plugin's ``qemu_plugin_args``, for its messages."""
    return describe(declared)
