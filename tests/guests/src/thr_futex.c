/* futex as Linux answers it: errors (EAGAIN, EINVAL, ETIMEDOUT), relative and absolute
 * timeouts on both clocks, bitsets, WAKE_OP, CMP_REQUEUE, waking real waiters. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h>'s values (musl-gcc has no kernel headers) */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_BITSET_PRIVATE (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    ((((op)&0xf) << 28) | (((cmp)&0xf) << 24) | (((oparg)&0xfff) << 12) | ((cmparg)&0xfff))

struct ts { long sec, nsec; }; /* the timespec of SYS_futex on this target */

static long fx(void *uaddr, int op, unsigned val, const void *timeout_or_val2, void *uaddr2,
               unsigned val3) {
    long r = syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
    return r < 0 ? -errno : r;
}

static uint32_t word = 5, other = 0, f1 = 0, f2 = 0;
static int started;

static void *waiter(void *arg) {
    uint32_t *f = arg;
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    long r = fx(f, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return (void *)r;
}

static void *bit_waiter(void *arg) {
    (void)arg;
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    return (void *)fx(&f1, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, 1);
}

static void settle(int n) {
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < n)
        usleep(1000);
    usleep(20000); /* the waiters are in the kernel by now */
}

int main(void) {
    struct ts short_wait = {0, 10 * 1000 * 1000}, bad = {0, 1000 * 1000 * 1000}, past = {1, 0};
    printf("wait, wrong value: %ld\n", (long)(fx(&word, FUTEX_WAIT, 4, NULL, NULL, 0) == -EAGAIN));
    printf("wait, misaligned: %ld\n", (long)(fx((char *)&word + 1, FUTEX_WAIT, 5, NULL, NULL, 0) == -EINVAL));
    printf("wait, bad timeout: %ld\n", (long)(fx(&word, FUTEX_WAIT, 5, &bad, NULL, 0) == -EINVAL));
    printf("wait, 10 ms: %ld\n", (long)(fx(&word, FUTEX_WAIT_PRIVATE, 5, &short_wait, NULL, 0) == -ETIMEDOUT));
    printf("bitset 0: %ld\n", (long)(fx(&word, FUTEX_WAIT_BITSET, 5, NULL, NULL, 0) == -EINVAL));
    printf("absolute monotonic, past: %ld\n",
           (long)(fx(&word, FUTEX_WAIT_BITSET, 5, &past, NULL, ~0u) == -ETIMEDOUT));
    printf("absolute realtime, past: %ld\n",
           (long)(fx(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 5, &past, NULL, ~0u) == -ETIMEDOUT));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct ts soon = {now.tv_sec, now.tv_nsec + 5000000};
    if (soon.nsec >= 1000000000) {
        soon.sec++;
        soon.nsec -= 1000000000;
    }
    printf("absolute monotonic, soon: %ld\n",
           (long)(fx(&word, FUTEX_WAIT_BITSET, 5, &soon, NULL, ~0u) == -ETIMEDOUT));
    printf("realtime flag on wake: %ld\n", (long)(fx(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0) == -ENOSYS));
    printf("wake, nobody: %ld\n", fx(&word, FUTEX_WAKE, 1, NULL, NULL, 0));
    printf("cmp_requeue, wrong value: %ld\n",
           (long)(fx(&word, FUTEX_CMP_REQUEUE, 1, (void *)1, &other, 4) == -EAGAIN));
    /* WAKE_OP: other = other + 3 (oparg), wake on word, and on other if old value == 0 */
    unsigned op = FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 0);
    long r = fx(&word, FUTEX_WAKE_OP, 1, (void *)1, &other, op);
    printf("wake_op: %ld, other now %u\n", r, other);
    op = FUTEX_OP(FUTEX_OP_OR, 4, FUTEX_OP_CMP_GT, 100) | (8u << 28); /* 1 << 4 */
    r = fx(&word, FUTEX_WAKE_OP, 1, (void *)1, &other, op);
    printf("wake_op shift: %ld, other now %u\n", r, other);

    /* bitsets: a waiter on bit 0 is not woken by bit 1, then is by bit 0 */
    pthread_t t[2];
    pthread_create(&t[0], NULL, bit_waiter, NULL);
    settle(1);
    printf("wake_bitset 2: %ld\n", fx(&f1, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 2));
    printf("wake_bitset 1: %ld\n", fx(&f1, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 1));
    void *ret;
    pthread_join(t[0], &ret);
    printf("bit waiter returned %ld\n", (long)ret);

    /* requeue: two waiters on f1; wake one, move one to f2; then wake f2 */
    started = 0;
    pthread_create(&t[0], NULL, waiter, &f1);
    pthread_create(&t[1], NULL, waiter, &f1);
    settle(2);
    printf("cmp_requeue: %ld\n", fx(&f1, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &f2, 0));
    usleep(20000);
    printf("wake f1 again: %ld\n", fx(&f1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    printf("wake f2: %ld\n", fx(&f2, FUTEX_WAKE_PRIVATE, 5, NULL, NULL, 0));
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], &ret);
        printf("waiter %d returned %ld\n", i, (long)ret);
    }
    return 0;
}
