"""A memory of plugins that failed to import, so that ``qpp list`` can mark them broken.

``qpp list`` never imports plugin code, so it can only know that a plugin is broken if a
load was tried: by ``qpp run`` or by ``qpp list --check``. Failures are kept in a small
JSON file in the user's cache directory (``$QPP_CACHE_DIR``, else
``$XDG_CACHE_HOME/qpp``, else ``~/.cache/qpp``), keyed by plugin, distribution and
version, so that reinstalling or upgrading the distribution clears the mark.
"""

from __future__ import annotations

import contextlib
import os

from qpp_core.discovery.metadata import PluginSpec


def _path() -> str:
    base = os.environ.get("QPP_CACHE_DIR")
    if base:
        return os.path.join(base, "load-failures.json")
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "qpp", "load-failures.json")


def _key(spec: PluginSpec) -> str:
    return f"{spec.name} {spec.dist_name} {spec.dist_version}"


def _read() -> dict[str, str]:
    try:
        with open(_path(), encoding="utf-8") as stream:
            import json  # only when there is a file: `qpp list` usually finds none

            data = json.load(stream)
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write(data: dict[str, str]) -> None:
    import json

    path = _path()
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(data, indent=1, sort_keys=True))


def record(spec: PluginSpec, message: str) -> None:
    """Remember that ``spec`` failed to import (best effort: a read-only cache is fine)."""
    data = _read()
    if data.get(_key(spec)) != message:
        data[_key(spec)] = message
        _write(data)


def forget(spec: PluginSpec) -> None:
    data = _read()
    if data.pop(_key(spec), None) is not None:
        _write(data)


def known(spec: PluginSpec) -> str | None:
    """Why ``spec`` failed to import last time it was tried, if it did."""
    return _read().get(_key(spec))
