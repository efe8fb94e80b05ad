"""aarch64: unicorn's ``max`` CPU with SVE enabled and qemu-user's cache geometry.

HWCAP/HWCAP2 are qemu-user 7.2's less what unicorn cannot execute (no SVE2, pointer
authentication, MTE, SME, I8MM, BF16): what is advertised runs.

qemu-user advertises SVE in HWCAP, so glibc uses SVE routines: the CPU must allow them
(CPACR/CPTR) with 512-bit vectors as qemu-user has. qemu-user reports DCZID_EL0 = 7 (DC ZVA zeroes
512 bytes) where unicorn would report 64 bytes, and glibc's memset trusts the register:
MRS of DCZID_EL0/CTR_EL0 is answered here and DC ZVA zeroes 512 bytes, or memset would
leave memory unzeroed.

Those instructions are hooked one address at a time, where they occur in executable code
(:func:`hook_code_quirks`, run by the loader and by mmap/mprotect with PROT_EXEC). A hook
over all addresses would call into Python on every MRS, and glibc reads TPIDR_EL0 with MRS
on each thread-local access (errno, malloc): a TLS-heavy loop ran 25x slower. MRS and SYS
at other addresses cost only unicorn's bounds check.
"""

from __future__ import annotations

import re
import signal
from typing import Any

import unicorn
from unicorn import arm64_const as A

from .base import Arch, SyscallAbi, TrapSiginfo, Uc, capstone, cpu_models_from, registers_from

DCZID_EL0 = 7  # 4 << 7 = 512-byte blocks, as qemu-user's default CPU
CTR_EL0 = 0x80038003
ZVA_BYTES = 4 << DCZID_EL0


def _count(code: bytes, thumb: bool) -> int:
    return len(code) // 4


_SIGNALS = {1: signal.SIGILL, 3: signal.SIGSEGV, 4: signal.SIGSEGV, 7: signal.SIGTRAP}


#: CPU exceptions as qemu-user 7.2 reports them to a handler (si_code, si_addr)
_TRAP_SIGINFO = {
    1: TrapSiginfo(2),  # EXCP_UDEF: ILL_ILLOPN (the kernel says ILL_ILLOPC)
    7: TrapSiginfo(1),  # EXCP_BKPT (brk): TRAP_BRKPT
}


def _exception_signal(intno: int) -> int:
    """A QEMU ARM exception number (EXCP_*) as the Linux signal it delivers."""
    return int(_SIGNALS.get(intno, signal.SIGILL))


def _on_sysreg(uc: Uc, reg: int, cp: Any, user_data: Any) -> int:
    """MRS DCZID_EL0 / CTR_EL0 answered as qemu-user; DC ZVA zeroes qemu-user's block size."""
    key = (cp.op0, cp.op1, cp.crn, cp.crm, cp.op2)
    if key == (3, 3, 0, 0, 7):  # DCZID_EL0
        uc.reg_write(reg, DCZID_EL0)
        return 1
    if key == (3, 3, 0, 0, 1):  # CTR_EL0
        uc.reg_write(reg, CTR_EL0)
        return 1
    if key == (1, 3, 7, 4, 1):  # DC ZVA, Xt
        addr = uc.reg_read(reg) & ~(ZVA_BYTES - 1)
        uc.mem_write(addr, bytes(ZVA_BYTES))
        return 1
    return 0


# Little-endian words (Rt in the low 5 bits), searched at every offset with a lookahead:
#   MRS Xt, DCZID_EL0  0xD53B00E0 | Rt       MRS Xt, CTR_EL0  0xD53B0020 | Rt
#   DC ZVA, Xt (SYS #3, C7, C4, #1, Xt)      0xD50B7420 | Rt
_QUIRK_SITES = re.compile(rb"(?=([\xe0-\xff\x20-\x3f]\x00\x3b\xd5)|([\x20-\x3f]\x74\x0b\xd5))")


def quirk_sites(addr: int, code: bytes) -> list[tuple[int, int]]:
    """(address, unicorn insn id) of each MRS DCZID_EL0/CTR_EL0 and DC ZVA in ``code``."""
    sites = []
    for m in _QUIRK_SITES.finditer(code):
        at = addr + m.start()
        if at % 4 == 0:
            sites.append((at, A.UC_ARM64_INS_MRS if m.group(1) else A.UC_ARM64_INS_SYS))
    return sites


