"""Syscall numbers per ABI (data only): ``NUMBERS[abi][number] -> name``.

Four tables cover the five architectures: x86_64, the asm-generic table (aarch64 and
riscv64), arm EABI and mips o32 (numbers offset by 4000). Names are the kernel's, so
one handler serves an architecture under whatever number it uses.
"""

from __future__ import annotations


def _table(text: str, offset: int = 0) -> dict[int, str]:
    out: dict[int, str] = {}
    for item in text.split():
        name, num = item.rsplit("=", 1)
        out[int(num, 0) + offset] = name
    return out


X86_64 = _table("""
read=0 write=1 open=2 close=3 stat=4 fstat=5 lstat=6 poll=7 lseek=8 mmap=9 mprotect=10
munmap=11 brk=12 rt_sigaction=13 rt_sigprocmask=14 rt_sigreturn=15 ioctl=16 pread64=17
pwrite64=18 readv=19 writev=20 access=21 pipe=22 select=23 sched_yield=24 mremap=25
msync=26 mincore=27 madvise=28 dup=32 dup2=33 pause=34 nanosleep=35 getitimer=36 alarm=37
setitimer=38 getpid=39 sendfile=40 socket=41 exit=60 wait4=61 kill=62 uname=63 fcntl=72
flock=73 fsync=74 fdatasync=75 truncate=76 ftruncate=77 getdents=78 getcwd=79 chdir=80
fchdir=81 rename=82 mkdir=83 rmdir=84 creat=85 link=86 unlink=87 symlink=88 readlink=89
chmod=90 fchmod=91 chown=92 umask=95 gettimeofday=96 getrlimit=97 getrusage=98 sysinfo=99
times=100 getuid=102 getgid=104 setuid=105 setgid=106 geteuid=107 getegid=108 setpgid=109
getppid=110 getpgrp=111 setsid=112 getpgid=121 getsid=124 sigaltstack=131 prctl=157
arch_prctl=158 setrlimit=160 sync=162 gettid=186 tkill=200 time=201 futex=202
sched_getaffinity=204 getdents64=217 set_tid_address=218 clock_gettime=228
clock_getres=229 clock_nanosleep=230 exit_group=231 tgkill=234 openat=257 mkdirat=258
newfstatat=262 unlinkat=263 renameat=264 linkat=265 symlinkat=266 readlinkat=267
fchmodat=268 faccessat=269 pselect6=270 ppoll=271 set_robust_list=273 dup3=292 pipe2=293
prlimit64=302 getcpu=309 renameat2=316 getrandom=318 membarrier=324 statx=332 rseq=334
close_range=436 faccessat2=439
""")

GENERIC = _table("""
getcwd=17 dup=23 dup3=24 fcntl=25 ioctl=29 flock=32 mkdirat=34 unlinkat=35 symlinkat=36
linkat=37 renameat=38 truncate=45 ftruncate=46 faccessat=48 chdir=49 fchdir=50 fchmod=52
fchmodat=53 fchownat=54 openat=56 close=57 pipe2=59 getdents64=61 lseek=62 read=63
write=64 readv=65 writev=66 pread64=67 pwrite64=68 sendfile=71 pselect6=72 ppoll=73
readlinkat=78 newfstatat=79 fstat=80 sync=81 fsync=82 fdatasync=83 exit=93 exit_group=94
set_tid_address=96 futex=98 set_robust_list=99 nanosleep=101 getitimer=102 setitimer=103
clock_gettime=113 clock_getres=114 clock_nanosleep=115 sched_getaffinity=123
sched_yield=124 kill=129 tkill=130 tgkill=131 sigaltstack=132 rt_sigaction=134
rt_sigprocmask=135 rt_sigreturn=139 times=153 setpgid=154 getpgid=155 getsid=156
setsid=157 uname=160 getrlimit=163 setrlimit=164 getrusage=165 umask=166 prctl=167
getcpu=168 gettimeofday=169 getpid=172 getppid=173 getuid=174 geteuid=175 getgid=176
getegid=177 gettid=178 sysinfo=179 brk=214 munmap=215 mremap=216 mmap=222 mprotect=226
msync=227 mincore=232 madvise=233 wait4=260 prlimit64=261 renameat2=276 getrandom=278
membarrier=283 statx=291 rseq=293 close_range=436 faccessat2=439
""")

