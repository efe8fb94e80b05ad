/* Pending signals as data: sigpending, sigtimedwait/sigwaitinfo (with a timeout and
 * EAGAIN), sigqueue's si_value reaching an SA_SIGINFO handler and sigwaitinfo, SI_TKILL
 * from raise, and POSIX timers (timer_create with SIGEV_SIGNAL, timer_settime one-shot
 * and periodic, timer_gettime, timer_delete) whose si_value and si_code reach handlers.
 * With an argument ("sync") it stops before the timers. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int got_value, got_code, got_sig, timer_ticks, timer_value_ok;

static void on_queue(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
}

static void on_timer(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    (void)sig;
    timer_ticks++;
    timer_value_ok = si->si_code == SI_TIMER && si->si_value.sival_int == 4242;
}

int main(int argc, char **argv) {
    (void)argv;
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);

    kill(getpid(), SIGUSR1); /* default action, but blocked: stays pending */
    sigpending(&pending);
    printf("pending: usr1=%d usr2=%d\n", sigismember(&pending, SIGUSR1),
           sigismember(&pending, SIGUSR2));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int sig = sigwaitinfo(&set, &si);
    printf("sigwaitinfo: sig=%d code=%d pid_ok=%d\n", sig == SIGUSR1, si.si_code,
           si.si_pid == getpid());
    sigpending(&pending);
    printf("pending after: usr1=%d\n", sigismember(&pending, SIGUSR1));

    struct timespec ts = {0, 50 * 1000 * 1000};
    sig = sigtimedwait(&set, &si, &ts);
    printf("sigtimedwait with nothing pending: %d errno=%s\n", sig,
           errno == EAGAIN ? "EAGAIN" : strerror(errno));

    union sigval v = {.sival_int = 99};
    sigqueue(getpid(), SIGUSR2, v);
    sig = sigtimedwait(&set, &si, &ts);
    printf("sigqueue then sigtimedwait: usr2=%d code=%d value=%d\n", sig == SIGUSR2,
           si.si_code, si.si_value.sival_int);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_queue;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    v.sival_int = 123;
    sigqueue(getpid(), SIGUSR2, v);
    printf("handler not run while blocked: %d\n", got_sig == 0);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("sigqueue to a handler: usr2=%d code=%d value=%d\n", got_sig == SIGUSR2, got_code,
           got_value);
    raise(SIGUSR2);
    printf("raise: code=%d\n", got_code);
    if (argc > 1) return 0; /* "sync": no timers, the same instructions on every run */

    sa.sa_sigaction = on_timer;
    sigaction(SIGRTMIN, &sa, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN;
    sev.sigev_value.sival_int = 4242;
    timer_t t;
    printf("timer_create: %d\n", timer_create(CLOCK_MONOTONIC, &sev, &t));
    struct itimerspec its = {{0, 0}, {0, 300 * 1000 * 1000}};
    timer_settime(t, 0, &its, NULL);
    struct itimerspec left;
    timer_gettime(t, &left);
    printf("armed: %d\n", left.it_value.tv_sec == 0 && left.it_value.tv_nsec > 0);
    while (timer_ticks == 0) pause();
    printf("one-shot: ticks=%d value_ok=%d\n", timer_ticks, timer_value_ok);
    timer_gettime(t, &left);
    printf("disarmed: %d\n", left.it_value.tv_sec == 0 && left.it_value.tv_nsec == 0);
    its.it_interval.tv_nsec = 10 * 1000 * 1000;
    its.it_value.tv_nsec = 10 * 1000 * 1000;
    timer_settime(t, 0, &its, NULL);
    while (timer_ticks < 4) pause();
    printf("periodic: ticks>=4: %d\n", timer_ticks >= 4);
    printf("timer_delete: %d\n", timer_delete(t));

    sev.sigev_signo = SIGALRM;
    signal(SIGALRM, SIG_DFL);
    timer_create(CLOCK_REALTIME, &sev, &t);
    its.it_interval.tv_nsec = 0;
    timer_settime(t, 0, &its, NULL);
    for (;;) pause();
}
