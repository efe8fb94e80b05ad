"""Syscall signatures by name: what each argument is, so that it can be decoded and shown.

Data only. Names are the kernel's (as in :mod:`qpp_core.linux.syscalls.numbers`, whose
per-architecture number tables this package reuses), so one entry serves every
architecture that has the call, under whatever number it uses there. A call without an
entry is decoded as six ``long`` arguments.

Argument kinds (the ``kind`` of :class:`qpp_syscalls.api.SyscallArg`):

``int`` signed word; ``uint`` unsigned word; ``fd`` file descriptor; ``dirfd`` directory
fd (``AT_FDCWD``); ``ptr`` address; ``str`` NUL-terminated string in guest memory;
``buf`` input buffer whose length is the next ``size`` argument; ``rbuf`` output buffer
(filled by the call: its length is the result);
``size`` byte count; ``oflags`` open(2) flags (per-architecture values); ``mode`` octal
permission bits; ``whence`` lseek's SEEK_*; ``prot`` PROT_*; ``mflags`` MAP_*;
``atflags`` AT_*; ``amode`` access(2) mode; ``hex`` other flags, shown in hex.
"""

from __future__ import annotations

#: kind of the result: "int" (decimal, -errno on failure) or "ptr" (an address)
PTR_RESULT = frozenset({"brk", "mmap", "mmap2", "mremap"})

_KIND_LIST = (
    "int uint fd dirfd ptr str buf rbuf size oflags mode whence prot mflags atflags amode hex"
)
KINDS = frozenset(_KIND_LIST.split(" "))

