"""Each architecture's Linux signal frame, as data: where the kernel puts what.

A handler's frame (``struct rt_sigframe``, or arm's and mips' older ``struct sigframe`` for
handlers without ``SA_SIGINFO``) holds the ``siginfo``, a ``ucontext`` whose
``uc_mcontext`` is every register the signal interrupted, the blocked mask to restore and
the FP state. The offsets below are those of the kernel's uapi headers (and of QEMU's
``linux-user/<target>/signal.c``, which copies them); :mod:`.frames` writes and reads the
frames from these tables alone. Offsets are from the frame's start.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """One register saved in a frame."""

    offset: int
    reg: str  #: the register's name in ``Arch.registers``
    size: int = 8  #: bytes in the frame: 2, 4, 8 or 16
    #: bits ``sigreturn`` takes back (flags registers: the rest stays as it is); 0: none
    restore: int = -1
    signed: bool = False  #: a 32-bit register in a 64-bit slot, sign-extended (mips)
    #: "int" (the register's value), "x87" (unicorn's (mantissa, exponent) as 10 bytes) or
    #: "ftw" (the x87 tag word abridged to one bit per register, as fxsave stores it)
    kind: str = "int"


@dataclass(frozen=True)
class FrameLayout:
    """One kind of frame: its size and where each part sits."""

    size: int
    info: int | None  #: the siginfo (rt frames), passed as the handler's second argument
    context: int  #: passed as the third argument (the ucontext; mips' plain frame: sigcontext)
    sigmask: int  #: the blocked mask to restore
    stack: int | None  #: uc_stack
    slots: tuple[Slot, ...]
    #: (offset, size, value) written as they are: uc_flags, FP record headers
    constants: tuple[tuple[int, int, int], ...] = ()
    #: (offset, target): fields holding the address of another part of the frame
    pointers: tuple[tuple[int, int], ...] = ()
    fault_address: int | None = None  #: where the fault's address is repeated
    oldmask: int | None = None  #: the first word of the mask, repeated in the sigcontext
    #: the syscall number a trampoline for this frame uses
    sigreturn_nr: int = 0


@dataclass(frozen=True)
class SignalAbi:
    """How one architecture calls a handler and comes back from it."""

    rt: FrameLayout
    plain: FrameLayout | None  #: for handlers without SA_SIGINFO (arm, mips); None: rt
    sa_siginfo: int  #: the SA_SIGINFO flag's value
    #: (handler, flags, restorer or None, mask) from the guest's raw ``struct sigaction``
    parse_action: Callable[[bytes], tuple[int, int, int | None, int]]
    red_zone: int  #: bytes below the stack pointer the interrupted code may still use
    align: int  #: the frame's alignment
    #: x86_64: the frame starts with the return address (the frame is then 8 past a
    #: 16-byte boundary, as after a call); elsewhere 0 and the return address is a register
    return_slot: bool = False
    return_reg: str | None = None  #: the register receiving the return address
    pc_reg: str = "pc"
    sp_reg: str = "sp"
    extra_entry_regs: tuple[tuple[str, str], ...] = ()  #: (reg, "handler" | "zero")
    #: aarch64: x29 points at a {fp, lr} frame record at this offset of the frame
    frame_record: int | None = None
    thumb_cpsr: str | None = None  #: arm: resume in Thumb if this register's T bit was set
    code_before_errno: bool = False  #: mips: siginfo is {signo, code, errno}
    si_timer: int = -2  #: SI_TIMER (mips swaps it with SI_ASYNCIO: -3)
    #: x86_64: after its hook unicorn moves the pc past the trapping SYSCALL instruction
    pc_advance_in_trap: int = 0
    #: machine code of a ``sigreturn``-style trampoline for syscall number n (8 bytes or
    #: fewer: ``mov n, reg; trap``), for handlers without a restorer of their own
    trampoline: Callable[[int], bytes] = lambda nr: b""

    def trampoline_for(self, frame: FrameLayout) -> bytes:
        return self.trampoline(frame.sigreturn_nr)


def _u(raw: bytes, off: int, size: int) -> int:
    return int.from_bytes(raw[off : off + size], "little")


def _action_64(raw: bytes) -> tuple[int, int, int | None, int]:
    """handler, flags, restorer, mask (x86_64, aarch64)."""
    return _u(raw, 0, 8), _u(raw, 8, 8), _u(raw, 16, 8), _u(raw, 24, 8)


def _action_arm(raw: bytes) -> tuple[int, int, int | None, int]:
    return _u(raw, 0, 4), _u(raw, 4, 4), _u(raw, 8, 4), _u(raw, 12, 8)


def _action_riscv(raw: bytes) -> tuple[int, int, int | None, int]:
    """handler, flags, mask: riscv has no sa_restorer."""
    return _u(raw, 0, 8), _u(raw, 8, 8), None, _u(raw, 16, 8)


def _action_mips(raw: bytes) -> tuple[int, int, int | None, int]:
    """flags (an int) first, then handler and a 128-bit mask; no sa_restorer."""
    return _u(raw, 4, 4), _u(raw, 0, 4), None, _u(raw, 8, 16)


def _words(*words: int) -> bytes:
    return struct.pack(f"<{len(words)}I", *words)


# --- x86_64: arch/x86/include/asm/sigframe.h, uapi/asm/sigcontext.h -------------------------
# rt_sigframe { pretcode; ucontext uc (304); siginfo info } + the fxsave area (fpstate)
_X_UC = 8
_X_MC = _X_UC + 40
_X_FP = 440  # 16-byte aligned in memory: the frame starts 8 past a 16-byte boundary
_X_GREGS = [f"r{i}" for i in range(8, 16)]
_X_GREGS += ["rdi", "rsi", "rbp", "rbx", "rdx", "rax", "rcx", "rsp", "rip"]
#: the flags sigreturn takes back: AC OF DF TF SF ZF AF PF CF RF (the kernel's FIX_EFLAGS)
_X_FIX_EFLAGS = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000
X86_64 = SignalAbi(
    rt=FrameLayout(
        size=_X_FP + 512,
        info=_X_UC + 304,
        context=_X_UC,
        sigmask=_X_UC + 296,
        stack=_X_UC + 16,
        slots=(
            *(Slot(_X_MC + 8 * i, r) for i, r in enumerate(_X_GREGS)),
            Slot(_X_MC + 8 * 17, "eflags", restore=_X_FIX_EFLAGS),
            Slot(_X_FP + 0, "fpcw", 2),
            Slot(_X_FP + 2, "fpsw", 2),
            Slot(_X_FP + 4, "fptag", 1, kind="ftw"),
            Slot(_X_FP + 24, "mxcsr", 4),
            *(Slot(_X_FP + 32 + 16 * i, f"fp{i}", 10, kind="x87") for i in range(8)),
            *(Slot(_X_FP + 160 + 16 * i, f"xmm{i}", 16) for i in range(16)),
        ),
        # cs, gs, fs, ss of a 64-bit user process; mxcsr_mask
        constants=((_X_MC + 8 * 18, 8, 0x002B_0000_0000_0033), (_X_FP + 28, 4, 0xFFFF)),
        pointers=((_X_MC + 8 * 23, _X_FP),),
        fault_address=_X_MC + 8 * 22,  # cr2
        oldmask=_X_MC + 8 * 21,
        sigreturn_nr=15,
    ),
    plain=None,
    sa_siginfo=4,
    parse_action=_action_64,
    red_zone=128,
    align=16,
    return_slot=True,
    pc_reg="rip",
    sp_reg="rsp",
    extra_entry_regs=(("rax", "zero"),),  # no vector registers used by a variadic call
    pc_advance_in_trap=2,
    trampoline=lambda nr: b"\xb8" + struct.pack("<I", nr) + b"\x0f\x05",  # mov $nr,%eax; syscall
)

# --- aarch64: arch/arm64/kernel/signal.c, uapi/asm/sigcontext.h ------------------------------
# rt_sigframe { siginfo (128); ucontext } then a {fp, lr} frame record
_A_UC = 128
_A_SC = _A_UC + 176  # uc_mcontext, 16-byte aligned after uc_sigmask's 128 bytes
_A_FPSIMD = _A_SC + 288  # sigcontext.__reserved: the fpsimd_context record first
_A_SIZE = _A_UC + 176 + 288 + 4096
AARCH64 = SignalAbi(
    rt=FrameLayout(
        size=_A_SIZE + 16,
        info=0,
        context=_A_UC,
        sigmask=_A_UC + 40,
        stack=_A_UC + 16,
        slots=(
            *(Slot(_A_SC + 8 + 8 * i, f"x{i}") for i in range(31)),
            Slot(_A_SC + 256, "sp"),
            Slot(_A_SC + 264, "pc"),
            Slot(_A_SC + 272, "nzcv", restore=0xF000_0000),  # pstate: EL0t, the flags
            Slot(_A_FPSIMD + 8, "fpsr", 4),
            Slot(_A_FPSIMD + 12, "fpcr", 4),
            *(Slot(_A_FPSIMD + 16 + 16 * i, f"q{i}", 16) for i in range(32)),
        ),
        constants=((_A_FPSIMD, 4, 0x46508001), (_A_FPSIMD + 4, 4, 528)),  # FPSIMD_MAGIC
        fault_address=_A_SC,
        sigreturn_nr=139,
    ),
    plain=None,
    sa_siginfo=4,
    parse_action=_action_64,
    red_zone=0,
    align=16,
    return_reg="x30",
    frame_record=_A_SIZE,
    trampoline=lambda nr: _words(0xD2800008 | nr << 5, 0xD4000001),  # mov x8,#nr; svc #0
)


# --- arm (EABI): arch/arm/kernel/signal.h, uapi/asm/ucontext.h, asm/ucontext.h -----------------
def _arm_frame(uc: int, rt: bool) -> FrameLayout:
    """rt_sigframe {siginfo; sigframe} or sigframe {ucontext (744); retcode[2]}."""
    sc = uc + 20
    vfp = uc + 232  # uc_regspace: the VFP record
    regs = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc"]
    return FrameLayout(
        size=uc + 744 + 8,
        info=0 if rt else None,
        context=uc,
        sigmask=uc + 104,
        stack=uc + 8,
        slots=(
            *(Slot(sc + 12 + 4 * i, r, 4) for i, r in enumerate(regs)),
            # NZCVQ, GE (the T bit comes back with the pc)
            Slot(sc + 76, "cpsr", 4, restore=0xF80F_0000),
            *(Slot(vfp + 8 + 8 * i, f"d{i}") for i in range(32)),
            Slot(vfp + 264, "fpscr", 4),
        ),
        constants=(
            (uc, 4, 0 if rt else 0x5AC3C35A),  # uc_flags
            (vfp, 4, 0x56465001),  # VFP_MAGIC
            (vfp + 4, 4, 288),
            (vfp + 272, 4, 0x40000000),  # fpexc: enabled
        ),
        fault_address=sc + 80,
        oldmask=sc + 8,
        sigreturn_nr=173 if rt else 119,
    )


ARM = SignalAbi(
    rt=_arm_frame(128, rt=True),
    plain=_arm_frame(0, rt=False),
    sa_siginfo=4,
    parse_action=_action_arm,
    red_zone=0,
    align=8,
    return_reg="lr",
    thumb_cpsr="cpsr",
    trampoline=lambda nr: _words(0xE3A07000 | nr, 0xEF000000),  # mov r7,#nr; svc #0
)

# --- riscv64: arch/riscv/kernel/signal.c, uapi/asm/ucontext.h, sigcontext.h -------------------
_R_UC = 128
_R_MC = _R_UC + 176  # uc_mcontext, 16-byte aligned after uc_sigmask's 128 bytes
RISCV64 = SignalAbi(
    rt=FrameLayout(
        size=_R_UC + 176 + 256 + 528,
        info=0,
        context=_R_UC,
        sigmask=_R_UC + 40,
        stack=_R_UC + 16,
        slots=(
            *(Slot(_R_MC + 8 * i, f"x{i}") for i in range(1, 32)),
            *(Slot(_R_MC + 256 + 8 * i, f"f{i}") for i in range(32)),
            Slot(_R_MC + 256 + 256, "fcsr", 4),
            Slot(_R_MC, "pc"),  # user_regs_struct starts with the pc
        ),
        sigreturn_nr=139,
    ),
    plain=None,
    sa_siginfo=4,
    parse_action=_action_riscv,
    red_zone=0,
    align=16,
    return_reg="ra",
    trampoline=lambda nr: _words(0x00000893 | nr << 20, 0x00000073),  # li a7,nr; ecall
)


# --- mipsel (o32): arch/mips/kernel/signal.c, uapi/asm/sigcontext.h, ucontext.h ---------------
def _mips_frame(sc: int, mask: int, uc: int | None) -> FrameLayout:
    """sigframe {ass[4]; pad[2]; sigcontext; sigset} or rt_sigframe {ass[4]; pad[2];
    siginfo; ucontext {flags, link, stack, sigcontext (8-aligned), sigset}}."""
    return FrameLayout(
        size=mask + 16,
        info=24 if uc is not None else None,
        context=uc if uc is not None else sc,
        sigmask=mask,
        stack=uc + 8 if uc is not None else None,
        slots=(
            *(Slot(sc + 16 + 8 * i, str(i), signed=True) for i in range(1, 32)),
            Slot(sc + 552, "hi", signed=True),  # sc_mdhi, sc_mdlo
            Slot(sc + 560, "lo", signed=True),
            *(Slot(sc + 272 + 8 * i, f"f{i}") for i in range(32)),  # sc_fpregs
            Slot(sc + 532, "fcsr", 4),  # sc_fpc_csr
            Slot(sc + 8, "pc", signed=True),
        ),
        constants=((sc + 540, 4, 1),),  # sc_used_math
        sigreturn_nr=4193 if uc is not None else 4119,
    )


MIPSEL = SignalAbi(
    rt=_mips_frame(24 + 128 + 24, 24 + 128 + 24 + 592, 24 + 128),
    plain=_mips_frame(24, 24 + 592, None),
    sa_siginfo=8,
    parse_action=_action_mips,
    red_zone=32,
    align=8,
    return_reg="ra",
    pc_reg="pc",
    sp_reg="29",
    extra_entry_regs=(("t9", "handler"),),  # PIC code finds its GOT through t9
    code_before_errno=True,
    si_timer=-3,
    trampoline=lambda nr: _words(0x24020000 | nr, 0x0000000C),  # li v0,nr; syscall
)

SIGNAL_ABIS: dict[str, SignalAbi] = {
    "x86_64": X86_64,
    "aarch64": AARCH64,
    "arm": ARM,
    "riscv64": RISCV64,
    "mipsel": MIPSEL,
}
