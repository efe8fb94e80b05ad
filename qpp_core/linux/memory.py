"""The guest's address space: mapping, mmap placement as qemu-user 7.2 does it, and brk.

unicorn already knows which pages are mapped (``mem_regions``), so no second copy of the
map is kept here; this module adds the policies: where an anonymous mmap goes (upwards
from the stack area on 64-bit guests, downwards from below the stack on 32-bit ones) and
how the program break moves (qemu's ``do_brk``).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import signal
from collections.abc import Callable
from typing import NamedTuple

from ..machine.arch import Arch, Uc
from ..machine.arch.base import UcError

PAGE = 0x1000
QUIRK_SCAN = 16 << 20  #: code is scanned for quirk instructions this many bytes at a time
HOST_MAP_NORESERVE = 0x4000  #: Linux's value (Python 3.11's mmap module lacks it)


class FileRange(NamedTuple):
    """Guest pages ``[start, end)`` holding a file's bytes from ``offset`` (/proc/self/maps)."""

    start: int
    end: int
    path: str
    offset: int
    dev: int
    inode: int
    shared: bool = False  #: MAP_SHARED ("s" in /proc/self/maps)


#: pages the kernel puts into every address space, per architecture: (address, prot,
#: {offset: bytes}). arm's "kuser helpers" (Documentation/arm/kernel_user_helpers.rst),
#: in ARM code: cmpxchg64 at 0xf60, the memory barrier at 0xfa0, cmpxchg at 0xfc0 (zero
#: and C set when stored), get_tls at 0xfe0, and their count (5) at 0xffc. Each helper is
#: one block (conditional execution, no branch), so a time slice cannot split it.
KERNEL_PAGES: dict[str, tuple[int, int, dict[int, bytes]]] = {
    "arm": (
        0xFFFF_0000,
        5,
        {
            0xF60: bytes.fromhex(
                "f0002de9d040c0e1d060c2e1060054e107005501d040c101f040c201"
                "0000a0030100a01300007012f000bde81eff2fe1"
            ),
            0xFA0: bytes.fromhex("5bf07ff51eff2fe1"),
            0xFC0: bytes.fromhex("003092e5003053e000108205000073e21eff2fe1"),
            0xFE0: bytes.fromhex("700f1dee1eff2fe1"),
            0xFFC: (5).to_bytes(4, "little"),
        },
    ),
}


#: kernel entry points at addresses unicorn cannot execute, emulated when the guest
#: jumps there: x86_64's legacy vsyscall page (the call returns like ``ret``)
VSYSCALLS: dict[str, tuple[int, dict[int, str]]] = {
    "x86_64": (0xFFFF_FFFF_FF60_0000, {0x000: "gettimeofday", 0x400: "time", 0x800: "getcpu"}),
}


class HostBacking:
    """One host ``mmap`` (of a file, or anonymous shared memory) that guest pages point into.

    Shared mappings must be the host's own pages so that stores reach the file (or the other
    attachers); large private file mappings use one so that they cost nothing until touched.
    The host mapping is released when no guest page refers to it any more. (This class and
    :class:`HostPiece` are plain slotted classes: a dataclass's creation costs every run's
    start-up a millisecond.)
    """

    __slots__ = ("length", "ptr", "users")

    def __init__(self, ptr: int, length: int, users: int = 0) -> None:
        self.ptr = ptr
        self.length = length
        self.users = users

    def __repr__(self) -> str:
        return f"HostBacking(ptr={self.ptr:#x}, length={self.length:#x}, users={self.users})"

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            _libc().munmap(self.ptr, self.length)


class HostPiece:
    """Guest pages ``[start, end)`` shown by unicorn from host memory at ``ptr``."""

    __slots__ = ("backing", "end", "prot", "ptr", "start")

    def __init__(self, start: int, end: int, ptr: int, prot: int, backing: HostBacking) -> None:
        self.start = start
        self.end = end
        self.ptr = ptr
        self.prot = prot
        self.backing = backing

    def __repr__(self) -> str:
        return f"HostPiece({self.start:#x}-{self.end:#x}, ptr={self.ptr:#x}, prot={self.prot})"


_LIBC: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_long,
        ]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        _LIBC = libc
    return _LIBC


