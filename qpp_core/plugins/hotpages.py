"""``hotpages``: the most accessed memory pages (QEMU's contrib/plugins/hotpages.c).

At exit prints the 50 busiest pages with QEMU's layout::

    Addr, RCPUs, Reads, WCPUs, Writes
    0x0000000000402000, 0x0001, 1000, 0x0001, 1000

``RCPUs``/``WCPUs`` are bitmasks of the vcpus that read/wrote the page (always vcpu 0
in user mode). Arguments as in QEMU: ``sortby=reads|writes|address`` (default: reads +
writes, busiest first), ``pagesize=N`` (default 4096; a power of two). ``io`` is
accepted and ignored (it only matters in system mode). One Python call per access.
"""

from __future__ import annotations

from typing import Any

from qpp_core import (
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_MEM_RW,
    Arg,
    MemInfo,
    TranslationBlock,
    hookimpl,
    qemu_plugin_outs,
    qemu_plugin_register_vcpu_mem_cb,
)

qemu_plugin_version = 2
LIMIT = 50


def _sortby(text: str) -> str:
    if text not in ("reads", "writes", "address"):
        raise ValueError("expected reads, writes or address")
    return text


def _pagesize(text: str) -> int:
    size = int(text, 0)
    if size <= 0 or size & (size - 1):
        raise ValueError("expected a power of two")
    return size


_sortby.__name__ = "reads|writes|address"
_pagesize.__name__ = "power of two"

qemu_plugin_args = {
    "sortby": Arg(_sortby, None, "sort by reads, writes or address (default: all accesses)"),
    "pagesize": Arg(_pagesize, 4096, "page size in bytes"),
    "io": Arg(bool, False, "system mode only in QEMU; accepted and ignored"),
}

#: page address -> [rcpus, reads, wcpus, writes]
_pages: dict[int, list[int]] = {}
_state: dict[str, Any] = {}


@hookimpl
def qemu_plugin_install(args: Any) -> None:
    _pages.clear()
    _state.clear()
    _state["sortby"] = args.get("sortby")
    _state["mask"] = ~(int(args.get("pagesize") or 4096) - 1)


def _access(vcpu_index: int, info: MemInfo, vaddr: int, userdata: Any) -> None:
    page = vaddr & _state["mask"]
    rec = _pages.get(page)
    if rec is None:
        rec = _pages[page] = [0, 0, 0, 0]
    if info.is_store:
        rec[2] |= 1 << vcpu_index
        rec[3] += 1
    else:
        rec[0] |= 1 << vcpu_index
        rec[1] += 1


@hookimpl
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    for insn in tb.insns:
        qemu_plugin_register_vcpu_mem_cb(insn, _access, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW)


def pages() -> list[tuple[int, int, int, int, int]]:
    """``(page, rcpus, reads, wcpus, writes)`` for every page, in the report's order."""
    rows = [(page, *rec) for page, rec in _pages.items()]
    sortby = _state.get("sortby")
    if sortby == "reads":
        rows.sort(key=lambda r: (-r[2], r[0]))
    elif sortby == "writes":
        rows.sort(key=lambda r: (-r[4], r[0]))
    elif sortby == "address":
        rows.sort(key=lambda r: r[0])
    else:
        rows.sort(key=lambda r: (-(r[2] + r[4]), r[0]))
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


@hookimpl
def qemu_plugin_atexit() -> None:
    out = ["Addr, RCPUs, Reads, WCPUs, Writes\n"]
    for page, rcpus, reads, wcpus, writes in pages()[:LIMIT]:
        out.append(f"0x{page:016x}, 0x{rcpus:04x}, {reads}, 0x{wcpus:04x}, {writes}\n")
    qemu_plugin_outs("".join(out))


@hookimpl
def qpp_batch_result() -> dict[str, Any]:
    """``qpp batch``: ``{"pages": [[page, rcpus, reads, wcpus, writes], ...]}``."""
    return {"pages": [list(row) for row in pages()]}


@hookimpl
def qpp_batch_merge(results: list[tuple[str, Any]]) -> dict[str, Any]:
    """``qpp batch``: reads and writes summed per page (vcpu masks or'ed), busiest first."""
    table: dict[int, list[int]] = {}
    for _, data in results:
        for page, rcpus, reads, wcpus, writes in data["pages"]:
            entry = table.setdefault(page, [0, 0, 0, 0])
            entry[0] |= rcpus
            entry[1] += reads
            entry[2] |= wcpus
            entry[3] += writes
    rows = [[page, *counts] for page, counts in table.items()]
    rows.sort(key=lambda r: (-(r[2] + r[4]), r[0]))
    return {"pages": rows}
