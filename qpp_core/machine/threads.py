"""Guest threads in one engine: each thread's CPU state, who runs, who waits, and why.

qpp runs every guest thread of a process in the one unicorn engine the process has, one
at a time. A thread that is not running keeps its CPU state as a unicorn context (every
register, the TLS registers included: x86_64's fs base, aarch64's tpidr_el0, arm's
TPIDRURO, riscv64's tp, mips' UserLocal). The machine switches threads between engine
runs, so never inside a block:

* when the running thread blocks (futex, a read of an empty pipe, a sleep, a wait for a
  child), ends, or yields;
* when its time slice is over: in the default ``timeslice`` mode a ticker thread ends the
  slice every :data:`QUANTUM_SECONDS` while another thread may need the CPU, through the
  machine's stop request (:mod:`.blockstop`: a block hook stops the engine at the next
  block start; the time slices are one of its sources, so there is one stop flag and at
  most one hook, none when the instrumentation's own block hook looks at the flag, and
  none at all in a single-threaded guest); in the ``deterministic`` mode the same stop
  request ends a slice after a fixed number of blocks (its ``budget``, counted down by the
  hook), so the interleaving is the same on every run for the same input, and a slice
  never ends inside a block (``-p insn`` counts what qemu-user counts).

Nothing here knows Linux: the Linux layer describes a wait (:class:`Wait`), and finishes a
woken thread's system call through :attr:`Threads.complete`. When no thread can run and
none waits for anything that can happen (a file descriptor, a deadline, a child), the
process is deadlocked: :meth:`Threads.deadlock_message` names every thread and its wait.
"""

from __future__ import annotations

import select
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .hostsig import GuestCallInterrupted, HostSignalInterrupt

if TYPE_CHECKING:
    from .run import Machine

#: the default mode's time slice
QUANTUM_SECONDS = 0.01
#: the deterministic mode's slice, in blocks (about 20,000 instructions)
QUANTUM_BLOCKS = 4096
#: the time-slice mode's slice in instructions, where the native block hook is not
#: available (a Python hook per block would cost more than unicorn's instruction count)
FALLBACK_INSNS = 2_000_000
#: the time slices' shortest life as a source of the machine's stop requests: they go at
#: the first engine stop where none are needed once they are that old (a worker running
#: alone while main waits in ``pthread_join`` runs without a hook at once), so threads that
#: keep waking each other do not have every translated block flushed at each wake-up
HOOK_MIN_SECONDS = QUANTUM_SECONDS
#: the time slices' name among the machine's stop request sources (:mod:`.blockstop`)
SLICES = "time slices"
#: how often a wait with a ``poll`` function is checked while nothing else can run
POLL_SECONDS = 0.01

SCHED_MODES = ("timeslice", "deterministic")


class Wait:
    """What a blocked thread waits for; ``what`` names it in a deadlock report.

    A plain slotted class rather than a dataclass, as :class:`GuestThread`: this module is
    on every run's start path, and a dataclass costs a millisecond of class creation.
    """

    __slots__ = (
        "bitset",
        "deadline",
        "key",
        "poll",
        "read_fd",
        "retry",
        "timeout_result",
        "what",
        "write_fd",
    )

    def __init__(
        self,
        what: str,
        key: int | None = None,
        bitset: int = 0xFFFFFFFF,
        deadline: float | None = None,
        timeout_result: int = 0,
        read_fd: int | None = None,
        write_fd: int | None = None,
        poll: Callable[[], bool] | None = None,
        retry: bool = False,
    ) -> None:
        self.what = what
        #: a futex: the address it waits on, and its bitset (FUTEX_WAIT_BITSET)
        self.key = key
        self.bitset = bitset
        #: ``time.monotonic()`` at which the wait ends with ``timeout_result`` (None: never)
        self.deadline = deadline
        self.timeout_result = timeout_result
        #: host fds whose readiness (read, write) ends the wait
        self.read_fd = read_fd
        self.write_fd = write_fd
        #: ends the wait when it returns True (asked at each switch and every POLL_SECONDS)
        self.poll = poll
        #: on waking, the system call runs again (a read), else ``result`` is its result
        self.retry = retry

    def __repr__(self) -> str:
        return f"Wait({self.what!r}, key={self.key}, deadline={self.deadline})"


