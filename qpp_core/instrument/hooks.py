"""The unicorn hooks the instrumentation layer adds: which exist, over which ranges.

Each event type has one hook whose dispatcher (:mod:`.dispatch`) fans out to all plugins,
never one hook per plugin, and a hook exists only while a plugin needs it. Per-instruction
callbacks are read by code hooks added only over coalesced intervals around the requested
addresses (:class:`CodeHooks`: a callback at one address costs nothing elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument import _uc
from qpp_core.instrument.context import Context
from qpp_core.instrument.native import Native
from qpp_core.ports import MachinePort

#: code-hook interval policy: addresses closer than this share one unicorn hook ...
COALESCE_GAP = 256
#: ... and there are never more hooks than this (the closest intervals merge first)
MAX_CODE_HOOKS = 16

#: unicorn's code and block hooks: (handle, address, size, key)
CodeHook = Callable[[int, int, int, int], None]
#: unicorn's memory hooks: (handle, access, address, size, value, key)
MemHook = Callable[[int, int, int, int, int, int], None]


class HookSet:
    """The unicorn hooks of one machine: the block hook, the memory hook, ranged hooks."""

    def __init__(
        self, raw: _uc.RawHooks, machine: MachinePort, ctx: Context, native: Native | None
    ) -> None:
        self.raw = raw
        self.machine = machine
        self.uc = machine.uc
        self.ctx = ctx
        self.native = native
        self.block: int | None = None
        #: the Python block dispatcher under the block hook (what the native hook hands
        #: blocks to; what runs a block the engine could not translate, :mod:`.cpu_exceptions`)
        self.py_block: CodeHook | None = None
        #: the machine's stop requests, which the block hook honours (:meth:`add_block`)
        self.stops = machine.block_stop
        self.mem: int | None = None
        #: a hook was deleted since the engine was entered (see :meth:`replace`)
        self.deleted = False

    def add_block(self, hook: CodeHook, mips_guarded: bool) -> None:
        """Add the block hook (the native one when the fast path runs). It tests the
        machine's stop request before anything else of a block, so the machine needs no
        block hook of its own for that while this one exists."""
        stops = self.stops
        self.py_block = hook
        if self.native is not None:
            address = stops.address if stops is not None else None
            self.block = self.native.block_hook(hook, mips_guarded, address)
        else:
            self.block = self.raw.add(_uc.HOOK_BLOCK, _uc.CODE_CB, hook)
        if stops is not None:
            stops.checkers += 1

    def drop_block(self) -> None:
        if self.block is not None:
            self.raw.delete(self.block)
            self.block = self.py_block = None
            self._release_stops()

    def _release_stops(self) -> None:
        """The block hook is gone: the machine's stop requests need another hook (the
        machine adds its own at the next stop if a guest timer needs one)."""
        stops = self.stops
        if stops is not None and stops.checkers > 0:
            stops.checkers -= 1
            stops.sync_due = True

    def ensure_mem(self, make: Callable[[], MemHook]) -> None:
        """Add the memory hook (loads after they read, stores) unless it exists."""
        if self.mem is not None:
            return
        if self.native is not None:
            self.mem = self.native.mem_hook()
        else:
            self.mem = self.raw.add(
                _uc.HOOK_MEM_READ_AFTER | _uc.HOOK_MEM_WRITE, _uc.MEM_CB, make()
            )

    def drop_mem(self) -> None:
        if self.mem is not None:
            self.raw.delete(self.mem)
            self.mem = None

    def replace(
        self,
        old: list[list[int]],
        merged: list[list[int]],
        kind: int,
        callback_type: Any,
        make: Callable[[], Any],
    ) -> list[list[int]]:
        """Hooks of ``kind`` over the ``merged`` ranges, ``[lo, hi, handle]``, given the
        ``old`` ones: only the ranges that changed are replaced, because a deleted hook
        lingers in unicorn (walked past by every instrumented instruction) until
        emu_start returns."""
        keep = {(a, b): h for a, b, h in old}
        hook = None
        hooks: list[list[int]] = []
        for a, b in merged:
            handle = keep.pop((a, b), None)
            if handle is None:
                hook = hook or make()
                handle = self.raw.add(kind, callback_type, hook, a, b)
            hooks.append([a, b, handle])
        for handle in keep.values():
            self.raw.delete(handle)
            self.deleted = True
        return hooks

    def delete(self, ranged: list[list[int]]) -> None:
        """Delete ranged hooks ``[lo, hi, handle]``."""
        for _, _, handle in ranged:
            self.raw.delete(handle)

    def leave_for_new_hooks(self, pc: int) -> None:
        """Make unicorn re-enter at ``pc`` with fresh translations: by rewriting the pc,
        or, when hooks were deleted meanwhile, by leaving the engine (unicorn frees deleted
        hooks only when emu_start returns; until then every instrumented instruction
        walks past them)."""
        if self.deleted:
            self.deleted = False
            self.machine.request_restart()
        else:
            self.uc.reg_write(self.machine.arch.pc, pc)

    def flush_unicorn(self) -> None:
        """Drop unicorn's translations and leave the running code, if any.

        A flush alone does not stop a loop of chained blocks, so from inside an event the
        machine is also asked to restart at the current pc. (Execution callbacks need not:
        they exist only when the block hook does, and it re-announces the next block.)
        """
        self.uc.ctl_flush_tb()
        ctx = self.ctx
        if ctx.in_event and ctx.live and not ctx.finished:
            self.machine.request_restart()

    def close(self) -> None:
        """Remove every hook this layer added."""
        self.raw.delete_all()
        if self.block is not None:
            self._release_stops()
        self.block = self.mem = self.py_block = None
        if self.native is not None:
            self.native.close()


class CodeHooks:
    """The code hooks: over which address intervals unicorn calls the code dispatcher."""

    def __init__(self, hooks: HookSet, make: Callable[[], CodeHook]) -> None:
        self.hooks = hooks
        self.make = make
        self.intervals: list[list[int]] = []  # [lo, hi, handle]

    def covered(self, addr: int) -> bool:
        return any(lo <= addr <= hi for lo, hi, _ in self.intervals)

    def cover(self, lo: int, hi: int) -> None:
        """Make unicorn instrument ``[lo, hi]``, merging nearby intervals (few hooks)."""
        ivs = [[a, b] for a, b, _ in self.intervals]
        ivs.append([lo, hi])
        merged = coalesce(ivs, COALESCE_GAP, MAX_CODE_HOOKS)
        self.intervals = self.hooks.replace(
            self.intervals, merged, _uc.HOOK_CODE, _uc.CODE_CB, self.make
        )

    def clear(self) -> None:
        self.hooks.delete(self.intervals)
        self.intervals = []

    @property
    def ranges(self) -> list[tuple[int, int]]:
        """The address ranges unicorn's code hooks cover now (for tests)."""
        return [(a, b) for a, b, _ in self.intervals]


def coalesce(ivs: list[list[int]], gap: int, limit: int) -> list[list[int]]:
    """Merge address intervals ``[lo, hi]`` less than ``gap`` apart, then the closest ones
    until at most ``limit`` are left."""
    ivs.sort()
    merged: list[list[int]] = []
    for a, b in ivs:
        if merged and a <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    while len(merged) > limit:
        gaps = [merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)]
        i = gaps.index(min(gaps))
        merged[i : i + 2] = [[merged[i][0], merged[i + 1][1]]]
    return merged
