/* What a guest sees of its working directory and its inherited stdio (for --jail tests). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind(mode_t m)
{
    return S_ISFIFO(m) ? "fifo" : S_ISCHR(m) ? "chr" : S_ISREG(m) ? "reg" : S_ISSOCK(m) ? "sock" : "other";
}

int main(void)
{
    char buf[4096];
    struct stat st, dot;
    if (getcwd(buf, sizeof buf))
        printf("cwd %s\n", buf);
    else
        printf("cwd error %d\n", errno);
    for (int fd = 0; fd < 3; fd++) {
        if (fstat(fd, &st) == 0)
            printf("fstat %d %s\n", fd, kind(st.st_mode));
        else
            printf("fstat %d error %d\n", fd, errno);
    }
    if (fstatat(AT_FDCWD, "", &st, AT_EMPTY_PATH) == 0 && stat(".", &dot) == 0)
        printf("empty-path %s\n", st.st_ino == dot.st_ino ? "is-cwd" : "differs");
    else
        printf("empty-path error %d\n", errno);
    int fd = open("files-jail-created", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    printf("create %s\n", fd >= 0 ? "ok" : "error");
    return 0;
}
