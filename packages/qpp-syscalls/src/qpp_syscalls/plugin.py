"""syscalls: decodes every system call into a name and typed arguments and runs QPP
callbacks on it, like PANDA's syscalls2, for x86_64, aarch64, arm, riscv64 and mipsel.

Other plugins register on ``on_sys_enter`` / ``on_sys_return`` or on one call's
``on_sys_<name>_enter`` / ``on_sys_<name>_return`` (see :mod:`qpp_syscalls.api`), and
call its exports (``syscall_name``, ``syscall_number``, ``decode``, ``errno_name``,
``flags_text``, ``read_string``...) through ``qpp``. It prints nothing itself.

Numbers and argument types come from qpp-core's public ABI tables (:mod:`qpp_core.abi`:
the numbers generated from the kernel's headers and the one signature table its Linux
emulation also uses). The raw words are those the kernel sees: ``int`` arguments already
narrowed to 32 bits. A callback nobody registered on costs nothing: an event is built
only when someone listens.
"""

from __future__ import annotations

import errno as errno_mod

from qpp_core import (
    Arg,
    PluginArgs,
    PluginId,
    PluginInfo,
    QppCallback,
    QppUsageError,
    abi,
    export,
    hookimpl,
    qemu_plugin_create_callback,
    qemu_plugin_read_memory_vaddr,
)
from qpp_core.abi import ALL_NAMES as _NAMES
from qpp_core.abi import NUMBERS
from qpp_core.abi import signature as _signature
from qpp_syscalls.api import (
    ON_SYS_ENTER,
    ON_SYS_RETURN,
    UNKNOWN,
    SyscallArg,
    SyscallEvent,
    callback_name,
)

qemu_plugin_version = 2
qemu_plugin_args: dict[str, Arg] = {}  # takes no arguments: any is refused

ARCH_BITS = {"x86_64": 64, "aarch64": 64, "riscv64": 64, "arm": 32, "mipsel": 32}
#: every syscall name of the five architectures: a callback exists for each
ALL_NAMES: tuple[str, ...] = tuple(sorted(_NAMES))
_SIGNED = frozenset({"int", "fd", "dirfd"})
#: C type classes 32 bits wide on every target (a signed kind's sign is bit 31)
_NARROW = frozenset({"int", "uint", "u16"})


class _State:
    """The plugin's per-run state (one guest, one vcpu)."""

    def __init__(self) -> None:
        self.arch = "x86_64"
        self.bits = 64
        self.table: dict[int, str] = {}
        self.numbers: dict[str, int] = {}
        self.enter: QppCallback | None = None
        self.ret: QppCallback | None = None
        self.per_name: dict[str, tuple[QppCallback, QppCallback]] = {}
        self.pending: SyscallEvent | None = None


_s = _State()


@hookimpl
def qemu_plugin_install(id: PluginId, info: PluginInfo, args: PluginArgs) -> int:
    arch = info.target_name
    if arch not in NUMBERS:
        raise QppUsageError(f"syscalls: no syscall table for target {arch}")
    _s.__init__()  # type: ignore[misc]
    _s.arch, _s.bits = arch, ARCH_BITS[arch]
    _s.table = NUMBERS[arch]
    _s.numbers = {name: nr for nr, name in _s.table.items()}
    _s.enter = qemu_plugin_create_callback(id, ON_SYS_ENTER)
    _s.ret = qemu_plugin_create_callback(id, ON_SYS_RETURN)
    for name in (*ALL_NAMES, UNKNOWN):
        _s.per_name[name] = (
            qemu_plugin_create_callback(id, callback_name(name, "enter")),
            qemu_plugin_create_callback(id, callback_name(name, "return")),
        )
    return 0


# --- exports ------------------------------------------------------------------------------


@export
def arch() -> str:
    return _s.arch


@export
def syscall_name(nr: int) -> str | None:
    return _s.table.get(nr)


@export
def syscall_number(name: str) -> int | None:
    return _s.numbers.get(name)


@export
def syscall_names() -> list[str]:
    return sorted(_s.numbers)


@export
def signature(name: str) -> tuple[tuple[str, str], ...]:
    return tuple((p.kind, p.name) for p in _signature(name))


