/* A thread blocks in read() on a pipe while another thread writes it; then the same with
 * the roles of main and a thread swapped, and a thread that ends with pthread_exit. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fds[2];

static void *reader(void *arg) {
    (void)arg;
    char buf[64] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    printf("reader got %zd bytes: %s\n", n, buf);
    fflush(stdout);
    return (void *)n;
}

static void *writer(void *arg) {
    (void)arg;
    usleep(10000);
    write(fds[1], "from a thread", 13);
    pthread_exit((void *)42L);
}

int main(void) {
    pipe(fds);
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    usleep(10000); /* the reader is blocked by now */
    printf("main writes\n");
    fflush(stdout);
    write(fds[1], "hello, reader", 13);
    void *ret;
    pthread_join(t, &ret);
    printf("reader returned %ld\n", (long)ret);

    pthread_create(&t, NULL, writer, NULL);
    char buf[64] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    printf("main got %zd bytes: %s\n", n, buf);
    pthread_join(t, &ret);
    printf("writer exited with %ld\n", (long)ret);
    return 0;
}
