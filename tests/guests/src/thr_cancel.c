/* Signals the C library sends between its own threads: a SIGEV_THREAD timer (a helper
 * thread waits for the timer's signal, aimed at it with SIGEV_THREAD_ID, and runs the
 * function in a new thread) and pthread_cancel of a thread blocked in read (the
 * cancellation signal, sent with tgkill, interrupts the read; the thread unwinds). */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sem_t fired;
static int notified, gate[2];

static void notify(union sigval v) {
    notified = v.sival_int;
    sem_post(&fired);
}

static void *cancel_me(void *arg) {
    (void)arg;
    char c;
    read(gate[0], &c, 1);
    return NULL;
}

int main(void) {
    sem_init(&fired, 0, 0);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = notify;
    ev.sigev_value.sival_int = 42;
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0) {
        perror("timer_create");
        return 1;
    }
    struct itimerspec its = {{0, 0}, {0, 20 * 1000 * 1000}};
    timer_settime(timer, 0, &its, NULL);
    sem_wait(&fired);
    printf("SIGEV_THREAD timer: its function ran with %d\n", notified);
    timer_delete(timer);

    pipe(gate);
    pthread_t t;
    pthread_create(&t, NULL, cancel_me, NULL);
    usleep(10000);
    pthread_cancel(t);
    void *ret;
    pthread_join(t, &ret);
    printf("pthread_cancel of a thread in read: cancelled %d\n", ret == PTHREAD_CANCELED);
    return 0;
}
