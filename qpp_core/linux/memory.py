"""The guest's address space: mapping, mmap placement as qemu-user 7.2 does it, and brk.

unicorn already knows which pages are mapped (``mem_regions``), so no second copy of the
map is kept here; this module adds the policies: where an anonymous mmap goes (upwards
from the stack area on 64-bit guests, downwards from below the stack on 32-bit ones) and
how the program break moves (qemu's ``do_brk``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..machine.arch import Arch, Uc
from ..machine.arch.base import UcError

PAGE = 0x1000


@dataclass(frozen=True)
class FileRange:
    """Guest pages ``[start, end)`` holding a file's bytes from ``offset`` (/proc/self/maps)."""

    start: int
    end: int
    path: str
    offset: int
    dev: int
    inode: int


def page_down(x: int) -> int:
    return x & ~(PAGE - 1)


def page_up(x: int) -> int:
    return (x + PAGE - 1) & ~(PAGE - 1)


class GuestMemory:
    """Mapping policy over one unicorn engine's address space."""

    def __init__(self, uc: Uc, arch: Arch) -> None:
        self.uc = uc
        self.arch = arch
        self.limit = 1 << (47 if arch.bits == 64 else 32)
        self.brk_start = 0  #: the original break (page aligned end of the image)
        self.brk = 0  #: the current break as the guest sees it
        self.brk_page = 0  #: first page above the break's mapping
        #: 64-bit: the lowest address an mmap without a usable hint may get
        self.mmap_floor = arch.mmap_base or 0x40_0000_0000
        self._quirks_hooked: set[int] = set()  #: addresses given a per-instruction hook
        self.files: list[FileRange] = []  #: file-backed ranges, for /proc/self/maps
        self.stack: tuple[int, int] | None = None  #: the main stack's [start, end)

    def note_file(self, start: int, end: int, path: str, offset: int) -> None:
        """Pages ``[start, end)`` now hold ``path`` from ``offset`` (an ELF load or mmap)."""
        self.forget_files(start, end)
        try:
            st = os.stat(path)
        except OSError:
            return
        self.files.append(FileRange(start, end, path, offset, st.st_dev, st.st_ino))
        self.files.sort(key=lambda f: f.start)

    def forget_files(self, start: int, end: int) -> None:
        """``[start, end)`` no longer holds file pages (unmapped or mapped afresh)."""
        kept: list[FileRange] = []
        for f in self.files:
            if f.end <= start or f.start >= end:
                kept.append(f)
                continue
            if f.start < start:
                kept.append(FileRange(f.start, start, f.path, f.offset, f.dev, f.inode))
            if f.end > end:
                skip = end - f.start
                kept.append(FileRange(end, f.end, f.path, f.offset + skip, f.dev, f.inode))
        self.files = kept

    @property
    def quirks_hooked(self) -> frozenset[int]:
        """Addresses of the instructions hooked by :meth:`code_mapped`."""
        return frozenset(self._quirks_hooked)

    def code_mapped(self, addr: int, size: int) -> None:
        """Executable code appeared at ``[addr, addr+size)``: hook the arch's quirk sites.

        Some instructions must be answered as qemu-user does (aarch64's cache geometry);
        they are hooked where they occur rather than everywhere. Unmapped parts are skipped.
        """
        hook = self.arch.hook_code_quirks
        if hook is None:
            return
        end = addr + size
        for b, e, _ in self.regions():
            lo, hi = max(b, addr), min(e, end)
            if lo < hi:
                hook(self.uc, lo, bytes(self.uc.mem_read(lo, hi - lo)), self._quirks_hooked)

    # --- raw mapping ------------------------------------------------------------------

    def regions(self) -> list[tuple[int, int, int]]:
        """Mapped ``(start, end_exclusive, prot)`` runs, sorted."""
        return sorted((b, e + 1, p) for b, e, p in self.uc.mem_regions())

    def is_free(self, addr: int, size: int) -> bool:
        end = addr + size
        return all(e <= addr or b >= end for b, e, _ in self.regions())

    def map(self, addr: int, size: int, prot: int) -> None:
        """Map fresh zeroed pages, replacing whatever was mapped there (MAP_FIXED)."""
        addr, end = page_down(addr), page_up(addr + size)
        self.unmap(addr, end - addr)
        self.uc.mem_map(addr, end - addr, prot & 7)
        self.forget_files(addr, end)

    def unmap(self, addr: int, size: int) -> None:
        """Unmap the mapped parts of ``[addr, addr+size)``."""
        end = page_up(addr + size)
        for b, e, _ in self.regions():
            lo, hi = max(b, addr), min(e, end)
            if lo < hi:
                self.uc.mem_unmap(lo, hi - lo)
        self.forget_files(addr, end)

    def protect(self, addr: int, size: int, prot: int) -> bool:
        """Change protection; False if part of the range is not mapped (ENOMEM)."""
        end = page_up(addr + size)
        covered = 0
        for b, e, _ in self.regions():
            lo, hi = max(b, addr), min(e, end)
            if lo < hi:
                self.uc.mem_protect(lo, hi - lo, prot & 7)
                covered += hi - lo
        return covered == end - addr

    # --- placement --------------------------------------------------------------------

    def find_free(self, size: int) -> int | None:
        """Where qemu-user would put an anonymous mapping of ``size`` bytes."""
        size = page_up(size)
        regions = self.regions()
        if self.arch.mmap_top is not None:  # 32-bit: highest gap below mmap_top
            top = self.arch.mmap_top
            for b, e, _ in reversed(regions):
                if b >= top:
                    continue
                if e <= top - size:
                    return top - size
                top = min(top, b)
            return top - size if top - size >= 0x10000 else None
        start = self.mmap_floor
        for b, e, _ in regions:
            if e <= start:
                continue
            if b >= start + size:
                return start
            start = max(start, e)
        return start if start + size <= self.limit else None

    # --- the program break ------------------------------------------------------------

    def set_initial_brk(self, end_of_image: int) -> None:
        self.brk_start = self.brk = self.brk_page = page_up(end_of_image)

    def do_brk(self, new: int) -> int:
        """qemu-user 7.2's brk: grow by mapping pages at the break, never below the start."""
        if new == 0 or new < self.brk_start:
            return self.brk
        if new <= self.brk_page:
            if new > self.brk:
                self.uc.mem_write(self.brk, bytes(new - self.brk))
            self.brk = new
            return self.brk
        size = page_up(new - self.brk_page)
        if new > self.limit or not self.is_free(self.brk_page, size):
            return self.brk
        try:
            self.uc.mem_map(self.brk_page, size, 3)
        except UcError:  # the host cannot back it: Linux's answer is the old break
            return self.brk
        self.brk = new
        self.brk_page += size
        return self.brk
