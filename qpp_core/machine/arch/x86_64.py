"""x86_64: unicorn's 64-bit x86 with QEMU's CPU models; syscalls trap on the SYSCALL insn.

glibc picks its string routines and cache sizes from CPUID, so ``-cpu qemu64`` (the
default) must answer CPUID as qemu-user 7.2's ``qemu64`` model does. Unicorn's model of the
same name is older (family 6 model 6, Intel-style leaves 2 and 4, no L3 in 0x80000006),
which sends glibc's init_cpu_features/cacheinfo down another path, so CPUID is trapped and
answered from :data:`QEMU64_CPUID`, a table of the values observed under
``qemu-x86_64 -cpu qemu64`` (see ``qpp_core/guests/src/cpuid.c``). Instruction lengths
vary, so counting a block's instructions needs the decoder (capstone).
"""

from __future__ import annotations

import signal
from functools import lru_cache
from typing import Any

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
    user_top=1 << 47,
    mmap_base=0x40_0000_0000,
)


#: CPUID of qemu-user 7.2 ``-cpu qemu64``: leaf -> (eax, ebx, ecx, edx), as observed.
#: Every leaf not listed (in range or not, any subleaf) answers all zeros; leaf 0xb
#: depends on the subleaf (:func:`qemu64_cpuid`). Vendor "AuthenticAMD", family 15
#: model 107 stepping 1, brand "QEMU Virtual CPU version 2.5+".
QEMU64_CPUID: dict[int, tuple[int, int, int, int]] = {
    0x0000_0000: (0x0000000D, 0x68747541, 0x444D4163, 0x69746E65),
    0x0000_0001: (0x00060FB1, 0x00000800, 0x80002001, 0x078BFBFD),
    0x0000_0005: (0x00000000, 0x00000000, 0x00000003, 0x00000000),
    0x4000_0000: (0x40000001, 0x54474354, 0x43544743, 0x47435447),  # "TCGTCGTCGTCG"
    0x8000_0000: (0x8000000A, 0x68747541, 0x444D4163, 0x69746E65),
    0x8000_0001: (0x00060FB1, 0x00000000, 0x00000005, 0x2193FBFD),
    0x8000_0002: (0x554D4551, 0x72695620, 0x6C617574, 0x55504320),
    0x8000_0003: (0x72657620, 0x6E6F6973, 0x352E3220, 0x0000002B),
    0x8000_0005: (0x01FF01FF, 0x01FF01FF, 0x40020140, 0x40020140),
    0x8000_0006: (0x00000000, 0x42004200, 0x02008140, 0x00808140),
    0x8000_0008: (0x00003028, 0x00000000, 0x00000000, 0x00000000),
    0x8000_000A: (0x00000001, 0x00000010, 0x00000000, 0x00000000),
}

#: leaf 0xb (extended topology), subleaves 0 (SMT level) and 1 (core level)
_QEMU64_TOPOLOGY = {0: (0, 1, 0x100, 0), 1: (0, 1, 0x201, 0)}


def qemu64_cpuid(leaf: int, subleaf: int) -> tuple[int, int, int, int]:
    """(eax, ebx, ecx, edx) that qemu-user's ``qemu64`` answers for CPUID leaf/subleaf."""
    leaf &= 0xFFFF_FFFF
    if leaf == 0xB:
        return _QEMU64_TOPOLOGY.get(subleaf & 0xFF, (0, 0, subleaf & 0xFF, 0))
    return QEMU64_CPUID.get(leaf, (0, 0, 0, 0))


# CPUID writes the 32-bit results zero-extended into the full 64-bit registers
_CPUID_OUT = (X.UC_X86_REG_RAX, X.UC_X86_REG_RBX, X.UC_X86_REG_RCX, X.UC_X86_REG_RDX)


def _on_cpuid(uc: Uc, user_data: Any) -> int:
    """CPUID under ``-cpu qemu64``: answer from the table and skip unicorn's own."""
    leaf, subleaf = uc.reg_read_batch((X.UC_X86_REG_EAX, X.UC_X86_REG_ECX))
    uc.reg_write_batch(list(zip(_CPUID_OUT, qemu64_cpuid(leaf, subleaf), strict=True)))
    return 1


def setup_cpu(uc: Uc, cpu_model: int) -> None:
    """Enable SSE as Linux does: CR0.MP set, CR0.EM clear, CR4.OSFXSR and OSXMMEXCPT.

    Under ``qemu64`` CPUID is answered as qemu-user's model (other models keep unicorn's).
    The hook runs only when a CPUID executes (a helper call in any case).
    """
    cr0 = uc.reg_read(X.UC_X86_REG_CR0)
    uc.reg_write(X.UC_X86_REG_CR0, (cr0 | 0x2) & ~0x4)
    uc.reg_write(X.UC_X86_REG_CR4, uc.reg_read(X.UC_X86_REG_CR4) | 0x600)
    if cpu_model == X.UC_CPU_X86_QEMU64:
        uc.hook_add(unicorn.UC_HOOK_INSN, _on_cpuid, None, 1, 0, X.UC_X86_INS_CPUID)
