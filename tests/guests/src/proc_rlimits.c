/* Resource limits as the guest sets and reads them (tests/linux/test_proc_rlimits.py).
 *
 * Prints the soft RLIMIT_NOFILE after setting it to 100 (the limit is applied), then that
 * RLIMIT_AS set to one page is taken but not applied (it would bound the emulator's own
 * memory: qemu-user's choice, and qpp's), then the raw old getrlimit(RLIMIT_AS) word where
 * the target has that call (32-bit mips answers RLIM_INFINITY as 0x7fffffff there), and
 * the same limit through prlimit64 (all ones for infinity on every target). mips numbers
 * RLIMIT_NOFILE 5 and RLIMIT_AS 6 (generic Linux: 7 and 9): the C library's macros give
 * the guest's numbers, which qpp must translate.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, unsigned long long v)
{
    if (v == (unsigned long long)RLIM_INFINITY)
        printf("%s inf\n", what);
    else
        printf("%s %llu\n", what, v);
}

int main(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        perror("getrlimit");
    r.rlim_cur = 100;
    if (setrlimit(RLIMIT_NOFILE, &r) != 0)
        perror("setrlimit NOFILE");
    getrlimit(RLIMIT_NOFILE, &r);
    show("nofile", r.rlim_cur);

    struct rlimit page = {4096, 4096};
    if (setrlimit(RLIMIT_AS, &page) != 0)
        perror("setrlimit AS");
    getrlimit(RLIMIT_AS, &r);
    show("as", r.rlim_cur);
#ifdef SYS_getrlimit
    unsigned long raw[2] = {0, 0};
    syscall(SYS_getrlimit, RLIMIT_AS, raw);
    printf("raw as %#lx\n", raw[0]);
#else
    printf("raw as none\n");
#endif
    unsigned long long p64[2] = {0, 0};
    syscall(SYS_prlimit64, 0, RLIMIT_AS, 0, p64);
    printf("prlimit64 as %#llx\n", p64[0]);
    return 0;
}
