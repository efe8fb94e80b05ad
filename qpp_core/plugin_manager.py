"""The session's pluggy plugin manager: built on a session's first plugin work only, so
that a run without plugins imports neither pluggy nor the hook specifications (start-up,
issue 13)."""

from __future__ import annotations

import pluggy

from qpp_core import hookspecs


class QppPluginManager(pluggy.PluginManager):
    """pluggy's manager, taught that a QPP callback registration is a trylast hookimpl.

    Registered functions are the user's own (they may be bound methods, which cannot carry
    pluggy's marker attribute), so the options come from the registration object instead.
    ``trylast`` puts each new one at the front of pluggy's list, which pluggy calls last:
    the result is registration order, as QPP specifies.
    """

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        from qpp_core.interplugin.callbacks import Registration

        if isinstance(plugin, Registration):
            if name != plugin.hook_name:
                return None
            return pluggy.HookimplOpts(
                wrapper=False,
                hookwrapper=False,
                optionalhook=False,
                tryfirst=False,
                trylast=True,
                specname=None,
            )
        return super().parse_hookimpl_opts(plugin, name)


def new_plugin_manager() -> QppPluginManager:
    """A manager that knows qpp's hook specifications."""
    pm = QppPluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm
