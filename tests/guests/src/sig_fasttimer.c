/* A periodic timer much faster than qpp can deliver its signal: 100 us (qemu-user and
 * Linux take it in stride; each delivery costs qpp a few hundred microseconds).
 *
 * Usage: sig_fasttimer         the handler counts 300 ticks, making a system call in
 *                              each, then disarms the timer; main spins (with a system call
 *                              now and then) until it sees the 300th, and prints the count.
 *        sig_fasttimer crash   the timer keeps running, its signal ignored, while the
 *                              program dies of SIGSEGV: the status must be SIGSEGV's.
 *
 * qpp once dropped the hook that stops the engine at a block start when the host's
 * getitimer read 0 between an expiry and the reload; the signals then stopped the engine
 * from outside, which can make unicorn skip a `syscall` (rt_sigreturn: the program ran
 * on past its restorer into other code and crashed). And the host timer outlived the
 * guest: qpp itself died of its SIGALRM while the plugins' atexit ran (status 142). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define TICKS 300

static volatile unsigned ticks;

static void arm(long usec) {
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = it.it_interval.tv_usec = usec;
    setitimer(ITIMER_REAL, &it, NULL);
}

static void on_tick(int sig) {
    (void)sig;
    getppid(); /* a system call in the handler too */
    if (++ticks == TICKS) arm(0);
}

int main(int argc, char **argv) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    if (argc > 1 && strcmp(argv[1], "crash") == 0) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGALRM, &sa, NULL);
        arm(100);
        volatile unsigned long x = 1;
        for (unsigned i = 0; i < 200000u; i++) x = x * 6364136223846793005UL + 1;
        printf("crashing\n");
        fflush(stdout);
        volatile int *nowhere = (volatile int *)(x & 16); /* 16: x is odd */
        *nowhere = 1; /* SIGSEGV */
        return 0;
    }
    sa.sa_handler = on_tick;
    sigaction(SIGALRM, &sa, NULL);
    arm(100);
    volatile unsigned long x = 1;
    unsigned long spins = 0;
    while (ticks < TICKS) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        if (++spins % 4096 == 0) getpid();
    }
    /* one more tick may have been pending when the handler disarmed the timer */
    printf("%s\n", ticks == TICKS || ticks == TICKS + 1 ? "300 ticks" : "wrong count");
    return 0;
}
