"""The plugin API versions this qpp-core implements.

A leaf module: discovery checks plugin metadata against these numbers without loading the
engine. QPP (names, uses, exports, callbacks) exists from version 2 on; version 1 plugins
get the TCG instrumentation API only.
"""

from __future__ import annotations

API_VERSION_MIN = 1
API_VERSION_CURRENT = 2
QPP_MIN_VERSION = 2
