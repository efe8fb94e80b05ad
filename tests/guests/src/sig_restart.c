/* SA_RESTART versus EINTR: a timer's signal interrupts a blocking read on a pipe and a
 * waitpid; with SA_RESTART they go on (and return the data or the child), without it they
 * fail with EINTR. nanosleep and poll end with EINTR whatever SA_RESTART says. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int alarms;

static void on_alarm(int sig) {
    (void)sig;
    alarms++;
}

static void handler(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
}

static void alarm_in(long ms) {
    struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static const char *err(long r) { return r < 0 ? (errno == EINTR ? "EINTR" : strerror(errno)) : "-"; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t writer = fork();
    if (writer == 0) {
        usleep(600 * 1000);
        if (write(p[1], "x", 1) != 1) _exit(1);
        usleep(900 * 1000);
        if (write(p[1], "y", 1) != 1) _exit(1);
        _exit(0);
    }
    char c = 0;
    handler(SA_RESTART);
    alarm_in(100);
    long r = read(p[0], &c, 1);
    printf("read, SA_RESTART: %ld %s data=%c alarms=%d\n", r, err(r), r == 1 ? c : '?', alarms);
    handler(0);
    alarm_in(100);
    r = read(p[0], &c, 1);
    printf("read, no SA_RESTART: %ld %s alarms=%d\n", r, err(r), alarms);
    r = read(p[0], &c, 1);
    printf("read again: %ld data=%c\n", r, r == 1 ? c : '?');
    waitpid(writer, NULL, 0);

    handler(SA_RESTART);
    pid_t child = fork();
    if (child == 0) {
        usleep(600 * 1000);
        _exit(7);
    }
    alarm_in(100);
    int status = 0;
    r = waitpid(child, &status, 0);
    printf("waitpid, SA_RESTART: ok=%d %s status=%d alarms=%d\n", r == child, err(r),
           WEXITSTATUS(status), alarms);
    handler(0);
    child = fork();
    if (child == 0) {
        usleep(600 * 1000);
        _exit(8);
    }
    alarm_in(100);
    r = waitpid(child, &status, 0);
    printf("waitpid, no SA_RESTART: %ld %s alarms=%d\n", r, err(r), alarms);
    r = waitpid(child, &status, 0);
    printf("waitpid again: ok=%d status=%d\n", r == child, WEXITSTATUS(status));

    handler(SA_RESTART);
    alarm_in(100);
    struct timespec ts = {5, 0};
    r = nanosleep(&ts, NULL);
    printf("nanosleep, SA_RESTART: %ld %s alarms=%d\n", r, err(r), alarms);
    alarm_in(100);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    r = poll(&pfd, 1, 5000);
    printf("poll, SA_RESTART: %ld %s alarms=%d\n", r, err(r), alarms);
    return 0;
}
