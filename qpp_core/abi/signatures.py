"""Syscall signatures by name (data only): each argument's C type class and meaning.

One table serves the kernel's argument truncation (:mod:`qpp_core.linux.syscalls.kernel`),
``qpp run -strace`` (:mod:`qpp_core.linux.strace`) and the ``syscalls`` plugin
(qpp-syscalls, which decodes arguments for other plugins). Names are the kernel's, as in
:mod:`qpp_core.abi.numbers`, so one entry serves every architecture that has the call.
A call without an entry is shown as six raw ``long`` words and is not truncated.

The C type classes follow the kernel's ``SYSCALL_DEFINEn`` declarations, which decide how
much of each register the kernel uses (``__SC_CAST``): on a 64-bit target an ``int``
argument is the register's low 32 bits sign-extended, whatever the upper half holds;
``uint`` the low 32 bits; ``u16`` (``umode_t``) the low 16 bits, on every target.

========  ==============================================================================
class     C types
========  ==============================================================================
int       int, pid_t, clockid_t, timer_t, key_t, rwf_t, mqd_t (32-bit, signed)
uint      unsigned int, u32, uid_t, gid_t, qid_t (32-bit, unsigned)
u16       umode_t
long      long, off_t (full width, signed)
ulong     unsigned long, uintptr_t (full width)
size      size_t (full width)
loff      loff_t (64-bit: a register pair on 32-bit targets)
ptr       any pointer but a string (full width)
str       const char __user * naming a NUL-terminated string (full width)
========  ==============================================================================

Argument kinds (what the value means, for display; default: from the class): ``int``
signed number; ``uint`` unsigned number; ``fd`` file descriptor; ``dirfd`` directory fd
(``AT_FDCWD``); ``ptr`` address; ``str`` NUL-terminated string; ``buf`` input buffer
whose length is the call's ``size`` argument; ``rbuf`` output buffer (its length is the
result); ``size`` byte count; ``oflags`` open(2) flags; ``mode`` octal permission bits;
``whence`` lseek's SEEK_*; ``prot`` PROT_*; ``mflags`` MAP_*; ``atflags`` AT_*; ``amode``
access(2) mode; ``hex`` other flags, shown in hex.

Each entry below is ``name: CLASS ARGNAME[:KIND], ...`` (an indented line continues
the one before). Argument positions are the C
declaration's; on 32-bit targets a ``loff`` argument takes two registers (and arm and
mips o32 align the pair), so positions after one shift there. ``clone`` is listed in the
order of arm, aarch64, riscv64 and mips (``CLONE_BACKWARDS``: tls before child_tid);
x86_64 swaps its last two arguments.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

#: C type classes -> the kind an argument of that class has unless it names one
CLASSES: dict[str, str] = {
    "int": "int",
    "uint": "uint",
    "u16": "uint",
    "long": "int",
    "ulong": "uint",
    "size": "size",
    "loff": "int",
    "ptr": "ptr",
    "str": "str",
}
KINDS = frozenset(
    {
        *("int", "uint", "fd", "dirfd", "ptr", "str", "buf", "rbuf", "size"),
        *("oflags", "mode", "whence", "prot", "mflags", "atflags", "amode", "hex"),
    }
)

#: calls whose result is an address, not a number
PTR_RESULT = frozenset({"brk", "mmap", "mmap2", "mremap", "shmat"})


class SyscallParam(NamedTuple):
    """One declared argument of a syscall."""

    name: str
    #: C type class (the keys of :data:`CLASSES`): decides truncation
    ctype: str
    #: meaning, for display (see the module docstring)
    kind: str


_SPECS = """
read: uint fd:fd, ptr buf:rbuf, size count
write: uint fd:fd, ptr buf:buf, size count
pread64: uint fd:fd, ptr buf:rbuf, size count, loff pos
pwrite64: uint fd:fd, ptr buf:buf, size count, loff pos
readv: ulong fd:fd, ptr vec, ulong vlen:int
writev: ulong fd:fd, ptr vec, ulong vlen:int
preadv: ulong fd:fd, ptr vec, ulong vlen:int, ulong pos_l, ulong pos_h
pwritev: ulong fd:fd, ptr vec, ulong vlen:int, ulong pos_l, ulong pos_h
preadv2: ulong fd:fd, ptr vec, ulong vlen:int, ulong pos_l, ulong pos_h, int flags:hex
pwritev2: ulong fd:fd, ptr vec, ulong vlen:int, ulong pos_l, ulong pos_h, int flags:hex
open: str filename, int flags:oflags, u16 mode:mode
openat: int dfd:dirfd, str filename, int flags:oflags, u16 mode:mode
openat2: int dfd:dirfd, str filename, ptr how, size usize
creat: str pathname, u16 mode:mode
close: uint fd:fd
close_range: uint fd, uint max_fd, uint flags:hex
lseek: uint fd:fd, long offset, uint whence:whence
_llseek: uint fd:fd, ulong offset_high:int, ulong offset_low:int, ptr result, uint whence:whence
dup: uint fildes:fd
dup2: uint oldfd:fd, uint newfd:fd
dup3: uint oldfd:fd, uint newfd:fd, int flags:oflags
fcntl: uint fd:fd, uint cmd:int, ulong arg:hex
fcntl64: uint fd:fd, uint cmd:int, ulong arg:hex
ioctl: uint fd:fd, uint cmd:hex, ulong arg:hex
pipe: ptr fildes
pipe2: ptr fildes, int flags:oflags
stat: str filename, ptr statbuf
lstat: str filename, ptr statbuf
fstat: uint fd:fd, ptr statbuf
stat64: str filename, ptr statbuf
lstat64: str filename, ptr statbuf
fstat64: ulong fd:fd, ptr statbuf
newfstatat: int dfd:dirfd, str filename, ptr statbuf, int flag:atflags
fstatat64: int dfd:dirfd, str filename, ptr statbuf, int flag:atflags
statx: int dfd:dirfd, str filename, uint flags:atflags, uint mask:hex, ptr buffer
statfs: str pathname, ptr buf
fstatfs: uint fd:fd, ptr buf
statfs64: str pathname, size sz, ptr buf
fstatfs64: uint fd:fd, size sz, ptr buf
access: str filename, int mode:amode
faccessat: int dfd:dirfd, str filename, int mode:amode
faccessat2: int dfd:dirfd, str filename, int mode:amode, int flags:atflags
unlink: str pathname
unlinkat: int dfd:dirfd, str pathname, int flag:atflags
mkdir: str pathname, u16 mode:mode
mkdirat: int dfd:dirfd, str pathname, u16 mode:mode
mknod: str filename, u16 mode:mode, uint dev:hex
mknodat: int dfd:dirfd, str filename, u16 mode:mode, uint dev:hex
rmdir: str pathname
chdir: str filename
fchdir: uint fd:fd
chroot: str filename
rename: str oldname, str newname
renameat: int olddfd:dirfd, str oldname, int newdfd:dirfd, str newname
renameat2: int olddfd:dirfd, str oldname, int newdfd:dirfd, str newname, uint flags:hex
link: str oldname, str newname
linkat: int olddfd:dirfd, str oldname, int newdfd:dirfd, str newname, int flags:atflags
symlink: str oldname, str newname
symlinkat: str oldname, int newdfd:dirfd, str newname
readlink: str path, ptr buf:rbuf, int bufsiz:size
readlinkat: int dfd:dirfd, str pathname, ptr buf:rbuf, int bufsiz:size
chmod: str filename, u16 mode:mode
fchmod: uint fd:fd, u16 mode:mode
fchmodat: int dfd:dirfd, str filename, u16 mode:mode
chown: str filename, uint user, uint group
lchown: str filename, uint user, uint group
fchown: uint fd:fd, uint user, uint group
fchownat: int dfd:dirfd, str filename, uint user, uint group, int flag:atflags
chown32: str filename, uint user, uint group
lchown32: str filename, uint user, uint group
fchown32: uint fd:fd, uint user, uint group
truncate: str path, long length
ftruncate: uint fd:fd, long length
truncate64: str path, loff length
ftruncate64: uint fd:fd, loff length
fallocate: int fd:fd, int mode:hex, loff offset, loff len
fadvise64: int fd:fd, loff offset, size len, int advice
arm_fadvise64_64: int fd:fd, int advice, loff offset, loff len
utimensat: int dfd:dirfd, str filename, ptr utimes, int flags:atflags
utimensat_time64: int dfd:dirfd, str filename, ptr utimes, int flags:atflags
utimes: str filename, ptr utimes
futimesat: int dfd:dirfd, str filename, ptr utimes
utime: str filename, ptr times
getcwd: ptr buf:rbuf, ulong size:size
getdents: uint fd:fd, ptr dirent, uint count:size
getdents64: uint fd:fd, ptr dirent, uint count:size
umask: int mask:mode
fsync: uint fd:fd
fdatasync: uint fd:fd
sync:
syncfs: int fd:fd
flock: uint fd:fd, uint cmd:int
sendfile: int out_fd:fd, int in_fd:fd, ptr offset, size count
sendfile64: int out_fd:fd, int in_fd:fd, ptr offset, size count
copy_file_range: int fd_in:fd, ptr off_in, int fd_out:fd, ptr off_out, size len, uint flags:hex
splice: int fd_in:fd, ptr off_in, int fd_out:fd, ptr off_out, size len, uint flags:hex
memfd_create: str uname, uint flags:hex
eventfd: uint count
eventfd2: uint count, int flags:oflags
inotify_init1: int flags:oflags
brk: ulong brk:ptr
mmap: ulong addr:ptr, ulong len:size, ulong prot:prot, ulong flags:mflags, ulong fd:fd,
    ulong off:int
