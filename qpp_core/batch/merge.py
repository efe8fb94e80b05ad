"""Merging: each plugin's ``qpp_batch_merge`` hook over every job's data, in job order.

Runs in the batch's own process, with no guest and no session: the plugin modules are
registered on a plain pluggy manager with qpp's hook specifications, so a third-party
plugin's merge is called exactly as a core plugin's. Outputs go to ``RESULTS/merged``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pluggy

from qpp_core import hookspecs
from qpp_core.batch.records import write_json_atomic
from qpp_core.errors import PluginRuntimeError
from qpp_core.session import describe


def merge_all(
    plugins: Sequence[tuple[str, Any]], records: Sequence[dict[str, Any]], directory: Path
) -> dict[str, Any]:
    """Merge per plugin; returns ``{plugin: what its merge wrote}`` for the summary.

    ``records`` must be in job order. A plugin without a merge hook, or without data
    from any job, is left out. A merge that raises is reported by name.
    """
    directory.mkdir(parents=True, exist_ok=True)
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    outputs: dict[str, Any] = {}
    for name, module in plugins:
        if not pm.is_registered(module):
            pm.register(module, name=name)
        impls = [i for i in pm.hook.qpp_batch_merge.get_hookimpls() if i.plugin is module]
        results = [
            (str(record["id"]), record["data"][name])
            for record in records
            if name in (record.get("data") or {})
        ]
        if not impls or not results:
            continue
        kwargs: dict[str, Any] = {"results": results, "directory": str(directory)}
        impl = impls[0]
        try:
            merged = impl.function(*(kwargs[arg] for arg in impl.argnames))
            json.dumps(merged)
        except Exception as exc:
            raise PluginRuntimeError(
                f"plugin {name} raised in qpp_batch_merge: {describe(exc)}"
            ) from exc
        write_json_atomic(directory / f"{name}.json", merged)
        outputs[name] = f"merged/{name}.json"
    return outputs
