"""mipsel (o32): unicorn's 24Kf CPU; errors come back as a positive errno with a3 = 1.

Syscall arguments 5 and 6 are on the stack (sp+16, sp+20); the delay slot belongs to its
block, so a block of n bytes holds n/4 instructions.
"""

from __future__ import annotations

import signal

import capstone
import unicorn
from unicorn import mips_const as M

from .base import Arch, SyscallAbi, Uc, cpu_models_from, registers_from


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


def _exception_signal(intno: int) -> int:
    return int(_SIGNALS.get(intno, signal.SIGILL))


_REGS = registers_from(M, "UC_MIPS_REG_")
_REGS.update({"s8": M.UC_MIPS_REG_FP})

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
    ),
    cs_arch=capstone.CS_ARCH_MIPS,
    cs_mode_for=lambda thumb: capstone.CS_MODE_MIPS32 | capstone.CS_MODE_LITTLE_ENDIAN,
    count_insns_fn=_count,
    exception_signal=_exception_signal,
    default_cpu=M.UC_CPU_MIPS32_24KF,
    cpu_models=cpu_models_from(M, "UC_CPU_MIPS32_"),
    hwcap=0,
    base_platform="mips32r2",
    stack_base=0x4000_0000,
    user_top=0x8000_0000,  # o32: 2 GiB of user space
    mmap_top=0x3FFF_F000,
)


def setup_cpu(uc: Uc, cpu_model: int) -> None:
    """Nothing to enable: the 24Kf has its FPU on and rdhwr $29 reads UserLocal."""
