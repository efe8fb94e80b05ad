"""The merge hooks: what each core plugin merges matches what it printed per job, and a
third-party plugin's hooks are called the same way."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from batchtools import COMPUTE, HELLO, batch, by_index, merged, summary
from fakesite import FakeSite

PLUGINS = ["syscall", "hotblocks,limit=0", "howvec,limit=1000", "hotpages", "mem", "bb"]


def _logs(results: Path) -> list[str]:
    return [(results / row["plugin_log"]).read_text() for row in by_index(results)]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("merge")
    jobs = folder / "jobs.jsonl"
    lines = [{"program": HELLO, "args": ["a"]}, {"program": HELLO, "args": ["b", "c"]}]
    lines.append({"program": COMPUTE, "args": ["1"]})
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = [item for plugin in PLUGINS for item in ("-p", plugin)]
    status = batch(*args, "--results", str(folder / "r"), "--jobs", str(jobs))
    assert status == 0
    return folder / "r"


def test_syscall_counts_are_summed(results: Path) -> None:
    total: Counter[int] = Counter()
    errors: Counter[int] = Counter()
    for log in _logs(results):
        for num, calls, errs in re.findall(r"^(\d+) +(\d+) +(\d+)$", log, flags=re.M):
            total[int(num)] += int(calls)
            errors[int(num)] += int(errs)
    table = merged(results, "syscall")["syscalls"]
    assert {int(k): v for k, v in table.items()} == {
        num: [total[num], errors[num]] for num in total
    }
    counts = [calls for calls, _ in table.values()]
    assert counts == sorted(counts, reverse=True)


def test_bb_and_mem_counts_are_summed(results: Path) -> None:
    logs = _logs(results)
    bbs = [re.search(r"^bb's: (\d+), insns: (\d+)$", log, flags=re.M) for log in logs]
    accesses = [re.search(r"^callback mem accesses: (\d+)$", log, flags=re.M) for log in logs]
    assert all(bbs) and all(accesses)
    assert merged(results, "bb") == {
        "bbs": sum(int(m.group(1)) for m in bbs if m),
        "insns": sum(int(m.group(2)) for m in bbs if m),
        "jobs": 3,
    }
    assert merged(results, "mem") == {
        "callback": sum(int(m.group(1)) for m in accesses if m),
        "jobs": 3,
    }


def test_hotblocks_tables_are_summed(results: Path) -> None:
    want: Counter[tuple[int, int]] = Counter()
    for log in _logs(results):
        for pc, _, icount, ecount in re.findall(
            r"^0x([0-9a-f]{16}), (\d+), (\d+), (\d+)$", log, flags=re.M
        ):
            want[(int(pc, 16), int(icount))] += int(ecount)
    rows = merged(results, "hotblocks")["blocks"]
    assert {(pc, ic): ec for pc, _, ic, ec in rows} == dict(want)
    assert rows[0][3] == max(want.values())


def test_howvec_tables_are_summed(results: Path) -> None:
    classes: Counter[str] = Counter()
    mnemonics: Counter[str] = Counter()
    for log in _logs(results):
        for name, hits in re.findall(r"^Class: (\S+)\s+\((\d+) hits\)", log, flags=re.M):
            classes[name] += int(hits)
        for name, hits in re.findall(r"^Instr: (.+?) *\t\((\d+) hits\)", log, flags=re.M):
            mnemonics[name] += int(hits)
    data = merged(results, "howvec")
    assert {k: v for k, v in data["classes"].items() if v} == dict(classes)
    assert {m: hits for m, (hits, _) in data["mnemonics"].items()} == dict(mnemonics)


def test_hotpages_accesses_add_up_to_mem_counts(results: Path) -> None:
    accesses = sum(
        int(n) for log in _logs(results) for n in re.findall(r"callback mem accesses: (\d+)", log)
    )
    pages = merged(results, "hotpages")["pages"]
    assert sum(reads + writes for _, _, reads, _, writes in pages) == accesses
    assert len({page for page, *_ in pages}) == len(pages)


THIRD_PARTY = """
import os
from qpp_core import hookimpl, qemu_plugin_path_to_binary

qemu_plugin_version = 2

@hookimpl
def qpp_batch_result():
    return {"program": os.path.basename(qemu_plugin_path_to_binary())}

@hookimpl
def qpp_batch_merge(results, directory):
    names = [data["program"] for _, data in results]
    with open(os.path.join(directory, "tally.txt"), "w") as out:
        out.write("\\n".join(names) + "\\n")
    return {"ids": [job_id for job_id, _ in results], "programs": names}
"""

FAILING_MERGE = """
from qpp_core import hookimpl

qemu_plugin_version = 2

@hookimpl
def qpp_batch_result():
    return 1

@hookimpl
def qpp_batch_merge(results):
    raise ValueError("cannot merge")
"""


def test_a_third_party_plugin_merges_the_same_way(in_tmp: Path, site: FakeSite) -> None:
    site.plugin("tally", THIRD_PARTY)
    site.plugin("silent", '"""No merge hooks."""\nqemu_plugin_version = 2\n')
    jobs = in_tmp / "jobs.jsonl"
    jobs.write_text("".join(json.dumps({"program": p}) + "\n" for p in (COMPUTE, HELLO, COMPUTE)))
    assert batch("-p", "tally", "-p", "silent", "--jobs", str(jobs)) == 0
    rows = by_index(in_tmp / "qpp-batch")
    data = merged(in_tmp / "qpp-batch", "tally")
    assert data["ids"] == [row["id"] for row in rows]  # job order
    assert data["programs"] == ["compute.x86_64", "hello.x86_64", "compute.x86_64"]
    assert (in_tmp / "qpp-batch/merged/tally.txt").read_text().split() == data["programs"]
    assert summary(in_tmp / "qpp-batch")["merged"] == {"tally": "merged/tally.json"}
    assert rows[0]["data"] == {"tally": {"program": "compute.x86_64"}}


def test_a_failing_merge_is_named(
    in_tmp: Path, site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site.plugin("clumsy", FAILING_MERGE)
    assert batch("-p", "clumsy", HELLO) == 80
    err = capsys.readouterr().err
    assert err == (
        "qpp: error: plugin clumsy raised in qpp_batch_merge: ValueError: cannot merge\n"
    )
    assert len(by_index(in_tmp / "qpp-batch")) == 1  # the records stay; a resume merges
