/* Threads whose sleeps are over before the scheduler looks at them again: a thread that
 * blocks in nanosleep for a nanosecond is woken by the very switch it blocked for. It
 * must run on exactly once from where it slept (a run queue holding it twice ran it again
 * from a stale state: crashes, stack smashing, a silent exit 0). Each worker sums its own
 * numbers, so the output does not depend on the interleaving. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define N 3
#define SLEEPS 40

static void *sleeper(void *arg) {
    long id = (long)arg, sum = 0;
    struct timespec ts = {0, 1};
    for (int i = 0; i < SLEEPS; i++) {
        nanosleep(&ts, NULL);
        sum += i * (id + 1);
    }
    return (void *)sum;
}

int main(void) {
    pthread_t t[N];
    struct timespec ts = {0, 1};
    for (long i = 0; i < N; i++)
        pthread_create(&t[i], NULL, sleeper, (void *)i);
    for (int i = 0; i < SLEEPS; i++)
        nanosleep(&ts, NULL);
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(t[i], &r);
        printf("join %d -> %ld\n", i, (long)r);
    }
    return 0;
}
