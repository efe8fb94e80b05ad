"""Shared fixtures; the helpers they use live in :mod:`fakesite`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakesite import FakeSite, LogCapture

from qpp_core.discovery import finder
from qpp_core.session import Session

# Every `python -m qpp_core` the tests start runs the installed qpp, as a user's would (in
# tox: a non-editable install, with the native fast path that install built), not the
# source tree that `-m` finds first in the working directory (Python >= 3.11).
os.environ["PYTHONSAFEPATH"] = "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("native", "python"),
        default=None,
        help="instrumentation backend for this run and every qpp it starts (sets QPP_BACKEND)",
    )


def pytest_configure(config: pytest.Config) -> None:
    backend = config.getoption("--backend")
    if backend:  # before any engine is made; subprocesses inherit it
        os.environ["QPP_BACKEND"] = backend


def pytest_report_header(config: pytest.Config) -> str:
    from qpp_core.instrument.backend import describe

    return describe()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    """A fake site-packages on ``sys.path`` (modules importable), cleaned up after."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("QPP_CACHE_DIR", str(tmp_path / "cache"))
    before = set(sys.modules)
    monkeypatch.setattr(finder, "_cache", None)
    yield FakeSite(root)
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        if module is not None and str(getattr(module, "__file__", "")).startswith(str(root)):
            del sys.modules[name]


@pytest.fixture
def session() -> Iterator[Session]:
    """An active session with no guest (QPP and lifecycle need none)."""
    s = Session(log=LogCapture())
    with s.activate():
        yield s
        s.close()
