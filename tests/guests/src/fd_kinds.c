/* Descriptors without a path, and copies between descriptors (tests/linux/test_fd_kinds.py):
 * eventfd (counter and semaphore modes, EAGAIN when empty and non-blocking), memfd (written,
 * mapped shared, sized), timerfd (a one-shot timer's expiration read, an interval read
 * back), sendfile (with and without an offset, into a pipe) and copy_file_range. Run in a
 * fresh directory given as argv[1]. The output is Linux's (qemu-user passes these calls to
 * the host) and the same on every target.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) != 0)
        return 2;
    uint64_t v = 0;

    int e = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
    v = 4;
    write(e, &v, 8);
    ssize_t n = read(e, &v, 8);
    printf("eventfd read %zd %llu\n", n, (unsigned long long)v);
    n = read(e, &v, 8);
    printf("eventfd empty %zd %d\n", n, errno == EAGAIN);
    printf("eventfd cloexec %d\n", (fcntl(e, F_GETFD) & FD_CLOEXEC) != 0);
    int s = eventfd(2, EFD_SEMAPHORE);
    read(s, &v, 8);
    printf("semaphore %llu", (unsigned long long)v);
    read(s, &v, 8);
    printf(" %llu\n", (unsigned long long)v);
    int r = eventfd(0, 0x40000000);
    printf("eventfd bad flags %d %d\n", r, errno == EINVAL);

    int m = memfd_create("qpp-test", MFD_CLOEXEC);
    write(m, "memfd data", 10);
    struct stat st;
    fstat(m, &st);
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    printf("memfd size %ld mapped %.10s\n", (long)st.st_size, p);
    memcpy(p, "MEMFD", 5);
    char back[11] = {0};
    pread(m, back, 10, 0);
    printf("memfd through the mapping %s\n", back);

    int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = {{0, 0}, {0, 20 * 1000 * 1000}}, cur;
    printf("timerfd settime %d\n", timerfd_settime(t, 0, &its, NULL));
    n = read(t, &v, 8);
    printf("timerfd read %zd %llu\n", n, (unsigned long long)v);
    struct itimerspec every = {{5, 0}, {5, 0}};
    timerfd_settime(t, 0, &every, NULL);
    timerfd_gettime(t, &cur);
    printf("timerfd interval %ld %d\n", (long)cur.it_interval.tv_sec, cur.it_value.tv_sec >= 4);
    r = timerfd_create(12345, 0);
    printf("timerfd bad clock %d %d\n", r, errno == EINVAL);

    int f = open("src", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(f, "0123456789", 10);
    int g = open("dst", O_CREAT | O_RDWR | O_TRUNC, 0644);
    off_t off = 2;
    n = sendfile(g, f, &off, 5);
    printf("sendfile offset %zd %ld pos %ld\n", n, (long)off, (long)lseek(f, 0, SEEK_CUR));
    lseek(f, 7, SEEK_SET);
    n = sendfile(g, f, NULL, 100);
    printf("sendfile position %zd pos %ld\n", n, (long)lseek(f, 0, SEEK_CUR));
    char buf[32] = {0};
    pread(g, buf, sizeof buf - 1, 0);
    printf("dst %s\n", buf);
    int pp[2];
    pipe(pp);
    off = 0;
    n = sendfile(pp[1], f, &off, 4);
    printf("sendfile to a pipe %zd\n", n);
    memset(buf, 0, sizeof buf);
    read(pp[0], buf, 4);
    printf("pipe got %s\n", buf);
    n = sendfile(-1, f, NULL, 1);
    printf("sendfile badfd %zd %d\n", n, errno == EBADF);

    int h = open("copy", O_CREAT | O_RDWR | O_TRUNC, 0644);
    loff_t in = 3, out = 0;
    n = copy_file_range(f, &in, h, &out, 4, 0);
    printf("copy_file_range %zd %lld %lld\n", n, (long long)in, (long long)out);
    memset(buf, 0, sizeof buf);
    pread(h, buf, 4, 0);
    printf("copy %s\n", buf);
    n = copy_file_range(f, &in, h, &out, 1, 1);
    printf("copy_file_range flags %zd %d\n", n, errno == EINVAL);
    return 0;
}
