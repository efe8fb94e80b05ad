"""arm (EABI, hard float): unicorn's ``max`` CPU with VFP/NEON enabled; Thumb entry.

The entry point of gnueabihf programs is usually Thumb (odd e_entry). TLS comes from the
private syscall set_tls, which writes TPIDRURO. Thumb instructions are 2 or 4 bytes,
told apart by their first halfword.
"""

from __future__ import annotations

import signal
import struct

import unicorn
from unicorn import arm_const as A

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
    if not thumb:
        return len(code) // 4
    n = i = 0
    while i + 1 < len(code):
        (half,) = struct.unpack_from("<H", code, i)
        i += 4 if (half >> 11) in (0b11101, 0b11110, 0b11111) else 2
        n += 1
    return n


_SIGNALS = {1: signal.SIGILL, 3: signal.SIGSEGV, 4: signal.SIGSEGV, 7: signal.SIGTRAP}


#: CPU exceptions as qemu-user 7.2 reports them to a handler (si_code, si_addr)
_TRAP_SIGINFO = {
    INVALID_INSN: TrapSiginfo(2),  # udf: ILL_ILLOPN
    1: TrapSiginfo(2),
    7: TrapSiginfo(1),  # bkpt: TRAP_BRKPT
}


def is_thumb(uc: Uc) -> bool:
    """Whether the CPU executes Thumb code now (CPSR.T)."""
    return bool(uc.reg_read(A.UC_ARM_REG_CPSR) & (1 << 5))


def _undecodable_size(rest: bytes, thumb: bool) -> int:
    if not thumb:
        return min(4, len(rest))
    half = int.from_bytes(rest[:2], "little")
    return 4 if (half >> 11) in (0x1D, 0x1E, 0x1F) else 2


def _exception_signal(intno: int) -> int:
    return int(_SIGNALS.get(intno, signal.SIGILL))


ARCH = Arch(
    name="arm",
    qemu_target="arm",
    bits=32,
    little_endian=True,
    elf_machine="EM_ARM",
    uc_arch=unicorn.UC_ARCH_ARM,
    uc_mode=unicorn.UC_MODE_ARM,
    pc=A.UC_ARM_REG_PC,
    sp=A.UC_ARM_REG_SP,
    registers=registers_from(A, "UC_ARM_REG_"),
    syscall=SyscallAbi(
        number=A.UC_ARM_REG_R7,
        args=tuple(A.UC_ARM_REG_R0 + i for i in range(6)),
        result=A.UC_ARM_REG_R0,
        intno=2,
    ),
    cs_arch_name="CS_ARCH_ARM",
    cs_mode_for=lambda thumb: capstone().CS_MODE_THUMB if thumb else capstone().CS_MODE_ARM,
    count_insns_fn=_count,
    exception_signal=_exception_signal,
    trap_siginfo=_TRAP_SIGINFO,
    sign_extending_load=lambda m: m.startswith(("ldrsb", "ldrsh")),
    undecodable_size=_undecodable_size,
    syscall_insn_size=lambda thumb: 2 if thumb else 4,
    thumb_state=is_thumb,
    default_cpu=A.UC_CPU_ARM_MAX,
    cpu_models=cpu_models_from(A, "UC_CPU_ARM_"),
    hwcap=0x1FB0D7,
    hwcap2=0x1F,
    platform="v8l",
    stack_base=0x4000_0000,
    user_top=0xFFFF_0000,  # the kernel helper page sits above
    mmap_top=0x3FFF_F000,
    # qemu-user's models of these names (ThumbEE, no crypto or CRC32 in HWCAP2)
    model_hwcaps={
        A.UC_CPU_ARM_CORTEX_A7: (0x1FB8D7, 0),
        A.UC_CPU_ARM_CORTEX_A15: (0x1FB8D7, 0),
        A.UC_CPU_ARM_CORTEX_A8: (0x8B8D7, 0),
        A.UC_CPU_ARM_CORTEX_A9: (0x8B8D7, 0),
    },
)


def setup_cpu(uc: Uc, cpu_model: int) -> None:
    """Enable VFP/NEON: FPEXC.EN and full access to coprocessors 10 and 11 in CPACR."""
    uc.reg_write(A.UC_ARM_REG_C1_C0_2, uc.reg_read(A.UC_ARM_REG_C1_C0_2) | (0xF << 20))
    uc.reg_write(A.UC_ARM_REG_FPEXC, 0x40000000)
