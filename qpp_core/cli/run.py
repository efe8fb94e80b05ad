"""``qpp run``: qemu-user's command line, plus plugins selected by name."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qpp_core.errors import ExitStatus, QppError

if TYPE_CHECKING:
    from qpp_core.loading.args import PluginRequest

DESCRIPTION = """\
Run a static Linux ELF program (x86_64, aarch64, arm, riscv64, mipsel) on unicorn, as
qemu-user does, with plugins. Without BINARY, runs qpp's built-in guest (a hello program).
Options use qemu-user's spellings; everything after BINARY goes to the guest."""

EPILOG = """\
examples:
  qpp run -p qpp_client                     built-in guest; qpp_srv loads first, automatically
  qpp run -p insn,inline=off -D insn.log ./prog arg1
  qpp run -E LANG=C -U HOME -cpu qemu64 -strace ./prog
Plugin output (qemu_plugin_outs) goes to stderr unless -D FILE is given."""


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "run",
        help="run a guest program with plugins",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # as qemu: an option is spelled out, never guessed from a prefix
    )
    parser.add_argument(
        "-p",
        "-plugin",
        dest="plugins",
        action="append",
        default=[],
        metavar="NAME[,ARG=VAL...]",
        help="load plugin NAME (and what it uses) with arguments; repeatable",
    )
    parser.add_argument(
        "-d",
        dest="debug",
        action="append",
        default=[],
        metavar="ITEM[,ITEM...]",
        help="log items: plugin (plugin output; on by default), strace, unimp",
    )
    parser.add_argument("-D", dest="log_file", metavar="FILE", help="write plugin output to FILE")
    parser.add_argument(
        "-E",
        dest="env_set",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="set VAR in the guest's environment (default: qpp's own environment)",
    )
    parser.add_argument(
        "-U",
        dest="env_unset",
        action="append",
        default=[],
        metavar="VAR",
        help="remove VAR from the guest's environment",
    )
    parser.add_argument("-0", dest="argv0", metavar="ARGV0", help="the guest's argv[0]")
    parser.add_argument(
        "-cpu", dest="cpu", metavar="MODEL", help="CPU model (e.g. qemu64); -cpu help lists them"
    )
    parser.add_argument(
        "-L", dest="sysroot", metavar="PATH", help="sysroot for the ELF interpreter"
    )
    parser.add_argument("-strace", action="store_true", help="log system calls on stderr")
    parser.add_argument(
        "-seed", type=int, metavar="N", help="seed AT_RANDOM and getrandom (deterministic runs)"
    )
    parser.add_argument(
        "-sched",
        choices=("timeslice", "deterministic"),
        default="timeslice",
        help="how guest threads take turns: time slices (default, fastest) or a fixed "
        "instruction count (the same interleaving on every run)",
    )
    parser.add_argument(
        "--jail", metavar="DIR", help="confine every guest path to DIR (escapes fail with EACCES)"
    )
    parser.add_argument(
        "--on-plugin-error",
        choices=("stop", "continue"),
        default="stop",
        help="when a plugin callback raises: stop the run (default) or disable that plugin",
    )
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="BINARY [ARGS...]",
        help="the guest program and its arguments",
    )
    parser.set_defaults(handler=main)
    return parser


def split_command(
    parser: argparse.ArgumentParser, argv: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Split ``qpp run``'s arguments into qpp's options and the guest's command line.

    qemu-user's rule: options come first; the first argument that is not an option is the
    program, and it and everything after it belong to the guest, whatever they look like
    (``qpp run ./prog -s , 1 3`` gives the guest ``-s``). An option that takes a value
    consumes the next argument, even one starting with ``-`` (it is handed to argparse as
    ``OPT=VALUE``). ``--`` ends the options explicitly.
    """
    known = {spelling for action in parser._actions for spelling in action.option_strings}
    takes_value = {
        spelling
        for action in parser._actions
        if action.option_strings and action.nargs != 0
        for spelling in action.option_strings
    }
    options: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return options, list(argv[i + 1 :])
        if not arg.startswith("-") or arg == "-":
            break
        if arg.split("=", 1)[0] not in known:  # argparse would guess from a prefix
            parser.error(f"unknown option {arg} (qpp's options come before BINARY)")
        if arg in takes_value and i + 1 < len(argv):
            options.append(f"{arg}={argv[i + 1]}")  # a value may itself start with "-"
            i += 2
        else:
            options.append(arg)
            i += 1
    return options, list(argv[i:])


#: the ``-d`` items qpp knows (qemu's others, e.g. in_asm, are about its translator)
DEBUG_ITEMS = ("plugin", "strace", "unimp")


class UsageError(QppError):
    """A malformed option value found after argparse: status 2, like argparse's own."""

    exit_status = ExitStatus.USAGE


def _env_item(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise UsageError(f"-E {item!r}: expected VAR=VALUE (to remove a variable: -U VAR)")
    return name, value


def _debug_items(groups: Sequence[str]) -> frozenset[str]:
    items = frozenset(item for group in groups for item in group.split(",") if item)
    unknown = sorted(items - set(DEBUG_ITEMS))
    if unknown:
        raise UsageError(
            f"-d {','.join(unknown)}: unknown log item; qpp knows: {', '.join(DEBUG_ITEMS)}"
        )
    return items


def _plugin_requests(texts: Sequence[str]) -> list[PluginRequest]:
    """The ``-p`` options, parsed (their module is imported only when there are some)."""
    if not texts:
        return []
    from qpp_core.loading.args import PluginRequest

    return [PluginRequest.parse(text) for text in texts]


def _default_guest() -> str:
    from qpp_core.guests import default_guest

    return str(default_guest())


def main(args: argparse.Namespace) -> int:
    from qpp_core.linux import GuestOptions
    from qpp_core.runner import RunOptions, run

    if args.cpu == "help":
        from qpp_core.machine.cpu import cpu_help

        print(cpu_help())
        return 0
    try:
        env_set = [_env_item(item) for item in args.env_set]
        debug = _debug_items(args.debug)
        plugins = _plugin_requests(args.plugins)
    except QppError as error:
        print(f"qpp: error: {error}", file=sys.stderr)
        return int(error.exit_status)
    command = list(args.command)
    binary = command[0] if command else _default_guest()
    guest = GuestOptions(
        binary=binary,
        args=tuple(command[1:]),
        argv0=args.argv0,
        env_set=tuple(env_set),
        env_unset=tuple(args.env_unset),
        cpu=args.cpu,
        sysroot=args.sysroot,
        strace=args.strace or "strace" in debug,
        seed=args.seed,
        sched=args.sched,
        jail=args.jail,
        debug=debug,
    )
    options = RunOptions(
        guest=guest,
        plugins=plugins,
        log_file=args.log_file,
        on_plugin_error=args.on_plugin_error,
    )
    return run(options)
