"""``python -m qpp_core`` is ``qpp``."""

import sys

from qpp_core.cli.entry import main

sys.exit(main())
