"""QPP callbacks: created by one plugin, registered on by others, run by the owner."""

from __future__ import annotations

import pytest
from fakesite import FakeSite, load

from qpp_core import (
    QppUsageError,
    qemu_plugin_create_callback,
    qemu_plugin_reg_callback,
    qemu_plugin_run_callback,
    qemu_plugin_unreg_callback,
    qpp_callback,
)
from qpp_core.errors import PluginInstallError
from qpp_core.session import LoadedPlugin, Session

OWNER = """
from qpp_core import hookimpl, qemu_plugin_create_callback
ID = None

@hookimpl
def qemu_plugin_install(id, info, args):
    global ID
    ID = id
    qemu_plugin_create_callback(id, "on_x")
"""


@pytest.fixture
def owner(site: FakeSite, session: Session) -> LoadedPlugin:
    site.plugin("owner", OWNER)
    load(session, site, "owner")
    return session.by_name["owner"]


def run(owner: LoadedPlugin, evdata: object = None, udata: object = None) -> bool:
    return qemu_plugin_run_callback(owner.id, "on_x", evdata, udata)


def test_functions_run_in_registration_order_and_twice_if_registered_twice(
    owner: LoadedPlugin,
) -> None:
    calls: list[tuple[str, object, object]] = []

    def first(evdata: object, udata: object) -> None:
        calls.append(("first", evdata, udata))

    def second(evdata: object, udata: object) -> None:
        calls.append(("second", evdata, udata))

    qemu_plugin_reg_callback("owner", "on_x", first)
    qemu_plugin_reg_callback("owner", "on_x", second)
    qemu_plugin_reg_callback("owner", "on_x", first)
    assert run(owner, 1, 2) is True
    assert calls == [("first", 1, 2), ("second", 1, 2), ("first", 1, 2)]


def test_the_handle_runs_fast_and_collects_results(owner: LoadedPlugin, session: Session) -> None:
    callback = session.callbacks.get_own(owner, "on_x")
    qemu_plugin_reg_callback("owner", "on_x", lambda evdata, udata: evdata + 1)
    qemu_plugin_reg_callback("owner", "on_x", lambda evdata: evdata * 10)
    qemu_plugin_reg_callback("owner", "on_x", lambda: "none")
    assert callback.run(4) == [5, 40, "none"]


def test_each_callback_is_a_pluggy_hook_namespaced_by_its_owner(
    owner: LoadedPlugin, site: FakeSite, session: Session
) -> None:
    site.plugin("other", OWNER)
    load(session, site, "other")
    seen: list[str] = []
    qemu_plugin_reg_callback("owner", "on_x", lambda evdata, udata: seen.append("owner"))
    qemu_plugin_reg_callback("other", "on_x", lambda evdata, udata: seen.append("other"))
    hook = getattr(session.pm.hook, "owner.on_x")
    assert len(hook.get_hookimpls()) == 1
    hook(evdata=None, udata=None)  # plain pluggy calls reach the same functions
    assert seen == ["owner"]


def test_unregister_removes_the_first_match_and_reports_misses(owner: LoadedPlugin) -> None:
    calls: list[object] = []

    def fn(evdata: object, udata: object) -> None:
        calls.append(evdata)

    qemu_plugin_reg_callback("owner", "on_x", fn)
    qemu_plugin_reg_callback("owner", "on_x", fn)
    assert qemu_plugin_unreg_callback("owner", "on_x", fn) is True
    run(owner, "a")
    assert calls == ["a"]
    assert qemu_plugin_unreg_callback("owner", "on_x", fn) is True
    assert qemu_plugin_unreg_callback("owner", "on_x", fn) is False
    assert qemu_plugin_unreg_callback("owner", "nope", fn) is False
    assert qemu_plugin_unreg_callback("nobody", "on_x", fn) is False


def test_registering_on_unknown_plugin_or_callback_is_an_error(owner: LoadedPlugin) -> None:
    with pytest.raises(QppUsageError, match="plugin ghost is not loaded"):
        qemu_plugin_reg_callback("ghost", "on_x", print)
    with pytest.raises(
        QppUsageError, match=r"plugin owner has no QPP callback 'on_y' \(it created: on_x\)"
    ):
        qemu_plugin_reg_callback("owner", "on_y", print)


def test_a_typo_among_many_callbacks_gets_the_closest_names(owner: LoadedPlugin) -> None:
    """With hundreds of callbacks (qpp-syscalls), the error suggests, it does not list."""
    from qpp_core import qemu_plugin_create_callback

    for i in range(300):
        qemu_plugin_create_callback(owner.id, f"on_sys_call_{i}")
    qemu_plugin_create_callback(owner.id, "on_sys_openat_enter")
    with pytest.raises(QppUsageError) as info:
        qemu_plugin_reg_callback("owner", "on_sys_opnat_enter", print)
    message = str(info.value)
    assert "did you mean 'on_sys_openat_enter'" in message
    assert len(message) < 200  # not the 300 names
    with pytest.raises(QppUsageError, match="none of its 302 callbacks is close"):
        qemu_plugin_reg_callback("owner", "zzz", print)


