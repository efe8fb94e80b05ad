"""The session: everything one emulated run holds, and the plugins loaded into it.

A :class:`Session` is what QEMU's plugin core is for one process: the pluggy plugin
manager, the loaded plugins by id and name, the QPP export and callback registries, the
plugin log and (once a guest is loaded) the machine and its instrumentation. The
``qemu_plugin_*`` functions find it through :func:`current_session`, as a C plugin's calls
find QEMU's global state.

Each loaded plugin keeps a *teardown* list: every subsystem that lets a plugin leave
something behind (a QPP callback, a registration on someone else's callback, a unicorn
hook) pushes the undo action there, so that :meth:`Session.uninstall` removes a plugin
completely, whatever it did.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple, NewType, Protocol

from qpp_core.apiversion import API_VERSION_CURRENT as API_VERSION_CURRENT
from qpp_core.apiversion import API_VERSION_MIN as API_VERSION_MIN
from qpp_core.apiversion import QPP_MIN_VERSION as QPP_MIN_VERSION
from qpp_core.errors import PluginRuntimeError, QppError, QppUsageError
from qpp_core.log import PluginLog

if TYPE_CHECKING:
    from qpp_core.discovery.metadata import PluginSpec
    from qpp_core.interplugin.callbacks import CallbackRegistry
    from qpp_core.interplugin.exports import ExportTable
    from qpp_core.loading.args import PluginArgs
    from qpp_core.plugin_manager import QppPluginManager
    from qpp_core.ports import RunMachine

PluginId = NewType("PluginId", int)


class PluginInfo(NamedTuple):
    """What ``qemu_info_t`` tells a plugin at install."""

    target_name: str
    version_min: int = API_VERSION_MIN
    version_cur: int = API_VERSION_CURRENT
    system_emulation: bool = False
    smp_vcpus: int = 1
    max_vcpus: int = 1


class LoadedPlugin:
    """A plugin imported into a session (installed once ``installed`` is true).

    Compared by identity. A plain slotted class: a dataclass's creation would cost every
    run's start-up a millisecond, plugins or not.
    """

    __slots__ = (
        "args",
        "atexit",
        "disabled",
        "exports",
        "id",
        "installed",
        "module",
        "spec",
        "teardown",
    )

    def __init__(
        self,
        id: PluginId,
        spec: PluginSpec,
        module: ModuleType,
        args: PluginArgs,
        exports: ExportTable,
    ) -> None:
        self.id = id
        self.spec = spec
        self.module = module
        self.args = args
        self.exports = exports
        self.teardown: list[Callable[[], None]] = []
        #: ``qemu_plugin_register_atexit_cb`` registrations: (callback, udata)
        self.atexit: list[tuple[Callable[..., Any], Any]] = []
        self.installed = False
        self.disabled = False

    def __repr__(self) -> str:
        return f"LoadedPlugin(id={self.id}, name={self.spec.name!r})"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def api_version(self) -> int:
        return self.spec.api_version


#: The plugin whose code qpp is running right now (its import, install or a global hook),
#: so that registrations made without an explicit id can be attributed to it.
_active_plugin: contextvars.ContextVar[LoadedPlugin | None] = contextvars.ContextVar(
    "qpp_active_plugin", default=None
)

_current: Session | None = None


def exception_text(exc: BaseException) -> str:
    """``Type: message``, or ``Type`` alone when there is no message (``sys.exit()``)."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def describe(exc: BaseException) -> str:
    """``Type: message`` of a plugin's exception, with QPP's diagnosis where it has one."""
    from qpp_core.interplugin.namespace import explain

    diagnosis = explain(exc)
    return str(diagnosis) if diagnosis is not None else exception_text(exc)


def current_session() -> Session:
    """The session of this process; plugin API calls outside a run are an error."""
    if _current is None:
        raise QppUsageError(
            "no qpp session is active: qemu_plugin_* functions work inside `qpp run` "
            "(or a qpp_core.Session activated with `with session.activate():`)"
        )
    return _current


def has_session() -> bool:
    """Whether a session is active (``qemu_plugin_*`` calls would reach one)."""
    return _current is not None


def active_plugin() -> LoadedPlugin | None:
    """The plugin whose import, install or hook qpp is running, if any."""
    return _active_plugin.get()


