"""Guest symbols (from the ELF symbol table, when the binary has one) for plugins."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable

Entry = tuple[int, int, str]  #: (address, size, name)


class SymbolTable:
    """Address -> name lookups over a program's function and object symbols.

    Built from entries, or from a function that reads them on the first lookup: most runs
    never ask, and reading a symbol table costs start-up.
    """

    def __init__(self, entries: Iterable[Entry] | Callable[[], Iterable[Entry]] = ()) -> None:
        self._source = entries if callable(entries) else None
        if not callable(entries):
            self._build(entries)

    def _build(self, entries: Iterable[Entry]) -> None:
        # (address, size, name), sorted by address; for equal addresses the first wins
        self._entries = sorted(set(entries))
        self._starts = [e[0] for e in self._entries]
        self._by_name = {name: addr for addr, _, name in reversed(self._entries)}
        self._source = None

    def __getattr__(self, name: str) -> object:
        # the tables, on first use of a lazily read symbol table
        source = self.__dict__.get("_source")
        if source is None or name not in ("_entries", "_starts", "_by_name"):
            raise AttributeError(name)
        self._build(source())
        return self.__dict__[name]

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
