/* Who the process is and how it is scheduled (tests/linux/test_proc_creds.py): the
 * supplementary groups' count, real/effective/saved ids, nice values set and read back
 * (the raw getpriority answers 20 - nice), the scheduling policy and its priority range,
 * and that times() counts this process's CPU time.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <unistd.h>

int main(void)
{
    gid_t groups[256];
    int n = getgroups(0, NULL);
    printf("groups %d %d\n", n, getgroups(256, groups) == n);
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    printf("resuid %u %u %u\n", r, e, s);
    printf("resgid %u %u %u\n", gr, ge, gs);
    setpriority(PRIO_PROCESS, 0, 5);
    printf("nice %d\n", getpriority(PRIO_PROCESS, 0));
    printf("raw getpriority %ld\n", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    printf("policy %d\n", sched_getscheduler(0));
    printf("fifo range %d %d\n", sched_get_priority_min(SCHED_FIFO),
           sched_get_priority_max(SCHED_FIFO));
    struct sched_param p = {.sched_priority = 7};
    printf("param %d %d\n", sched_getparam(0, &p), p.sched_priority);
    volatile unsigned long x = 0;
    struct tms t;
    clock_t start = times(&t);
    for (unsigned long i = 0; i < 20000000UL; i++)
        x += i;
    clock_t end = times(&t);
    printf("times %d\n", start != (clock_t)-1 && end >= start && t.tms_utime + t.tms_stime > 0);
    return 0;
}
