/* A JIT's life: write a function into executable memory, run it, rewrite it, run it again.
 * The function computes A + B (constants in its code), also when it straddles two pages and
 * only the part on the second page changes; once in an RWX mapping, once written while RW
 * and made executable with mprotect. The cache is flushed as real JITs do. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*fn)(void);

static size_t emit(unsigned char *p, int a, int b) {
#if defined(__x86_64__)
    p[0] = 0xb8; memcpy(p + 1, &a, 4);     /* mov eax, a */
    p[5] = 0x05; memcpy(p + 6, &b, 4);     /* add eax, b */
    p[10] = 0xc3;                          /* ret */
    return 11;
#else
    uint32_t w[3];
#if defined(__aarch64__)
    w[0] = 0x52800000u | (uint32_t)a << 5;          /* movz w0, #a */
    w[1] = 0x11000000u | (uint32_t)b << 10;         /* add w0, w0, #b */
    w[2] = 0xd65f03c0u;                             /* ret */
#elif defined(__arm__)
    w[0] = 0xe3a00000u | (uint32_t)a;               /* mov r0, #a */
    w[1] = 0xe2800000u | (uint32_t)b;               /* add r0, r0, #b */
    w[2] = 0xe12fff1eu;                             /* bx lr */
#elif defined(__riscv)
    w[0] = (uint32_t)a << 20 | 10 << 7 | 0x13;      /* addi a0, zero, a */
    w[1] = (uint32_t)b << 20 | 10 << 15 | 10 << 7 | 0x13; /* addi a0, a0, b */
    w[2] = 0x00008067u;                             /* ret */
#elif defined(__mips__)
    w[0] = 0x24020000u | (uint32_t)a;               /* addiu v0, zero, a */
    w[1] = 0x03e00008u;                             /* jr ra */
    w[2] = 0x24420000u | (uint32_t)b;               /* addiu v0, v0, b (delay slot) */
#endif
    memcpy(p, w, sizeof w);
    return sizeof w;
#endif
}

static int run(unsigned char *code, size_t len) {
    __builtin___clear_cache((char *)code, (char *)code + len);
    return ((fn)(uintptr_t)code)();
}

int main(void) {
    long page = 4096;
    unsigned char *rwx = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE | PROT_EXEC,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rwx == MAP_FAILED) { puts("mmap rwx failed"); return 1; }
    size_t n = emit(rwx, 1, 2);
    printf("rwx: %d\n", run(rwx, n));
    emit(rwx, 3, 4);
    printf("rwx rewritten: %d\n", run(rwx, n));
    for (int i = 0; i < 5; i++) { emit(rwx, 10 + i, i); printf("rwx loop %d: %d\n", i, run(rwx, n)); }

    /* straddling the page boundary: the first instruction on page 0, the rest on page 1 */
    unsigned char *s = rwx + page - 4;
#if defined(__x86_64__)
    s = rwx + page - 3;
#endif
    n = emit(s, 5, 6);
    printf("straddle: %d\n", run(s, n));
    emit(s, 5, 60);          /* only page 1 changes */
    printf("straddle page 1 rewritten: %d\n", run(s, n));
    emit(s, 50, 60);
    printf("straddle both rewritten: %d\n", run(s, n));

    /* W^X: write while RW, run while RX */
    unsigned char *wx = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                             -1, 0);
    n = emit(wx, 7, 8);
    printf("mprotect rx: %d\n", mprotect(wx, page, PROT_READ | PROT_EXEC));
    printf("w^x: %d\n", run(wx, n));
    mprotect(wx, page, PROT_READ | PROT_WRITE);
    emit(wx, 70, 80);
    mprotect(wx, page, PROT_READ | PROT_EXEC);
    printf("w^x rewritten: %d\n", run(wx, n));
    /* made executable without writing in between: the old code still runs */
    mprotect(wx, page, PROT_READ | PROT_WRITE | PROT_EXEC);
    printf("w^x rwx: %d\n", run(wx, n));
    /* ran while read-only, then made writable: a store now must reach the next run */
    mprotect(wx, page, PROT_READ | PROT_EXEC);
    printf("rx again: %d\n", run(wx, n));
    mprotect(wx, page, PROT_READ | PROT_WRITE | PROT_EXEC);
    emit(wx, 71, 81);
    printf("rx made rwx, rewritten: %d\n", run(wx, n));
    emit(wx, 72, 82);
    printf("rwx rewritten again: %d\n", run(wx, n));

    /* code that arrives through read() (the kernel writes it) */
    unsigned char tmp[16];
    int fds[2];
    pipe(fds);
    n = emit(tmp, 9, 9);
    write(fds[1], tmp, n);
    read(fds[0], rwx, n);
    printf("read into rwx: %d\n", run(rwx, n));
    emit(tmp, 90, 9);
    write(fds[1], tmp, n);
    read(fds[0], rwx, n);
    printf("read again: %d\n", run(rwx, n));

    /* unmapped and mapped afresh at the same place with new code */
    munmap(wx, page);
    unsigned char *again = mmap(wx, page, PROT_READ | PROT_WRITE | PROT_EXEC,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    n = emit(again, 11, 11);
    printf("remapped: %d\n", run(again, n));
    return 0;
}