mmap2: ulong addr:ptr, ulong len:size, ulong prot:prot, ulong flags:mflags, ulong fd:fd,
    ulong pgoff:int
munmap: ulong addr:ptr, size len
mprotect: ulong start:ptr, size len, ulong prot:prot
madvise: ulong start:ptr, size len_in, int behavior
mremap: ulong addr:ptr, ulong old_len:size, ulong new_len:size, ulong flags:hex, ulong new_addr:ptr
msync: ulong start:ptr, size len, int flags:hex
mincore: ulong start:ptr, size len, ptr vec
mlock: ulong start:ptr, size len
munlock: ulong start:ptr, size len
mlockall: int flags:hex
munlockall:
membarrier: int cmd, uint flags:hex, int cpu_id
shmget: int key:hex, size size, int shmflg:hex
shmat: int shmid, ptr shmaddr, int shmflg:hex
shmdt: ptr shmaddr
shmctl: int shmid, int cmd, ptr buf
ipc: uint call, int first, ulong second, ulong third, ptr ptr, long fifth
exit: int error_code
exit_group: int error_code
getpid:
getppid:
gettid:
getuid:
geteuid:
getgid:
getegid:
getuid32:
geteuid32:
getgid32:
getegid32:
getpgrp:
setsid:
sched_yield:
pause:
restart_syscall:
rt_sigreturn:
sigreturn:
fork:
vfork:
get_tls:
set_tid_address: ptr tidptr
set_robust_list: ptr head, size len
get_robust_list: int pid, ptr head_ptr, ptr len_ptr
rseq: ptr rseq, uint rseq_len, int flags:hex, uint sig:hex
prlimit64: int pid, uint resource, ptr new_rlim, ptr old_rlim
getrlimit: uint resource, ptr rlim
ugetrlimit: uint resource, ptr rlim
setrlimit: uint resource, ptr rlim
getrandom: ptr buf:rbuf, size count, uint flags:hex
arch_prctl: int option:hex, ulong arg2:hex
set_thread_area: ptr addr
set_tls: ulong val:ptr
cacheflush: ulong start:ptr, ulong end:ptr, int flags:hex
riscv_flush_icache: ulong start:ptr, ulong end:ptr, ulong flags:hex
uname: ptr name
sysinfo: ptr info
personality: uint personality:hex
kill: int pid, int sig
tkill: int pid, int sig
tgkill: int tgid, int pid, int sig
rt_sigaction: int sig, ptr act, ptr oact, size sigsetsize
rt_sigprocmask: int how, ptr nset, ptr oset, size sigsetsize
rt_sigsuspend: ptr unewset, size sigsetsize
rt_sigpending: ptr uset, size sigsetsize
rt_sigtimedwait: ptr uthese, ptr uinfo, ptr uts, size sigsetsize
rt_sigtimedwait_time64: ptr uthese, ptr uinfo, ptr uts, size sigsetsize
rt_sigqueueinfo: int pid, int sig, ptr uinfo
rt_tgsigqueueinfo: int tgid, int pid, int sig, ptr uinfo
sigaction: int sig, ptr act, ptr oact
sigprocmask: int how, ptr nset, ptr oset
sigaltstack: ptr uss, ptr uoss
signalfd4: int ufd:fd, ptr user_mask, size sizemask, int flags:oflags
clock_gettime: int which_clock, ptr tp
clock_gettime64: int which_clock, ptr tp
clock_settime: int which_clock, ptr tp
clock_getres: int which_clock, ptr tp
clock_getres_time64: int which_clock, ptr tp
clock_nanosleep: int which_clock, int flags:hex, ptr rqtp, ptr rmtp
clock_nanosleep_time64: int which_clock, int flags:hex, ptr rqtp, ptr rmtp
nanosleep: ptr rqtp, ptr rmtp
gettimeofday: ptr tv, ptr tz
settimeofday: ptr tv, ptr tz
time: ptr tloc
times: ptr tbuf
alarm: uint seconds
getitimer: int which, ptr value
setitimer: int which, ptr value, ptr ovalue
timer_create: int which_clock, ptr timer_event_spec, ptr created_timer_id
timer_settime: int timer_id, int flags:hex, ptr new_setting, ptr old_setting
timer_settime64: int timer_id, int flags:hex, ptr new_setting, ptr old_setting
timer_gettime: int timer_id, ptr setting
timer_gettime64: int timer_id, ptr setting
timer_getoverrun: int timer_id
timer_delete: int timer_id
timerfd_create: int clockid, int flags:oflags
timerfd_settime: int ufd:fd, int flags:hex, ptr utmr, ptr otmr
timerfd_gettime: int ufd:fd, ptr otmr
timerfd_settime64: int ufd:fd, int flags:hex, ptr utmr, ptr otmr
timerfd_gettime64: int ufd:fd, ptr otmr
futex: ptr uaddr, int op, uint val, ptr utime, ptr uaddr2, uint val3
futex_time64: ptr uaddr, int op, uint val, ptr utime, ptr uaddr2, uint val3
wait4: int upid, ptr stat_addr, int options:hex, ptr ru
waitid: int which, int upid, ptr infop, int options:hex, ptr ru
waitpid: int pid, ptr stat_addr, int options:hex
clone: ulong clone_flags:hex, ulong newsp:ptr, ptr parent_tidptr, ulong tls:ptr, ptr child_tidptr
clone3: ptr uargs, size size
execve: str filename, ptr argv, ptr envp
execveat: int fd:dirfd, str filename, ptr argv, ptr envp, int flags:atflags
prctl: int option, ulong arg2:hex, ulong arg3:hex, ulong arg4:hex, ulong arg5:hex
sched_getaffinity: int pid, uint len:size, ptr user_mask_ptr
sched_setaffinity: int pid, uint len:size, ptr user_mask_ptr
sched_getscheduler: int pid
sched_setscheduler: int pid, int policy, ptr param
sched_getparam: int pid, ptr param
sched_setparam: int pid, ptr param
sched_get_priority_max: int policy
sched_get_priority_min: int policy
sched_rr_get_interval: int pid, ptr interval
sched_rr_get_interval_time64: int pid, ptr interval
getpriority: int which, int who
setpriority: int which, int who, int niceval
nice: int increment
getcpu: ptr cpup, ptr nodep, ptr unused
poll: ptr ufds, uint nfds, int timeout_msecs
ppoll: ptr ufds, uint nfds, ptr tsp, ptr sigmask, size sigsetsize
ppoll_time64: ptr ufds, uint nfds, ptr tsp, ptr sigmask, size sigsetsize
select: int n, ptr inp, ptr outp, ptr exp, ptr tvp
_newselect: int n, ptr inp, ptr outp, ptr exp, ptr tvp
pselect6: int n, ptr inp, ptr outp, ptr exp, ptr tsp, ptr sig
pselect6_time64: int n, ptr inp, ptr outp, ptr exp, ptr tsp, ptr sig
epoll_create: int size
epoll_create1: int flags:oflags
epoll_ctl: int epfd:fd, int op, int fd:fd, ptr event
epoll_wait: int epfd:fd, ptr events, int maxevents, int timeout
epoll_pwait: int epfd:fd, ptr events, int maxevents, int timeout, ptr sigmask, size sigsetsize
epoll_pwait2: int epfd:fd, ptr events, int maxevents, ptr timeout, ptr sigmask, size sigsetsize
setpgid: int pid, int pgid
getpgid: int pid
getsid: int pid
setuid: uint uid
setgid: uint gid
setuid32: uint uid
setgid32: uint gid
setreuid: uint ruid, uint euid
setregid: uint rgid, uint egid
setresuid: uint ruid, uint euid, uint suid
setresgid: uint rgid, uint egid, uint sgid
getresuid: ptr ruidp, ptr euidp, ptr suidp
getresuid32: ptr ruidp, ptr euidp, ptr suidp
getresgid: ptr rgidp, ptr egidp, ptr sgidp
getresgid32: ptr rgidp, ptr egidp, ptr sgidp
getgroups: int gidsetsize, ptr grouplist
getgroups32: int gidsetsize, ptr grouplist
setgroups: int gidsetsize, ptr grouplist
getrusage: int who, ptr ru
socket: int family, int type, int protocol
socketpair: int family, int type, int protocol, ptr usockvec
bind: int fd:fd, ptr umyaddr, int addrlen
connect: int fd:fd, ptr uservaddr, int addrlen
listen: int fd:fd, int backlog
accept: int fd:fd, ptr upeer_sockaddr, ptr upeer_addrlen
accept4: int fd:fd, ptr upeer_sockaddr, ptr upeer_addrlen, int flags:oflags
getsockname: int fd:fd, ptr usockaddr, ptr usockaddr_len
getpeername: int fd:fd, ptr usockaddr, ptr usockaddr_len
sendto: int fd:fd, ptr buff:buf, size len, uint flags:hex, ptr addr, int addr_len
recvfrom: int fd:fd, ptr ubuf:rbuf, size size, uint flags:hex, ptr addr, ptr addr_len
send: int fd:fd, ptr buff:buf, size len, uint flags:hex
recv: int fd:fd, ptr ubuf:rbuf, size size, uint flags:hex
setsockopt: int fd:fd, int level, int optname, ptr optval, int optlen
getsockopt: int fd:fd, int level, int optname, ptr optval, ptr optlen
shutdown: int fd:fd, int how
sendmsg: int fd:fd, ptr msg, uint flags:hex
recvmsg: int fd:fd, ptr msg, uint flags:hex
sendmmsg: int fd:fd, ptr mmsg, uint vlen, uint flags:hex
recvmmsg: int fd:fd, ptr mmsg, uint vlen, uint flags:hex, ptr timeout
socketcall: int call, ptr args
unshare: ulong unshare_flags:hex
setns: int fd:fd, int flags:hex
pidfd_open: int pid, uint flags:hex
pidfd_send_signal: int pidfd:fd, int sig, ptr info, uint flags:hex
io_uring_setup: uint entries, ptr p
io_uring_enter: uint fd:fd, uint to_submit, uint min_complete, uint flags:hex, ptr argp, size argsz
io_uring_register: uint fd:fd, uint opcode, ptr arg, uint nr_args
capget: ptr header, ptr dataptr
capset: ptr header, ptr data
"""


@cache
def _entries() -> dict[str, str]:
    """Each listed call's unparsed argument list, by name (one cheap split of the table)."""
    entries: dict[str, str] = {}
    for line in _SPECS.strip().replace("\n    ", " ").splitlines():
        name, _, rest = line.partition(":")
        assert name not in entries, name
        entries[name] = rest
    return entries


