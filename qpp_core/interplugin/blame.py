"""Who is to blame for an exception that left a QPP callback.

A QPP callback runs functions that *other* plugins registered, from inside the hook of
the plugin that created it (``syscalls`` runs ``on_sys_return`` from its
``qemu_plugin_vcpu_syscall_ret``). When one of those functions raises, the plugin whose
hook was running is innocent: the culprit is the plugin that registered the function.
:meth:`QppCallback.run <qpp_core.interplugin.callbacks.QppCallback.run>` marks the
exception with that plugin's name (the innermost callback wins when callbacks run
callbacks), and whoever reports the error asks :func:`culprit` whom to name and disable.
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

_ATTRIBUTE = "_qpp_culprit"


class Culprit(NamedTuple):
    """The plugin whose function raised, and the QPP callback it was registered on."""

    plugin: str
    callback: str

    def where(self) -> str:
        return f"in its function on QPP callback {self.callback}"


def mark_culprit(exc: BaseException, plugin: str | None, callback: str) -> None:
    """Record on ``exc`` that ``plugin``'s function on ``callback`` raised it (once)."""
    if plugin is None or hasattr(exc, _ATTRIBUTE):
        return
    with contextlib.suppress(AttributeError, TypeError):  # exceptions with __slots__
        setattr(exc, _ATTRIBUTE, Culprit(plugin, callback))


def culprit(exc: BaseException) -> Culprit | None:
    """The culprit recorded by :func:`mark_culprit`, if any."""
    found = getattr(exc, _ATTRIBUTE, None)
    return found if isinstance(found, Culprit) else None
