"""The instrumentation layer: QEMU's TCG plugin events and handles on unicorn.

:class:`Instrumentation` (in :mod:`.core`) is the engine the runner creates per session;
:mod:`.api` holds the ``qemu_plugin_*`` functions plugins call; :mod:`.handles` the
objects they receive.
"""

from qpp_core.instrument.core import Instrumentation
from qpp_core.instrument.handles import U64, Instruction, MemInfo, Scoreboard, TranslationBlock
from qpp_core.instrument.plan import BlockPlan

__all__ = [
    "U64",
    "BlockPlan",
    "Instruction",
    "Instrumentation",
    "MemInfo",
    "Scoreboard",
    "TranslationBlock",
]
