"""The syscall layer: decode a trapped syscall, run its handler, write the result back.

One :class:`LinuxKernel` serves one guest. It reads the number and arguments from the
registers of the architecture's ABI (plus the stack on mips o32), narrows them to their
declared C types as the kernel does (:mod:`qpp_core.abi.truncation`), lets the
instrumentation layer's observer see or skip the call, dispatches by name through the
per-ABI number table, and writes the result (mips: positive errno with a3 = 1).
"""

from __future__ import annotations

import errno
import os
import random
import struct
import sys
from collections import Counter
from functools import partial
from typing import TYPE_CHECKING, TextIO

from ...abi.numbers import numbers
from ...abi.truncation import apply as apply_casts
from ...abi.truncation import rows as cast_rows
from ...errors import QppError
from ...machine.arch.base import UcError
from ...machine.hostsig import GuestCallInterrupted
from . import abi
from .readiness import may_wait
from .registry import Args, handler

if TYPE_CHECKING:
    from ...machine import Machine
    from ..fs import FileView
    from ..memory import GuestMemory
    from ..options import GuestOptions
    from ..strace import Strace
    from .procself import ProcessImage

from .delivery import KEEP_REGISTERS, deliver_pending
from .futex import BLOCKED, MustWait
from .thread_signals import ERESTARTSYS, RESTART, rewind_to_syscall
from .threads import wait_for

if TYPE_CHECKING:
    from ...machine.threads import GuestThread, Threads, Wait


