/* Signals and threads: pthread_kill runs the handler on its target thread (a thread
 * blocked in read, which restarts under SA_RESTART), each thread has its own mask (a new
 * thread inherits its creator's), a process-directed signal is taken by the one thread
 * that does not block it, a signal for one thread is pending for it alone, and a POSIX
 * timer with SIGEV_THREAD_ID reaches only its thread; a process-directed timer signal
 * (setitimer) is handled by the one thread that does not block it, blocked in read,
 * while another spins; sigsuspend and sigtimedwait wait in their own thread. The output
 * does not depend on the interleaving. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define NW 4
static __thread int who; /* 0: main, 1..NW: the workers */
static pid_t tids[NW + 1];
static int pipes[NW + 1][2];
static int ready;
static volatile int usr1_on = -1, usr1_code, usr1_tid_ok;
static volatile int usr2_on = -1, alrm_on = -1;
static int inherited[NW + 1], pending_self, taken_sig[NW + 1];
static long read_result[NW + 1];

static pid_t my_tid(void) { return (pid_t)syscall(SYS_gettid); }

static void on_usr1(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    usr1_code = si->si_code;
    usr1_tid_ok = my_tid() == tids[who];
    __atomic_store_n(&usr1_on, who, __ATOMIC_SEQ_CST);
}

static void on_usr2(int sig) {
    (void)sig;
    __atomic_store_n(&usr2_on, who, __ATOMIC_SEQ_CST);
}

static void start(long id);

static void on_alrm(int sig) {
    (void)sig;
    __atomic_store_n(&alrm_on, who, __ATOMIC_SEQ_CST);
}

/* phase 4: worker 1 spins with SIGALRM blocked, worker 2 unblocks it and reads */
static void *alarm_taker(void *arg) {
    start((long)arg);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    if (who == 2)
        pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
    __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
    if (who == 2) {
        char c;
        read_result[who] = read(pipes[who][0], &c, 1);
    } else {
        while (__atomic_load_n(&alrm_on, __ATOMIC_SEQ_CST) < 0)
            ;
    }
    return NULL;
}

/* phase 5: worker 3 in sigsuspend (SIGUSR1 blocked otherwise), worker 4 in sigtimedwait */
static int suspend_ret, suspend_eintr, still_blocked, timedwait_eagain;
static void *suspender(void *arg) {
    start((long)arg);
    sigset_t usr1, none;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    if (who == 3) {
        pthread_sigmask(SIG_BLOCK, &usr1, NULL);
        __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
        suspend_ret = sigsuspend(&none);
        suspend_eintr = errno == EINTR;
        sigset_t now;
        pthread_sigmask(SIG_BLOCK, NULL, &now);
        still_blocked = sigismember(&now, SIGUSR1);
    } else {
        __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
        struct timespec ts = {0, 30 * 1000 * 1000};
        timedwait_eagain = sigtimedwait(&usr1, NULL, &ts) < 0 && errno == EAGAIN;
    }
    return NULL;
}

static void wait_flag(volatile int *flag) {
    while (__atomic_load_n(flag, __ATOMIC_SEQ_CST) < 0)
        sched_yield();
}

static void wait_ready(int n) {
    while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < n)
        sched_yield();
}

static void start(long id) {
    who = (int)id;
    tids[who] = my_tid();
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    inherited[who] = sigismember(&now, SIGUSR2);
}

/* phase 1: blocked in read while main signals it */
static void *reader(void *arg) {
    start((long)arg);
    __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
    char c;
    read_result[who] = read(pipes[who][0], &c, 1);
    return NULL;
}

/* phase 2: worker 1 keeps SIGUSR2 blocked (inherited), worker 2 unblocks it */
static void *masker(void *arg) {
    start((long)arg);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    if (who == 2)
        pthread_sigmask(SIG_UNBLOCK, &usr2, NULL);
    __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
    char c;
    read_result[who] = read(pipes[who][0], &c, 1);
    if (who == 1) {
        sigset_t pend;
        sigpending(&pend);
        pending_self = sigismember(&pend, SIGUSR2);
        siginfo_t si;
        taken_sig[who] = sigwaitinfo(&usr2, &si) == SIGUSR2;
        }
    return NULL;
}

/* phase 3: both wait for SIGALRM; the timer is aimed at worker 4 alone */
static void *alarm_waiter(void *arg) {
    start((long)arg);
    __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    siginfo_t si;
    taken_sig[who] = sigwaitinfo(&alrm, &si) == SIGALRM;
    return NULL;
}

