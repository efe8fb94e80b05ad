#!/usr/bin/env python3
"""Write qpp_core/abi/numbers_<arch>.py from the kernel's own uapi headers.

The numbers are facts of each architecture's ABI; this script reads them from the
``asm/unistd*.h`` headers that Debian's ``linux-libc-dev`` (host) and
``linux-libc-dev-<arch>-cross`` packages install, through the host C preprocessor, so
that the per-architecture conditionals (``__NR3264_*``, ``__ARCH_WANT_*``,
``__BITS_PER_LONG``) are resolved exactly as a compiler for that target resolves them.
qpp itself never needs the headers: the generated modules are committed.

Usage: ``python tools/gen_syscall_numbers.py [--check]`` (``--check``: exit 1 when a
committed module differs from what the headers give, writing nothing).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "qpp_core" / "abi"

#: arch -> (include directory, preprocessor definitions of the target, header)
TARGETS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "x86_64": (
        "/usr/include/x86_64-linux-gnu",
        ("-D__x86_64__", "-D__LP64__", "-D__SIZEOF_POINTER__=8"),
        "asm/unistd_64.h",
    ),
    "aarch64": (
        "/usr/aarch64-linux-gnu/include",
        ("-D__aarch64__", "-D__LP64__", "-D__SIZEOF_POINTER__=8"),
        "asm/unistd.h",
    ),
    "riscv64": (
        "/usr/riscv64-linux-gnu/include",
        ("-D__riscv", "-D__riscv_xlen=64", "-D__LP64__", "-D__SIZEOF_POINTER__=8"),
        "asm/unistd.h",
    ),
    "arm": (
        "/usr/arm-linux-gnueabihf/include",
        ("-D__arm__", "-D__ARM_EABI__", "-D__SIZEOF_POINTER__=4"),
        "asm/unistd.h",
    ),
    "mipsel": (
        "/usr/mipsel-linux-gnu/include",
        (
            "-D__mips__",
            "-D_MIPS_SIM_ABI32=1",
            "-D_MIPS_SIM_NABI32=2",
            "-D_MIPS_SIM_ABI64=3",
            "-D_MIPS_SIM=1",
            "-D__SIZEOF_POINTER__=4",
        ),
        "asm/unistd.h",
    ),
}

#: macros with a syscall prefix that are not syscalls (bases and counts)
NOT_CALLS = frozenset({"syscalls", "arch_specific_syscall"})
_DEFINE = re.compile(r"#define\s+(\w+)\s+(.*)")
_PREFIX = re.compile(r"^(?:__NR_|__ARM_NR_)(\w+)$")
_TOKEN = re.compile(r"\s*(0x[0-9a-fA-F]+|\d+|\w+|[()+\-])")


def macros(include: str, defs: tuple[str, ...], header: str) -> dict[str, str]:
    """Every macro the header defines for the target: ``name -> replacement text``."""
    out = subprocess.run(
        ["cpp", "-undef", "-nostdinc", "-dM", f"-I{include}", *defs, "-"],
        input=f"#include <{header}>\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table: dict[str, str] = {}
    for line in out.splitlines():
        m = _DEFINE.match(line)
        if m:
            table[m.group(1)] = m.group(2).strip()
    return table


def evaluate(text: str, defs: dict[str, str], depth: int = 0) -> int | None:
    """The value of a macro body made of numbers, macro names, ``+``, ``-`` and
    parentheses; ``None`` when it is anything else."""
    if depth > 20:
        return None
    pos, parts = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            return None
        tok = m.group(1)
        pos = m.end()
        if tok[0].isdigit():
            parts.append(str(int(tok, 0)))
        elif tok in "()+-":
            parts.append(tok)
        elif tok in defs:
            value = evaluate(defs[tok], defs, depth + 1)
            if value is None:
                return None
            parts.append(f"({value})")
        else:
            return None
    if not parts:
        return None
    result = eval(" ".join(parts), {"__builtins__": {}})  # digits, + - ( ) only
    return int(result)


def numbers(arch: str) -> dict[int, str]:
    """``number -> name`` for one architecture."""
    defs = macros(*TARGETS[arch])
    table: dict[int, str] = {}
    for macro, body in sorted(defs.items()):
        m = _PREFIX.match(macro)
        if m is None:
            continue
        name = m.group(1)
        if name in NOT_CALLS or name != name.lower():
            continue  # bases (__NR_Linux, __NR_SYSCALL_BASE) and counts
        if _PREFIX.match(body):
            continue  # an alias of another call's macro (arm's sync_file_range2)
        value = evaluate(body, defs)
        if value is None:
            raise SystemExit(f"{arch}: cannot evaluate {macro} = {body}")
        if value in table:
            raise SystemExit(f"{arch}: {table[value]} and {name} both have number {value}")
        table[value] = name
    return dict(sorted(table.items()))


def _literal(nr: int) -> str:
    """Arm's private calls (0xf0001...) read better in hex."""
    return f"0x{nr:X}" if nr >= 0xF0000 else str(nr)


def module(arch: str, table: dict[int, str]) -> str:
    """The Python source of ``numbers_<arch>.py``."""
    header = TARGETS[arch][0] + "/" + TARGETS[arch][2]
    lines = [
        f'"""Syscall numbers of {arch} (``number -> name``), {len(table)} calls.',
        "",
        "Generated by tools/gen_syscall_numbers.py (do not edit) from",
        f"{header}.",
        '"""',
        "",
        "NUMBERS: dict[int, str] = {",
        *(f'    {_literal(nr)}: "{name}",' for nr, name in table.items()),
        "}",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    opts = parser.parse_args()
    stale = []
    for arch in TARGETS:
        text = module(arch, numbers(arch))
        path = OUT / f"numbers_{arch}.py"
        if opts.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
            continue
        path.write_text(text)
        print(f"{path}: {text.count(': ') - 1} calls")
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
