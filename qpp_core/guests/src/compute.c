/*
 * compute.c - deterministic compute-heavy guest for qpp benchmarks.
 *
 * Usage: compute [rounds]   (default 128 rounds: 7-13 million guest instructions)
 *
 * Each round refills a 4 KiB buffer from an xorshift32 generator seeded by the
 * running state, then hashes it with FNV-1a (bytewise) and a table-driven
 * CRC-32.  Prints "compute: rounds N digest 0x........ crc 0x........" and
 * exits 0.  Output depends only on `rounds`, so it is identical on every
 * architecture.  Built with symbols (compute_round, fnv1a, crc32_update, ...)
 * so plugins can find the hot functions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BUF_WORDS 1024u

static uint32_t buffer[BUF_WORDS];
static uint32_t crc_table[256];

__attribute__((noinline)) void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

__attribute__((noinline)) uint32_t xorshift_fill(uint32_t *buf, uint32_t n, uint32_t x)
{
    if (x == 0)
        x = 0x9e3779b9u;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = x;
    }
    return x;
}

__attribute__((noinline)) uint32_t fnv1a(const unsigned char *p, uint32_t n, uint32_t h)
{
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

__attribute__((noinline)) uint32_t crc32_update(const unsigned char *p, uint32_t n, uint32_t crc)
{
    crc = ~crc;
    for (uint32_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* Store the buffer in a fixed byte order so results match on every endianness. */
static void to_le_bytes(unsigned char *out, const uint32_t *in, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        out[4 * i + 0] = (unsigned char)in[i];
        out[4 * i + 1] = (unsigned char)(in[i] >> 8);
        out[4 * i + 2] = (unsigned char)(in[i] >> 16);
        out[4 * i + 3] = (unsigned char)(in[i] >> 24);
    }
}

static unsigned char bytes[BUF_WORDS * 4];

__attribute__((noinline)) void compute_round(uint32_t *state, uint32_t *crc)
{
    *state = xorshift_fill(buffer, BUF_WORDS, *state);
    to_le_bytes(bytes, buffer, BUF_WORDS);
    *state = fnv1a(bytes, sizeof bytes, *state ^ 2166136261u);
    *crc = crc32_update(bytes, sizeof bytes, *crc);
}

int main(int argc, char **argv)
{
    long rounds = 128;
    if (argc > 1) {
        char *end;
        rounds = strtol(argv[1], &end, 10);
        if (*argv[1] == '\0' || *end != '\0' || rounds < 0) {
            fprintf(stderr, "usage: compute [rounds]\n");
            return 2;
        }
    }
    uint32_t state = 0x12345678u, crc = 0;
    crc32_init();
    for (long r = 0; r < rounds; r++)
        compute_round(&state, &crc);
    printf("compute: rounds %ld digest 0x%08x crc 0x%08x\n", rounds, (unsigned)state, (unsigned)crc);
    return 0;
}
