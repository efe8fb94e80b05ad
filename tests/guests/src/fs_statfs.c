/* File-system statistics of argv[1] (tests/linux/test_fs_statfs.py): statfs, fstatfs,
 * statvfs, and on 32-bit targets the raw 32-bit statfs call (glibc and musl use statfs64
 * there). One line each: type, block size, fragment size, blocks, name length.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *how, const struct statfs *s)
{
    printf("%s %lx %ld %ld %llu %ld\n", how, (unsigned long)s->f_type, (long)s->f_bsize,
           (long)s->f_frsize, (unsigned long long)s->f_blocks, (long)s->f_namelen);
}

int main(int argc, char **argv)
{
    struct statfs s;
    if (argc < 2 || statfs(argv[1], &s) != 0)
        return 2;
    show("statfs", &s);
    int fd = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (fstatfs(fd, &s) != 0)
        return 3;
    show("fstatfs", &s);
    struct statvfs v;
    if (statvfs(argv[1], &v) != 0)
        return 4;
    printf("statvfs %ld %ld %llu %ld\n", (long)v.f_bsize, (long)v.f_frsize,
           (unsigned long long)v.f_blocks, (long)v.f_namemax);
    printf("statfs missing %d\n", statfs("/nonexistent/qpp", &s) == -1 && errno == ENOENT);
    printf("fstatfs badfd %d\n", fstatfs(-1, &s) == -1 && errno == EBADF);
#if defined(SYS_statfs) && (defined(__arm__) || defined(__mips__))
    struct {
#ifdef __mips__
        unsigned long type, bsize, frsize, blocks, bfree, files, ffree, bavail;
        int fsid[2];
        unsigned long namelen, flags, spare[5];
#else
        unsigned long type, bsize, blocks, bfree, bavail, files, ffree;
        int fsid[2];
        unsigned long namelen, frsize, flags, spare[4];
#endif
    } raw;
    if (syscall(SYS_statfs, argv[1], &raw) == 0)
        printf("raw32 %lx %ld %ld %lu %ld\n", raw.type, (long)raw.bsize, (long)raw.frsize,
               raw.blocks, (long)raw.namelen);
    else
        printf("raw32 errno %s\n", errno == EOVERFLOW ? "EOVERFLOW" : "other");
#endif
    return 0;
}
