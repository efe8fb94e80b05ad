"""Test helpers: fake installed distributions (flake8's approach) and sessions.

:class:`FakeSite` writes ``NAME-VERSION.dist-info`` folders (METADATA, entry_points.txt)
and plugin modules into a temporary folder, exactly as pip would leave them, so discovery
and loading are tested on real metadata without installing anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from qpp_core.discovery.finder import Catalog, find_plugins
from qpp_core.discovery.resolve import resolve
from qpp_core.loading.loader import load_all
from qpp_core.log import PluginLog
from qpp_core.session import Session

#: which plugin distributions the current environment has installed: tox sets it per
#: environment ("core", "srv", "client"); unset means "whatever is installed"
INSTALL_SET = os.environ.get("QPP_INSTALL_SET", "")


class FakeSite:
    """A folder of fake installed distributions and their plugin modules."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def dist(
        self,
        dist: str,
        plugins: dict[str, str] | None = None,
        *,
        version: str = "1.0",
        api: dict[str, str] | None = None,
        uses: dict[str, str] | None = None,
        requires: Sequence[str] = (),
        modules: dict[str, str] | None = None,
    ) -> Path:
        """Write one distribution.

        ``plugins`` maps plugin name to module; ``api`` plugin name to version entry
        (``"v2"``); ``uses`` maps ``"user.used"`` to the providing distribution;
        ``modules`` maps module name to its source, written next to the metadata.
        """
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        metadata = ["Metadata-Version: 2.1", f"Name: {dist}", f"Version: {version}"]
        metadata += [f"Requires-Dist: {r}" for r in requires]
        (info / "METADATA").write_text("\n".join(metadata) + "\n")
        groups = {
            "qemu_plugins": plugins or {},
            "qemu_plugins.version": api or {},
            "qemu_plugins.uses": uses or {},
        }
        text = ""
        for group, entries in groups.items():
            if entries:
                text += f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items())
        (info / "entry_points.txt").write_text(text)
        for module, source in (modules or {}).items():
            (self.root / f"{module}.py").write_text(textwrap.dedent(source))
        return info

    def plugin(
        self,
        name: str,
        source: str = "",
        *,
        uses: Sequence[str] = (),
        api: str = "v2",
        dist: str | None = None,
    ) -> None:
        """A one-plugin distribution ``<name>-dist`` whose module is ``<name>_mod``."""
        dist = dist or f"{name.replace('_', '-')}-dist"
        self.dist(
            dist,
            {name: f"{name}_mod"},
            api={name: api} if api else None,
            uses={f"{name}.{u}": f"{u}_dist" for u in uses},
            requires=[f"{u.replace('_', '-')}-dist" for u in uses],
            modules={f"{name}_mod": source or '"""A test plugin."""\n'},
        )

    def catalog(self) -> Catalog:
        return find_plugins([str(self.root)])

    def run_qpp(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``qpp ARGS...`` in a subprocess that sees this site's plugins (and its own
        failure memory beside the site), run from the site's parent folder."""
        env = dict(
            os.environ, PYTHONPATH=str(self.root), QPP_CACHE_DIR=str(self.root.parent / "cache")
        )
        return subprocess.run(
            [sys.executable, "-m", "qpp_core", *args],
            cwd=self.root.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


class LogCapture(PluginLog):
    """A plugin log that keeps what plugins wrote."""

    def __init__(self) -> None:
        import io

        self.buffer = io.StringIO()
        super().__init__(stream=self.buffer)

    @property
    def text(self) -> str:
        return self.buffer.getvalue()


def log_text(session: Session) -> str:
    """What the plugins of a ``session`` fixture's session wrote (its log is a LogCapture)."""
    assert isinstance(session.log, LogCapture)
    return session.log.text


def load(
    session: Session,
    site: FakeSite,
    *names: str,
    args: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> None:
    """Resolve and load ``names`` from the fake site into ``session``."""
    catalog = site.catalog()
    load_all(session, resolve(catalog, list(names)), args or {})
