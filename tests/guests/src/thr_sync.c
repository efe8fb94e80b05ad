/* Threads: a mutex-protected counter, a condition variable queue, a barrier, thread-local
 * storage, a detached thread and pthread_join's return values. The output does not depend
 * on the interleaving. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define N 4
#define ITERS 3000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread long tls_value = 7;
static __thread char tls_name[16];

static void *incr(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    tls_value += id;
    snprintf(tls_name, sizeof tls_name, "worker-%ld", id);
    usleep(1000); /* the others change their own copies meanwhile */
    if (tls_value != 7 + id || strcmp(tls_name + 7, (char[]){(char)('0' + id), 0}) != 0)
        return (void *)-1L;
    return (void *)(id * 100 + tls_value);
}

/* a queue of ints under a condition variable: one producer (main), two consumers */
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static int queue[64], qhead, qtail, qdone;
static long consumed_sum[2];

static void *consumer(void *arg) {
    long id = (long)arg;
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (qhead == qtail && !qdone)
            pthread_cond_wait(&qcond, &qlock);
        if (qhead == qtail && qdone) {
            pthread_mutex_unlock(&qlock);
            return NULL;
        }
        int v = queue[qhead++ % 64];
        pthread_mutex_unlock(&qlock);
        consumed_sum[id] += v;
    }
}

static pthread_barrier_t barrier;
static int phase_seen[N];
static int arrived;

static void *at_barrier(void *arg) {
    long id = (long)arg;
    __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
    int r = pthread_barrier_wait(&barrier);
    phase_seen[id] = __atomic_load_n(&arrived, __ATOMIC_SEQ_CST);
    return (void *)(long)(r == PTHREAD_BARRIER_SERIAL_THREAD);
}

static sem_t detached_done;
static int detached_ran;

static void *detached(void *arg) {
    (void)arg;
    usleep(2000);
    detached_ran = 1;
    sem_post(&detached_done);
    return NULL;
}

int main(void) {
    pthread_t t[N];
    for (long i = 0; i < N; i++)
        pthread_create(&t[i], NULL, incr, (void *)i);
    for (int i = 0; i < N; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        printf("join %d -> %ld\n", i, (long)ret);
    }
    printf("counter %ld (expected %d)\n", counter, N * ITERS);
    printf("main tls %ld\n", tls_value);

    pthread_t c[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&c[i], NULL, consumer, (void *)i);
    long produced = 0;
    for (int v = 1; v <= 200; v++) {
        pthread_mutex_lock(&qlock);
        while (qtail - qhead >= 64) {
            pthread_mutex_unlock(&qlock);
            sched_yield();
            pthread_mutex_lock(&qlock);
        }
        queue[qtail++ % 64] = v;
        produced += v;
        pthread_cond_signal(&qcond);
        pthread_mutex_unlock(&qlock);
    }
    pthread_mutex_lock(&qlock);
    qdone = 1;
    pthread_cond_broadcast(&qcond);
    pthread_mutex_unlock(&qlock);
    for (int i = 0; i < 2; i++)
        pthread_join(c[i], NULL);
    printf("queue produced %ld consumed %ld\n", produced, consumed_sum[0] + consumed_sum[1]);

    pthread_barrier_init(&barrier, NULL, N);
    int serial = 0;
    for (long i = 0; i < N; i++)
        pthread_create(&t[i], NULL, at_barrier, (void *)i);
    for (int i = 0; i < N; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        serial += (int)(long)ret;
    }
    for (int i = 0; i < N; i++)
        printf("barrier %d saw %d arrivals\n", i, phase_seen[i]);
    printf("serial threads %d\n", serial);
    pthread_barrier_destroy(&barrier);

    sem_init(&detached_done, 0, 0);
    pthread_t d;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&d, &attr, detached, NULL);
    sem_wait(&detached_done);
    printf("detached ran %d\n", detached_ran);
    return 0;
}
