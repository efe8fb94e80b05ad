/* epoll: create/create1 (EPOLL_CLOEXEC), ctl ADD/MOD/DEL and its errors, the 64-bit data
 * word coming back as given, level- and edge-triggered and one-shot registrations of
 * pipes and a socketpair (EPOLLOUT, EPOLLRDHUP, EPOLLHUP), epoll_wait/epoll_pwait/
 * epoll_pwait2 (raw system calls where the target has them), a signal ending a wait
 * (EINTR, alone and in a thread), epoll_pwait's mask, a thread blocked in epoll_wait
 * woken by another thread's write while a third one spins, and an epoll fd shared across
 * fork. The output does not depend on the interleaving. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441 /* the same number on x86_64, aarch64, arm and riscv64 */
#endif

static volatile int handled;
static void on_signal(int sig) { (void)sig; handled++; }

static int raw_wait(int ep, struct epoll_event *ev, int n, int ms) {
#ifdef SYS_epoll_wait
    return syscall(SYS_epoll_wait, ep, ev, n, ms);
#else
    return syscall(SYS_epoll_pwait, ep, ev, n, ms, NULL, 8);
#endif
}

static int raw_create(int size) {
#ifdef SYS_epoll_create
    return syscall(SYS_epoll_create, size);
#else
    return size <= 0 ? (errno = EINVAL, -1) : epoll_create1(0);
#endif
}

static void show(const char *what, int r, struct epoll_event *ev) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerror(errno));
    else if (r == 0)
        printf("%s: 0\n", what);
    else
        printf("%s: %d events 0x%x data 0x%llx\n", what, r, ev[0].events,
               (unsigned long long)ev[0].data.u64);
}

/* the result and errno of one call (printf's arguments have no order) */
#define TRY(label, expr)                                                                     \
    do {                                                                                     \
        errno = 0;                                                                           \
        long r_ = (expr);                                                                    \
        int e_ = errno;                                                                      \
        printf("%s: %ld%s%s\n", label, r_, r_ < 0 ? " " : "", r_ < 0 ? strerror(e_) : "");    \
    } while (0)

