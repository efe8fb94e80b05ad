/* mmap, munmap, mprotect and brk with out-of-range arguments: Linux's errno, never a crash.
 * Also a 1 TB sparse file: its last GB mapped (64-bit) and read. Left out where qemu-user
 * 7.2 is not Linux: mprotect of length 0 (qemu: ENOMEM), MAP_FIXED_NOREPLACE (qemu: maps). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>


static const char *name(int e) {
    switch (e) {
    case 0: return "ok";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EOVERFLOW: return "EOVERFLOW";
    default: return "other";
    }
}

static void show_map(const char *what, void *p) {
    printf("%-28s %s\n", what, p == MAP_FAILED ? name(errno) : "mapped");
}

static void show_ret(const char *what, long r) {
    printf("%-28s %s\n", what, r == 0 ? "ok" : r < 0 ? name(errno) : "positive");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int big = sizeof(long) == 8;
    size_t huge = big ? (size_t)1 << (big ? 46 : 0) : (size_t)0xF0000000u; /* 64 TB / 3.75 GB */
    int P = PROT_READ | PROT_WRITE, A = MAP_PRIVATE | MAP_ANONYMOUS;
    errno = 0;
    show_map("anon huge", mmap(NULL, huge, P, A, -1, 0));
    show_map("anon length 0", mmap(NULL, 0, P, A, -1, 0));
    show_map("anon length max", mmap(NULL, SIZE_MAX, P, A, -1, 0));
    show_map("anon length max-4095", mmap(NULL, SIZE_MAX - 4095, P, A, -1, 0));
    show_map("fixed unaligned", mmap((void *)0x10000123, 4096, P, A | MAP_FIXED, -1, 0));
    show_map("no private/shared", mmap(NULL, 4096, P, MAP_ANONYMOUS, -1, 0));
    show_map("bad fd", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 12345, 0));
    show_map("negative fd", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0));
    char *p = mmap(NULL, 8192, P, A, -1, 0);
    show_map("anon 2 pages", p);
    show_map("fixed over it", mmap(p, 4096, P, A | MAP_FIXED, -1, 0));
    show_map("hint unaligned", mmap(p + 1, 4096, P, A, -1, 0));
    uintptr_t top = big ? (uintptr_t)1 << (big ? 56 : 0) : 0;
    if (big) show_map("fixed above the top", mmap((void *)top, 4096, P, A | MAP_FIXED, -1, 0));
    show_map("fixed wraps around", mmap((void *)-4096, 8192, P, A | MAP_FIXED, -1, 0));

    char path[] = "/tmp/qpp-mem-argsXXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    write(fd, "hello", 5);
    show_map("file offset unaligned", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 100));
    int wo = open("/dev/null", O_WRONLY);
    show_map("write-only fd", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, wo, 0));
    int dir = open("/", O_RDONLY);
    show_map("directory fd", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, dir, 0));
    int ro = open("/proc/self/exe", O_RDONLY);
    show_map("shared write of r/o fd", mmap(NULL, 4096, P, MAP_SHARED, ro, 0));
    if (big) {
        show_ret("ftruncate 1 TB", ftruncate(fd, (off_t)1 << (big ? 40 : 0)));
        size_t gb = (size_t)1 << (big ? 30 : 0), tb = (size_t)1 << (big ? 40 : 0);
        pwrite(fd, "end", 3, tb - 3);
        char *f = mmap(NULL, gb, PROT_READ, MAP_PRIVATE, fd, tb - gb);
        if (f == MAP_FAILED) {
            printf("%-28s %s\n", "map last GB of 1 TB file", name(errno));
        } else {
            printf("%-28s %d %.3s\n", "map last GB of 1 TB file", f[0], f + gb - 3);
            printf("%-28s %s\n", "munmap it", munmap(f, gb) ? name(errno) : "ok");
        }
        /* qemu-user maps the whole terabyte; qpp may refuse with ENOMEM */
        f = mmap(NULL, tb, PROT_READ, MAP_PRIVATE, fd, 0);
        if (f == MAP_FAILED && errno != ENOMEM)
            printf("%-28s %s\n", "map 1 TB file", name(errno));
        else
            printf("%-28s %s\n", "map 1 TB file", "mapped or ENOMEM");
        if (f != MAP_FAILED) munmap(f, tb);
    }
    show_ret("munmap unaligned", munmap(p + 1, 4096));
    show_ret("munmap length 0", munmap(p, 0));
    show_ret("munmap huge", munmap(p, (size_t)-8192));
    show_ret("munmap unmapped", munmap((void *)0x7000000, 4096));
    show_ret("mprotect unaligned", mprotect(p + 1, 4096, PROT_READ));
    show_ret("mprotect bad prot", mprotect(p, 4096, 0x100));
    show_ret("mprotect huge", mprotect(p, (size_t)-8192, PROT_READ));
    if (big) { /* qemu-user 7.2 does not check 32-bit guests' ranges are mapped */
        show_ret("mprotect unmapped", mprotect((void *)0x7000000, 4096, PROT_READ));
        show_ret("mprotect partly mapped", mprotect(p, 3 * 4096 + ((size_t)1 << 30), PROT_READ));
    }
    show_ret("madvise unaligned", madvise(p + 1, 4096, MADV_DONTNEED));
    show_ret("msync unaligned", msync(p + 1, 4096, MS_SYNC));
    show_ret("msync bad flags", msync(p, 4096, MS_SYNC | MS_ASYNC));
    long b = syscall(SYS_brk, 0);
    printf("%-28s %s\n", "brk(-1)", syscall(SYS_brk, (long)-1) == b ? "unchanged" : "moved");
    printf("%-28s %s\n", "brk(huge)", syscall(SYS_brk, b + (long)huge) == b ? "unchanged" : "moved");
    return 0;
}
