"""The ``qpp`` command: ``run``, ``list``, ``graph``, ``help``.

Every failure a user can cause ends in one line on stderr, ``qpp: error: ...``, and the
exit status of :class:`qpp_core.errors.ExitStatus`; a traceback means a bug in qpp.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qpp_core import __version__
from qpp_core.cli import listing, run
from qpp_core.errors import InternalError, QppError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qpp",
        description="QEMU-style TCG plugins, and plugins that talk to each other (QPP).",
    )
    parser.add_argument("--version", action="version", version=f"qpp {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    run.add_parser(subparsers)
    listing.add_parsers(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status = int(handler(args))
    except QppError as error:
        print(f"qpp: error: {error}", file=sys.stderr)
        status = int(error.exit_status)
    except KeyboardInterrupt:
        status = 130
    except Exception as exc:
        internal = InternalError.wrap(exc)
        print(f"qpp: error: {internal}", file=sys.stderr)
        status = int(internal.exit_status)
    sys.stdout.flush()
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
