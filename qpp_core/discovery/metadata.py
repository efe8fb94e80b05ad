"""How a distribution declares its plugins in installed metadata, and the record of one.

A plugin distribution declares everything qpp needs *before importing it* through entry
points, the one part of ``pyproject.toml`` that reaches installed metadata::

    [project.entry-points.qemu_plugins]
    qpp_client = "qpp_client"              # plugin name = the module that holds its hooks

    [project.entry-points."qemu_plugins.version"]
    qpp_client = "v2"                      # qemu_plugin_version: the plugin API it targets

    [project.entry-points."qemu_plugins.uses"]
    "qpp_client.qpp_srv" = "qpp_srv"       # "<plugin>.<used>" = "<distribution providing it>"

and lists the distribution providing each used plugin in ``dependencies`` so that
``pip install`` brings it along (``qpp list`` warns when the two disagree). Values are
written so that every build backend accepts them (setuptools wants object-reference shapes:
``v2``, and distribution names with ``_`` instead of ``-``). A plugin without a version
entry is a version-1 plugin: TCG instrumentation only, no QPP.
"""

from __future__ import annotations

import re
from typing import NamedTuple

GROUP = "qemu_plugins"
VERSION_GROUP = "qemu_plugins.version"
USES_GROUP = "qemu_plugins.uses"

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_VERSION_RE = re.compile(r"^v?([0-9]+)$")


def normalize_dist(name: str) -> str:
    """PEP 503 normalisation, as pip compares distribution names."""
    return re.sub(r"[-_.]+", "-", name).lower()


def valid_plugin_name(name: str) -> bool:
    """Plugin names are identifiers: they form ``<plugin>_<func>_qpp`` attribute names."""
    return bool(_NAME_RE.match(name))


def parse_version(value: str) -> int | None:
    match = _VERSION_RE.match(value.strip())
    return int(match.group(1)) if match else None


def v2_hint(spec: PluginSpec) -> str:
    """Where a plugin declares that it targets API version 2 (QPP), for error messages."""
    return (
        f"declare it in {spec.dist_name}'s pyproject.toml, [project.entry-points.\""
        f'{VERSION_GROUP}"] {spec.name} = "v2" (and qemu_plugin_version = 2 in '
        f"{spec.module}, if set), then reinstall it"
    )


class PluginSpec(NamedTuple):
    """One plugin as its distribution's metadata declares it; nothing imported yet.

    A named tuple rather than a dataclass: ``qpp list`` builds these on every run, and
    importing :mod:`dataclasses` (with :mod:`inspect`) would cost a good part of it.
    """

    name: str
    module: str
    dist_name: str
    dist_version: str
    api_version: int
    #: used plugins in declaration order, with the distribution said to provide each
    uses: tuple[tuple[str, str], ...] = ()
    #: normalised names of the distribution's requirements (Requires-Dist)
    requires: frozenset[str] = frozenset()
    #: where the distribution is installed (its .dist-info folder), for messages
    location: str = ""
    #: metadata problems that make the plugin unusable
    problems: tuple[str, ...] = ()
    #: metadata oddities worth telling the author about
    warnings: tuple[str, ...] = ()

    @property
    def used_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.uses)

    def distribution_for(self, used: str) -> str:
        """The distribution to ``pip install`` to get plugin ``used``."""
        for name, dist in self.uses:
            if name == used:
                return dist.replace("_", "-")
        return used.replace("_", "-")

    @property
    def label(self) -> str:
        return f"{self.dist_name} {self.dist_version}"
