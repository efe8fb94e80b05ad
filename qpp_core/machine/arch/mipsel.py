"""mipsel (o32): unicorn's 24Kf CPU; errors come back as a positive errno with a3 = 1.

Syscall arguments 5 and 6 are on the stack (sp+16, sp+20); the delay slot belongs to its
block, so a block of n bytes holds n/4 instructions.

Long straight-line code: unicorn 2.1.4's MIPS translator takes one TCG temporary per
instruction that it never frees (a constant made at the start of each instruction's
translation), and TCG has 512. A translation block of more than about 370 instructions
without a branch (unrolled SHA-1/SHA-512 rounds at -O2) overruns the table and the host
process dies with SIGSEGV, in whatever allocates the next temporary (often
``gen_shift_imm``). No MIPS model avoids it (24Kf, 34Kf, 74Kf, P5600 all crash).
:func:`hook_code_quirks` finds such runs in newly mapped code and instruments them with a
do-nothing C code hook: instrumented instructions make more host code, and unicorn then
ends the block after 200-290 of them, well below the limit.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable

import unicorn
from unicorn import mips_const as M

from .base import (
    Arch,
    SyscallAbi,
    TrapSiginfo,
    Uc,
    UcError,
    add_noop_code_hook,
    capstone,
    cpu_models_from,
    registers_from,
)


def _count(code: bytes, thumb: bool) -> int:
    return len(code) // 4


_SIGNALS = {
    12: signal.SIGSEGV,
    13: signal.SIGSEGV,  # AdEL, AdES
    18: signal.SIGTRAP,  # break
    19: signal.SIGILL,
    20: signal.SIGILL,  # CpU, RI
    21: signal.SIGFPE,
    22: signal.SIGFPE,
    23: signal.SIGFPE,  # overflow, trap, FPE
    26: signal.SIGSEGV,
    27: signal.SIGSEGV,  # TLBL, TLBS
}


#: CPU exceptions as qemu-user 7.2 reports them to a handler (si_code, si_addr)
_TRAP_SIGINFO = {
    # qemu-user 7.2 reports these as SIGTRAP/SIGILL with si_code SI_KERNEL and no address
    # (Linux: SIGFPE/FPE_INTDIV for a divide-by-zero trap, ILL_ILLOPC at the instruction)
    20: TrapSiginfo(0x80, addr_is_pc=False),  # RI
    22: TrapSiginfo(0x80, addr_is_pc=False, signal=signal.SIGTRAP),  # trap (teq)
    18: TrapSiginfo(1),  # break: TRAP_BRKPT
}


#: trap instructions and when they trap, (rs, rt) as signed 32-bit values
_TRAPS: dict[str, Callable[[int, int], bool]] = {
    "teq": lambda a, b: a == b,
    "tne": lambda a, b: a != b,
    "tge": lambda a, b: a >= b,
    "tlt": lambda a, b: a < b,
    "tgeu": lambda a, b: a & 0xFFFFFFFF >= b & 0xFFFFFFFF,
    "tltu": lambda a, b: a & 0xFFFFFFFF < b & 0xFFFFFFFF,
}


def _operand(uc: Uc, text: str) -> int:
    """A register (``$v1``) or immediate operand's value, signed 32-bit."""
    text = text.strip()
    if text.startswith("$"):
        value = int(uc.reg_read(_REGS[text[1:]])) & 0xFFFFFFFF
    else:
        value = int(text, 0) & 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


def trapping_insn(uc: Uc, intno: int, block: int, size: int) -> int | None:
    """The address of the instruction that raised CPU exception ``intno`` in the block
    that starts at ``block`` (unicorn does not say: its pc is the last one it saved).

    Every instruction of the block before it has run, so it is the first one that can
    raise that exception: an undecodable one for a reserved instruction (unicorn ends
    the block before it, so the one just past the block is looked at too), ``break``,
    or a trap instruction whose condition holds on the registers as they are now.
    """
    try:
        code = bytes(uc.mem_read(block, size + 4))
    except UcError:
        code = bytes(uc.mem_read(block, size)) if size else b""
    cs = capstone().Cs(ARCH.cs_arch, ARCH.cs_mode(False))
    traps = []
    for off in range(0, len(code) - 3, 4):
        found = list(cs.disasm_lite(code[off : off + 4], block + off))
        mnemonic, ops = (found[0][2], found[0][3]) if found else ("", "")
        if intno == 20 and not found:
            return block + off
        if intno == 18 and mnemonic == "break":
            return block + off
        if intno == 22 and mnemonic.rstrip("i") in _TRAPS:
            traps.append((block + off, mnemonic.rstrip("i"), ops))
    for addr, mnemonic, ops in traps:
        a, b = (_operand(uc, x) for x in ops.split(",")[:2])
        if _TRAPS[mnemonic](a, b):
            return addr
    return traps[0][0] if traps else None


def _exception_signal(intno: int) -> int:
    return int(_SIGNALS.get(intno, signal.SIGILL))


#: branch-free runs longer than this get the block-splitting hook (the crash is near 370)
LONG_RUN = 256

