"""Plugin arguments: ``-p NAME,KEY=VAL,...`` as QEMU's ``-plugin`` takes them.

A plugin may declare the arguments it accepts in a module-level ``qemu_plugin_args``
mapping of name to :class:`Arg`; qpp then rejects unknown keys, values of the wrong type
and bad numbers *before the guest starts*, with a message listing what the plugin accepts.
A plugin without a declaration receives its arguments as strings, unchecked, as in QEMU.

A plugin named twice on the command line is loaded once with the arguments merged; the
same key given two different values is an error, unless the declaration says the argument
may be repeated (``Arg(..., multiple=True)``, e.g. the insn plugin's ``match=``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qpp_core.errors import PluginArgumentError

_TRUE = ("on", "true", "yes")
_FALSE = ("off", "false", "no")


def bool_parse(name: str, value: str) -> bool:
    """QEMU's ``qemu_plugin_bool_parse``: on/off, true/false, yes/no."""
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name}={value}: expected one of on, off, true, false, yes, no")


def _int_parse(name: str, value: str) -> int:
    try:
        return int(value, 0)
    except ValueError:
        raise ValueError(f"{name}={value}: expected an integer (decimal or 0x...)") from None


def _float_parse(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}={value}: expected a number") from None


_PARSERS: dict[Any, Callable[[str, str], Any]] = {
    bool: bool_parse,
    int: _int_parse,
    float: _float_parse,
    str: lambda _name, value: value,
}


@dataclass(frozen=True)
class Arg:
    """One argument a plugin accepts: its type (or a parser), default and help text.

    ``type`` is ``bool``, ``int``, ``float``, ``str`` or a callable taking the string and
    returning the value (raise ``ValueError`` with a message for a bad one).
    """

    type: Any = str
    default: Any = None
    help: str = ""
    multiple: bool = False

    def parse(self, name: str, value: str) -> Any:
        parser = _PARSERS.get(self.type)
        if parser is not None:
            return parser(name, value)
        try:
            return self.type(value)
        except ValueError as exc:
            raise ValueError(f"{name}={value}: {exc}") from None

    @property
    def type_name(self) -> str:
        return getattr(self.type, "__name__", "value")


def _name_from_library(name: str) -> str:
    """``path/to/libNAME.so`` -> ``NAME``; anything else unchanged."""
    if name.endswith(".so") or "/" in name:
        base = name.rsplit("/", 1)[-1]
        base = base[: -len(".so")] if base.endswith(".so") else base
        return base[3:] if base.startswith("lib") else base
    return name


@dataclass(frozen=True)
class PluginRequest:
    """One ``-p NAME,KEY=VAL,...`` from the command line."""

    name: str
    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> PluginRequest:
        """Parse ``NAME[,KEY=VAL...]``.

        QEMU habits work too: ``-plugin contrib/plugins/libhotblocks.so`` and
        ``-plugin file=libinsn.so,inline=on`` select the plugins ``hotblocks`` and ``insn``.
        """
        name, *rest = text.split(",")
        name = name.strip()
        if name.startswith("file="):
            name = name[len("file=") :]
        name = _name_from_library(name)
        if not name:
            raise PluginArgumentError(f"-p {text!r}: expected NAME[,KEY=VAL...]")
        items = []
        for item in rest:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise PluginArgumentError(
                    f"-p {text}: argument {item!r} of plugin {name} is not KEY=VALUE"
                )
            items.append((key.strip(), value))
        return cls(name, tuple(items))


def merge_requests(requests: Sequence[PluginRequest]) -> dict[str, list[tuple[str, str]]]:
    """Arguments per plugin name, in first-mention order (duplicates checked later)."""
    merged: dict[str, list[tuple[str, str]]] = {}
    for request in requests:
        merged.setdefault(request.name, []).extend(request.items)
    return merged


@dataclass
class PluginArgs(Mapping[str, Any]):
    """A plugin's arguments: a mapping of parsed values, and ``argv`` as QEMU passes it."""

    parsed: dict[str, Any] = field(default_factory=dict)
    argv: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        return self.parsed[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.parsed)

    def __len__(self) -> int:
        return len(self.parsed)


def _shown(default: object) -> str:
    """A default as a user would type it; an empty string shows as ``''`` (not nothing)."""
    if default == "" or (isinstance(default, str) and default != default.strip()):
        return repr(default)
    return str(default)


def describe(declared: Mapping[str, Arg]) -> str:
    """``key=type (default X)`` for each declared argument, for error messages."""
    if not declared:
        return "none"
    parts = []
    for key in sorted(declared):
        arg = declared[key]
        default = "" if arg.default is None else f", default {_shown(arg.default)}"
        parts.append(f"{key}=<{arg.type_name}{default}>")
    return ", ".join(parts)


def build_args(
    plugin: str, items: Sequence[tuple[str, str]], declared: Mapping[str, Arg] | None
) -> PluginArgs:
    """Validate ``items`` against a declaration (if any) and parse them."""
    argv = tuple(f"{key}={value}" for key, value in items)
    if declared is None:
        values: dict[str, Any] = {}
        for key, value in items:
            if key in values and values[key] != value:
                raise PluginArgumentError(
                    f"plugin {plugin} got {key}= twice with different values "
                    f"({values[key]!r} and {value!r}); give it once"
                )
            values[key] = value
        return PluginArgs(values, argv)
    values = {key: ([] if arg.multiple else arg.default) for key, arg in declared.items()}
    given: set[str] = set()
    for key, raw in items:
        arg = declared.get(key)
        if arg is None:
            raise PluginArgumentError(
                f"plugin {plugin} has no argument {key!r}; it accepts: {describe(declared)}"
            )
        try:
            value = arg.parse(key, raw)
        except ValueError as exc:
            raise PluginArgumentError(
                f"plugin {plugin}: {exc}; it accepts: {describe(declared)}"
            ) from None
        if arg.multiple:
            values[key].append(value)
        elif key in given and values[key] != value:
            raise PluginArgumentError(
                f"plugin {plugin} got {key}= twice with different values; give it once"
            )
        else:
            values[key] = value
        given.add(key)
    return PluginArgs(values, argv)
