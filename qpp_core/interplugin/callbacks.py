"""QPP callbacks: named events a plugin creates and runs, and others register on.

Each created callback is a pluggy hook, created at run time and namespaced by its owner
(``pm.hook["qpp_srv.my_on_exit"]``, so two plugins may each create ``on_exit``). Its
specification is ``(evdata, udata)``, QPP's ``cb_func_t``; a registered function may take
both, either or neither, by those names, and pluggy checks that when it is registered.

Semantics (the proposal's, with its bugs fixed):

* functions run in registration order, unless a registration asks to run ``before`` or
  ``after`` other plugins' functions (:mod:`qpp_core.interplugin.ordering`); the same
  function registered twice runs twice;
* an exception from a registered function is blamed on the plugin that registered it,
  not on the callback's owner (:mod:`qpp_core.interplugin.blame`);
* registering on a plugin that is not loaded, or on a callback it did not create, is an
  error naming what exists; creating a callback twice is an error; running a callback its
  plugin did not create is an error; unregistering removes the first matching registration
  and returns ``False`` when there is nothing to remove;
* a run sees the registrations that existed when it started: functions registered or
  unregistered by a running function take effect from the next run. A function may run
  callbacks itself (nested runs); endless recursion is reported as a QPP error;
* when a plugin is uninstalled, the callbacks it created (and everything registered on
  them) and every function it registered on others' callbacks disappear.

Running goes through a cached tuple of the functions, rebuilt from pluggy's hook
implementations only when registrations change, because pluggy's general call path costs
several times a plain loop and QPP callbacks may fire often.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pluggy import PluginValidationError

from qpp_core.apiversion import QPP_MIN_VERSION
from qpp_core.errors import QppUsageError
from qpp_core.interplugin.blame import mark_culprit
from qpp_core.interplugin.ordering import order_registrations

if TYPE_CHECKING:
    from qpp_core.session import LoadedPlugin, Session

CallbackFunction = Callable[..., Any]

_ARGNAMES = ("evdata", "udata")
_serial = itertools.count()


class Registration:
    """The pluggy 'plugin' object holding one registered function on one callback.

    ``before``/``after`` name plugins whose registrations on the same callback this one
    must precede or follow (:mod:`qpp_core.interplugin.ordering`).
    """

    def __init__(
        self,
        hook_name: str,
        function: CallbackFunction,
        owner: str | None,
        before: tuple[str, ...] = (),
        after: tuple[str, ...] = (),
    ) -> None:
        self.hook_name = hook_name
        self.function = function
        self.owner = owner
        self.before = before
        self.after = after
        self.serial = next(_serial)
        setattr(self, hook_name, function)

    def __dir__(self) -> list[str]:
        return [self.hook_name]


def _adapt(function: CallbackFunction, argnames: tuple[str, ...]) -> CallbackFunction:
    """A callable taking ``(evdata, udata)`` positionally, for any accepted subset."""
    if argnames == _ARGNAMES:
        return function
    if argnames == ("evdata",):
        return lambda evdata, udata: function(evdata)
    if argnames == ("udata",):
        return lambda evdata, udata: function(udata)
    if argnames == ("udata", "evdata"):
        return lambda evdata, udata: function(udata, evdata)
    return lambda evdata, udata: function()


class QppCallback:
    """A created callback; the owner runs it with :meth:`run` (or ``qemu_plugin_run_callback``)."""

    def __init__(self, registry: CallbackRegistry, owner: str, name: str) -> None:
        self.registry = registry
        self.owner = owner
        self.name = name
        self.hook_name = f"{owner}.{name}"
        #: (function taking (evdata, udata), name of the plugin that registered it)
        self.functions: tuple[tuple[CallbackFunction, str | None], ...] = ()

    def rebuild(self) -> None:
        """Refresh the cached call list from pluggy's implementations, in call order."""
        caller = getattr(self.registry.session.pm.hook, self.hook_name)
        impls = caller.get_hookimpls()
        # registered with trylast, so pluggy's list is newest-first: reverse for FIFO
        fifo = [(_adapt(i.function, tuple(i.argnames)), i.plugin) for i in reversed(impls)]
        ordered = order_registrations([r for _, r in fifo], self.hook_name)
        by_registration = {id(r): f for f, r in fifo}
        self.functions = tuple((by_registration[id(r)], r.owner) for r in ordered)

    def run(self, evdata: Any = None, udata: Any = None) -> list[Any]:
        """Call every registered function, oldest registration first; return their results.

        An exception leaves with the name of the plugin that registered the function that
        raised (:func:`qpp_core.session.blame`), so that the run blames that plugin and not
        the owner of the callback, whose hook only happened to be running.
        """
        results: list[Any] = []
        owner: str | None = None
        try:
            for function, owner in self.functions:  # noqa: B007 (owner: read on error)
                results.append(function(evdata, udata))
        except RecursionError:
            raise QppUsageError(
                f"QPP callback {self.hook_name} runs itself recursively without end; a "
                "registered function probably runs the callback it is called from"
            ) from None
        except BaseException as exc:
            mark_culprit(exc, owner, self.hook_name)
            raise
        return results

    def _dead(self, evdata: Any = None, udata: Any = None) -> list[Any]:
        raise QppUsageError(f"QPP callback {self.hook_name} no longer exists (its plugin is gone)")

    def __call__(self, evdata: Any = None, udata: Any = None) -> list[Any]:
        return self.run(evdata, udata)

    def registrations(self) -> list[Registration]:
        return sorted(
            (r for r in self.registry.registrations if r.hook_name == self.hook_name),
            key=lambda r: r.serial,
        )

    def __repr__(self) -> str:
        return f"<QPP callback {self.hook_name} ({len(self.functions)} registered)>"