class GuestThread:
    """One guest thread: its id, its vCPU index, its saved CPU state and its wait."""

    __slots__ = (
        "clear_tid",
        "ctx",
        "exited",
        "extra",
        "pending",
        "result",
        "retry",
        "started",
        "tid",
        "vcpu",
        "wait",
    )

    def __init__(self, tid: int, vcpu: int, ctx: Any = None, started: bool = False) -> None:
        self.tid = tid
        self.vcpu = vcpu
        self.ctx: Any = ctx  #: unicorn context while not running
        self.wait: Wait | None = None
        self.result = 0  #: the blocked system call's result, set by whoever woke it
        #: the system call this thread is in while it waits: (number, name, arguments)
        self.pending: tuple[int, str | None, Any] | None = None
        self.retry = False  #: the pending call runs again when the thread wakes
        self.clear_tid = 0  #: set_tid_address / CLONE_CHILD_CLEARTID
        self.started = started  #: vcpu_init was announced
        self.exited = False
        self.extra: dict[str, Any] = {}  #: the Linux layer's per-thread data

    def __repr__(self) -> str:
        return f"GuestThread(tid={self.tid}, vcpu={self.vcpu}, wait={self.wait!r})"


class VcpuObserver(Protocol):
    """The instrumentation layer: told which vCPU runs, starts and ends."""

    def switch_vcpu(self, index: int) -> None: ...
    def vcpu_started(self, index: int) -> None: ...
    def vcpu_ended(self, index: int) -> None: ...


