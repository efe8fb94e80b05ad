/* A compute loop that a periodic timer interrupts hundreds of times, for exact
 * instruction counts across asynchronous delivery.
 *
 * Usage: sig_spin K   (one digit)  K = 8: the timer is armed for 96 s, it never fires;
 * K = 1..7: it fires every K ms. The main loop's work and the handler's are fixed and
 * every path runs the same instructions whatever K is, so an instruction count is
 * exactly BASE + ticks * PER_TICK: BASE the count with K = 8, PER_TICK the handler and its
 * return (restorer, sigreturn). Prints the number of ticks as ten digits (a fixed number
 * of instructions whatever the value). */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define ROUNDS 2000000u

static volatile unsigned ticks, sink;

static void on_tick(int sig) {
    unsigned s = sink;
    (void)sig;
    for (unsigned i = 0; i < 16; i++) s = s * 31u + i;
    sink = s;
    ticks++;
}

int main(int argc, char **argv) {
    unsigned k = argc > 1 ? (unsigned)(argv[1][0] - '0') : 8;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it;
    it.it_value.tv_sec = it.it_interval.tv_sec = (k & 8) * 12; /* no branch on k */
    it.it_value.tv_usec = it.it_interval.tv_usec = (k & 7) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
    volatile unsigned long x = 1;
    for (unsigned i = 0; i < ROUNDS; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    struct itimerval off;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
    unsigned v = ticks;
    char line[11];
    for (int i = 9; i >= 0; i--) {
        line[i] = (char)('0' + v % 10);
        v /= 10;
    }
    line[10] = '\n';
    return write(1, line, sizeof line) == sizeof line ? 0 : 1;
}
