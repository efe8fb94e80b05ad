"""qpp's own guest programs: small static Linux ELF binaries to run under qpp.

The binaries in ``bin/`` are built from the C sources in ``src/`` by
``build.sh`` with Debian's cross compilers and are committed so that qpp, its
tests and its benchmarks have guests to run without any toolchain installed.
Every binary is statically linked; the x86_64 builds use musl (small), the
other architectures glibc. ``hello.x86_64-glibc`` is the same hello linked
against glibc.

Programs (file name ``bin/<program>.<arch>``):

``hello``
    The default guest: prints ``Hello from the qpp guest!`` and one
    ``argv[i] = ...`` line per argument, exits 0. Stripped.
``probe``
    One test program driven by a subcommand in ``argv[1]`` (``args``, ``env``,
    ``file``, ``brk``, ``mmap``, ``exit``, ``fault``, ``abort``, ``cwd``,
    ``pipe``, ``time``, ``uname``); see ``src/probe.c`` for each output.
    Stripped.
``compute``
    A deterministic compute-heavy loop for benchmarks, ``compute [rounds]``,
    printing a digest (the same on every arch, see :data:`COMPUTE_OUTPUT`).
    The default 128 rounds run 7-13 million guest instructions (qemu-user
    7.2: x86_64 9.85M, aarch64 7.28M, arm 7.65M, riscv64 12.24M, mipsel
    9.75M). Keeps its symbols.
``memloop``
    No libc: a hand-written ``_start`` doing exactly ``MEMLOOP_ITERATIONS``
    iterations of one load and one store, then ``exit(0)``; used to check
    memory-access counting plugins. Keeps its symbols.

Rebuild (needs musl-tools, gcc and gcc-{aarch64,arm,riscv64,mipsel}-linux-gnu*)::

    qpp_core/guests/build.sh            # everything
    qpp_core/guests/build.sh probe      # one program, all architectures

``build.sh`` also rewrites ``bin/SHA256SUMS``; builds are reproducible, so a
rebuild with the same toolchain gives the same checksums. ``tools/`` holds a
minimal QEMU TCG plugin (not shipped) that checks the memloop counts against
real qemu-user.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "ARCHES",
    "COMPUTE_DEFAULT_ROUNDS",
    "COMPUTE_OUTPUT",
    "ELF_MACHINES",
    "GUEST_DIR",
    "HELLO_GREETING",
    "MEMLOOP_INSNS",
    "MEMLOOP_ITERATIONS",
    "MEMLOOP_LOADS",
    "MEMLOOP_STORES",
    "MEMLOOP_TOTAL_ACCESSES",
    "PROGRAMS",
    "SRC_DIR",
    "available",
    "default_guest",
    "expected_hello_output",
    "guest_path",
]

#: Architectures every program is built for (the ``<arch>`` file-name suffix).
ARCHES: tuple[str, ...] = ("x86_64", "aarch64", "arm", "riscv64", "mipsel")

#: Program names (the ``<program>`` file-name prefix).
PROGRAMS: tuple[str, ...] = ("hello", "probe", "compute", "memloop")

#: Directory holding the built binaries.
GUEST_DIR: Path = Path(__file__).resolve().parent / "bin"

#: Directory holding the C sources.
SRC_DIR: Path = Path(__file__).resolve().parent / "src"

#: ``(e_machine, ELF class bits)`` as pyelftools reports them, per arch suffix.
#: ``x86_64-glibc`` is the glibc build of hello and has the x86_64 machine.
ELF_MACHINES: dict[str, tuple[str, int]] = {
    "x86_64": ("EM_X86_64", 64),
    "x86_64-glibc": ("EM_X86_64", 64),
    "aarch64": ("EM_AARCH64", 64),
    "arm": ("EM_ARM", 32),
    "riscv64": ("EM_RISCV", 64),
    "mipsel": ("EM_MIPS", 32),
}

#: memloop: loop iterations; each does exactly one load and one store of the
#: 32-bit word ``memloop_cell`` and nothing else touches memory (no stack, no
#: literal pools, no libc). See ``src/memloop.c``.
MEMLOOP_ITERATIONS: int = 1000
MEMLOOP_LOADS: int = 1000
MEMLOOP_STORES: int = 1000
MEMLOOP_TOTAL_ACCESSES: int = MEMLOOP_LOADS + MEMLOOP_STORES

#: memloop: exact number of guest instructions executed from ``_start`` to
#: the exit syscall inclusive, per architecture (set-up + 5 per iteration +
#: 3 for the exit call; x86_64 needs one set-up instruction less).
MEMLOOP_INSNS: dict[str, int] = {
    "x86_64": 5005,
    "aarch64": 5006,
    "arm": 5006,
    "riscv64": 5006,
    "mipsel": 5006,
}


#: compute: rounds when run without an argument.
COMPUTE_DEFAULT_ROUNDS: int = 128

#: compute: exact stdout for some round counts (identical on every arch).
COMPUTE_OUTPUT: dict[int, str] = {
    1: "compute: rounds 1 digest 0xc758c215 crc 0xd19af2d3\n",
    16: "compute: rounds 16 digest 0x5f3355d0 crc 0x36c7ca77\n",
    128: "compute: rounds 128 digest 0xff4526b2 crc 0x6f2eefff\n",
}


def available() -> list[str]:
    """Return the file names of all built guests present in :data:`GUEST_DIR`."""
    if not GUEST_DIR.is_dir():
        return []
    return sorted(p.name for p in GUEST_DIR.iterdir() if p.is_file() and p.name != "SHA256SUMS")


def guest_path(program: str, arch: str = "x86_64") -> Path:
    """Return the path of ``bin/<program>.<arch>``.

    ``arch`` is one of :data:`ARCHES`, or ``"x86_64-glibc"`` for the glibc
    hello. Raises :class:`KeyError` for an unknown program or architecture and
    :class:`FileNotFoundError` if the binary has not been built; both messages
    list what exists, so a typo is obvious.
    """
    if program not in PROGRAMS:
        raise KeyError(f"unknown guest program {program!r}; known programs: {', '.join(PROGRAMS)}")
    if arch not in ELF_MACHINES:
        raise KeyError(f"unknown guest architecture {arch!r}; known: {', '.join(ELF_MACHINES)}")
    path = GUEST_DIR / f"{program}.{arch}"
    if not path.is_file():
        have = ", ".join(available()) or "(none)"
        raise FileNotFoundError(
            f"guest binary {path} does not exist (run {GUEST_DIR.parent / 'build.sh'}); "
            f"available: {have}"
        )
    return path


def default_guest() -> Path:
    """Return the built-in default guest, ``hello.x86_64`` (musl, static)."""
    return guest_path("hello", "x86_64")


HELLO_GREETING: str = "Hello from the qpp guest!\n"


def expected_hello_output(argv: Sequence[str]) -> str:
    """Return exactly what ``hello`` writes to stdout when run with ``argv``.

    ``argv[0]`` is the program path as the guest sees it.
    """
    return HELLO_GREETING + "".join(f"argv[{i}] = {a}\n" for i, a in enumerate(argv))
