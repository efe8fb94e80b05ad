"""What every job of a batch shares: the plugins and their arguments, the guest options,
the limits. A :class:`Settings` is plain data, so that it can travel to Dask workers.

:func:`prepare` readies a process to run jobs warm: it resolves the plugin selection
from metadata (a bad ``-p`` is reported once, before any job runs) and imports the engine
and the plugin modules, so that every job forked from this process starts with them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from qpp_core.loading.args import PluginRequest, merge_requests

#: in a plugin argument value, replaced by the job's own folder
JOB_DIR_MARK = "{job}"


@dataclass(frozen=True)
class Settings:
    """The run options every job gets (the part of ``qpp run``'s that a batch shares)."""

    plugins: tuple[str, ...] = ()  #: ``-p`` texts, as given
    env_set: tuple[tuple[str, str], ...] = ()
    env_unset: tuple[str, ...] = ()
    cpu: str | None = None
    sysroot: str | None = None
    seed: int | None = None
    on_plugin_error: str = "stop"
    timeout: float | None = None  #: seconds of wall time per job
    memory_mb: int | None = None  #: address-space limit per job (RLIMIT_AS)
    #: the guests' base environment: the batch command's own (as ``qpp run`` gives its
    #: guest), wherever a job runs; a Dask worker's environment is not the user's
    environ: tuple[str, ...] | None = None

    def fingerprint(self) -> dict[str, Any]:
        """What must match for a results folder to be resumed (the limits and the
        environment qpp runs in may change)."""
        data = asdict(self)
        for key in ("timeout", "memory_mb", "environ"):
            data.pop(key)
        plain: dict[str, Any] = json.loads(json.dumps(data))  # tuples as lists, as on disk
        return plain

    def requests(self) -> list[PluginRequest]:
        return [PluginRequest.parse(text) for text in self.plugins]


def plugin_requests(
    settings: Settings, job_dir: str, file_args: Mapping[str, str]
) -> list[PluginRequest]:
    """The job's plugin requests: ``{job}`` replaced by its folder, and each plugin with a
    ``filename`` argument the user left out writing that file in the job's folder."""
    requests = []
    for request in settings.requests():
        items = tuple((k, v.replace(JOB_DIR_MARK, job_dir)) for k, v in request.items)
        requests.append(PluginRequest(request.name, items))
    given = merge_requests(requests)
    for name, default in file_args.items():
        if name in given and not any(key == "filename" for key, _ in given[name]):
            requests.append(PluginRequest(name, (("filename", os.path.join(job_dir, default)),)))
    return requests


_prepared: dict[tuple[str, ...], dict[str, str]] = {}


def prepare(settings: Settings) -> dict[str, str]:
    """Resolve and import the plugins in this process (once per plugin selection).

    Returns, per plugin that declares a ``filename`` argument, its default file name.
    Raises the :class:`QppError` that ``qpp run`` would report for a bad selection.
    """
    known = _prepared.get(settings.plugins)
    if known is not None:
        return known
    import importlib

    for name in ("qpp_core.instrument", "qpp_core.linux", "qpp_core.runner"):
        importlib.import_module(name)  # warm: every job forks with these already loaded
    from qpp_core.discovery.finder import installed_plugins
    from qpp_core.discovery.resolve import resolve
    from qpp_core.loading.args import build_args
    from qpp_core.loading.loader import import_plugin
    from qpp_core.session import Session

    requested = merge_requests(settings.requests())
    specs = resolve(installed_plugins(), list(requested))
    file_args: dict[str, str] = {}
    session = Session()
    for spec in specs:
        module = import_plugin(session, spec).module
        declared = getattr(module, "qemu_plugin_args", None)
        build_args(spec.name, requested.get(spec.name, ()), declared)  # bad ones: status 77
        arg = (declared or {}).get("filename")
        if arg is not None:
            file_args[spec.name] = os.path.basename(str(arg.default or f"{spec.name}.out"))
    _prepared[settings.plugins] = file_args
    return file_args


def plugin_modules(settings: Settings) -> list[tuple[str, Any]]:
    """``(name, module)`` of every plugin the batch loads, dependencies first."""
    import importlib

    from qpp_core.discovery.finder import installed_plugins
    from qpp_core.discovery.resolve import resolve

    prepare(settings)
    specs = resolve(installed_plugins(), list(merge_requests(settings.requests())))
    return [(spec.name, importlib.import_module(spec.module)) for spec in specs]


def env_pairs(env: Sequence[tuple[str, str | None]]) -> tuple[list[tuple[str, str]], list[str]]:
    """A job's environment changes split into ``-E`` pairs and ``-U`` names."""
    return [(k, v) for k, v in env if v is not None], [k for k, v in env if v is None]
