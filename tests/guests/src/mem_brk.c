/* brk grows page by page (64 steps), each new page is written and read back; shrinking
 * and growing again gives zeroed memory. Raw syscalls: musl's sbrk refuses to grow. */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long brk_(unsigned long to) { return (unsigned long)syscall(SYS_brk, to); }

int main(void) {
    unsigned long start = brk_(0), cur = start;
    long page = 4096;
    int ok = 0;
    for (int i = 0; i < 64; i++) {
        unsigned long want = cur + page;
        unsigned long got = brk_(want);
        if (got != want) {
            printf("step %d: brk(+%ld) failed\n", i, (long)(want - start));
            break;
        }
        memset((char *)cur, i + 1, page);
        cur = got;
        ok++;
    }
    printf("grew %d pages\n", ok);
    int bad = 0;
    for (int i = 0; i < ok; i++)
        for (long j = 0; j < page; j += 512)
            if (((unsigned char *)start)[i * page + j] != (unsigned char)(i + 1)) bad++;
    printf("bad bytes %d\n", bad);
    /* odd sizes: grow by 100 bytes a few times, the break is exact */
    unsigned long b = brk_(0);
    for (int i = 0; i < 50; i++) {
        unsigned long got = brk_(b + 100);
        if (got != b + 100) { printf("small step %d failed\n", i); break; }
        ((char *)b)[99] = 7;
        b = got;
    }
    printf("small steps end at +%ld\n", (long)(brk_(0) - start));
    /* shrink then grow: the memory comes back zeroed */
    brk_(start + page);
    unsigned long again = brk_(start + 8 * page);
    int nonzero = 0;
    for (long j = page; j < 8 * page; j++)
        if (((char *)start)[j]) nonzero++;
    printf("regrow %s, nonzero %d\n", again == start + 8 * page ? "ok" : "failed", nonzero);
    /* below the start: refused, the break stays */
    unsigned long before = brk_(0);
    printf("below start: %s\n", brk_(start - page) == before ? "unchanged" : "moved");
    before = brk_(0);
    /* huge: refused */
    printf("huge: %s\n", brk_(-4096UL) == before ? "unchanged" : "moved");
    return 0;
}
