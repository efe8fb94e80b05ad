/* madvise(MADV_DONTNEED) drops private changes: anonymous pages read as zeros again, a
 * private file mapping shows the file's bytes again; other pages keep their contents.
 * (On an unmapped range Linux says ENOMEM, qemu-user 7.2 0: not compared here.) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    long page = 4096;
    char *a = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(a, 'a', 3 * page);
    printf("madvise anon: %d\n", madvise(a + page, page, MADV_DONTNEED));
    printf("anon: %c %d %c\n", a[0], a[page] + a[2 * page - 1], a[2 * page]);

    char path[] = "/tmp/qpp-mem-madviseXXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    char buf[8192];
    memset(buf, 'f', sizeof buf);
    write(fd, buf, sizeof buf);
    char *f = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    memset(f, 'w', 2 * page);
    printf("madvise file: %d\n", madvise(f, page, MADV_DONTNEED));
    printf("file: %c %c\n", f[0], f[page]);

    printf("madvise willneed: %d\n", madvise(a, page, MADV_WILLNEED));
    return 0;
}
