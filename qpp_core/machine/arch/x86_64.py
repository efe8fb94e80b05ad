"""x86_64: unicorn's 64-bit x86 with QEMU's CPU models; syscalls trap on the SYSCALL insn.

glibc picks its string routines and cache sizes from CPUID, so the CPU must tell the
guest exactly what it can run. Two models answer CPUID from a table (the instruction is
trapped; other models keep unicorn's own answers):

- ``max`` (the default): qemu-user 7.2's default model, ``max`` (observed with
  ``tests/linux/guests/cpuid.x86_64``), minus what unicorn 2.1.4 cannot execute. Its TCG
  predates AVX: AVX, AVX2, FMA, F16C, VAES, AVX-512 and the XSAVE/OSXSAVE bits (with the
  AVX state of leaf 0xd) are left out, as is everything unicorn's ``Icelake-Server``, the
  model that executes it, lacks (MONITOR, SSE4A, 3DNow!, PKU). What remains (SSE3, SSSE3,
  SSE4.1/4.2, POPCNT, AES, PCLMULQDQ, MOVBE, RDRAND, CX16, BMI1/2, ADX, ERMS, LZCNT,
  CLFLUSHOPT, CLWB, RDTSCP, FSGSBASE) is executed by the engine, as the guest test
  ``cpu_features`` checks. Vendor, family and brand are qemu's.
- ``qemu64``: qemu-user 7.2's ``qemu64`` exactly (the conformance corpus runs glibc with
  it and needs qemu's instruction counts). Unicorn's model of that name is older (family 6
  model 6, Intel-style leaves 2 and 4, no L3 in 0x80000006), which would send glibc's
  init_cpu_features/cacheinfo down another path.

Instruction lengths vary, so counting a block's instructions needs the decoder (capstone).
"""

from __future__ import annotations

import signal
from functools import lru_cache
from typing import Any

import unicorn
from unicorn import x86_const as X

from .base import (
    INVALID_INSN,
    QPP_MODEL_BASE,
    Arch,
    SyscallAbi,
    TrapSiginfo,
    Uc,
    capstone,
    cpu_models_from,
    registers_from,
)

#: qpp's ``max`` model: qemu-user 7.2's default less what unicorn cannot run (see above)
MAX = QPP_MODEL_BASE


@lru_cache(maxsize=1)
def _decoder() -> Any:
    cs = capstone()
    return cs.Cs(cs.CS_ARCH_X86, cs.CS_MODE_64)


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


#: CPU exceptions as qemu-user 7.2 reports them to a handler (si_code, si_addr)
_TRAP_SIGINFO = {
    0: TrapSiginfo(1),  # FPE_INTDIV
    INVALID_INSN: TrapSiginfo(2),  # ud2: ILL_ILLOPN
    6: TrapSiginfo(2),  # ud2: ILL_ILLOPN
    3: TrapSiginfo(0x80, addr_is_pc=False),  # int3: SI_KERNEL; unicorn's pc is past it
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
    cs_arch_name="CS_ARCH_X86",
    cs_mode_for=lambda thumb: capstone().CS_MODE_64,
    count_insns_fn=_count,
    exception_signal=_exception_signal,
    sign_extending_load=lambda m: m.startswith("movsx") or m in ("cbw", "cwde", "cdqe"),
    undecodable_size=lambda rest, thumb: len(rest),  # the rest: capstone knows all of x86-64
    syscall_insn_size=lambda thumb: 2,
    trap_siginfo=_TRAP_SIGINFO,
    default_cpu=MAX,
    cpu_models={**cpu_models_from(X, "UC_CPU_X86_"), "max": MAX},
    engine_models={MAX: X.UC_CPU_X86_ICELAKE_SERVER},
    hwcap=0x078BFBFD,  # CPUID.1:EDX (the same in max and qemu64), as qemu-user reports it
    platform="x86_64",
    stack_base=0x40_0000_0000,
    user_top=1 << 47,
    mmap_base=0x40_0000_0000,
    descriptor_table_pages=2,
    maps_hide_exec=True,
    vsyscall_page=True,
)


CpuidTable = dict[int, tuple[int, int, int, int]]