ARM = _table("""
restart_syscall=0 exit=1 read=3 write=4 open=5 close=6 creat=8 link=9 unlink=10 chdir=12
lseek=19 getpid=20 getuid=24 access=33 sync=36 kill=37 rename=38 mkdir=39 rmdir=40 dup=41
pipe=42 times=43 brk=45 getgid=47 geteuid=49 getegid=50 ioctl=54 fcntl=55 setpgid=57
umask=60 dup2=63 getppid=64 getpgrp=65 setsid=66 setrlimit=75 getrusage=77
gettimeofday=78 symlink=83 readlink=85 munmap=91 truncate=92 ftruncate=93 fchmod=94
stat=106 lstat=107 fstat=108 wait4=114 sysinfo=116 fsync=118 uname=122 mprotect=125
_llseek=140 getdents=141 _newselect=142 flock=143 msync=144 readv=145 writev=146
getsid=147 fdatasync=148 sched_yield=158 nanosleep=162 mremap=163 poll=168 prctl=172
rt_sigreturn=173 rt_sigaction=174 rt_sigprocmask=175 pread64=180 pwrite64=181 getcwd=183
sigaltstack=186 sendfile=187 ugetrlimit=191 mmap2=192 truncate64=193 ftruncate64=194
stat64=195 lstat64=196 fstat64=197 getuid32=199 getgid32=200 geteuid32=201
getegid32=202 getdents64=217 madvise=220 fcntl64=221 gettid=224 tkill=238 sendfile64=239
futex=240 sched_getaffinity=242 exit_group=248 set_tid_address=256 clock_gettime=263
clock_getres=264 clock_nanosleep=265 tgkill=268 openat=322 mkdirat=323 fstatat64=327
unlinkat=328 renameat=329 linkat=330 symlinkat=331 readlinkat=332 fchmodat=333
faccessat=334 pselect6=335 ppoll=336 set_robust_list=338 getcpu=345 dup3=358 pipe2=359
prlimit64=369 renameat2=382 getrandom=384 membarrier=389 statx=397 rseq=398
clock_gettime64=403 clock_getres_time64=406 clock_nanosleep_time64=407 close_range=436
faccessat2=439 breakpoint=0xf0001 cacheflush=0xf0002 usr26=0xf0003 usr32=0xf0004
set_tls=0xf0005 get_tls=0xf0006
""")

MIPS_O32 = _table(
    """
exit=1 read=3 write=4 open=5 close=6 unlink=10 chdir=12 time=13 lseek=19 getpid=20
getuid=24 access=33 sync=36 kill=37 rename=38 mkdir=39 rmdir=40 dup=41 pipe=42 times=43
brk=45 getgid=47 geteuid=49 getegid=50 ioctl=54 fcntl=55 setpgid=57 umask=60 dup2=63
getppid=64 getpgrp=65 setsid=66 setrlimit=75 getrlimit=76 getrusage=77 gettimeofday=78
symlink=83 readlink=85 mmap=90 munmap=91 truncate=92 ftruncate=93 fchmod=94 stat=106
lstat=107 fstat=108 wait4=114 sysinfo=116 fsync=118 uname=122 mprotect=125 _llseek=140
getdents=141 _newselect=142 flock=143 msync=144 readv=145 writev=146 cacheflush=147
getsid=151 fdatasync=152 sched_yield=162 nanosleep=166 mremap=167 poll=188 prctl=192
rt_sigreturn=193 rt_sigaction=194 rt_sigprocmask=195 pread64=200 pwrite64=201 getcwd=203
sigaltstack=206 sendfile=207 mmap2=210 truncate64=211 ftruncate64=212 stat64=213
lstat64=214 fstat64=215 madvise=218 getdents64=219 fcntl64=220 gettid=222 tkill=236
futex=238 sched_getaffinity=240 exit_group=246 set_tid_address=252 clock_gettime=263
clock_getres=264 clock_nanosleep=265 tgkill=266 set_thread_area=283 openat=288
mkdirat=289 fstatat64=293 unlinkat=294 renameat=295 linkat=296 symlinkat=297
readlinkat=298 fchmodat=299 faccessat=300 pselect6=301 ppoll=302 set_robust_list=309
getcpu=312 dup3=327 pipe2=328 prlimit64=338 renameat2=351 getrandom=353 membarrier=358
statx=366 rseq=367 clock_gettime64=403 clock_getres_time64=406
clock_nanosleep_time64=407 close_range=436 faccessat2=439
""",
    offset=4000,
)

# SysV shared memory (mips o32 also has the older ipc() multiplexer, which glibc uses)
X86_64.update(_table("shmget=29 shmat=30 shmctl=31 shmdt=67"))
GENERIC.update(_table("shmget=194 shmctl=195 shmat=196 shmdt=197"))
ARM.update(_table("shmat=305 shmdt=306 shmget=307 shmctl=308"))
MIPS_O32.update(_table("ipc=117 shmget=395 shmctl=396 shmat=397 shmdt=398", offset=4000))

NUMBERS: dict[str, dict[int, str]] = {
    "x86_64": X86_64,
    "aarch64": GENERIC,
    "riscv64": {**GENERIC, 259: "riscv_flush_icache"},
    "arm": ARM,
    "mipsel": MIPS_O32,
}
