"""The handler registry: ``@handles("name", ...)`` puts a function into :data:`HANDLERS`.

A handler takes the kernel and the six raw argument words and returns the result in the
negative-errno convention; raising ``OSError`` returns ``-errno`` instead.

Handler modules are loaded on first use: :data:`MODULES` says which module of this package
registers each syscall, and :func:`handler` imports that module the first time the guest
makes one of its calls, so a run loads only the topics its guest uses (``qpp run hello``
never loads the signal-frame, poll or timer code: start-up time). Each name is registered
by exactly one module, so the order modules load in never changes which handler runs.
``tests/linux/test_handler_modules.py`` checks the table against the registrations; a new
handler needs its line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .kernel import LinuxKernel

Args = tuple[int, int, int, int, int, int]
Handler = Callable[["LinuxKernel", Args], int]

HANDLERS: dict[str, Handler] = {}

#: the syscalls each handler module registers (module -> names)
_TOPICS: dict[str, str] = {
    "anonfd": "eventfd eventfd2 memfd_create timerfd_create timerfd_settime timerfd_settime64 "
    "timerfd_gettime timerfd_gettime64 sendfile sendfile64 copy_file_range",
    "arch_misc": "prctl",
    "creds": "getgroups getgroups32 getresuid getresuid32 getresgid getresgid32 times "
    "getpriority setpriority sched_getscheduler sched_getparam sched_get_priority_max "
    "sched_get_priority_min sched_rr_get_interval sched_rr_get_interval_time64",
    "delivery": "rt_sigsuspend pause",
    "epoll": "epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2",
    "execve": "execve execveat",
    "fifo": "mknod mknodat",
    "fs": "read write pread64 pwrite64 writev readv open creat openat close lseek _llseek "
    "dup dup2 dup3 fcntl fcntl64 pipe pipe2 ioctl fstat fstat64 stat stat64 lstat lstat64 "
    "newfstatat fstatat64 statx readlink readlinkat getcwd chdir fchdir unlink unlinkat "
    "rmdir mkdir mkdirat rename renameat renameat2 access faccessat faccessat2 getdents64 "
    "ftruncate ftruncate64 fsync fdatasync umask flock",
    "fsmeta": "link linkat symlink symlinkat utimensat utimensat_time64 utimes futimesat utime "
    "truncate truncate64 sync syncfs fallocate fadvise64 arm_fadvise64_64",
    "futex": "futex futex_time64",
    "mem": "cacheflush riscv_flush_icache brk mmap mmap2 munmap mprotect madvise msync mremap",
    "netsock": "socket bind connect listen accept accept4 sendto send recvfrom recv "
    "setsockopt getsockopt sendmsg recvmsg",
    "perm": "fchmod chmod fchmodat chown lchown fchown chown32 lchown32 fchown32 fchownat",
    "poll": "poll ppoll ppoll_time64 select _newselect pselect6 pselect6_time64",
    "posix_timers": "timer_create timer_settime timer_settime64 timer_gettime "
    "timer_gettime64 timer_getoverrun timer_delete",
    "proc": "exit_group getpid getppid getuid getuid32 geteuid geteuid32 getgid getgid32 "
    "getegid getegid32 getpgrp set_robust_list arch_prctl set_thread_area set_tls get_tls "
    "uname sysinfo prlimit64 getrlimit ugetrlimit setrlimit rt_sigaction rt_sigprocmask "
    "sigaltstack kill sched_getaffinity getcpu getrandom getrusage",
    "process": "fork vfork clone wait4 waitpid waitid rt_sigreturn sigreturn getpgid setpgid "
    "getsid setsid",
    "shm": "shmget shmat shmdt shmctl ipc",
    "sigwait": "rt_sigpending rt_sigtimedwait rt_sigtimedwait_time64 rt_sigqueueinfo "
    "rt_tgsigqueueinfo",
    "sockaddr": "getsockname getpeername",
    "sockets": "socketpair shutdown",
    "statfs": "statfs fstatfs statfs64 fstatfs64",
    "threads": "exit gettid set_tid_address clone3 tgkill tkill sched_yield membarrier",
    "time": "clock_gettime clock_gettime64 clock_getres clock_getres_time64 gettimeofday "
    "time nanosleep clock_nanosleep clock_nanosleep_time64",
    "timers": "setitimer getitimer alarm",
}

#: syscall name -> the module of this package that registers its handler
MODULES: dict[str, str] = {
    name: module for module, names in _TOPICS.items() for name in names.split()
}


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


def handler(name: str) -> Handler | None:
    """The handler of syscall ``name``, its module imported on first use; None if none."""
    fn = HANDLERS.get(name)
    if fn is None and name in MODULES:
        importlib.import_module(f"{__package__}.{MODULES[name]}")
        fn = HANDLERS.get(name)
    return fn


def all_handlers() -> dict[str, Handler]:
    """Every handler, all handler modules imported (for tables and tests, not a run)."""
    for module in _TOPICS:
        importlib.import_module(f"{__package__}.{module}")
    return HANDLERS
