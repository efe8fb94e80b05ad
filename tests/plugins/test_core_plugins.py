"""The core's standard plugins on the project's guests, each checked against a source
that does not come from the plugin itself: qemu-user's ``-strace`` (encoded below), the
guests' sources (memloop's exact counts), another plugin in the same run, or the
published drcov layout read back by an independent reader."""

from __future__ import annotations

import importlib.util
import re
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from qpp_core.guests import (
    ARCHES,
    MEMLOOP_INSNS,
    MEMLOOP_ITERATIONS,
    MEMLOOP_LOADS,
    MEMLOOP_STORES,
    guest_path,
)
from qpp_core.linux.syscalls.numbers import NUMBERS

#: hello's syscalls as ``qemu-ARCH -strace`` (qemu 7.2) shows them: name -> (calls, errors);
#: a line ``Unknown syscall N`` or ``= -1 errno=`` is an error.
QEMU_HELLO_SYSCALLS: dict[str, dict[str, tuple[int, int]]] = {
    "x86_64": {
        "write": (6, 0),
        "arch_prctl": (1, 0),
        "set_tid_address": (1, 0),
        "exit_group": (1, 0),
    },
    "aarch64": {
        "write": (6, 0),
        "readlinkat": (1, 0),
        "exit_group": (1, 0),
        "set_tid_address": (1, 0),
        "set_robust_list": (1, 1),
        "brk": (5, 0),
        "mprotect": (1, 0),
        "prlimit64": (1, 0),
        "getrandom": (1, 0),
        "rseq": (1, 1),
    },
    "arm": {
        "write": (6, 0),
        "brk": (5, 0),
        "readlink": (1, 0),
        "mprotect": (1, 0),
        "ugetrlimit": (1, 0),
        "exit_group": (1, 0),
        "set_tid_address": (1, 0),
        "set_robust_list": (1, 1),
        "getrandom": (1, 0),
        "rseq": (1, 1),
    },
    "riscv64": {
        "write": (6, 0),
        "readlinkat": (1, 0),
        "exit_group": (1, 0),
        "set_tid_address": (1, 0),
        "set_robust_list": (1, 1),
        "brk": (5, 0),
        "mprotect": (1, 0),
        "prlimit64": (1, 0),
        "getrandom": (1, 0),
    },
    "mipsel": {
        "write": (6, 0),
        "brk": (5, 0),
        "getrlimit": (1, 0),
        "readlink": (1, 0),
        "exit_group": (1, 0),
        "set_tid_address": (1, 0),
        "set_thread_area": (1, 0),
        "set_robust_list": (1, 1),
        "getrandom": (1, 0),
        "rseq": (1, 1),
    },
}
#: qemu's -strace (and its syscall plugin) does not see arm's private set_tls (0xf0005):
#: qemu's arm cpu loop handles it before the syscall layer; qpp reports it.
QPP_EXTRA = {"arm": {"set_tls": (1, 0)}}


def _table(log: str) -> dict[int, tuple[int, int]]:
    lines = log.splitlines()
    lines = lines[lines.index("syscall no.  calls errors") :]
    out = {}
    for line in lines[1:]:
        m = re.fullmatch(r"(\d+) +(\d+) +(\d+)", line)
        assert m, line
        out[int(m[1])] = (int(m[2]), int(m[3]))
    return out


def _insn_total(log: str) -> int:
    m = re.search(r"^total insns: (\d+)$", log, re.M)
    assert m, log
    return int(m[1])


def _hotblocks(log: str) -> list[tuple[int, int, int, int]]:
    rows = []
    for line in log.splitlines():
        m = re.fullmatch(r"0x([0-9a-f]{16}), (\d+), (\d+), (\d+)", line)
        if m:
            rows.append((int(m[1], 16), int(m[2]), int(m[3]), int(m[4])))
    return rows