_SPECS = """
read: fd fd, rbuf buf, size count
write: fd fd, buf buf, size count
pread64: fd fd, rbuf buf, size count, int pos
pwrite64: fd fd, buf buf, size count, int pos
readv: fd fd, ptr iov, int iovcnt
writev: fd fd, ptr iov, int iovcnt
open: str pathname, oflags flags, mode mode
openat: dirfd dirfd, str pathname, oflags flags, mode mode
creat: str pathname, mode mode
close: fd fd
close_range: uint fd, uint max_fd, hex flags
lseek: fd fd, int offset, whence whence
_llseek: fd fd, uint offset_high, uint offset_low, ptr result, whence whence
dup: fd oldfd
dup2: fd oldfd, fd newfd
dup3: fd oldfd, fd newfd, oflags flags
fcntl: fd fd, int cmd, hex arg
fcntl64: fd fd, int cmd, hex arg
ioctl: fd fd, hex request, hex arg
pipe: ptr pipefd
pipe2: ptr pipefd, oflags flags
stat: str pathname, ptr statbuf
lstat: str pathname, ptr statbuf
fstat: fd fd, ptr statbuf
stat64: str pathname, ptr statbuf
lstat64: str pathname, ptr statbuf
fstat64: fd fd, ptr statbuf
newfstatat: dirfd dirfd, str pathname, ptr statbuf, atflags flags
fstatat64: dirfd dirfd, str pathname, ptr statbuf, atflags flags
statx: dirfd dirfd, str pathname, atflags flags, hex mask, ptr statxbuf
access: str pathname, amode mode
faccessat: dirfd dirfd, str pathname, amode mode
faccessat2: dirfd dirfd, str pathname, amode mode, atflags flags
unlink: str pathname
unlinkat: dirfd dirfd, str pathname, atflags flags
mkdir: str pathname, mode mode
mkdirat: dirfd dirfd, str pathname, mode mode
rmdir: str pathname
chdir: str path
fchdir: fd fd
rename: str oldpath, str newpath
renameat: dirfd olddirfd, str oldpath, dirfd newdirfd, str newpath
renameat2: dirfd olddirfd, str oldpath, dirfd newdirfd, str newpath, hex flags
link: str oldpath, str newpath
linkat: dirfd olddirfd, str oldpath, dirfd newdirfd, str newpath, atflags flags
symlink: str target, str linkpath
symlinkat: str target, dirfd newdirfd, str linkpath
readlink: str pathname, rbuf buf, size bufsiz
readlinkat: dirfd dirfd, str pathname, rbuf buf, size bufsiz
chmod: str pathname, mode mode
fchmod: fd fd, mode mode
fchmodat: dirfd dirfd, str pathname, mode mode
truncate: str path, int length
ftruncate: fd fd, int length
getcwd: rbuf buf, size size
getdents: fd fd, ptr dirp, size count
getdents64: fd fd, ptr dirp, size count
umask: mode mask
fsync: fd fd
fdatasync: fd fd
brk: ptr addr
mmap: ptr addr, size length, prot prot, mflags flags, fd fd, int offset
mmap2: ptr addr, size length, prot prot, mflags flags, fd fd, int pgoffset
munmap: ptr addr, size length
mprotect: ptr addr, size len, prot prot
madvise: ptr addr, size length, int advice
mremap: ptr old_address, size old_size, size new_size, hex flags, ptr new_address
msync: ptr addr, size length, hex flags
exit: int status
exit_group: int status
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
sync:
set_tid_address: ptr tidptr
set_robust_list: ptr head, size len
rseq: ptr rseq, uint rseq_len, hex flags, hex sig
prlimit64: int pid, int resource, ptr new_limit, ptr old_limit
getrlimit: int resource, ptr rlim
ugetrlimit: int resource, ptr rlim
setrlimit: int resource, ptr rlim
getrandom: rbuf buf, size buflen, hex flags
arch_prctl: hex code, hex addr
set_thread_area: ptr addr
set_tls: ptr addr
uname: ptr buf
sysinfo: ptr info
kill: int pid, int sig
tkill: int tid, int sig
tgkill: int tgid, int tid, int sig
rt_sigaction: int signum, ptr act, ptr oldact, size sigsetsize
rt_sigprocmask: int how, ptr set, ptr oldset, size sigsetsize
sigaltstack: ptr ss, ptr old_ss
clock_gettime: int clockid, ptr tp
clock_gettime64: int clockid, ptr tp
clock_getres: int clockid, ptr res
clock_nanosleep: int clockid, hex flags, ptr request, ptr remain
nanosleep: ptr req, ptr rem
gettimeofday: ptr tv, ptr tz
time: ptr tloc
times: ptr buf
futex: ptr uaddr, int futex_op, int val, ptr timeout, ptr uaddr2, int val3
wait4: int pid, ptr wstatus, hex options, ptr rusage
prctl: int option, hex arg2, hex arg3, hex arg4, hex arg5
sched_getaffinity: int pid, size cpusetsize, ptr mask
getcpu: ptr cpu, ptr node, ptr tcache
membarrier: int cmd, hex flags, int cpu_id
poll: ptr fds, uint nfds, int timeout
ppoll: ptr fds, uint nfds, ptr tmo_p, ptr sigmask, size sigsetsize
setpgid: int pid, int pgid
getpgid: int pid
getsid: int pid
setuid: uint uid
setgid: uint gid
flock: fd fd, int operation
sendfile: fd out_fd, fd in_fd, ptr offset, size count
socket: int domain, int type, int protocol
getrusage: int who, ptr usage
alarm: uint seconds
"""


def _parse(text: str) -> dict[str, tuple[tuple[str, str], ...]]:
    table: dict[str, tuple[tuple[str, str], ...]] = {}
    for line in text.strip().splitlines():
        name, _, rest = line.partition(":")
        args = []
        for item in filter(None, (p.strip() for p in rest.split(","))):
            kind, arg_name = item.split()
            assert kind in KINDS, (name, kind)
            args.append((kind, arg_name))
        table[name.strip()] = tuple(args)
    return table


#: name -> ((kind, argument name), ...)
SIGNATURES: dict[str, tuple[tuple[str, str], ...]] = _parse(_SPECS)

#: what a call without an entry gets
DEFAULT: tuple[tuple[str, str], ...] = tuple(("int", f"arg{i}") for i in range(6))
