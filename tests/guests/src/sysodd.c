/* sysodd: odd syscall arguments, poll/select, SIGPIPE; prints what each call returned.
 *
 * Modes (argv[1]):
 *   odd         out-of-range arguments to fd, proc, time and signal calls
 *   poll        poll/ppoll/select/pselect6 over pipes (every variant the target has)
 *   stdin       poll fd 0 with no timeout, then read it (the shell `read` builtin's way)
 *   epipe       write to a pipe without a reader: the process dies of SIGPIPE (141)
 *   epipe-ign   the same with SIGPIPE ignored: write fails with EPIPE
 *   usr1        kill(getpid(), SIGUSR1): the process dies of it (138), silently
 *   flood       write lines to stdout until something stops us (for `| head -c10`)
 *   sleep       nanosleep for ~2^31 seconds (the caller kills us)
 * Every line is "WHAT RESULT ERRNO-NAME".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *volatile bad_ptr = (void *)16;
#define BAD bad_ptr

static const char *ename(int e) {
    switch (e) {
    case 0: return "OK";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ESRCH: return "ESRCH";
    case EPERM: return "EPERM";
    case ERANGE: return "ERANGE";
    case ESPIPE: return "ESPIPE";
    case EPIPE: return "EPIPE";
    case ENOENT: return "ENOENT";
    case ENOSYS: return "ENOSYS";
    case EINTR: return "EINTR";
    case ENOMEM: return "ENOMEM";
    default: return "E?";
    }
}

static void show(const char *what, long ret) {
    printf("%s %ld %s\n", what, ret, ename(ret == -1 ? errno : 0));
    fflush(stdout);
}

#define CALL(what, expr)                                                                     \
    do {                                                                                     \
        errno = 0;                                                                           \
        long r_ = (long)(expr);                                                              \
        show(what, r_);                                                                      \
    } while (0)

/* the kernel's sigaction, big enough for every target's layout */
static unsigned long kact[8];

static void odd(void) {
    char buf[256];
    int fd = open("/nonexistent/sysodd", O_RDONLY);
    CALL("open-missing", fd);
    CALL("write-failed-fd", write(fd, "x", 1));
    CALL("write-minus1-null", syscall(SYS_write, -1L, 0L, 0L));
    CALL("read-minus1", read(-1, buf, 1));
    CALL("read-bigfd", read(0x7fffffff, buf, 1));
    CALL("close-minus1", close(-1));
    CALL("dup-minus1", syscall(SYS_dup, -1L));
    CALL("dup2-to-minus1", dup2(1, -1));
    CALL("fcntl-badcmd", syscall(SYS_fcntl, 1, 9999, 0));
    CALL("fcntl-badfd", syscall(SYS_fcntl, -1L, (long)F_GETFL, 0L));
    int null = open("/dev/null", O_RDWR);
    CALL("lseek-badwhence", lseek(null, 0, 99));
    CALL("lseek-badfd", lseek(-1, 0, SEEK_SET));
    CALL("fstat-badfd", syscall(SYS_fstat, -1L, buf));
    CALL("fstat-badptr", syscall(SYS_fstat, null, BAD));
    CALL("read-badptr", read(null, BAD, 1)); /* /dev/null: EOF before any copy */
    CALL("write-badptr", write(null, BAD, 1));
    CALL("getcwd-0", syscall(SYS_getcwd, buf, 0));
    CALL("getcwd-1", syscall(SYS_getcwd, buf, 1));
    CALL("uname-badptr", syscall(SYS_uname, BAD));
#ifdef SYS_prlimit64
    CALL("prlimit64-9999", syscall(SYS_prlimit64, 0, 9999, 0, buf));
    CALL("prlimit64-badpid", syscall(SYS_prlimit64, 0x7ffffff0, RLIMIT_NOFILE, 0, buf));
    CALL("prlimit64-badptr", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, BAD));
#endif
#ifdef SYS_getrlimit
    CALL("getrlimit-9999", syscall(SYS_getrlimit, 9999, buf));
#endif
#ifdef SYS_ugetrlimit
    CALL("ugetrlimit-9999", syscall(SYS_ugetrlimit, 9999, buf));
#endif
    CALL("affinity-0", syscall(SYS_sched_getaffinity, 0, 0, buf));
    CALL("affinity-3", syscall(SYS_sched_getaffinity, 0, 3, buf));
    CALL("affinity-badpid", syscall(SYS_sched_getaffinity, 0x7ffffff0, 128, buf));
    CALL("affinity-badptr", syscall(SYS_sched_getaffinity, 0, 128, BAD));
    CALL("affinity-128", syscall(SYS_sched_getaffinity, 0, 128, buf) > 0);
    printf("affinity-cpu0 %d\n", buf[0] & 1);