#: primary opcodes that end a block: REGIMM branches, J, JAL, BEQ..BGTZ, BEQL..BGTZL
_BRANCH_OPS = frozenset({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x14, 0x15, 0x16, 0x17})
#: SPECIAL functions that end a block: JR, JALR, SYSCALL, BREAK
_SPECIAL_ENDS = frozenset({0x08, 0x09, 0x0C, 0x0D})


def _table(pred: Callable[[int], bool]) -> bytes:
    return bytes(1 if pred(b) else 0 for b in range(256))


# Per-byte tests on the little-endian words, applied to whole columns of bytes at once
# (``bytes.translate``), then combined as big integers holding one 0/1 flag per byte.
_OP_BRANCH = _table(lambda b: b >> 2 in _BRANCH_OPS)  # byte 3: the primary opcode
_OP_SPECIAL = _table(lambda b: b >> 2 == 0)
_FUNCT_ENDS = _table(lambda b: b & 0x3F in _SPECIAL_ENDS)  # byte 0: SPECIAL's function
_OP_BC = _table(lambda b: b in (0x45, 0x49))  # COP1/COP2 with rs = 8 (high bits)...
_RS_BC = _table(lambda b: b < 0x20)  # ...and byte 2 (rs low bits = 0): BC1x, BC2x
_LONG = re.compile(rb"\x00{%d,}" % (LONG_RUN + 1))


def long_runs(addr: int, code: bytes) -> list[tuple[int, int]]:
    """``(first, last)`` instruction addresses of branch-free runs longer than LONG_RUN."""
    n = len(code) // 4

    def flags(column: int, table: bytes) -> int:
        return int.from_bytes(code[column : 4 * n : 4].translate(table), "little")

    ends = (
        flags(3, _OP_BRANCH)
        | (flags(3, _OP_SPECIAL) & flags(0, _FUNCT_ENDS))
        | (flags(3, _OP_BC) & flags(2, _RS_BC))
    ).to_bytes(n, "little")
    return [(addr + 4 * m.start(), addr + 4 * (m.end() - 1)) for m in _LONG.finditer(ends)]


def hook_code_quirks(uc: Uc, addr: int, code: bytes, hooked: set[int]) -> None:
    """Split long branch-free runs into blocks unicorn can translate (see the module doc)."""
    for first, last in long_runs(addr, code):
        if first not in hooked:
            hooked.add(first)
            add_noop_code_hook(uc, first, last)


_REGS = registers_from(M, "UC_MIPS_REG_")
_REGS.update({"s8": M.UC_MIPS_REG_FP})


def _elf_flags_error(e_flags: int) -> str | None:
    """MIPS32 and MIPS32r2 o32 programs run (and ISA-less ones); MIPS64, r6 and others do not."""
    if e_flags & 0xF0000000 in (0x00000000, 0x10000000, 0x50000000, 0x70000000):
        return None
    return "MIPS ISA in e_flags not supported (need MIPS32 o32)"


ARCH = Arch(
    name="mipsel",
    qemu_target="mipsel",
    bits=32,
    little_endian=True,
    elf_machine="EM_MIPS",
    uc_arch=unicorn.UC_ARCH_MIPS,
    uc_mode=unicorn.UC_MODE_MIPS32 | unicorn.UC_MODE_LITTLE_ENDIAN,
    pc=M.UC_MIPS_REG_PC,
    sp=M.UC_MIPS_REG_SP,
    registers=_REGS,
    syscall=SyscallAbi(
        number=M.UC_MIPS_REG_V0,
        args=(M.UC_MIPS_REG_A0, M.UC_MIPS_REG_A1, M.UC_MIPS_REG_A2, M.UC_MIPS_REG_A3),
        result=M.UC_MIPS_REG_V0,
        stack_args=2,
        error_flag=M.UC_MIPS_REG_A3,
        intno=17,
        result2=M.UC_MIPS_REG_V1,
    ),
    cs_arch_name="CS_ARCH_MIPS",
    cs_mode_for=lambda thumb: capstone().CS_MODE_MIPS32 | capstone().CS_MODE_LITTLE_ENDIAN,
    count_insns_fn=_count,
    exception_signal=_exception_signal,
    sign_extending_load=lambda m: m in ("lb", "lh"),
    delay_slot_branch=lambda m: m.startswith(("b", "j")) and m != "break",
    trap_siginfo=_TRAP_SIGINFO,
    trapping_insn=trapping_insn,
    default_cpu=M.UC_CPU_MIPS32_24KF,
    cpu_models={**cpu_models_from(M, "UC_CPU_MIPS32_"), "max": M.UC_CPU_MIPS32_24KF},
    hwcap=0,
    base_platform="mips32r2",
    stack_base=0x4000_0000,
    user_top=0x8000_0000,  # o32: 2 GiB of user space
    mmap_top=0x3FFF_F000,
    hook_code_quirks=hook_code_quirks,
    elf_flags_error=_elf_flags_error,
    exec_stack=True,
)


def setup_cpu(uc: Uc, cpu_model: int) -> None:
    """Nothing to enable: the 24Kf has its FPU on and rdhwr $29 reads UserLocal."""