int main(void) {
    pthread_t t[NW + 1];
    tids[0] = my_tid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    for (int i = 1; i <= NW; i++)
        pipe(pipes[i]);

    /* 1: pthread_kill */
    ready = 0;
    for (long i = 1; i <= 3; i++)
        pthread_create(&t[i], NULL, reader, (void *)i);
    wait_ready(3);
    for (int i = 1; i <= 3; i++) {
        usr1_on = -1;
        pthread_kill(t[i], SIGUSR1);
        wait_flag(&usr1_on);
        printf("pthread_kill worker %d: handler ran on worker %d, its gettid %d, SI_TKILL %d\n",
               i, usr1_on, usr1_tid_ok, usr1_code == SI_TKILL);
        write(pipes[i][1], "x", 1);
        pthread_join(t[i], NULL);
        printf("worker %d: read restarted and returned %ld\n", i, read_result[i]);
    }

    /* 2: per-thread masks */
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR2);
    sigaddset(&blocked, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &blocked, NULL);
    ready = 0;
    for (long i = 1; i <= 2; i++)
        pthread_create(&t[i], NULL, masker, (void *)i);
    wait_ready(2);
    printf("new threads inherit the mask: %d %d\n", inherited[1], inherited[2]);
    kill(getpid(), SIGUSR2);
    wait_flag(&usr2_on);
    printf("kill(getpid(), SIGUSR2): handled on worker %d\n", usr2_on);
    pthread_kill(t[1], SIGUSR2);
    sigset_t pend;
    sigpending(&pend);
    printf("pthread_kill(worker 1, SIGUSR2): pending for main %d\n", sigismember(&pend, SIGUSR2));
    for (int i = 1; i <= 2; i++) {
        write(pipes[i][1], "x", 1);
        pthread_join(t[i], NULL);
    }
    /* (not sigwaitinfo's si_code: qemu-user 7.2 garbles it on the glibc targets) */
    printf("worker 1: pending for itself %d, sigwaitinfo took it %d\n", pending_self,
           taken_sig[1]);
    printf("reads returned %ld %ld\n", read_result[1], read_result[2]);

    /* 3: a timer aimed at one thread */
    ready = 0;
    for (long i = 3; i <= 4; i++)
        pthread_create(&t[i], NULL, alarm_waiter, (void *)i);
    wait_ready(2);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGALRM;
    ev.sigev_notify_thread_id = tids[4];
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0) {
        perror("timer_create");
        return 1;
    }
    struct itimerspec its = {{0, 0}, {0, 20 * 1000 * 1000}};
    timer_settime(timer, 0, &its, NULL);
    pthread_join(t[4], NULL);
    printf("timer for worker 4: taken by worker 4 %d\n", taken_sig[4]);
    pthread_kill(t[3], SIGALRM);
    pthread_join(t[3], NULL);
    printf("worker 3 took main's pthread_kill instead: %d\n", taken_sig[3]);
    ev.sigev_notify_thread_id = 1; /* not a thread of this process */
    printf("SIGEV_THREAD_ID for another process's thread fails: %d\n",
           timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0);

    /* 4: a process-directed timer signal */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alrm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    ready = 0;
    for (long i = 1; i <= 2; i++)
        pthread_create(&t[i], NULL, alarm_taker, (void *)i);
    wait_ready(2);
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    wait_flag(&alrm_on);
    printf("setitimer's SIGALRM: handled on worker %d\n", alrm_on);
    write(pipes[2][1], "x", 1);
    for (int i = 1; i <= 2; i++)
        pthread_join(t[i], NULL);
    printf("its read restarted and returned %ld\n", read_result[2]);

    /* 5: sigsuspend, sigtimedwait */
    ready = 0;
    for (long i = 3; i <= 4; i++)
        pthread_create(&t[i], NULL, suspender, (void *)i);
    wait_ready(2);
    usr1_on = -1;
    pthread_kill(t[3], SIGUSR1);
    for (int i = 3; i <= 4; i++)
        pthread_join(t[i], NULL);
    printf("sigsuspend in worker 3: %d EINTR %d, handler on worker %d, mask back %d\n",
           suspend_ret, suspend_eintr, usr1_on, still_blocked);
    printf("sigtimedwait in worker 4 timed out: EAGAIN %d\n", timedwait_eagain);
    return 0;
}
