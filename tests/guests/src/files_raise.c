/* Raise the signal named by argv[1] (a number) with its default action; report if it returns. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: files_raise SIGNUM\n");
        return 2;
    }
    int sig = atoi(argv[1]);
    printf("raising %d\n", sig);
    fflush(stdout);
    raise(sig);
    printf("survived %d\n", sig);
    return 0;
}
