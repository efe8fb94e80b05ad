/* pthread_kill of a thread that computes (no system call): its handler runs on it at a
 * block boundary. Main spins, without a system call either, until the thread has started
 * (under -sched deterministic, too, the machine switches between them). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile int started, flag;
static __thread int who;
static int on = -1;

static void handler(int sig) {
    (void)sig;
    on = who;
    flag = 1;
}

static void *spin(void *arg) {
    who = (int)(long)arg;
    started = 1;
    while (!flag)
        ;
    return NULL;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    pthread_create(&t, NULL, spin, (void *)7L);
    while (!started)
        ;
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    printf("the handler ran on thread %d\n", on);
    return 0;
}
