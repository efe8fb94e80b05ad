/* A guest that runs until a host signal ends it, for the host-signal tests.
 *
 * Usage: hostsig_loop [spin|sleep|read]
 *   spin  (default) a tight loop with no syscalls
 *   sleep           nanosleep(0.2 s) in a loop (a signal arrives during a host syscall)
 *   read            one blocking read from stdin (a signal arrives in a blocking read)
 *   print           numbered lines on stdout forever (a closed pipe raises SIGPIPE)
 * It prints "hostsig_loop: MODE" and flushes stdout before it starts waiting, so that a
 * test knows when to send its signal.  It never ends on its own (spin/sleep/print).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "spin";
    printf("hostsig_loop: %s\n", mode);
    fflush(stdout);
    if (strcmp(mode, "sleep") == 0) {
        struct timespec ts = {0, 200000000};
        for (;;)
            nanosleep(&ts, NULL);
    }
    if (strcmp(mode, "read") == 0) {
        char buf[16];
        ssize_t n = read(0, buf, sizeof buf);
        printf("read returned %ld\n", (long)n);
        return 0;
    }
    if (strcmp(mode, "print") == 0) {
        for (unsigned long i = 0;; i++) {
            printf("line %lu\n", i);
            fflush(stdout);
        }
    }
    volatile unsigned long x = 1;
    for (;;)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
}
