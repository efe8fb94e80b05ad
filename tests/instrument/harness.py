"""Helpers for instrumentation tests: sessions with in-memory plugins, snippet machines.

Plugins here are plain module objects built in the test (no distribution, no import),
added to a session the way the loader does it, so that each test states exactly what
its plugin registers. :class:`SnippetMachine` runs a few hand-assembled instructions on a
real unicorn CPU with the machine contract the instrumentation layer relies on.
"""

from __future__ import annotations

import io
import types
from collections.abc import Callable
from typing import Any

import unicorn

from qpp_core.discovery.metadata import PluginSpec
from qpp_core.instrument import Instrumentation
from qpp_core.loading.args import PluginArgs
from qpp_core.log import PluginLog
from qpp_core.machine.arch import by_name
from qpp_core.session import LoadedPlugin, Session, running_plugin

BASE = 0x10000


class SnippetMachine:
    """A few instructions at :data:`BASE` on a real unicorn CPU, stopping at ``end``."""

    def __init__(
        self, arch_name: str, code: bytes, *, thumb: bool = False, data: bytes = b""
    ) -> None:
        self.arch = by_name(arch_name)
        mode = self.arch.uc_mode
        if thumb:
            mode = unicorn.UC_MODE_THUMB
        self.uc = unicorn.Uc(self.arch.uc_arch, mode)
        self.uc.mem_map(BASE, 0x10000)
        self.uc.mem_write(BASE, code)
        if data:
            self.uc.mem_write(BASE + 0x8000, data)
        self.code = code
        self.thumb = thumb
        self.end = BASE + len(code)
        self.syscall_observer: Any = None
        self.vcpu_observer: Any = None
        self.signal_observer: Any = None
        self.code_listeners: list[Callable[[int, int], None]] = []
        self.block_stop: Any = None  # no signals here: nothing asks for a block-start stop
        self.entry = BASE
        self.restarts = 0
        self._restart = False
        self._stop_reason: BaseException | None = None
        self._stopped = False

    def read_memory(self, addr: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(addr, size))

    def write_memory(self, addr: int, data: bytes) -> None:
        self.uc.mem_write(addr, bytes(data))

    def symbol_at(self, addr: int) -> str | None:
        return "start" if addr == BASE else None

    def request_restart(self) -> None:
        self._restart = True
        self.uc.emu_stop()

    def stop(self, reason: BaseException | None = None) -> None:
        if reason is not None and self._stop_reason is None:
            self._stop_reason = reason
        self._stopped = True
        self.uc.emu_stop()

    def run(self) -> None:
        pc = BASE | (1 if self.thumb else 0)
        while True:
            self._restart = False
            self.uc.emu_start(pc, self.end)
            if self._stopped:
                break
            if self._restart:
                self.restarts += 1
                pc = self.uc.reg_read(self.arch.pc)
                if self.thumb:
                    pc |= 1
                continue
            break
        if self._stop_reason is not None:
            raise self._stop_reason


def new_session(machine: Any, *, on_plugin_error: str = "stop") -> Session:
    log = PluginLog(stream=io.StringIO())
    session = Session(log=log, target_name=machine.arch.qemu_target)
    session.machine = machine
    session.instrumentation = Instrumentation(session, machine, on_plugin_error=on_plugin_error)
    return session


def instrumentation(session: Session) -> Instrumentation:
    """The session's instrumentation, as the engine whose internals the tests look at
    (the session itself holds it through a port)."""
    instr = session.instrumentation
    assert isinstance(instr, Instrumentation)
    return instr


def machine_of(session: Session) -> Any:
    """The session's machine as the test made it (a snippet or a loaded guest)."""
    return session.machine


def add_plugin(
    session: Session,
    name: str,
    install: Callable[[int], None] | None = None,
    **hooks: Callable[..., Any],
) -> LoadedPlugin:
    """Add a plugin called ``name`` whose hook implementations are ``hooks``; then run
    ``install(id)`` as its install function would."""
    module = types.ModuleType(f"test_plugin_{name}")
    from qpp_core.hookspecs import hookimpl

    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(_as_function(fn)))
    spec = PluginSpec(
        name=name, module=module.__name__, dist_name=f"test-{name}", dist_version="0", api_version=2
    )
    plugin = LoadedPlugin(
        id=session.new_id(), spec=spec, module=module, args=PluginArgs(), exports={}
    )
    session.pm.register(module, name=name)
    session.add(plugin)
    if install is not None:
        with running_plugin(plugin):
            install(plugin.id)
    plugin.installed = True
    return plugin


def _as_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A plain function with ``fn``'s parameters (pluggy marks functions, not methods)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def log_text(session: Session) -> str:
    stream = session.log._stream
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()
