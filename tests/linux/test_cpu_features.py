"""The guest is told exactly what it can run: every advertised CPU feature executes.

``tests/guests/src/cpu_features.c`` reads CPUID (x86_64, through ``__builtin_cpu_supports``
and the raw bits) or AT_HWCAP/AT_HWCAP2 and executes one instruction of each advertised
feature; an advertised feature that traps is a failure (qpp ends the guest with SIGILL, so
a missing ``ok`` line shows it too). Where qemu-user 7.2 advertises the same features the
output is equal to qemu's; where qemu advertises more (x86_64 AVX/FMA, aarch64 SVE2,
pointer authentication, MTE), qpp's features are a subset of qemu's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from linux.guestrun import ARCHES, run_guest

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"


def _features(binary: str) -> str:
    return str(BIN / f"{binary}")


def _advertised(stdout: str) -> set[str]:
    lines = stdout.splitlines()[1:-1]
    return {line.split()[0] for line in lines if not line.endswith(" no")}


@pytest.mark.parametrize("arch", ARCHES)
def test_advertised_features_execute(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, _features(f"cpu_features.{arch}"))
    assert (r.status, r.signal) == (0, None), r.stdout + r.stderr
    assert r.stdout.splitlines()[-1] == "ok"
    assert "TRAPS" not in r.stdout


def _lines(stdout: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in stdout.splitlines()[1:-1])


def test_x86_64_default_has_sse4_not_avx(capfd: pytest.CaptureFixture[str]) -> None:
    lines = _lines(run_guest(capfd, _features("cpu_features.x86_64")).stdout)
    for name in ("ssse3", "sse4.1", "sse4.2", "popcnt", "adx", "aes", "pclmul", "bmi2"):
        assert lines[name] == "yes", name
    for name in ("avx", "avx2", "fma", "f16c", "avx512f", "osxsave"):
        assert lines[name] == "no", name


@pytest.mark.parametrize("cpu", ["qemu64", "skylake_client", "epyc_rome", "max"])
def test_x86_64_models_execute_what_they_advertise(
    cpu: str, capfd: pytest.CaptureFixture[str]
) -> None:
    r = run_guest(capfd, _features("cpu_features.x86_64"), cpu=cpu)
    assert r.status == 0 and r.stdout.endswith("ok\n"), r.stdout


def test_aarch64_sve_without_sve2_or_pointer_auth(capfd: pytest.CaptureFixture[str]) -> None:
    lines = _lines(run_guest(capfd, _features("cpu_features.aarch64")).stdout)
    assert lines["sve"] == lines["atomics"] == lines["sha3"] == "yes"
    for name in ("sve2", "paca", "pacg", "mte", "sme", "i8mm", "bf16"):
        assert lines[name] == "no", name


def _qemu(arch: str, binary: str) -> str:
    if shutil.which(f"qemu-{arch}") is None:
        pytest.skip(f"qemu-{arch} not installed")
    return subprocess.run([f"qemu-{arch}", binary], capture_output=True, text=True).stdout


@pytest.mark.parametrize("arch", ARCHES)
def test_features_against_qemu(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    """Equal to qemu-user where the CPUs agree; elsewhere a subset of qemu's features."""
    binary = _features(f"cpu_features.{arch}")
    theirs = _qemu(arch, binary)
    ours = run_guest(capfd, binary).stdout
    if arch in ("arm", "riscv64", "mipsel"):
        assert ours == theirs
    else:
        assert _advertised(ours) <= _advertised(theirs)
        assert _advertised(ours) != _advertised(theirs)  # qemu's default has AVX / SVE2


@pytest.mark.parametrize(
    ("arch", "model"),
    [
        ("aarch64", "cortex-a53"),
        ("aarch64", "cortex-a57"),
        ("aarch64", "cortex-a72"),
        ("arm", "cortex-a7"),
        ("arm", "cortex-a8"),
        ("arm", "cortex-a9"),
        ("arm", "cortex-a15"),
    ],
)
def test_other_models_advertise_as_qemus(
    arch: str, model: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """A named model's HWCAPs are qemu-user's for that model, and all of it executes."""
    binary = _features(f"cpu_features.{arch}")
    r = run_guest(capfd, binary, cpu=model)
    assert r.status == 0 and r.stdout.endswith("ok\n"), r.stdout
    if shutil.which(f"qemu-{arch}"):
        q = subprocess.run([f"qemu-{arch}", "-cpu", model, binary], capture_output=True, text=True)
        assert r.stdout == q.stdout


def _qpp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qpp_core", "run", *args], capture_output=True, text=True
    )


def test_cpu_help_lists_every_architecture() -> None:
    r = _qpp("-cpu", "help")
    assert r.returncode == 0
    for arch in ARCHES:
        assert f"  {arch}: max (default), " in r.stdout
    assert "qemu64" in r.stdout


def test_unknown_cpu_is_a_bad_command_line() -> None:
    r = _qpp("-cpu", "nonexistent", _features("cpu_features.x86_64"))
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "qpp: error: -cpu nonexistent: no such CPU model for x86_64; `-cpu help` lists the models"
    ]
    assert r.stdout == ""


@pytest.mark.parametrize("arch", ARCHES)
def test_cpu_max_is_accepted(arch: str, capfd: pytest.CaptureFixture[str]) -> None:
    r = run_guest(capfd, _features(f"cpu_features.{arch}"), cpu="max")
    assert r.status == 0 and r.stdout.endswith("ok\n")
