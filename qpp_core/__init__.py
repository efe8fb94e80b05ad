"""qpp: QEMU-style TCG plugins with plugin-to-plugin interaction (QPP), for Python.

The public surface, everything a plugin author needs, is re-exported here:

* :data:`hookimpl` to implement the hooks of :mod:`qpp_core.hookspecs`;
* :func:`export` to publish functions, and :data:`qpp` to call other plugins' exports as
  ``qpp.<plugin>_<func>_qpp(...)`` (``from qpp_core import qpp`` in a plugin module gives
  that plugin its own namespace, which enforces its ``uses``);
* the ``qemu_plugin_*`` functions of QEMU's plugin API and of the QPP proposal;
* :class:`Arg` to declare accepted plugin arguments, and the error types;
* :func:`open_private` / :func:`close_private` for a plugin's own output files, which
  then live outside the guest's file descriptors.

Names are resolved on first use (PEP 562), so that ``import qpp_core.discovery`` (``qpp
list``) does not load unicorn and capstone; type checkers see ordinary imports.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from qpp_core.apiversion import API_VERSION_CURRENT as API_VERSION_CURRENT
from qpp_core.apiversion import API_VERSION_MIN as API_VERSION_MIN

if TYPE_CHECKING:
    from qpp_core.api import describe_args as describe_args
    from qpp_core.api import (
        qemu_plugin_bool_parse as qemu_plugin_bool_parse,
    )
    from qpp_core.api import (
        qemu_plugin_create_callback as qemu_plugin_create_callback,
    )
    from qpp_core.api import qemu_plugin_name as qemu_plugin_name
    from qpp_core.api import qemu_plugin_outs as qemu_plugin_outs
    from qpp_core.api import qemu_plugin_reg_callback as qemu_plugin_reg_callback
    from qpp_core.api import (
        qemu_plugin_register_atexit_cb as qemu_plugin_register_atexit_cb,
    )
    from qpp_core.api import qemu_plugin_reset as qemu_plugin_reset
    from qpp_core.api import qemu_plugin_run_callback as qemu_plugin_run_callback
    from qpp_core.api import qemu_plugin_uninstall as qemu_plugin_uninstall
    from qpp_core.api import qemu_plugin_unreg_callback as qemu_plugin_unreg_callback
    from qpp_core.api import qpp_callback as qpp_callback
    from qpp_core.api import qpp_callbacks_of as qpp_callbacks_of
    from qpp_core.errors import ExitStatus as ExitStatus
    from qpp_core.errors import HostError as HostError
    from qpp_core.errors import PluginArgumentError as PluginArgumentError
    from qpp_core.errors import PluginFailure as PluginFailure
    from qpp_core.errors import QppError as QppError
    from qpp_core.errors import QppUsageError as QppUsageError
    from qpp_core.hookspecs import hookimpl as hookimpl
    from qpp_core.hookspecs import hookspec as hookspec
    from qpp_core.hostfds import close_private as close_private
    from qpp_core.hostfds import open_private as open_private
    from qpp_core.instrument.api import *  # noqa: F403  (the TCG API: its __all__)
    from qpp_core.interplugin.callbacks import QppCallback as QppCallback
    from qpp_core.interplugin.exports import export as export
    from qpp_core.interplugin.namespace import QppModule
    from qpp_core.loading.args import Arg as Arg
    from qpp_core.loading.args import PluginArgs as PluginArgs
    from qpp_core.session import PluginId as PluginId
    from qpp_core.session import PluginInfo as PluginInfo
    from qpp_core.session import Session as Session

    qpp: QppModule

__version__ = "0.1.0"

#: public name -> the module that defines it (imported on first use)
_HOMES: dict[str, str] = {
    **dict.fromkeys(
        [
            "describe_args",
            "qemu_plugin_bool_parse",
            "qemu_plugin_create_callback",
            "qemu_plugin_name",
            "qemu_plugin_outs",
            "qemu_plugin_reg_callback",
            "qemu_plugin_register_atexit_cb",
            "qemu_plugin_reset",
            "qemu_plugin_run_callback",
            "qemu_plugin_uninstall",
            "qemu_plugin_unreg_callback",
            "qpp_callback",
            "qpp_callbacks_of",
        ],
        "qpp_core.api",
    ),
    **dict.fromkeys(
        [
            "ExitStatus",
            "HostError",
            "PluginArgumentError",
            "PluginFailure",
            "QppError",
            "QppUsageError",
        ],
        "qpp_core.errors",
    ),
    "open_private": "qpp_core.hostfds",
    "close_private": "qpp_core.hostfds",
    "hookimpl": "qpp_core.hookspecs",
    "hookspec": "qpp_core.hookspecs",
    "QppCallback": "qpp_core.interplugin.callbacks",
    "export": "qpp_core.interplugin.exports",
    "Arg": "qpp_core.loading.args",
    "PluginArgs": "qpp_core.loading.args",
    "PluginId": "qpp_core.session",
    "PluginInfo": "qpp_core.session",
    "Session": "qpp_core.session",
}
_INSTRUMENT_API = "qpp_core.instrument.api"


def _public_names() -> list[str]:
    api = importlib.import_module(_INSTRUMENT_API)
    names = ["API_VERSION_CURRENT", "API_VERSION_MIN", "qpp", *_HOMES, *api.__all__]
    return sorted(set(names))


def __getattr__(name: str) -> Any:
    """Resolve a public name on first use; ``qpp`` is resolved per importer.

    A plugin being imported gets its own ``qpp`` namespace, which enforces its ``uses``.
    """
    if name == "qpp":
        from qpp_core.interplugin.namespace import namespace_for
        from qpp_core.session import active_plugin

        plugin = active_plugin()
        return namespace_for(plugin.name if plugin is not None else None)
    if name == "__all__":
        return _public_names()
    home = _HOMES.get(name)
    if home is None:
        if name.startswith("_") or importlib.util.find_spec(f"{__name__}.{name}") is not None:
            # a submodule (``from qpp_core import hookspecs``): the import system loads it
            raise AttributeError(f"module 'qpp_core' has no attribute {name!r}")
        api = importlib.import_module(_INSTRUMENT_API)
        if name in api.__all__:
            value = getattr(api, name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'qpp_core' has no attribute {name!r}")
    module, _, attr = home.partition(":")
    value = getattr(importlib.import_module(module), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_public_names()))
