/* Raw syscalls with garbage in the upper 32 bits of their int / unsigned int arguments.
 *
 * The kernel declares these arguments as 32-bit C types and ignores the register's upper
 * half (glibc x86_64 passes AT_FDCWD as 0x00000000ffffff9c). Each line printed is what
 * Linux (and qemu-user) gives; on 32-bit targets the garbage vanishes in the cast below.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup __NR_io_uring_setup
#endif

/* x with 0xdeadbeef in the upper half of a 64-bit word (nothing on 32-bit targets) */
static long hi(unsigned int x) {
    unsigned long long junk = 0xdeadbeef00000000ULL & (unsigned long long)~0UL;
    return (long)(unsigned long)(junk | x);
}

/* AT_FDCWD as a 32-bit value with a zero upper half, as glibc's `mov $-100,%edi` */
static long cwd32(void) { return (long)(unsigned long)(unsigned int)AT_FDCWD; }

static void report(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerror(errno));
    else
        printf("%s: %ld\n", what, r);
}

int main(void) {
    const char *name = "abi_intargs.tmp";
    char buf[64] = {0};
    report("write", syscall(SYS_write, hi(1), "write to fd 1|junk\n", 19));
    long fd = syscall(SYS_openat, cwd32(), name, hi(O_WRONLY | O_CREAT | O_TRUNC), hi(0640));
    report("openat AT_FDCWD (32-bit)", fd >= 0 ? 3 : fd);
    report("write file", syscall(SYS_write, hi((unsigned int)fd), "relative path\n", 14));
    report("fcntl F_GETFL", syscall(SYS_fcntl, hi((unsigned int)fd), hi(F_GETFL)) & O_ACCMODE);
    long dupfd = syscall(SYS_dup, hi((unsigned int)fd));
    report("dup", dupfd > fd ? 1 : dupfd);
    report("close dup", syscall(SYS_close, hi((unsigned int)dupfd)));
    report("close", syscall(SYS_close, hi((unsigned int)fd)));
    report("faccessat", syscall(SYS_faccessat, cwd32(), name, hi(R_OK)));
    fd = syscall(SYS_openat, cwd32(), name, hi(O_RDONLY), 0);
    report("openat read", fd >= 0 ? 3 : fd);
#ifdef SYS_lseek
    report("lseek", syscall(SYS_lseek, hi((unsigned int)fd), 9L, hi(SEEK_SET)));
#else
    report("lseek", lseek((int)fd, 9, SEEK_SET));
#endif
    long n = syscall(SYS_read, hi((unsigned int)fd), buf, 5UL);
    report("read", n);
    printf("read text: %.5s\n", buf);
    syscall(SYS_close, fd);
    report("unlinkat", syscall(SYS_unlinkat, cwd32(), name, hi(0)));
    report("mkdirat", syscall(SYS_mkdirat, cwd32(), "abi_intargs.dir", hi(0750)));
    report("unlinkat dir", syscall(SYS_unlinkat, cwd32(), "abi_intargs.dir", hi(AT_REMOVEDIR)));
    report("kill 0", syscall(SYS_kill, hi((unsigned int)getpid()), hi(0)));
    long r = syscall(SYS_io_uring_setup, 1L, (long)0);
    printf("io_uring_setup: %s\n", r < 0 && errno == ENOSYS ? "ENOSYS" : "other");
    fflush(stdout);
    return 0;
}
