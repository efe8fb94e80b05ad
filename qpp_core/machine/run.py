"""The machine: one unicorn CPU running one guest, and the loop that runs it.

Nothing here runs per instruction or per block. The only hooks the machine installs trap
syscalls (the SYSCALL instruction on x86_64, the interrupt hook elsewhere, which also
catches CPU exceptions) and invalid memory accesses (which only fire on faults). The
Linux layer supplies a :class:`Kernel` that emulates each syscall.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import sys
from collections.abc import Callable
from typing import Any, NamedTuple, NoReturn, Protocol

import unicorn

from ..errors import ExitStatus
from .arch import Arch, Uc
from .arch.base import INVALID_INSN, TrapSiginfo, UcError
from .blockstop import BlockStop
from .hostsig import HostSignalInterrupt
from .signals import uncaught_message
from .symbols import SymbolTable
from .threads import Threads, VcpuObserver


class GuestExit(NamedTuple):
    """How the guest ended, as a shell would see it."""

    status: int  #: exit code, or 128+signal
    signal: int | None = None  #: host signal number when the guest died from one
    message: str | None = None  #: qemu-style report for the user (print after plugin logs)


class SyscallObserver(Protocol):
    """Implemented by the instrumentation layer to see (and possibly skip) syscalls."""

    def enter(self, num: int, args: tuple[int, ...]) -> int | None:
        """Called before a syscall; a non-None result skips it and is returned instead."""

    def leave(self, num: int, ret: int) -> None:
        """Called after a syscall with its result (negative errno convention)."""


class Kernel(Protocol):
    """The syscall layer (Linux emulation) the machine calls on each syscall trap."""

    def syscall(self, machine: Machine) -> None:
        """Emulate the syscall the guest just trapped with, writing its result."""


class SignalObserver(Protocol):
    """The instrumentation layer: told when guest signal handlers start and return."""

    def signal_delivered(self, signum: int, handler: int, pc: int) -> None: ...
    def signal_returned(self, pc: int) -> None: ...
    def block_cut(self, pc: int) -> None:
        """The running block ended at the instruction at ``pc`` (a fault, an exception)."""

    def insn_raised(self, pc: int) -> None:
        """An instruction the engine cannot translate raised at ``pc`` (SIGILL)."""


#: the exit status of a guest whose threads all wait forever (qpp's own range, 70-89)
DEADLOCK_STATUS = int(ExitStatus.GUEST_DEADLOCK)

_FAULT_ERRORS = {
    unicorn.UC_ERR_READ_UNMAPPED: (signal.SIGSEGV, "read from unmapped address"),
    unicorn.UC_ERR_WRITE_UNMAPPED: (signal.SIGSEGV, "write to unmapped address"),
    unicorn.UC_ERR_FETCH_UNMAPPED: (signal.SIGSEGV, "execute at unmapped address"),
    unicorn.UC_ERR_READ_PROT: (signal.SIGSEGV, "read from protected address"),
    unicorn.UC_ERR_WRITE_PROT: (signal.SIGSEGV, "write to protected address"),
    unicorn.UC_ERR_FETCH_PROT: (signal.SIGSEGV, "execute at non-executable address"),
    unicorn.UC_ERR_READ_UNALIGNED: (signal.SIGBUS, "unaligned read at"),
    unicorn.UC_ERR_WRITE_UNALIGNED: (signal.SIGBUS, "unaligned write at"),
    unicorn.UC_ERR_FETCH_UNALIGNED: (signal.SIGBUS, "unaligned fetch at"),
    unicorn.UC_ERR_INSN_INVALID: (signal.SIGILL, "invalid instruction"),
    unicorn.UC_ERR_EXCEPTION: (signal.SIGILL, "unhandled CPU exception"),
}


#: si_code of a fault: SEGV_MAPERR 1, SEGV_ACCERR 2, BUS_ADRALN 1, ILL_ILLOPC 1
_SI_CODES = {
    unicorn.UC_ERR_READ_UNMAPPED: 1,
    unicorn.UC_ERR_WRITE_UNMAPPED: 1,
    unicorn.UC_ERR_FETCH_UNMAPPED: 1,
    unicorn.UC_ERR_READ_PROT: 2,
    unicorn.UC_ERR_WRITE_PROT: 2,
    unicorn.UC_ERR_FETCH_PROT: 2,
    unicorn.UC_ERR_READ_UNALIGNED: 1,
    unicorn.UC_ERR_WRITE_UNALIGNED: 1,
    unicorn.UC_ERR_FETCH_UNALIGNED: 1,
    unicorn.UC_ERR_INSN_INVALID: 1,
}


class Machine:
    """A guest program loaded into a unicorn CPU, ready to run (see :func:`load_guest`)."""

    def __init__(
        self, arch: Arch, uc: Uc, kernel: Kernel, entry: int, symbols: SymbolTable | None = None
    ) -> None:
        self.arch = arch
        self.uc = uc
        self.kernel = kernel
        self.entry = entry
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.syscall_observer: SyscallObserver | None = None
        self._exit: GuestExit | None = None
        self._stop_reason: BaseException | None = None
        self._stopped = False
        self._restart = False
        self._fault_addr: int | None = None
        #: a CPU exception a guest handler may take: (signal, exception number, hook's pc)
        self._trap: tuple[int, int, int] | None = None
        #: the memory layer's say on a fault address: a signal other than SIGSEGV, or None
        self.fault_signal: Callable[[int], int | None] | None = None
        #: the memory layer's say on executing an unmapped address (a kernel entry point
        #: such as x86_64's vsyscall page): True when it emulated the call and set the pc
        self.exec_fault: Callable[[int], bool] | None = None
        #: the Linux layer runs the guest's handler for a fault: (host signal, fault address,
        #: si_code) -> True when a handler will run (the loop then resumes there)
        self.fault_handler: Callable[[int, int | None, int], bool] | None = None
        #: the Linux layer takes a host signal for a guest handler: True when it posted it
        self.signal_post: Callable[[int], bool] | None = None
        #: the Linux layer's say on a host signal posted during a syscall: True when the
        #: blocking call under way must end with EINTR (no SA_RESTART)
        self.signal_interrupts_call: Callable[[int], bool] | None = None
        #: the Linux layer runs a posted handler between engine runs: True when it did
        self.deliver_posted: Callable[[], bool] | None = None
        #: the Linux layer's say on a host signal: True when the guest ignores it (SIG_IGN)
        self.signal_ignored: Callable[[int], bool] | None = None
        #: a host signal that ends the guest (set by :meth:`interrupt`, from any thread)
        self.host_signal: int | None = None
        #: the syscall layer is running (a host signal may then abandon a blocking call)
        self.in_syscall = False
        self._install_traps()
        self._pending_entry: int | None = entry
        #: this process is a guest fork's child (the Linux layer forked the host process)
        self.is_fork_child = False
        #: whoever runs the machine ends a forked child's process itself (the runner, with
        #: the plugins' atexit); otherwise :meth:`run` ends it when the child's guest ends
        self.ends_fork_children = False
        #: what the loader added to the program's ELF addresses (PIE), for plugins
        self.load_bias = 0
        #: execve: the machine running the process's new program (this one is done)
        self.successor: Machine | None = None
        #: execve of a program the host runs itself: what replaces the process once the
        #: plugins' atexit ran (:meth:`leave_for_native`)
        self.native_exec: Callable[[], NoReturn] | None = None
        #: the guest's threads, from its first clone of a thread or futex wait (None: one
        #: thread, run exactly as before: no time slice, no context switch)
        self.threads: Threads | None = None
        #: the scheduling mode threads get (``-sched``): "timeslice" or "deterministic"
        self.sched_mode = "timeslice"
        #: the instrumentation layer, told which vCPU runs (see :mod:`.threads`)
        self.vcpu_observer: VcpuObserver | None = None
        #: told when a guest signal handler starts and when it returns (the plugins)
        self.signal_observer: SignalObserver | None = None
        #: told ``(lo, hi)`` when the memory layer changes code behind the CPU (the
        #: instrumentation layer forgets its blocks there); the Linux layer's list
        self.code_listeners: list[Callable[[int, int], None]] = []
        #: stops at the next block start for a signal from elsewhere (:mod:`.blockstop`)
        self.block_stop = BlockStop()

    # --- public surface -------------------------------------------------------------

    def read_memory(self, addr: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(addr, size))

    def write_memory(self, addr: int, data: bytes) -> None:
        self.uc.mem_write(addr, bytes(data))

    def _reg_id(self, name: str) -> int:
        try:
            return self.arch.registers[name.lower()]
        except KeyError:
            raise ValueError(f"{self.arch.name} has no register named {name!r}") from None

    def read_register(self, name: str) -> int:
        value: int = self.uc.reg_read(self._reg_id(name))
        return value

    def write_register(self, name: str, value: int) -> None:
        self.uc.reg_write(self._reg_id(name), value)

    def symbol_at(self, addr: int) -> str | None:
        return self.symbols.symbol_at(addr)

    @property
    def pc(self) -> int:
        value: int = self.uc.reg_read(self.arch.pc)
        return value

    def where(self) -> str:
        """Where the guest is, for error messages: ``near guest pc 0x... (arch)``."""
        return f"near guest pc 0x{self.pc:x} ({self.arch.name})"

    def request_restart(self) -> None:
        """From a hook: stop now and let :meth:`run` resume at the then-current pc."""
        self._restart = True
        self.uc.emu_stop()

    def stop(self, reason: BaseException | None = None) -> None:
        """From a hook: end the run; :meth:`run` re-raises ``reason`` if one is given."""
        if reason is not None and self._stop_reason is None:
            self._stop_reason = reason
        self._stopped = True
        self.uc.emu_stop()

    def exit(self, status: int) -> None:
        """The guest called exit/exit_group: end the run with this status."""
        if self._exit is None:
            self._exit = GuestExit(status & 0xFF)
        self.uc.emu_stop()

    def kill(self, sig: int, detail: str | None = None) -> None:
        """The guest dies from signal ``sig`` (fault, abort): end the run as Linux would."""
        if self._exit is None:
            self._exit = GuestExit(128 + sig, sig, uncaught_message(self.arch.name, sig, detail))
        self.uc.emu_stop()

    def deadlock(self, message: str) -> None:
        """Every guest thread waits forever: end the run with ``message``."""
        if self._exit is None:
            self._exit = GuestExit(DEADLOCK_STATUS, None, message)
        self.uc.emu_stop()

    def thread_table(self) -> Threads:
        """The guest's threads (made at the first need: a clone, a futex wait)."""
        if self.threads is None:
            self.threads = Threads(self, os.getpid(), self.sched_mode)
        return self.threads

    def exec_into(self, successor: Machine) -> None:
        """execve succeeded: this program is over, ``successor`` runs the process now."""
        self.successor = successor
        self._stopped = True
        self.uc.emu_stop()

    def leave_for_native(self, replace: Callable[[], NoReturn]) -> None:
        """execve of a program for the host itself (qemu-user hands it to the kernel):
        this program is over as if it had exited with 0; whoever runs the machine calls
        ``replace`` once the plugins are done, and the host process becomes that program."""
        self.native_exec = replace
        if self._exit is None:
            self._exit = GuestExit(0)
        self.uc.emu_stop()

    def takes_host_signal(self, sig: int) -> bool:
        """A host signal the guest has a handler for: post it and stop the engine, so that
        the handler runs at the next block boundary (any thread). False: not handled."""
        post = self.signal_post
        if post is None or not post(sig):
            return False
        self.block_stop.request(self.uc)
        return True

    def interrupts_call(self, sig: int) -> bool:
        """Whether host signal ``sig``, just posted for a guest handler, ends the blocking
        system call under way with EINTR (asked by the host signal handler)."""
        decide = self.signal_interrupts_call
        return decide is not None and decide(sig)

    def ignores_host_signal(self, sig: int) -> bool:
        """Whether the guest set SIG_IGN for host signal ``sig`` (asked by the kernel)."""
        ignores = self.signal_ignored
        return ignores is not None and ignores(sig)

    def interrupt(self, sig: int) -> None:
        """A host signal ends the guest: record it and stop the engine (any thread).

        The run loop ends the guest with it (128+sig) once the engine has stopped; a
        signal that arrives after the guest's exit changes nothing.
        """
        if self.host_signal is None:
            self.host_signal = sig
        self.uc.emu_stop()

    @property
    def exited(self) -> GuestExit | None:
        return self._exit

    def run(self) -> GuestExit:
        """Run the guest until it exits, dies from a signal or a hook stops it.

        Emulation starts at the program's entry and, after :meth:`request_restart` or
        :meth:`run_until`, resumes at the current pc.
        """
        result = self._loop(0)
        assert result is not None
        if self.successor is not None:
            return result
        if self.is_fork_child and not self.ends_fork_children:
            end_forked_child(result)
        return result

    def run_until(self, addr: int) -> GuestExit | None:
        """Run until the pc reaches ``addr`` (None) or the guest ends first (its exit).

        For tools and benchmarks that need the guest at a known point (e.g. ``main``);
        :meth:`run` continues from there.
        """
        return self._loop(addr & ~1 if self.arch.thumb_state is not None else addr)

    def _loop(self, until: int) -> GuestExit | None:
        if self._exit is not None:  # ended before it began (a plugin's exit at install)
            return self._exit
        if self.host_signal is not None:  # a host signal came before the guest started
            return self._killed_by_host_signal(self.host_signal)
        if self._pending_entry is not None:
            begin, self._pending_entry = self._pending_entry, None
        else:
            begin = self._resume_pc()
        while True:
            self._restart = False
            error: Exception | None = None
            threads = self.threads
            try:
                if threads is None:
                    self.uc.emu_start(begin, until)
                else:
                    self.uc.emu_start(begin, until, 0, threads.engine_count())
            except UcError as e:
                error = e
            except HostSignalInterrupt:
                pass  # recorded in self.host_signal; it unwound a hook
            self.block_stop.disarm()
            if self.block_stop.sync_due or self.block_stop.sources:
                self.block_stop.sync(self.uc)
            if self._exit is not None or self._stopped or self.host_signal is not None:
                break
            if (
                error is not None
                and getattr(error, "errno", -1) == unicorn.UC_ERR_FETCH_UNMAPPED
                and self.exec_fault is not None
                and self.exec_fault(self.pc)
            ):
                if self._exit is not None or self._stopped:
                    break
                begin = self._resume_pc()
                continue
            if self._trap is not None and error is None:
                if self._deliver_trap():
                    begin = self._resume_pc()  # the guest's handler
                    continue
                break
            threads = self.threads  # the first clone may have made it during that run
            if (
                threads is not None
                and error is None
                and threads.after_run(not self._restart and not (until and self.pc == until))
            ):
                if self._exit is not None or self._stopped or self.host_signal is not None:
                    break
                if self.deliver_posted is not None:
                    self.deliver_posted()  # on the thread that runs now
                begin = self._resume_pc()
                continue
            if error is not None:
                if self._fault(error):
                    begin = self._resume_pc()  # the guest's handler
                    continue
                break
            if self.deliver_posted is not None and self.deliver_posted():
                begin = self._resume_pc()  # a guest handler for a signal that came
                continue
            if self._restart:
                begin = self._resume_pc()
                continue
            if until and self.pc == until:
                return None
            if self.pc != 0:  # stopped for a signal the guest blocks for now: go on
                begin = self._resume_pc()
                continue
            # emu_start returned on its own: the guest jumped to address 0
            self.kill(signal.SIGSEGV, f"pc=0x{self.pc:x}: execute at unmapped address 0x0")
            break
        if self.threads is not None:
            self.threads.stop_ticker()
        if isinstance(self._stop_reason, HostSignalInterrupt):
            self._stop_reason = None  # it only unwound a hook: the signal is recorded
        if self._stop_reason is not None:
            raise self._stop_reason
        if self._exit is None and self.host_signal is not None:
            self._killed_by_host_signal(self.host_signal)
        if self._exit is None:
            self._exit = GuestExit(0)
        return self._exit

    def _killed_by_host_signal(self, sig: int) -> GuestExit:
        """The guest takes a host signal's default action (no guest handlers yet)."""
        message = uncaught_message(self.arch.name, sig)
        self._exit = GuestExit(128 + sig, sig, message)
        return self._exit

    # --- internals --------------------------------------------------------------------

    def _thumb(self) -> bool:
        """Whether the CPU executes Thumb code now (arm; bit 0 of a resumed pc says so)."""
        thumb_state = self.arch.thumb_state
        return thumb_state is not None and thumb_state(self.uc)

    def _resume_pc(self) -> int:
        return self.pc | 1 if self._thumb() else self.pc

    def _install_traps(self) -> None:
        uc = self.uc
        if self.arch.syscall.intno is None:
            from unicorn.x86_const import UC_X86_INS_SYSCALL

            uc.hook_add(unicorn.UC_HOOK_INSN, self._on_syscall_insn, None, 1, 0, UC_X86_INS_SYSCALL)
        uc.hook_add(unicorn.UC_HOOK_INTR, self._on_interrupt)
        uc.hook_add(unicorn.UC_HOOK_MEM_INVALID, self._on_invalid_memory)

    def _on_syscall_insn(self, uc: Uc, user_data: Any) -> None:
        self._syscall()

    def _on_interrupt(self, uc: Uc, intno: int, user_data: Any) -> None:
        if intno == self.arch.syscall.intno:
            self._syscall()
            return
        sig = self.arch.exception_signal(intno)
        if self.fault_handler is not None:  # delivered once the engine has stopped
            self._trap = (sig, intno, self.pc)
            self.uc.emu_stop()
            return
        self.kill(sig, f"pc=0x{self.pc:x}: CPU exception {intno}")

    def _deliver_trap(self) -> bool:
        """A CPU exception stopped the engine: the guest's handler runs (True), with the
        saved pc and siginfo Linux gives it, or the guest dies."""
        assert self._trap is not None
        sig, intno, hook_pc = self._trap
        self._trap = None
        # the instruction's address (a fault), or past it where Linux saves that (int3)
        insn = hook_pc - self.arch.trap_pc_offset
        find = self.arch.trapping_insn
        last = self.block_stop.last_block() if find is not None else None
        if find is not None and last is not None:  # unicorn's pc does not say (mips)
            found = find(self.uc, intno, *last)
            insn = found if found is not None else insn
        self._cut_block(insn)
        if sig == signal.SIGILL and self.signal_observer is not None:
            self.signal_observer.insn_raised(insn)
        info = self.arch.trap_siginfo.get(intno, TrapSiginfo(0, addr_is_pc=False))
        self._write_pc(insn)  # where the handler's sigreturn resumes
        addr = insn if info.addr_is_pc else 0
        sig = info.signal or sig
        assert self.fault_handler is not None
        if self.fault_handler(sig, addr, info.code):
            return True
        self.kill(sig, f"pc=0x{insn:x}: CPU exception {intno}")
        return False

    def _cut_block(self, pc: int) -> None:
        """Tell the instrumentation that the running block ended at ``pc``'s instruction."""
        if self.signal_observer is not None:
            self.signal_observer.block_cut(pc)

    def _write_pc(self, pc: int) -> None:
        """Set the pc, keeping arm's Thumb state (bit 0 of a written pc sets it)."""
        self.uc.reg_write(self.arch.pc, pc | 1 if self._thumb() else pc)

    def _syscall(self) -> None:
        """Emulate the trapped syscall, unless a host signal has ended the guest."""
        self.in_syscall = True
        try:
            if self.host_signal is None:
                self.kernel.syscall(self)
            else:  # the signal came just before: deliver it instead of the call
                self.uc.emu_stop()
        except HostSignalInterrupt:
            pass  # a host signal abandoned the call; the loop ends the guest with it
        finally:
            self.in_syscall = False

    def _on_invalid_memory(
        self, uc: Uc, access: int, address: int, size: int, value: int, user_data: Any
    ) -> bool:
        self._fault_addr = address
        return False

    def _fault(self, error: Exception) -> bool:
        """A fault ended the engine run: the guest's handler runs (True) or the guest dies."""
        errno_ = getattr(error, "errno", -1)
        self._cut_block(self.pc)
        found = _FAULT_ERRORS.get(errno_, (signal.SIGSEGV, str(error)))
        sig, what = int(found[0]), found[1]
        code = _SI_CODES.get(errno_, 0)
        invalid = self.arch.trap_siginfo.get(INVALID_INSN)
        if errno_ == unicorn.UC_ERR_INSN_INVALID and self.signal_observer is not None:
            self.signal_observer.insn_raised(self.pc)
        if errno_ == unicorn.UC_ERR_INSN_INVALID and invalid is not None:
            code = invalid.code
            sig = invalid.signal or sig
            self._fault_addr = self.pc if invalid.addr_is_pc else None
        if self._fault_addr is not None and self.fault_signal is not None:
            other = self.fault_signal(self._fault_addr)
            if other is not None:
                sig, what, code = other, "access past the end of a file mapping at", 2
        if self.fault_handler is not None and self.fault_handler(sig, self._fault_addr, code):
            self._fault_addr = None
            return True
        detail = f"pc=0x{self.pc:x}: {what}"
        if (
            self._fault_addr is not None
            and getattr(error, "errno", -1) != unicorn.UC_ERR_INSN_INVALID
        ):
            detail += f" 0x{self._fault_addr:x}"
        self.kill(sig, detail)
        return False


def end_forked_child(result: GuestExit) -> NoReturn:
    """End a guest fork's child process as its guest ended: by its signal, or its status.

    Dying of the signal itself (core dumps off) lets the parent's ``wait`` see what Linux
    would show it; Python's own clean-up is skipped, as after a C ``fork``.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if result.signal is not None:
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.signal(result.signal, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {result.signal})
            os.kill(os.getpid(), result.signal)
    os._exit(result.status)


HookFn = Callable[..., Any]
