/*
 * clifds.c - what a guest sees of its file descriptors under qpp (tests/cli).
 *
 *   stdio PATH   write to fds 1 and 2, then open PATH; report into PATH:
 *                "write 1: ok|E<errno>", "write 2: ...", "open: FD"
 *   scan         every fd from 3 up to the soft RLIMIT_NOFILE + 128 that is open:
 *                "fd N open", after writing "guest was here" into it and closing it;
 *                first line "nofile SOFT", last line "scanned"
 *   dup2 N       dup2(1, N): "dup2 N: ok|E<errno>"
 *   environ      every environment string, one a line, in order
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *result(long r, int err, char *buf, size_t n)
{
    if (r >= 0)
        return "ok";
    snprintf(buf, n, "E%d", err);
    return buf;
}

static int cmd_stdio(const char *path)
{
    char b1[16], b2[16];
    errno = 0;
    long w1 = write(1, "out\n", 4);
    int e1 = errno;
    errno = 0;
    long w2 = write(2, "err\n", 4);
    int e2 = errno;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 3;
    dprintf(fd, "write 1: %s\nwrite 2: %s\nopen: %d\n", result(w1, e1, b1, sizeof b1),
            result(w2, e2, b2, sizeof b2), fd);
    return close(fd) == 0 ? 0 : 4;
}

static int cmd_scan(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 3;
    unsigned long top = (unsigned long)rl.rlim_cur + 128;
    if (top > 70000)
        top = 70000;
    printf("nofile %lu\n", (unsigned long)rl.rlim_cur);
    fflush(stdout);
    for (unsigned long fd = 3; fd < top; fd++) {
        if (fcntl((int)fd, F_GETFD) < 0)
            continue;
        (void)!write((int)fd, "guest was here\n", 15);
        close((int)fd);
        printf("fd %lu open\n", fd);
    }
    printf("scanned\n");
    return 0;
}

extern char **environ;

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "environ")) {
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "stdio"))
        return cmd_stdio(argv[2]);
    if (argc == 2 && !strcmp(argv[1], "scan"))
        return cmd_scan();
    if (argc == 3 && !strcmp(argv[1], "dup2")) {
        char b[16];
        int n = atoi(argv[2]);
        errno = 0;
        int r = dup2(1, n);
        printf("dup2 %d: %s\n", n, result(r, errno, b, sizeof b));
        return 0;
    }
    fputs("usage: clifds stdio PATH | scan | dup2 N | environ\n", stderr);
    return 2;
}
