"""``howvec``: executed instructions by class (QEMU's contrib/plugins/howvec.c).

At exit prints one line per instruction class, then the most executed mnemonics::

    Instruction Classes:
    Class: Branches                	(4 hits)
    ...
    Individual Instructions:
    Instr: mov                     	(2016 hits)	(class=ALU/Other)

QEMU decodes opcode bit patterns per architecture (only some targets have a table);
qpp classifies capstone's mnemonics the same way on all five architectures: System
(syscall, svc, ecall), Branches (jumps, calls, returns, conditional branches), Loads,
Stores, FP/SIMD, ALU/Other (x86 instructions with a memory operand count as Loads when
they read one and Stores when they write it: the destination comes first in Intel
syntax). ``verbose=on`` also prints classes with no hits; ``limit=N`` (default 50)
individual mnemonics. Counting uses inline adds (no Python call per instruction).
"""

from __future__ import annotations

import re
from typing import Any

from qpp_core import (
    QEMU_PLUGIN_INLINE_ADD_U64,
    U64,
    Arg,
    Instruction,
    PluginInfo,
    TranslationBlock,
    hookimpl,
    qemu_plugin_outs,
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu,
    qemu_plugin_scoreboard_new,
    qemu_plugin_scoreboard_u64,
    qemu_plugin_u64_sum,
)

qemu_plugin_version = 2
qemu_plugin_args = {
    "verbose": Arg(bool, False, "also print classes that never ran"),
    "limit": Arg(int, 50, "how many individual mnemonics to print"),
}

CLASSES = ("System", "Branches", "Loads", "Stores", "FP/SIMD", "ALU/Other")

_SYSTEM = {"syscall", "svc", "ecall", "int", "sysenter", "swi"}
_X86_BRANCH = re.compile(r"^(j\w*|call|ret|loop\w*|iret\w*)$")
_RISC_BRANCH = re.compile(
    r"^(b|bl|blx|bx|br|blr|braa\w*|ret\w*|cbn?z|tbn?z|b\.\w+|b(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi"
    r"|ls|ge|lt|gt|le|al)(\.w|\.n)?|bl(eq|ne|ge|lt|gt|le)|j|jal|jalr|jr|jalx|bal|bgez\w*|bltz\w*"
    r"|blez\w*|bgtz\w*|beqz|bnez|blt\w*|bge\w*|beq\w*|bne\w*|bgt\w*|ble\w*|tb[bh])$"
)
_LOAD = re.compile(
    r"^(ld\w*|lb\w*|lh\w*|lw\w*|ll\w*|lr\.\w+|pop\w*|fl[wd]|flh"
    r"|vld\w*|vpop|ldm\w*)$"
)
_STORE = re.compile(r"^(st\w*|sb|sh|sw\w*|sd\w*|sc(\.\w+)?|push\w*|fs[wdh]|vst\w*|vpush)$")
_FP = re.compile(
    r"^(f\w+|v\w+|[a-z]*ps|[a-z]*pd|[a-z]*ss|[a-z]*sd|movap\w|movup\w|pxor|por|pand"
    r"\w*|movq|movd|movdq\w*|pcmp\w+|pmov\w+|pshuf\w*|punpck\w+|psub\w+|padd\w+)$"
)

_state: dict[str, Any] = {}


def classify(arch: str, insn_mnemonic: str, op_str: str) -> str:
    """The class of one instruction (see the module docstring)."""
    m = insn_mnemonic.lower()
    if m in _SYSTEM:
        return "System"
    if arch == "x86_64":
        if _X86_BRANCH.match(m):
            return "Branches"
        if m in ("push", "pushfq"):
            return "Stores"
        if m in ("pop", "popfq"):
            return "Loads"
        if "[" in op_str and not m.startswith(("lea", "nop")):
            return "Stores" if op_str.lstrip().split(",")[0].find("[") >= 0 else "Loads"
        if _FP.match(m):
            return "FP/SIMD"
        return "ALU/Other"
    if _RISC_BRANCH.match(m) or (
        arch == "arm" and "pc" in op_str.split(",")[0] and m.startswith(("pop", "ldm", "mov"))
    ):
        return "Branches"
    if _LOAD.match(m):
        return "Loads"
    if _STORE.match(m) and not (arch == "aarch64" and m.startswith("sdiv")):
        return "Stores"
    if _FP.match(m):
        return "FP/SIMD"
    return "ALU/Other"


def _entry() -> U64:
    return qemu_plugin_scoreboard_u64(qemu_plugin_scoreboard_new(8))


@hookimpl
def qemu_plugin_install(info: PluginInfo, args: Any) -> None:
    _state.clear()
    _state.update(
        arch=info.target_name,
        verbose=bool(args.get("verbose", False)),
        limit=int(args.get("limit", 50)),
        classes={name: _entry() for name in CLASSES},
        mnemonics={},  # mnemonic -> (entry, class)
    )


def _register(insn: Instruction) -> None:
    mnemonic = insn.mnemonic or "(bad)"
    rec = _state["mnemonics"].get(mnemonic)
    if rec is None:
        cls = classify(_state["arch"], mnemonic, insn.op_str)
        rec = _state["mnemonics"][mnemonic] = (_entry(), cls)
    entry, cls = rec
    for target in (entry, _state["classes"][cls]):
        qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
            insn, QEMU_PLUGIN_INLINE_ADD_U64, target, 1
        )


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    for insn in tb.insns:
        _register(insn)


def class_counts() -> dict[str, int]:
    """Executed instructions per class."""
    return {name: int(qemu_plugin_u64_sum(e)) for name, e in _state["classes"].items()}


def mnemonic_counts() -> list[tuple[str, int, str]]:
    """``(mnemonic, hits, class)``, most executed first."""
    rows = [(m, int(qemu_plugin_u64_sum(e)), c) for m, (e, c) in _state["mnemonics"].items()]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return [r for r in rows if r[1]]


@hookimpl
def qemu_plugin_atexit() -> None:
    out = ["Instruction Classes:\n"]
    for name, hits in class_counts().items():
        if hits or _state["verbose"]:
            out.append(f"Class: {name:<24}\t({hits} hits)\n")
    rows = mnemonic_counts()
    if rows:
        out.append("Individual Instructions:\n")
        for mnemonic, hits, cls in rows[: _state["limit"]]:
            out.append(f"Instr: {mnemonic:<24}\t({hits} hits)\t(class={cls})\n")
    qemu_plugin_outs("".join(out))


@hookimpl
def qpp_batch_result() -> dict[str, Any]:
    """``qpp batch``: hits per class and per mnemonic (``[hits, class]``)."""
    return {
        "classes": class_counts(),
        "mnemonics": {m: [hits, cls] for m, hits, cls in mnemonic_counts()},
    }


@hookimpl
def qpp_batch_merge(results: list[tuple[str, Any]]) -> dict[str, Any]:
    """``qpp batch``: both tables summed over every job, mnemonics most executed first."""
    classes: dict[str, int] = {}
    mnemonics: dict[str, list[Any]] = {}
    for _, data in results:
        for name, hits in data["classes"].items():
            classes[name] = classes.get(name, 0) + hits
        for mnemonic, (hits, cls) in data["mnemonics"].items():
            mnemonics.setdefault(mnemonic, [0, cls])[0] += hits
    ordered = sorted(mnemonics.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return {"classes": classes, "mnemonics": dict(ordered)}