# --- syscall ------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHES)
def test_syscall_table_matches_qemu_strace(qpp_run: Any, arch: str) -> None:
    run = qpp_run("hello", arch, "syscall")
    assert run.status == 0, run.stderr
    expected = dict(QEMU_HELLO_SYSCALLS[arch], **QPP_EXTRA.get(arch, {}))
    numbers = {name: nr for nr, name in NUMBERS[arch].items()}
    assert _table(run.log) == {numbers[name]: v for name, v in expected.items()}
    counts = [int(line.split()[1]) for line in run.log.splitlines()[1:]]
    assert counts == sorted(counts, reverse=True)  # most called first, as QEMU sorts


def test_syscall_print_logs_each_call_and_result(qpp_run: Any) -> None:
    run = qpp_run("hello", "x86_64", "syscall,print=true")
    lines = run.log.splitlines()
    calls = sum(c for c, _ in QEMU_HELLO_SYSCALLS["x86_64"].values())
    assert len([x for x in lines if re.fullmatch(r"syscall #\d+", x)]) == calls
    assert "syscall #1 returned -> 26" in lines  # the greeting's write
    assert "syscall no." not in run.log


# --- hotblocks ----------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["x86_64", "arm", "mipsel"])
def test_hotblocks_totals_equal_insn_totals(qpp_run: Any, arch: str) -> None:
    run = qpp_run("hello", arch, "hotblocks,limit=0", "insn")
    rows = _hotblocks(run.log)
    m = re.search(r"collected (\d+) entries", run.log)
    assert m and int(m[1]) == len(rows)
    assert sum(icount * ecount for _, _, icount, ecount in rows) == _insn_total(run.log)
    assert [r[3] for r in rows] == sorted((r[3] for r in rows), reverse=True)


@pytest.mark.parametrize("arch", ARCHES)
def test_hotblocks_on_memloop_counts_the_source_exactly(qpp_run: Any, arch: str) -> None:
    run = qpp_run("memloop", arch, "hotblocks,inline=on,limit=0")
    rows = _hotblocks(run.log)
    assert sum(ic * ec for _, _, ic, ec in rows) == MEMLOOP_INSNS[arch]
    assert rows[0][3] in (MEMLOOP_ITERATIONS - 1, MEMLOOP_ITERATIONS)  # the loop body


def test_hotblocks_default_limit_is_qemus_20(qpp_run: Any) -> None:
    run = qpp_run("hello", "x86_64", "hotblocks")
    assert len(_hotblocks(run.log)) == 20
    assert run.log.splitlines()[1] == "pc, tcount, icount, ecount"


# --- drcov --------------------------------------------------------------------------------


def read_drcov(
    data: bytes,
) -> tuple[dict[str, str], list[dict[str, str]], list[tuple[int, int, int]]]:
    """An independent reader of DynamoRIO's drcov version 2 layout: text header lines,
    ``Module Table: version 2, count N``, a ``Columns:`` line, N module rows, then
    ``BB Table: M bbs`` and M packed ``{u32 start; u16 size; u16 mod_id}`` records."""
    pos = 0
    header: dict[str, str] = {}

    def line() -> str:
        nonlocal pos
        end = data.index(b"\n", pos)
        text = data[pos:end].decode()
        pos = end + 1
        return text

    for key in ("DRCOV VERSION", "DRCOV FLAVOR"):
        k, _, v = line().partition(": ")
        assert k == key
        header[k] = v
    m = re.fullmatch(r"Module Table: version (\d+), count (\d+)", line())
    assert m and m[1] == "2"
    cols = [c.strip() for c in line().removeprefix("Columns: ").split(",")]
    modules = [
        dict(zip(cols, (v.strip() for v in line().split(",", len(cols) - 1)), strict=True))
        for _ in range(int(m[2]))
    ]
    m = re.fullmatch(r"BB Table: (\d+) bbs", line())
    assert m
    count = int(m[1])
    body = data[pos:]
    assert len(body) == 8 * count
    blocks = [struct.unpack_from("<IHH", body, 8 * i) for i in range(count)]
    return header, modules, blocks


