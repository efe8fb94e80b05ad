"""Installed distributions read straight from their metadata folders, without importlib.metadata.

``qpp list`` runs on every invocation and must cost a small multiple of a bare Python
start-up; ``importlib.metadata`` (and its backport) alone costs about that much to import
(email parsing, zipfile, pathlib, csv). The few facts discovery needs are plain files
in each ``NAME-VERSION.dist-info`` (or ``.egg-info``) folder on ``sys.path``: the
``entry_points.txt`` INI file, and the ``Name``, ``Version`` and ``Requires-Dist`` headers of
``METADATA`` (``PKG-INFO`` and ``requires.txt`` for egg-info). This module reads just those,
in the order ``importlib.metadata`` finds distributions (path entry by path entry), with
each folder's entries sorted so that the result is deterministic.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

_SUFFIXES = (".dist-info", ".egg-info")


class DistFolder:
    """One installed distribution's metadata folder."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.egg = path.endswith(".egg-info")
        self._headers: dict[str, list[str]] | None = None

    def read_text(self, name: str) -> str | None:
        try:
            with open(os.path.join(self.path, name), encoding="utf-8") as stream:
                return stream.read()
        except OSError:
            return None

    @property
    def folder_name(self) -> str:
        """The project name as the folder spells it (``qpp_core`` of ``qpp_core-0.1.dist-info``)."""
        return os.path.basename(self.path).rpartition(".")[0].partition("-")[0]

    def _header(self, key: str) -> list[str]:
        if self._headers is None:
            text = self.read_text("PKG-INFO" if self.egg else "METADATA") or ""
            self._headers = parse_headers(text)
        return self._headers.get(key.lower(), [])

    @property
    def name(self) -> str | None:
        found = self._header("Name")
        return found[0] if found else None

    @property
    def version(self) -> str | None:
        found = self._header("Version")
        return found[0] if found else None

    @property
    def requires(self) -> list[str]:
        if not self.egg:
            return self._header("Requires-Dist")
        text = self.read_text("requires.txt") or ""
        requirements = []
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("["):  # extras and markers sections: not unconditional
                break
            if line and not line.startswith("#"):
                requirements.append(line)
        return requirements

    def entry_points(self) -> list[tuple[str, str, str]]:
        """(group, name, value) of every entry point, in file order."""
        return parse_entry_points(self.read_text("entry_points.txt") or "")


def parse_headers(text: str) -> dict[str, list[str]]:
    """RFC 822 headers (up to the first blank line), by lower-case key; values stripped."""
    headers: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in text.splitlines():
        if not line:
            break
        if line[0] in " \t" and last is not None:  # a continuation line
            last[-1] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = headers.setdefault(key.strip().lower(), [])
        last.append(value.strip())
    return headers


def parse_entry_points(text: str) -> list[tuple[str, str, str]]:
    """``entry_points.txt`` (an INI file: ``[group]`` then ``name = value`` lines)."""
    result: list[tuple[str, str, str]] = []
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        name, sep, value = line.partition("=")
        if sep and group:
            result.append((group, name.strip(), value.strip()))
    return result


def distributions(paths: Iterable[str]) -> Iterator[DistFolder]:
    """Every metadata folder in each path entry, entry by entry (as ``sys.path`` is
    searched); entries that are not readable directories are skipped."""
    for entry in paths:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:  # a zip file, a missing folder
            continue
        for name in names:
            if name.endswith(_SUFFIXES):
                path = os.path.join(entry or ".", name)
                if os.path.isdir(path):
                    yield DistFolder(path)