def _parse(name: str, rest: str) -> tuple[SyscallParam, ...]:
    params = []
    for item in filter(None, (p.strip() for p in rest.split(","))):
        ctype, _, arg = item.partition(" ")
        arg_name, _, kind = arg.partition(":")
        kind = kind or CLASSES[ctype]
        assert ctype in CLASSES and kind in KINDS, (name, item)
        params.append(SyscallParam(arg_name, ctype, kind))
    return tuple(params)


#: what a call without an entry gets: six full-width words
DEFAULT: tuple[SyscallParam, ...] = tuple(SyscallParam(f"arg{i}", "long", "int") for i in range(6))

if TYPE_CHECKING:
    #: name -> its declared arguments (every entry parsed, on first access)
    SIGNATURES: dict[str, tuple[SyscallParam, ...]]


@cache
def declared(name: str) -> tuple[SyscallParam, ...] | None:
    """The declared arguments of syscall ``name``; ``None`` when the table has no entry.

    Entries are parsed one at a time, on first use: a run parses the calls its guest makes.
    """
    rest = _entries().get(name)
    return None if rest is None else _parse(name, rest)


def signature(name: str) -> tuple[SyscallParam, ...]:
    """The declared arguments of syscall ``name`` (:data:`DEFAULT` when not listed)."""
    params = declared(name)
    return DEFAULT if params is None else params


def __getattr__(name: str) -> Any:
    """``SIGNATURES``, the whole table parsed, built (and kept) on first access."""
    if name != "SIGNATURES":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    table = {n: signature(n) for n in _entries()}
    globals()[name] = table
    return table
