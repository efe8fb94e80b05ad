"""``load_guest``: from a path on the command line to a machine ready to run (no guest code runs).

The order is qemu-user 7.2's: map the image's PT_LOAD segments (union of permissions per
page), set the break just above the image, map the stack (guard page below it) and what
qemu maps itself (so later mmaps land where qemu's land): the signal-trampoline page on
aarch64/riscv64, two pages for the IDT and GDT on x86_64; then write argv/envp/auxv and
point the CPU at the entry.

A dynamically linked program needs ``-L SYSROOT``: its PT_INTERP (the dynamic linker) is
read from the sysroot (or from the host's path when the sysroot has no such file), mapped
as qemu-user 7.2 maps it and started instead of the program, with AT_BASE = its load
address and AT_ENTRY = the program's entry. On 64-bit guests the stack goes 32 MiB above
a PIE image (room for the break), the linker right above the stack, then qemu's own pages
and the later mmaps; on 32-bit guests the linker goes where an anonymous mmap would. The
linker then finds the libraries through the same sysroot redirection (:class:`FileView`).
"""

from __future__ import annotations

import itertools
import os
import random
import resource
import sys
from collections.abc import Callable, Mapping
from functools import partial
from typing import TextIO

from unicorn.unicorn_const import UC_ERR_NOMEM

from ..errors import BadBinaryError, GuestUnsupportedError, HostError
from ..machine import Machine, SymbolTable, create_cpu
from ..machine.arch.base import Arch, UcError
from ..machine.cpu import arch_for_model
from .elf import ElfImage, read_elf, read_symbols
from .fs import FileView
from .memory import PAGE, GuestMemory, page_down, page_up
from .options import GuestOptions, guest_environment, host_environment
from .stack import StackImage, build_stack
from .syscalls import LinuxKernel
from .syscalls.delivery import (
    deliver_fault,
    deliver_posted,
    install_trampoline,
    interrupts_call,
    post_host_signal,
)
from .syscalls.mem import vsyscall
from .syscalls.procself import ProcessImage, pack_auxv
from .syscalls.sigstate import ignores_host_signal

DEFAULT_STACK = 8 << 20
#: a dynamically linked PIE (64-bit): the stack goes this far above the image, leaving the
#: break room to grow (qemu-user 7.2 reserves it while placing the linker and the stack)
BRK_RESERVE = 32 << 20


def _stack_size() -> int:
    """qemu-user: the host's RLIMIT_STACK when finite, else 8 MiB."""
    soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    if soft == resource.RLIM_INFINITY or soft <= 0 or soft > (1 << 31):
        return DEFAULT_STACK
    return page_up(soft)


def _page_runs(img: ElfImage, bias: int) -> list[list[int]]:
    """[start, end, prot] runs of pages, the union of the protections of the segments in each."""
    spans = [
        (page_down(s.vaddr + bias), page_up(s.vaddr + bias + s.memsz), s.prot) for s in img.segments
    ]
    cuts = sorted({c for a, b, _ in spans for c in (a, b)})
    runs: list[list[int]] = []
    for lo, hi in itertools.pairwise(cuts):
        prot = 0
        covered = False
        for a, b, p in spans:
            if a <= lo and hi <= b:
                prot, covered = prot | p, True
        if not covered:
            continue
        if runs and runs[-1][1] == lo and runs[-1][2] == prot:
            runs[-1][1] = hi
        else:
            runs.append([lo, hi, prot])
    return runs


def _map_image(mem: GuestMemory, img: ElfImage, bias: int) -> int:
    """Map the segments; returns the end of the image (where the break starts)."""
    runs = _page_runs(img, bias)
    holes = [(end, start) for (_, end, _), (start, _, _) in itertools.pairwise(runs) if end < start]
    try:
        for start, end, prot in runs:
            mem.uc.mem_map(start, end - start, prot | 1)
        for end, start in holes:  # a hole inside the image stays reserved, as qemu leaves it
            mem.uc.mem_map(end, start - end, 0)
    except UcError as e:
        size = runs[-1][1] - runs[0][0]
        if getattr(e, "errno", None) == UC_ERR_NOMEM:
            raise HostError(
                f"{img.path}: not enough memory for its 0x{size:x}-byte image; "
                "free memory or rebuild it smaller"
            ) from None
        raise BadBinaryError(
            f"{img.path}: its image (0x{runs[0][0]:x}-0x{runs[-1][1]:x}) collides with what "
            "qemu-user maps itself; relink it at another address"
        ) from None
    for seg in img.segments:
        if seg.data:
            mem.uc.mem_write(seg.vaddr + bias, seg.data)
            first = page_down(seg.vaddr + bias)
            last = page_up(seg.vaddr + bias + len(seg.data))
            offset = seg.offset - (seg.vaddr + bias - first)
            mem.note_file(first, last, os.path.realpath(img.path), offset)
        if seg.prot & 4 and seg.data:  # the zero-filled rest holds no instruction to hook
            mem.code_mapped(seg.vaddr + bias, len(seg.data))
    return max(s.vaddr + bias + s.memsz for s in img.segments)


