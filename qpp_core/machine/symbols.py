"""Guest symbols (from the ELF symbol table, when the binary has one) for plugins."""

from __future__ import annotations

import bisect
from collections.abc import Iterable


class SymbolTable:
    """Address -> name lookups over a program's function and object symbols."""

    def __init__(self, entries: Iterable[tuple[int, int, str]] = ()) -> None:
        # (address, size, name), sorted by address; for equal addresses the first wins
        self._entries = sorted(set(entries))
        self._starts = [e[0] for e in self._entries]
        self._by_name = {name: addr for addr, _, name in reversed(self._entries)}

    def __len__(self) -> int:
        return len(self._entries)

    def symbol_at(self, addr: int) -> str | None:
        """The symbol whose extent holds ``addr`` (or that starts exactly there), if any."""
        i = bisect.bisect_right(self._starts, addr) - 1
        while i >= 0:
            start, size, name = self._entries[i]
            if start == addr or start <= addr < start + size:
                return name
            if start < addr:
                return None
            i -= 1
        return None

    def address_of(self, name: str) -> int | None:
        """The address of a symbol by name, if the table has it."""
        return self._by_name.get(name)
