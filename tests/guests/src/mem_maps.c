/* /proc/self/maps after typical mappings: a private file mapping (its tail past EOF too),
 * anonymous memory with one page made read-only, an inaccessible reservation, a grown
 * break. Printed whole; the binary's own lines without device, inode and path (they
 * depend on where the checkout is). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long page = 4096;
    (void)argc;
    int fd = open(argv[0], O_RDONLY);
    char *f = mmap(NULL, 3 * page, PROT_READ, MAP_PRIVATE, fd, page);
    char *a = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(a + page, page, PROT_READ);
    char *r = mmap(NULL, 16 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long b = syscall(SYS_brk, 0);
    syscall(SYS_brk, b + 3 * page);
    (void)f, (void)r;
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        char range[64], perms[8], offset[16];
        if (strstr(line, argv[0]) && sscanf(line, "%63s %7s %15s", range, perms, offset) == 3)
            printf("%s %s %s SELF\n", range, perms, offset); /* no device, inode or path */
        else
            fputs(line, stdout);
    }
    return 0;
}
