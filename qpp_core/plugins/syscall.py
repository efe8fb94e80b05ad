"""``syscall``: count system calls and their errors (QEMU's contrib/plugins/syscall.c).

At exit prints a table, most-called first, with QEMU's layout::

    syscall no.  calls  errors
    64           2      0

The numbers are the guest's own (mips o32 numbers include the 4000 offset); an error is
a call that returned a negative value (``-errno``). ``print=true`` instead logs each call
as it happens (``syscall #N`` before, ``syscall #N returned -> R`` after) and prints no
table, as QEMU does.
"""

from __future__ import annotations

from typing import Any

from qpp_core import (
    Arg,
    hookimpl,
    qemu_plugin_outs,
)

qemu_plugin_version = 2
qemu_plugin_args = {
    "print": Arg(bool, False, "log every syscall and its result instead of the table"),
}

#: number -> [calls, errors]
_stats: dict[int, list[int]] = {}
_print: list[bool] = [False]


@hookimpl
def qemu_plugin_install(args: Any) -> None:
    _stats.clear()
    _print[0] = bool(args.get("print", False))


@hookimpl
def qemu_plugin_vcpu_syscall(num: int) -> None:
    if _print[0]:
        qemu_plugin_outs(f"syscall #{num}\n")
        return
    entry = _stats.get(num)
    if entry is None:
        _stats[num] = [1, 0]
    else:
        entry[0] += 1


@hookimpl
def qemu_plugin_vcpu_syscall_ret(num: int, ret: int) -> None:
    if _print[0]:
        qemu_plugin_outs(f"syscall #{num} returned -> {ret}\n")
        return
    if ret < 0:
        _stats.setdefault(num, [0, 0])[1] += 1


def stats() -> dict[int, tuple[int, int]]:
    """``{number: (calls, errors)}`` so far (for tests and other tools)."""
    return {num: (calls, errors) for num, (calls, errors) in _stats.items()}


def format_table(table: dict[int, tuple[int, int]]) -> str:
    """QEMU's table: header, then one row per number, most calls first (ties by number)."""
    lines = [f"{'syscall no.':<13}{'calls':<6}errors\n"]
    for num, (calls, errors) in sorted(table.items(), key=lambda kv: (-kv[1][0], kv[0])):
        lines.append(f"{num:<13}{calls:<6} {errors}\n")
    return "".join(lines)


@hookimpl
def qemu_plugin_atexit() -> None:
    if not _print[0]:
        qemu_plugin_outs(format_table(stats()))


@hookimpl
def qpp_batch_result() -> dict[str, Any]:
    """``qpp batch``: ``{"syscalls": {number: [calls, errors]}}`` (numbers as strings)."""
    return {"syscalls": {str(num): [calls, errors] for num, (calls, errors) in stats().items()}}


@hookimpl
def qpp_batch_merge(results: list[tuple[str, Any]]) -> dict[str, Any]:
    """``qpp batch``: calls and errors summed per system call over every job."""
    table: dict[int, list[int]] = {}
    for _, data in results:
        for num, (calls, errors) in data["syscalls"].items():
            entry = table.setdefault(int(num), [0, 0])
            entry[0] += calls
            entry[1] += errors
    ordered = sorted(table.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return {"syscalls": {str(num): counts for num, counts in ordered}}
