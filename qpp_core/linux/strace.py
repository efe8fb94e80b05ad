"""``-strace``: qemu-user style lines on stderr (``PID name(args) = result``).

The call is printed before it runs and the result after, as qemu does, so a guest's own
output to stderr appears between the two. Argument formats are a table by syscall name;
derived from the one signature table (:mod:`qpp_core.abi.signatures`); calls it does
not list print their six raw arguments in decimal, as qemu does. A call the kernel
emulation does not implement prints on one line with its ENOSYS result, as qemu prints
the calls it knows but lacks; a number no table names prints ``Unknown syscall N``.
"""

from __future__ import annotations

import errno
import os
import weakref
from collections.abc import Callable, Mapping
from typing import TextIO

from ..abi.signatures import SIGNATURES

#: argument kind (:mod:`qpp_core.abi.signatures`) -> qemu's format: d signed decimal,
#: u unsigned, x hex, p pointer, s string, f dirfd (AT_FDCWD), o octal
_LETTER = {
    "int": "d",
    "fd": "d",
    "dirfd": "f",
    "uint": "u",
    "size": "u",
    "ptr": "p",
    "buf": "p",
    "rbuf": "p",
    "str": "s",
    "oflags": "x",
    "mode": "o",
    "whence": "d",
    "prot": "d",
    "mflags": "x",
    "atflags": "x",
    "amode": "o",
    "hex": "x",
}
#: where qemu's strace.list prints a call otherwise than its signature's kinds suggest
_QEMU_STYLE = {
    "readv": "dpx",
    "writev": "dpx",
    "ioctl": "dxp",
    "faccessat": "fsod",
    "arch_prctl": "dx",
}
#: name -> one format letter per argument, for every call the signature table lists
FORMATS: dict[str, str] = {
    name: "".join(_LETTER[p.kind] for p in params) for name, params in SIGNATURES.items()
}
FORMATS.update(_QEMU_STYLE)
_PTR_RESULT = frozenset({"brk", "mmap", "mmap2"})


class Strace:
    """Writes one qemu-style line per syscall to ``stream``."""

    def __init__(
        self,
        stream: TextIO,
        word_bits: int,
        read_str: Callable[[int], str],
        names: Mapping[int, str] | None = None,
    ) -> None:
        self.stream = stream
        #: the architecture's ``number -> name`` table, to name unimplemented calls
        self.names: Mapping[int, str] = names or {}
        self.width = word_bits // 4
        self.mask = (1 << word_bits) - 1
        self.read_str = read_str
        self.pid = os.getpid()
        forked = weakref.WeakMethod(self._forked)  # runs of the past must not pile up
        os.register_at_fork(after_in_child=lambda: (m := forked()) is not None and m())

    def _forked(self) -> None:
        """A guest fork's child prints its own pid, as qemu's children do."""
        self.pid = os.getpid()

    def _signed(self, v: int) -> int:
        v &= self.mask
        return v - (self.mask + 1) if v >> (self.width * 4 - 1) else v

    def _arg(self, kind: str, v: int) -> str:
        if kind == "d":
            return str(self._signed(v))
        if kind == "u":
            return str(v & self.mask)
        if kind == "x":
            return f"{v & self.mask:#x}"
        if kind == "o":
            return f"0{v & self.mask:o}" if v & self.mask else "0"  # C's %#o
        if kind == "f":
            return "AT_FDCWD" if self._signed(v) == -100 else str(self._signed(v))
        if kind == "s":
            if not v:
                return "NULL"
            try:
                return '"' + self.read_str(v) + '"'
            except Exception:
                return f"0x{v:x}"
        return "NULL" if not v else f"0x{v & self.mask:0{self.width}x}"

    def enter(self, name: str | None, num: int, args: tuple[int, ...]) -> None:
        """The call, before it runs. ``name`` is ``None`` for a call without a handler:
        it will fail with ENOSYS and ``leave`` is not called, so the line ends here."""
        unimplemented = name is None
        name = name or self.names.get(num)
        if name is None:
            self.stream.write(f"{self.pid} Unknown syscall {num}\n")
            self.stream.flush()
            return
        kinds = FORMATS.get(name)
        shown = (
            [self._arg(k, a) for k, a in zip(kinds, args, strict=False)]
            if kinds is not None
            else [str(self._signed(a)) for a in args]
        )
        self.stream.write(f"{self.pid} {name}({','.join(shown)})")
        if unimplemented:
            self._result(-errno.ENOSYS)
        self.stream.flush()

    def leave(self, name: str | None, ret: int) -> None:
        if name is None:
            return
        self._result(ret, name in _PTR_RESULT)
        self.stream.flush()

    def _result(self, ret: int, address: bool = False) -> None:
        if -4096 < ret < 0:
            err = -ret
            text = os.strerror(err) if err in errno.errorcode else "Unknown error"
            self.stream.write(f" = -1 errno={err} ({text})\n")
        elif address:
            self.stream.write(f" = 0x{ret & self.mask:0{self.width}x}\n")
        else:
            self.stream.write(f" = {ret}\n")
