"""Loading: every failure names the plugin and its distribution, and leaves nothing behind."""

from __future__ import annotations

import pytest
from fakesite import FakeSite, load, log_text

from qpp_core import Arg
from qpp_core.errors import (
    ApiVersionError,
    ExitStatus,
    PluginArgumentError,
    PluginImportError,
    PluginInstallError,
)
from qpp_core.loading import failures
from qpp_core.loading.args import PluginRequest, merge_requests
from qpp_core.session import Session


def test_import_error_names_plugin_distribution_and_cause(site: FakeSite, session: Session) -> None:
    site.plugin("broken", "import not_a_module_anywhere\n")
    with pytest.raises(PluginImportError) as info:
        load(session, site, "broken")
    assert str(info.value) == (
        "plugin broken (broken-dist 1.0) failed to import module broken_mod: "
        "ModuleNotFoundError: No module named 'not_a_module_anywhere'; fix or reinstall broken-dist"
    )
    assert info.value.exit_status == ExitStatus.PLUGIN_IMPORT
    assert failures.known(site.catalog().get("broken")) == str(info.value)


def test_a_later_successful_load_clears_the_broken_mark(site: FakeSite, session: Session) -> None:
    site.plugin("flaky")
    spec = site.catalog().get("flaky")
    failures.record(spec, "it was broken")
    load(session, site, "flaky")
    assert failures.known(spec) is None


def test_misspelled_hook_is_an_error_with_a_suggestion(site: FakeSite, session: Session) -> None:
    site.plugin(
        "typo", "from qpp_core import hookimpl\n@hookimpl\ndef qemu_plugin_atexti(): pass\n"
    )
    with pytest.raises(
        PluginImportError, match="unknown hook qemu_plugin_atexti; did you mean qemu_plugin_atexit"
    ):
        load(session, site, "typo")
    assert not session.pm.get_plugins()


def test_hook_with_wrong_arguments_names_the_hook(site: FakeSite, session: Session) -> None:
    site.plugin(
        "wrongargs",
        "from qpp_core import hookimpl\n@hookimpl\ndef qemu_plugin_install(idd): pass\n",
    )
    with pytest.raises(PluginImportError) as info:
        load(session, site, "wrongargs")
    assert "plugin wrongargs" in str(info.value) and "qemu_plugin_install" in str(info.value)
    assert "idd" in str(info.value)


def test_module_and_metadata_versions_must_agree(site: FakeSite, session: Session) -> None:
    site.plugin("liar", "qemu_plugin_version = 1\n", api="v2")
    with pytest.raises(
        ApiVersionError, match="says qemu_plugin_version = 1 but liar-dist's metadata says 2"
    ):
        load(session, site, "liar")


def test_install_exception_is_wrapped_and_the_plugin_removed(
    site: FakeSite, session: Session
) -> None:
    site.plugin(
        "raiser",
        """
        from qpp_core import hookimpl
        @hookimpl
        def qemu_plugin_install(id, info, args):
            raise RuntimeError("no licence")
        @hookimpl
        def qemu_plugin_atexit():
            pass
    """,
    )
    with pytest.raises(PluginInstallError) as info:
        load(session, site, "raiser")
    assert (
        str(info.value)
        == "plugin raiser (raiser-dist 1.0) failed to install: RuntimeError: no licence"
    )
    assert session.by_name == {}
    assert not session.pm.hook.qemu_plugin_atexit.get_hookimpls()


ARGS = """
from qpp_core import Arg, hookimpl, qemu_plugin_outs
qemu_plugin_args = {
    "inline": Arg(bool, True, "count inline"),
    "limit": Arg(int, 10, "how many"),
    "match": Arg(str, help="mnemonic", multiple=True),
}
@hookimpl
def qemu_plugin_install(id, info, args):
    qemu_plugin_outs(f"{args['inline']} {args['limit']} {args['match']} {args.argv}")
"""


def test_declared_arguments_are_parsed(site: FakeSite, session: Session) -> None:
    site.plugin("counter", ARGS)
    items = merge_requests(
        [
            PluginRequest.parse("counter,inline=off,limit=0x10,match=add"),
            PluginRequest.parse("counter,match=mov"),
        ]
    )
    load(session, site, "counter", args=items)
    assert log_text(session) == (
        "False 16 ['add', 'mov'] ('inline=off', 'limit=0x10', 'match=add', 'match=mov')"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "counter,colour=red",
            "plugin counter has no argument 'colour'; it accepts: inline=<bool, default True>, limit=<int, default 10>, match=<str>",
        ),
        (
            "counter,inline=maybe",
            "plugin counter: inline=maybe: expected one of on, off, true, false, yes, no",
        ),
        ("counter,limit=ten", "plugin counter: limit=ten: expected an integer (decimal or 0x...)"),
        (
            "counter,limit=1,limit=2",
            "plugin counter got limit= twice with different values; give it once",
        ),
    ],
)
def test_bad_arguments_fail_before_install(
    site: FakeSite, session: Session, text: str, message: str
) -> None:
    site.plugin("counter", ARGS)
    with pytest.raises(PluginArgumentError) as info:
        load(session, site, "counter", args=merge_requests([PluginRequest.parse(text)]))
    assert str(info.value).startswith(message)
    assert info.value.exit_status == ExitStatus.PLUGIN_ARGS
    assert log_text(session) == ""


def test_argument_items_must_be_key_value() -> None:
    with pytest.raises(
        PluginArgumentError, match="argument 'inline' of plugin insn is not KEY=VALUE"
    ):
        PluginRequest.parse("insn,inline")


def test_undeclared_arguments_pass_through_as_strings(site: FakeSite, session: Session) -> None:
    site.plugin(
        "raw",
        """
        from qpp_core import hookimpl, qemu_plugin_outs
        @hookimpl
        def qemu_plugin_install(args):
            qemu_plugin_outs(repr(dict(args)))
    """,
    )
    load(session, site, "raw", args={"raw": [("a", "1"), ("b", "x=y")]})
    assert log_text(session) == "{'a': '1', 'b': 'x=y'}"


def test_arg_declaration_type() -> None:
    assert Arg(int).parse("n", "0x20") == 32


@pytest.mark.parametrize(
    ("text", "name", "items"),
    [
        ("insn", "insn", ()),
        ("insn,inline=on", "insn", (("inline", "on"),)),
        ("contrib/plugins/libhotblocks.so", "hotblocks", ()),
        ("file=./libinsn.so,inline=on", "insn", (("inline", "on"),)),
        ("libmem.so,callback=on", "mem", (("callback", "on"),)),
    ],
)
def test_plugin_requests_accept_qemu_spellings(
    text: str, name: str, items: tuple[tuple[str, str], ...]
) -> None:
    assert PluginRequest.parse(text) == PluginRequest(name, items)
