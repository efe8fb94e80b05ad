"""Ordering QPP callback registrations beyond registration order (as DynamoRIO's drmgr).

A registration may say that its function must run ``before`` or ``after`` the functions
that named other plugins registered on the same callback
(``qemu_plugin_reg_callback("syscalls", "on_sys_enter", fn, before=["strace"])``).
The order is registration order wherever the constraints allow it: a stable
topological sort that always picks the oldest registration free to run next. A
constraint naming a plugin with no registration there (yet) is ignored until it has one.
Constraints that cannot all hold (a cycle) are an error naming the cycle, raised when the
registration that closes it is made, which is then refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from qpp_core.errors import QppUsageError


class Ordered(Protocol):
    """What ordering needs of a registration."""

    @property
    def owner(self) -> str | None: ...

    @property
    def before(self) -> tuple[str, ...]: ...

    @property
    def after(self) -> tuple[str, ...]: ...


def _edges(items: Sequence[Ordered]) -> dict[int, set[int]]:
    """``i -> {j, ...}``: registration i must run before each j (indexes into items)."""
    by_owner: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        if item.owner is not None:
            by_owner.setdefault(item.owner, []).append(index)
    edges: dict[int, set[int]] = {index: set() for index in range(len(items))}
    for index, item in enumerate(items):
        for name in item.before:
            edges[index].update(j for j in by_owner.get(name, ()) if j != index)
        for name in item.after:
            for j in by_owner.get(name, ()):
                if j != index:
                    edges[j].add(index)
    return edges


T = TypeVar("T", bound=Ordered)


def order_registrations(items: Sequence[T], callback: str) -> list[T]:
    """``items`` (in registration order) reordered to satisfy every before/after."""
    if not any(item.before or item.after for item in items):
        return list(items)
    edges = _edges(items)
    waiting = [0] * len(items)
    for targets in edges.values():
        for j in targets:
            waiting[j] += 1
    result: list[T] = []
    ready = sorted(i for i, n in enumerate(waiting) if n == 0)
    while ready:
        index = ready.pop(0)
        result.append(items[index])
        for j in edges[index]:
            waiting[j] -= 1
            if waiting[j] == 0:
                ready.append(j)
        ready.sort()
    if len(result) < len(items):
        raise QppUsageError(
            f"QPP callback {callback}: ordering constraints conflict "
            f"({_cycle_text(items, edges, waiting)}); drop one of these before/after"
        )
    return result


def _cycle_text(items: Sequence[Ordered], edges: dict[int, set[int]], waiting: list[int]) -> str:
    """``a before b before a``: one cycle among the registrations left unordered."""
    left = {i for i, n in enumerate(waiting) if n > 0}
    # every registration left waits for another one left: walk back along those waits
    start = min(left)
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        node = min(i for i in left if node in edges[i])
        if node in seen:
            cycle = [*path[seen[node] :], node]
            break
        seen[node] = len(path)
        path.append(node)
    return " before ".join(str(items[i].owner) for i in reversed(cycle))
