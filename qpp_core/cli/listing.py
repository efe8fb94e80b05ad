"""``qpp list``, ``qpp graph`` and ``qpp help``: what is installed, from metadata alone.

``list`` and ``graph`` import no plugin code. A plugin is shown as broken only when a load
was tried and failed, by ``qpp run`` or by ``qpp list --check`` (which does import).
``help`` imports the one plugin it describes, to read its docstring and arguments.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, NamedTuple

from qpp_core.apiversion import API_VERSION_CURRENT, API_VERSION_MIN
from qpp_core.discovery.checks import all_warnings
from qpp_core.discovery.finder import Catalog, installed_plugins
from qpp_core.discovery.metadata import PluginSpec
from qpp_core.discovery.resolve import resolve
from qpp_core.errors import ExitStatus, QppError
from qpp_core.loading import failures


class Row(NamedTuple):
    spec: PluginSpec
    usable: bool
    status: str
    warnings: tuple[str, ...] = ()


def _row(catalog: Catalog, spec: PluginSpec) -> Row:
    others = [s for s in catalog.plugins[spec.name] if s is not spec]
    if others:
        providers = ", ".join(s.label for s in others)
        return Row(spec, False, f"conflict: the name is also provided by {providers}")
    broken = failures.known(spec)
    if broken:
        return Row(spec, False, f"broken: {broken}")
    try:
        resolve(catalog, [spec.name])
    except QppError as error:
        return Row(spec, False, f"unusable: {error}")
    return Row(spec, True, "ok")


def rows(catalog: Catalog) -> list[Row]:
    return [
        _row(catalog, spec)._replace(warnings=tuple(all_warnings(catalog, spec)))
        for spec in catalog.all()
    ]


def _check_imports(catalog: Catalog) -> None:
    for spec in catalog.all():
        try:
            module = importlib.import_module(spec.module)
        except KeyboardInterrupt:  # the user's Ctrl-C, not the plugin's fault
            raise
        except BaseException as exc:  # SystemExit too: a plugin cannot end the listing
            failures.record(
                spec,
                f"module {spec.module} failed to import: {type(exc).__name__}: {exc}",
            )
        else:
            problem = _v1_exports(spec, module)
            if problem:
                failures.record(spec, problem)
            else:
                failures.forget(spec)


def _v1_exports(spec: PluginSpec, module: Any) -> str | None:
    """What ``qpp run`` would refuse after import: a version-1 plugin that exports."""
    if spec.api_version >= 2:
        return None
    from qpp_core.discovery.metadata import v2_hint
    from qpp_core.interplugin.exports import collect_exports

    exported = collect_exports(module)
    if not exported:
        return None
    return (
        f"exports {', '.join(sorted(exported))} but targets plugin API version 1; QPP "
        f"exports need version >= 2: {v2_hint(spec)}"
    )


def list_main(args: argparse.Namespace) -> int:
    catalog = installed_plugins()
    if args.check:
        _check_imports(catalog)
    table = rows(catalog)
    if args.json:
        import json

        payload = [
            {
                "name": r.spec.name,
                "distribution": r.spec.dist_name,
                "version": r.spec.dist_version,
                "module": r.spec.module,
                "api_version": r.spec.api_version,
                "uses": list(r.spec.used_names),
                "usable": r.usable,
                "status": r.status,
                "warnings": list(r.warnings),
                "location": r.spec.location,
            }
            for r in table
        ]
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return _check_status(args, table)
    if not table:
        print(
            "no qpp plugins are installed (pip install a distribution with qemu_plugins "
            "entry points, e.g. ./packages/qpp-srv)"
        )
        return 0
    headers = ("NAME", "DISTRIBUTION", "API", "USES", "STATUS")
    lines = [
        (
            r.spec.name,
            r.spec.label,
            f"v{r.spec.api_version}",
            ",".join(r.spec.used_names) or "-",
            r.status if r.usable or args.verbose else r.status.split(":", 1)[0],
        )
        for r in table
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers[:-1])]
    for line in (headers, *lines):
        cells = [cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)]
        print("  ".join([*cells, line[-1]]).rstrip())
    if args.verbose:
        for r in table:
            for warning in r.warnings:
                print(f"warning: {r.spec.name}: {warning}")
    else:
        unusable = sum(not r.usable for r in table)
        warned = sum(len(r.warnings) for r in table)
        notes = [f"{unusable} not usable"] if unusable else []
        notes += [f"{warned} warning{'s' if warned > 1 else ''}"] if warned else []
        if notes:
            why = "says why" if unusable else "shows them"
            print(f"({'; '.join(notes)}; `qpp list --verbose` {why})")
    print(f"plugin API versions supported: {API_VERSION_MIN}-{API_VERSION_CURRENT}")
    return _check_status(args, table)


def _check_status(args: argparse.Namespace, table: list[Row]) -> int:
    """``--check`` fails (PLUGIN_IMPORT) when any plugin is broken; a plain listing is 0."""
    if args.check and any(not r.usable and r.status.startswith("broken") for r in table):
        return int(ExitStatus.PLUGIN_IMPORT)
    return 0


def graph_main(args: argparse.Namespace) -> int:
    catalog = installed_plugins()
    specs = catalog.all()
    if args.dot:
        print("digraph qpp_plugins {")
        print("  rankdir=LR;")
        for spec in specs:
            print(f'  "{spec.name}" [label="{spec.name}\\n{spec.label}"];')
        for spec in specs:
            for used in spec.used_names:
                style = "" if used in catalog else " [style=dashed, color=red]"
                print(f'  "{spec.name}" -> "{used}"{style};')
        print("}")
        return 0
    for spec in specs:
        uses = ", ".join(
            used if used in catalog else f"{used} (not installed)" for used in spec.used_names
        )
        print(f"{spec.name} -> {uses}" if uses else spec.name)
    return 0


def help_main(args: argparse.Namespace) -> int:
    catalog = installed_plugins()
    try:
        spec = catalog.get(args.name)
    except QppError as error:
        print(f"qpp: error: {error}", file=sys.stderr)
        return int(error.exit_status)
    try:  # what `qpp run -p NAME` would refuse before importing, refused the same way
        resolve(catalog, [spec.name])
    except QppError as error:
        print(f"qpp: error: {error}", file=sys.stderr)
        return int(error.exit_status)
    print(f"{spec.name}  ({spec.label}, plugin API v{spec.api_version})")
    if spec.used_names:
        print(f"uses: {', '.join(spec.used_names)}")
    try:
        module: Any = importlib.import_module(spec.module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        print(
            f"qpp: error: plugin {spec.name} failed to import: {type(exc).__name__}: {exc} "
            f"(module {spec.module} of {spec.label}; fix or reinstall it)",
            file=sys.stderr,
        )
        return int(ExitStatus.PLUGIN_IMPORT)
    doc = (module.__doc__ or "").strip()
    if doc:
        print()
        print(doc)
    from qpp_core.loading.args import describe

    declared = getattr(module, "qemu_plugin_args", None)
    print()
    if declared is None:
        print("arguments: not declared (passed to the plugin unchecked)")
    else:
        print(f"arguments: {describe(declared) if declared else 'none'}")
        for key in sorted(declared):
            if declared[key].help:
                print(f"  {key}: {declared[key].help}")
    return 0


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lister = subparsers.add_parser("list", help="list installed plugins (imports none)")
    lister.add_argument("--json", action="store_true", help="machine-readable output")
    lister.add_argument("--verbose", "-v", action="store_true", help="say why a plugin is unusable")
    lister.add_argument(
        "--check", action="store_true", help="also try importing every plugin, marking failures"
    )
    lister.set_defaults(handler=list_main)
    grapher = subparsers.add_parser("graph", help="print the plugins' uses graph")
    grapher.add_argument("--dot", action="store_true", help="Graphviz DOT instead of text")
    grapher.set_defaults(handler=graph_main)
    helper = subparsers.add_parser("help", help="describe one plugin and its arguments")
    helper.add_argument("name", help="plugin name")
    helper.set_defaults(handler=help_main)