class CallbackRegistry:
    """All QPP callbacks of a session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.callbacks: dict[str, QppCallback] = {}
        self.registrations: list[Registration] = []

    # -- the owner's side -------------------------------------------------------------

    def create(self, owner: LoadedPlugin, name: str) -> QppCallback:
        if owner.api_version < QPP_MIN_VERSION:
            from qpp_core.discovery.metadata import v2_hint  # only for this message

            raise QppUsageError(
                f"plugin {owner.name} targets plugin API version {owner.api_version}; "
                f"creating QPP callback {name!r} needs version >= 2: {v2_hint(owner.spec)}"
            )
        if not name.isidentifier():
            raise QppUsageError(f"QPP callback name {name!r} of {owner.name} is not an identifier")
        hook_name = f"{owner.name}.{name}"
        if hook_name in self.callbacks:
            raise QppUsageError(f"plugin {owner.name} already created QPP callback {name!r}")
        self.session.pm.add_hookspecs(_spec_class(hook_name))
        callback = QppCallback(self, owner.name, name)
        self.callbacks[hook_name] = callback
        self.session.add_teardown(owner, lambda: self.destroy(callback))
        return callback

    def destroy(self, callback: QppCallback) -> None:
        for registration in callback.registrations():
            self._remove(registration)
        callback.functions = ()
        callback.run = callback._dead  # type: ignore[method-assign]
        self.callbacks.pop(callback.hook_name, None)
        if hasattr(self.session.pm.hook, callback.hook_name):
            delattr(self.session.pm.hook, callback.hook_name)

    def get_own(self, owner: LoadedPlugin, name: str) -> QppCallback:
        callback = self.callbacks.get(f"{owner.name}.{name}")
        if callback is None:
            raise QppUsageError(
                f"plugin {owner.name} runs QPP callback {name!r} but never created it "
                f"({_closest(name, self.names_of(owner.name))}); call "
                "qemu_plugin_create_callback first"
            )
        return callback

    def names_of(self, owner: str) -> list[str]:
        return sorted(cb.name for cb in self.callbacks.values() if cb.owner == owner)

    # -- the registrant's side ----------------------------------------------------------

    def lookup(self, plugin_name: str, name: str) -> QppCallback:
        callback = self.callbacks.get(f"{plugin_name}.{name}")
        if callback is not None:
            return callback
        if plugin_name not in self.session.by_name:
            raise QppUsageError(
                f"cannot register on {plugin_name}.{name}: plugin {plugin_name} is not loaded "
                f"(loaded: {', '.join(self.session.by_name) or 'none'}); declare it in uses"
            )
        raise QppUsageError(
            f"plugin {plugin_name} has no QPP callback {name!r} "
            f"({_closest(name, self.names_of(plugin_name))})"
        )

    def register(
        self,
        plugin_name: str,
        name: str,
        function: CallbackFunction,
        registrant: LoadedPlugin | None,
        *,
        before: Iterable[str] = (),
        after: Iterable[str] = (),
    ) -> Registration:
        callback = self.lookup(plugin_name, name)
        if not callable(function):
            raise QppUsageError(
                f"cannot register {function!r} on {callback.hook_name}: not callable"
            )
        before, after = _plugin_names(before, "before"), _plugin_names(after, "after")
        if not inspect.isroutine(function):
            target = function
            function = lambda evdata, udata: target(evdata, udata)  # noqa: E731
        registration = Registration(
            callback.hook_name,
            function,
            registrant.name if registrant is not None else None,
            before,
            after,
        )
        try:
            self.session.pm.register(registration, name=f"qpp-cb-{registration.serial}")
        except PluginValidationError:
            raise QppUsageError(_signature_message(registrant, function, callback)) from None
        self.registrations.append(registration)
        try:
            callback.rebuild()
        except QppUsageError:
            self._remove(registration)
            raise
        self.session.add_teardown(registrant, lambda: self._remove(registration))
        return registration

    def disable(self, plugin: LoadedPlugin) -> None:
        """Drop every function ``plugin`` registered (it was disabled after an error)."""
        for registration in [r for r in self.registrations if r.owner == plugin.name]:
            self._remove(registration)

    def unregister(self, plugin_name: str, name: str, function: CallbackFunction) -> bool:
        callback = self.callbacks.get(f"{plugin_name}.{name}")
        if callback is None:
            return False
        for registration in callback.registrations():
            if registration.function == function:
                self._remove(registration)
                return True
        return False

    def _remove(self, registration: Registration) -> None:
        if registration not in self.registrations:
            return
        self.registrations.remove(registration)
        if self.session.pm.is_registered(registration):
            self.session.pm.unregister(registration)
        callback = self.callbacks.get(registration.hook_name)
        if callback is not None:
            callback.rebuild()


def _plugin_names(names: Iterable[str], what: str) -> tuple[str, ...]:
    if isinstance(names, str):
        names = (names,)
    result = tuple(names)
    for name in result:
        if not isinstance(name, str) or not name.isidentifier():
            raise QppUsageError(f"{what}= takes plugin names, not {name!r}")
    return result


def _signature_message(
    registrant: LoadedPlugin | None, function: CallbackFunction, callback: QppCallback
) -> str:
    """Say who registered what with which parameters, instead of pluggy's internals."""
    who = f"plugin {registrant.name}" if registrant is not None else "a caller"
    try:
        signature = str(inspect.signature(function))
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        signature = "(...)"
    qualname = getattr(function, "__qualname__", repr(function))
    return (
        f"{who} registers {qualname}{signature} on QPP callback {callback.hook_name}, "
        "which passes (evdata, udata): the function's parameters must be those names "
        "(both, either or none)"
    )


def _spec_class(hook_name: str) -> type:
    """A one-hook specification class for ``pm.add_hookspecs``: ``hook_name(evdata, udata)``."""
    from qpp_core.hookspecs import hookspec

    def spec(evdata: Any, udata: Any) -> Any:
        """QPP callback signature: ``fn(evdata, udata)`` (cb_func_t)."""

    return type("QppCallbackSpec", (), {hook_name: staticmethod(hookspec(spec))})


#: how many callback names an error lists before it only suggests the closest ones
LIST_AT_MOST = 8


def _closest(name: str, created: list[str]) -> str:
    """What the plugin created: all of it when short, else the names closest to ``name``."""
    if not created:
        return "it created none"
    if len(created) <= LIST_AT_MOST:
        return f"it created: {', '.join(created)}"
    import difflib  # only for this message: it costs start-up

    near = difflib.get_close_matches(name, created, n=3, cutoff=0.6)
    if near:
        return f"did you mean {' or '.join(repr(n) for n in near)}? ({len(created)} callbacks)"
    return f"none of its {len(created)} callbacks is close to that name"
