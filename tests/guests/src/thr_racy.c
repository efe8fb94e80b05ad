/* A data race: threads increment a shared counter without a lock, and log the order in
 * which they finish. The result depends on the interleaving. */
#include <pthread.h>
#include <stdio.h>

#define N 3
static volatile long counter, threes;
static volatile int order[N], done;

static void *racer(void *arg) {
    for (int i = 0; i < 300000; i++) {
        long v = counter; /* the read and the write are in different blocks */
        if (v % 3 == 0)
            threes = threes + 1;
        counter = v + 1;
    }
    order[__atomic_fetch_add(&done, 1, __ATOMIC_SEQ_CST)] = (int)(long)arg;
    return NULL;
}

int main(void) {
    pthread_t t[N];
    for (long i = 0; i < N; i++)
        pthread_create(&t[i], NULL, racer, (void *)i);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    printf("counter %ld order %d %d %d\n", counter, order[0], order[1], order[2]);
    return 0;
}
