"""The ``qpp`` command's entry point: start-up without the cyclic garbage collector.

Before a guest starts, a run imports about a hundred modules and builds their classes and
tables: objects that live as long as the process. The collector walks them again and again
while they are being created and finds nothing to free (``qpp run hello`` executes 1.28x
the bare loader's instructions this way, 1.42x with collections). So collection is off
from here until the guest is about to run, where :func:`qpp_core.runner.run` freezes what
exists by then (``gc.freeze``: later full collections skip it) and turns collection back
on. Other commands turn it back on once their command line is parsed (``qpp batch`` runs
for long), and any way out turns it back on. Code that calls ``runner.run`` itself keeps
its collector as it is.
"""

from __future__ import annotations

import gc


def main() -> int:
    gc.disable()
    try:
        from qpp_core.cli.main import main as qpp_main

        return qpp_main()
    finally:
        gc.enable()