def _place(mem: GuestMemory, img: ElfImage, addr: int, size: int, prot: int, what: str) -> None:
    """Map what qemu-user maps at a fixed place (stack, its own pages), if the image left room."""
    if not mem.is_free(addr, size):
        raise BadBinaryError(
            f"{img.path}: its image (0x{page_down(img.low):x}-0x{page_up(img.high):x}) covers "
            f"0x{addr:x}, where qemu-user puts {what}; relink it at another address"
        )
    mem.uc.mem_map(addr, size, prot)


def _read_interpreter(binary: str, img: ElfImage, sysroot: str) -> ElfImage:
    """The program's dynamic linker, from the sysroot (qemu's -L lookup), checked."""
    assert img.interpreter is not None
    path = os.path.join(os.path.abspath(sysroot), img.interpreter.lstrip("/"))
    if not os.path.lexists(path):
        path = img.interpreter
    if not os.path.exists(path):
        raise HostError(
            f"{binary}: its dynamic linker {img.interpreter} is neither in -L {sysroot} nor on "
            "the host; install the target's libc (e.g. libc6-<arch>-cross) or fix -L"
        )
    interp = read_elf(path)
    if interp.arch is not img.arch or not interp.is_pie or interp.interpreter is not None:
        raise BadBinaryError(
            f"{binary}: dynamic linker {path} is not a {img.arch.name} shared object; check -L"
        )
    return interp


def _map_interpreter(mem: GuestMemory, interp: ElfImage, where: int) -> tuple[int, int, int]:
    """Map the dynamic linker at ``where``: (base, its entry, end of its mapping)."""
    bias = where - page_down(interp.low)
    end = _map_image(mem, interp, bias)
    return where, interp.entry + bias, page_up(end)


