"""What qpp_srv offers other plugins, typed (QPP's ``QPP_FUN_PROTOTYPE`` header).

Import this module, not :mod:`qpp_srv.plugin`: it holds declarations only, so that a
caller type-checks against qpp_srv without running it::

    from qpp_core import qpp
    from qpp_srv.api import QppSrvApi

    srv = qpp.typed(QppSrvApi)
    srv.qpp_srv_do_add_qpp(0)       # mypy checks the argument and the result
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PLUGIN = "qpp_srv"

#: the QPP callback qpp_srv creates and runs at exit with a :class:`MyOnExitData`
MY_ON_EXIT = "my_on_exit"


class QppSrvApi(Protocol):
    """qpp_srv's exported functions under their ``_qpp`` names."""

    def qpp_srv_do_add_qpp(self, x: int) -> int:
        """``x + 1``."""
        ...

    def qpp_srv_do_sub_qpp(self, x: int) -> int:
        """``x - 1``."""
        ...


@dataclass
class MyOnExitData:
    """``evdata`` of ``my_on_exit``: a function registered on it sets ``called``."""

    called: bool = False
