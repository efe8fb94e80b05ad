"""Selection: dependencies first, deterministic order, and every error before import."""

from __future__ import annotations

import pytest
from fakesite import FakeSite

from qpp_core.discovery.resolve import resolve
from qpp_core.errors import (
    ApiVersionError,
    DependencyCycleError,
    DuplicatePluginError,
    ExitStatus,
    MissingDependencyError,
    PluginMetadataError,
    UnknownPluginError,
)


def names(site: FakeSite, *selected: str) -> list[str]:
    return [spec.name for spec in resolve(site.catalog(), list(selected))]


def test_used_plugins_load_first_in_name_order(site: FakeSite) -> None:
    site.plugin("base")
    site.plugin("zlib", uses=["base"])
    site.plugin("alib", uses=["base"])
    site.plugin("top", uses=["zlib", "alib"])
    assert names(site, "top") == ["base", "alib", "zlib", "top"]


def test_selection_order_is_kept_and_each_plugin_loads_once(site: FakeSite) -> None:
    site.plugin("srv")
    site.plugin("client", uses=["srv"])
    site.plugin("other")
    assert names(site, "other", "client", "srv", "other") == ["other", "srv", "client"]


def test_cycle_prints_the_path(site: FakeSite) -> None:
    site.plugin("a", uses=["b"])
    site.plugin("b", uses=["c"])
    site.plugin("c", uses=["a"])
    with pytest.raises(DependencyCycleError) as info:
        names(site, "a")
    assert "a -> b -> c -> a" in str(info.value)
    assert info.value.exit_status == ExitStatus.DEPENDENCY_CYCLE


def test_self_use_is_a_cycle(site: FakeSite) -> None:
    site.plugin("narcissus", uses=["narcissus"])
    with pytest.raises(DependencyCycleError, match="narcissus -> narcissus"):
        names(site, "narcissus")


def test_missing_dependency_names_the_user_and_the_distribution(site: FakeSite) -> None:
    site.dist(
        "qpp-client",
        {"qpp_client": "m"},
        api={"qpp_client": "v2"},
        uses={"qpp_client.qpp_srv": "qpp_srv"},
        requires=["qpp-srv"],
    )
    with pytest.raises(MissingDependencyError) as info:
        names(site, "qpp_client")
    assert str(info.value) == (
        "plugin qpp_client (qpp-client 1.0) uses plugin qpp_srv, which is not installed: "
        "pip install qpp-srv"
    )
    assert info.value.exit_status == ExitStatus.MISSING_DEPENDENCY


def test_unknown_selected_plugin(site: FakeSite) -> None:
    site.plugin("insn")
    with pytest.raises(UnknownPluginError, match=r"unknown plugin 'isn'; did you mean 'insn'\?"):
        names(site, "isn")


def test_duplicate_provider_of_a_used_plugin(site: FakeSite) -> None:
    site.dist("one", {"srv": "m1"}, api={"srv": "v2"})
    site.dist("two", {"srv": "m2"}, api={"srv": "v2"})
    site.plugin("client", uses=["srv"])
    with pytest.raises(DuplicatePluginError, match="provided by one 1.0 .* and two 1.0"):
        names(site, "client")


@pytest.mark.parametrize("version", ["v0", "v3"])
def test_api_version_outside_the_supported_range(site: FakeSite, version: str) -> None:
    site.plugin("future", api=version)
    with pytest.raises(ApiVersionError) as info:
        names(site, "future")
    assert f"targets plugin API version {version[1:]}" in str(info.value)
    assert "supports versions 1 to 2" in str(info.value)


def test_metadata_problems_make_a_plugin_unusable(site: FakeSite) -> None:
    site.dist("bad", {"bad": "m"}, api={"bad": "vX"})
    with pytest.raises(PluginMetadataError, match="unusable metadata"):
        names(site, "bad")


def test_nothing_is_imported_to_resolve(site: FakeSite) -> None:
    site.plugin("srv", "raise SystemExit('imported')\n")
    site.plugin("client", "raise SystemExit('imported')\n", uses=["srv"])
    assert names(site, "client") == ["srv", "client"]