@pytest.mark.parametrize("arch", ARCHES)
def test_drcov_lists_exactly_the_executed_blocks(qpp_run: Any, arch: str) -> None:
    run = qpp_run("hello", arch, "drcov,filename=cov.drcov", "hotblocks,limit=0")
    assert run.status == 0, run.stderr
    header, modules, blocks = read_drcov((qpp_run.tmp / "cov.drcov").read_bytes())
    assert header["DRCOV VERSION"] == "2"
    (mod,) = modules
    assert mod["id"] == "0"
    assert Path(mod["path"]) == guest_path("hello", arch).resolve()
    base, end, entry = (int(mod[k], 16) for k in ("base", "end", "entry"))
    assert base <= entry < end
    assert all(mod_id == 0 and size > 0 for _, size, mod_id in blocks)
    starts = [base + off for off, _, _ in blocks]
    assert all(
        base <= s and s + size <= end for s, (_, size, _) in zip(starts, blocks, strict=True)
    )
    executed = {pc for pc, _, _, ecount in _hotblocks(run.log) if ecount and base <= pc < end}
    assert set(starts) == executed  # every listed block ran, every block that ran is listed
    assert len(starts) == len(set(starts))


def test_drcov_unwritable_file_is_one_line_error(qpp_run: Any) -> None:
    run = qpp_run("hello", "x86_64", "drcov,filename=/nonexistent-dir/x.drcov")
    assert run.status != 0
    assert "cannot write /nonexistent-dir/x.drcov" in run.stderr
    assert "Traceback" not in run.stderr


# --- stoptrigger and execlog --------------------------------------------------------------


def _execlog(log: str) -> list[str]:
    return [x for x in log.splitlines() if re.match(r"0, 0x[0-9a-f]+, 0x[0-9a-f]+, \"", x)]


@pytest.mark.parametrize("arch", ARCHES)
def test_execlog_on_memloop_matches_the_source(qpp_run: Any, arch: str) -> None:
    lines = _execlog(qpp_run("memloop", arch, "execlog").log)
    assert len(lines) == MEMLOOP_INSNS[arch]
    assert sum(x.count(", load, 0x") for x in lines) == MEMLOOP_LOADS
    assert sum(x.count(", store, 0x") for x in lines) == MEMLOOP_STORES


def test_execlog_filters_and_registers(qpp_run: Any) -> None:
    run = qpp_run("memloop", "x86_64", "execlog,ifilter=dword ptr,reg=rax")
    assert run.status == 0, run.stderr
    log = run.log
    lines = _execlog(log)
    assert len(lines) == MEMLOOP_LOADS + MEMLOOP_STORES
    assert "  rax -> 0x3e8" in log.splitlines()  # the counter's last value (1000)
    first = _execlog(qpp_run("memloop", "x86_64", "execlog").log)[0]
    addr = first.split(", ")[1]
    only = _execlog(qpp_run("memloop", "x86_64", f"execlog,afilter={addr}").log)
    assert only == [first]


def test_stoptrigger_icount_stops_before_the_first_syscall(qpp_run: Any) -> None:
    lines = _execlog(qpp_run("hello", "x86_64", "execlog").log)
    n = next(i for i, x in enumerate(lines) if x.endswith('"syscall"'))
    pc = lines[n].split(", ")[1]
    run = qpp_run("hello", "x86_64", f"stoptrigger,icount={n}:7", "syscall")
    assert run.status == 7
    assert f"icount reached at {pc}, exiting" in run.log
    assert _table(run.log) == {}  # the syscall never ran
    assert run.stdout == ""


@pytest.mark.parametrize("arch", ["x86_64", "riscv64"])
@pytest.mark.parametrize("back", [1, 2, 7])
def test_stoptrigger_icount_names_the_next_instruction(qpp_run: Any, arch: str, back: int) -> None:
    n = MEMLOOP_INSNS[arch] - back
    lines = _execlog(qpp_run("memloop", arch, "execlog").log)
    run = qpp_run("memloop", arch, f"stoptrigger,icount={n}:5", "syscall")
    assert run.status == 5
    assert f"icount reached at {lines[n].split(', ')[1]}, exiting" in run.log
    assert _table(run.log) == {}  # memloop's only syscall, exit, never ran


