"""Turn the user's ``-p`` selection into a load order, or a precise error.

Everything a selected plugin uses is loaded before it (QEMU's QPP made users order
``-plugin`` flags by hand; qpp does it from metadata). The order is a depth-first
post-order: selected plugins in command-line order, each preceded by the plugins it uses in
the order of their names, so the same command always loads the same way. All of this is
settled from metadata, before any plugin module is imported.
"""

from __future__ import annotations

from collections.abc import Sequence

from qpp_core.apiversion import API_VERSION_CURRENT, API_VERSION_MIN
from qpp_core.discovery.checks import misspelled_use
from qpp_core.discovery.finder import Catalog, unknown_plugin_message
from qpp_core.discovery.metadata import PluginSpec
from qpp_core.errors import (
    ApiVersionError,
    DependencyCycleError,
    MissingDependencyError,
    PluginMetadataError,
    UnknownPluginError,
)


def check_usable(spec: PluginSpec) -> None:
    """Raise if the plugin's metadata, or its API version, rules it out."""
    if spec.problems:
        raise PluginMetadataError(
            f"plugin {spec.name} ({spec.label}) has unusable metadata: "
            f"{'; '.join(spec.problems)}; ask its author or reinstall it"
        )
    if not API_VERSION_MIN <= spec.api_version <= API_VERSION_CURRENT:
        raise ApiVersionError(
            f"plugin {spec.name} ({spec.label}) targets plugin API version "
            f"{spec.api_version}, but this qpp-core supports versions {API_VERSION_MIN} to "
            f"{API_VERSION_CURRENT}; install a matching version of "
            f"{'qpp-core' if spec.api_version > API_VERSION_CURRENT else spec.dist_name}"
        )


def resolve(catalog: Catalog, selected: Sequence[str]) -> list[PluginSpec]:
    """The plugins to load, dependencies first; each plugin appears once."""
    for name in selected:
        if name not in catalog:
            raise UnknownPluginError(unknown_plugin_message(name, catalog.names()))
    order: list[PluginSpec] = []
    done: set[str] = set()
    stack: list[str] = []

    def visit(name: str, user: PluginSpec | None) -> None:
        if name in done:
            return
        if name in stack:
            cycle = [*stack[stack.index(name) :], name]
            raise DependencyCycleError(
                f"plugins use each other in a cycle: {' -> '.join(cycle)}; "
                "a plugin cannot be loaded before itself, remove one of these uses"
            )
        if name not in catalog and user is not None:
            typo = misspelled_use(catalog, user, name)
            if typo is not None:
                raise PluginMetadataError(typo)
            raise MissingDependencyError(
                f"plugin {user.name} ({user.label}) uses plugin {name}, which is not "
                f"installed: pip install {user.distribution_for(name)}"
            )
        spec = catalog.get(name)
        check_usable(spec)
        stack.append(name)
        for used in sorted(spec.used_names):
            visit(used, spec)
        stack.pop()
        done.add(name)
        order.append(spec)

    for name in selected:
        visit(name, None)
    return order
