"""The Dask executor on a LocalCluster (``--dask local``): the same records and merged
results as the local pool. Skipped without Dask (``pip install 'qpp-core[dask]'``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from batchtools import COMPUTE, HELLO, batch, by_index, merged

pytest.importorskip("distributed")


def _jobs(folder: Path) -> Path:
    lines = [{"program": HELLO, "args": [f"arg{i}"]} for i in range(4)]
    lines += [{"program": COMPUTE, "args": ["1"]}, {"program": str(folder / "missing")}]
    path = folder / "jobs.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _comparable(results: Path) -> list[tuple[str, str, int | None, int | None]]:
    return [(r["id"], r["status"], r["exit_code"], r["insns"]) for r in by_index(results)]


def test_local_cluster_gives_what_the_local_pool_gives(in_tmp: Path) -> None:
    jobs = str(_jobs(in_tmp))
    common = ["-p", "insn", "-p", "drcov", "--jobs", jobs]
    assert batch(*common, "--results", "pool") == 1
    assert batch(*common, "--results", "dask", "--dask", "local", "--workers", "2") == 1
    assert _comparable(in_tmp / "dask") == _comparable(in_tmp / "pool")
    assert merged(in_tmp / "dask", "insn") == merged(in_tmp / "pool", "insn")
    assert merged(in_tmp / "dask", "drcov") == merged(in_tmp / "pool", "drcov")
    pool_cover = (in_tmp / "pool/merged/drcov.trace").read_bytes()
    assert (in_tmp / "dask/merged/drcov.trace").read_bytes() == pool_cover
    for row in by_index(in_tmp / "dask"):  # the job's files came back from the worker
        if row["status"] == "ok":
            text = (in_tmp / "dask" / row["stdout"]).read_text()
            assert text.startswith(("Hello from the qpp guest!", "compute: rounds 1"))
            assert (in_tmp / "dask" / f"jobs/{row['id']}/file.drcov.trace").stat().st_size > 0
    missing = by_index(in_tmp / "dask")[-1]
    assert missing["status"] == "error" and "no such file" in missing["message"]


@pytest.mark.slow
def test_unreachable_scheduler_is_one_line(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert batch("--dask", "tcp://127.0.0.1:1", HELLO) == 84
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("qpp: error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")


def test_without_dask_the_error_says_what_to_install(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    assert batch("--dask", "local", HELLO) == 2
    err = capsys.readouterr().err
    assert err == "qpp: error: --dask needs Dask distributed: pip install 'qpp-core[dask]'\n"
