"""``qpp batch``: one plugin set over many runs (see :mod:`qpp_core.batch`)."""

from __future__ import annotations

import argparse

from qpp_core.errors import ExitStatus, QppError

DESCRIPTION = """\
Run many guest programs with the same plugins, each job in its own process, on every
local core or on a Dask cluster. Jobs come from --jobs FILE (JSON lines or CSV with the
fields program, args, stdin, env, cwd, id) or from the command: its @PATTERN argument
becomes one job per matching file. Results (one record per job, merged plugin data, a
summary) go to --results DIR; running the same command again resumes."""

EPILOG = """\
examples:
  qpp batch -p drcov ./prog '@corpus/*'          coverage of a corpus, merged
  qpp batch -p insn --stdin ./prog '@inputs/*'   each file on the guest's stdin
  qpp batch -p syscall --jobs jobs.jsonl --timeout 10 --memory 2048
  qpp batch -p insn --dask tcp://sched:8786 ./prog '@corpus/*'
exit status: 0 all jobs ok, 1 some failed (counted; see DIR/summary.json), 130 interrupted"""


class BatchUsageError(QppError):
    exit_status = ExitStatus.USAGE


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "batch",
        help="run many jobs with the same plugins, locally or on Dask, and merge the results",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add = parser.add_argument
    add(
        "-p",
        "-plugin",
        dest="plugins",
        action="append",
        default=[],
        metavar="NAME[,ARG=VAL...]",
        help="load plugin NAME in every job ({job} in a value: the job's folder)",
    )
    add(
        "-E",
        dest="env_set",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="set VAR in every guest's environment",
    )
    add(
        "-U",
        dest="env_unset",
        action="append",
        default=[],
        metavar="VAR",
        help="remove VAR from every guest's environment",
    )
    add("-cpu", dest="cpu", metavar="MODEL", help="CPU model")
    add("-L", dest="sysroot", metavar="PATH", help="sysroot for the ELF interpreter")
    add("-seed", type=int, metavar="N", help="seed AT_RANDOM and getrandom")
    add(
        "--on-plugin-error",
        choices=("stop", "continue"),
        default="stop",
        help="when a plugin callback raises: stop the job (default) or disable the plugin",
    )
    add("--jobs", dest="job_file", metavar="FILE", help="read jobs from FILE (.jsonl or .csv)")
    add("--stdin", action="store_true", help="feed each @PATTERN file on stdin, not as argument")
    add(
        "--results",
        default="qpp-batch",
        metavar="DIR",
        help="results folder (default: qpp-batch); an existing one is resumed",
    )
    add("--timeout", type=float, metavar="SEC", help="kill a job after SEC seconds")
    add(
        "--memory",
        dest="memory_mb",
        type=int,
        metavar="MB",
        help="limit each job's address space to MB MiB (qpp itself needs ~1 GiB of it)",
    )
    add(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="local jobs at once (default: every core); with --dask local: workers",
    )
    add(
        "--dask",
        metavar="ADDRESS",
        help="run on the Dask scheduler at ADDRESS (tcp://host:8786), or 'local'",
    )
    add("--retry-failed", action="store_true", help="on resume, run failed jobs again")
    add("--json", action="store_true", help="machine-readable progress on stdout (JSON lines)")
    add("--quiet", action="store_true", help="no progress bar")
    add(
        "command",
        nargs=argparse.REMAINDER,
        metavar="PROGRAM [ARGS...]",
        help="the guest program and its arguments, one of them @PATTERN",
    )
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    from qpp_core.batch.driver import BatchOptions, run_batch
    from qpp_core.batch.jobs import finalize, jobs_from_command, read_job_file
    from qpp_core.batch.settings import Settings
    from qpp_core.cli.run import _env_item
    from qpp_core.linux.options import host_environment

    if args.job_file and args.command:
        raise BatchUsageError("give either --jobs FILE or a command with @PATTERN, not both")
    for name, value in (("--timeout", args.timeout), ("--memory", args.memory_mb)):
        if value is not None and value <= 0:
            raise BatchUsageError(f"{name} must be positive")
    if args.workers < 0:
        raise BatchUsageError("--workers must be positive")
    if args.job_file:
        jobs = read_job_file(args.job_file)
    else:
        jobs = jobs_from_command(args.command, stdin=args.stdin)
    settings = Settings(
        plugins=tuple(args.plugins),
        env_set=tuple(_env_item(item) for item in args.env_set),
        env_unset=tuple(args.env_unset),
        cpu=args.cpu,
        sysroot=args.sysroot,
        seed=args.seed,
        on_plugin_error=args.on_plugin_error,
        timeout=args.timeout,
        memory_mb=args.memory_mb,
        environ=tuple(f"{k}={v}" for k, v in host_environment().items()),
    )
    settings.requests()  # a malformed -p is a usage error now
    options = BatchOptions(
        settings=settings,
        jobs=finalize(jobs),
        results=args.results,
        workers=args.workers,
        dask=args.dask,
        progress="json" if args.json else "quiet" if args.quiet else "bar",
        retry_failed=args.retry_failed,
    )
    return run_batch(options)