class LinuxKernel:
    """Linux syscall emulation for one guest program (see module docstring)."""

    def __init__(
        self,
        machine_arch_name: str,
        memory: GuestMemory,
        files: FileView,
        opts: GuestOptions,
        stderr: TextIO = sys.stderr,
    ) -> None:
        self.arch_name = machine_arch_name
        self.memory = memory
        self.files = files
        #: guest thread names (prctl PR_SET_NAME) by thread id: :mod:`.prctl`
        self.thread_names: dict[int, bytes] = {}
        self.opts = opts
        self.stderr = stderr
        #: where the program's arguments, environment and auxv are (:mod:`.procself`)
        self.image: ProcessImage | None = None
        self.table = numbers(machine_arch_name)
        self.unknown: Counter[int] = Counter()
        self.report_unimp = opts.strace or "unimp" in opts.debug
        self.rng = random.Random(opts.seed) if opts.seed is not None else None
        self.machine: Machine | None = None
        self.strace: Strace | None = None
        #: the rt_sigreturn trampoline for handlers without sa_restorer (0: none), .delivery
        self.sigtramp = 0
        #: a vfork child's end of the pipe its parent waits on (-1: none), see .process
        self.vfork_release = -1
        #: set_tid_address before the first thread was made (the main thread's word)
        self.main_clear_tid = 0
        #: membarrier's REGISTER_PRIVATE_EXPEDITED was asked for
        self.membarrier_registered = False
        #: the system call being emulated: (number, name, arguments), for a thread's wait
        self._call: tuple[int, str | None, Args] = (0, None, (0, 0, 0, 0, 0, 0))
        #: a blocking call that runs again after its thread's wait: the deadline that
        #: wait had (its handler goes on with the time left, not the guest's timeout)
        self.resumed_deadline: float | None = None
        #: the system call whose handler runs now (None outside handlers: a host signal
        #: may then not end it with EINTR, its result may already be in the registers)
        self.running_call: str | None = None
        #: whether it may wait, so that a signal ends it with EINTR (:mod:`.readiness`)
        self.call_may_wait = True
        self.umask_value = os.umask(0o22)
        os.umask(self.umask_value)

    # --- helpers for handlers ---------------------------------------------------------

    @property
    def m(self) -> Machine:
        assert self.machine is not None
        return self.machine

    def read(self, addr: int, size: int) -> bytes:
        return bytes(self.m.uc.mem_read(addr, size)) if size else b""

    def write(self, addr: int, data: bytes) -> None:
        if data:
            self.m.uc.mem_write(addr, data)
            self.memory.code_may_change(addr, addr + len(data))  # a JIT may read() code

    def cstr(self, addr: int, limit: int = 4096) -> str:
        """A NUL-terminated guest string (as the host's file system encoding)."""
        out = bytearray()
        while len(out) < limit:
            chunk = bytes(self.m.uc.mem_read(addr + len(out), 64 - ((addr + len(out)) & 63)))
            i = chunk.find(0)
            if i >= 0:
                out += chunk[:i]
                break
            out += chunk
        return os.fsdecode(bytes(out))

    def word_fmt(self, n: int = 1, signed: bool = False) -> str:
        c = "q" if self.m.arch.bits == 64 else "i"
        return "<" + (c if signed else c.upper()) * n

    def put_words(self, addr: int, *values: int, signed: bool = False) -> None:
        mask = self.m.arch.mask
        self.write(addr, struct.pack(self.word_fmt(len(values)), *(v & mask for v in values)))

    def get_words(self, addr: int, n: int) -> tuple[int, ...]:
        return struct.unpack(self.word_fmt(n), self.read(addr, n * self.m.arch.word))

    def signed(self, v: int) -> int:
        bits = self.m.arch.bits
        v &= (1 << bits) - 1
        return v - (1 << bits) if v >> (bits - 1) else v

    def random_bytes(self, n: int) -> bytes:
        if self.rng is not None:
            return bytes(self.rng.getrandbits(8) for _ in range(n))
        return os.urandom(n)

    # --- the trap -----------------------------------------------------------------------

    def syscall(self, machine: Machine) -> None:
        self.machine = machine
        uc = machine.uc
        sabi = machine.arch.syscall
        num = uc.reg_read(sabi.number)
        args = [uc.reg_read(r) for r in sabi.args]
        if sabi.stack_args:
            sp = uc.reg_read(machine.arch.sp)
            try:
                args += list(self.get_words(sp + 16, sabi.stack_args))
            except UcError:
                args += [0] * sabi.stack_args
        args += [0] * (6 - len(args))
        cast = cast_rows(self.arch_name, machine.arch.bits)[num]
        if cast is not None:  # int arguments are 32-bit: the kernel ignores the rest
            args = list(apply_casts(tuple(args), cast, machine.arch.bits))
        a: Args = (args[0], args[1], args[2], args[3], args[4], args[5])
        name = self.table.get(num)
        observer = machine.syscall_observer
        skipped = observer.enter(num, a) if observer is not None else None
        self._call = (num, name, a)
        if skipped is None:
            threads = machine.threads
            if threads is not None and threads.count > 1:
                wait = wait_for(self, name, a)
                if wait is not None:  # the others run while this thread waits
                    self.block(wait)
                    return
            ret = self.dispatch(num, name, a)
            if ret == BLOCKED:  # a futex wait: finished by complete()
                return
        else:
            ret = skipped
        self._finish(num, ret)

    def _finish(self, num: int, ret: int, in_trap: bool = True) -> None:
        machine = self.m
        observer = machine.syscall_observer
        if observer is not None:
            observer.leave(num, ret)
        if machine.exited is None and ret != KEEP_REGISTERS:
            self.set_result(ret)
        if machine.exited is None:
            deliver_pending(self, in_trap)  # a guest handler runs as the call returns

    def block(self, wait: Wait) -> None:
        """The calling thread waits (futex, blocking I/O) while the others run."""
        threads = self.m.thread_table()
        self.attach_threads(threads)
        threads.current.extra["deadline"] = wait.deadline
        threads.block(wait, self._call)

    def attach_threads(self, threads: Threads) -> None:
        """This kernel finishes woken threads' calls and keeps their signal state."""
        from . import thread_signals

        threads.complete = self.complete
        threads.on_switch = partial(thread_signals.switch, self)
        threads.signal_check = partial(thread_signals.wake_for_signals, self)

    def complete(self, thread: GuestThread) -> None:
        """A thread that waited runs again: its system call ends (or runs again)."""
        assert thread.pending is not None
        num, name, a = thread.pending
        thread.pending = None
        self._call = (num, name, a)
        ret = thread.result
        deadline = thread.extra.pop("deadline", None)
        if ret == RESTART:  # a signal's handler runs first, then the call again
            rewind_to_syscall(self)
            if self.strace is not None:
                self.strace.leave(name, ERESTARTSYS)
            observer = self.m.syscall_observer
            if observer is not None:
                observer.leave(num, ERESTARTSYS)  # as QEMU shows a restarted call
            deliver_pending(self, False)  # the registers stay the call's own
            return
        if ret == -errno.EINTR:  # a signal's handler ended the wait
            interrupted = thread.extra.pop("interrupted", None)
            if interrupted is not None:
                interrupted()  # what the call left waiting is dropped (a FIFO's open)
            from .time import sleep_interrupted  # (first use: a topic module)

            left = sleep_interrupted(self, name, a, deadline)  # a sleep's time left
            ret = ret if left is None else left
        if thread.retry:
            wait = wait_for(self, name, a)
            if wait is not None:
                self.block(wait)
                return
            self.resumed_deadline = deadline
            try:
                ret = self.dispatch(num, name, a)
            finally:
                self.resumed_deadline = None
            if ret == BLOCKED:
                return
        elif self.strace is not None:
            self.strace.leave(name, ret)
        self._finish(num, ret, in_trap=False)

    def dispatch(self, num: int, name: str | None, a: Args) -> int:
        fn = handler(name) if name else None
        if self.strace is not None:
            self.strace.enter(name if fn else None, num, a)
        if fn is None:
            self.unknown[num] += 1
            if self.report_unimp and self.strace is None:
                self.stderr.write(
                    f"qpp: unsupported syscall: {num}{f' ({name})' if name else ''}\n"
                )
                self.stderr.flush()
            return -errno.ENOSYS
        self.call_may_wait = may_wait(name, a)
        self.running_call = name
        try:
            ret = fn(self, a)
        except MustWait as e:  # the other threads run meanwhile
            self.block(e.wait)
            ret = BLOCKED
        except GuestCallInterrupted:
            ret = -errno.EINTR  # a signal for a guest handler, without SA_RESTART
        except OSError as e:
            ret = -(e.errno or errno.EIO)
        except UcError:
            ret = -errno.EFAULT
        except QppError:
            raise  # a deliberate end of the run (unsupported guest, host problem)
        except Exception as e:  # the last resort: see _unexpected
            ret = self._unexpected(name or str(num), e)
        finally:
            self.running_call = None
        if self.strace is not None and self.m.exited is None and ret != BLOCKED:
            self.strace.leave(name, ret)
        return ret

    def _unexpected(self, name: str, exc: Exception) -> int:
        """An exception a handler did not expect: the guest gets an errno, never a qpp crash.

        Argument values a handler failed to range-check (``OverflowError``, ``ValueError``,
        ``struct.error``) are Linux's ``EINVAL``; ``MemoryError`` is ``ENOMEM``. Whatever
        the cause, the guest sees an error return as under qemu-user, and qpp keeps
        running. With ``QPP_DEBUG`` set, qpp reports the handler's traceback on stderr so
        that a genuine qpp bug stays visible.
        """
        if os.environ.get("QPP_DEBUG"):
            import traceback  # only here: it costs start-up

            self.stderr.write(f"qpp: debug: syscall {name} raised {type(exc).__name__}: {exc}\n")
            self.stderr.write("".join(traceback.format_exception(exc)))
            self.stderr.flush()
        return -errno.ENOMEM if isinstance(exc, MemoryError) else -errno.EINVAL

    def set_result(self, ret: int) -> None:
        uc = self.m.uc
        sabi = self.m.arch.syscall
        if sabi.error_flag is not None:
            if -4096 < ret < 0:
                uc.reg_write(sabi.result, abi.guest_errno(self.arch_name, -ret))
                uc.reg_write(sabi.error_flag, 1)
            else:
                uc.reg_write(sabi.result, ret & self.m.arch.mask)
                uc.reg_write(sabi.error_flag, 0)
            return
        uc.reg_write(sabi.result, ret & self.m.arch.mask)
