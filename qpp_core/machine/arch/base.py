"""The description of one guest architecture, as the rest of qpp sees it.

An :class:`Arch` is plain data plus a few small functions: which unicorn engine and
capstone decoder to use, the register names (as QEMU and gdb spell them), how the Linux
syscall ABI passes numbers, arguments and results, how a CPU exception maps to a Linux
signal, and how to count the instructions in a translated block exactly as QEMU does.
The per-architecture modules beside this one each build one ``ARCH`` and the function
that prepares a fresh CPU (``setup_cpu``); nothing here runs guest code.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

import unicorn


def capstone() -> Any:
    """The capstone module, imported on first use (a run without instrumentation that
    decodes nothing never pays its import)."""
    import capstone as module

    return module


Uc = Any  # unicorn ships no type stubs; ``Uc`` documents intent


def registers_from(
    module: Any, prefix: str, aliases: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Build a ``name -> unicorn id`` table from a unicorn constants module.

    ``UC_X86_REG_RAX`` becomes ``"rax"``; ``aliases`` adds QEMU/gdb spellings that differ
    from unicorn's (``{"cpsr": "pstate"}`` maps the name ``cpsr`` to ``pstate``'s id).
    """
    table: dict[str, int] = {}
    for key, value in vars(module).items():
        if key.startswith(prefix) and isinstance(value, int):
            name = key[len(prefix) :].lower()
            if name in ("invalid", "ending") or name.startswith("ending"):
                continue
            table[name] = value
    for alias, target in (aliases or {}).items():
        if target in table:
            table[alias] = table[target]
    return table


class SyscallAbi(NamedTuple):
    """Where the Linux syscall ABI of an architecture keeps number, arguments and result."""

    number: int  #: register holding the syscall number
    args: tuple[int, ...]  #: registers holding arguments (in order)
    result: int  #: register receiving the result
    stack_args: int = 0  #: mips o32: arguments 5 and 6 live on the stack at sp+16, sp+20
    error_flag: int | None = None  #: mips: a3 = 1 on error, 0 on success (result positive errno)
    intno: int | None = None  #: unicorn interrupt number of the trap; None: x86 SYSCALL insn hook
    #: mips o32: a second result register (``pipe`` returns its two fds in v0 and v1)
    result2: int | None = None


class TrapSiginfo(NamedTuple):
    """How a CPU exception reaches a guest's handler, as qemu-user reports it."""

    code: int  #: si_code
    addr_is_pc: bool = True  #: si_addr is the instruction's address (else 0)
    signal: int | None = None  #: the signal, where not ``Arch.exception_signal``'s


def _never(mnemonic: str) -> bool:
    return False


def _word_or_rest(rest: bytes, thumb: bool) -> int:
    return min(4, len(rest))


def _four(thumb: bool) -> int:
    return 4


#: the default of :class:`Arch`'s mappings (read-only: one object shared by every Arch)
_EMPTY: Mapping[Any, Any] = MappingProxyType({})

#: :attr:`Arch.trap_siginfo`'s key for an instruction unicorn cannot decode (an error, not
#: an exception number)
INVALID_INSN = -1


