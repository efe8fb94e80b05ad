"""``/proc/self/maps`` as the guest sees it under qemu-user: the guest's own address space.

Opening the host's file would show qpp's Python process. Like qemu-user 7.2, each line
gives the guest range, its protection, and for file pages the file's offset, device,
inode and path (padded to column 74, also when there is no path); addresses are not
zero-padded, 32-bit ones neither (Linux pads those to 8 digits; qemu-user does not); the stack is
``[stack]``; on x86_64 the legacy ``[vsyscall]`` page is listed and, as qemu-user shows
them, guest pages never show ``x``. Adjacent ranges of the same kind are merged.
"""

from __future__ import annotations

import os

from .memory import GuestMemory

_VSYSCALL = (0xFFFF_FFFF_FF60_0000, 0xFFFF_FFFF_FF60_1000, 4, None, "[vsyscall]")

# (start, end, prot, (offset, dev, inode, shared) or None for anonymous memory, path)
Piece = tuple[int, int, int, tuple[int, int, int, bool] | None, str]


def _pieces(mem: GuestMemory) -> list[Piece]:
    out: list[Piece] = []
    shown = ~4 if mem.arch.maps_hide_exec else 7
    for begin, end, prot in mem.regions():
        for start, stop, promised in mem.beyond_eof:  # inaccessible here, but shown as mapped
            if start <= begin and end <= stop:
                prot = promised
        prot &= shown
        at = begin
        for f in mem.files:
            lo, hi = max(f.start, begin), min(f.end, end)
            if lo >= hi:
                continue
            if at < lo:
                out.append((at, lo, prot, None, ""))
            out.append((lo, hi, prot, (f.offset + lo - f.start, f.dev, f.inode, f.shared), f.path))
            at = hi
        if at < end:
            out.append((at, end, prot, None, ""))
    merged: list[Piece] = []
    for p in out:
        if merged:
            q = merged[-1]
            same_anon = q[3] is None and p[3] is None
            same_file = (
                q[3] is not None
                and p[3] is not None
                and q[4] == p[4]
                and q[3][3] == p[3][3]
                and q[3][0] + q[1] - q[0] == p[3][0]
            )
            if q[1] == p[0] and q[2] == p[2] and (same_anon or same_file):
                merged[-1] = (q[0], p[1], q[2], q[3], q[4])
                continue
        merged.append(p)
    return merged


def render_maps(mem: GuestMemory) -> bytes:
    """The text of the guest's /proc/self/maps."""
    lines = []
    pieces = _pieces(mem)
    if mem.arch.vsyscall_page:
        pieces.append(_VSYSCALL)
    for start, end, prot, backing, path in pieces:
        offset, dev, inode, shared = backing or (0, 0, 0, False)
        if backing is None and mem.stack and start < mem.stack[1] and end > mem.stack[0]:
            path = "[stack]"
        perms = "".join(c if prot & bit else "-" for c, bit in (("r", 1), ("w", 2), ("x", 4)))
        head = (
            f"{start:x}-{end:x} {perms}{'s' if shared else 'p'} {offset:08x} "
            f"{os.major(dev):02x}:{os.minor(dev):02x} {inode}"
        )
        lines.append(f"{head}{' ' * max(73 - len(head), 1)}{path}")
    return "".join(line + "\n" for line in lines).encode()
