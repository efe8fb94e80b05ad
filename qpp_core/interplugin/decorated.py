"""``@qpp_callback(...)`` at module level: recorded when the module runs, bound at install.

A plugin module runs once per process, and not always inside a run: ``qpp help`` and
``qpp list --check`` import it with no session, and a second in-process run finds it
already imported. So a module-level decorator only *records* the registration here, keyed
by the function's module; the loader binds the records of a plugin's package right after
its ``qemu_plugin_install``, in every run, owned by that plugin (so uninstalling or
disabling it removes them). Functions decorated inside a function body (``install``, a
hook) and code outside plugins with a session active register at once, as
``qemu_plugin_reg_callback`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qpp_core.session import LoadedPlugin, Session


@dataclass(frozen=True)
class Decorated:
    """One recorded ``@qpp_callback(plugin, callback)`` of a module-level function."""

    module: str
    plugin: str
    callback: str
    function: Callable[..., Any]
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


#: (module, qualname, plugin, callback) -> record; a reloaded module replaces its records
_records: dict[tuple[str, str, str, str], Decorated] = {}


def is_module_level(function: Callable[..., Any]) -> bool:
    qualname = getattr(function, "__qualname__", "")
    return bool(qualname) and "<locals>" not in qualname and "." not in qualname


def record(entry: Decorated) -> None:
    qualname = getattr(entry.function, "__qualname__", repr(entry.function))
    _records[(entry.module, qualname, entry.plugin, entry.callback)] = entry


def records_for(module: str) -> list[Decorated]:
    """The records of ``module``'s top-level package (the plugin's own code), in order."""
    package = module.partition(".")[0]
    return [
        entry
        for entry in _records.values()
        if entry.module == package or entry.module.startswith(package + ".")
    ]


def bind(session: Session, plugin: LoadedPlugin) -> None:
    """Register ``plugin``'s recorded functions in ``session``, owned by ``plugin``."""
    for entry in records_for(plugin.spec.module):
        session.callbacks.register(
            entry.plugin,
            entry.callback,
            entry.function,
            plugin,
            before=entry.before,
            after=entry.after,
        )
