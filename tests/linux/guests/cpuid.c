/*
 * cpuid.c - x86_64 only: prints what CPUID answers for the leaves glibc's
 * start-up reads and a few out-of-range ones, one line per (leaf, subleaf):
 *
 *     LLLLLLLL.SS: RAX RBX RCX RDX
 *
 * in hex, with the full 64-bit registers (CPUID zero-extends its results,
 * so the upper halves, preloaded with ones, must come back clear).  The
 * tests compare this with qemu-x86_64 -cpu qemu64.
 */
#include <stdio.h>

static void q(unsigned leaf, unsigned sub)
{
    unsigned long a = 0xffffffff00000000ul | leaf, b = ~0ul, c = sub, d = ~0ul;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : "b"(b), "d"(d));
    printf("%08x.%02x: %lx %lx %lx %lx\n", leaf, sub, a, b, c, d);
}

int main(void)
{
    static const unsigned leaves[][2] = {
        {0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 4}, {5, 1}, {6, 1}, {7, 2}, {0xb, 3},
        {0xd, 2}, {0xe, 1}, {0x14, 1}, {0x40000000u, 1}, {0x40000001u, 1},
        {0x80000000u, 1}, {0x80000001u, 1}, {0x80000002u, 1}, {0x80000003u, 1},
        {0x80000004u, 1}, {0x80000005u, 1}, {0x80000006u, 1}, {0x80000007u, 1},
        {0x80000008u, 1}, {0x8000000au, 1}, {0x8000001du, 1}, {0xc0000000u, 1},
    };
    for (unsigned i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
        for (unsigned s = 0; s < leaves[i][1]; s++)
            q(leaves[i][0], s);
    return 0;
}
