"""QPP functions: ``<plugin>_<func>_qpp`` and ``qpp.<plugin>.<func>``, with useful errors."""

from __future__ import annotations

import types
from typing import cast

import pytest
from fakesite import FakeSite, load, log_text

from qpp_core import QppUsageError
from qpp_core.errors import PluginInstallError
from qpp_core.session import Session

SRV = """
from qpp_core import export

@export
def do_add(x):
    return x + 1

@export
def do_sub(x):
    return x - 1

def private(x):
    return x
"""


def namespace() -> types.ModuleType:
    """Non-plugin code's ``qpp``, with its run-time names (its static type has only the
    methods: plugins are to take the typed route, ``qpp.typed``)."""
    from qpp_core import qpp

    return cast(types.ModuleType, qpp)


def diagnose(name: str) -> str:
    """What a plugin would be told when ``qpp.<name>`` fails."""
    from qpp_core.interplugin.namespace import explain

    with pytest.raises(AttributeError) as info:
        getattr(namespace(), name)
    diagnosis = explain(info.value)
    assert diagnosis is not None
    return str(diagnosis)


def test_qpp_names_resolve_to_the_exported_functions(site: FakeSite, session: Session) -> None:
    site.plugin("my_srv", SRV)
    load(session, site, "my_srv")
    qpp = namespace()
    assert qpp.my_srv_do_add_qpp(0) == 1
    assert qpp.my_srv.do_sub(3) == 2
    assert qpp.plugin("my_srv").do_add(41) == 42


def test_after_the_first_lookup_the_function_is_a_plain_attribute(
    site: FakeSite, session: Session
) -> None:
    site.plugin("my_srv", SRV)
    load(session, site, "my_srv")
    qpp = namespace()
    function = qpp.my_srv_do_add_qpp
    assert vars(qpp)["my_srv_do_add_qpp"] is function
    assert function is session.by_name["my_srv"].exports["do_add"]


def test_unexported_function_lists_the_exports(site: FakeSite, session: Session) -> None:
    site.plugin("my_srv", SRV)
    load(session, site, "my_srv")
    assert diagnose("my_srv_private_qpp") == (
        "plugin my_srv exports no function 'private' (it exports: do_add, do_sub)"
    )


def test_installed_but_not_loaded(site: FakeSite, session: Session) -> None:
    site.plugin("my_srv", SRV)
    assert diagnose("my_srv_do_add_qpp").startswith(
        "plugin my_srv is installed but not loaded; select it with -p my_srv"
    )


def test_not_installed(site: FakeSite, session: Session) -> None:
    assert "no plugin of that name is loaded or installed" in diagnose("ghost_do_add_qpp")


def test_a_plugin_may_only_call_what_it_uses(site: FakeSite, session: Session) -> None:
    site.plugin("my_srv", SRV)
    site.plugin(
        "sneaky",
        """
        from qpp_core import hookimpl, qpp

        @hookimpl
        def qemu_plugin_install(id, info, args):
            qpp.my_srv_do_add_qpp(1)
        """,
    )
    with pytest.raises(PluginInstallError) as info:
        load(session, site, "my_srv", "sneaky")
    assert "plugin sneaky calls plugin my_srv without declaring that it uses it" in str(info.value)
    assert '"sneaky.my_srv" = "my_srv_dist"' in str(info.value)
    assert "sneaky" not in session.by_name


def test_a_plugin_that_declares_uses_may_call(site: FakeSite, session: Session) -> None:
    site.plugin("my_srv", SRV)
    site.plugin(
        "client",
        """
        from qpp_core import hookimpl, qpp, qemu_plugin_outs

        @hookimpl
        def qemu_plugin_install(id, info, args):
            qemu_plugin_outs(f"{qpp.my_srv_do_add_qpp(0)} {qpp.my_srv.do_sub(3)}")
        """,
        uses=["my_srv"],
    )
    load(session, site, "client")
    assert log_text(session) == "1 2"


def test_ambiguous_qpp_names_are_rejected_at_load(site: FakeSite, session: Session) -> None:
    site.plugin("a", "from qpp_core import export\n@export\ndef b_c(): return 'a'\n")
    site.plugin("a_b", "from qpp_core import export\n@export\ndef c(): return 'a_b'\n")
    load(session, site, "a")
    with pytest.raises(QppUsageError) as info:
        load(session, site, "a_b")
    assert str(info.value) == (
        "plugin a_b cannot load next to plugin a: a_b's c and a's b_c are both called "
        "a_b_c_qpp; rename one of the functions or plugins"
    )


def test_names_with_underscores_resolve_unambiguously(site: FakeSite, session: Session) -> None:
    site.plugin("a", "from qpp_core import export\n@export\ndef b_c(): return 'a'\n")
    site.plugin("a_b", "from qpp_core import export\n@export\ndef d(): return 'a_b'\n")
    load(session, site, "a", "a_b")
    qpp = namespace()
    assert qpp.a_b_c_qpp() == "a"
    assert qpp.a_b_d_qpp() == "a_b"


def test_uninstall_drops_cached_functions(site: FakeSite, session: Session) -> None:
    site.plugin("my_srv", SRV)
    load(session, site, "my_srv")
    qpp = namespace()
    assert qpp.my_srv_do_add_qpp(1) == 2
    session.uninstall(session.by_name["my_srv"])
    assert "my_srv_do_add_qpp" not in vars(qpp)
    assert "installed but not loaded" in diagnose("my_srv_do_add_qpp")


def test_version_one_plugins_cannot_export(site: FakeSite, session: Session) -> None:
    site.plugin("old", SRV, api="")
    with pytest.raises(
        QppUsageError, match="targets plugin API version 1; QPP exports need version >= 2"
    ):
        load(session, site, "old")


def test_typed_resolves_every_declared_name_up_front(site: FakeSite, session: Session) -> None:
    from typing import Protocol

    site.plugin("my_srv", SRV)
    load(session, site, "my_srv")

    class Good(Protocol):
        def my_srv_do_add_qpp(self, x: int) -> int: ...

    class Bad(Protocol):
        def my_srv_do_mul_qpp(self, x: int) -> int: ...

    assert namespace().typed(Good).my_srv_do_add_qpp(1) == 2
    with pytest.raises(QppUsageError, match="exports no function 'do_mul'"):
        namespace().typed(Bad)