static int add(int ep, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void errors(void) {
    TRY("epoll_create(0)", raw_create(0));
    int ep = raw_create(1);
    printf("epoll_create(1) cloexec: %d\n", fcntl(ep, F_GETFD));
    close(ep);
    ep = epoll_create1(EPOLL_CLOEXEC);
    printf("epoll_create1(EPOLL_CLOEXEC) cloexec: %d\n", fcntl(ep, F_GETFD));
    errno = 0;
    TRY("epoll_create1(1)", epoll_create1(1));
    char path[64], link[64] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", ep);
    ssize_t n = readlink(path, link, sizeof link - 1);
    printf("/proc/self/fd: %s\n", n > 0 ? link : "?");
    int p[2];
    pipe(p);
    struct epoll_event ev = {.events = EPOLLIN};
    printf("add: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    TRY("add again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    TRY("mod of p[1]", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
    TRY("del of p[1]", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    TRY("add of itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    TRY("add of fd 999", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev));
    TRY("bad op", epoll_ctl(ep, 7, p[1], &ev));
    int file = open("/proc/self/exe", O_RDONLY);
    TRY("add of a file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev));
    printf("del: %d\n", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    struct epoll_event out[4];
    TRY("wait maxevents 0", epoll_wait(ep, out, 0, 0));
    TRY("wait on a pipe", epoll_wait(p[0], out, 4, 0));
    TRY("wait on fd 999", epoll_wait(999, out, 4, 0));
    close(file);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void levels_and_edges(void) {
    int ep = epoll_create1(0), p[2], q[2], r[2];
    struct epoll_event ev[8];
    pipe(p);
    pipe(q);
    pipe(r);
    add(ep, p[0], EPOLLIN, 0x1122334455667788ULL);
    add(ep, p[1], EPOLLOUT, 0xfedcba9876543210ULL);
    show("pipe write end", raw_wait(ep, ev, 8, 0), ev);
    struct epoll_event mod = {.events = EPOLLIN, .data.u64 = 0xfedcba9876543210ULL};
    epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &mod);
    show("nothing ready", raw_wait(ep, ev, 8, 0), ev);
    write(p[1], "ab", 2);
    show("level: readable", raw_wait(ep, ev, 8, 0), ev);
    show("level: still readable", raw_wait(ep, ev, 8, 0), ev);
    char buf[8];
    read(p[0], buf, 2);
    show("level: drained", raw_wait(ep, ev, 8, 0), ev);

    add(ep, q[0], EPOLLIN | EPOLLET, 0x42);
    write(q[1], "x", 1);
    show("edge: first", raw_wait(ep, ev, 8, 0), ev);
    show("edge: not again", raw_wait(ep, ev, 8, 0), ev);
    write(q[1], "y", 1);
    show("edge: new data", raw_wait(ep, ev, 8, 0), ev);

    add(ep, r[0], EPOLLIN | EPOLLONESHOT, 0x77);
    epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL);
    write(r[1], "z", 1);
    show("oneshot: first", raw_wait(ep, ev, 8, 0), ev);
    show("oneshot: disarmed", raw_wait(ep, ev, 8, 0), ev);
    struct epoll_event rearm = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 0x78};
    epoll_ctl(ep, EPOLL_CTL_MOD, r[0], &rearm);
    show("oneshot: rearmed", raw_wait(ep, ev, 8, 0), ev);
    close(r[1]);
    epoll_ctl(ep, EPOLL_CTL_MOD, r[0], &rearm);
    read(r[0], buf, 1);
    show("pipe writer closed", raw_wait(ep, ev, 8, 0), ev);
    epoll_ctl(ep, EPOLL_CTL_DEL, r[0], NULL);

    int s[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    add(ep, s[0], EPOLLIN | EPOLLOUT | EPOLLRDHUP, 0x5);
    show("socket writable", raw_wait(ep, ev, 8, 0), ev);
    shutdown(s[1], SHUT_WR);
    show("peer shut down writing", raw_wait(ep, ev, 8, 0), ev);
    close(s[1]);
    show("peer closed", raw_wait(ep, ev, 8, 0), ev);
    close(s[0]);
    show("closed fd left the set", raw_wait(ep, ev, 8, 0), ev);

    /* several ready at once, fewer asked for */
    int a[2], b[2];
    pipe(a);
    pipe(b);
    add(ep, a[0], EPOLLIN, 1);
    add(ep, b[0], EPOLLIN, 2);
    write(a[1], "1", 1);
    write(b[1], "2", 1);
    printf("two ready, maxevents 1: %d\n", raw_wait(ep, ev, 1, 0));
    int n = raw_wait(ep, ev, 8, 0);
    printf("two ready: %d, data sum %llu\n", n,
           (unsigned long long)(ev[0].data.u64 + (n > 1 ? ev[1].data.u64 : 0)));
    struct { int64_t sec, nsec; } ts = {0, 30000000}; /* struct __kernel_timespec */
    errno = 0;
    long r2 = syscall(SYS_epoll_pwait2, ep, ev, 8, &ts, NULL, 8);
    printf("epoll_pwait2: %ld %s\n", r2, r2 < 0 ? strerror(errno) : "");
    epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL);
    epoll_ctl(ep, EPOLL_CTL_DEL, b[0], NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r2 = syscall(SYS_epoll_pwait2, ep, ev, 8, &ts, NULL, 8);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("epoll_pwait2 timeout: %ld, waited %d\n", r2, r2 < 0 || ms >= 25);
    ts.nsec = 1000000000;
    r2 = syscall(SYS_epoll_pwait2, ep, ev, 8, &ts, NULL, 8);
    printf("epoll_pwait2 bad timespec: %ld %s\n", r2, strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    n = raw_wait(ep, ev, 8, 40);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("epoll_wait timeout: %d, waited %d\n", n, ms >= 35);
    close(ep);
}

static void signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* epoll_wait is never restarted */
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    int ep = epoll_create1(0), p[2];
    pipe(p);
    add(ep, p[0], EPOLLIN, 9);
    struct epoll_event ev[2];
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    handled = 0;
    int r = epoll_wait(ep, ev, 2, 5000);
    printf("SIGALRM during epoll_wait: %d %s, handled %d\n", r, strerror(errno), handled);

    /* epoll_pwait's mask: SIGUSR1 blocked, unblocked for the wait: the pending one ends it */
    sigset_t block, during, now;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    handled = 0;
    sigemptyset(&during);
    r = epoll_pwait(ep, ev, 2, 5000, &during);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("epoll_pwait unblocking a pending signal: %d %s, handled %d, blocked again %d\n", r,
           strerror(errno), handled, sigismember(&now, SIGUSR1));
    /* the mask blocks SIGALRM for the wait: it does not end it, and runs after */
    sigemptyset(&during);
    sigaddset(&during, SIGALRM);
    sigaddset(&during, SIGUSR1);
    handled = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = epoll_pwait(ep, ev, 2, 150, &during);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    printf("epoll_pwait blocking SIGALRM: %d, waited it all %d, handled after %d\n", r,
           ms >= 140, handled);
    /* a ready fd: the call returns its event, the caller's mask is back */
    write(p[1], "s", 1);
    sigemptyset(&during);
    r = epoll_pwait(ep, ev, 2, 0, &during);
    printf("epoll_pwait of a ready fd: %d data %llu\n", r, (unsigned long long)ev[0].data.u64);
    close(p[0]);
    close(p[1]);
    close(ep);
}

/* --- threads ---------------------------------------------------------------------------- */

static int tep, tp[2];
static volatile int stop, started;
static volatile long count;
static int waiter_ret, waiter_errno;
static unsigned long long waiter_data;

static void *waiter(void *arg) {
    (void)arg;
    struct epoll_event ev;
    started = 1;
    waiter_ret = epoll_wait(tep, &ev, 1, -1);
    waiter_errno = errno;
    waiter_data = waiter_ret > 0 ? ev.data.u64 : 0;
    return NULL;
}

static void *writer(void *arg) {
    (void)arg;
    volatile unsigned long x = 1;
    for (int i = 0; i < 300000; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    write(tp[1], "w", 1);
    return NULL;
}

static void *spinner(void *arg) {
    (void)arg;
    while (!stop)
        count++;
    return NULL;
}

/* two threads wait for one pipe; each byte wakes both, one takes it, the other waits on */
static int two_ep, two_p[2];
static long two_res[2];

static void *two_reader(void *arg) {
    long i = (long)arg;
    char c = 0;
    two_res[i] = read(two_p[0], &c, 1) * 100 + c;
    return NULL;
}

static void *two_epoller(void *arg) {
    long i = (long)arg;
    struct epoll_event ev;
    char c = 0;
    int r = epoll_wait(two_ep, &ev, 1, -1);
    if (r == 1)
        read(two_p[0], &c, 1);
    two_res[i] = r * 100 + c;
    return NULL;
}

static void two_waiters(void *(*fn)(void *), const char *what) {
    pthread_t a, b;
    pthread_create(&a, NULL, fn, (void *)0);
    pthread_create(&b, NULL, fn, (void *)1);
    usleep(50000);
    write(two_p[1], "x", 1);
    usleep(50000);
    write(two_p[1], "y", 1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("two threads in %s, two bytes: %ld\n", what, two_res[0] + two_res[1]);
}

static void threads(void) {
    pipe(two_p);
    two_waiters(two_reader, "read of one pipe");
    two_ep = epoll_create1(0);
    add(two_ep, two_p[0], EPOLLIN | EPOLLET, 0);
    two_waiters(two_epoller, "epoll_wait of one pipe");

    tep = epoll_create1(0);
    pipe(tp);
    add(tep, tp[0], EPOLLIN, 0xabcdef0123ULL);
    pthread_t w, s, wr;
    pthread_create(&s, NULL, spinner, NULL);
    pthread_create(&w, NULL, waiter, NULL);
    pthread_create(&wr, NULL, writer, NULL);
    pthread_join(wr, NULL);
    pthread_join(w, NULL);
    printf("thread in epoll_wait woken by another's write: %d data 0x%llx\n", waiter_ret,
           waiter_data);
    char c;
    read(tp[0], &c, 1);

    /* main waits with a timeout while the spinner goes on */
    long before = count;
    struct epoll_event ev;
    int r = epoll_wait(tep, &ev, 1, 50);
    printf("epoll_wait timeout in main: %d, the spinner ran meanwhile %d\n", r, count > before);

    /* a signal for the waiting thread ends its wait */
    started = 0;
    pthread_create(&w, NULL, waiter, NULL);
    while (!started)
        sched_yield();
    usleep(200000); /* long enough for it to be in epoll_wait, even under load */
    handled = 0;
    pthread_kill(w, SIGUSR1);
    pthread_join(w, NULL);
    printf("pthread_kill of a thread in epoll_wait: %d %s, handled %d\n", waiter_ret,
           strerror(waiter_errno), handled);
    stop = 1;
    pthread_join(s, NULL);
}

static void across_fork(void) {
    int ep = epoll_create1(0), p[2], q[2];
    pipe(p);
    pipe(q);
    add(ep, p[0], EPOLLIN, 0x1234);
    pid_t pid = fork();
    if (pid == 0) {
        struct epoll_event ev;
        write(p[1], "c", 1); /* the parent's registration sees the child's write */
        int r = epoll_wait(ep, &ev, 1, 5000); /* the child's copy shares the instance */
        char c;
        read(q[0], &c, 1); /* after the parent has added q[0] */
        int r2 = epoll_wait(ep, &ev, 1, 0);
        _exit(r == 1 && r2 == 1 ? 10 : 20);
    }
    struct epoll_event ev;
    int r = epoll_wait(ep, &ev, 1, 5000);
    printf("parent sees the child's write: %d data 0x%llx\n", r, (unsigned long long)ev.data.u64);
    char c;
    read(p[0], &c, 1);
    add(ep, q[0], EPOLLIN, 0x99);
    write(q[1], "pp", 2);
    int status;
    waitpid(pid, &status, 0);
    printf("child: status %d\n", WEXITSTATUS(status));
    close(ep);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    errors();
    levels_and_edges();
    signals();
    across_fork();
    threads();
    return 0;
}
