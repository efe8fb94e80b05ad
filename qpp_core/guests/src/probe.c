/*
 * probe.c - one multi-purpose test guest for qpp, driven by argv[1].
 *
 * Every subcommand prints deterministic lines to stdout (written with
 * write(2) directly, so output is never lost to stdio buffering when the
 * program dies from a signal) and exits 0 unless stated otherwise:
 *
 *   args             "argc = N" then "argv[i] = ..." for every argument
 *   env NAME...      "NAME=value" or "NAME=(unset)" for each NAME
 *   file PATH        open/write/close, reopen, lseek, read, fstat, unlink:
 *                        file: wrote 32
 *                        file: lseek 6
 *                        file: read 'from the qpp probe'
 *                        file: size 32
 *                        file: unlink ok
 *   brk              malloc growing sizes (up to 4 MiB, which forces mmap),
 *                    fill/verify patterns: "brk: ok checksum 0x........"
 *   mmap             anonymous mmap, write, mprotect read-only, read,
 *                    munmap: "mmap: ok"
 *   exit N           exit with status N (nothing printed)
 *   fault            store to address 0x10 -> SIGSEGV (qemu-user: 139)
 *   abort            abort() -> SIGABRT (qemu-user: 134)
 *   cwd              "cwd: <getcwd()>"
 *   pipe             pipe/write/read round trip: "pipe: ping"
 *   time             clock_gettime(REALTIME and MONOTONIC): "time: ok"
 *   uname            "uname: <sysname>" (Linux)
 *
 * Failures print "<cmd>: FAIL ..." and exit 1.  A missing or unknown
 * subcommand prints a usage message on stderr and exits 2.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void put_fd(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* printf-like output straight to fd 1 (no stdio buffer). */
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put_fd(1, buf);
}

static int fail(const char *cmd, const char *what)
{
    out("%s: FAIL %s\n", cmd, what);
    return 1;
}

static int cmd_args(int argc, char **argv)
{
    out("argc = %d\n", argc);
    for (int i = 0; i < argc; i++)
        out("argv[%d] = %s\n", i, argv[i]);
    return 0;
}

static int cmd_env(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *v = getenv(argv[i]);
        out("%s=%s\n", argv[i], v ? v : "(unset)");
    }
    return 0;
}

static int cmd_file(int argc, char **argv)
{
    static const char text[] = "hello from the qpp probe guest!\n"; /* 32 bytes */
    char buf[64];
    struct stat st;

    if (argc < 3)
        return fail("file", "missing PATH");
    const char *path = argv[2];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fail("file", "open for writing");
    ssize_t w = write(fd, text, sizeof text - 1);
    if (close(fd) != 0)
        return fail("file", "close");
    out("file: wrote %ld\n", (long)w);

    fd = open(path, O_RDONLY);
    if (fd < 0)
        return fail("file", "open for reading");
    off_t off = lseek(fd, 6, SEEK_SET);
    out("file: lseek %ld\n", (long)off);
    ssize_t r = read(fd, buf, 18);
    if (r < 0)
        return fail("file", "read");
    buf[r] = '\0';
    out("file: read '%s'\n", buf);
    if (fstat(fd, &st) != 0)
        return fail("file", "fstat");
    out("file: size %ld\n", (long)st.st_size);
    close(fd);
    if (unlink(path) != 0)
        return fail("file", "unlink");
    if (access(path, F_OK) == 0)
        return fail("file", "still exists after unlink");
    out("file: unlink ok\n");
    return 0;
}

static int cmd_brk(void)
{
    /* Growing sizes; the last one (4 MiB) is above malloc's mmap threshold. */
    static const size_t sizes[] = {16, 100, 1000, 4096, 10000, 65536, 200000, 4u << 20};
    enum { N = sizeof sizes / sizeof sizes[0] };
    unsigned char *blocks[N];
    uint32_t sum = 2166136261u;

    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(sizes[i]);
        if (!blocks[i])
            return fail("brk", "malloc");
        for (size_t j = 0; j < sizes[i]; j++)
            blocks[i][j] = (unsigned char)(j * 31u + (unsigned)i * 7u);
    }
    for (int i = 0; i < N; i++) {
        for (size_t j = 0; j < sizes[i]; j++) {
            if (blocks[i][j] != (unsigned char)(j * 31u + (unsigned)i * 7u))
                return fail("brk", "pattern mismatch");
            sum = (sum ^ blocks[i][j]) * 16777619u; /* FNV-1a */
        }
    }
    for (int i = N - 1; i >= 0; i--)
        free(blocks[i]);
    out("brk: ok checksum 0x%08x\n", (unsigned)sum);
    return 0;
}