def test_bad_signatures_are_rejected_naming_the_callback(owner: LoadedPlugin) -> None:
    # unannotated on purpose: the message quotes the signature as plugin authors write it
    def wrong(event, data):  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(QppUsageError) as info:
        qemu_plugin_reg_callback("owner", "on_x", wrong)
    message = str(info.value)
    assert "owner.on_x" in message and "wrong(event, data)" in message
    assert "passes (evdata, udata)" in message
    assert "hookimpl" not in message and "qpp-cb-" not in message  # no pluggy internals
    assert "\n" not in message


def test_creating_twice_and_running_uncreated_are_errors(owner: LoadedPlugin) -> None:
    with pytest.raises(QppUsageError, match="already created QPP callback 'on_x'"):
        qemu_plugin_create_callback(owner.id, "on_x")
    with pytest.raises(QppUsageError, match="runs QPP callback 'never' but never created it"):
        qemu_plugin_run_callback(owner.id, "never", None, None)


def test_version_one_plugin_cannot_create_callbacks(site: FakeSite, session: Session) -> None:
    site.plugin("old", OWNER, api="")
    with pytest.raises(QppUsageError) as info:  # QPP misuse: 79 in install as elsewhere
        load(session, site, "old")
    message = str(info.value)
    assert message.startswith("plugin old targets plugin API version 1")
    assert '[project.entry-points."qemu_plugins.version"] old = "v2"' in message


def test_a_run_sees_the_registrations_of_its_start(owner: LoadedPlugin) -> None:
    calls: list[str] = []

    def late(evdata: object, udata: object) -> None:
        calls.append("late")

    def registers_and_unregisters(evdata: object, udata: object) -> None:
        calls.append("first")
        qemu_plugin_reg_callback("owner", "on_x", late)
        qemu_plugin_unreg_callback("owner", "on_x", victim)

    def victim(evdata: object, udata: object) -> None:
        calls.append("victim")

    qemu_plugin_reg_callback("owner", "on_x", registers_and_unregisters)
    qemu_plugin_reg_callback("owner", "on_x", victim)
    run(owner)
    assert calls == ["first", "victim"]
    calls.clear()
    qemu_plugin_unreg_callback("owner", "on_x", registers_and_unregisters)
    run(owner)
    assert calls == ["late"]


def test_nested_runs_work_and_runaway_recursion_is_stopped(owner: LoadedPlugin) -> None:
    depth: list[int] = []

    def nested(evdata: int, udata: object) -> None:
        depth.append(evdata)
        if evdata < 3:
            run(owner, evdata + 1)

    qemu_plugin_reg_callback("owner", "on_x", nested)
    run(owner, 0)
    assert depth == [0, 1, 2, 3]
    qemu_plugin_unreg_callback("owner", "on_x", nested)
    qemu_plugin_reg_callback("owner", "on_x", lambda evdata, udata: run(owner))
    with pytest.raises(QppUsageError, match="runs itself recursively without end"):
        run(owner)


def test_uninstalling_the_owner_removes_its_callbacks(
    owner: LoadedPlugin, session: Session
) -> None:
    qemu_plugin_reg_callback("owner", "on_x", lambda evdata, udata: None)
    session.uninstall(owner)
    assert not hasattr(session.pm.hook, "owner.on_x")
    assert session.callbacks.callbacks == {}
    assert session.callbacks.registrations == []


def test_uninstalling_a_registrant_removes_its_registrations(
    owner: LoadedPlugin, site: FakeSite, session: Session
) -> None:
    site.plugin(
        "client",
        """
        from qpp_core import hookimpl, qpp_callback

        @hookimpl
        def qemu_plugin_install(id, info, args):
            @qpp_callback("owner", "on_x")
            def on_x(evdata, udata):
                evdata.append("client")
        """,
        uses=["owner"],
    )
    load(session, site, "client")
    seen: list[str] = []
    run(owner, seen)
    assert seen == ["client"]
    session.uninstall(session.by_name["client"])
    run(owner, seen)
    assert seen == ["client"]
    assert session.callbacks.registrations == []


def test_a_failed_install_leaves_nothing_behind(
    owner: LoadedPlugin, site: FakeSite, session: Session
) -> None:
    site.plugin(
        "flaky",
        """
        from qpp_core import hookimpl, qemu_plugin_create_callback, qemu_plugin_reg_callback

        @hookimpl
        def qemu_plugin_install(id, info, args):
            qemu_plugin_create_callback(id, "mine")
            qemu_plugin_reg_callback("owner", "on_x", lambda evdata, udata: None)
            return 1
        """,
        uses=["owner"],
    )
    with pytest.raises(PluginInstallError, match="qemu_plugin_install returned 1"):
        load(session, site, "flaky")
    assert "flaky" not in session.by_name
    assert list(session.callbacks.callbacks) == ["owner.on_x"]
    assert session.callbacks.registrations == []
    assert not session.pm.has_plugin("flaky")


def test_decorator_registration_outside_plugins_is_unowned(owner: LoadedPlugin) -> None:
    @qpp_callback("owner", "on_x")
    def handler(evdata: object, udata: object) -> str:
        return "handled"

    assert run(owner) is True
    assert handler(None, None) == "handled"
