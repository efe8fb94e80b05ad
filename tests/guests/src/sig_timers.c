/* Timers: alarm and setitimer raise SIGALRM; its handler runs while the guest waits in
 * pause or spins without any system call; alarm returns what was left; without a handler
 * SIGALRM ends the guest (142). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t rings;

static void ring(int sig) { (void)sig; rings++; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ring;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    pause();
    printf("alarm during pause: rings=%d\n", rings);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    while (rings < 2) {
    } /* spins: no system call until the handler has run */
    printf("itimer during a spin: rings=%d\n", rings);
    struct itimerval every = {{0, 20000}, {0, 20000}}, left;
    setitimer(ITIMER_REAL, &every, NULL);
    while (rings < 5) pause();
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, &left);
    /* a tick may still come between the last pause and the disarming: at least 5 */
    printf("periodic: 5 or more=%d interval=%ld\n", rings >= 5, (long)left.it_interval.tv_usec);
    alarm(5);
    unsigned was = alarm(0);
    printf("alarm left: %s\n", was == 5 || was == 4 ? "ok" : "wrong");
    getitimer(ITIMER_REAL, &left);
    printf("disarmed: %ld\n", (long)(left.it_value.tv_sec + left.it_value.tv_usec));
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    pause();
    printf("not reached\n");
    return 0;
}
