"""Discovery reads installed metadata only, records problems, and is deterministic."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fakesite import FakeSite

from qpp_core.discovery.metadata import PluginSpec
from qpp_core.errors import DuplicatePluginError, UnknownPluginError


def test_reads_name_module_version_uses_and_requirements(site: FakeSite) -> None:
    site.dist(
        "qpp-client",
        {"qpp_client": "qpp_client.plugin"},
        version="0.3",
        api={"qpp_client": "v2"},
        uses={"qpp_client.qpp_srv": "qpp_srv"},
        requires=["qpp-core>=0.1", "qpp_srv (>=0.1)"],
    )
    spec = site.catalog().get("qpp_client")
    assert spec == PluginSpec(
        name="qpp_client",
        module="qpp_client.plugin",
        dist_name="qpp-client",
        dist_version="0.3",
        api_version=2,
        uses=(("qpp_srv", "qpp_srv"),),
        requires=frozenset({"qpp-core", "qpp-srv"}),
        location=spec.location,
    )
    assert spec.location.endswith("qpp_client-0.3.dist-info")
    assert spec.distribution_for("qpp_srv") == "qpp-srv"


def test_does_not_import_plugin_modules(site: FakeSite) -> None:
    site.plugin("boom", "raise RuntimeError('imported!')\n")
    catalog = site.catalog()
    assert catalog.names() == ["boom"]
    assert "boom_mod" not in sys.modules


def test_order_is_sorted_by_plugin_then_distribution(site: FakeSite) -> None:
    for name in ("zeta", "alpha", "mid"):
        site.plugin(name)
    site.dist("b-dist", {"alpha": "x"})
    catalog = site.catalog()
    assert catalog.names() == ["alpha", "mid", "zeta"]
    assert [s.dist_name for s in catalog.plugins["alpha"]] == ["alpha-dist", "b-dist"]


def test_version_defaults_to_one_and_bad_versions_are_problems(site: FakeSite) -> None:
    site.dist("old", {"old": "old_mod"})
    site.dist("bad", {"bad": "bad_mod"}, api={"bad": "two"})
    catalog = site.catalog()
    assert catalog.get("old").api_version == 1
    assert catalog.get("old").problems == ()
    assert "not a version like 'v2'" in catalog.get("bad").problems[0]


def test_uses_requires_version_two(site: FakeSite) -> None:
    site.dist("v1", {"v1": "m"}, api={"v1": "v1"}, uses={"v1.other": "other"})
    assert "QPP needs version >= 2" in site.catalog().get("v1").problems[0]


def test_invalid_plugin_name_is_a_problem(site: FakeSite) -> None:
    site.dist("weird", {"has-dash": "m"})
    assert "not an identifier" in site.catalog().get("has-dash").problems[0]


def test_uses_without_requirement_warns(site: FakeSite) -> None:
    site.dist("lazy", {"lazy": "m"}, api={"lazy": "v2"}, uses={"lazy.srv": "srv_dist"})
    spec = site.catalog().get("lazy")
    assert spec.problems == ()
    assert spec.warnings == (
        "uses srv from srv-dist but does not require that distribution "
        "(add it to [project] dependencies)",
    )


def test_uses_within_the_same_distribution_needs_no_requirement(site: FakeSite) -> None:
    site.dist(
        "pair",
        {"a": "m", "b": "m"},
        api={"a": "v2", "b": "v2"},
        uses={"b.a": "pair"},
    )
    assert site.catalog().get("b").warnings == ()


def test_distributions_without_plugins_are_ignored(site: FakeSite) -> None:
    site.dist("plain", None)
    info = site.root / "other-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other\nVersion: 1.0\n")
    assert site.catalog().names() == []


def test_duplicate_names_are_kept_and_reported_with_both_providers(site: FakeSite) -> None:
    site.dist("one", {"dup": "m1"})
    site.dist("two", {"dup": "m2"})
    with pytest.raises(DuplicatePluginError) as info:
        site.catalog().get("dup")
    assert "one 1.0" in str(info.value) and "two 1.0" in str(info.value)


def test_unknown_plugin_suggests_the_closest_name(site: FakeSite) -> None:
    site.plugin("qpp_client")
    site.plugin("qpp_srv")
    with pytest.raises(UnknownPluginError) as info:
        site.catalog().get("qpp_clent")
    message = str(info.value)
    assert "did you mean 'qpp_client'?" in message
    assert "installed: qpp_client, qpp_srv" in message


def test_a_shadowed_copy_of_a_distribution_counts_once(site: FakeSite, tmp_path: Path) -> None:
    site.dist("dup-dist", {"dup": "m"}, version="2.0")
    older = FakeSite(tmp_path / "older")
    older.dist("dup-dist", {"dup": "m"}, version="1.0")
    from qpp_core.discovery.finder import find_plugins

    catalog = find_plugins([str(site.root), str(older.root)])
    assert [s.dist_version for s in catalog.plugins["dup"]] == ["2.0"]
