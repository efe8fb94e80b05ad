/* A timer's signal (handler without SA_RESTART) during reads and writes that do not
 * block: /dev/zero, /dev/null and a pipe with room never wait, so Linux never ends them
 * with EINTR; only a call that waits is interrupted. qpp once ended any read or write a
 * host signal came during (a line of a program's output lost now and then). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <fcntl.h>

static volatile sig_atomic_t ticks;
static void on_alarm(int sig) { (void)sig; ticks++; }

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: a call that waits ends with EINTR */
    sigaction(SIGALRM, &sa, NULL);
    int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY), p[2];
    if (zero < 0 || null < 0 || pipe(p) != 0)
        return 1;
    struct itimerval it = {{0, 2000}, {0, 2000}};
    setitimer(ITIMER_REAL, &it, NULL);
    long eintr = 0, short_io = 0, calls = 0;
    char buf[64];
    while (ticks < 100) {
        for (int i = 0; i < 50; i++, calls += 4) {
            ssize_t n[4] = {read(zero, buf, sizeof buf), write(null, buf, sizeof buf),
                            write(p[1], buf, 8), 0};
            n[3] = read(p[0], buf, 8);
            for (int j = 0; j < 4; j++) {
                if (n[j] < 0 && errno == EINTR)
                    eintr++;
                else if (n[j] != (j < 2 ? (ssize_t)sizeof buf : 8))
                    short_io++;
            }
        }
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("ticks>=100 %d calls>0 %d eintr %ld short %ld\n", ticks >= 100, calls > 0, eintr,
           short_io);
    return 0;
}
