"""``-strace``: qemu-user style lines on stderr (``PID name(args) = result``).

The call is printed before it runs and the result after, as qemu does, so a guest's own
output to stderr appears between the two. Argument formats are a table by syscall name;
unlisted calls print their six raw arguments in decimal, as qemu does.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import TextIO

# d: signed decimal, u: unsigned, x: hex, p: pointer, s: string, f: dirfd, o: octal
FORMATS: dict[str, str] = {
    "read": "dpu",
    "write": "dpu",
    "open": "sxo",
    "openat": "fsxo",
    "close": "d",
    "lseek": "ddd",
    "_llseek": "dddpd",
    "pread64": "dpud",
    "pwrite64": "dpud",
    "readv": "dpx",
    "writev": "dpx",
    "brk": "p",
    "mmap": "pudxdd",
    "mmap2": "pudxdd",
    "munmap": "pu",
    "mprotect": "pud",
    "madvise": "pud",
    "ioctl": "dxp",
    "exit": "d",
    "exit_group": "d",
    "readlink": "spu",
    "readlinkat": "fspu",
    "getrandom": "pux",
    "newfstatat": "fspx",
    "fstatat64": "fspx",
    "fstat": "dp",
    "fstat64": "dp",
    "stat": "sp",
    "stat64": "sp",
    "lstat": "sp",
    "lstat64": "sp",
    "statx": "fsxxp",
    "access": "so",
    "faccessat": "fsod",
    "unlink": "s",
    "unlinkat": "fsx",
    "mkdir": "so",
    "mkdirat": "fso",
    "rmdir": "s",
    "chdir": "s",
    "rename": "ss",
    "renameat": "fsfs",
    "getcwd": "pu",
    "dup": "d",
    "dup2": "dd",
    "dup3": "ddx",
    "fcntl": "ddx",
    "fcntl64": "ddx",
    "kill": "dd",
    "tgkill": "ddd",
    "tkill": "dd",
    "set_tid_address": "p",
    "set_thread_area": "p",
    "set_tls": "p",
    "arch_prctl": "dx",
    "uname": "p",
    "clock_gettime": "dp",
    "clock_gettime64": "dp",
    "gettimeofday": "pp",
    "nanosleep": "pp",
    "getpid": "",
    "getppid": "",
    "gettid": "",
    "getuid": "",
    "geteuid": "",
    "getgid": "",
    "getegid": "",
    "getuid32": "",
    "geteuid32": "",
    "getgid32": "",
    "getegid32": "",
    "sched_yield": "",
    "pipe": "p",
    "pipe2": "px",
    "getdents64": "dpu",
}


class Strace:
    """Writes one qemu-style line per syscall to ``stream``."""

    def __init__(self, stream: TextIO, word_bits: int, read_str: Callable[[int], str]) -> None:
        self.stream = stream
        self.width = word_bits // 4
        self.mask = (1 << word_bits) - 1
        self.read_str = read_str
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
            return f"{v & self.mask:#o}"
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
        self.stream.flush()

    def leave(self, name: str | None, ret: int) -> None:
        if name is None:
            return
        if -4096 < ret < 0:
            err = -ret
            text = os.strerror(err) if err in errno.errorcode else "Unknown error"
            self.stream.write(f" = -1 errno={err} ({text})\n")
        elif name in ("brk", "mmap", "mmap2"):
            self.stream.write(f" = 0x{ret & self.mask:0{self.width}x}\n")
        else:
            self.stream.write(f" = {ret}\n")
        self.stream.flush()
