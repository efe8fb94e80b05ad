"""qpp_client: calls qpp_srv's exports at install and handles its ``my_on_exit``."""

from __future__ import annotations

from typing import Any

from qpp_core import (
    Arg,
    PluginArgs,
    PluginId,
    PluginInfo,
    hookimpl,
    qemu_plugin_outs,
    qemu_plugin_reg_callback,
    qpp,
)
from qpp_srv.api import MY_ON_EXIT, PLUGIN, MyOnExitData, QppSrvApi

qemu_plugin_version = 2
qemu_plugin_args: dict[str, Arg] = {}  # takes no arguments: any is refused


def my_on_exit(evdata: MyOnExitData, udata: Any) -> None:
    """Runs when qpp_srv runs ``my_on_exit``: set its flag and say so."""
    evdata.called = True
    qemu_plugin_outs("QPP client: my_on_exit callback was called\n")


@hookimpl
def qemu_plugin_install(id: PluginId, info: PluginInfo, args: PluginArgs) -> int:
    srv = qpp.typed(QppSrvApi)
    qemu_plugin_outs(
        f"QPP client: Call qpp_srv's do_add(0) do_sub(3) => "
        f"{srv.qpp_srv_do_add_qpp(0)} {srv.qpp_srv_do_sub_qpp(3)}\n"
    )
    qemu_plugin_reg_callback(PLUGIN, MY_ON_EXIT, my_on_exit)
    return 0
