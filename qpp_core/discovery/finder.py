"""Find installed plugins from distribution metadata, without importing any plugin code.

This is flake8's plugin finder's approach: walk the installed distributions once, keep the
ones that declare ``qemu_plugins`` entry points, and turn each into a :class:`PluginSpec`,
recording (not raising) whatever is wrong with its metadata so that one broken
distribution never hides the others. The result is deterministic: sorted by plugin name,
then distribution name.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from qpp_core.apiversion import QPP_MIN_VERSION
from qpp_core.discovery.metadata import (
    GROUP,
    USES_GROUP,
    VERSION_GROUP,
    PluginSpec,
    normalize_dist,
    parse_version,
    valid_plugin_name,
)
from qpp_core.errors import DuplicatePluginError, UnknownPluginError

if TYPE_CHECKING:
    if sys.version_info >= (3, 12):
        from importlib import metadata as importlib_metadata
    else:  # pragma: no cover - exercised on 3.10/3.11
        import importlib_metadata


def _metadata() -> Any:
    """importlib.metadata (the backport before 3.12), imported when first needed: it
    costs tens of milliseconds of start-up that runs without plugins need not pay."""
    if sys.version_info >= (3, 12):
        from importlib import metadata
    else:  # pragma: no cover - exercised on 3.10/3.11
        import importlib_metadata as metadata
    return metadata


_REQUIREMENT_NAME_END = " ;<>=!~[("


class Catalog:
    """Every installed plugin, by name (a list when several distributions claim a name)."""

    def __init__(self, plugins: dict[str, list[PluginSpec]] | None = None) -> None:
        self.plugins: dict[str, list[PluginSpec]] = plugins if plugins is not None else {}

    def names(self) -> list[str]:
        return sorted(self.plugins)

    def all(self) -> list[PluginSpec]:
        return [spec for name in self.names() for spec in self.plugins[name]]

    def __contains__(self, name: object) -> bool:
        return name in self.plugins

    def get(self, name: str) -> PluginSpec:
        """The one plugin called ``name``, or an error naming what exists."""
        candidates = self.plugins.get(name)
        if not candidates:
            raise UnknownPluginError(unknown_plugin_message(name, self.names()))
        if len(candidates) > 1:
            providers = " and ".join(f"{s.label} ({s.location})" for s in candidates)
            raise DuplicatePluginError(
                f"plugin name {name!r} is provided by {providers}; "
                "uninstall one of them (pip uninstall DIST)"
            )
        return candidates[0]


#: how alike two names must be to suggest one for the other (difflib's ratio): genuinely
#: close spellings only ('syscals' -> 'syscalls'), never an unrelated name
SUGGEST_CUTOFF = 0.75


def closest(name: str, names: Sequence[str]) -> str | None:
    """The installed name ``name`` was probably meant to be, if one is close enough."""
    import difflib  # only for an unknown name: not on the path of a plain `qpp list`

    close = difflib.get_close_matches(name, list(names), n=1, cutoff=SUGGEST_CUTOFF)
    return close[0] if close else None


def unknown_plugin_message(name: str, installed: Sequence[str]) -> str:
    close = closest(name, installed)
    hint = f"; did you mean {close!r}?" if close else ""
    listing = ", ".join(installed) if installed else "none"
    return f"unknown plugin {name!r}{hint} (installed: {listing}; see `qpp list`)"


def _requirement_name(requirement: str) -> str:
    end = len(requirement)
    for char in _REQUIREMENT_NAME_END:
        pos = requirement.find(char)
        if pos != -1:
            end = min(end, pos)
    return normalize_dist(requirement[:end].strip())


def specs_from_distribution(dist: importlib_metadata.Distribution) -> list[PluginSpec]:
    """The plugins one distribution declares (empty when it declares none)."""
    text = dist.read_text("entry_points.txt")
    if not text or GROUP not in text:
        return []
    meta = dist.metadata
    dist_name = meta["Name"] or "?"
    dist_version = meta["Version"] or "?"
    location = str(getattr(dist, "_path", ""))
    groups: dict[str, list[tuple[str, str]]] = {}
    for ep in dist.entry_points:
        if ep.group == GROUP or ep.group.startswith(GROUP + "."):
            groups.setdefault(ep.group, []).append((ep.name, ep.value))
    requires = frozenset(_requirement_name(r) for r in (dist.requires or ()))
    versions = dict(groups.get(VERSION_GROUP, ()))
    uses: dict[str, list[tuple[str, str]]] = {}
    stray: list[str] = []
    plugin_names = {name for name, _ in groups.get(GROUP, ())}
    for key, value in groups.get(USES_GROUP, ()):
        user, _, used = key.partition(".")
        if user in plugin_names and used:
            uses.setdefault(user, []).append((used, value))
        else:
            stray.append(key)

    specs = []
    for name, module in groups.get(GROUP, ()):
        problems: list[str] = []
        warnings: list[str] = []
        if not valid_plugin_name(name):
            problems.append(f"plugin name {name!r} is not an identifier ([A-Za-z][A-Za-z0-9_]*)")
        raw_version = versions.get(name)
        version = 1 if raw_version is None else parse_version(raw_version)
        if version is None:
            problems.append(f"{VERSION_GROUP} entry {raw_version!r} is not a version like 'v2'")
            version = 0
        own_uses = tuple(sorted(set(uses.get(name, ())), key=lambda u: u[0]))
        if own_uses and 0 < version < QPP_MIN_VERSION:
            problems.append("declares uses but targets API version 1; QPP needs version >= 2")
        for used, provider in own_uses:
            if not valid_plugin_name(used):
                problems.append(f"uses {used!r}, which is not a plugin name")
            provider_norm = normalize_dist(provider)
            if provider_norm != normalize_dist(dist_name) and provider_norm not in requires:
                warnings.append(
                    f"uses {used} from {provider.replace('_', '-')} but does not require that "
                    "distribution (add it to [project] dependencies)"
                )
        warnings.extend(
            f"{USES_GROUP} entry {key!r} names no plugin of this distribution" for key in stray
        )
        specs.append(
            PluginSpec(
                name=name,
                module=module,
                dist_name=dist_name,
                dist_version=dist_version,
                api_version=version,
                uses=own_uses,
                requires=requires,
                location=location,
                problems=tuple(problems),
                warnings=tuple(warnings),
            )
        )
    return specs


def find_plugins(path: Iterable[str] | None = None) -> Catalog:
    """Scan the distributions on ``path`` (default ``sys.path``) for plugins.

    A distribution found twice on the path (an old copy shadowed by a newer one) counts
    once, the first one winning, as ``import`` would.
    """
    kwargs = {} if path is None else {"path": list(path)}
    seen: set[str] = set()
    catalog = Catalog()
    for dist in _metadata().distributions(**kwargs):
        text_name = getattr(dist, "_normalized_name", None) or dist.metadata["Name"] or ""
        key = normalize_dist(text_name)
        if key in seen:
            continue
        seen.add(key)
        for spec in specs_from_distribution(dist):
            catalog.plugins.setdefault(spec.name, []).append(spec)
    for specs in catalog.plugins.values():
        specs.sort(key=lambda s: normalize_dist(s.dist_name))
    return catalog


_cache: Catalog | None = None


def installed_plugins() -> Catalog:
    """:func:`find_plugins` over ``sys.path``, scanned once per process."""
    global _cache
    if _cache is None:
        _cache = find_plugins()
    return _cache
