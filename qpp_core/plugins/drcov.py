"""``drcov``: write a coverage file in DynamoRIO's drcov format (QEMU's contrib/plugins/drcov.c).

Creates ``filename`` at install (default ``file.drcov.trace``, as QEMU) and writes it at
exit, for coverage viewers such as Lighthouse, Cartographer or bncov: a text header, a
module table with the guest executable as module 0 (and each program it exec'd after it,
as modules 1, 2, ...), then ``BB Table: N bbs`` and N binary
8-byte entries (little-endian ``u32 start``, ``u16 size``, ``u16 module id``)::

    DRCOV VERSION: 2
    DRCOV FLAVOR: drcov-64
    Module Table: version 2, count 1
    Columns: id, base, end, entry, path
    0, 0x400000, 0x4a3f2d, 0x401640, /abs/path/prog
    BB Table: 412 bbs
    <412 * 8 bytes>

Only blocks that executed are listed, each (start, size) once, in first-execution order.
Each block records its first execution with a conditional callback on a per-block flag
that an inline store sets, so after that first run the block costs no Python call (the
condition is tested on qpp's native fast path).
``start`` is the offset from the module's base, as DynamoRIO writes it (QEMU's plugin
writes absolute addresses); blocks outside the executable (none for static guests, but
e.g. qemu's signal trampoline page) are skipped. The flavor says the guest's word size.
"""

from __future__ import annotations

import contextlib
import struct
from dataclasses import dataclass
from typing import Any

from qpp_core import (
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_COND_EQ,
    QEMU_PLUGIN_INLINE_STORE_U64,
    U64,
    Arg,
    HostError,
    PluginFailure,
    TranslationBlock,
    close_private,
    hookimpl,
    open_private,
    qemu_plugin_end_code,
    qemu_plugin_entry_code,
    qemu_plugin_guest_bits,
    qemu_plugin_path_to_binary,
    qemu_plugin_register_vcpu_tb_exec_cond_cb,
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu,
    qemu_plugin_scoreboard_new,
    qemu_plugin_scoreboard_u64,
    qemu_plugin_start_code,
)

qemu_plugin_version = 2
qemu_plugin_args = {
    "filename": Arg(str, "file.drcov.trace", "the coverage file to write at exit"),
}

_state: dict[str, Any] = {}
#: (module, start, size) of each executed block, in first-execution order (dict keeps order)
_executed: dict[tuple[int, int, int], None] = {}
#: the programs the guest process ran: the first, then one per execve (module ids)
_images: list[GuestImage] = []


@hookimpl
def qemu_plugin_install(args: Any) -> None:
    """Open (create) the coverage file now, as QEMU's drcov does: a bad path is reported
    before the guest starts (status 84), and the file is qpp's, out of the guest's reach."""
    _executed.clear()
    _flags.clear()
    _images.clear()
    _state.clear()
    filename = str(args.get("filename") or "file.drcov.trace")
    _state["filename"] = filename
    try:
        _state["out"] = open_private(filename, "wb")
    except OSError as exc:
        raise HostError(
            f"cannot write {filename}: {exc.strerror}; give a writable filename="
        ) from None


#: per block key: the flag its first execution sets (an inline store of 1)
_flags: dict[tuple[int, int, int], U64] = {}


def _exec(vcpu_index: int, key: tuple[int, int, int]) -> None:
    if key not in _executed:
        _executed[key] = None


@hookimpl
def qpp_guest_exec() -> None:
    """An execve: the new program is the next module (its blocks are announced afresh)."""
    _images.append(guest_image())


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    if not _images:
        _images.append(guest_image())
    key = (len(_images) - 1, tb.vaddr, sum(insn.size for insn in tb.insns))
    if key in _executed:
        return  # already covered: no need to watch it again
    flag = _flags.get(key)
    if flag is None:
        flag = _flags[key] = qemu_plugin_scoreboard_u64(qemu_plugin_scoreboard_new(8))
    # the callback runs while the flag is still 0 (it comes before the store), once
    qemu_plugin_register_vcpu_tb_exec_cond_cb(
        tb, _exec, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_COND_EQ, flag, 0, key
    )
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_STORE_U64, flag, 1)


@dataclass(frozen=True)
class GuestImage:
    """The guest executable: absolute path, executable range (loaded addresses), entry."""

    path: str
    start_code: int
    end_code: int
    entry: int
    bits: int


def guest_image() -> GuestImage:
    """The running guest's executable, from the instrumentation API."""
    return GuestImage(
        qemu_plugin_path_to_binary(),
        qemu_plugin_start_code(),
        qemu_plugin_end_code(),
        qemu_plugin_entry_code(),
        qemu_plugin_guest_bits(),
    )


def render(images: list[GuestImage], blocks: list[tuple[int, int, int]]) -> bytes:
    """The drcov file for ``blocks`` (module, absolute start, size): one module per image."""
    entries = [
        (start - images[mod].start_code, min(size, 0xFFFF), mod)
        for mod, start, size in blocks
        if images[mod].start_code <= start < images[mod].end_code
    ]
    head = (
        "DRCOV VERSION: 2\n"
        f"DRCOV FLAVOR: drcov-{max(image.bits for image in images)}\n"
        f"Module Table: version 2, count {len(images)}\n"
        "Columns: id, base, end, entry, path\n"
    )
    for mod, image in enumerate(images):
        head += (
            f"{mod}, {image.start_code:#x}, {image.end_code:#x}, {image.entry:#x}, {image.path}\n"
        )
    head += f"BB Table: {len(entries)} bbs\n"
    body = b"".join(struct.pack("<IHH", off, size, mod) for off, size, mod in entries)
    return head.encode() + body


@hookimpl
def qemu_plugin_atexit() -> None:
    data = render(_images or [guest_image()], list(_executed))
    out = _state.pop("out")
    try:
        out.write(data)
        close_private(out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            close_private(out)
        raise PluginFailure(f"cannot write {_state['filename']}: {exc.strerror}") from None


@hookimpl
def qpp_batch_result() -> dict[str, Any]:
    """``qpp batch``: the run's modules (path, start, end, entry, bits) and its blocks
    (module, absolute start, size), in first-execution order."""
    images = _images or [guest_image()]
    return {
        "modules": [[i.path, i.start_code, i.end_code, i.entry, i.bits] for i in images],
        "blocks": [list(key) for key in _executed],
    }


@hookimpl
def qpp_batch_merge(results: list[tuple[str, Any]], directory: str) -> dict[str, Any]:
    """``qpp batch``: one coverage file, ``drcov.trace`` in ``directory``, with every
    module and block of every job (in job order), and per job the blocks it covered
    first (no earlier job in the list covered them): what each input added."""
    images: dict[GuestImage, int] = {}
    blocks: dict[tuple[int, int, int], None] = {}
    first: dict[str, list[list[int]]] = {}
    for job_id, data in results:
        ids = [images.setdefault(GuestImage(*module), len(images)) for module in data["modules"]]
        new = first.setdefault(job_id, [])
        for mod, start, size in data["blocks"]:
            key = (ids[mod], start, size)
            if key not in blocks:
                blocks[key] = None
                new.append(list(key))
    path = f"{directory}/drcov.trace"
    if images:
        with open(path, "wb") as out:
            out.write(render(list(images), list(blocks)))
    return {
        "file": "drcov.trace" if images else None,
        "modules": [image.path for image in images],
        "blocks": len(blocks),
        "new_blocks": {job_id: len(new) for job_id, new in first.items()},
        "first": first,
    }
