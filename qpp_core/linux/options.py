"""What the user asked for on ``qpp run``'s command line, as far as the guest is concerned."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple


class GuestOptions(NamedTuple):
    """The guest-side options of ``qpp run`` (qemu-user's spelling in comments)."""

    binary: str  #: path as given by the user (argv[0] defaults to it)
    args: tuple[str, ...] = ()  #: argv[1:]
    argv0: str | None = None  #: -0
    env_set: tuple[tuple[str, str], ...] = ()  #: -E VAR=VALUE, in order
    env_unset: tuple[str, ...] = ()  #: -U VAR
    cpu: str | None = None  #: -cpu MODEL
    sysroot: str | None = None  #: -L PATH
    strace: bool = False  #: -strace
    seed: int | None = None  #: -seed N
    sched: str = "timeslice"  #: -sched MODE: how guest threads take turns
    jail: str | None = None  #: --jail DIR
    debug: frozenset[str] = frozenset()  #: -d items, e.g. {"unimp", "strace", "plugin"}
    #: execve: the host file to load when it differs from ``binary`` (the guest's path,
    #: which /proc/self/exe and AT_EXECFN show), e.g. under ``--jail`` or ``-L``
    host_binary: str | None = None
    #: execve: the environment the program was given (``-E``/``-U`` still apply), instead
    #: of qpp's own
    environ: tuple[str, ...] | None = None


def guest_environment(opts: GuestOptions, host_env: Mapping[str, str]) -> list[str]:
    """The guest's environment strings, in the order qemu-user 7.2 gives them.

    qemu keeps the environment in a list it inserts at the head of: the guest sees qpp's
    own environment in reverse order, and each ``-E`` (which first removes an existing
    entry of the same name) ends up in front. ``-U`` removes.
    """
    entries: list[tuple[str, str]] = []

    def put(name: str, value: str) -> None:
        entries[:] = [e for e in entries if e[0] != name]
        entries.insert(0, (name, value))

    for name, value in host_env.items():
        put(name, value)
    for name, value in opts.env_set:
        put(name, value)
    for name in opts.env_unset:
        entries[:] = [e for e in entries if e[0] != name]
    return [f"{k}={v}" for k, v in entries]


#: the values Python's C-locale coercion (PEP 538) gives LC_CTYPE, in the order it tries them
COERCED_LC_CTYPE = ("C.UTF-8", "C.utf8", "UTF-8")


def host_environment() -> dict[str, str]:
    """qpp's environment as the guest inherits it: ``os.environ`` without Python's change.

    At start, a Python whose LC_CTYPE locale is C or POSIX sets ``LC_CTYPE=C.UTF-8`` in its
    own environment (PEP 538's C-locale coercion), before any of qpp's code runs; the guest
    must not see it (``env -i qpp run prog`` gives the guest an empty environment, as
    ``env -i qemu-x86_64 prog`` does). The exec-time value is in /proc/self/environ, which
    setenv does not rewrite; without /proc, coercion is assumed when it was possible.
    Deliberate changes to ``os.environ`` (by a program using qpp as a library) are kept.
    """
    env = dict(os.environ)
    value = env.get("LC_CTYPE")
    if value not in COERCED_LC_CTYPE:
        return env
    try:
        original = _exec_time_value("LC_CTYPE")
    except OSError:  # no /proc: Python coerced if it could
        if not _coercion_possible(env):
            return env
        original = None
    if original == value:
        return env
    if original is None:
        del env["LC_CTYPE"]
    else:
        env["LC_CTYPE"] = original
    return env


def _exec_time_value(name: str) -> str | None:
    """``name``'s value in the environment this process was started with."""
    with open("/proc/self/environ", "rb") as f:
        entries = f.read().split(b"\0")
    prefix = os.fsencode(name) + b"="
    for entry in entries:
        if entry.startswith(prefix):
            return os.fsdecode(entry[len(prefix) :])
    return None


def _coercion_possible(env: Mapping[str, str]) -> bool:
    """Whether PEP 538 could have applied: not disabled, no LC_ALL, LANG not a real locale."""
    return (
        env.get("PYTHONCOERCECLOCALE") != "0"
        and not env.get("LC_ALL")
        and env.get("LANG", "") in ("", "C", "POSIX")
    )
