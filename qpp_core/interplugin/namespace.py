"""The ``qpp`` namespace: ``qpp.<plugin>_<func>_qpp`` and ``qpp.<plugin>.<func>``.

``from qpp_core import qpp`` gives the importing plugin *its own* namespace (qpp knows which
plugin it is importing), so the ``uses`` policy is exact:

* a plugin sees the exports of the plugins it declares in ``uses`` (they are loaded before
  it) and its own. Another plugin's exports are not there even when that plugin happens
  to be loaded, because the call would break for a user who does not select it; the error
  says which ``uses`` entry to add;
* code that is not a plugin (scripts, tests, the REPL) gets a namespace of every loaded
  plugin's exports.

Speed: a namespace is a plain module object, filled in whenever a plugin is loaded or
uninstalled, with no module ``__getattr__``. CPython specialises attribute reads on such
modules, so ``qpp.qpp_srv_do_add_qpp(0)`` costs about what a direct call costs (a module
``__getattr__``, or any class with one, would forbid that and double the cost). A name that
is not there raises Python's ``AttributeError``; qpp turns it into a precise message
(:func:`explain`) wherever it reports a plugin's failure, and ``qpp.plugin(name)`` and
``qpp.typed(Protocol)`` check eagerly with the same messages.
"""

from __future__ import annotations

import types
import weakref
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from qpp_core.errors import QppUsageError
from qpp_core.session import LoadedPlugin, Session, current_session

T = TypeVar("T")

_SUFFIX = "_qpp"
_METHODS = ("typed", "plugin")


class QppModule(Protocol):
    """The static type of ``qpp`` (the module :func:`namespace_for` gives): its methods.

    The ``qpp.<plugin>_<func>_qpp`` and ``qpp.<plugin>`` names are made at run time and
    left out on purpose: under mypy a plugin takes the typed route, ``qpp.typed(Protocol)``.
    """

    def typed(self, protocol: Callable[..., T]) -> T: ...

    def plugin(self, name: str) -> types.ModuleType: ...


class QppNamespace:
    """Keeps one caller's namespace module in step with the loaded plugins."""

    def __init__(self, caller: str | None = None) -> None:
        self.caller = caller
        self.module = types.ModuleType("qpp", f"QPP namespace of {caller or 'non-plugin code'}")
        self.module.__dict__.update(typed=self.typed, plugin=self.plugin, _qpp_resolver=self)
        self.filled: set[str] = set()
        _namespaces.add(self)

    # -- contents -----------------------------------------------------------------------

    def visible(self, session: Session) -> list[LoadedPlugin]:
        """The loaded plugins whose exports this caller may use."""
        if self.caller is None:
            return session.loaded()
        user = session.by_name.get(self.caller)
        allowed = {self.caller, *(user.spec.used_names if user else ())}
        return [p for p in session.loaded() if p.name in allowed]

    def refresh(self, session: Session | None) -> None:
        """Make the module hold exactly the visible exports (called on load/uninstall)."""
        wanted: dict[str, Any] = {}
        for plugin in self.visible(session) if session is not None else ():
            for function, value in plugin.exports.items():
                wanted[f"{plugin.name}_{function}{_SUFFIX}"] = value
            if plugin.name not in _METHODS and not plugin.name.startswith("_"):
                wanted[plugin.name] = self._plugin_module(plugin)
        namespace = self.module.__dict__
        for name in self.filled - wanted.keys():
            namespace.pop(name, None)
        for name, value in wanted.items():
            if namespace.get(name) is not value:
                namespace[name] = value
        self.filled = set(wanted)

    @staticmethod
    def _plugin_module(plugin: LoadedPlugin) -> types.ModuleType:
        module = types.ModuleType(f"qpp.{plugin.name}", f"exports of plugin {plugin.name}")
        module.__dict__.update(plugin.exports)
        return module

    # -- eager, checked access ----------------------------------------------------------

    def plugin(self, name: str) -> types.ModuleType:
        """``qpp.plugin("name")``: one plugin's exports, with a precise error if unusable."""
        plugin = self._check_plugin(current_session(), name)
        return self._plugin_module(plugin)

    def typed(self, protocol: Callable[..., T]) -> T:
        """This namespace, typed as ``protocol`` (a plugin's published declarations).

        A providing plugin ships a ``typing.Protocol`` whose methods are its
        ``<plugin>_<func>_qpp`` names with their signatures (QPP's ``QPP_FUN_PROTOTYPE``);
        ``qpp.typed(QppSrvApi).qpp_srv_do_add_qpp(0)`` is then checked by mypy. Every
        declared name is checked now, so a missing export fails at install, not mid-run.
        """
        for name in dir(protocol):
            if name.endswith(_SUFFIX) and not name.startswith("_"):
                self.resolve(name)
        return self.module  # type: ignore[return-value]

    def resolve(self, name: str) -> Any:
        """The value of ``qpp.<name>``, or the :class:`QppUsageError` explaining why not."""
        if name in self.module.__dict__:
            return self.module.__dict__[name]
        session = current_session()
        if name.endswith(_SUFFIX):
            plugin, function = self._split(session, name[: -len(_SUFFIX)])
            found = self._check_plugin(session, plugin)
            listing = ", ".join(found.exports) or "nothing"
            raise QppUsageError(
                f"plugin {plugin} exports no function {function!r} (it exports: {listing})"
            )
        self._check_plugin(session, name)
        raise QppUsageError(f"qpp.{name}: use qpp.plugin({name!r}) for this plugin")

    # -- diagnosis ----------------------------------------------------------------------

    def _split(self, session: Session, spelled: str) -> tuple[str, str]:
        """Split ``<plugin>_<func>`` by the longest loaded or installed plugin name."""
        candidates = [*session.by_name, *sorted(_installed_names())]
        for name in sorted(candidates, key=len, reverse=True):
            if spelled.startswith(name + "_"):
                return name, spelled[len(name) + 1 :]
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
        caller = self.caller
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


_namespaces: weakref.WeakSet[QppNamespace] = weakref.WeakSet()
_by_caller: dict[str | None, QppNamespace] = {}


def namespace_for(caller: str | None) -> types.ModuleType:
    """The namespace a given plugin (or non-plugin code, ``None``) should use."""
    resolver = _by_caller.get(caller)
    if resolver is None:
        resolver = _by_caller[caller] = QppNamespace(caller)
        from qpp_core import session as session_module

        resolver.refresh(session_module._current)
    return resolver.module


def refresh_all(session: Session) -> None:
    """Bring every namespace in step with ``session``'s loaded plugins."""
    for resolver in list(_namespaces):
        resolver.refresh(session)


def explain(error: BaseException) -> QppUsageError | None:
    """The QPP diagnosis of an ``AttributeError`` raised by a ``qpp`` namespace, if it is one."""
    if not isinstance(error, AttributeError) or error.name is None:
        return None
    target = getattr(error, "obj", None)
    resolver = getattr(target, "_qpp_resolver", None) if target is not None else None
    if not isinstance(resolver, QppNamespace):
        return None
    try:
        resolver.resolve(error.name)
    except QppUsageError as diagnosis:
        return diagnosis
    return None


def _installed_names() -> set[str]:
    from qpp_core.discovery.finder import installed_plugins

    return set(installed_plugins().names())
