"""Checks of one plugin's ``uses`` against everything installed (metadata only).

:mod:`qpp_core.discovery.finder` reads each distribution on its own; a ``uses`` entry
can only be judged against the others: a typo in the plugin part names no installed
plugin although the distribution it names is installed, a typo in the distribution part
names a distribution that does not provide the plugin. Both get a precise message with
the closest real name, instead of "pip install" advice that cannot help.
"""

from __future__ import annotations

from qpp_core.discovery.finder import Catalog, closest
from qpp_core.discovery.metadata import USES_GROUP, PluginSpec, normalize_dist


def provided_by(catalog: Catalog, dist: str) -> list[str]:
    """The plugins an installed distribution provides (empty when it is not installed)."""
    key = normalize_dist(dist)
    return sorted(s.name for s in catalog.all() if normalize_dist(s.dist_name) == key)


def misspelled_use(catalog: Catalog, spec: PluginSpec, used: str) -> str | None:
    """Why ``used`` (not installed) is a typo, when the distribution named for it is there."""
    dist = spec.distribution_for(used)
    offered = provided_by(catalog, dist)
    if not offered:
        return None
    close = closest(used, offered)
    hint = f"; did you mean {close!r}?" if close else ""
    return (
        f"plugin {spec.name} ({spec.label}) uses plugin {used}, but there is no plugin of "
        f"that name: {dist} provides {', '.join(offered)}{hint} (fix the entry "
        f'"{spec.name}.{used}" in [project.entry-points."{USES_GROUP}"] and reinstall)'
    )


def use_warnings(catalog: Catalog, spec: PluginSpec) -> list[str]:
    """Warnings about ``spec``'s ``uses`` that need the whole catalog to see."""
    warnings: list[str] = []
    for used, provider in spec.uses:
        providers = sorted({s.dist_name for s in catalog.plugins.get(used, [])})
        if used not in catalog:
            typo = misspelled_use(catalog, spec, used)
            if typo is not None:
                warnings.append(typo.split(" uses ", 1)[1].replace("plugin ", "", 1))
            else:
                near = closest(used, catalog.names())
                if near is not None:
                    warnings.append(f"uses {used}, which is not installed; did you mean {near!r}?")
        elif normalize_dist(provider) not in {normalize_dist(p) for p in providers}:
            actual = providers[0].replace("-", "_")
            warnings.append(
                f"uses {used} from {provider.replace('_', '-')}, but {used} is provided by "
                f'{", ".join(providers)}: fix the entry to "{spec.name}.{used}" = "{actual}"'
            )
    return warnings


def all_warnings(catalog: Catalog, spec: PluginSpec) -> list[str]:
    """The finder's warnings plus :func:`use_warnings`, without advice they contradict
    (asking to require a distribution whose name is a typo)."""
    extra = use_warnings(catalog, spec)
    wrong = {provider.replace("_", "-") for used, provider in spec.uses if used in catalog}
    wrong = {p for p in wrong if not provided_by(catalog, p)}
    kept = [w for w in spec.warnings if not any(f" from {p} but" in w for p in wrong)]
    return kept + extra