class Threads:
    """The guest threads of one process and their scheduling (see the module docstring)."""

    def __init__(self, machine: Machine, main_tid: int, mode: str = "timeslice") -> None:
        self.m = machine
        self.mode = mode
        main = GuestThread(main_tid, 0, started=True)
        self.live: dict[int, GuestThread] = {main_tid: main}
        self.current = main
        self.runq: deque[GuestThread] = deque()
        self.blocked: list[GuestThread] = []
        self.futexes: dict[int, list[GuestThread]] = {}
        self.next_tid = main_tid + 1
        #: the running thread blocked, ended or yielded: switch when the engine stops
        self.switch_due = False
        #: the ticker ended the slice
        self.slice_over = False
        #: the Linux layer finishes a woken thread's system call (it is current then)
        self.complete: Callable[[GuestThread], None] | None = None
        #: the Linux layer swaps per-thread state (the signal mask) at a switch
        self.on_switch: Callable[[GuestThread, GuestThread], None] | None = None
        #: the Linux layer ends the waits of blocked threads that have a signal to take
        self.signal_check: Callable[[], None] | None = None
        self._ticker: threading.Thread | None = None
        self._ticking = False
        #: no native block hook: time slices are counted in instructions
        self._fallback = mode == "timeslice" and not machine.block_stop.native
        #: time slices were just asked for: switch threads at this engine stop
        self._install_pending = False
        #: ``time.monotonic()`` when time slices were last asked for
        self._slices_since = 0.0
        self.switches = 0

    # --- the engine's slice --------------------------------------------------------------

    @property
    def count(self) -> int:
        """How many threads are alive."""
        return len(self.live)

    def engine_count(self) -> int:
        """``count`` for ``emu_start``: the time slice in instructions where no native
        block hook ends it (0: unlimited)."""
        return FALLBACK_INSNS if self._fallback and self.count > 1 else 0

    def _needs_slices(self) -> bool:
        """Whether a thread other than the running one can become ready without the
        running one doing anything: one ready to run, or one waiting with a timeout, on
        a file descriptor or for a child. Threads waiting on futexes without a timeout
        only wake through the running thread's own system calls (exact stop points)."""
        if self.runq:
            return True
        return any(
            t.wait is not None
            and (t.wait.deadline is not None or t.wait.poll is not None or t.wait.key is None)
            for t in self.blocked
        )

    def _slices_wanted(self) -> bool:
        """Asked at every engine stop: keep ending time slices through the stop request?

        Each slice end costs a native call per block (the hook that looks at the flag), so
        a thread running alone (the others idle on futexes: a worker pool waiting for work,
        main in ``pthread_join``) runs without it; it comes back (translated blocks flushed
        each way) as soon as another thread may need the CPU (:meth:`_want_slices`). The
        deterministic mode keeps it while threads exist: when it goes must not depend on
        time."""
        if self.mode == "deterministic":
            return self.count > 1
        return self._needs_slices() or time.monotonic() - self._slices_since < HOOK_MIN_SECONDS

    def _want_slices(self) -> None:
        """From a system call (an exact stop point) or the scheduler (the engine is
        stopped): another thread may need the CPU, so time slices end from now on."""
        if self.current.exited or (self.mode == "timeslice" and self._fallback):
            return  # (an ending thread's wake-ups: the switch that follows decides)
        self._slices_since = time.monotonic()
        stops = self.m.block_stop
        if SLICES not in stops.sources:
            self._install_pending = True
            stops.add_source(SLICES, self._slices_wanted, self.m.uc)
        if self.mode != "timeslice":
            return
        if not self._ticking:
            self._ticking = True
            self._ticker = threading.Thread(target=self._tick, name="qpp-timeslice", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        stops = self.m.block_stop
        while self._ticking:
            time.sleep(QUANTUM_SECONDS)
            if self._ticking and len(self.live) > 1:
                self.slice_over = True
                stops.request_if_watched()

    def nudge(self) -> None:
        """From another host thread: have the engine stop at the next block boundary
        (something for a thread came: a timer's signal), as the time slice does."""
        self.slice_over = True
        if self.mode == "timeslice" and not self._fallback:
            # at the next block start when a block hook looks at the machine's stop
            # request (:mod:`.blockstop`; always so while time slices are needed)
            self.m.block_stop.request(self.m.uc)

    def stop_ticker(self) -> None:
        self._ticking = False

    # --- threads come and go -------------------------------------------------------------

    def spawn(self, ctx: Any) -> GuestThread:
        """A new thread (clone) with CPU state ``ctx``; it runs after the current one."""
        tid = self.next_tid
        self.next_tid += 1
        used = [t.vcpu for t in self.live.values()]
        thread = GuestThread(tid, max(used) + 1, ctx)  # as QEMU numbers CPUs
        self.live[tid] = thread
        self.runq.append(thread)
        self._want_slices()  # from the clone's hook
        if self.engine_count() and len(self.live) == 2:
            self.m.uc.emu_stop()  # the engine runs without a count while one thread lives
        return thread

    def exit_current(self) -> None:
        """The running thread ended (``exit``): the engine stops, another thread runs."""
        t = self.current
        t.exited = True
        del self.live[t.tid]
        observer = self.m.vcpu_observer
        if observer is not None and t.started:
            observer.vcpu_ended(t.vcpu)
        self.switch_due = True
        self.m.uc.emu_stop()

    def only_current(self) -> None:
        """After fork: the child has only the thread that forked."""
        t = self.current
        self.live = {t.tid: t}
        self.runq.clear()
        self.blocked.clear()
        self.futexes.clear()
        self._ticking = False
        self._ticker = None

    def find(self, tid: int) -> GuestThread | None:
        return self.live.get(tid)

    # --- blocking and waking -------------------------------------------------------------

    def block(self, wait: Wait, pending: tuple[int, str | None, Any]) -> None:
        """The running thread waits (inside its system call ``pending``)."""
        t = self.current
        t.wait = wait
        t.pending = pending
        t.retry = wait.retry
        t.result = 0
        if wait.key is not None:
            self.futexes.setdefault(wait.key, []).append(t)
        self.blocked.append(t)
        self.switch_due = True
        self.m.uc.emu_stop()

    def yield_current(self) -> None:
        """sched_yield: let the others run first (nothing happens when none can)."""
        if self.runq:
            self.switch_due = True
            self.m.uc.emu_stop()

    def wake(self, t: GuestThread, result: int, retry: bool | None = None) -> None:
        """End ``t``'s wait: its system call returns ``result`` (or runs again, as the
        wait said unless ``retry`` says otherwise: a signal ends a wait for good)."""
        wait = t.wait
        if wait is None:
            return
        if retry is not None:
            t.retry = retry
        if wait.key is not None:
            queue = self.futexes.get(wait.key)
            if queue is not None and t in queue:
                queue.remove(t)
                if not queue:
                    del self.futexes[wait.key]
        t.wait = None
        t.result = result
        self.blocked.remove(t)
        self.runq.append(t)
        self._want_slices()  # a futex wake (a hook) or the scheduler (engine stopped)

    def futex_waiters(self, key: int) -> list[GuestThread]:
        return list(self.futexes.get(key, ()))

    def requeue(self, t: GuestThread, key: int) -> None:
        """Move a futex waiter to another futex (FUTEX_REQUEUE)."""
        wait = t.wait
        assert wait is not None and wait.key is not None
        queue = self.futexes[wait.key]
        queue.remove(t)
        if not queue:
            del self.futexes[wait.key]
        wait.key = key
        wait.what = f"futex 0x{key:x}"
        self.futexes.setdefault(key, []).append(t)

    # --- switching -----------------------------------------------------------------------

    def after_run(self, natural: bool) -> bool:
        """The engine stopped: switch threads if due (True: the machine resumes the then
        current thread, or ends when a deadlock ended the guest). ``natural``: the engine
        returned by itself (a slice counted in instructions is over)."""
        if self.signal_check is not None:
            self.signal_check()
        due = self.switch_due or self.slice_over or self._install_pending
        self._install_pending = False
        pc = self.m.pc
        stops = self.m.block_stop
        if natural and (SLICES in stops.sources or self.engine_count()) and pc:
            due = True  # the slice ran out (a stop the ticker asked for may come late)
        if not due:
            return False
        self.switch_due = self.slice_over = False
        cur = self.current
        self._poll_blocked()
        # the poll (or the signal check above) may have woken ``cur`` itself: it is
        # queued once, never twice (a second entry would run it again from a stale state)
        if not cur.exited and cur.wait is None and cur not in self.runq:
            self.runq.append(cur)
        while True:
            while not self.runq:
                if not self._idle():
                    return True  # deadlock or a host signal: the guest ends
            nxt = self.runq.popleft()
            if nxt is not self.current:
                self._switch_to(nxt)
            if nxt.pending is not None and self.complete is not None:
                self.complete(nxt)
            if nxt.wait is None or self.m.exited is not None:
                break
            # its call waits again (another thread took what woke it: a pipe's byte, an
            # epoll event): it must not run on past the call; another thread runs
            self.switch_due = False
        if self._needs_slices():
            self._want_slices()  # e.g. a thread now sleeps while another computes
        self._install_pending = False
        if stops.sync_due or SLICES in stops.sources:
            stops.sync(self.m.uc)  # time slices wanted or not after the switch
        deterministic = self.mode == "deterministic" and SLICES in stops.sources
        stops.flag.budget = QUANTUM_BLOCKS if deterministic else 0
        return True

    def _switch_to(self, nxt: GuestThread) -> None:
        """The engine's registers become ``nxt``'s (the current thread's are kept)."""
        cur = self.current
        self.switches += 1
        uc = self.m.uc
        if not cur.exited:
            if cur.ctx is None:
                cur.ctx = uc.context_save()
            else:
                uc.context_update(cur.ctx)
        uc.context_restore(nxt.ctx)
        self.current = nxt
        if self.on_switch is not None:
            self.on_switch(cur, nxt)
        observer = self.m.vcpu_observer
        if observer is not None:
            observer.switch_vcpu(nxt.vcpu)
            if not nxt.started:
                observer.vcpu_started(nxt.vcpu)
        nxt.started = True

    def _poll_blocked(self, timeout: float = 0.0) -> None:
        """Wake the blocked threads that have a signal to take, whose fd is ready,
        deadline passed or poll says so."""
        if self.signal_check is not None:
            self.signal_check()
        if not self.blocked:
            return
        reads = [t.wait.read_fd for t in self.blocked if t.wait and t.wait.read_fd is not None]
        writes = [t.wait.write_fd for t in self.blocked if t.wait and t.wait.write_fd is not None]
        ready_r: list[int] = []
        ready_w: list[int] = []
        if reads or writes or timeout > 0:
            try:
                ready_r, ready_w = self._select(reads, writes, timeout)
            except OSError:  # a closed fd: let every fd waiter retry (it gets EBADF)
                ready_r, ready_w = reads, writes
        now = time.monotonic()
        for t in list(self.blocked):
            w = t.wait
            if w is None:
                continue
            if (
                (w.read_fd is not None and w.read_fd in ready_r)
                or (w.write_fd is not None and w.write_fd in ready_w)
                or (w.poll is not None and w.poll())
            ):
                self.wake(t, 0)
            elif w.deadline is not None and now >= w.deadline:
                self.wake(t, w.timeout_result)

    def _select(
        self, reads: list[int], writes: list[int], timeout: float
    ) -> tuple[list[int], list[int]]:
        """The host wait of :meth:`_poll_blocked`. While it waits (only then, never while
        threads' states change), a host signal may abandon it: one that ends the guest
        (HostSignalInterrupt, to :meth:`_idle`), or one for a guest handler (the wait just
        ends; the next look wakes the thread that takes it)."""
        self.m.in_syscall = timeout > 0
        try:
            if reads or writes:
                ready_r, ready_w, _ = select.select(reads, writes, [], timeout)
                return ready_r, ready_w
            time.sleep(timeout)
        except GuestCallInterrupted:
            pass
        finally:
            self.m.in_syscall = False
        return [], []

    def _idle(self) -> bool:
        """No thread can run: wait for one that can (True), or end the guest (False)."""
        waits = [t.wait for t in self.blocked if t.wait is not None]
        deadlines = [w.deadline for w in waits if w.deadline is not None]
        polls = any(w.poll is not None for w in waits)
        fds = any(w.read_fd is not None or w.write_fd is not None for w in waits)
        if not deadlines and not polls and not fds:
            self.m.deadlock(self.deadlock_message())
            return False
        # a host signal for a guest handler may come meanwhile: look again now and then
        timeout = POLL_SECONDS
        if deadlines:
            timeout = min(timeout, max(0.0, min(deadlines) - time.monotonic()))
        try:
            self._poll_blocked(timeout)
        except HostSignalInterrupt:
            return False
        return self.m.host_signal is None

    def deadlock_message(self) -> str:
        """One line naming each thread and what it waits on."""
        parts = []
        for t in sorted(self.live.values(), key=lambda t: t.vcpu):
            what = t.wait.what if t.wait is not None else "nothing"
            parts.append(f"thread {t.tid} (vcpu {t.vcpu}) waits on {what}")
        return "qpp: error: guest deadlock, every thread waits forever: " + "; ".join(parts)
