"""The ``qpp`` namespace: ``qpp.<plugin>_<func>_qpp`` and ``qpp.<plugin>.<func>``.

``from qpp_core import qpp`` gives the importing plugin *its own* proxy (qpp knows which
plugin it is importing), so the ``uses`` policy can be exact:

* a plugin may call the exports of the plugins it declares in ``uses`` (they are loaded
  before it) and its own; calling any other plugin's export is an error that says which
  ``uses`` entry to add, even when that plugin happens to be loaded, because the call would
  break for a user who does not select it;
* code that is not a plugin (scripts, tests, the REPL) gets the unrestricted proxy.

The first lookup of a name resolves it (with errors that say what exists) and stores the
function in the proxy's ``__dict__``; later lookups are plain attribute reads, so a call
through the proxy costs about what a direct call costs. Uninstalling a plugin drops what
any proxy cached from it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from qpp_core.errors import QppUsageError
from qpp_core.session import LoadedPlugin, Session, current_session

T = TypeVar("T")

_SUFFIX = "_qpp"


class PluginExports:
    """``qpp.<plugin>``: one plugin's exports as attributes (``qpp.qpp_srv.do_add``)."""

    def __init__(self, proxy: QppNamespace, plugin: str) -> None:
        self._proxy = proxy
        self._plugin = plugin

    def __getattr__(self, function: str) -> Callable[..., Any]:
        if function.startswith("__"):
            raise AttributeError(function)
        resolved = self._proxy._resolve_pair(current_session(), self._plugin, function)
        self.__dict__[function] = resolved
        return resolved

    def __dir__(self) -> list[str]:
        plugin = current_session().by_name.get(self._plugin)
        return sorted(plugin.exports) if plugin else []

    def __repr__(self) -> str:
        return f"<qpp exports of {self._plugin}>"


class QppNamespace:
    """Resolves QPP names for one caller (a plugin, or ``None`` for non-plugin code)."""

    def __init__(self, caller: str | None = None) -> None:
        self.__dict__["_caller"] = caller
        self.__dict__["_owners"] = {}
        _namespaces.add(self)

    # -- lookups ------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        session = current_session()
        if name.endswith(_SUFFIX):
            plugin, function = self._split(session, name[: -len(_SUFFIX)])
            resolved: Any = self._resolve_pair(session, plugin, function)
        else:
            self._check_plugin(session, name)
            plugin, resolved = name, PluginExports(self, name)
        self.__dict__[name] = resolved
        self._owners[name] = plugin
        return resolved

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("the qpp namespace is read-only; export functions with @export")

    def plugin(self, name: str) -> PluginExports:
        """``qpp.plugin("name")``: the per-plugin form for any plugin name."""
        self._check_plugin(current_session(), name)
        return PluginExports(self, name)

    def typed(self, protocol: type[T]) -> T:
        """This namespace, typed as ``protocol`` (a plugin's published declarations).

        A providing plugin ships a ``typing.Protocol`` whose methods are its
        ``<plugin>_<func>_qpp`` names with their signatures (QPP's ``QPP_FUN_PROTOTYPE``);
        ``qpp.typed(QppSrvApi).qpp_srv_do_add_qpp(0)`` is then checked by mypy. Every
        declared name is resolved now, so a missing export fails at install, not mid-run.
        """
        for name in dir(protocol):
            if name.endswith(_SUFFIX) and not name.startswith("_"):
                getattr(self, name)
        return self  # type: ignore[return-value]

    # -- resolution ---------------------------------------------------------------------

    def _split(self, session: Session, spelled: str) -> tuple[str, str]:
        """Split ``<plugin>_<func>`` using the loaded plugins (load-time checks make it unique)."""
        for plugin in session.by_name.values():
            prefix = plugin.name + "_"
            if spelled.startswith(prefix) and spelled[len(prefix) :] in plugin.exports:
                return plugin.name, spelled[len(prefix) :]
        for plugin in session.by_name.values():
            prefix = plugin.name + "_"
            if spelled.startswith(prefix):
                return plugin.name, spelled[len(prefix) :]
        installed = _installed_names()
        for name in sorted(installed, key=len, reverse=True):
            if spelled.startswith(name + "_"):
                raise QppUsageError(
                    f"{spelled}{_SUFFIX}: plugin {name} is installed but not loaded; "
                    f"select it with -p {name} or declare it in your plugin's uses"
                )
        raise QppUsageError(
            f"{spelled}{_SUFFIX}: no plugin of that name is loaded or installed "
            f"(loaded: {', '.join(session.by_name) or 'none'}; see `qpp list`)"
        )

    def _check_plugin(self, session: Session, name: str) -> LoadedPlugin:
        plugin = session.by_name.get(name)
        if plugin is None:
            if name in _installed_names():
                raise QppUsageError(
                    f"plugin {name} is installed but not loaded; select it with -p {name} "
                    "or declare it in your plugin's uses"
                )
            raise QppUsageError(
                f"no plugin {name} is installed (loaded: {', '.join(session.by_name) or 'none'}"
                "; see `qpp list`)"
            )
        caller = self._caller
        if caller is not None and caller != name:
            user = session.by_name.get(caller)
            if user is not None and name not in user.spec.used_names:
                raise QppUsageError(
                    f"plugin {caller} calls plugin {name} without declaring that it uses it; "
                    f'add "{caller}.{name}" = "{plugin.spec.dist_name.replace("-", "_")}" to '
                    f'[project.entry-points."qemu_plugins.uses"] of {user.spec.dist_name} '
                    "and reinstall it"
                )
        return plugin

    def _resolve_pair(self, session: Session, plugin_name: str, function: str) -> Any:
        plugin = self._check_plugin(session, plugin_name)
        try:
            return plugin.exports[function]
        except KeyError:
            listing = ", ".join(plugin.exports) or "nothing"
            raise QppUsageError(
                f"plugin {plugin_name} exports no function {function!r} (it exports: {listing})"
            ) from None

    def _forget(self, plugin: str) -> None:
        for name, owner in list(self._owners.items()):
            if owner == plugin:
                del self.__dict__[name]
                del self._owners[name]

    def __repr__(self) -> str:
        who = self._caller or "non-plugin code"
        return f"<qpp namespace for {who}>"


_namespaces: weakref.WeakSet[QppNamespace] = weakref.WeakSet()
_by_caller: dict[str | None, QppNamespace] = {}


def namespace_for(caller: str | None) -> QppNamespace:
    """The proxy a given plugin (or non-plugin code, ``None``) should use."""
    proxy = _by_caller.get(caller)
    if proxy is None:
        proxy = _by_caller[caller] = QppNamespace(caller)
    return proxy


def forget_plugin(plugin: LoadedPlugin) -> None:
    """Drop every cached lookup that resolved into ``plugin`` (it is going away)."""
    for proxy in list(_namespaces):
        proxy._forget(plugin.name)


def _installed_names() -> set[str]:
    from qpp_core.discovery.finder import installed_plugins

    return set(installed_plugins().names())
