/* Processes without exec: fork, vfork, clone flags, wait statuses, pipes, dup, groups.
 * Every line is deterministic (no pids), so stdout equals qemu-user's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %s\n", what, WTERMSIG(st) == SIGSEGV ? "SIGSEGV"
               : WTERMSIG(st) == SIGUSR1 ? "SIGUSR1" : WTERMSIG(st) == SIGABRT ? "SIGABRT" : "?");
    else
        printf("%s: other %#x\n", what, st);
}

static int shared = 1;
static volatile int *volatile bad_pointer = (int *)16;

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int st;
    /* fork + exit status */
    pid_t p = fork();
    if (p == 0) { shared = 2; _exit(7); }
    if (waitpid(p, &st, 0) != p) return 10;
    show("fork", st);
    printf("parent still sees %d\n", shared);
    /* a child killed by a fault, by raise(SIGUSR1), by abort */
    if ((p = fork()) == 0) { *bad_pointer = 1; _exit(0); }
    waitpid(p, &st, 0); show("segv child", st);
    if ((p = fork()) == 0) { raise(SIGUSR1); _exit(0); }
    waitpid(p, &st, 0); show("usr1 child", st);
    if ((p = fork()) == 0) { abort(); }
    waitpid(p, &st, 0); show("abort child", st);
    /* WNOHANG before the child ends, then wait */
    int go[2];
    if (pipe(go)) return 11;
    if ((p = fork()) == 0) { char c; close(go[1]); read(go[0], &c, 1); _exit(3); }
    close(go[0]);
    printf("wnohang: %d\n", (int)waitpid(p, &st, WNOHANG));
    write(go[1], "x", 1); close(go[1]);
    waitpid(p, &st, 0); show("after go", st);
    /* a pipeline: the child writes, the parent reads until EOF */
    int fd[2];
    if (pipe2(fd, O_CLOEXEC)) return 12;
    printf("cloexec flag: %d\n", fcntl(fd[0], F_GETFD) & FD_CLOEXEC);
    if ((p = fork()) == 0) {
        close(fd[0]);
        dup2(fd[1], 1);
        close(fd[1]);
        for (int i = 0; i < 3; i++) printf("line %d from child\n", i);
        fflush(stdout);
        _exit(0);
    }
    close(fd[1]);
    char buf[256];
    ssize_t n, total = 0;
    while ((n = read(fd[0], buf + total, sizeof buf - 1 - total)) > 0) total += n;
    buf[total] = 0;
    printf("read %d bytes:\n%s", (int)total, buf);
    close(fd[0]);
    waitpid(p, &st, 0); show("writer", st);
    /* vfork: the parent waits until the child exits */
    if ((p = vfork()) == 0) _exit(5);
    waitpid(p, &st, 0); show("vfork", st);
    /* clone without CLONE_VM, child tid written */
    pid_t ctid = 0;
#if defined(__x86_64__)
    long r = syscall(SYS_clone, CLONE_CHILD_SETTID | SIGCHLD, 0, NULL, &ctid, 0);
#else /* CONFIG_CLONE_BACKWARDS: flags, newsp, parent_tid, tls, child_tid */
    long r = syscall(SYS_clone, CLONE_CHILD_SETTID | SIGCHLD, 0, NULL, 0, &ctid);
#endif
    if (r == 0) _exit(ctid == getpid() ? 9 : 8);
    waitpid((pid_t)r, &st, 0); show("clone settid", st);
    /* waitid */
    if ((p = fork()) == 0) _exit(42);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, p, &si, WEXITED)) return 13;
    printf("waitid: code %s status %d pid-match %d\n",
           si.si_code == CLD_EXITED ? "CLD_EXITED" : "?", si.si_status, si.si_pid == p);
    /* errors */
    int w = (int)waitpid(-1, &st, 0);
    printf("wait no child: %d %s\n", w, errno == ECHILD ? "ECHILD" : "?");
    printf("getppid differs: %d\n", getppid() != getpid());
    /* process groups */
    if ((p = fork()) == 0) { setpgid(0, 0); _exit(getpgid(0) == getpid() ? 0 : 1); }
    waitpid(p, &st, 0); show("own group", st);
    /* Sessions, independent of the caller's: under a container's init the inherited
     * session id can be 0, so compare ids rather than test their sign. */
    pid_t sid = getsid(0);
    printf("sid ok: %d\n", sid >= 0 && getsid(getpid()) == sid);
    if ((p = fork()) == 0) {
        if (getsid(0) != sid) _exit(1);
        if (setsid() != getpid()) _exit(2);
        if (setsid() != -1 || errno != EPERM) _exit(3);
        _exit(getsid(0) == getpid() && getpgid(0) == getpid() ? 0 : 4);
    }
    waitpid(p, &st, 0); show("new session", st);
    return 0;
}