#: CPUID of qemu-user 7.2 ``-cpu qemu64``: leaf -> (eax, ebx, ecx, edx), as observed.
#: Every leaf not listed (in range or not, any subleaf) answers all zeros; leaf 0xb
#: depends on the subleaf (:func:`qemu64_cpuid`). Vendor "AuthenticAMD", family 15
#: model 107 stepping 1, brand "QEMU Virtual CPU version 2.5+".
QEMU64_CPUID: CpuidTable = {
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

#: CPUID of qpp's ``max``: qemu-user 7.2's default (``max``) with each feature word ANDed
#: with what unicorn's Icelake-Server executes, and XSAVE, OSXSAVE and leaf 0xd cleared.
#: qemu answers (leaf 1 ECX, leaf 7.0 EBX/ECX, 0x80000001 ECX/EDX) 0xFED8320B,
#: 0x01D843A9/0x8001020C, 0x75/0xEDD3FBFD; AVX, AVX2, FMA, F16C and VAES are among the
#: bits removed. Leaf 7 answers subleaf 0 only; brand "QEMU TCG CPU version 2.5+".
MAX_CPUID: CpuidTable = {
    0x0000_0000: (0x0000000D, 0x68747541, 0x444D4163, 0x69746E65),
    0x0000_0001: (0x00060FB1, 0x00000800, 0xC2D82203, 0x078BFBFD),
    0x0000_0005: (0x00000000, 0x00000000, 0x00000003, 0x00000000),
    0x0000_0006: (0x00000004, 0x00000000, 0x00000000, 0x00000000),
    0x0000_0007: (0x00000000, 0x01980389, 0x00000000, 0x00000000),
    0x4000_0000: (0x40000001, 0x54474354, 0x43544743, 0x47435447),
    0x8000_0000: (0x8000000A, 0x68747541, 0x444D4163, 0x69746E65),
    0x8000_0001: (0x00060FB1, 0x00000000, 0x00000021, 0x2C100800),
    0x8000_0002: (0x554D4551, 0x47435420, 0x55504320, 0x72657620),
    0x8000_0003: (0x6E6F6973, 0x352E3220, 0x0000002B, 0x00000000),
    0x8000_0005: (0x01FF01FF, 0x01FF01FF, 0x40020140, 0x40020140),
    0x8000_0006: (0x00000000, 0x42004200, 0x02008140, 0x00808140),
    0x8000_0008: (0x00003928, 0x00000000, 0x00000000, 0x00000000),
    0x8000_000A: (0x00000001, 0x00000010, 0x00000000, 0x10010001),
}

#: leaf 0xb (extended topology), subleaves 0 (SMT level) and 1 (core level), both models
_TOPOLOGY = {0: (0, 1, 0x100, 0), 1: (0, 1, 0x201, 0)}

#: leaves whose answer depends on the subleaf; others ignore ECX
_SUBLEAF_ZERO_ONLY = frozenset({0x7})


def table_cpuid(table: CpuidTable, leaf: int, subleaf: int) -> tuple[int, int, int, int]:
    """(eax, ebx, ecx, edx) that ``table``'s model answers for CPUID leaf/subleaf."""
    leaf &= 0xFFFF_FFFF
    subleaf &= 0xFFFF_FFFF
    if leaf == 0xB:
        return _TOPOLOGY.get(subleaf & 0xFF, (0, 0, subleaf & 0xFF, 0))
    if leaf in _SUBLEAF_ZERO_ONLY and subleaf != 0:
        return (0, 0, 0, 0)
    return table.get(leaf, (0, 0, 0, 0))


def qemu64_cpuid(leaf: int, subleaf: int) -> tuple[int, int, int, int]:
    """(eax, ebx, ecx, edx) that qemu-user's ``qemu64`` answers for CPUID leaf/subleaf."""
    return table_cpuid(QEMU64_CPUID, leaf, subleaf)


def max_cpuid(leaf: int, subleaf: int) -> tuple[int, int, int, int]:
    """(eax, ebx, ecx, edx) that qpp's ``max`` (the default) answers for leaf/subleaf."""
    return table_cpuid(MAX_CPUID, leaf, subleaf)


#: the models whose CPUID comes from a table
CPUID_TABLES: dict[int, CpuidTable] = {X.UC_CPU_X86_QEMU64: QEMU64_CPUID, MAX: MAX_CPUID}


# CPUID writes the 32-bit results zero-extended into the full 64-bit registers
_CPUID_OUT = (X.UC_X86_REG_RAX, X.UC_X86_REG_RBX, X.UC_X86_REG_RCX, X.UC_X86_REG_RDX)


def _on_cpuid(uc: Uc, table: CpuidTable) -> int:
    """CPUID under a tabled model: answer from the table and skip unicorn's own."""
    leaf, subleaf = uc.reg_read_batch((X.UC_X86_REG_EAX, X.UC_X86_REG_ECX))
    answer = table_cpuid(table, leaf, subleaf)
    uc.reg_write_batch(list(zip(_CPUID_OUT, answer, strict=True)))
    return 1


def setup_cpu(uc: Uc, cpu_model: int) -> None:
    """Enable SSE as Linux does: CR0.MP set, CR0.EM clear, CR4.OSFXSR and OSXMMEXCPT.

    Under ``max`` and ``qemu64`` CPUID is answered from their tables (other models keep
    unicorn's). The hook runs only when a CPUID executes (a helper call in any case).
    """
    cr0 = uc.reg_read(X.UC_X86_REG_CR0)
    uc.reg_write(X.UC_X86_REG_CR0, (cr0 | 0x2) & ~0x4)
    uc.reg_write(X.UC_X86_REG_CR4, uc.reg_read(X.UC_X86_REG_CR4) | 0x600)
    table = CPUID_TABLES.get(cpu_model)
    if table is not None:
        uc.hook_add(unicorn.UC_HOOK_INSN, _on_cpuid, table, 1, 0, X.UC_X86_INS_CPUID)
