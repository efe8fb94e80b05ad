/* Links, file times, sizes and advice (tests/linux/test_fs_meta.py): each call's result,
 * as "name = value" or "name = -ERRNO", in a directory given as argv[1]. The expected
 * output is Linux's (qemu-user passes these calls to the host).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static const char *errname(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ESPIPE: return "ESPIPE";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EFAULT: return "EFAULT";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    case ENOSYS: return "ENOSYS";
    default: return "other";
    }
}

#define SHOW(name, expr)                                                                   \
    do {                                                                                   \
        long r_ = (long)(expr);                                                            \
        if (r_ < 0)                                                                        \
            printf("%s = -%s\n", name, errname(errno));                           \
        else                                                                               \
            printf("%s = %ld\n", name, r_);                                                \
    } while (0)

static long long mtime_of(const char *path, int follow)
{
    struct stat st;
    if ((follow ? stat(path, &st) : lstat(path, &st)) != 0)
        return -1;
    return (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

static long long atime_of(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (long long)st.st_atim.tv_sec * 1000000000LL + st.st_atim.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) != 0)
        return 2;
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    SHOW("write", write(fd, "hello", 5));

    struct timespec ts[2] = {{1000000000, 5}, {1100000000, 7}};
    SHOW("utimensat", utimensat(AT_FDCWD, "f", ts, 0));
    printf("atime mtime = %lld %lld\n", atime_of("f"), mtime_of("f", 1));
    struct timespec omit_a[2] = {{0, UTIME_OMIT}, {1200000000, 0}};
    SHOW("utimensat omit", utimensat(AT_FDCWD, "f", omit_a, 0));
    printf("atime mtime = %lld %lld\n", atime_of("f"), mtime_of("f", 1));
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    SHOW("utimensat bad nsec", utimensat(AT_FDCWD, "f", bad, 0));
    SHOW("utimensat bad flags", utimensat(AT_FDCWD, "f", ts, 0x4));
    SHOW("utimensat missing", utimensat(AT_FDCWD, "nothing", ts, 0));
    struct timespec both_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    SHOW("utimensat omit both missing", utimensat(AT_FDCWD, "nothing", both_omit, 0));
    struct timespec by_fd[2] = {{1300000000, 0}, {1300000001, 0}};
    SHOW("futimens", futimens(fd, by_fd));
    printf("mtime = %lld\n", mtime_of("f", 1));
    SHOW("futimens badfd", futimens(-1, by_fd));
    struct timeval tv[2] = {{1400000000, 3}, {1400000000, 4}};
    SHOW("utimes", utimes("f", tv));
    printf("mtime = %lld\n", mtime_of("f", 1));
    struct timeval badtv[2] = {{0, 1000000}, {0, 0}};
    SHOW("utimes bad usec", utimes("f", badtv));

    SHOW("symlink", symlink("f", "s"));
    SHOW("symlink exists", symlink("f", "s"));
    SHOW("symlink empty", symlink("", "s2"));
    SHOW("symlink dangling", symlink("nowhere", "d"));
    struct timespec lts[2] = {{1500000000, 0}, {1500000000, 0}};
    SHOW("utimensat nofollow", utimensat(AT_FDCWD, "s", lts, AT_SYMLINK_NOFOLLOW));
    printf("link mtime, file mtime = %lld %lld\n", mtime_of("s", 0), mtime_of("f", 1));
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    SHOW("symlinkat", symlinkat("f", dir, "s3"));
    char buf[64] = {0};
    SHOW("readlink", readlink("s3", buf, sizeof buf));
    printf("target = %s\n", buf);

    SHOW("link", link("f", "h"));
    SHOW("link exists", link("f", "h"));
    SHOW("linkat nofollow", linkat(dir, "s", dir, "hs", 0));
    SHOW("linkat follow", linkat(dir, "s", dir, "hf", AT_SYMLINK_FOLLOW));
    struct stat a, b, c;
    lstat("hs", &a), lstat("hf", &b), stat("f", &c);
    printf("hs is a link, hf is f = %d %d\n", S_ISLNK(a.st_mode), b.st_ino == c.st_ino);
    printf("f links = %ld\n", (long)c.st_nlink);
    SHOW("linkat bad flags", linkat(dir, "f", dir, "h2", 0x1));
    SHOW("link missing", link("nothing", "h3"));

    SHOW("truncate", truncate("f", 3));
    SHOW("truncate negative", truncate("f", -1));
    SHOW("truncate missing", truncate("nothing", 0));
    struct stat st;
    stat("f", &st);
    printf("size = %ld\n", (long)st.st_size);
    SHOW("fallocate", fallocate(fd, 0, 0, 8192));
    stat("f", &st);
    printf("size = %ld\n", (long)st.st_size);
    SHOW("fallocate zero length", fallocate(fd, 0, 0, 0));
    SHOW("posix_fadvise", -posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
    int p[2];
    pipe(p);
    int r = posix_fadvise(p[0], 0, 0, POSIX_FADV_SEQUENTIAL);
    printf("posix_fadvise pipe = %s\n", r ? errname(r) : "0");
    r = posix_fadvise(-1, 0, 0, POSIX_FADV_SEQUENTIAL);
    printf("posix_fadvise badfd = %s\n", r ? errname(r) : "0");
    SHOW("fsync", fsync(fd));
    sync();
    SHOW("syncfs", syncfs(fd));
    return 0;
}