static int cmd_mmap(void)
{
    const size_t len = 3 * 4096;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return fail("mmap", "mmap");
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0)
            return fail("mmap", "not zero-filled");
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(i ^ 0x5a);
    if (mprotect(p, len, PROT_READ) != 0)
        return fail("mmap", "mprotect");
    for (size_t i = 0; i < len; i++)
        if (p[i] != (unsigned char)(i ^ 0x5a))
            return fail("mmap", "pattern mismatch");
    if (munmap(p, len) != 0)
        return fail("mmap", "munmap");
    out("mmap: ok\n");
    return 0;
}

static int cmd_cwd(void)
{
    char buf[4096];
    if (!getcwd(buf, sizeof buf))
        return fail("cwd", "getcwd");
    out("cwd: %s\n", buf);
    return 0;
}

static int cmd_pipe(void)
{
    int fds[2];
    char buf[8] = {0};
    if (pipe(fds) != 0)
        return fail("pipe", "pipe");
    if (write(fds[1], "ping", 4) != 4)
        return fail("pipe", "write");
    if (read(fds[0], buf, sizeof buf - 1) != 4)
        return fail("pipe", "read");
    close(fds[0]);
    close(fds[1]);
    out("pipe: %s\n", buf);
    return 0;
}

static int cmd_time(void)
{
    struct timespec a, b;
    if (clock_gettime(CLOCK_REALTIME, &a) != 0)
        return fail("time", "CLOCK_REALTIME");
    if (clock_gettime(CLOCK_MONOTONIC, &b) != 0)
        return fail("time", "CLOCK_MONOTONIC");
    if (a.tv_nsec < 0 || a.tv_nsec >= 1000000000L || b.tv_nsec < 0 || b.tv_nsec >= 1000000000L)
        return fail("time", "bad tv_nsec");
    out("time: ok\n");
    return 0;
}

static int cmd_uname(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        return fail("uname", "uname");
    out("uname: %s\n", u.sysname);
    return 0;
}

static int usage(const char *argv0)
{
    put_fd(2, "usage: ");
    put_fd(2, argv0 ? argv0 : "probe");
    put_fd(2, " args|env NAME...|file PATH|brk|mmap|exit N|fault|abort|cwd|pipe|time|uname\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(argv[0]);
    const char *cmd = argv[1];

    if (!strcmp(cmd, "args"))
        return cmd_args(argc, argv);
    if (!strcmp(cmd, "env"))
        return cmd_env(argc, argv);
    if (!strcmp(cmd, "file"))
        return cmd_file(argc, argv);
    if (!strcmp(cmd, "brk"))
        return cmd_brk();
    if (!strcmp(cmd, "mmap"))
        return cmd_mmap();
    if (!strcmp(cmd, "exit"))
        exit(argc > 2 ? atoi(argv[2]) : 0);
    if (!strcmp(cmd, "fault")) {
        volatile int *volatile bad = (volatile int *)(uintptr_t)0x10;
        *bad = 1;
        return fail("fault", "store to 0x10 did not fault");
    }
    if (!strcmp(cmd, "abort"))
        abort();
    if (!strcmp(cmd, "cwd"))
        return cmd_cwd();
    if (!strcmp(cmd, "pipe"))
        return cmd_pipe();
    if (!strcmp(cmd, "time"))
        return cmd_time();
    if (!strcmp(cmd, "uname"))
        return cmd_uname();

    put_fd(2, "probe: unknown subcommand '");
    put_fd(2, cmd);
    put_fd(2, "'\n");
    return usage(argv[0]);
}