def hook_code_quirks(uc: Uc, addr: int, code: bytes, hooked: set[int]) -> None:
    """Hook each quirk instruction in newly mapped code at its own address (once)."""
    for at, insn in quirk_sites(addr, code):
        if at not in hooked:
            hooked.add(at)
            uc.hook_add(unicorn.UC_HOOK_INSN, _on_sysreg, None, at, at, insn)


_REGS = registers_from(A, "UC_ARM64_REG_", {"cpsr": "pstate", "lr": "x30", "fp": "x29"})

ARCH = Arch(
    name="aarch64",
    qemu_target="aarch64",
    bits=64,
    little_endian=True,
    elf_machine="EM_AARCH64",
    uc_arch=unicorn.UC_ARCH_ARM64,
    uc_mode=unicorn.UC_MODE_ARM,
    pc=A.UC_ARM64_REG_PC,
    sp=A.UC_ARM64_REG_SP,
    registers=_REGS,
    syscall=SyscallAbi(
        number=A.UC_ARM64_REG_X8,
        args=tuple(A.UC_ARM64_REG_X0 + i for i in range(6)),
        result=A.UC_ARM64_REG_X0,
        intno=2,
    ),
    cs_arch_name="CS_ARCH_ARM64",
    cs_mode_for=lambda thumb: capstone().CS_MODE_ARM,
    count_insns_fn=_count,
    exception_signal=_exception_signal,
    sign_extending_load=lambda m: m.startswith(("ldrs", "ldurs", "ldtrs", "ldapurs")),
    trap_siginfo=_TRAP_SIGINFO,
    default_cpu=A.UC_CPU_ARM64_MAX,
    cpu_models={
        **cpu_models_from(A, "UC_CPU_ARM64_"),
        **{f"cortex_{n}": getattr(A, f"UC_CPU_ARM64_{n.upper()}") for n in ("a53", "a57", "a72")},
    },
    # qemu-user 7.2's default advertises 0xECFFFFFB / 0x7F877FFF; unicorn 2.1.4 (QEMU 5.0)
    # cannot run pointer authentication (PACGA traps), SVE2 and its extensions, I8MM, BF16,
    # MTE, SME, ECV, AFP or RPRES, so those bits are left out (guest test cpu_features).
    # Without HWCAP2_MTE (bit 18) glibc's start-up runs 1-26 instructions more than under
    # qemu-user; setting it would restore qemu's counts but promise MTE, which traps.
    hwcap=0x2CFFFFFB,
    hwcap2=0x00030181,  # DCPODP, FLAGM2, FRINT, RNG, BTI
    platform="aarch64",
    stack_base=0x55_0000_0000,
    user_top=1 << 48,
    mmap_base=0x55_0000_0000,
    hook_code_quirks=hook_code_quirks,
    # cortex-a53/a57/a72 report their own DCZID_EL0 (64-byte DC ZVA) and CTR_EL0, in
    # unicorn as in qemu-user
    quirks_default_model_only=True,
    # qemu-user's cortex-a53/a57/a72: FP, ASIMD, AES, PMULL, SHA1, SHA2, CRC32, CPUID
    model_hwcaps={
        m: (0x8FB, 0) for m in (A.UC_CPU_ARM64_A53, A.UC_CPU_ARM64_A57, A.UC_CPU_ARM64_A72)
    },
    sigtramp_above_stack=True,
)


def setup_cpu(uc: Uc, cpu_model: int) -> None:
    """Enable FP/SIMD and, on ``max``, SVE (512-bit); the quirk hooks come with the code."""
    cpacr = uc.cpr_read(3, 0, 1, 0, 2)
    if cpu_model != A.UC_CPU_ARM64_MAX:  # no SVE to enable
        uc.cpr_write(3, 0, 1, 0, 2, cpacr | (3 << 20))  # FPEN
        return
    uc.cpr_write(3, 0, 1, 0, 2, cpacr | (3 << 20) | (3 << 16))  # FPEN, ZEN
    cptr3 = uc.cpr_read(3, 6, 1, 1, 2)
    uc.cpr_write(3, 6, 1, 1, 2, cptr3 | (1 << 8))  # CPTR_EL3.EZ
    uc.cpr_write(3, 6, 1, 2, 0, 15)  # ZCR_EL3
    uc.cpr_write(3, 4, 1, 2, 0, 15)  # ZCR_EL2
    uc.cpr_write(3, 0, 1, 2, 0, 3)  # ZCR_EL1.LEN = 3: 512-bit vectors
    uc.reg_write(A.UC_ARM64_REG_PSTATE, uc.reg_read(A.UC_ARM64_REG_PSTATE))
