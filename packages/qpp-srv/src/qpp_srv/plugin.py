"""qpp_srv: exports do_add and do_sub; creates and, at exit, runs ``my_on_exit``.

At exit it runs ``my_on_exit`` with a flag that starts false; if no registered function
set it, the run fails (a QPP demo whose client did not connect is a failed demo).
"""

from __future__ import annotations

from qpp_core import (
    Arg,
    PluginArgs,
    PluginFailure,
    PluginId,
    PluginInfo,
    QppCallback,
    export,
    hookimpl,
    qemu_plugin_create_callback,
    qemu_plugin_outs,
)
from qpp_srv.api import MY_ON_EXIT, MyOnExitData

qemu_plugin_version = 2
qemu_plugin_args: dict[str, Arg] = {}  # takes no arguments: any is refused

_on_exit: QppCallback | None = None


@export
def do_add(x: int) -> int:
    return x + 1


@export
def do_sub(x: int) -> int:
    return x - 1


@hookimpl
def qemu_plugin_install(id: PluginId, info: PluginInfo, args: PluginArgs) -> int:
    global _on_exit
    qemu_plugin_outs(f"QPP srv: loaded on {info.target_name}, plugin API v{info.version_cur}\n")
    _on_exit = qemu_plugin_create_callback(id, MY_ON_EXIT)
    return 0


@hookimpl
def qemu_plugin_atexit() -> None:
    data = MyOnExitData()
    assert _on_exit is not None
    _on_exit.run(data, None)
    if not data.called:
        raise PluginFailure(
            "qpp_srv: no plugin handled my_on_exit (its flag is still false); "
            "load a client of it, e.g. -p qpp_client"
        )
    qemu_plugin_outs("QPP srv: my_on_exit was handled\n")