class Arch(NamedTuple):
    """One guest architecture: identity, registers, syscall ABI, decoding and counting."""

    name: str  #: qpp's name: "x86_64", "aarch64", "arm", "riscv64", "mipsel"
    qemu_target: str  #: QEMU's target name (what plugins see as the target)
    bits: int
    little_endian: bool
    elf_machine: str  #: pyelftools' e_machine spelling, e.g. "EM_X86_64"
    uc_arch: int
    uc_mode: int
    pc: int  #: unicorn id of the program counter
    sp: int  #: unicorn id of the stack pointer
    registers: Mapping[str, int]  #: QEMU/gdb register name -> unicorn id
    syscall: SyscallAbi
    cs_arch_name: str  #: capstone's CS_ARCH_* constant, by name (capstone loads lazily)
    cs_mode_for: Callable[[bool], int]  #: capstone mode; the argument says "Thumb"
    count_insns_fn: Callable[[bytes, bool], int]
    exception_signal: Callable[[int], int]  #: unicorn interrupt number -> Linux signal
    default_cpu: int  #: CPU model used without ``-cpu`` (a key of ``cpu_models``' values)
    cpu_models: Mapping[str, int] = _EMPTY  #: ``-cpu`` name -> model id
    #: qpp's own models (ids at or above :data:`QPP_MODEL_BASE`, e.g. x86_64 ``max``) -> the
    #: unicorn model that executes them; other ids are unicorn's and run as themselves
    engine_models: Mapping[int, int] = _EMPTY
    #: (AT_HWCAP, AT_HWCAP2) of models other than the default, as qemu-user reports them
    #: for its model of the same name (``hwcap``/``hwcap2`` below are the default's)
    model_hwcaps: Mapping[int, tuple[int, int | None]] = _EMPTY
    hwcap: int = 0
    hwcap2: int | None = None
    platform: str | None = None  #: AT_PLATFORM string
    base_platform: str | None = None  #: AT_BASE_PLATFORM string
    stack_base: int = 0  #: where qemu-user 7.2 maps the stack (guard page first)
    #: the first address past the guest's user space (qemu-user 7.2's limit): nothing loads there
    user_top: int = 1 << 32
    mmap_top: int | None = None  #: 32-bit: anonymous mmap grows down from here
    mmap_base: int | None = None  #: 64-bit: anonymous mmap grows up from here
    #: hooks the few instructions in newly mapped executable code that must be answered
    #: as qemu-user does (aarch64: MRS DCZID_EL0/CTR_EL0, DC ZVA); called with
    #: (uc, address, code bytes, addresses already hooked) by the loader and mmap/mprotect
    hook_code_quirks: Callable[[Uc, int, bytes, set[int]], None] | None = None
    #: where a CPU exception happened, when unicorn's pc does not say (mips): (uc,
    #: exception number, start and size of the block that ran last) -> the address of
    #: the instruction that raised it, or None
    trapping_insn: Callable[[Uc, int, int, int], int | None] | None = None
    #: the quirk hooks make the default model answer as qemu-user's; other ``-cpu`` models
    #: (those of ``model_hwcaps``) run without them, answering as themselves
    quirks_default_model_only: bool = False
    #: the ELF header's e_flags this engine cannot run -> why (mips: ISAs other than MIPS32)
    elf_flags_error: Callable[[int], str | None] | None = None
    #: what qemu-user 7.2 maps around the stack
    exec_stack: bool = False  #: the stack is executable whatever PT_GNU_STACK says (mips)
    sigtramp_above_stack: bool = False  #: 64-bit: the signal trampoline page above the stack
    descriptor_table_pages: int = 0  #: x86_64: the guest's IDT and GDT, above the stack
    #: how qemu-user 7.2 renders /proc/self/maps
    maps_hide_exec: bool = False  #: x86_64: pages are shown without their x bit
    vsyscall_page: bool = False  #: x86_64: the [vsyscall] line at 0xffffffffff600000
    #: CPU exception number (or :data:`INVALID_INSN`) -> the siginfo a handler gets;
    #: others get si_code 0 and no address
    trap_siginfo: Mapping[int, TrapSiginfo] = _EMPTY
    #: where the pc is, in an exception's hook, from the instruction that raised it
    trap_pc_offset: int = 0
    #: instruction facts capstone does not give (the instrumentation layer's decoder):
    #: whether a load mnemonic sign-extends what it loads (``MemInfo.sign_extended``) ...
    sign_extending_load: Callable[[str], bool] = _never
    #: ... the size of an instruction capstone cannot decode, from its bytes (and Thumb) ...
    undecodable_size: Callable[[bytes, bool], int] = _word_or_rest
    #: ... and the size of the system-call instruction (the argument says "Thumb")
    syscall_insn_size: Callable[[bool], int] = _four
    #: arm: whether the CPU executes Thumb code now (bit 0 of a code address says so
    #: too); ``None``: one instruction set
    thumb_state: Callable[[Uc], bool] | None = None
    #: mips: whether a block ending in this mnemonic leaves its delay slot to the next
    #: block (a branch at the end of a page); ``None``: no delay slots
    delay_slot_branch: Callable[[str], bool] | None = None

    @property
    def cs_arch(self) -> int:
        """The capstone architecture (imports capstone: only decoding needs it)."""
        return int(getattr(capstone(), self.cs_arch_name))

    def cs_mode(self, thumb: bool = False) -> int:
        """The capstone mode for code in this architecture (Thumb changes it on arm)."""
        return self.cs_mode_for(thumb)

    def count_insns(self, code: bytes, thumb: bool = False) -> int:
        """How many guest instructions ``code`` (one block's bytes) holds, as QEMU counts."""
        return self.count_insns_fn(code, thumb)

    @property
    def word(self) -> int:
        """The guest word size in bytes."""
        return self.bits // 8

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1


def cpu_models_from(module: Any, prefix: str) -> dict[str, int]:
    """``-cpu`` names accepted for an architecture: unicorn's models, lower case."""
    models: dict[str, int] = {}
    for key, value in vars(module).items():
        if key.startswith(prefix) and isinstance(value, int) and not key.endswith("ENDING"):
            models[key[len(prefix) :].lower()] = value
    return models


#: first id of qpp's own CPU models, above every unicorn model id
QPP_MODEL_BASE = 0x1000


def normalise_cpu_name(name: str) -> str:
    """``Cortex-A57`` and ``cortex_a57`` name the same model."""
    return name.lower().replace("-", "_")


#: unicorn's error type (its binding is only partly typed, so it is re-exported as a type)
UcError: type[Exception] = getattr(unicorn, "UcError")  # noqa: B009


def add_noop_code_hook(uc: Uc, begin: int, end: int) -> None:
    """Instrument ``[begin, end]`` with a code hook that does nothing, in C.

    Instrumented instructions generate more host code, so unicorn ends a translation block
    after fewer of them (about 200-290 on mipsel instead of up to 512): the workaround for
    engine limits that grow with the block length (see :mod:`.mipsel`). The callback is
    libc's ``labs``, a pure function that ignores the extra arguments under the C calling
    conventions of the hosts unicorn runs on, so no Python runs per instruction.
    """
    handle = ctypes.c_size_t(0)
    status = _uclib().uc_hook_add(
        uc._uch,
        ctypes.byref(handle),
        unicorn.UC_HOOK_CODE,
        _noop_callback(),
        ctypes.c_void_p(0),
        ctypes.c_uint64(begin),
        ctypes.c_uint64(end),
    )
    if status != unicorn.UC_ERR_OK:
        raise UcError(status)


@lru_cache(maxsize=1)
def _noop_callback() -> ctypes.c_void_p:
    return ctypes.cast(ctypes.CDLL(None).labs, ctypes.c_void_p)


def _uclib() -> Any:
    from unicorn.unicorn_py3 import unicorn as binding

    return binding.uclib


def new_uc(uc_arch: int, uc_mode: int) -> Uc:
    """A new unicorn engine (through the untyped constructor)."""
    return getattr(unicorn, "Uc")(uc_arch, uc_mode)  # noqa: B009
