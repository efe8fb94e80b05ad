"""Every error qpp reports to a user, each with its own exit status.

The CLI turns a :class:`QppError` into one line on stderr (``qpp: error: ...``) and exits
with the error's ``exit_status``. Messages name what is wrong and what to do about it.

Exit statuses are grouped so that scripts can tell them apart from a guest's own status
(which qpp passes through, 0-255) as far as that is possible: qpp's own failures use
70-89, a guest killed by signal N exits with 128+N as a shell would report it.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """The exit statuses of ``qpp`` (besides the guest's own)."""

    OK = 0
    USAGE = 2  #: bad command line (argparse's convention)
    UNKNOWN_PLUGIN = 70  #: ``-p NAME`` names no installed plugin
    MISSING_DEPENDENCY = 71  #: a plugin uses one that is not installed
    DEPENDENCY_CYCLE = 72  #: plugins use each other in a cycle
    DUPLICATE_PLUGIN = 73  #: two distributions provide the same plugin name
    PLUGIN_IMPORT = 74  #: a plugin module failed to import
    PLUGIN_INSTALL = 75  #: a plugin's install raised or reported failure
    API_VERSION = 76  #: a plugin needs an API version qpp-core does not offer
    PLUGIN_ARGS = 77  #: bad ``-p NAME,ARG=VAL`` arguments
    PLUGIN_METADATA = 78  #: a distribution's plugin metadata is malformed
    QPP = 79  #: misuse of QPP functions or callbacks
    PLUGIN_RUNTIME = 80  #: a plugin callback raised while the guest ran
    PLUGIN_FAILED = 81  #: a plugin reported that the run failed (e.g. at exit)
    BAD_BINARY = 82  #: not an ELF, truncated, malformed or of an unsupported kind
    GUEST_UNSUPPORTED = 83  #: the guest needs something qpp does not emulate
    HOST = 84  #: a host resource failed (file not found, permission denied)
    INTERNAL = 85  #: a bug in qpp itself (QPP_DEBUG=1 shows the traceback)
    BACKEND_UNAVAILABLE = 86  #: ``QPP_BACKEND`` names a backend this install lacks
    GUEST_DEADLOCK = 87  #: every guest thread waits forever (qpp reports them)


class QppError(Exception):
    """Base of all errors qpp reports to users; ``str()`` is the one-line message."""

    exit_status: ExitStatus = ExitStatus.QPP


# --- discovery and selection ------------------------------------------------------------


class PluginMetadataError(QppError):
    """A distribution declares its plugin in a way qpp cannot read."""

    exit_status = ExitStatus.PLUGIN_METADATA


class UnknownPluginError(QppError):
    exit_status = ExitStatus.UNKNOWN_PLUGIN


class MissingDependencyError(QppError):
    exit_status = ExitStatus.MISSING_DEPENDENCY


class DependencyCycleError(QppError):
    exit_status = ExitStatus.DEPENDENCY_CYCLE


class DuplicatePluginError(QppError):
    exit_status = ExitStatus.DUPLICATE_PLUGIN


class ApiVersionError(QppError):
    exit_status = ExitStatus.API_VERSION


class PluginArgumentError(QppError):
    exit_status = ExitStatus.PLUGIN_ARGS


# --- loading and running plugins --------------------------------------------------------


class PluginImportError(QppError):
    exit_status = ExitStatus.PLUGIN_IMPORT


class PluginInstallError(QppError):
    exit_status = ExitStatus.PLUGIN_INSTALL


class PluginRuntimeError(QppError):
    """A plugin's callback raised while the guest was running."""

    exit_status = ExitStatus.PLUGIN_RUNTIME


class PluginFailure(QppError):
    """Raised *by a plugin* to end the run as failed, with a message for the user.

    This is the Python form of a QEMU plugin calling ``abort()``, without the core dump:
    qpp prints ``qpp: <plugin>: <message>``, still runs the other plugins' atexit
    callbacks and flushes the logs, then exits with :attr:`ExitStatus.PLUGIN_FAILED`.
    """

    exit_status = ExitStatus.PLUGIN_FAILED


class QppUsageError(QppError):
    """Misuse of the QPP API: unknown export or callback, undeclared use, ambiguity."""

    exit_status = ExitStatus.QPP


# --- the guest --------------------------------------------------------------------------


class BadBinaryError(QppError):
    exit_status = ExitStatus.BAD_BINARY


class GuestUnsupportedError(QppError):
    exit_status = ExitStatus.GUEST_UNSUPPORTED


class HostError(QppError):
    exit_status = ExitStatus.HOST


class BackendUnavailableError(QppError):
    """``QPP_BACKEND=native`` but the native fast path was not built (or a bad value)."""

    exit_status = ExitStatus.BACKEND_UNAVAILABLE


class InternalError(QppError):
    """An unexpected exception inside qpp: reported in one line, traceback on request."""

    exit_status = ExitStatus.INTERNAL

    @classmethod
    def wrap(cls, exc: BaseException) -> InternalError:
        import os
        import traceback

        if os.environ.get("QPP_DEBUG"):
            traceback.print_exception(exc)
        return cls(
            f"internal error: {type(exc).__name__}: {exc} (a bug in qpp; rerun with QPP_DEBUG=1 "
            "for the traceback and please report it)"
        )