def test_stoptrigger_addr_exits_with_its_code(qpp_run: Any) -> None:
    lines = _execlog(qpp_run("hello", "x86_64", "execlog").log)
    write = [x for x in lines if x.endswith('"syscall"')][1]  # the greeting's write
    addr = write.split(", ")[1]
    run = qpp_run("hello", "x86_64", f"stoptrigger,addr={addr}:9")
    assert run.status == 9
    assert f"{addr} reached, exiting" in run.log
    assert run.stdout == ""
    assert qpp_run("hello", "x86_64", "stoptrigger,addr=0x1:9").status == 0  # never reached


# --- hotpages and howvec ------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["x86_64", "aarch64", "mipsel"])
def test_hotpages_on_memloop(qpp_run: Any, arch: str) -> None:
    log = qpp_run("memloop", arch, "hotpages").log
    rows = [line.split(", ") for line in log.splitlines()[1:]]
    assert log.splitlines()[0] == "Addr, RCPUs, Reads, WCPUs, Writes"
    assert sum(int(r[2]) for r in rows) == MEMLOOP_LOADS
    assert sum(int(r[4]) for r in rows) == MEMLOOP_STORES
    assert len(rows) == 1 and rows[0][1] == rows[0][3] == "0x0001"


@pytest.mark.parametrize("arch", ["x86_64", "aarch64", "riscv64"])
def test_howvec_classes_add_up_to_the_insn_count(qpp_run: Any, arch: str) -> None:
    log = qpp_run("hello", arch, "howvec,limit=1000", "insn").log
    classes = {m[1]: int(m[2]) for m in re.finditer(r"^Class: (\S+) +\t\((\d+) hits\)", log, re.M)}
    instrs = [int(m[1]) for m in re.finditer(r"^Instr: .+?\t\((\d+) hits\)", log, re.M)]
    total = _insn_total(log)
    assert sum(classes.values()) == sum(instrs) == total
    syscalls = sum(c for c, _ in QEMU_HELLO_SYSCALLS[arch].values())
    assert classes["System"] == syscalls
    assert classes["Branches"] > 0


# --- arguments and help -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "needle"),
    [
        ("hotblocks,colour=1", "has no argument 'colour'; it accepts: inline=<bool"),
        ("hotblocks,limit=many", "limit=many: expected an integer"),
        ("syscall,print=maybe", "print=maybe: expected one of on, off"),
        ("stoptrigger,icount=12x", "expected a count, optionally followed by :EXIT_CODE"),
        ("hotpages,pagesize=1000", "expected a power of two"),
        ("hotpages,sortby=size", "expected reads, writes or address"),
        ("execlog,afilter=zz", "it accepts: afilter="),
        pytest.param(
            "strace,strsize=x",
            "it accepts: strsize=<int, default 32>, trace=",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("qpp_strace") is None, reason="qpp-strace not installed"
            ),
        ),
    ],
)
def test_bad_arguments_fail_before_the_guest_starts(qpp_run: Any, plugin: str, needle: str) -> None:
    run = qpp_run("hello", "x86_64", plugin)
    assert run.status == 77
    assert needle in run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert run.stdout == ""  # the guest never ran


PLUGINS = [
    "insn",
    "bb",
    "mem",
    "syscall",
    "hotblocks",
    "hotpages",
    "howvec",
    "execlog",
    "drcov",
    "stoptrigger",
    "cache",
]
# the QPP pair lives in its own distributions, installed only in some environments
PLUGINS += [
    name
    for name, module in (("syscalls", "qpp_syscalls"), ("strace", "qpp_strace"))
    if importlib.util.find_spec(module) is not None
]


@pytest.mark.parametrize("name", PLUGINS)
def test_help_describes_the_plugin_and_its_arguments(name: str) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "qpp_core", "help", name], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) > 3


def test_every_plugin_is_listed() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "qpp_core", "list"], capture_output=True, text=True, timeout=60
    ).stdout
    names = Counter(line.split()[0] for line in out.splitlines()[1:] if line.strip())
    for name in PLUGINS:
        assert names[name] == 1, out
