/* File locks that wait in their own thread: F_SETLKW between two processes while another
 * thread of the waiting process keeps running (it asks for the unlock), F_GETLK's answer (the holder's pid and
 * range), F_SETLK's EAGAIN/EACCES; open file description locks (F_OFD_*) and flock()
 * between two threads of one process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[64];
static volatile int entered, done, asked;
static int fd2, thread_ret;

static int ready_fd;
static volatile int waiting;

/* runs while main waits in F_SETLKW: only then does it ask the parent to unlock (had
 * F_SETLKW held every thread, nothing would ever ask and the run would hang) */
static void *asker(void *arg) {
    (void)arg;
    while (!waiting)
        sched_yield();
    usleep(50000);
    asked = 1;
    write(ready_fd, "r", 1);
    return NULL;
}

static int lock(int fd, int cmd, short type, off_t start, off_t len) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return fcntl(fd, cmd, &fl);
}

static int child(int ready) {
    int fd = open(path, O_RDWR);
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_start = 0;
    fl.l_len = 5;
    fcntl(fd, F_GETLK, &fl);
    printf("child: F_GETLK type %s, by the parent %d, start %ld len %ld\n",
           fl.l_type == F_WRLCK ? "F_WRLCK" : "other", fl.l_pid == getppid(), (long)fl.l_start,
           (long)fl.l_len);
    struct flock64 fl64; /* fcntl64's own commands on the 32-bit targets */
    memset(&fl64, 0, sizeof fl64);
    fl64.l_type = F_RDLCK;
    fl64.l_start = 2;
    fl64.l_len = 1;
    fcntl(fd, F_GETLK64, &fl64);
    printf("child: F_GETLK64 type %s, by the parent %d, start %lld len %lld\n",
           fl64.l_type == F_WRLCK ? "F_WRLCK" : "other", fl64.l_pid == getppid(),
           (long long)fl64.l_start, (long long)fl64.l_len);
    fl64.l_type = F_WRLCK;
    fl64.l_start = 40;
    fl64.l_len = 0; /* to the end of the file, however far */
    printf("child: F_SETLK64 to the end %d\n", fcntl(fd, F_SETLK64, &fl64));
    errno = 0;
    int r = lock(fd, F_SETLK, F_WRLCK, 0, 5);
    printf("child: F_SETLK %d, busy %d\n", r, errno == EAGAIN || errno == EACCES);
    printf("child: a free range %d\n", lock(fd, F_SETLK, F_WRLCK, 20, 5));
    pthread_t s;
    ready_fd = ready;
    pthread_create(&s, NULL, asker, NULL);
    waiting = 1;
    r = lock(fd, F_SETLKW, F_WRLCK, 0, 5);
    printf("child: F_SETLKW %d once the other thread had the parent unlock %d\n", r, asked);
    pthread_join(s, NULL);
    return 0;
}

static void *ofd_waiter(void *arg) {
    (void)arg;
    entered = 1;
    thread_ret = lock(fd2, F_OFD_SETLKW, F_WRLCK, 0, 0);
    done = 1;
    return NULL;
}

static void *flock_waiter(void *arg) {
    (void)arg;
    entered = 1;
    thread_ret = flock(fd2, LOCK_EX);
    done = 1;
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    strcpy(path, "/tmp/qpp-lock-XXXXXX");
    int fd = mkstemp(path);
    write(fd, "0123456789", 10);
    printf("F_SETLK: %d\n", lock(fd, F_SETLK, F_WRLCK, 0, 10));
    int pipefd[2];
    pipe(pipefd);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child(pipefd[1]));
    char c;
    read(pipefd[0], &c, 1); /* the child's other thread asks while it waits in F_SETLKW */
    lock(fd, F_SETLK, F_UNLCK, 0, 10);
    int status;
    waitpid(pid, &status, 0);
    printf("child: status %d\n", WEXITSTATUS(status));
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fcntl(fd, F_GETLK, &fl);
    printf("after the child: %s\n", fl.l_type == F_UNLCK ? "F_UNLCK" : "locked");

    /* open file description locks: two opens of one file conflict, even in one process */
    int fd1 = open(path, O_RDWR);
    fd2 = open(path, O_RDWR);
    printf("F_OFD_SETLK: %d\n", lock(fd1, F_OFD_SETLK, F_WRLCK, 0, 0));
    errno = 0;
    int r = lock(fd2, F_OFD_SETLK, F_RDLCK, 0, 0);
    printf("F_OFD_SETLK of another open: %d, busy %d\n", r, errno == EAGAIN || errno == EACCES);
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_RDLCK;
    fcntl(fd2, F_OFD_GETLK, &fl);
    printf("F_OFD_GETLK: %s, pid %d\n", fl.l_type == F_WRLCK ? "F_WRLCK" : "other", fl.l_pid);
    pthread_t t;
    pthread_create(&t, NULL, ofd_waiter, NULL);
    while (!entered)
        sched_yield();
    usleep(100000);
    int waited = !done;
    lock(fd1, F_OFD_SETLK, F_UNLCK, 0, 0);
    pthread_join(t, NULL);
    printf("F_OFD_SETLKW in a thread: %d, waited %d\n", thread_ret, waited);
    lock(fd2, F_OFD_SETLK, F_UNLCK, 0, 0);

    /* flock between two opens */
    printf("flock: %d\n", flock(fd1, LOCK_EX));
    errno = 0;
    r = flock(fd2, LOCK_EX | LOCK_NB);
    printf("flock LOCK_NB of another open: %d %s\n", r, strerror(errno));
    entered = done = 0;
    pthread_create(&t, NULL, flock_waiter, NULL);
    while (!entered)
        sched_yield();
    usleep(100000);
    waited = !done;
    flock(fd1, LOCK_UN);
    pthread_join(t, NULL);
    printf("flock in a thread: %d, waited %d\n", thread_ret, waited);
    unlink(path);
    return 0;
}
