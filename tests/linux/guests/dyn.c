/*
 * dyn.c - a dynamically linked guest (qpp run -L SYSROOT): libc through the PLT,
 * malloc, a thread-local variable and argv.  Prints "dyn: <argc> <sum> <argv[last]>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread unsigned tls_total;

int main(int argc, char **argv)
{
    char *copy = strdup(argv[argc - 1]);
    for (unsigned i = 1; i <= 1000; i++)
        tls_total += i;
    printf("dyn: %d %u %s\n", argc, tls_total, copy);
    free(copy);
    return argc == 3 ? 7 : 0;
}