def host_mmap(length: int, fd: int, offset: int, shared: bool) -> HostBacking:
    """A host mapping of ``length`` bytes of ``fd`` from ``offset`` (anonymous if fd < 0)."""
    flags = mmap.MAP_SHARED if shared else mmap.MAP_PRIVATE | HOST_MAP_NORESERVE
    if fd < 0:
        flags |= mmap.MAP_ANONYMOUS
    ptr = _libc().mmap(None, length, mmap.PROT_READ | mmap.PROT_WRITE, flags, fd, offset)
    if ptr is None or ptr == ctypes.c_void_p(-1).value:
        raise OSError(ctypes.get_errno() or 12, "host mmap failed")
    return HostBacking(ptr, length)


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
        self.host: dict[int, HostPiece] = {}  #: host-backed pieces by start address
        #: file pages past the end of the file: ``(start, end, prot)``; touching them is
        #: SIGBUS in Linux. They are mapped inaccessible so that nothing else lands there.
        self.beyond_eof: list[tuple[int, int, int]] = []
        #: told ``(lo, hi)`` when code there may have changed behind the CPU's back (the
        #: instrumentation layer forgets its blocks there)
        self.code_listeners: list[Callable[[int, int], None]] = []
        #: executable ranges ``(start, end)``, cached for the kernel-write check (None:
        #: rebuilt at next use; every mapping change through this class resets it)
        self._exec: list[tuple[int, int]] | None = None
        page = KERNEL_PAGES.get(arch.name)
        if page is not None:
            at, prot, code = page
            uc.mem_map(at, PAGE, prot)
            for offset, data in code.items():
                uc.mem_write(at + offset, data)

    def code_may_change(self, lo: int, hi: int) -> None:
        """``[lo, hi)`` was written by the kernel, remapped or reprotected: run it afresh.

        unicorn notices the guest's own stores into translated code, but not writes
        through its API (a ``read()`` into a JIT buffer) nor stores made while the page
        was not executable (W^X JITs): its cached translations there are dropped.
        """
        if self._exec is None:
            self._exec = [(b, e + 1) for b, e, prot in self.uc.mem_regions() if prot & 4]
        for b, e in self._exec:  # the executable parts only: its cost is per page
            if b < hi and lo < e:
                self.uc.ctl_remove_cache(max(b, lo), min(e, hi))
        for listener in self.code_listeners:
            listener(lo, hi)

    def note_file(self, start: int, end: int, path: str, offset: int, shared: bool = False) -> None:
        """Pages ``[start, end)`` now hold ``path`` from ``offset`` (an ELF load or mmap)."""
        self.forget_files(start, end)
        try:
            st = os.stat(path)
        except OSError:
            return
        self.files.append(FileRange(start, end, path, offset, st.st_dev, st.st_ino, shared))
        self.files.sort(key=lambda f: f.start)

    def note_host_file(self, start: int, end: int, ptr: int) -> None:
        """``[start, end)`` shows host memory at ``ptr``: label it as the host does (a shared
        anonymous mapping is ``/dev/zero (deleted)`` with its own inode)."""
        try:
            with open("/proc/self/maps") as maps:
                line = next((x for x in maps if int(x.split("-", 1)[0], 16) == ptr), None)
        except (OSError, ValueError):
            return
        if line is None:
            return
        fields = line.split(maxsplit=5)
        if len(fields) < 6:
            return
        major, minor = (int(x, 16) for x in fields[3].split(":"))
        self.forget_files(start, end)
        self.files.append(
            FileRange(
                start,
                end,
                fields[5].rstrip("\n"),
                int(fields[2], 16),
                os.makedev(major, minor),
                int(fields[4]),
                fields[1].endswith("s"),
            )
        )
        self.files.sort(key=lambda f: f.start)

    def forget_files(self, start: int, end: int) -> None:
        """``[start, end)`` no longer holds file pages (unmapped or mapped afresh)."""
        kept: list[FileRange] = []
        for f in self.files:
            if f.end <= start or f.start >= end:
                kept.append(f)
                continue
            if f.start < start:
                kept.append(f._replace(end=start))
            if f.end > end:
                kept.append(f._replace(start=end, offset=f.offset + end - f.start))
        self.files = kept

    @property
    def quirks_hooked(self) -> frozenset[int]:
        """Addresses of the instructions hooked by :meth:`code_mapped`."""
        return frozenset(self._quirks_hooked)

    def layout_changed(self) -> None:
        """Mappings were changed around this class (straight through unicorn)."""
        self._exec = None

    def code_mapped(self, addr: int, size: int) -> None:
        """Executable code appeared at ``[addr, addr+size)``: hook the arch's quirk sites.

        Some instructions must be answered as qemu-user does (aarch64's cache geometry);
        they are hooked where they occur rather than everywhere. Unmapped parts are skipped.
        """
        self._exec = None
        hook = self.arch.hook_code_quirks
        if hook is None:
            return
        end = addr + size
        for b, e, _ in self.regions():
            lo, hi = max(b, addr), min(e, end)
            for at in range(lo, hi, QUIRK_SCAN):  # in slices: a large mapping is not read whole
                n = min(QUIRK_SCAN, hi - at)
                hook(self.uc, at, bytes(self.uc.mem_read(at, n)), self._quirks_hooked)

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
        self._exec = None

    def map_host(self, addr: int, size: int, prot: int, backing: HostBacking, at: int = 0) -> None:
        """Map ``[addr, addr+size)`` onto host memory ``backing`` from byte ``at`` on."""
        self.unmap(addr, size)
        self._add_piece(HostPiece(addr, addr + size, backing.ptr + at, prot & 7, backing))

    def _add_piece(self, piece: HostPiece) -> None:
        self.uc.mem_map_ptr(piece.start, piece.end - piece.start, piece.prot, piece.ptr)
        self._exec = None
        piece.backing.users += 1
        self.host[piece.start] = piece

    def _split_host(self, at: int) -> None:
        """Make ``at`` a boundary between host-backed pieces (unicorn would copy them)."""
        for piece in list(self.host.values()):
            if piece.start < at < piece.end:
                self._drop_piece(piece)
                cut = at - piece.start
                b = piece.backing
                self._add_piece(HostPiece(piece.start, at, piece.ptr, piece.prot, b))
                self._add_piece(HostPiece(at, piece.end, piece.ptr + cut, piece.prot, b))
                b.release()  # the reference _drop_piece kept alive for the two halves
                return

    def _drop_piece(self, piece: HostPiece) -> None:
        """Unmap a piece; its reference to the backing is the caller's to release."""
        del self.host[piece.start]
        self.uc.mem_unmap(piece.start, piece.end - piece.start)
        self._exec = None

    def unmap(self, addr: int, size: int) -> None:
        """Unmap the mapped parts of ``[addr, addr+size)``."""
        end = page_up(addr + size)
        self._split_host(addr)
        self._split_host(end)
        for piece in [p for p in self.host.values() if addr <= p.start and p.end <= end]:
            self._drop_piece(piece)
            piece.backing.release()
        for b, e, _ in self.regions():
            lo, hi = max(b, addr), min(e, end)
            if lo < hi:
                self.uc.mem_unmap(lo, hi - lo)
                self._exec = None
        self.forget_files(addr, end)
        self.beyond_eof = _cut(self.beyond_eof, addr, end)
        self.code_may_change(addr, end)

    def protect(self, addr: int, size: int, prot: int) -> bool:
        """Change protection; False if part of the range is not mapped (ENOMEM)."""
        end = page_up(addr + size)
        if not self.is_mapped(addr, end - addr):
            return False
        self._split_host(addr)
        self._split_host(end)
        for b, e, _ in self.regions():
            lo, hi = max(b, addr), min(e, end)
            if lo < hi:
                piece = self.host.get(lo)
                if piece is not None:
                    piece.prot = prot & 7
                if any(lo < be and bs < hi for bs, be, _ in self.beyond_eof):
                    self.beyond_eof = [
                        (bs, be, prot if lo <= bs and be <= hi else bp)
                        for bs, be, bp in self.beyond_eof
                    ]
                    continue
                self.uc.mem_protect(lo, hi - lo, prot & 7)
                self._exec = None
        self.code_may_change(addr, end)
        return True

    def move(self, src: int, size: int, dst: int) -> None:
        """mremap's move: the pages of ``[src, src+size)`` (all mapped) go to ``dst``.

        Host-backed pages are remapped (no copy); others are copied. What was at ``dst``
        is replaced; ``src`` is unmapped afterwards.
        """
        end = src + size
        self.unmap(dst, size)
        self._split_host(src)
        self._split_host(end)
        for b, e, prot in self.regions():
            lo, hi = max(b, src), min(e, end)
            if lo >= hi:
                continue
            at = dst + lo - src
            piece = self.host.get(lo)
            if piece is not None:
                self._add_piece(HostPiece(at, at + hi - lo, piece.ptr, piece.prot, piece.backing))
                continue
            shown = prot
            for bs, be, bp in self.beyond_eof:
                if bs <= lo and hi <= be:
                    shown = bp
            self.uc.mem_map(at, hi - lo, shown)
            self._exec = None
            for off in range(0, hi - lo, 1 << 20):
                n = min(1 << 20, hi - lo - off)
                self.uc.mem_write(at + off, bytes(self.uc.mem_read(lo + off, n)))
            if prot != shown:
                self.uc.mem_protect(at, hi - lo, prot)
        moved = [
            f._replace(
                start=max(f.start, src) - src + dst,
                end=min(f.end, end) - src + dst,
                offset=f.offset + max(f.start, src) - f.start,
            )
            for f in self.files
            if f.start < end and src < f.end
        ]
        beyond = [
            (max(bs, src) - src + dst, min(be, end) - src + dst, bp)
            for bs, be, bp in self.beyond_eof
            if bs < end and src < be
        ]
        self.unmap(src, size)
        self.files = sorted(self.files + moved, key=lambda f: f.start)
        self.beyond_eof = sorted(self.beyond_eof + beyond)

    def prot_at(self, addr: int) -> int:
        """The protection of the page at ``addr`` as the guest set it (0 if unmapped)."""
        for bs, be, bp in self.beyond_eof:
            if bs <= addr < be:
                return bp
        for b, e, prot in self.regions():
            if b <= addr < e:
                return prot
        return 0

    def is_mapped(self, addr: int, size: int) -> bool:
        """Every page of ``[addr, addr+size)`` is mapped."""
        at, end = addr, addr + size
        for b, e, _ in self.regions():
            if b <= at < e:
                at = e
            if at >= end:
                return True
        return at >= end

    def mark_beyond_eof(self, start: int, end: int, prot: int) -> None:
        """``[start, end)`` belongs to a file mapping but lies past the file's last page."""
        self.uc.mem_protect(start, end - start, 0)
        self._exec = None
        self.beyond_eof.append((start, end, prot & 7))
        self.beyond_eof.sort()

    def fault_signal(self, addr: int) -> int | None:
        """The signal a fault at ``addr`` raises when it is not SIGSEGV (SIGBUS past EOF)."""
        for start, end, _ in self.beyond_eof:
            if start <= addr < end:
                return int(signal.SIGBUS)
        return None

    def discard(self, addr: int, size: int) -> None:
        """MADV_DONTNEED: private pages lose their changes (zero, or the file's bytes)."""
        end = page_up(addr + size)
        self._split_host(addr)
        self._split_host(end)
        for b, e, _ in self.regions():
            lo, hi = max(b, addr), min(e, end)
            if lo >= hi or any(bs <= lo and hi <= be for bs, be, _ in self.beyond_eof):
                continue
            piece = self.host.get(lo)
            if piece is not None:
                _libc().madvise(piece.ptr, hi - lo, mmap.MADV_DONTNEED)
                continue
            self._zero(lo, hi)
            for f in self.files:
                flo, fhi = max(f.start, lo), min(f.end, hi)
                if flo < fhi:
                    try:
                        with open(f.path, "rb") as src:
                            src.seek(f.offset + flo - f.start)
                            data = src.read(fhi - flo)
                    except OSError:
                        continue
                    self.uc.mem_write(flo, data)
        self.code_may_change(addr, end)

    #: how much :meth:`_zero` reads at a time, and zeros to compare with
    _ZERO_CHUNK = 0x100000
    _ZEROS = bytes(_ZERO_CHUNK)
    _ZERO_PAGE = bytes(PAGE)

    def _zero(self, lo: int, hi: int) -> None:
        """Zero ``[lo, hi)`` of engine memory, writing only the pages that are not zero.

        C libraries discard whole thread stacks (glibc: ``MADV_DONTNEED`` of the unused
        part at every thread exit), mostly pages the guest never touched: reading and
        comparing them is cheap, whereas writing zeros there would cost milliseconds per
        thread and make every page resident."""
        zeros, zero_page = self._ZEROS, self._ZERO_PAGE
        for start in range(lo, hi, self._ZERO_CHUNK):
            end = min(hi, start + self._ZERO_CHUNK)
            data = bytes(self.uc.mem_read(start, end - start))
            if data == (zeros if len(data) == len(zeros) else zeros[: len(data)]):
                continue
            run = -1  # the first dirty page of the run of dirty pages being collected
            for off in range(0, len(data) + PAGE, PAGE):
                dirty = off < len(data) and data[off : off + PAGE] != zero_page
                if dirty and run < 0:
                    run = off
                elif not dirty and run >= 0:
                    self.uc.mem_write(start + run, bytes(off - run))
                    run = -1

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
            self._exec = None
        except UcError:  # the host cannot back it: Linux's answer is the old break
            return self.brk
        self.brk = new
        self.brk_page += size
        return self.brk


def _cut(ranges: list[tuple[int, int, int]], lo: int, hi: int) -> list[tuple[int, int, int]]:
    """``ranges`` without ``[lo, hi)``."""
    out: list[tuple[int, int, int]] = []
    for start, end, prot in ranges:
        if end <= lo or start >= hi:
            out.append((start, end, prot))
            continue
        if start < lo:
            out.append((start, lo, prot))
        if end > hi:
            out.append((hi, end, prot))
    return out
