"""The ``qpp`` command: ``run``, ``batch``, ``list``, ``graph``, ``help``, ``new``.

Every failure a user can cause ends in one line on stderr, ``qpp: error: ...``, and the
exit status of :class:`qpp_core.errors.ExitStatus`; a traceback means a bug in qpp.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qpp_core import __version__, hostfds
from qpp_core.cli import run
from qpp_core.errors import InternalError, QppError

if TYPE_CHECKING:
    _Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _add_batch(subparsers: _Subparsers) -> None:
    from qpp_core.cli import batch

    batch.add_parser(subparsers)


def _add_listing(subparsers: _Subparsers) -> None:
    from qpp_core.cli import listing

    listing.add_parsers(subparsers)


def _add_scaffold(subparsers: _Subparsers) -> None:
    from qpp_core.cli import scaffold

    scaffold.add_parsers(subparsers)


#: each command and what adds its subparser, in the order help lists them. Only the given
#: command's subparser is built (and its module imported): ``qpp run`` neither imports nor
#: builds the others (start-up time); help and unknown commands get them all.
_COMMANDS: dict[str, Callable[[_Subparsers], object]] = {
    "run": run.add_parser,
    "batch": _add_batch,
    "list": _add_listing,
    "graph": _add_listing,
    "help": _add_listing,
    "new": _add_scaffold,
}
#: the commands whose guest command line is split off before argparse sees it
_GUEST_COMMANDS = ("run", "batch")


def build_parser(
    command: str | None = None,
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The ``qpp`` parser (with only ``command``'s subparser if given), and the subparsers
    whose guest command is split off first."""
    parser = argparse.ArgumentParser(
        prog="qpp",
        description="QEMU-style TCG plugins, and plugins that talk to each other (QPP).",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    adders = [_COMMANDS[command]] if command is not None else list(_COMMANDS.values())
    for add in dict.fromkeys(adders):  # listing adds three commands at once
        add(subparsers)
    built: dict[str, argparse.ArgumentParser] = subparsers.choices
    return parser, {name: built[name] for name in _GUEST_COMMANDS if name in built}


class _Version(argparse.Action):
    """``--version``: qpp's version and the instrumentation backend in use."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        from qpp_core.instrument.backend import describe

        print(f"qpp {__version__}\n{describe()}")
        parser.exit()


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line; ``qpp run``'s and ``qpp batch``'s guest command is split off
    first (see :func:`run.split_command`), so that the guest's options never reach argparse."""
    argv = list(argv)
    first = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    given = argv[first] if first is not None and argv[first] in _COMMANDS else None
    if first is not None and {"-h", "--help"} & set(argv[:first]):
        given = None  # qpp's own help lists every command
    parser, commands = build_parser(given)
    if first is None or argv[first] not in commands:
        return parser.parse_args(argv)
    options, command = run.split_command(commands[argv[first]], argv[first + 1 :])
    args = parser.parse_args([*argv[: first + 1], *options])
    args.command = command
    return args


def _guard_std_fds() -> None:
    """Run with fds 0, 1 or 2 closed (``qpp run prog >&-``), as qemu does.

    Closed ones are held on /dev/null while qpp sets up (released for the guest by the
    runner, see :mod:`qpp_core.hostfds`); qpp's own output to a closed stdout or stderr
    goes nowhere rather than to whatever the guest opens there.
    """
    closed = hostfds.hold_closed_std_fds()
    if sys.stdout is None or 1 in closed:
        sys.stdout = hostfds.Discard()
    if sys.stderr is None or 2 in closed:
        sys.stderr = hostfds.Discard()


def main(argv: Sequence[str] | None = None) -> int:
    _guard_std_fds()
    args = parse(sys.argv[1:] if argv is None else argv)
    handler = getattr(args, "handler", None)
    if handler is not run.main:
        gc.enable()  # only a run's start-up goes without collections (cli/entry.py)
    if handler is None:
        build_parser()[0].print_help(sys.stderr)
        return 2
    try:
        if os.environ.get("QPP_BACKEND"):  # a bad or unavailable choice fails up front
            from qpp_core.instrument.backend import active

            active()
        status = int(handler(args))
        sys.stdout.flush()
    except BrokenPipeError:
        return _reader_gone()
    except QppError as error:
        print(f"qpp: error: {error}", file=sys.stderr)
        status = int(error.exit_status)
    except KeyboardInterrupt:
        status = 130
    except Exception as exc:
        internal = InternalError.wrap(exc)
        print(f"qpp: error: {internal}", file=sys.stderr)
        status = int(internal.exit_status)
    return status


def _reader_gone() -> int:
    """stdout's reader went away (``qpp list | head -1``): stop quietly.

    The status is what a shell reports for a tool killed by SIGPIPE in the same place
    (``seq 100000 | head -1``): 141, so ``set -o pipefail`` scripts see qpp as they see
    coreutils. stdout is pointed at /dev/null so that Python's own flush at exit stays quiet.
    """
    with contextlib.suppress(OSError, AttributeError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
