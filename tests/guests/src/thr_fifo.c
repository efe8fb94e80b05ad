/* The open of a FIFO waits for its other end in its own thread: a reader and a writer
 * thread meet (either may come first), main's own open waits while a spinner goes on,
 * non-blocking opens answer at once (ENXIO for a writer without a reader), and a signal
 * handler ends a waiting open with EINTR (no reader is left behind) or, under
 * SA_RESTART, lets it go on. Also mkfifo (mknod/mknodat) and its EEXIST. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char path[64];
static volatile int handled, stop, entered;
static volatile long count;
static char got[16];
static int reader_fd, writer_fd, reader_errno;

static void on_signal(int sig) { (void)sig; handled++; }

static void work(void) {
    volatile unsigned long x = 1;
    for (int i = 0; i < 300000; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
}

static void *reader(void *arg) {
    (void)arg;
    entered = 1;
    reader_fd = open(path, O_RDONLY);
    reader_errno = errno;
    if (reader_fd >= 0) {
        ssize_t n = read(reader_fd, got, sizeof got - 1);
        got[n > 0 ? n : 0] = 0;
        close(reader_fd);
    }
    return NULL;
}

static void *writer(void *arg) {
    if (arg == (void *)1)
        work();
    else if (arg)
        usleep(100000); /* main waits in its open meanwhile (were every thread held
                           there, this sleep would never end: the run would hang) */
    writer_fd = open(path, O_WRONLY);
    if (writer_fd >= 0) {
        write(writer_fd, "hello", 5);
        close(writer_fd);
    }
    return NULL;
}

static void *spinner(void *arg) {
    (void)arg;
    while (!stop)
        count++;
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/qpp-fifo-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/f", dir);
    printf("mkfifo: %d\n", mkfifo(path, 0600));
    errno = 0;
    int r = mkfifo(path, 0600);
    printf("mkfifo again: %d %s\n", r, strerror(errno));
    struct stat st;
    stat(path, &st);
    printf("a FIFO: %d, mode %o\n", S_ISFIFO(st.st_mode), st.st_mode & 0777);

    int fd = open(path, O_RDONLY | O_NONBLOCK);
    printf("non-blocking reader: %d\n", fd >= 0);
    close(fd);
    errno = 0;
    fd = open(path, O_WRONLY | O_NONBLOCK);
    printf("non-blocking writer without a reader: %d %s\n", fd, strerror(errno));

    pthread_t a, b, s;
    pthread_create(&a, NULL, reader, NULL);
    pthread_create(&b, NULL, writer, (void *)1); /* the reader waits first */
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("reader first: fds %d %d, read %s\n", reader_fd >= 0, writer_fd >= 0, got);

    got[0] = 0;
    pthread_create(&b, NULL, writer, NULL); /* the writer waits first */
    work();
    pthread_create(&a, NULL, reader, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("writer first: fds %d %d, read %s\n", reader_fd >= 0, writer_fd >= 0, got);

    pthread_create(&s, NULL, spinner, NULL);
    while (count == 0)
        sched_yield();
    pthread_create(&b, NULL, writer, (void *)2);
    fd = open(path, O_RDONLY);
    long at_open = count;
    usleep(20000);
    printf("main's open: %d, the spinner runs on %d\n", fd >= 0, count > at_open);
    ssize_t n = read(fd, got, sizeof got - 1);
    got[n > 0 ? n : 0] = 0;
    printf("main read %s\n", got);
    close(fd);
    pthread_join(b, NULL);
    stop = 1;
    pthread_join(s, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    entered = 0;
    pthread_create(&a, NULL, reader, NULL);
    while (!entered)
        sched_yield();
    usleep(200000); /* long enough for it to be in its open, even under load */
    pthread_kill(a, SIGUSR1);
    pthread_join(a, NULL);
    errno = 0;
    fd = open(path, O_WRONLY | O_NONBLOCK);
    printf("open ended by a signal: %d %s, handled %d; then a writer: %d %s\n", reader_fd,
           strerror(reader_errno), handled, fd, strerror(errno));

    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    handled = 0;
    entered = 0;
    got[0] = 0;
    pthread_create(&a, NULL, reader, NULL);
    while (!entered)
        sched_yield();
    usleep(200000); /* long enough for it to be in its open, even under load */
    pthread_kill(a, SIGUSR1);
    usleep(100000);
    pthread_create(&b, NULL, writer, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("open under SA_RESTART: handled %d, fds %d %d, read %s\n", handled, reader_fd >= 0,
           writer_fd >= 0, got);
    unlink(path);
    rmdir(dir);
    return 0;
}
