"""A thread woken by the switch it blocked for runs on once, from where it slept.

thr_shortsleep's threads sleep for a nanosecond, so the deadline has passed when the
scheduler looks at the blocked threads during the very switch the sleep asked for. The
scheduler once queued such a thread twice (woken, then requeued as the thread that
stopped), so it later ran again from a stale saved state: stack smashing, crashes and
silent exits on every target, in both scheduling modes. Under heavy host load ordinary
sleeps (thr_sync's ``usleep``) hit the same path now and then; this guest hits it every
time, and runs in a fraction of a second, so it is in the fast set.
"""

from __future__ import annotations

import pytest
from linux.guestrun import ARCHES, expected, qpp_run_guest


@pytest.mark.parametrize("sched", ["timeslice", "deterministic"])
@pytest.mark.parametrize("arch", ARCHES)
def test_a_sleep_over_before_the_switch_resumes_once(arch: str, sched: str) -> None:
    status, out, err = qpp_run_guest("thr_shortsleep", arch, options=("-sched", sched))
    assert (status, err) == (0, "")
    assert out == expected("thr_shortsleep")
