"""Which instrumentation backend runs: the native fast path or pure Python.

The native backend is ``_fastpath.c``, compiled by ``pip install`` when the machine has a
C compiler and loaded here with ctypes. ``QPP_BACKEND=native|python`` forces one; by
default native is used when it was built. Both give identical results: they share every
Python data structure and differ only in who applies inline operations (see
:mod:`qpp_core.instrument.native`).

Scoreboard storage is chosen here too: with the native backend the running vCPU's slots
are a ctypes array of u64 (C memory the hooks write and Python reads without copies, wrapping
at 64 bits as QEMU's do); with the Python backend they are a list of ints.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from qpp_core.errors import BackendUnavailableError

ENV = "QPP_BACKEND"
NATIVE = "native"
PYTHON = "python"


class QppScore(ctypes.Structure):
    """``qpp_score``: one pointer per vCPU to that vCPU's slots."""

    _fields_ = (("bases", ctypes.POINTER(ctypes.POINTER(ctypes.c_uint64))), ("n", ctypes.c_uint32))


@lru_cache(maxsize=1)
def _load() -> tuple[Any, str]:
    """The loaded library (or ``None``) and why it is missing."""
    here = Path(__file__).parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = here / f"_fastpath{suffix}"
        if path.exists():
            try:
                lib = ctypes.CDLL(str(path))
            except OSError as exc:
                return None, f"cannot load {path.name}: {exc}"
            if lib.qpp_abi_version() != 4:
                return None, f"{path.name} is from another qpp version (reinstall qpp)"
            return lib, ""
    return None, "not built: no C compiler when qpp was installed"


def native_lib() -> Any:
    """The native library, or ``None``."""
    return _load()[0]


@lru_cache(maxsize=1)
def active() -> str:
    """The backend this process uses (``QPP_BACKEND`` read once)."""
    want = os.environ.get(ENV, "").strip().lower()
    if want not in ("", NATIVE, PYTHON):
        raise BackendUnavailableError(f"{ENV}={want!r} is not a backend: use 'native' or 'python'")
    if want == PYTHON:
        return PYTHON
    lib, why = _load()
    if lib is None:
        if want == NATIVE:
            raise BackendUnavailableError(f"{ENV}=native but the native fast path is {why}")
        return PYTHON
    return NATIVE


def describe() -> str:
    """One line for ``qpp --version``: the backend in use, and why when it is Python."""
    try:
        name = active()
    except BackendUnavailableError as exc:
        return f"instrumentation backend: unavailable ({exc})"
    if name == NATIVE:
        return "instrumentation backend: native (C fast path for inline operations)"
    why = "forced by QPP_BACKEND" if os.environ.get(ENV) else f"native fast path {_load()[1]}"
    return f"instrumentation backend: python ({why})"


def is_native() -> bool:
    return active() == NATIVE


_ARRAY_TYPES: dict[int, type[Any]] = {}


def new_slots(n: int) -> Any:
    """Storage for one vCPU's ``n`` scoreboard slots, zeroed."""
    if not is_native():
        return [0] * n
    cls = _ARRAY_TYPES.get(n)
    if cls is None:
        # a subclass, so that instances take attributes (``store``: see vcpus.ScoreboardStore)
        cls = _ARRAY_TYPES[n] = type(f"Slots{n}", (ctypes.c_uint64 * n,), {})
    return cls()


def new_cell() -> Any:
    """A one-slot cell (a snapshot the native hook writes, see ``plan.exact_conds``)."""
    return new_slots(1)
