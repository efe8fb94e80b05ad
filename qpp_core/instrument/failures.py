"""What a failing plugin costs: the plugin-error policy.

An exception from a plugin callback becomes a :class:`~qpp_core.errors.PluginRuntimeError`
naming the plugin, the event and the guest pc; with ``on_plugin_error="stop"`` the machine
stops and ``machine.run()`` raises it, with ``"continue"`` the error is logged and only
that plugin is disabled. That holds for any exception, ``SystemExit`` and
``KeyboardInterrupt`` included (qpp's own SIGINT handler never raises into a plugin, so a
KeyboardInterrupt there is the plugin's).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from qpp_core.errors import PluginRuntimeError, QppError, QppUsageError
from qpp_core.instrument.context import Context
from qpp_core.interplugin.blame import culprit
from qpp_core.machine.hostsig import HostSignalInterrupt
from qpp_core.ports import MachinePort
from qpp_core.session import LoadedPlugin, Session, exception_text

#: the accepted values of ``on_plugin_error``
POLICIES = ("stop", "continue")


def check_policy(on_plugin_error: str) -> str:
    """``on_plugin_error`` itself, or a usage error."""
    if on_plugin_error not in POLICIES:
        raise QppUsageError(
            f"on_plugin_error must be 'stop' or 'continue', not {on_plugin_error!r}"
        )
    return on_plugin_error


class Failures:
    """Turning a plugin's exception into the run-stopping error or a disabled plugin.

    ``disable`` is what disabling a plugin means for the whole layer (the facade drops
    everything the plugin registered).
    """

    def __init__(
        self,
        session: Session,
        machine: MachinePort,
        ctx: Context,
        policy: str,
        disable: Callable[[LoadedPlugin], None],
    ) -> None:
        self.session = session
        self.machine = machine
        self.ctx = ctx
        self.policy = check_policy(policy)
        self.disable = disable

    def plugin_failed(self, plugin: LoadedPlugin | None, event: str, exc: BaseException) -> None:
        """A plugin callback raised: raise the run-stopping error, or disable the plugin."""
        if isinstance(exc, HostSignalInterrupt):
            raise exc  # not the plugin's: a host signal ends the guest (machine.hostsig)
        name = plugin.name if plugin is not None else "<unknown plugin>"
        try:
            pc = f"{self.ctx.read_pc():#x}"
        except Exception:  # pragma: no cover - unicorn closed
            pc = "?"
        where = f"in {event} at guest pc {pc}"
        blame = culprit(exc)
        guilty = self.session.culprit(plugin, exc)
        if blame is not None and guilty is not None and guilty is not plugin:
            # a function ``guilty`` registered on a QPP callback that ``plugin`` ran
            where = f"{blame.where()} (run by {name} {where})"
            name = guilty.name
        error: QppError
        if isinstance(exc, QppError):
            error = type(exc)(f"plugin {name} {where}: {exc}")
        else:
            error = PluginRuntimeError(f"plugin {name} raised {where}: {exception_text(exc)}")
        error.__cause__ = exc
        if self.policy == "stop" or guilty is None:
            raise error
        self.session.log.error(f"{error} (plugin disabled, the run goes on)")
        self.disable(guilty)

    def hook_failed(self, exc: BaseException) -> None:
        """Last resort inside a raw hook: stop the machine with the error."""
        with contextlib.suppress(BaseException):  # nothing may reach ctypes
            self.machine.stop(exc)

    def code_cb_failed(self, owner: LoadedPlugin | None, exc: BaseException) -> None:
        """An exception out of a fast code-table entry (``owner`` None: already wrapped)."""
        try:
            if owner is None:
                raise exc
            self.plugin_failed(owner, "insn exec", exc)
        except BaseException as error:
            self.hook_failed(error)
