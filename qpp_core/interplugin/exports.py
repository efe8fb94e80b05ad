"""Exported functions: QPP's ``QEMU_PLUGIN_EXPORT``, and the checks made at load time.

A plugin marks the functions other plugins may call with :func:`export`; the exports of a
plugin are the marked callables visible in its entry-point module (import them there if
they live in submodules), named by the attribute that holds them. Callers reach them as
``<plugin>_<func>_qpp`` (see :mod:`qpp_core.interplugin.namespace`).

Because plugin and function names may both contain ``_``, two different pairs can spell
the same ``_qpp`` name (plugin ``a`` exporting ``b_c`` and plugin ``a_b`` exporting ``c``
both give ``a_b_c_qpp``). qpp refuses to load the second plugin of such a pair, naming both,
so that every ``_qpp`` name has exactly one meaning while the plugins are loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any, TypeVar

from qpp_core.errors import QppUsageError

F = TypeVar("F", bound=Callable[..., Any])

EXPORT_ATTR = "__qpp_export__"

#: exported name -> callable, for one plugin
ExportTable = dict[str, Callable[..., Any]]


def export(function: F) -> F:
    """Mark ``function`` as callable by other plugins (QEMU's ``QEMU_PLUGIN_EXPORT``)."""
    setattr(function, EXPORT_ATTR, True)
    return function


def collect_exports(module: ModuleType) -> ExportTable:
    """The exported callables of a plugin module, in name order."""
    found = {
        name: value
        for name, value in vars(module).items()
        if callable(value) and getattr(value, EXPORT_ATTR, False) is True
    }
    return dict(sorted(found.items()))


def qpp_name(plugin: str, function: str) -> str:
    return f"{plugin}_{function}_qpp"


def check_unambiguous(
    plugin: str, exports: Iterable[str], loaded: Mapping[str, Iterable[str]]
) -> None:
    """Refuse a plugin whose ``_qpp`` names collide with those of a loaded plugin."""
    mine = {f"{plugin}_{function}": function for function in exports}
    for other, other_exports in loaded.items():
        if other == plugin:
            continue
        for function in other_exports:
            spelled = f"{other}_{function}"
            if spelled in mine:
                raise QppUsageError(
                    f"plugin {plugin} cannot load next to plugin {other}: {plugin}'s "
                    f"{mine[spelled]} and {other}'s {function} are both called "
                    f"{spelled}_qpp; rename one of the functions or plugins"
                )
