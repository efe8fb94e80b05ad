/* execve: arguments and environment, close-on-exec, /proc/self/exe, #! scripts, a chain of
 * execs, and Linux's errors. Output has no pids or paths that vary, so it is the same for
 * every architecture (the reference is a native x86_64 run: see tests/guests/README.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ENOEXEC: return "ENOEXEC";
    case E2BIG: return "E2BIG";
    case ENOTDIR: return "ENOTDIR";
    case EFAULT: return "EFAULT";
    default: return "other";
    }
}

static int child_main(int argc, char **argv) {
    if (strcmp(argv[1], "show") == 0) {
        printf("child argc=%d", argc);
        for (int i = 2; i < argc; i++)
            printf(" [%s]", strncmp(argv[i], "/tmp/qpp-exec-", 14) ? argv[i] : "<script>");
        const char *foo = getenv("FOO");
        printf(" FOO=%s", foo ? foo : "(unset)");
        int n = 0;
        while (environ[n]) n++;
        printf(" envc=%d\n", n);
        return 3;
    }
    if (strcmp(argv[1], "fds") == 0) {
        for (int i = 2; i < argc; i++) {
            int fd = atoi(argv[i]);
            printf("fd %d %s\n", fd, fcntl(fd, F_GETFD) == -1 ? "closed" : "open");
        }
        return 0;
    }
    if (strcmp(argv[1], "exe") == 0) {
        char buf[512];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        char *base = strrchr(buf, '/');
        base = base ? base + 1 : buf;
        char *dot = strchr(base, '.');
        if (dot) *dot = 0; /* proc_exec.ARCH: the same line on every architecture */
        printf("exe basename: %s\n", base);
        return 0;
    }
    if (strcmp(argv[1], "chain") == 0) {
        int n = atoi(argv[2]);
        printf("chain %d\n", n);
        fflush(stdout);
        if (n == 0) return 0;
        char num[16];
        snprintf(num, sizeof num, "%d", n - 1);
        char *args[] = {argv[0], "chain", num, NULL};
        execv(argv[0], args);  /* the same path, hence the same AT_EXECFN, each link */
        return 99;
    }
    if (strcmp(argv[1], "spawn") == 0) { /* spawn N PROGRAM: N fork+execve+wait cycles */
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) {
                char *args[] = {argv[3], NULL};
                int devnull = open("/dev/null", O_WRONLY);
                dup2(devnull, 1);
                execv(argv[3], args);
                _exit(127);
            }
            int st;
            waitpid(p, &st, 0);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return 60;
        }
        return 0;
    }
    return 50;
}

static void run(char *const args[], char *const env[]) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        execve("/proc/self/exe", args, env);
        _exit(98);
    }
    int st;
    waitpid(p, &st, 0);
    printf("-> exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) return child_main(argc, argv);
    char *env[] = {"FOO=bar", "OTHER=1", NULL};
    char *a1[] = {"name", "show", "one", "two words", NULL};
    run(a1, env);
    char *noenv[] = {NULL};
    run(a1, noenv);
    /* close-on-exec */
    int keep = open("/proc/self/exe", O_RDONLY);
    int drop = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    int flip = open("/proc/self/exe", O_RDONLY);
    fcntl(flip, F_SETFD, FD_CLOEXEC);
    char k[8], d[8], f[8];
    snprintf(k, 8, "%d", keep); snprintf(d, 8, "%d", drop); snprintf(f, 8, "%d", flip);
    char *a2[] = {"x", "fds", k, d, f, NULL};
    run(a2, env);
    char *a3[] = {"x", "exe", NULL};
    run(a3, env);
    char exe0[512];
    ssize_t n0 = readlink("/proc/self/exe", exe0, sizeof exe0 - 1);
    exe0[n0 > 0 ? n0 : 0] = 0;
    char *a4[] = {exe0, "chain", "3", NULL};
    run(a4, env);
    /* errors, in the parent itself (it goes on) */
    char *none[] = {"x", NULL};
    errno = 0; execve("/nonexistent/prog", none, env); printf("missing: %s\n", err(errno));
    errno = 0; execve("/", none, env); printf("directory: %s\n", err(errno));
    errno = 0; execve("/proc/self/exe/x", none, env); printf("below a file: %s\n", err(errno));
    char tmpl[] = "/tmp/qpp-exec-XXXXXX";
    int fd = mkstemp(tmpl);
    write(fd, "garbage, not a program\n", 23);
    close(fd);
    chmod(tmpl, 0644);
    errno = 0; execve(tmpl, none, env); printf("not executable: %s\n", err(errno));
    chmod(tmpl, 0755);
    errno = 0; execve(tmpl, none, env); printf("no format: %s\n", err(errno));
    /* a #! script whose interpreter is this program */
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    fd = open(tmpl, O_WRONLY | O_TRUNC);
    dprintf(fd, "#!%s show\n", exe);
    close(fd);
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        char *sargs[] = {"script-name", "arg1", NULL};
        execve(tmpl, sargs, env);
        _exit(97);
    }
    int st;
    waitpid(p, &st, 0);
    printf("-> script exit %d\n", WEXITSTATUS(st));
    unlink(tmpl);
    /* E2BIG */
    size_t big = 3u << 20;
    char *huge = malloc(big);
    memset(huge, 'a', big - 1);
    huge[big - 1] = 0;
    char *a5[] = {"x", huge, NULL};
    errno = 0; execve("/proc/self/exe", a5, env); printf("huge argument: %s\n", err(errno));
    return 0;
}
