/* Sleeps a signal handler ends write the time left, as Linux: nanosleep and a relative
 * clock_nanosleep (not TIMER_ABSTIME, whose rem stays untouched), alone and in a thread
 * while another runs; a NULL rem is fine. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int handled;
static void on_signal(int sig) { (void)sig; handled++; }

/* the time left after ~100 ms of a 1 s sleep: between 0.5 s and 0.95 s */
static int plausible(struct timespec *rem) {
    long ms = rem->tv_sec * 1000 + rem->tv_nsec / 1000000;
    return rem->tv_sec == 0 && ms >= 500 && ms <= 950;
}

static void alarm_in(long usec) {
    struct itimerval it = {{0, 0}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static struct timespec thread_rem;
static int thread_ret, thread_errno;
static volatile int asleep;

static void *sleeper(void *arg) {
    (void)arg;
    struct timespec one = {1, 0};
    asleep = 1;
    thread_ret = nanosleep(&one, &thread_rem);
    thread_errno = errno;
    return NULL;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    struct timespec one = {1, 0}, rem = {77, 77};

    alarm_in(100000);
    int r = nanosleep(&one, &rem);
    int e = errno;
    printf("nanosleep: %d %s, handled %d, rem plausible %d\n", r, strerror(e), handled,
           plausible(&rem));

    rem.tv_sec = rem.tv_nsec = 77;
    alarm_in(100000);
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &one, &rem);
    printf("clock_nanosleep relative: %s, rem plausible %d\n", strerror(r), plausible(&rem));

    rem.tv_sec = rem.tv_nsec = 77;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 1;
    alarm_in(100000);
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, &rem);
    printf("clock_nanosleep absolute: %s, rem untouched %d\n", strerror(r),
           rem.tv_sec == 77 && rem.tv_nsec == 77);

    alarm_in(100000);
    r = nanosleep(&one, NULL);
    e = errno;
    printf("nanosleep without rem: %d %s\n", r, strerror(e));

    struct timespec done = {0, 1000000};
    rem.tv_sec = rem.tv_nsec = 77;
    r = nanosleep(&done, &rem);
    printf("nanosleep to the end: %d, rem untouched %d\n", r, rem.tv_sec == 77);

    pthread_t t;
    handled = 0;
    pthread_create(&t, NULL, sleeper, NULL);
    while (!asleep)
        sched_yield();
    usleep(200000); /* long enough for it to be in nanosleep, even under load */
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    printf("nanosleep in a thread: %d %s, handled %d, rem plausible %d\n", thread_ret,
           strerror(thread_errno), handled, plausible(&thread_rem));
    return 0;
}