#ifndef __mips__
    CALL("kill-65", kill(getpid(), 65));
#endif
    CALL("kill-200", kill(getpid(), 200));
    CALL("kill-minus1", kill(getpid(), -1));
    CALL("kill-0", kill(getpid(), 0));
    CALL("clock_gettime-9999", syscall(SYS_clock_gettime, 9999, buf));
    CALL("clock_gettime-badptr", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD));
    CALL("clock_getres-9999", syscall(SYS_clock_getres, 9999, buf));
    CALL("clock_getres-null", syscall(SYS_clock_getres, CLOCK_MONOTONIC, 0));
    struct timespec ts = {0, 2000000000};
    CALL("nanosleep-bignsec", syscall(SYS_nanosleep, &ts, 0));
    ts.tv_sec = -1;
    ts.tv_nsec = 0;
    CALL("nanosleep-negsec", syscall(SYS_nanosleep, &ts, 0));
    CALL("nanosleep-badptr", syscall(SYS_nanosleep, BAD, 0));
    ts.tv_sec = 0;
    ts.tv_nsec = 1000;
    CALL("nanosleep-1us", syscall(SYS_nanosleep, &ts, 0));
    CALL("rt_sigaction-badsize", syscall(SYS_rt_sigaction, SIGPIPE, 0, kact, 3));
    CALL("rt_sigaction-sig0", syscall(SYS_rt_sigaction, 0, 0, kact, _NSIG / 8));
    CALL("rt_sigaction-sig999", syscall(SYS_rt_sigaction, 999, 0, kact, _NSIG / 8));
    memset(kact, 0, sizeof kact);
    CALL("rt_sigaction-kill", syscall(SYS_rt_sigaction, SIGKILL, kact, 0, _NSIG / 8));
    CALL("rt_sigaction-badptr", syscall(SYS_rt_sigaction, SIGPIPE, BAD, 0, _NSIG / 8));
    CALL("rt_sigprocmask-badhow", syscall(SYS_rt_sigprocmask, 99, kact, 0, _NSIG / 8));
    CALL("rt_sigprocmask-badsize", syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, kact, 3));
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    CALL("sigaction-ign", sigaction(SIGUSR1, &sa, 0));
    CALL("sigaction-get", sigaction(SIGUSR1, 0, &old));
    printf("sigaction-was-ign %d\n", old.sa_handler == SIG_IGN);
    CALL("kill-self-ignored", kill(getpid(), SIGUSR1));
    stack_t ss;
    memset(&ss, 0x55, sizeof ss);
    CALL("sigaltstack-get", sigaltstack(0, &ss));
    printf("sigaltstack-flags %d\n", ss.ss_flags);
    static char altstack[65536];
    stack_t mine = {.ss_sp = altstack, .ss_flags = 0, .ss_size = sizeof altstack};
    mine.ss_size = 100;
    CALL("sigaltstack-small", sigaltstack(&mine, 0));
    mine.ss_size = sizeof altstack;
    mine.ss_flags = 77;
    CALL("sigaltstack-badflags", sigaltstack(&mine, 0));
    mine.ss_flags = 0;
    CALL("sigaltstack-set", sigaltstack(&mine, 0));
    CALL("sigaltstack-get2", sigaltstack(0, &ss));
    printf("sigaltstack-now %d %d %d\n", ss.ss_sp == altstack, ss.ss_flags,
           (int)ss.ss_size);
}

static void show_revents(const char *what, struct pollfd *p, int n) {
    printf("%s", what);
    for (int i = 0; i < n; i++) printf(" %d:%#x", i, p[i].revents);
    printf("\n");
    fflush(stdout);
}

