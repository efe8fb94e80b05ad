"""qpp: QEMU-style TCG plugins with plugin-to-plugin interaction (QPP), for Python.

The public surface, everything a plugin author needs, is re-exported here:

* :data:`hookimpl` to implement the hooks of :mod:`qpp_core.hookspecs`;
* :func:`export` to publish functions, and :data:`qpp` to call other plugins' exports as
  ``qpp.<plugin>_<func>_qpp(...)`` (``from qpp_core import qpp`` in a plugin module gives
  that plugin its own namespace, which enforces its ``uses``);
* the ``qemu_plugin_*`` functions of QEMU's plugin API and of the QPP proposal;
* :class:`Arg` to declare accepted plugin arguments, and the error types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qpp_core.api import (
    qemu_plugin_bool_parse,
    qemu_plugin_create_callback,
    qemu_plugin_name,
    qemu_plugin_outs,
    qemu_plugin_reg_callback,
    qemu_plugin_register_atexit_cb,
    qemu_plugin_reset,
    qemu_plugin_run_callback,
    qemu_plugin_uninstall,
    qemu_plugin_unreg_callback,
    qpp_callback,
    qpp_callbacks_of,
)
from qpp_core.errors import ExitStatus, PluginArgumentError, PluginFailure, QppError, QppUsageError
from qpp_core.hookspecs import hookimpl, hookspec
from qpp_core.instrument import api as _instrument_api
from qpp_core.instrument.api import *  # noqa: F403  (the TCG API: its __all__)
from qpp_core.interplugin.callbacks import QppCallback
from qpp_core.interplugin.exports import export
from qpp_core.loading.args import Arg, PluginArgs
from qpp_core.session import (
    API_VERSION_CURRENT,
    API_VERSION_MIN,
    PluginId,
    PluginInfo,
    Session,
)

if TYPE_CHECKING:
    from qpp_core.interplugin.namespace import QppNamespace

    qpp: QppNamespace

__version__ = "0.1.0"

__all__ = [
    "API_VERSION_CURRENT",
    "API_VERSION_MIN",
    "Arg",
    "ExitStatus",
    "PluginArgs",
    "PluginArgumentError",
    "PluginFailure",
    "PluginId",
    "PluginInfo",
    "QppCallback",
    "QppError",
    "QppUsageError",
    "Session",
    "export",
    "hookimpl",
    "hookspec",
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
    "qpp",
    "qpp_callback",
    "qpp_callbacks_of",
]
__all__ += _instrument_api.__all__


def __getattr__(name: str) -> Any:
    """``qpp`` is resolved per importer: a plugin being imported gets its own namespace."""
    if name == "qpp":
        from qpp_core.interplugin.namespace import namespace_for
        from qpp_core.session import active_plugin

        plugin = active_plugin()
        return namespace_for(plugin.name if plugin is not None else None)
    raise AttributeError(f"module 'qpp_core' has no attribute {name!r}")
