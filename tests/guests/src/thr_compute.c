/* Compute-bound work split over N threads (argv[1], default 4; 0: main does it all, no
 * thread), each on its own data; the
 * total work (argv[2] times a base amount, default 1) is the same for every N. Prints one
 * checksum (the same for every N). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define TOTAL 4000000u

struct job { unsigned begin, end, sum; };

static void *work(void *arg) {
    struct job *j = arg;
    unsigned h = 2166136261u;
    for (unsigned i = j->begin; i < j->end; i++)
        h = (h ^ (i & 0xff)) * 16777619u + (i >> 3);
    j->sum = h;
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4;
    if (n < 0 || n > 16 || (n && 16 % n))
        return 2;
    pthread_t t[16];
    struct job jobs[16];
    unsigned scale = argc > 2 ? (unsigned)atoi(argv[2]) : 1u;
    unsigned chunk = TOTAL / 16 * scale, total = 0;
    /* always 16 jobs, so the checksum is the same whatever N */
    for (int i = 0; i < 16; i++) {
        jobs[i].begin = i * chunk;
        jobs[i].end = (i + 1) * chunk;
    }
    for (int i = 0; n == 0 && i < 16; i++)
        work(&jobs[i]);
    for (int round = 0; n && round < 16; round += n) {
        for (int i = 0; i < n; i++)
            pthread_create(&t[i], NULL, work, &jobs[round + i]);
        for (int i = 0; i < n; i++)
            pthread_join(t[i], NULL);
    }
    for (int i = 0; i < 16; i++)
        total ^= jobs[i].sum;
    printf("threads %d checksum %08x\n", n, total);
    return 0;
}
