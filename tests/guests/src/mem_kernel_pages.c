/* Pages the kernel maps into every process: arm's kuser helpers at 0xffff0f60..0xffff0fff
 * (cmpxchg, cmpxchg64, barrier, get_tls, version) and x86_64's legacy vsyscall page
 * (gettimeofday, time, getcpu at 0xffffffffff600000/400/800). Others print "none". */
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

int main(void) {
#if defined(__arm__)
    typedef int(cmpxchg_t)(int, int, volatile int *);
    typedef int(cmpxchg64_t)(const int64_t *, const int64_t *, volatile int64_t *);
    cmpxchg_t *cmpxchg = (cmpxchg_t *)0xffff0fc0;
    cmpxchg64_t *cmpxchg64 = (cmpxchg64_t *)0xffff0f60;
    volatile int v = 5;
    int ok = cmpxchg(5, 7, &v), fail = cmpxchg(5, 9, &v);
    printf("version %d cmpxchg %d %d v=%d\n", *(int *)0xffff0ffc, ok, fail != 0, v);
    volatile int64_t w = 0x100000002LL;
    int64_t old = 0x100000002LL, new = 0x300000004LL, wrong = 0x100000003LL;
    ok = cmpxchg64(&old, &new, &w);
    fail = cmpxchg64(&wrong, &old, &w);
    printf("cmpxchg64 %d %d w=%llx\n", ok, fail != 0, (unsigned long long)w);
    ((void (*)(void))0xffff0fa0)();
    void *tls = ((void *(*)(void))0xffff0fe0)(), *tp;
    __asm__("mrc p15, 0, %0, c13, c0, 3" : "=r"(tp));
    printf("barrier returns, get_tls %s\n", tls == tp ? "matches" : "differs");
#elif defined(__x86_64__)
    time_t (*vtime)(time_t *) = (time_t(*)(time_t *))0xffffffffff600400UL;
    int (*vgtod)(struct timeval *, void *) = (int (*)(struct timeval *, void *))0xffffffffff600000UL;
    long (*vgetcpu)(unsigned *, unsigned *, void *) =
        (long (*)(unsigned *, unsigned *, void *))0xffffffffff600800UL;
    time_t t0 = time(NULL), stored = 0, t = vtime(&stored);
    struct timeval tv;
    int r = vgtod(&tv, NULL);
    unsigned cpu = 1000, node = 1000;
    long c = vgetcpu(&cpu, &node, NULL);
    printf("time %d stored %d gettimeofday %d %d getcpu %ld %d\n", t - t0 < 5, stored == t, r,
           tv.tv_sec - t0 < 5, c, cpu < 1000);
#else
    puts("none");
#endif
    return 0;
}
