/*
 * cpu_syscalls.c - syscalls qemu-user 7.2 answers that are private to an
 * architecture or about permissions, printed so the output can be compared:
 *   chmod/fchmod/fchmodat, chown/lchown/fchown/fchownat (ids left unchanged or
 *   set to the caller's own) in the directory argv[1] (holding "f" and "l" -> "f"), rseq (ENOSYS under qemu 7.2), and per arch:
 *   aarch64 prctl(PR_SVE_GET_VL/SET_VL) with the vector length seen by cntb,
 *   riscv64 riscv_flush_icache, arm cacheflush and get_tls, x86_64 the flags
 *   after cmpxchg/cmpxchg8b/cmpxchg16b.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

static void mode(const char *what, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        printf("%s: lstat failed\n", what);
    else
        printf("%s: mode %04o\n", what, (unsigned)(st.st_mode & 07777));
}

int main(int argc, char **argv)
{
    /* argv[1]: a directory holding a file "f" and a symbolic link "l" -> "f" */
    if (argc < 2)
        return 2;
    const char *dir = argv[1];
    char file[4096], link[4096];
    snprintf(file, sizeof file, "%s/f", dir);
    snprintf(link, sizeof link, "%s/l", dir);
    int fd = open(file, O_WRONLY);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    uid_t u = getuid();
    gid_t g = getgid();

    show("chmod 0600", syscall(SYS_fchmodat, AT_FDCWD, file, 0600));
#ifdef SYS_chmod
    show("chmod (old) 0611", syscall(SYS_chmod, file, 0611));
#endif
    mode("after chmod", file);
    show("fchmod 0640", fchmod(fd, 0640));
    mode("after fchmod", file);
    show("fchmodat 0604", fchmodat(dfd, "f", 0604, 0));
    mode("after fchmodat", file);
    show("chmod missing", chmod("/tmp/qpp-cpu-syscalls-no/such", 0600));
    show("chown -1 -1", chown(file, -1, -1));
    show("chown self", chown(file, u, g));
    show("lchown self", lchown(link, u, g));
    show("fchown self", fchown(fd, u, -1));
    show("fchownat nofollow", fchownat(dfd, "l", u, g, AT_SYMLINK_NOFOLLOW));
    show("fchownat empty", fchownat(fd, "", -1, g, AT_EMPTY_PATH));
    show("chown missing", chown("/tmp/qpp-cpu-syscalls-no/such", u, g));
#ifdef SYS_chown
    show("chown (old) self", syscall(SYS_chown, file, u, g));
#endif
#ifdef SYS_chown32
    show("chown32 self", syscall(SYS_chown32, file, u, g));
#endif
    mode("link untouched", link);
    errno = 0;
    show("rseq", syscall(SYS_rseq, 0, 0, 0, 0));

#if defined(__aarch64__)
    show("PR_SVE_GET_VL", prctl(PR_SVE_GET_VL));
    show("PR_SVE_SET_VL 32", prctl(PR_SVE_SET_VL, 32));
    unsigned long bytes;
    __asm__ volatile(".inst 0x0420e3e0\n\tmov %0, x0" : "=r"(bytes) : : "x0"); /* cntb x0 */
    printf("cntb = %lu\n", bytes);
    show("PR_SVE_GET_VL", prctl(PR_SVE_GET_VL));
    show("PR_SVE_SET_VL 17", prctl(PR_SVE_SET_VL, 17));
    show("PR_SVE_SET_VL 64", prctl(PR_SVE_SET_VL, 64));
    __asm__ volatile(".inst 0x0420e3e0\n\tmov %0, x0" : "=r"(bytes) : : "x0");
    printf("cntb = %lu\n", bytes);
#elif defined(__riscv)
    show("riscv_flush_icache", syscall(259, 0, 0, 0));
#elif defined(__arm__)
    static char code[64];
    show("cacheflush", syscall(0xf0002, code, code + sizeof code, 0));
    long tls = syscall(0xf0006);
    printf("get_tls matches: %d\n", tls == (long)__builtin_thread_pointer());
#elif defined(__x86_64__)
    unsigned long v = 5, flags;
    __asm__ volatile("mov $5, %%eax\n\tmov $7, %%ecx\n\tlock cmpxchg %%rcx, %1\n\tpushf\n\tpop %0"
                     : "=r"(flags), "+m"(v) : : "rax", "rcx", "cc");
    printf("cmpxchg equal: v=%lu flags=%03lx\n", v, flags & 0x8d5);
    __asm__ volatile("mov $1, %%eax\n\tmov $9, %%ecx\n\tlock cmpxchg %%rcx, %1\n\tpushf\n\tpop %0"
                     : "=r"(flags), "+m"(v) : : "rax", "rcx", "cc");
    printf("cmpxchg differ: v=%lu flags=%03lx\n", v, flags & 0x8d5);
    /* cmpxchg8b/16b define ZF only and leave the other flags alone; qemu 7.2 and unicorn
     * both clobber PF depending on the code around it, so only ZF is compared */
    unsigned long long q = 3;
    unsigned lo;
    __asm__ volatile("mov $3, %%eax\n\txor %%edx, %%edx\n\tmov $4, %%ebx\n\txor %%ecx, %%ecx\n\t"
                     "lock cmpxchg8b %1\n\tpushf\n\tpop %0"
                     : "=r"(flags), "+m"(q) : : "rax", "rbx", "rcx", "rdx", "cc");
    printf("cmpxchg8b equal: q=%llu flags=%03lx\n", q, flags & 0x40);
    __asm__ volatile("mov $3, %%eax\n\txor %%edx, %%edx\n\tmov $5, %%ebx\n\txor %%ecx, %%ecx\n\t"
                     "lock cmpxchg8b %1\n\tmov %%eax, %2\n\tpushf\n\tpop %0"
                     : "=r"(flags), "+m"(q), "=r"(lo) : : "rax", "rbx", "rcx", "rdx", "cc");
    printf("cmpxchg8b differ: q=%llu eax=%u flags=%03lx\n", q, lo, flags & 0x40);
    static unsigned long long o[2] __attribute__((aligned(16))) = {1, 2};
    __asm__ volatile("mov $1, %%eax\n\tmov $2, %%edx\n\tmov $8, %%ebx\n\tmov $9, %%ecx\n\t"
                     "lock cmpxchg16b %1\n\tpushf\n\tpop %0"
                     : "=r"(flags), "+m"(o) : : "rax", "rbx", "rcx", "rdx", "cc");
    printf("cmpxchg16b equal: %llu %llu flags=%03lx\n", o[0], o[1], flags & 0x40);
    __asm__ volatile("mov $1, %%eax\n\tmov $2, %%edx\n\tmov $8, %%ebx\n\tmov $9, %%ecx\n\t"
                     "lock cmpxchg16b %1\n\tpushf\n\tpop %0"
                     : "=r"(flags), "+m"(o) : : "rax", "rbx", "rcx", "rdx", "cc");
    printf("cmpxchg16b differ: %llu %llu flags=%03lx\n", o[0], o[1], flags & 0x40);
#endif
    close(fd);
    close(dfd);
    return 0;
}
