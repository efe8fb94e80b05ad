"""What the user asked for on ``qpp run``'s command line, as far as the guest is concerned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class GuestOptions:
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
