"""Debian's busybox counts exactly the instructions it counts under qemu-user.

qemu-user's counts (``insns.tsv``) were recorded by ``insncounts.py``, which says how
both sides run busybox. Each run here is a subprocess on the native backend; ``true``
also on the Python backend, whose inline operations must agree exactly.
"""

from __future__ import annotations

import pytest
from thirdparty.insncounts import ARCHES, RUNS, expected, key, qpp_count

EXPECTED = expected()


@pytest.mark.parametrize("args", RUNS, ids=key)
@pytest.mark.parametrize("arch", ARCHES)
def test_busybox_counts_as_under_qemu(arch: str, args: tuple[str, ...]) -> None:
    _out, count = qpp_count(arch, args, "native")
    assert count == EXPECTED[key(args), arch]


@pytest.mark.parametrize("arch", ARCHES)
def test_busybox_counts_as_under_qemu_python_backend(arch: str) -> None:
    _out, count = qpp_count(arch, ("true",), "python")
    assert count == EXPECTED["true", arch]