static void do_poll(void) {
    int p[2];
    char c = 'x';
    if (pipe(p)) return;
    struct pollfd f[3] = {{p[0], POLLIN, 0x77}, {p[1], POLLOUT, 0x77}, {-1, POLLIN, 0x77}};
    struct timespec zero = {0, 0}, bad = {0, 1000000000};
#ifdef SYS_poll
    CALL("poll-empty", syscall(SYS_poll, f, 3, 0));
    show_revents("poll-empty-rev", f, 3);
#endif
    CALL("ppoll-empty", syscall(SYS_ppoll, f, 3, &zero, 0, _NSIG / 8));
    show_revents("ppoll-empty-rev", f, 3);
    CALL("write", write(p[1], &c, 1));
    CALL("ppoll-ready", syscall(SYS_ppoll, f, 1, 0, 0, _NSIG / 8)); /* NULL: no timeout */
    show_revents("ppoll-ready-rev", f, 1);
    CALL("ppoll-badts", syscall(SYS_ppoll, f, 1, &bad, 0, _NSIG / 8));
    CALL("ppoll-badtsptr", syscall(SYS_ppoll, f, 1, BAD, 0, _NSIG / 8));
    CALL("ppoll-badfds", syscall(SYS_ppoll, BAD, 1, &zero, 0, _NSIG / 8));
    CALL("ppoll-nfds-huge", syscall(SYS_ppoll, f, 0x7fffffff, &zero, 0, _NSIG / 8));
    CALL("ppoll-badsigsize", syscall(SYS_ppoll, f, 1, &zero, kact, 3));
    CALL("ppoll-zero-nfds", syscall(SYS_ppoll, 0, 0, &zero, 0, _NSIG / 8));
    struct pollfd bf = {1000, POLLIN, 0};
    CALL("ppoll-closedfd", syscall(SYS_ppoll, &bf, 1, &zero, 0, _NSIG / 8));
    printf("ppoll-closedfd-rev %#x\n", bf.revents);
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    struct timeval tv = {0, 0};
#if defined(SYS_select) || defined(SYS__newselect)
#ifdef SYS_select
    long nr_select = SYS_select;
#else
    long nr_select = SYS__newselect;
#endif
    CALL("select-ready", syscall(nr_select, p[1] + 1, &r, &w, 0, &tv));
    printf("select-bits %d %d\n", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
    FD_ZERO(&r);
    FD_SET(1000, &r);
    CALL("select-closedfd", syscall(nr_select, 1001, &r, 0, 0, &tv));
    CALL("select-negnfds", syscall(nr_select, -1, 0, 0, 0, &tv));
    tv.tv_usec = 2000000;
    CALL("select-badtv", syscall(nr_select, 0, 0, 0, 0, &tv));
    tv.tv_usec = 0;
    CALL("select-badset", syscall(nr_select, 3, BAD, 0, 0, &tv));
    CALL("select-nothing", syscall(nr_select, 0, 0, 0, 0, &tv));
#endif
    read(p[0], &c, 1);
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    CALL("pselect6-wonly", syscall(SYS_pselect6, p[1] + 1, &r, &w, 0, &zero, 0));
    printf("pselect6-bits %d %d\n", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
    close(p[1]);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    CALL("pselect6-hup", syscall(SYS_pselect6, p[0] + 1, &r, 0, 0, 0, 0)); /* no timeout */
    printf("pselect6-hup-bit %d\n", FD_ISSET(p[0], &r));
    CALL("pselect6-badts", syscall(SYS_pselect6, 0, 0, 0, 0, &bad, 0));
    f[0].revents = 0x77;
    CALL("ppoll-hup", syscall(SYS_ppoll, f, 1, &zero, 0, _NSIG / 8));
    show_revents("ppoll-hup-rev", f, 1);
    CALL("libc-poll", poll(f, 1, 10));
    CALL("libc-select", select(p[0] + 1, &r, 0, 0, &tv));
}

static void do_stdin(void) {
    struct pollfd f = {0, POLLIN, 0};
    CALL("poll-stdin", poll(&f, 1, -1));
    printf("poll-stdin-rev %#x\n", f.revents);
    char buf[64] = {0};
    CALL("read-stdin", read(0, buf, sizeof buf - 1));
    printf("got %s", buf);
}

static void epipe(int ignore) {
    int p[2];
    if (pipe(p)) return;
    close(p[0]);
    if (ignore) signal(SIGPIPE, SIG_IGN);
    printf("before\n");
    fflush(stdout);
    CALL("write-noreader", write(p[1], "x", 1));
    CALL("write-noreader-again", write(p[1], "x", 1));
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "odd";
    if (!strcmp(mode, "odd")) odd();
    else if (!strcmp(mode, "poll")) do_poll();
    else if (!strcmp(mode, "stdin")) do_stdin();
    else if (!strcmp(mode, "epipe")) epipe(0);
    else if (!strcmp(mode, "epipe-ign")) epipe(1);
    else if (!strcmp(mode, "usr1")) {
        printf("before\n");
        fflush(stdout);
        kill(getpid(), SIGUSR1); /* numbered 16 on mips, 10 elsewhere */
        printf("after\n");
    }
    else if (!strcmp(mode, "flood")) {
        for (;;) write(1, "0123456789abcdef\n", 17);
    } else if (!strcmp(mode, "sleep")) {
        struct timespec ts = {0x7fffffff, 0};
        CALL("nanosleep-huge", syscall(SYS_nanosleep, &ts, 0));
    } else return 2;
    return 0;
}
