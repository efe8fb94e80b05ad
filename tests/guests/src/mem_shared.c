/* MAP_SHARED of a file: stores reach the file (seen by pread at once, kept after munmap),
 * file writes show in the mapping, two mappings of one file see each other, and the
 * mapping's line in /proc/self/maps says "s"; so does shared anonymous memory's. With a path argument: map it shared,
 * store into it and exit without msync or munmap (the caller checks the file). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long page = 4096;
    if (argc > 1) {
        int fd = open(argv[1], O_RDWR);
        char *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) { puts("mmap failed"); return 1; }
        memcpy(m + 10, "stored before exit", 18);
        puts("stored");
        return 0;
    }
    char path[] = "/tmp/qpp-mem-sharedXXXXXX";
    int fd = mkstemp(path);
    char buf[6000];
    memset(buf, '.', sizeof buf);
    write(fd, buf, sizeof buf);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *m2 = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED || m2 == MAP_FAILED) { puts("mmap failed"); return 1; }
    memcpy(m + 100, "hello", 5);
    char got[6] = {0};
    pread(fd, got, 5, 100);
    printf("file sees store: %s\n", got);
    printf("other mapping sees it: %.5s\n", m2 + 100);
    pwrite(fd, "WORLD", 5, 200);
    printf("mapping sees file write: %.5s\n", m + 200);
    printf("msync: %d\n", msync(m, page, MS_SYNC));
    m[5000] = 'x';
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    int shared = 0;
    while (fgets(line, sizeof line, maps))
        if (strstr(line, path) && strstr(line, "rw-s 00000000")) shared++;
    fclose(maps);
    printf("maps lines rw-s: %d\n", shared);
    munmap(m, 2 * page);
    munmap(m2, 2 * page);
    memset(got, 0, sizeof got);
    pread(fd, got, 1, 5000);
    printf("after munmap: %s\n", got);
    char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    p[100] = 'P';
    pread(fd, got, 5, 100);
    printf("private store stays private: %s\n", got);
    unlink(path);

    /* shared anonymous memory: Linux shows it as a deleted /dev/zero */
    char *z = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    z[0] = 1;
    maps = fopen("/proc/self/maps", "r");
    shared = 0;
    while (fgets(line, sizeof line, maps))
        if (strstr(line, "rw-s 00000000 00:01 ") && strstr(line, "/dev/zero (deleted)")) shared++;
    fclose(maps);
    printf("shared anonymous maps lines: %d\n", shared);
    return 0;
}