@contextlib.contextmanager
def running_plugin(plugin: LoadedPlugin | None) -> Iterator[None]:
    """Attribute what happens inside the block to ``plugin``."""
    token = _active_plugin.set(plugin)
    try:
        yield
    finally:
        _active_plugin.reset(token)


class InstrumentationPort(Protocol):
    """What the session and the runner drive of the instrumentation layer (a port, so
    that the session imports nothing of it)."""

    def start(self) -> None: ...
    def finish(self) -> None: ...
    def close(self) -> None: ...
    def reset(self, plugin: LoadedPlugin) -> None: ...
    def exec_into(self, machine: RunMachine) -> None: ...
    def announce_exec(self, path: str, argv: list[str], load_bias: int, entry: int) -> None: ...


class Session:
    """One run's plugin core."""

    def __init__(self, *, log: PluginLog | None = None, target_name: str = "x86_64") -> None:
        self.log = log if log is not None else PluginLog()
        self.info = PluginInfo(target_name=target_name)
        self.plugins: dict[PluginId, LoadedPlugin] = {}
        self.by_name: dict[str, LoadedPlugin] = {}
        #: set by the runner once a guest is loaded: the instrumentation layer
        self.instrumentation: InstrumentationPort | None = None
        #: set by the runner: the loaded guest's machine (the program running now)
        self.machine: RunMachine | None = None
        #: hooks for subsystems that must know when a plugin goes away (e.g. QPP proxies)
        self.on_uninstall: list[Callable[[LoadedPlugin], None]] = []
        self._next_id = 0

    @functools.cached_property
    def pm(self) -> QppPluginManager:
        """pluggy's manager (built on first use: a run without plugins needs none)."""
        from qpp_core.plugin_manager import new_plugin_manager

        return new_plugin_manager()

    @functools.cached_property
    def callbacks(self) -> CallbackRegistry:
        """The QPP callback registry (built on first use, as :attr:`pm`)."""
        from qpp_core.interplugin.callbacks import CallbackRegistry

        return CallbackRegistry(self)

    # -- activation ---------------------------------------------------------------------

    @contextlib.contextmanager
    def activate(self) -> Iterator[Session]:
        """Make this the session that ``qemu_plugin_*`` calls reach."""
        global _current
        previous, _current = _current, self
        try:
            yield self
        finally:
            _current = previous

    # -- plugins ------------------------------------------------------------------------

    def new_id(self) -> PluginId:
        self._next_id += 1
        return PluginId(self._next_id)

    def add(self, plugin: LoadedPlugin) -> None:
        self.plugins[plugin.id] = plugin
        self.by_name[plugin.name] = plugin
        self._plugins_changed()

    def _plugins_changed(self) -> None:
        from qpp_core.interplugin.namespace import refresh_all

        refresh_all(self)

    def plugin(self, id: PluginId | int) -> LoadedPlugin:
        """The loaded plugin with this id, or a :class:`QppUsageError`."""
        try:
            return self.plugins[PluginId(int(id))]
        except (KeyError, TypeError, ValueError):
            known = ", ".join(f"{p.id}={p.name}" for p in self.plugins.values()) or "none"
            raise QppUsageError(
                f"no loaded plugin has id {id!r} (loaded: {known}); pass the id your "
                "plugin received in qemu_plugin_install"
            ) from None

    def add_teardown(self, owner: LoadedPlugin | None, undo: Callable[[], None]) -> None:
        """Run ``undo`` when ``owner`` is uninstalled (nothing when there is no owner)."""
        if owner is not None:
            owner.teardown.append(undo)

    def uninstall(self, plugin: LoadedPlugin) -> None:
        """Remove every trace of ``plugin``: hooks, callbacks, registrations, exports."""
        if self.by_name.get(plugin.name) is not plugin:
            return
        while plugin.teardown:
            undo = plugin.teardown.pop()
            with contextlib.suppress(Exception):
                undo()
        for listener in self.on_uninstall:
            listener(plugin)
        if self.pm.is_registered(plugin.module):
            self.pm.unregister(plugin.module)
        del self.plugins[plugin.id]
        del self.by_name[plugin.name]
        plugin.installed = False
        self._plugins_changed()

    def loaded(self) -> list[LoadedPlugin]:
        """Loaded plugins, oldest first."""
        return list(self.plugins.values())

    # -- global events ------------------------------------------------------------------

    def owner_of(self, module: object) -> LoadedPlugin | None:
        for plugin in self.plugins.values():
            if plugin.module is module:
                return plugin
        return None

    def call_each(self, hook_name: str, /, *, swallow: bool = False, **kwargs: Any) -> list[Any]:
        """Call every implementation of a global hook, newest plugin first.

        Unlike a plain pluggy call, each implementation runs on its own, attributed to its
        plugin: an exception becomes a :class:`PluginRuntimeError` naming the plugin and
        the hook. With ``swallow`` (atexit), the error is written to the plugin log and the
        remaining plugins still run; the first error is re-raised at the end.
        """
        caller = getattr(self.pm.hook, hook_name)
        results: list[Any] = []
        first_error: QppError | None = None
        for impl in reversed(caller.get_hookimpls()):
            plugin = self.owner_of(impl.plugin)
            if plugin is not None and plugin.disabled:
                continue
            try:
                with running_plugin(plugin):
                    results.append(impl.function(*(kwargs[name] for name in impl.argnames)))
            except BaseException as exc:  # SystemExit, KeyboardInterrupt: the plugin's too
                name = plugin.name if plugin is not None else impl.plugin_name
                error = self.plugin_error(name, f"in {hook_name}", exc)
                if not swallow:
                    raise error from exc
                self.log.error(str(error))
                first_error = first_error or error
        if first_error is not None:
            raise first_error
        return results

    def culprit(self, plugin: LoadedPlugin | None, exc: BaseException) -> LoadedPlugin | None:
        """Whom ``exc`` is to be blamed on: the plugin whose function on a QPP callback
        raised it (:mod:`qpp_core.interplugin.blame`), else ``plugin``, whose code ran."""
        from qpp_core.interplugin.blame import culprit

        blame = culprit(exc)
        if blame is not None and blame.plugin in self.by_name:
            return self.by_name[blame.plugin]
        return plugin

    def plugin_error(self, name: str, where: str, exc: BaseException) -> QppError:
        """The error to report for ``exc`` raised while plugin ``name``'s code ran ``where``.

        Names the plugin whose function raised (not the one that ran the QPP callback
        it was registered on); a :class:`QppError` keeps its type and status, anything
        else is a :class:`PluginRuntimeError`.
        """
        from qpp_core.interplugin.blame import culprit

        blame = culprit(exc)
        if blame is not None and blame.plugin != name:
            where = f"{blame.where()} (run by {name} {where})"
            name = blame.plugin
        if isinstance(exc, QppError):
            if blame is not None:
                return type(exc)(f"plugin {name} {where}: {exc}")
            return exc if name in str(exc) else type(exc)(f"{name}: {exc}")
        return PluginRuntimeError(f"plugin {name} raised {where}: {describe(exc)}")

    def run_atexit(self) -> QppError | None:
        """Run every plugin's atexit work, newest plugin first; report, never stop early.

        For each plugin, its ``qemu_plugin_atexit`` hook runs first, then the callbacks it
        registered with ``qemu_plugin_register_atexit_cb`` in registration order. Errors
        are written to the log and the first one is returned for the exit status: any
        exception (``SystemExit`` and ``KeyboardInterrupt`` included) is a
        :class:`PluginRuntimeError` (status 80), a :class:`QppError` keeps its own status
        (:class:`PluginFailure`: 81).
        """
        first_error: QppError | None = None
        for plugin in reversed(self.loaded()):
            calls: list[tuple[str, Callable[[], Any]]] = []
            for impl in self.pm.hook.qemu_plugin_atexit.get_hookimpls():
                if impl.plugin is plugin.module:
                    calls.append(("qemu_plugin_atexit", impl.function))
            for callback, udata in plugin.atexit:
                calls.append(("its atexit callback", functools.partial(callback, plugin.id, udata)))
            for what, call in calls:
                try:
                    with running_plugin(plugin):
                        call()
                except BaseException as exc:
                    error = self.plugin_error(plugin.name, f"in {what}", exc)
                    self.log.error(str(error))
                    first_error = first_error or error
        self.log.flush()
        return first_error

    def close(self) -> None:
        """Uninstall every plugin, newest first, and drop the instrumentation's hooks."""
        for plugin in reversed(self.loaded()):
            self.uninstall(plugin)
        if self.instrumentation is not None:
            self.instrumentation.close()

    def has_impls(self, hook_name: str) -> bool:
        """Whether any loaded plugin implements ``hook_name`` (to skip unused events)."""
        return bool(getattr(self.pm.hook, hook_name).get_hookimpls())
