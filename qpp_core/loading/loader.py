"""Import, check, register and install plugins, in the order discovery settled.

Each step wraps its failures in an error that names the plugin and its distribution, and a
plugin that fails anywhere after it was added to the session is uninstalled completely
before the error propagates (QEMU's behaviour for a failing ``qemu_plugin_install``).
Any exception counts, ``SystemExit`` and ``KeyboardInterrupt`` included: a plugin cannot
end qpp behind its back. Only a host signal's :class:`HostSignalInterrupt` passes through.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Mapping, Sequence
from typing import Any

from pluggy import PluginValidationError

from qpp_core.apiversion import QPP_MIN_VERSION
from qpp_core.discovery.metadata import PluginSpec, v2_hint
from qpp_core.errors import (
    ApiVersionError,
    HostError,
    PluginArgumentError,
    PluginImportError,
    PluginInstallError,
    PluginRuntimeError,
    QppError,
    QppUsageError,
)
from qpp_core.interplugin import decorated
from qpp_core.interplugin.blame import culprit
from qpp_core.interplugin.exports import check_unambiguous, collect_exports
from qpp_core.loading import failures
from qpp_core.loading.args import Arg, PluginArgs, build_args
from qpp_core.machine.hostsig import HostSignalInterrupt
from qpp_core.session import LoadedPlugin, Session, describe, exception_text, running_plugin

HOOK_PREFIX = "qemu_plugin_"


def import_plugin(session: Session, spec: PluginSpec) -> LoadedPlugin:
    """Import ``spec``'s module with the plugin marked active (so ``qpp`` is its own)."""
    placeholder = LoadedPlugin(
        id=session.new_id(),
        spec=spec,
        module=types.ModuleType(spec.module),
        args=PluginArgs(),
        exports={},
    )
    try:
        with running_plugin(placeholder):
            module = importlib.import_module(spec.module)
    except HostSignalInterrupt:
        raise
    except BaseException as exc:
        message = (
            f"plugin {spec.name} ({spec.label}) failed to import module {spec.module}: "
            f"{exception_text(exc)}; fix or reinstall {spec.dist_name}"
        )
        failures.record(spec, message)
        raise PluginImportError(message) from exc
    placeholder.module = module
    return placeholder


def _check_version(plugin: LoadedPlugin) -> None:
    declared = getattr(plugin.module, "qemu_plugin_version", None)
    if declared is not None and declared != plugin.spec.api_version:
        raise ApiVersionError(
            f"plugin {plugin.name}: module {plugin.spec.module} says qemu_plugin_version = "
            f"{declared!r} but {plugin.spec.dist_name}'s metadata says "
            f"{plugin.spec.api_version}; make them agree and reinstall it"
        )


def _check_exports(session: Session, plugin: LoadedPlugin) -> None:
    if plugin.exports and plugin.api_version < QPP_MIN_VERSION:
        raise QppUsageError(
            f"plugin {plugin.name} exports {', '.join(plugin.exports)} but targets plugin API "
            f"version 1; QPP exports need version >= 2: {v2_hint(plugin.spec)}"
        )
    check_unambiguous(
        plugin.name,
        plugin.exports,
        {name: list(other.exports) for name, other in session.by_name.items()},
    )