def load_guest(opts: GuestOptions, *, stderr: TextIO = sys.stderr) -> Machine:
    """Parse and map the ELF, build the stack, set up the CPU; runs no guest code.

    The guest's working directory is the process's: with ``--jail`` it moves into the
    jail here (see :meth:`FileView.enter`).
    """
    img = read_elf(opts.host_binary or opts.binary)
    arch = arch_for_model(img.arch, opts.cpu)  # the HWCAPs of the -cpu model
    interp: ElfImage | None = None
    if img.interpreter is not None:
        if opts.sysroot is None:
            raise BadBinaryError(
                f"{opts.binary}: dynamically linked (needs {img.interpreter}); run it with "
                "-L SYSROOT (e.g. -L /usr/aarch64-linux-gnu) or rebuild with -static"
            )
        interp = _read_interpreter(opts.binary, img, opts.sysroot)
    if opts.jail is not None and not os.path.isdir(opts.jail):
        raise HostError(f"--jail {opts.jail}: no such directory; create it or pick another")

    uc = create_cpu(arch, opts.cpu)
    mem = GuestMemory(uc, arch)
    stack_size = _stack_size()
    bias = 0
    if img.is_pie:
        span = page_up(img.high) - page_down(img.low)
        if arch.bits == 64:
            bias = arch.stack_base - page_down(img.low)
        else:
            bias = page_down(arch.stack_base - stack_size - PAGE - span) - page_down(img.low)
            if page_down(img.low) + bias < PAGE:
                raise BadBinaryError(
                    f"{opts.binary}: its 0x{span:x}-byte image does not fit below the stack"
                )
    end = _map_image(mem, img, bias)
    mem.set_initial_brk(end)

    stack_base = arch.stack_base
    if img.is_pie and arch.bits == 64:
        stack_base = page_up(end)
        if interp is not None:
            stack_base += BRK_RESERVE  # room for the break before the stack, as qemu leaves
    stack_prot = 7 if img.exec_stack or arch.exec_stack else 3
    _place(mem, img, stack_base, PAGE, 0, "the stack's guard page")
    limit = stack_base + PAGE
    _place(mem, img, limit, stack_size, stack_prot, "the stack")
    mem.stack = (limit, limit + stack_size)

    start = img.entry + bias
    interp_base = 0
    above_stack = limit + stack_size
    if interp is not None and arch.bits == 64:
        # qemu-user 7.2 (64-bit): the linker right above the stack, then the trampoline
        interp_base, start, above_stack = _map_interpreter(mem, interp, above_stack)
    sigtramp = 0
    if arch.sigtramp_above_stack:
        _place(mem, img, above_stack, PAGE, 5, "its signal trampoline page")
        sigtramp = above_stack
        above_stack += PAGE
    elif arch.descriptor_table_pages:
        # qemu-user keeps the guest's IDT and GDT in anonymous guest pages
        size = arch.descriptor_table_pages * PAGE
        _place(mem, img, above_stack, size, 3, "the guest's IDT and GDT")
        above_stack += size
    elif arch.mmap_top is not None:
        _place(mem, img, arch.mmap_top, PAGE, 5, "its signal trampoline page")
        sigtramp = arch.mmap_top
    if interp is not None and arch.bits == 32:
        where = mem.find_free(page_up(interp.high) - page_down(interp.low))
        if where is None:
            raise GuestUnsupportedError(f"{opts.binary}: no room to map the dynamic linker")
        interp_base, start, _ = _map_interpreter(mem, interp, where)
    if interp is not None and arch.bits == 64:
        mem.mmap_floor = above_stack  # later mmaps go above it all, as qemu's do

    rng = random.Random(opts.seed) if opts.seed is not None else None
    random16 = bytes(rng.getrandbits(8) for _ in range(16)) if rng else os.urandom(16)
    argv = [os.fsencode(opts.argv0 if opts.argv0 is not None else opts.binary)]
    argv += [os.fsencode(a) for a in opts.args]
    host_env: Mapping[str, str] = host_environment()
    if opts.environ is not None:  # execve: what the program was given
        host_env = dict(e.partition("=")[::2] for e in opts.environ)
    envp = [os.fsencode(e) for e in guest_environment(opts, host_env)]
    phdr = (img.phdr_vaddr or 0) + bias
    stack = build_stack(
        arch,
        limit + stack_size - 8,
        argv,
        envp,
        os.fsencode(opts.binary),
        random16,
        phdr,
        img.phnum,
        img.phentsize,
        img.entry + bias,
        interp_base,
    )
    if stack.sp - 4096 < limit:
        raise GuestUnsupportedError(
            f"{opts.binary}: arguments and environment do not fit the stack"
        )
    uc.mem_write(stack.base, stack.data)
    uc.reg_write(arch.sp, stack.sp)

    def report(line: str) -> None:
        stderr.write(line + "\n")
        stderr.flush()

    files = FileView(opts.host_binary or opts.binary, opts.jail, report, opts.sysroot)
    files.enter()
    kernel = LinuxKernel(arch.name, mem, files, opts, stderr)
    kernel.image = _process_image(arch, img, bias, stack, mem.brk_start)
    if rng is not None:
        kernel.rng = rng  # AT_RANDOM and getrandom come from one seeded stream
    machine = Machine(
        arch, uc, kernel, start, SymbolTable(_symbols(img, bias, interp, interp_base))
    )
    machine.load_bias = bias
    machine.sched_mode = opts.sched
    kernel.machine = machine
    machine.code_listeners = mem.code_listeners
    if sigtramp:
        install_trampoline(kernel, sigtramp)
    machine.signal_ignored = partial(ignores_host_signal, kernel)
    machine.fault_handler = partial(deliver_fault, kernel)
    machine.signal_post = partial(post_host_signal, kernel)
    machine.signal_interrupts_call = partial(interrupts_call, kernel)
    machine.deliver_posted = partial(deliver_posted, kernel)
    machine.fault_signal = mem.fault_signal  # SIGBUS past the end of a file mapping
    machine.exec_fault = partial(vsyscall, kernel)  # x86_64's vsyscall page
    if opts.strace or "strace" in opts.debug:
        from .strace import Strace  # only when asked for: it builds a table of every call

        kernel.strace = Strace(stderr, arch.bits, kernel.cstr, names=kernel.table)
    return machine


def _process_image(
    arch: Arch, img: ElfImage, bias: int, stack: StackImage, brk_start: int
) -> ProcessImage:
    """What ``/proc/self`` tells of the program: its code and data as Linux's loader
    reckons them (the executable segments; the highest segment), its start-up strings."""
    code = [s for s in img.segments if s.prot & 4] or list(img.segments)
    start_code = min(s.vaddr for s in code) + bias
    end_code = max(s.vaddr + len(s.data) for s in code) + bias
    start_data = max(s.vaddr for s in img.segments) + bias
    end_data = max(s.vaddr + len(s.data) for s in img.segments) + bias
    return ProcessImage(
        stack.arg_start,
        stack.env_start,
        stack.env_end,
        stack.sp,
        pack_auxv(stack.auxv, arch.word, arch.little_endian),
        (start_code, end_code),
        (start_data, end_data),
        brk_start,
    )


def _symbols(
    img: ElfImage, bias: int, interp: ElfImage | None, interp_base: int
) -> Callable[[], list[tuple[int, int, str]]]:
    """What reads the program's (and its dynamic linker's) symbols, where they were loaded."""
    paths = [(os.path.abspath(img.path), bias)]
    if interp is not None:
        paths.append((os.path.abspath(interp.path), interp_base - page_down(interp.low)))

    def read() -> list[tuple[int, int, str]]:
        return [
            (a + base, s, n) for path, base in paths for a, s, n in read_symbols(path, img.arch)
        ]

    return read
