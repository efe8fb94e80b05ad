"""strace: print one strace-like line per guest system call, using the ``syscalls`` plugin.

::

    openat(AT_FDCWD, "/tmp/f", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3
    write(3, "Hello, qpp\\n", 11) = 11
    faccessat(AT_FDCWD, "/tmp/f", F_OK) = -1 ENOENT (No such file or directory)
    exit_group(0) = ?

Each line is the call's name, its arguments decoded by ``syscalls`` (strings and
buffers read from guest memory, flags by name), and the result: a number, an address
for brk/mmap, or ``-1 ENAME (message)`` on failure. Lines go to the plugin log
(stderr, or ``-D FILE``), written when the call returns.

Arguments:

* ``trace=NAME`` (repeatable): only these syscalls; registers on ``syscalls``'
  per-call callbacks (``on_sys_NAME_enter``/``_return``) instead of the generic ones;
* ``strsize=N`` (default 32, as strace's ``-s``): longest string or buffer shown; longer
  ones end with ``...``.

Differences from ``qemu-ARCH -strace`` (which qpp-core's own ``qpp run -strace`` mimics):
no PID prefix; ``, `` between arguments; buffers of read/write-like calls shown as
strings instead of addresses (read-like ones after the call, with the result's length);
pointers as ``0x...`` without zero padding; errors as ``-1 ENOENT (message)`` instead of
``-1 errno=2 (message)``; the line is written once the call returned, so it never
interleaves with the guest's own output; exit and exit_group end with ``= ?``; calls
unknown to the architecture's table print as ``syscall_NR(raw args...)``; arguments
qemu does not decode (e.g. prlimit64's resource) may be decoded here and vice versa
(unknown flag bits as hex). Error numbers are Linux's generic ones on every
architecture (mips guests see their own numbering; the name is the same).
"""

from __future__ import annotations

import os
from typing import Any

from qpp_core import (
    Arg,
    PluginArgs,
    PluginId,
    PluginInfo,
    hookimpl,
    qemu_plugin_outs,
    qemu_plugin_read_memory_vaddr,
    qemu_plugin_reg_callback,
    qpp,
)
from qpp_core.abi import PTR_RESULT
from qpp_syscalls.api import (
    ON_SYS_ENTER,
    ON_SYS_RETURN,
    PLUGIN,
    SyscallArg,
    SyscallEvent,
    SyscallsApi,
    callback_name,
)

qemu_plugin_version = 2
qemu_plugin_args = {
    "trace": Arg(str, None, "only trace this syscall (repeatable)", multiple=True),
    "strsize": Arg(int, 32, "longest string or buffer to show, in bytes"),
}

_FLAG_KINDS = frozenset({"oflags", "mode", "whence", "prot", "mflags", "atflags", "amode"})
_NO_RETURN = frozenset({"exit", "exit_group"})
_ESCAPES = {
    0x22: '\\"',
    0x5C: "\\\\",
    0x0A: "\\n",
    0x09: "\\t",
    0x0D: "\\r",
    0x0B: "\\v",
    0x0C: "\\f",
    0x00: "\\0",
}

_opts: dict[str, Any] = {"strsize": 32}


def quote(data: bytes, limit: int, more: bool = False) -> str:
    """``data`` as a C string literal, strace style: at most ``limit`` bytes, then
    ``...`` after the closing quote when something was cut (or ``more`` says so)."""
    cut = len(data) > limit
    out = []
    for b in data[:limit]:
        esc = _ESCAPES.get(b)
        if esc is not None:
            out.append(esc)
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\{b:o}")
    return '"' + "".join(out) + '"' + ("..." if cut or more else "")


def _ptr(value: int) -> str:
    return "NULL" if value == 0 else f"{value:#x}"


def _buffer(addr: int, length: int) -> str:
    if addr == 0:
        return "NULL"
    limit = _opts["strsize"]
    data = qemu_plugin_read_memory_vaddr(addr, min(max(length, 0), limit))
    if data is None:
        return _ptr(addr)
    return quote(data, limit, more=length > limit)


def render_arg(sc: SyscallsApi, arg: SyscallArg, size: int) -> str:
    """One argument at syscall entry (``size``: the call's ``size`` argument, for ``buf``)."""
    kind, value = arg.kind, arg.value
    if kind in ("int", "fd"):
        return str(value)
    if kind == "dirfd":
        return "AT_FDCWD" if value == -100 else str(value)
    if kind in ("uint", "size"):
        return str(value)
    if kind == "str":
        if value == 0:
            return "NULL"
        text = sc.syscalls_read_string_qpp(value, _opts["strsize"] + 1)
        return _ptr(value) if text is None else quote(text, _opts["strsize"])
    if kind == "buf":
        return _buffer(value, size)
    if kind in _FLAG_KINDS:
        return sc.syscalls_flags_text_qpp(kind, value)
    if kind in ("ptr", "rbuf"):
        return _ptr(value)
    return f"{value:#x}"


def _on_enter(evdata: SyscallEvent) -> None:
    """``on_sys_enter``: render the arguments now, while input buffers hold the data."""
    event = evdata
    sc = qpp.typed(SyscallsApi)
    size = next((a.value for a in event.args if a.kind == "size"), 0)
    shown = [render_arg(sc, a, size) for a in event.args]
    if event.name in ("open", "openat") and "O_CREAT" not in shown[-2]:
        shown.pop()  # the mode means nothing without O_CREAT: strace and qemu omit it
    event.notes["strace"] = shown


def _result(sc: SyscallsApi, event: SyscallEvent) -> str:
    ret = event.ret if event.ret is not None else 0
    err = event.errno
    if err is not None:
        name = sc.syscalls_errno_name_qpp(err) or str(err)
        return f"-1 {name} ({os.strerror(err)})"
    if event.name in PTR_RESULT:
        return f"{ret & ((1 << 64) - 1):#x}"
    return str(ret)


def format_line(event: SyscallEvent) -> str:
    """The line for a call that returned (its arguments were rendered at entry)."""
    sc = qpp.typed(SyscallsApi)
    shown: list[str] = event.notes.get("strace") or []
    if not shown and event.args:
        _on_enter(event)
        shown = event.notes["strace"]
    shown = list(shown)
    ret = event.ret or 0
    for i, arg in enumerate(event.args[: len(shown)]):
        if arg.kind == "rbuf" and event.errno is None:
            shown[i] = _buffer(arg.value, ret)
    name = event.name if event.name != "unknown" else f"syscall_{event.nr}"
    if event.name == "unknown":
        shown = [str(w) for w in event.raw]
    result = "?" if event.name in _NO_RETURN else _result(sc, event)
    return f"{name}({', '.join(shown)}) = {result}\n"


def _on_return(evdata: SyscallEvent) -> None:
    """``on_sys_return``: print the line."""
    qemu_plugin_outs(format_line(evdata))


@hookimpl
def qemu_plugin_install(id: PluginId, info: PluginInfo, args: PluginArgs) -> int:
    _opts["strsize"] = max(0, int(args.get("strsize", 32)))
    only = list(args.get("trace") or [])
    if not only:
        qemu_plugin_reg_callback(PLUGIN, ON_SYS_ENTER, _on_enter)
        qemu_plugin_reg_callback(PLUGIN, ON_SYS_RETURN, _on_return)
        return 0
    for name in only:
        qemu_plugin_reg_callback(PLUGIN, callback_name(name, "enter"), _on_enter)
        qemu_plugin_reg_callback(PLUGIN, callback_name(name, "return"), _on_return)
    return 0
