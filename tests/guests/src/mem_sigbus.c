/* Reading a file mapping past the file's last page: SIGBUS (the tail of the last page
 * reads as zeros). The guest dies with status 135. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    char path[] = "/tmp/qpp-mem-sigbusXXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    char buf[5000];
    memset(buf, 'x', sizeof buf);
    write(fd, buf, sizeof buf);
    volatile char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { puts("mmap failed"); return 1; }
    printf("first %c last %c tail %d\n", p[0], p[4999], p[5000] + p[8191]);
    p[6000] = 'y'; /* the tail of the last page is writable too */
    printf("tail write %c\n", p[6000]);
    fflush(stdout);
    printf("past the end %d\n", p[8192]);
    return 0;
}
