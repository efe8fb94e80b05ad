/* A thread pool: 4 workers take 200 tasks from a queue (a mutex, two condition
 * variables) and leave with pthread_exit(their task count). Then pthread_join's statuses
 * (a pthread_exit from a nested call, a return value, a thread that ended long before its
 * join, pthread_tryjoin_np's EBUSY on a running thread), detached threads (created so, or
 * pthread_detach'ed), and last a thread calling exit_group while the others wait (poll, a
 * condition variable, a join) or spin: the process ends with its status, 5. The output
 * does not depend on the interleaving. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORKERS 4
#define TASKS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER, idle = PTHREAD_COND_INITIALIZER;
static int queue[TASKS], head, tail, busy, closing;
static unsigned long result[TASKS];

static unsigned long task(int n) {
    unsigned long x = (unsigned long)n;
    for (int i = 0; i < 2000; i++)
        x = x * 2862933555777941757UL + 3037000493UL;
    return x % 1000003;
}

static void *pool_worker(void *arg) {
    (void)arg;
    long done = 0;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (head == tail && !closing)
            pthread_cond_wait(&work, &lock);
        if (head == tail)
            break;
        int n = queue[head++];
        busy++;
        pthread_mutex_unlock(&lock);
        result[n] = task(n);
        done++;
        pthread_mutex_lock(&lock);
        if (--busy == 0 && head == tail)
            pthread_cond_broadcast(&idle);
    }
    pthread_mutex_unlock(&lock);
    pthread_exit((void *)done);
}

static void nested_exit(long v) { pthread_exit((void *)v); }
static void *exits(void *arg) {
    nested_exit((long)arg);
    return NULL;
}
static void *returns(void *arg) { return (void *)((long)arg + 1); }

static int gate[2];
static void *gated(void *arg) {
    char c;
    read(gate[0], &c, 1);
    return arg;
}

static sem_t detached_done;
static void *detached(void *arg) {
    usleep(1000 * (int)(long)arg);
    sem_post(&detached_done);
    return NULL;
}

static pthread_mutex_t never_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static volatile int spinning = 1;
static int quiet[2];
static void *waits_in_poll(void *arg) {
    (void)arg;
    struct pollfd fd = {quiet[0], POLLIN, 0};
    poll(&fd, 1, -1);
    return NULL;
}
static void *waits_on_cond(void *arg) {
    (void)arg;
    pthread_mutex_lock(&never_lock);
    for (;;)
        pthread_cond_wait(&never, &never_lock);
    return NULL;
}
static void *spins(void *arg) {
    (void)arg;
    while (spinning)
        ;
    return NULL;
}
static void *ends_all(void *arg) {
    (void)arg;
    usleep(20000);
    printf("a thread calls exit_group(5)\n");
    fflush(stdout);
    syscall(SYS_exit_group, 5);
    return NULL;
}

int main(void) {
    pthread_t w[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&w[i], NULL, pool_worker, NULL);
    for (int n = 0; n < TASKS; n++) {
        pthread_mutex_lock(&lock);
        queue[tail++] = n;
        pthread_cond_signal(&work);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    while (head != tail || busy)
        pthread_cond_wait(&idle, &lock);
    closing = 1;
    pthread_cond_broadcast(&work);
    pthread_mutex_unlock(&lock);
    long total = 0;
    int all_ok = 1;
    for (int i = 0; i < WORKERS; i++) {
        void *done;
        pthread_join(w[i], &done);
        total += (long)done;
        all_ok &= (long)done >= 0 && (long)done <= TASKS;
    }
    unsigned long sum = 0, expect = 0;
    for (int n = 0; n < TASKS; n++) {
        sum += result[n];
        expect += task(n);
    }
    printf("pool: %ld tasks done by %d workers (counts in range %d), results %s\n", total,
           WORKERS, all_ok, sum == expect ? "right" : "WRONG");

    pthread_t a, b, c, g;
    void *v;
    pthread_create(&a, NULL, exits, (void *)42L);
    pthread_create(&b, NULL, returns, (void *)6L);
    pthread_create(&c, NULL, returns, (void *)99L);
    pipe(gate);
    pthread_create(&g, NULL, gated, (void *)77L);
    pthread_join(a, &v);
    printf("join of a pthread_exit(42) from a nested call: %ld\n", (long)v);
    pthread_join(b, &v);
    printf("join of a return 7: %ld\n", (long)v);
    usleep(20000);
    pthread_join(c, &v);
    printf("join of a thread that ended long before: %ld\n", (long)v);
    printf("tryjoin of a running thread: EBUSY %d\n", pthread_tryjoin_np(g, &v) == EBUSY);
    write(gate[1], "x", 1);
    pthread_join(g, &v);
    printf("join after it went on: %ld\n", (long)v);

    sem_init(&detached_done, 0, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (long i = 0; i < 3; i++) {
        pthread_t d;
        pthread_create(&d, &attr, detached, (void *)(i + 1));
    }
    pthread_t d;
    pthread_create(&d, NULL, detached, (void *)2L);
    printf("pthread_detach: %d\n", pthread_detach(d));
    for (int i = 0; i < 4; i++)
        sem_wait(&detached_done);
    printf("detached threads done: 4\n");

    pipe(quiet);
    pthread_t p, q, s, e;
    pthread_create(&p, NULL, waits_in_poll, NULL);
    pthread_create(&q, NULL, waits_on_cond, NULL);
    pthread_create(&s, NULL, spins, NULL);
    pthread_create(&e, NULL, ends_all, NULL);
    fflush(stdout);
    pthread_join(s, NULL);
    printf("main joined the spinner (wrong)\n");
    return 0;
}
