/* mremap: shrink, grow in place, grow by moving (MREMAP_MAYMOVE), move to a chosen
 * address (MREMAP_FIXED), bad arguments; and realloc of big blocks, which uses it.
 * Not compared (qemu-user 7.2 is not Linux there): a new size of 0 (Linux EINVAL). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const long page = 4096;
static const int P = PROT_READ | PROT_WRITE, A = MAP_PRIVATE | MAP_ANONYMOUS;

static const char *err(void *r) {
    if (r != MAP_FAILED) return "ok";
    switch (errno) {
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    default: return "other";
    }
}

static int devnull;
/* the kernel reading a page tells whether it is mapped (EFAULT otherwise) */
static int mapped(void *p) { return write(devnull, p, 1) == 1; }

static int all(const char *p, long n, char c) {
    for (long i = 0; i < n; i++)
        if (p[i] != c) return 0;
    return 1;
}

int main(void) {
    devnull = open("/dev/null", O_WRONLY);
    char *a = mmap(NULL, 4 * page, P, A, -1, 0);
    memset(a, 'a', 4 * page);
    char *r = mremap(a, 4 * page, 2 * page, 0);
    printf("shrink: %s same %d kept %d tail mapped %d\n", err(r), r == a, all(a, 2 * page, 'a'),
           mapped(a + 2 * page));
    r = mremap(a, 2 * page, 4 * page, 0);
    printf("grow in place: %s same %d kept %d new zero %d\n", err(r), r == a,
           all(a, 2 * page, 'a'), all(a + 2 * page, 2 * page, 0));

    char *b = mmap(a + 4 * page, page, P, A | MAP_FIXED, -1, 0);
    memset(b, 'b', page);
    r = mremap(a, 4 * page, 8 * page, 0);
    printf("grow blocked: %s\n", err(r));
    r = mremap(a, 4 * page, 8 * page, MREMAP_MAYMOVE);
    printf("grow moving: %s moved %d kept %d new zero %d old mapped %d b kept %d\n", err(r),
           r != a, all(r, 2 * page, 'a'), all(r + 4 * page, 4 * page, 0), mapped(a),
           all(b, page, 'b'));
    char *c = r;

    char *target = mmap(NULL, 16 * page, P, A, -1, 0);
    memset(target, 't', 16 * page);
    r = mremap(c, 8 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, target + 4 * page);
    printf("fixed: %s at target %d kept %d around %d %d old mapped %d\n", err(r),
           r == target + 4 * page, all(r, 2 * page, 'a'), all(target, 4 * page, 't'),
           all(target + 6 * page, 10 * page, 't'), mapped(c));

    printf("unaligned: %s\n", err(mremap(b + 1, page, 2 * page, MREMAP_MAYMOVE)));
    printf("fixed alone: %s\n", err(mremap(b, page, page, MREMAP_FIXED, target)));
    printf("bad flags: %s\n", err(mremap(b, page, page, 0x100)));
    if (sizeof(long) == 8) /* qemu-user 7.2 does not check this for 32-bit guests */
        printf("unmapped: %s\n", err(mremap((void *)0x7000000, page, 2 * page, MREMAP_MAYMOVE)));
    printf("fixed unaligned: %s\n",
           err(mremap(b, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, target + 1)));

    /* realloc of big blocks: the C library moves them with mremap */
    size_t n = 1 << 20;
    char *m = malloc(n);
    memset(m, 'm', n);
    for (int i = 0; i < 4; i++) {
        m = realloc(m, n * 2);
        memset(m + n, 'm', n);
        n *= 2;
    }
    printf("realloc to %zu MB: %d\n", n >> 20, all(m, n, 'm'));
    m = realloc(m, 4096);
    printf("realloc down: %d\n", all(m, 4096, 'm'));
    free(m);
    return 0;
}