def _register_hooks(session: Session, plugin: LoadedPlugin) -> None:
    try:
        session.pm.register(plugin.module, name=plugin.name)
    except PluginValidationError as exc:
        message = " ".join(str(exc).split())
        raise PluginImportError(f"plugin {plugin.name} ({plugin.spec.label}): {message}") from None
    known = {name for name, caller in vars(session.pm.hook).items() if caller.spec is not None}
    for caller in session.pm.get_hookcallers(plugin.module) or ():
        if caller.spec is None and caller.name.startswith(HOOK_PREFIX):
            import difflib  # only for this message: it costs start-up

            close = difflib.get_close_matches(caller.name, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            session.pm.unregister(plugin.module)
            raise PluginImportError(
                f"plugin {plugin.name} implements unknown hook {caller.name}{hint} "
                "(see qpp_core.hookspecs)"
            )


def _install(session: Session, plugin: LoadedPlugin) -> None:
    impls = [
        impl
        for impl in session.pm.hook.qemu_plugin_install.get_hookimpls()
        if impl.plugin is plugin.module
    ]
    kwargs: dict[str, Any] = {"id": plugin.id, "info": session.info, "args": plugin.args}
    for impl in impls:
        try:
            with running_plugin(plugin):
                result = impl.function(*(kwargs[name] for name in impl.argnames))
        except HostSignalInterrupt:
            raise
        except BaseException as exc:
            raise _install_error(plugin, exc) from exc
        if result not in (None, 0):
            raise PluginInstallError(
                f"plugin {plugin.name} ({plugin.spec.label}) failed to install: "
                f"qemu_plugin_install returned {result!r}"
            )
    try:
        with running_plugin(plugin):
            decorated.bind(session, plugin)
    except QppUsageError as exc:
        raise QppUsageError(f"plugin {plugin.name}: {exc}") from exc
    plugin.installed = True


def _install_error(plugin: LoadedPlugin, exc: BaseException) -> QppError:
    """The error for ``exc`` raised by ``plugin``'s install: one status per cause.

    Bad arguments (77), host failures (84) and QPP misuse (79) keep their statuses, as
    they have anywhere else; anything else fails the install (75). A function another
    plugin registered on a QPP callback that the installing plugin ran is that other
    plugin's fault (:mod:`qpp_core.interplugin.blame`): it is named instead, status 80.
    """
    blame = culprit(exc)
    if blame is not None and blame.plugin != plugin.name:
        kind = type(exc) if isinstance(exc, QppError) else PluginRuntimeError
        return kind(
            f"plugin {blame.plugin} raised {blame.where()} (run by {plugin.name}'s "
            f"qemu_plugin_install): {describe(exc)}"
        )
    if isinstance(exc, (PluginArgumentError, HostError, QppUsageError)):
        if str(exc).startswith(f"plugin {plugin.name} "):
            return type(exc)(str(exc))
        return type(exc)(f"plugin {plugin.name}: {exc}")
    if isinstance(exc, QppError):
        return PluginInstallError(
            f"plugin {plugin.name} ({plugin.spec.label}) failed to install: {exc}"
        )
    return PluginInstallError(
        f"plugin {plugin.name} ({plugin.spec.label}) failed to install: {describe(exc)}"
    )


def load_plugin(
    session: Session, spec: PluginSpec, items: Sequence[tuple[str, str]] = ()
) -> LoadedPlugin:
    """Import, check, register and install one plugin (its uses must be loaded)."""
    for used in spec.used_names:
        if used not in session.by_name:
            raise PluginInstallError(
                f"plugin {spec.name} uses {used}, which is not loaded; load it first"
            )
    plugin = import_plugin(session, spec)
    _check_version(plugin)
    declared: Mapping[str, Arg] | None = getattr(plugin.module, "qemu_plugin_args", None)
    plugin.args = build_args(spec.name, items, declared)
    plugin.exports = collect_exports(plugin.module)
    _check_exports(session, plugin)
    _register_hooks(session, plugin)
    session.add(plugin)
    try:
        _install(session, plugin)
    except BaseException:
        session.uninstall(plugin)
        raise
    failures.forget(spec)
    return plugin


def load_all(
    session: Session, specs: Sequence[PluginSpec], items: Mapping[str, Sequence[tuple[str, str]]]
) -> list[LoadedPlugin]:
    """Load ``specs`` in order (dependencies first, as :func:`resolve` gives them).

    A plugin that is already loaded is kept as it is, not loaded twice.
    """
    return [
        session.by_name.get(spec.name) or load_plugin(session, spec, items.get(spec.name, ()))
        for spec in specs
    ]
