/*
 * hello.c - qpp's built-in default guest.
 *
 * Prints a fixed greeting and one line per argv entry using write(2) only
 * (no stdio buffering), then exits 0.  Output for `hello a b`:
 *
 *     Hello from the qpp guest!
 *     argv[0] = hello
 *     argv[1] = a
 *     argv[2] = b
 *
 * Kept tiny and deterministic so instruction counts are stable.
 */
#include <string.h>
#include <unistd.h>

static void put(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void put_uint(unsigned v)
{
    char buf[16];
    char *p = buf + sizeof buf - 1;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(p);
}

int main(int argc, char **argv)
{
    put("Hello from the qpp guest!\n");
    for (int i = 0; i < argc; i++) {
        put("argv[");
        put_uint((unsigned)i);
        put("] = ");
        put(argv[i]);
        put("\n");
    }
    return 0;
}
