/* Process calls the other proc_* guests leave out: posix_spawn (clone with CLONE_VM |
 * CLONE_VFORK, then execve), its errors (`missing`), vfork's suspended parent,
 * execveat (AT_EMPTY_PATH, a directory fd, errors), kill of a process group, and
 * poll/select on pipes between processes. Output has no pids or paths, so it is the same
 * for every architecture (reference: a native x86_64 run, see tests/guests/README.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static const char *err(int e) {
    switch (e) {
    case 0: return "ok";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOTDIR: return "ENOTDIR";
    case ESRCH: return "ESRCH";
    default: return "other";
    }
}

static void show(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %s\n", what, WTERMSIG(st) == SIGUSR1 ? "SIGUSR1" : "?");
}

static void nap(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long execveat_(int dirfd, const char *path, char **argv, int flags) {
    return syscall(SYS_execveat, dirfd, path, argv, environ, flags);
}

/* fork a child that calls execveat(dirfd, path, ...) and report its status or errno */
static void try_execveat(const char *what, int dirfd, const char *path, int flags) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC)) exit(20);
    pid_t p = fork();
    if (p == 0) {
        char *args[] = {"proc_spawn", "child", "6", NULL};
        execveat_(dirfd, path, args, flags);
        int e = errno;
        if (write(pipefd[1], &e, sizeof e) != sizeof e) _exit(21);
        _exit(99);
    }
    close(pipefd[1]);
    int e = 0, st;
    ssize_t n = read(pipefd[0], &e, sizeof e);
    close(pipefd[0]);
    waitpid(p, &st, 0);
    if (n == sizeof e)
        printf("execveat %s: %s\n", what, err(e));
    else
        show(what, st);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "child") == 0) return atoi(argv[2]);
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t p;
    int st, r;
    char *cargs[] = {"proc_spawn", "child", "4", NULL};
    if (argc == 2 && strcmp(argv[1], "missing") == 0) {
        /* a missing program's error reaches posix_spawn's caller (glibc passes it back in
         * the memory its CLONE_VM child shares; musl through a pipe) */
        r = posix_spawn(&p, "/nonexistent/prog", NULL, NULL, cargs, environ);
        printf("posix_spawn missing: %s\n", err(r));
        if (r == 0) { waitpid(p, &st, 0); show("spawned missing", st); }
        r = posix_spawnp(&p, "no-such-program-anywhere", NULL, NULL, cargs, environ);
        printf("posix_spawnp missing: %s\n", err(r));
        if (r == 0) { waitpid(p, &st, 0); show("spawnedp missing", st); }
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "killrace") == 0) {
        /* a group killed at once after its forks: no child may miss the signal */
        int killed = 0;
        for (int round = 0; round < 20; round++) {
            pid_t kids[2];
            for (int i = 0; i < 2; i++) {
                if ((kids[i] = fork()) == 0) {
                    setpgid(0, i == 0 ? 0 : kids[0]);
                    for (;;) pause();
                }
                setpgid(kids[i], i == 0 ? kids[i] : kids[0]);
            }
            kill(-kids[0], SIGUSR1);
            for (int i = 0; i < 2; i++) {
                waitpid(kids[i], &st, 0);
                killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1;
            }
        }
        printf("killed at once: %d\n", killed);
        return 0;
    }
    char exe[512];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return 10;
    exe[len] = 0;

    /* posix_spawn of a program */
    r = posix_spawn(&p, exe, NULL, NULL, cargs, environ);
    printf("posix_spawn: %s\n", err(r));
    if (r == 0) { waitpid(p, &st, 0); show("spawned", st); }

    /* vfork: the parent runs again only after the child has exited */
    int pfd[2];
    if (pipe(pfd)) return 11;
    if ((p = vfork()) == 0) {
        nap(100);
        if (write(pfd[1], "c", 1) != 1) _exit(1);
        _exit(0);
    }
    if (write(pfd[1], "p", 1) != 1) return 12;
    char order[3] = {0};
    if (read(pfd[0], order, 2) != 2) return 13;
    waitpid(p, &st, 0);
    printf("vfork order: %s\n", order);
    close(pfd[0]);
    close(pfd[1]);

    /* execveat */
    int self = open(exe, O_RDONLY);
    try_execveat("AT_EMPTY_PATH", self, "", AT_EMPTY_PATH);
    char dir[512], base[512];
    strcpy(dir, exe);
    strcpy(base, exe);
    int dirfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    try_execveat("dirfd + name", dirfd, basename(base), 0);
    try_execveat("absolute path, bad dirfd", -1, exe, 0);
    try_execveat("bad flags", self, exe, 0x1);
    try_execveat("relative, bad dirfd", -1, "proc_spawn", 0);
    try_execveat("relative, file dirfd", self, "proc_spawn", 0);
    try_execveat("empty path without the flag", self, "", 0);
    close(self);
    close(dirfd);

    /* kill(-pgid): both members of a new group get the signal */
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        if ((kids[i] = fork()) == 0) {
            setpgid(0, i == 0 ? 0 : kids[0]);
            for (;;) pause();
        }
        setpgid(kids[i], i == 0 ? kids[i] : kids[0]); /* no race with the child's own */
    }
    nap(50);
    printf("kill group: %d\n", kill(-kids[0], SIGUSR1));
    for (int i = 0; i < 2; i++) { waitpid(kids[i], &st, 0); show("group member", st); }
    printf("kill empty group: %s\n", kill(-kids[0], SIGUSR1) == -1 ? err(errno) : "ok");

    /* poll and select wait for another process's write, then see its end */
    if (pipe(pfd)) return 14;
    if ((p = fork()) == 0) {
        close(pfd[0]);
        nap(100);
        if (write(pfd[1], "x", 1) != 1) _exit(1);
        nap(100);
        _exit(0);
    }
    close(pfd[1]);
    struct pollfd q = {pfd[0], POLLIN, 0};
    r = poll(&q, 1, 10000);
    printf("poll: %d revents POLLIN=%d\n", r, !!(q.revents & POLLIN));
    char c;
    if (read(pfd[0], &c, 1) != 1) return 15;
    fd_set set;
    FD_ZERO(&set);
    FD_SET(pfd[0], &set);
    struct timeval tv = {10, 0};
    r = select(pfd[0] + 1, &set, NULL, NULL, &tv);
    printf("select at the end: %d readable=%d read=%d\n", r, FD_ISSET(pfd[0], &set) != 0,
           (int)read(pfd[0], &c, 1));
    q.revents = 0;
    r = poll(&q, 1, 0);
    printf("poll at the end: %d POLLHUP=%d\n", r, !!(q.revents & POLLHUP));
    waitpid(p, &st, 0);
    show("writer", st);
    close(pfd[0]);
    return 0;
}