@export
def decode(nr: int, raw: tuple[int, ...]) -> SyscallEvent:
    name = _s.table.get(nr, UNKNOWN)
    mask = (1 << _s.bits) - 1
    words = tuple(w & mask for w in raw[:6]) + (0,) * (6 - len(raw[:6]))
    args = []
    for param, word in zip(_signature(name), words, strict=False):
        value = word
        if param.kind in _SIGNED:
            bits = 32 if param.ctype in _NARROW else _s.bits
            value = word & ((1 << bits) - 1)
            value = value - (1 << bits) if value >> (bits - 1) else value
        args.append(SyscallArg(param.name, param.kind, word, value))
    return SyscallEvent(nr, name, tuple(args), words)


@export
def errno_name(err: int) -> str | None:
    return errno_mod.errorcode.get(err)


_PROT = ((1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"))
_AMODE = ((4, "R_OK"), (2, "W_OK"), (1, "X_OK"))
_AT = (
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_REMOVEDIR"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
)
_WHENCE = {0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"}


def _bits(value: int, names: tuple[tuple[int, str], ...], zero: str) -> str:
    parts = []
    for bit, name in names:
        if value & bit:
            parts.append(name)
            value &= ~bit
    if value:
        parts.append(f"{value:#x}")
    return "|".join(parts) if parts else zero


#: O_LARGEFILE, which qpp-core's table leaves out (the host ignores it)


def _open_flags(value: int) -> str:
    table = dict(abi.OPEN_FLAGS[_s.arch], O_LARGEFILE=abi.O_LARGEFILE[_s.arch])
    acc = value & 3
    head = {0: "O_RDONLY", 1: "O_WRONLY", 2: "O_RDWR"}.get(acc, "O_ACCMODE")
    rest = tuple(sorted(((v, n) for n, v in table.items() if n not in ("O_WRONLY", "O_RDWR"))))
    tail = _bits(value & ~3, rest, "")
    return head + ("|" + tail if tail else "")


def _map_flags(value: int) -> str:
    anon = abi.MAP_ANONYMOUS.get(_s.arch, 0x20)
    names = (
        (1, "MAP_SHARED"),
        (2, "MAP_PRIVATE"),
        (abi.MAP_FIXED, "MAP_FIXED"),
        (anon, "MAP_ANONYMOUS"),
        (abi.MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"),
    )
    return _bits(value, names, "0")


@export
def flags_text(kind: str, value: int) -> str:
    if kind == "oflags":
        return _open_flags(value)
    if kind == "prot":
        return _bits(value, _PROT, "PROT_NONE")
    if kind == "mflags":
        return _map_flags(value)
    if kind == "atflags":
        return _bits(value, _AT, "0")
    if kind == "amode":
        return _bits(value, _AMODE, "F_OK")
    if kind == "whence":
        return _WHENCE.get(value, str(value))
    if kind == "mode":
        return f"0{value:o}" if value else "0"
    return f"{value:#x}"


@export
def read_string(addr: int, limit: int = 4096) -> bytes | None:
    out = b""
    chunk = 64
    while len(out) < limit:
        data = qemu_plugin_read_memory_vaddr(addr + len(out), chunk)
        if data is None:
            if chunk == 1:
                return out if out else None
            chunk = 1  # the string may end right before an unmapped page
            continue
        nul = data.find(b"\0")
        if nul >= 0:
            return (out + data[:nul])[:limit]
        out += data
    return out[:limit]


# --- the syscall hooks --------------------------------------------------------------------


@hookimpl
def qemu_plugin_vcpu_syscall(num: int, args: tuple[int, ...]) -> None:
    name = _s.table.get(num, UNKNOWN)
    per = _s.per_name[name]
    enter, ret = _s.enter, _s.ret
    assert enter is not None and ret is not None
    if not (enter.functions or ret.functions or per[0].functions or per[1].functions):
        _s.pending = None
        return
    event = decode(num, args)
    _s.pending = event
    if enter.functions:
        enter.run(event, None)
    if per[0].functions:
        per[0].run(event, None)


@hookimpl
def qemu_plugin_vcpu_syscall_ret(num: int, ret: int) -> None:
    event = _s.pending
    if event is None or event.nr != num:
        return
    _s.pending = None
    event.ret = ret
    assert _s.ret is not None
    if _s.ret.functions:
        _s.ret.run(event, None)
    per = _s.per_name[event.name][1]
    if per.functions:
        per.run(event, None)
