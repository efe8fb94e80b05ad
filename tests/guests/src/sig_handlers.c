/* Guest signal handlers: raise/kill of itself, SA_SIGINFO, SA_RESETHAND, a blocked signal
 * delivered when unblocked, SIGCHLD while waiting in sigsuspend, SIGPIPE with a handler. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits, last, code, chld;

static void plain(int sig) { hits++; last = sig; }
static void info(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    hits++;
    last = sig;
    code = si->si_signo == sig;
}
static void on_chld(int sig) { (void)sig; chld++; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = plain;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("raise: hits=%d usr1=%d\n", hits, last == SIGUSR1);
    kill(getpid(), SIGUSR1);
    printf("kill: hits=%d\n", hits);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = info;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    printf("siginfo: hits=%d signo-ok=%d reset=%d\n", hits, code, now.sa_handler == SIG_DFL);

    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGUSR1);
    printf("blocked: hits=%d\n", hits);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: hits=%d\n", hits);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t chldmask, waitmask;
    sigemptyset(&chldmask);
    sigaddset(&chldmask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chldmask, &old);
    pid_t p = fork();
    if (p == 0) _exit(4);
    sigemptyset(&waitmask);
    while (!chld) sigsuspend(&waitmask);
    sigprocmask(SIG_SETMASK, &old, NULL);
    int st;
    waitpid(p, &st, 0);
    printf("sigchld: seen=%d status=%d\n", chld > 0, WEXITSTATUS(st));

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = plain;
    sigaction(SIGPIPE, &sa, NULL);
    int fd[2];
    pipe(fd);
    close(fd[0]);
    int before = hits;
    ssize_t n = write(fd[1], "x", 1);
    printf("sigpipe: write=%d epipe=%d handled=%d\n", (int)n, errno == EPIPE, hits == before + 1);
    return 0;
}
