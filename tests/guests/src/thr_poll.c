/* poll, ppoll, select and pselect6 make only their own thread wait: a thread polls a pipe
 * that another writes after some work; a thread spins on while main waits in a poll or
 * select with a timeout (it has counted on when the wait ends); a timeout still ends a
 * wait with 0. The output does not depend on the interleaving. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static int p1[2], p2[2];
static volatile long count;
static volatile int stop;
static int poll_ret, poll_rev, select_ret, select_set;

static void *poller(void *arg) {
    (void)arg;
    struct pollfd fd = {p1[0], POLLIN, 0};
    poll_ret = poll(&fd, 1, -1);
    poll_rev = fd.revents;
    return NULL;
}

static void *selecter(void *arg) {
    (void)arg;
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p2[0], &r);
    select_ret = select(p2[0] + 1, &r, NULL, NULL, NULL);
    select_set = FD_ISSET(p2[0], &r);
    return NULL;
}

static void *writer(void *arg) {
    (void)arg;
    volatile unsigned long x = 1;
    for (int i = 0; i < 200000; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    write(p1[1], "a", 1);
    for (int i = 0; i < 200000; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    write(p2[1], "b", 1);
    return NULL;
}

static void *spinner(void *arg) {
    (void)arg;
    while (!stop)
        count++;
    return NULL;
}

int main(void) {
    pipe(p1);
    pipe(p2);
    pthread_t a, b, w;
    pthread_create(&a, NULL, poller, NULL);
    pthread_create(&b, NULL, selecter, NULL);
    pthread_create(&w, NULL, writer, NULL);
    pthread_join(w, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("poll of a pipe another thread writes: %d, POLLIN %d\n", poll_ret,
           (poll_rev & POLLIN) != 0);
    printf("select of a pipe another thread writes: %d, set %d\n", select_ret, select_set);
    char c;
    read(p1[0], &c, 1); /* both pipes empty again */
    read(p2[0], &c, 1);

    pthread_t s;
    pthread_create(&s, NULL, spinner, NULL);
    while (count == 0)
        sched_yield();
    long before = count;
    int r = poll(NULL, 0, 50);
    printf("poll timeout: %d, the spinner ran meanwhile %d\n", r, count > before);
    before = count;
    struct timeval tv = {0, 50000};
    r = select(0, NULL, NULL, NULL, &tv);
    printf("select timeout: %d, the spinner ran meanwhile %d\n", r, count > before);
    before = count;
    struct timespec ts = {0, 50000000};
    struct pollfd fd = {p1[0], POLLIN, 0};
    r = ppoll(&fd, 1, &ts, NULL);
    printf("ppoll timeout: %d, revents %d, the spinner ran meanwhile %d\n", r, fd.revents,
           count > before);
    before = count;
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p2[0], &rs);
    ts.tv_nsec = 50000000;
    r = pselect(p2[0] + 1, &rs, NULL, NULL, &ts, NULL);
    printf("pselect timeout: %d, set %d, the spinner ran meanwhile %d\n", r,
           FD_ISSET(p2[0], &rs) != 0, count > before);
    stop = 1;
    pthread_join(s, NULL);
    return 0;
}
