/* The guest's own /proc/self files (tests/linux/test_proc_self.py).
 *
 * Each check prints one line, "ok NAME" or "BAD NAME: detail": cmdline and environ hold
 * this program's strings (also through /proc/<pid>/), and cmdline follows an argument
 * the program rewrote in place; auxv holds the vector getauxval reads, in the guest's
 * word size, ending with AT_NULL; stat's pid, name (prctl's too), parent, thread count
 * and the addresses of the argument and environment strings are this program's.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

static size_t slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("BAD open %s\n", path);
        return 0;
    }
    size_t n = 0;
    ssize_t r;
    while (n < size && (r = read(fd, buf + n, size - n)) > 0)
        n += (size_t)r;
    close(fd);
    return n;
}

static size_t join(char **strings, char *out)
{
    size_t n = 0;
    for (char **s = strings; *s; s++) {
        size_t len = strlen(*s) + 1;
        memcpy(out + n, *s, len);
        n += len;
    }
    return n;
}

static void check_strings(const char *name, const char *path, char **strings)
{
    static char got[65536], want[65536];
    size_t n = slurp(path, got, sizeof got), m = join(strings, want);
    if (n == m && memcmp(got, want, n) == 0)
        printf("ok %s\n", name);
    else
        printf("BAD %s: %zu bytes, want %zu\n", name, n, m);
}

static void check_auxv(void)
{
    static unsigned long words[512];
    size_t n = slurp("/proc/self/auxv", (char *)words, sizeof words) / sizeof(unsigned long);
    const unsigned long types[] = {AT_PHDR, AT_PAGESZ, AT_ENTRY, AT_RANDOM, AT_HWCAP};
    int found = 0, ended = n >= 2 && words[n - 2] == AT_NULL;
    for (size_t i = 0; i + 1 < n; i += 2)
        for (size_t t = 0; t < sizeof types / sizeof *types; t++)
            if (words[i] == types[t] && words[i + 1] == getauxval(types[t]))
                found++;
    if (found == 5 && ended)
        printf("ok auxv\n");
    else
        printf("BAD auxv: %d of 5 match, %s\n", found, ended ? "ended" : "no AT_NULL last");
}

/* field `which` (1-based, proc(5)) of the stat line, after the "(name)" */
static unsigned long long field(const char *line, int which)
{
    const char *p = strrchr(line, ')') + 2;
    for (int f = 3; f < which; f++)
        p = strchr(p, ' ') + 1;
    return strtoull(p, NULL, 10);
}

static void check_stat(char **argv, const char *want_name)
{
    char line[4096] = {0}, name[64];
    slurp("/proc/self/stat", line, sizeof line - 1);
    const char *open_paren = strchr(line, '('), *close_paren = strrchr(line, ')');
    snprintf(name, sizeof name, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    int bad = 0;
    if (strtol(line, NULL, 10) != getpid())
        printf("BAD stat pid: %s", line), bad = 1;
    if (strcmp(name, want_name) != 0)
        printf("BAD stat name: %s, want %s\n", name, want_name), bad = 1;
    if (field(line, 4) != (unsigned long long)getppid())
        printf("BAD stat ppid: %llu\n", field(line, 4)), bad = 1;
    if (field(line, 20) != 1)
        printf("BAD stat threads: %llu\n", field(line, 20)), bad = 1;
    if (field(line, 48) != (unsigned long)argv[0])
        printf("BAD stat arg_start: %llx\n", field(line, 48)), bad = 1;
    if (environ[0] && field(line, 50) != (unsigned long)environ[0])
        printf("BAD stat env_start: %llx\n", field(line, 50)), bad = 1;
    if (!bad)
        printf("ok stat %s\n", name);
}

int main(int argc, char **argv)
{
    (void)argc;
    char path[64];
    check_strings("cmdline", "/proc/self/cmdline", argv);
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)getpid());
    check_strings("pid-cmdline", path, argv);
    check_strings("environ", "/proc/self/environ", environ);
    check_auxv();
    const char *base = strrchr(argv[0], '/');
    char comm[16];
    snprintf(comm, sizeof comm, "%s", base ? base + 1 : argv[0]);
    check_stat(argv, comm);
    prctl(PR_SET_NAME, "renamed");
    check_stat(argv, "renamed");
    if (argv[1]) { /* setproctitle: the new text shows */
        memset(argv[1], 'x', strlen(argv[1]));
        check_strings("rewritten", "/proc/self/cmdline", argv);
    }
    return 0;
}
