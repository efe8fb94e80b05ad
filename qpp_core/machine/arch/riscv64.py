"""riscv64: unicorn's ``any`` CPU (RV64GC) with the FPU switched on (MSTATUS.FS)."""

from __future__ import annotations

import signal

import unicorn
from unicorn import riscv_const as R

from .base import (
    INVALID_INSN,
    Arch,
    SyscallAbi,
    TrapSiginfo,
    Uc,
    capstone,
    cpu_models_from,
    registers_from,
)


def _count(code: bytes, thumb: bool) -> int:
    """2-byte compressed or 4-byte instructions, told apart by the low two bits."""
    n = i = 0
    while i < len(code):
        i += 4 if code[i] & 3 == 3 else 2
        n += 1
    return n


_SIGNALS = {
    0: signal.SIGBUS,
    1: signal.SIGSEGV,
    2: signal.SIGILL,
    3: signal.SIGTRAP,
    4: signal.SIGBUS,
    5: signal.SIGSEGV,
    6: signal.SIGBUS,
    7: signal.SIGSEGV,
    12: signal.SIGSEGV,
    13: signal.SIGSEGV,
    15: signal.SIGSEGV,
}


#: CPU exceptions as qemu-user 7.2 reports them to a handler (si_code, si_addr)
_TRAP_SIGINFO = {
    2: TrapSiginfo(1),  # illegal instruction: ILL_ILLOPC
    3: TrapSiginfo(1),  # breakpoint: TRAP_BRKPT
    # unicorn 2.1.4 ends the run on ebreak with "invalid instruction" (illegal ones raise
    # exception 2): SIGTRAP/TRAP_BRKPT as Linux and qemu-user report it
    INVALID_INSN: TrapSiginfo(1, signal=signal.SIGTRAP),
}


def _exception_signal(intno: int) -> int:
    return int(_SIGNALS.get(intno, signal.SIGILL))


_REGS = registers_from(R, "UC_RISCV_REG_")

ARCH = Arch(
    name="riscv64",
    qemu_target="riscv64",
    bits=64,
    little_endian=True,
    elf_machine="EM_RISCV",
    uc_arch=unicorn.UC_ARCH_RISCV,
    uc_mode=unicorn.UC_MODE_RISCV64,
    pc=R.UC_RISCV_REG_PC,
    sp=R.UC_RISCV_REG_SP,
    registers=_REGS,
    syscall=SyscallAbi(
        number=R.UC_RISCV_REG_A7,
        args=tuple(R.UC_RISCV_REG_A0 + i for i in range(6)),
        result=R.UC_RISCV_REG_A0,
        intno=8,
    ),
    cs_arch_name="CS_ARCH_RISCV",
    cs_mode_for=lambda thumb: capstone().CS_MODE_RISCV64 | capstone().CS_MODE_RISCVC,
    count_insns_fn=_count,
    exception_signal=_exception_signal,
    sign_extending_load=lambda m: m in ("lb", "lh", "lw", "c.lw", "c.lwsp"),
    undecodable_size=lambda rest, thumb: 4 if rest[0] & 3 == 3 else 2,
    trap_siginfo=_TRAP_SIGINFO,
    trap_pc_offset=4,  # unicorn has moved the pc past the instruction (ecall too)
    default_cpu=R.UC_CPU_RISCV64_ANY,
    cpu_models={**cpu_models_from(R, "UC_CPU_RISCV64_"), "max": R.UC_CPU_RISCV64_ANY},
    hwcap=0x112D,
    stack_base=0x40_0000_0000,
    user_top=1 << 48,  # qemu 7.2: sv48
    mmap_base=0x40_0000_0000,
    sigtramp_above_stack=True,
)


def setup_cpu(uc: Uc, cpu_model: int) -> None:
    """Set MSTATUS.FS to 'dirty' so floating-point instructions are legal."""
    uc.reg_write(R.UC_RISCV_REG_MSTATUS, uc.reg_read(R.UC_RISCV_REG_MSTATUS) | (3 << 13))
