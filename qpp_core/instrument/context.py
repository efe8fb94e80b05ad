"""What the guest CPU is doing now, as every instrumentation component needs to know it.

One :class:`Context` per machine: the components receive it in their constructor and the
hot paths bind it to a local when their hook is made, so a callback's ``ctx.regs = flags``
costs one attribute store on a small slotted object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qpp_core.instrument.backend import new_cell

if TYPE_CHECKING:
    from qpp_core.instrument.handles import TranslationBlock

#: register access allowed right now (:attr:`Context.regs`): outside any event, none,
#: read, read-write
REGS_OUTSIDE = -1
REGS_NONE = 0
REGS_READ = 1
REGS_RW = 2


class Context:
    """The run's state the components share (see the module docstring)."""

    __slots__ = (
        "cur",
        "exiting",
        "finished",
        "in_event",
        "in_mem",
        "is_thumb",
        "live",
        "read_pc",
        "regs",
        "slot_next",
        "started",
        "tb_ctx",
        "translating",
        "vcpu_index",
        "vcpus_live",
    )

    def __init__(self, read_pc: Callable[[], int], is_thumb: Callable[[], bool]) -> None:
        #: the guest's pc and whether it runs Thumb code now (arm)
        self.read_pc = read_pc
        self.is_thumb = is_thumb
        #: register access allowed now (REGS_*); set by every dispatcher
        self.regs = REGS_OUTSIDE
        #: the running guest thread's vCPU index (what every callback is given)
        self.vcpu_index = 0
        #: the vCPUs started and not yet exited, in start order
        self.vcpus_live: list[int] = [0]
        #: start() ran; finish() ran; from the end of start() until finish() (the machine
        #: may be running)
        self.started = False
        self.finished = False
        self.live = False
        #: a plugin ended the guest (exit_guest): no more events are delivered
        self.exiting = False
        #: >0 while a translation, syscall or global event is being delivered
        self.in_event = 0
        #: true while memory callbacks run (the accessing instruction has started)
        self.in_mem = False
        #: [True] while the tb exec callbacks of the block starting now run
        self.tb_ctx = [False]
        #: the block executing now (set by the block hook; a cell the native hook writes)
        self.cur: Any = new_cell()
        #: mips: see mips_replay (a cell the native hook writes too)
        self.slot_next: Any = new_cell()
        #: the block being announced to ``tb_trans`` (None outside a translation)
        self.translating: TranslationBlock | None = None
