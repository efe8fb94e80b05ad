"""x86_64: unicorn's 64-bit x86 with QEMU's CPU models; syscalls trap on the SYSCALL insn.

glibc picks its string routines from CPUID, so ``-cpu qemu64`` must give the CPUID of
QEMU's ``qemu64`` model (unicorn's model of the same name does). Instruction lengths vary,
so counting a block's instructions needs the decoder (capstone).
"""

from __future__ import annotations

import signal
from functools import lru_cache

import capstone
import unicorn
from unicorn import x86_const as X

from .base import Arch, SyscallAbi, Uc, cpu_models_from, registers_from


@lru_cache(maxsize=1)
def _decoder() -> capstone.Cs:
    return capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)


def _count(code: bytes, thumb: bool) -> int:
    """Instructions in a block's bytes, decoded as QEMU would run them (lengths vary)."""
    return sum(1 for _ in _decoder().disasm_lite(code, 0))


_SIGNALS = {
    0: signal.SIGFPE,  # divide error
    1: signal.SIGTRAP,
    3: signal.SIGTRAP,  # int3
    6: signal.SIGILL,  # invalid opcode
    7: signal.SIGFPE,  # device not available: no x87 here, FP trap
    16: signal.SIGFPE,  # x87 error
    17: signal.SIGBUS,  # alignment check
    19: signal.SIGFPE,  # SIMD FP exception
}


def _exception_signal(intno: int) -> int:
    """An x86 exception vector as the Linux signal it delivers (default: SIGSEGV, #GP)."""
    return int(_SIGNALS.get(intno, signal.SIGSEGV))


ARCH = Arch(
    name="x86_64",
    qemu_target="x86_64",
    bits=64,
    little_endian=True,
    elf_machine="EM_X86_64",
    uc_arch=unicorn.UC_ARCH_X86,
    uc_mode=unicorn.UC_MODE_64,
    pc=X.UC_X86_REG_RIP,
    sp=X.UC_X86_REG_RSP,
    registers=registers_from(X, "UC_X86_REG_"),
    syscall=SyscallAbi(
        number=X.UC_X86_REG_RAX,
        args=(
            X.UC_X86_REG_RDI,
            X.UC_X86_REG_RSI,
            X.UC_X86_REG_RDX,
            X.UC_X86_REG_R10,
            X.UC_X86_REG_R8,
            X.UC_X86_REG_R9,
        ),
        result=X.UC_X86_REG_RAX,
        intno=None,
    ),
    cs_arch=capstone.CS_ARCH_X86,
    cs_mode_for=lambda thumb: capstone.CS_MODE_64,
    count_insns_fn=_count,
    exception_signal=_exception_signal,
    default_cpu=X.UC_CPU_X86_QEMU64,
    cpu_models=cpu_models_from(X, "UC_CPU_X86_"),
    hwcap=0x078BFBFD,  # CPUID.1:EDX of qemu64, as qemu-user reports it
    platform="x86_64",
    stack_base=0x40_0000_0000,
    mmap_base=0x40_0000_0000,
)


def setup_cpu(uc: Uc, cpu_model: int) -> None:
    """Enable SSE as Linux does: CR0.MP set, CR0.EM clear, CR4.OSFXSR and OSXMMEXCPT."""
    cr0 = uc.reg_read(X.UC_X86_REG_CR0)
    uc.reg_write(X.UC_X86_REG_CR0, (cr0 | 0x2) & ~0x4)
    uc.reg_write(X.UC_X86_REG_CR4, uc.reg_read(X.UC_X86_REG_CR4) | 0x600)
