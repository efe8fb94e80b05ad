/* The socket API over loopback and AF_UNIX (tests/linux/test_net_sock.py): TCP connect,
 * accept4 and both directions; socket options (SO_TYPE, SO_ERROR, SO_REUSEADDR, the
 * receive timeout in the guest's struct timeval); UDP sendto/recvfrom with the sender's
 * port; a refused connection; an AF_UNIX socket bound in argv[1]; sendmsg/recvmsg passing
 * a descriptor (SCM_RIGHTS) and data in two iovecs; EPIPE with MSG_NOSIGNAL and SIGPIPE
 * without. The output is Linux's and the same on every target.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

static const char *errname(int e)
{
    switch (e) {
    case EAGAIN: return "EAGAIN";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EPIPE: return "EPIPE";
    case EINVAL: return "EINVAL";
    case ENOTSOCK: return "ENOTSOCK";
    case EBADF: return "EBADF";
    default: return "other";
    }
}

static volatile sig_atomic_t pipes;
static void on_pipe(int sig) { (void)sig; pipes++; }

static int opt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    getsockopt(fd, level, name, &v, &len);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    printf("reuseaddr set %d\n", setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    printf("reuseaddr %d\n", opt(srv, SOL_SOCKET, SO_REUSEADDR) != 0);
    int bound = bind(srv, (struct sockaddr *)&a, sizeof a);
    printf("bind %d listen %d\n", bound, listen(srv, 4));
    getsockname(srv, (struct sockaddr *)&a, &len);
    int cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    printf("connect %d\n", connect(cli, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in peer;
    len = sizeof peer;
    int con = accept4(srv, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    printf("accept4 %d len %d family %d cloexec %d\n", con >= 0, (int)len, peer.sin_family,
           (fcntl(con, F_GETFD) & FD_CLOEXEC) != 0);
    printf("type stream %d error %d\n", opt(cli, SOL_SOCKET, SO_TYPE) == SOCK_STREAM,
           opt(cli, SOL_SOCKET, SO_ERROR));
    char buf[64] = {0};
    printf("send %zd\n", send(cli, "ping", 4, 0));
    printf("recv %zd %.4s\n", recv(con, buf, sizeof buf, 0), buf);
    printf("write %zd\n", write(con, "pong", 4));
    memset(buf, 0, sizeof buf);
    printf("read %zd %.4s\n", read(cli, buf, sizeof buf), buf);
    struct timeval tv = {0, 200000}, back = {0, 0};
    len = sizeof back;
    setsockopt(cli, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    getsockopt(cli, SOL_SOCKET, SO_RCVTIMEO, &back, &len);
    printf("rcvtimeo %ld %ld whole %d\n", (long)back.tv_sec, (long)back.tv_usec,
           len == sizeof back);
    ssize_t n = recv(cli, buf, sizeof buf, 0);
    printf("recv timeout %zd %s\n", n, errname(errno));
    close(con);
    close(cli);

    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in b1 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in b2 = b1, from;
    bind(u1, (struct sockaddr *)&b1, sizeof b1);
    bind(u2, (struct sockaddr *)&b2, sizeof b2);
    len = sizeof b1;
    getsockname(u1, (struct sockaddr *)&b1, &len);
    getsockname(u2, (struct sockaddr *)&b2, &len);
    printf("type dgram %d\n", opt(u1, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    printf("sendto %zd\n", sendto(u1, "datagram", 8, 0, (struct sockaddr *)&b2, sizeof b2));
    len = sizeof from;
    memset(buf, 0, sizeof buf);
    n = recvfrom(u2, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
    printf("recvfrom %zd %s from sender %d\n", n, buf, from.sin_port == b1.sin_port);

    struct sockaddr_in closed = a;
    close(srv);
    int refused = socket(AF_INET, SOCK_STREAM, 0);
    int r = connect(refused, (struct sockaddr *)&closed, sizeof closed);
    printf("connect closed %d %s\n", r, errname(errno));
    r = connect(0 + 1000, (struct sockaddr *)&closed, sizeof closed);
    printf("connect badfd %d %s\n", r, errname(errno));

    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s/sock", argv[1]);
    int us = socket(AF_UNIX, SOCK_STREAM, 0);
    bound = bind(us, (struct sockaddr *)&un, sizeof un);
    printf("unix bind %d listen %d\n", bound, listen(us, 1));
    int uc = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("unix connect %d\n", connect(uc, (struct sockaddr *)&un, sizeof un));
    int ua = accept(us, NULL, NULL);
    int p[2];
    pipe(p);
    char data1[] = "two ", data2[] = "iovecs";
    struct iovec out_iov[2] = {{data1, 4}, {data2, 6}};
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr m = {.msg_iov = out_iov, .msg_iovlen = 2, .msg_control = ctl.space,
                       .msg_controllen = sizeof ctl.space};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &p[1], sizeof(int));
    printf("sendmsg %zd\n", sendmsg(uc, &m, 0));
    char in1[5] = {0}, in2[16] = {0};
    struct iovec in_iov[2] = {{in1, 4}, {in2, 15}};
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int))];
    } got;
    memset(&got, 0, sizeof got);
    struct msghdr rm = {.msg_iov = in_iov, .msg_iovlen = 2, .msg_control = got.space,
                        .msg_controllen = sizeof got.space};
    n = recvmsg(ua, &rm, 0);
    struct cmsghdr *gc = CMSG_FIRSTHDR(&rm);
    int passed = -1;
    if (gc && gc->cmsg_level == SOL_SOCKET && gc->cmsg_type == SCM_RIGHTS)
        memcpy(&passed, CMSG_DATA(gc), sizeof(int));
    printf("recvmsg %zd '%s' '%s' rights %d controllen ok %d\n", n, in1, in2, passed >= 0,
           rm.msg_controllen == CMSG_LEN(sizeof(int)) || rm.msg_controllen == sizeof got.space);
    write(passed, "via passed fd", 13);
    memset(buf, 0, sizeof buf);
    read(p[0], buf, 13);
    printf("pipe %s\n", buf);

    signal(SIGPIPE, on_pipe);
    close(ua);
    send(uc, "x", 1, MSG_NOSIGNAL); /* the peer may not have seen the close yet */
    n = send(uc, "x", 1, MSG_NOSIGNAL);
    printf("send nosignal %zd %s pipes %d\n", n, errname(errno), (int)pipes);
    n = send(uc, "x", 1, 0);
    printf("send %zd %s pipes %d\n", n, errname(errno), (int)pipes);
    r = listen(p[0], 1);
    printf("not a socket %d %s\n", r, errname(errno));
    return 0;
}
