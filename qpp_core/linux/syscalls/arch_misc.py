"""Architecture-private syscalls qemu-user 7.2 answers: the SVE vector length.

- aarch64 ``prctl(PR_SVE_GET_VL)`` / ``prctl(PR_SVE_SET_VL, vl)``: the SVE vector length
  in bytes, 64 (512-bit, ZCR_EL1.LEN = 3) as qemu-user's default; SET_VL takes a
  multiple of 16 up to 8192 without flags (anything else is EINVAL, as qemu), clamps it
  to 16..256 bytes (qemu's ARM_MAX_VQ of 16 quadwords), programs ZCR_EL1 and returns
  the new length. Other prctl options go to the general handler.

(arm's ``set_tls`` and ``get_tls`` are answered in :mod:`.proc`; the cache flushes, arm's
and mips' ``cacheflush`` and riscv64's ``riscv_flush_icache``, in :mod:`.mem`.)
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING

from .proc import sys_prctl
from .registry import Args, handles

if TYPE_CHECKING:
    from .kernel import LinuxKernel

PR_SVE_SET_VL = 50
PR_SVE_GET_VL = 51
#: qemu-user's largest SVE vector, in 16-byte quadwords (ARM_MAX_VQ)
SVE_MAX_VQ = 16
_ZCR_EL1 = (3, 0, 1, 2, 0)  # cpr_write(op0, op1, crn, crm, op2)


def _sve_get_vl(k: LinuxKernel, a: Args) -> int:
    zcr: int = k.m.uc.cpr_read(*_ZCR_EL1)
    return ((zcr & 0xF) + 1) * 16


def _sve_set_vl(k: LinuxKernel, a: Args) -> int:
    from unicorn.arm64_const import UC_ARM64_REG_PSTATE

    vl = k.signed(a[1])
    if not 0 <= vl <= 512 * 16 or vl % 16:
        return -errno.EINVAL
    vq = min(max(vl // 16, 1), SVE_MAX_VQ)
    uc = k.m.uc
    uc.cpr_write(*_ZCR_EL1, (uc.cpr_read(*_ZCR_EL1) & ~0xF) | (vq - 1))
    uc.reg_write(UC_ARM64_REG_PSTATE, uc.reg_read(UC_ARM64_REG_PSTATE))  # rebuild hflags
    return vq * 16


#: (architecture, prctl option) -> handler, tried before the general prctl handler
ARCH_PRCTL: dict[tuple[str, int], Callable[[LinuxKernel, Args], int]] = {
    ("aarch64", PR_SVE_GET_VL): _sve_get_vl,
    ("aarch64", PR_SVE_SET_VL): _sve_set_vl,
}


@handles("prctl")
def sys_arch_prctl_options(k: LinuxKernel, a: Args) -> int:
    handler = ARCH_PRCTL.get((k.arch_name, a[0] & 0xFFFF_FFFF))
    return handler(k, a) if handler is not None else sys_prctl(k, a)
