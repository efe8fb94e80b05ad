"""aarch64: MRS DCZID_EL0/CTR_EL0 and DC ZVA answered as qemu-user, hooked only where they are.

A hook over all addresses would call Python on every MRS, including glibc's TPIDR_EL0
reads on each thread-local access; the machine hooks each quirk instruction's address.
"""

from __future__ import annotations

import struct
from typing import Any

from linux.guestrun import guest
from unicorn import arm64_const

from qpp_core.linux import GuestOptions, load_guest
from qpp_core.machine.arch import aarch64

MRS_X1_DCZID = 0xD53B00E1
MRS_X2_CTR = 0xD53B0022
MRS_X3_TPIDR = 0xD53BD043
DC_ZVA_X4 = 0xD50B7424
EXIT_0 = (0xD2800BC8, 0xD2800000, 0xD4000001)  # movz x8, #94; movz x0, #0; svc #0


def _code(*words: int) -> bytes:
    return struct.pack(f"<{len(words)}I", *words)


def test_quirk_sites_are_found_aligned_only() -> None:
    code = _code(MRS_X3_TPIDR, MRS_X1_DCZID, 0, MRS_X2_CTR, DC_ZVA_X4, 0xD53B00FF)
    sites = aarch64.quirk_sites(0x1000, code)
    mrs, sys_ = arm64_const.UC_ARM64_INS_MRS, arm64_const.UC_ARM64_INS_SYS
    assert sites == [(0x1004, mrs), (0x100C, mrs), (0x1010, sys_), (0x1014, mrs)]
    assert aarch64.quirk_sites(0x1001, code[:8]) == []  # not on an instruction boundary


def test_quirks_answered_and_tls_reads_not_hooked() -> None:
    m = load_guest(GuestOptions(binary=guest("hello", "aarch64")))
    memory: Any = m.kernel.memory  # type: ignore[attr-defined]
    assert memory.quirks_hooked, "glibc's own DCZID_EL0 read is hooked at load"
    code = _code(MRS_X1_DCZID, MRS_X2_CTR, MRS_X3_TPIDR, DC_ZVA_X4, *EXIT_0)
    m.write_memory(m.entry, code)
    memory.code_mapped(m.entry, len(code))
    hooked = memory.quirks_hooked
    assert {m.entry, m.entry + 4, m.entry + 12} <= hooked and m.entry + 8 not in hooked

    block = (m.read_register("sp") - 0x4000) & ~0x1FF
    m.write_memory(block - 16, b"\xff" * (512 + 32))
    m.write_register("tpidr_el0", 0x1234)
    m.write_register("x4", block + 0x48)
    assert m.run().status == 0
    assert m.read_register("x1") == 7  # 512-byte DC ZVA, as qemu-user reports
    assert m.read_register("x2") == 0x80038003
    assert m.read_register("x3") == 0x1234  # unhooked MRS runs natively
    assert m.read_memory(block, 512) == bytes(512)  # the whole 512-byte block
    assert m.read_memory(block - 16, 16) == b"\xff" * 16
    assert m.read_memory(block + 512, 16) == b"\xff" * 16
