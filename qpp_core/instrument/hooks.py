"""The unicorn hooks: which exist, and the dispatchers unicorn calls.

Each event type has one hook whose Python dispatcher fans out to all plugins, never one
hook per plugin, and a hook exists only while a plugin needs it. The block hook runs a
block's :class:`~qpp_core.instrument.plan.BlockPlan` (translating the block the first time
it runs); per-instruction callbacks go into one address table read by code hooks that are
added only over coalesced intervals around the requested addresses (a callback at one
address costs nothing elsewhere); memory callbacks use one read-after/write hook that
looks the accessing instruction up by pc. The dispatchers are the hot paths: they bind
what they need to locals once, when the hook is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpp_core.instrument import _uc
from qpp_core.instrument.mips_replay import mips_replay_guard
from qpp_core.instrument.state import CodeHook, MemHook, State
from qpp_core.instrument.syscalls import SyscallObserver
from qpp_core.session import LoadedPlugin

#: code-hook interval policy: addresses closer than this share one unicorn hook ...
COALESCE_GAP = 256
#: ... and there are never more hooks than this (the closest intervals merge first)
MAX_CODE_HOOKS = 16


class HooksMixin(State):
    """Adding and removing unicorn hooks; the block, code and memory dispatchers."""

    def _sync_hooks(self) -> None:
        """Add or remove the block hook and the syscall observer as listeners require."""
        if not self.started:
            return
        want_block = self._wants("tb_trans")
        stops = getattr(self.machine, "block_stop", None)
        if want_block and self._block_hook is None:
            hook = self._make_block_hook()
            self._py_block = hook
            if self._native is not None:
                address = stops.address if stops is not None else None
                self._block_hook = self._native.block_hook(hook, self._mips_guarded, address)
            else:
                self._block_hook = self.raw.add(_uc.HOOK_BLOCK, _uc.CODE_CB, hook)
            if stops is not None:  # this hook honours the machine's stop requests
                stops.checkers += 1
            self._flush_unicorn()
        elif not want_block and self._block_hook is not None:
            # nobody translates: no per-block instrumentation can exist any more
            self.flush_all("no translation listener left")
            self.raw.delete(self._block_hook)
            self._block_hook = None
            self._release_stops()
            self._drop_watch()
        want_sys = any(
            self._wants(e) for e in ("syscall", "syscall_filter", "syscall_ret", "discon")
        )
        if want_sys and not self._observer_installed:
            self.machine.syscall_observer = SyscallObserver(self)
            self._observer_installed = True
        elif not want_sys and self._observer_installed:
            self.machine.syscall_observer = None
            self._observer_installed = False

    def _flush_unicorn(self) -> None:
        """Drop unicorn's translations and leave the running code, if any.

        A flush alone does not stop a loop of chained blocks, so from inside an event the
        machine is also asked to restart at the current pc. (Execution callbacks need not:
        they exist only when the block hook does, and it re-announces the next block.)
        """
        self.uc.ctl_flush_tb()
        if self._in_event and self._live and not self.finished:
            self.machine.request_restart()

    def _release_stops(self) -> None:
        """The block hook is gone: the machine's stop requests need another hook."""
        stops = getattr(self.machine, "block_stop", None)
        if stops is not None and stops.checkers > 0:
            stops.checkers -= 1
            stops.sync_due = True

    def _make_block_hook(self) -> CodeHook:
        blocks = self.blocks
        translate = self._translate
        pending = self._it_pending
        flush_pending = self._flush_it_pending
        cur = self._cur
        tb_ctx = self._tb_ctx

        stops = getattr(self.machine, "block_stop", None)
        stop_req = stops.flag if stops is not None else None
        emu_stop = self.uc.emu_stop

        def on_block(handle: int, address: int, size: int, key: int) -> None:
            if stop_req is not None and stop_req.armed:
                emu_stop()  # a signal's handler runs first; the block runs afterwards
                return
            cur[0] = address
            try:
                if pending:
                    flush_pending()
                plan = blocks.get(address)
                if plan is None or plan.size != size:
                    plan = translate(address, size)
                    if plan is None:
                        return
                stores = plan.stores
                if stores:
                    for cell, vals, slot in plan.snaps:  # for exact conditions
                        cell[0] = vals[slot]
                for vals, slot, imm in plan.adds:
                    vals[slot] += imm
                if stores:
                    for vals, slot, imm in stores:
                        vals[slot] = imm
                if plan.extra is not None:
                    tb_ctx[0] = True
                    plan.extra()
                    tb_ctx[0] = False
            except BaseException as exc:
                tb_ctx[0] = False
                self._hook_failed(exc)

        if self.arch.name != "mipsel":
            return on_block
        guarded = mips_replay_guard(self, on_block)
        if stop_req is None:
            return guarded

        def on_block_stop_first(handle: int, address: int, size: int, key: int) -> None:
            if stop_req.armed:  # before the guard's bookkeeping: the block does not run
                emu_stop()
                return
            stop_req.last = address  # where a CPU exception is looked for
            stop_req.last_size = size
            guarded(handle, address, size, key)

        return on_block_stop_first

    def _make_code_hook(self) -> CodeHook:
        table = self.code_table
        if not self._is_arm:
            fast = self._code_fast
            me = self

            def on_code(handle: int, address: int, size: int, key: int) -> None:
                # the hot path: one frame between unicorn and the plugin's callback
                entry = fast.get(address)
                if entry is not None:
                    fn, ud, flags, owner = entry
                    me.regs = flags
                    try:
                        fn(me.vcpu_index, ud)
                    except BaseException as exc:
                        me._code_cb_failed(owner, exc)

            return on_code
        pending = self._it_pending
        it_actions = self._it_actions
        flush_pending = self._flush_it_pending

        def on_code_arm(handle: int, address: int, size: int, key: int) -> None:
            try:
                if pending and address not in it_actions:
                    flush_pending()
                fn = table.get(address)
                if fn is not None:
                    fn()
            except BaseException as exc:
                self._hook_failed(exc)

        return on_code_arm

    def _code_cb_failed(self, owner: LoadedPlugin | None, exc: BaseException) -> None:
        """An exception out of a fast code-table entry (``owner`` None: already wrapped)."""
        try:
            if owner is None:
                raise exc
            self._plugin_failed(owner, "insn exec", exc)
        except BaseException as error:
            self._hook_failed(error)

    def _make_mem_hook(self) -> MemHook:
        table = self.mem_table
        read_pc = self._read_pc

        def on_mem(handle: int, access: int, address: int, size: int, value: int, key: int) -> None:
            fn = table.get(read_pc())
            if fn is not None:
                try:
                    fn(access, address, size, value)
                except BaseException as exc:
                    self._hook_failed(exc)

        return on_mem

    # --- code hook intervals --------------------------------------------------------------

    def _covered(self, addr: int) -> bool:
        return any(lo <= addr <= hi for lo, hi, _ in self._intervals)

    def _cover(self, lo: int, hi: int) -> None:
        """Make unicorn instrument ``[lo, hi]``, merging nearby intervals (few hooks)."""
        ivs = [[a, b] for a, b, _ in self._intervals]
        ivs.append([lo, hi])
        merged = coalesce(ivs, COALESCE_GAP, MAX_CODE_HOOKS)
        self._intervals = self._replace_hooks(
            self._intervals, merged, _uc.HOOK_CODE, _uc.CODE_CB, self._make_code_hook
        )

    def _replace_hooks(
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
            self._hooks_deleted = True
        return hooks

    @property
    def code_hook_ranges(self) -> list[tuple[int, int]]:
        """The address ranges unicorn's code hooks cover now (for tests)."""
        return [(a, b) for a, b, _ in self._intervals]


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
