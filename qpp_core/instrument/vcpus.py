"""Per-vCPU scoreboard storage: which vCPU runs, how many there were, and the switch.

Each guest thread is a vCPU (as in qemu-user). The blocks' folded inline operations hold
one list per scoreboard, :attr:`ScoreboardStore.live`, the running vCPU's values: the
hot path stays one ``slots[i] += n`` whatever the number of vCPUs. When the machine
switches threads, :func:`switch` parks the running vCPU's values and loads the next
one's into the same lists (a few slots per scoreboard, once per switch, never per block).

The native backend needs nothing more: ``live`` is then a ctypes u64 array that its C
hooks add to (through a ``qpp_score`` naming that one array), and the swap copies values
in and out of the same C memory, so no C table changes when threads switch.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Any

from qpp_core.instrument.backend import QppScore, is_native, new_slots


class ScoreboardStore:
    """The values of one scoreboard: the running vCPU's in ``live``, the others parked."""

    def __init__(self, n_slots: int) -> None:
        self.n_slots = n_slots
        #: the running vCPU's slots (what the blocks' inline ops are bound to): a list of
        #: ints, or a ctypes u64 array with the native backend
        self.live: Any = new_slots(n_slots)
        #: native backend: the ``qpp_score`` the C operations name (its one base: ``live``)
        self.desc: QppScore | None = None
        if is_native():
            self.live.store = self  # an inline op on these slots finds its qpp_score
            ptr = ctypes.POINTER(ctypes.c_uint64)
            self._bases = (ptr * 1)(ctypes.cast(self.live, ptr))
            self.desc = QppScore(bases=self._bases, n=1)
        self._parked: dict[int, list[int]] = {}
        _STORES.add(self)

    def slots(self, vcpu: int) -> Any:
        """The slots of ``vcpu`` (the live list when it runs)."""
        if vcpu == STATE.current:
            return self.live
        parked = self._parked.get(vcpu)
        if parked is None:
            parked = self._parked[vcpu] = [0] * self.n_slots
        return parked

    def all_slots(self) -> list[Any]:
        """The slots of every vCPU that ever ran (for sums)."""
        return [self.slots(v) for v in range(STATE.count)]

    def swap(self, old: int, new: int) -> None:
        self._parked[old] = self.live[:]
        parked = self._parked.pop(new, None)
        self.live[:] = parked if parked is not None else [0] * self.n_slots


class _State:
    """The running vCPU and how many vCPUs there were (QEMU's ``num_vcpus``)."""

    def __init__(self) -> None:
        self.current = 0
        self.count = 1


STATE = _State()
_STORES: weakref.WeakSet[ScoreboardStore] = weakref.WeakSet()


def switch(index: int) -> None:
    """The running vCPU is now ``index``: swap every scoreboard's live values."""
    old = STATE.current
    if index == old:
        return
    for store in list(_STORES):
        store.swap(old, index)
    STATE.current = index
    STATE.count = max(STATE.count, index + 1)


def reset() -> None:
    """A new run: vCPU 0 runs, and it is the only one so far."""
    STATE.current = 0
    STATE.count = 1
