/* prctl's common options, as C libraries and programs use them at start (busybox asks
 * PR_GET_NAME): the thread name, the parent-death signal, dumpable, no_new_privs, timer
 * slack, keepcaps, seccomp mode, the child subreaper, THP, the tid address; and errors. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

static void show(const char *what, long r) {
    printf("%s = %ld%s%s\n", what, r, r < 0 ? " errno " : "", r < 0 ? strerror(errno) : "");
}

int main(void) {
    char name[32];
    memset(name, 'x', sizeof name);
    long r = prctl(PR_GET_NAME, name);
    show("get_name", r);
    printf("name terminated %d nonempty %d\n", memchr(name, 0, 16) != NULL, name[0] != 0);
    show("set_name", prctl(PR_SET_NAME, "a-rather-long-thread-name"));
    memset(name, 'x', sizeof name);
    prctl(PR_GET_NAME, name);
    printf("name now '%s' byte16 %c\n", name, name[16]);
    show("set_name short", prctl(PR_SET_NAME, "w1"));
    prctl(PR_GET_NAME, name);
    printf("name now '%s'\n", name);
    show("get_name efault", prctl(PR_GET_NAME, (char *)8));
    show("set_name efault", prctl(PR_SET_NAME, (char *)8));

    int sig = -1;
    show("get_pdeathsig", prctl(PR_GET_PDEATHSIG, &sig));
    printf("pdeathsig %d\n", sig);
    show("set_pdeathsig 9", prctl(PR_SET_PDEATHSIG, 9));
    prctl(PR_GET_PDEATHSIG, &sig);
    printf("pdeathsig %d\n", sig);
    show("set_pdeathsig 99", prctl(PR_SET_PDEATHSIG, 99));
    show("get_pdeathsig efault", prctl(PR_GET_PDEATHSIG, (int *)8));

    show("get_dumpable", prctl(PR_GET_DUMPABLE));
    show("set_dumpable 0", prctl(PR_SET_DUMPABLE, 0));
    show("get_dumpable", prctl(PR_GET_DUMPABLE));
    show("set_dumpable 5", prctl(PR_SET_DUMPABLE, 5));
    show("set_dumpable 1", prctl(PR_SET_DUMPABLE, 1));

    show("get_no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    show("set_no_new_privs 2", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
    show("set_no_new_privs 1", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    show("get_no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));

    show("get_timerslack", prctl(PR_GET_TIMERSLACK) > 0);
    show("get_keepcaps", prctl(PR_GET_KEEPCAPS));
    show("set_keepcaps 1", prctl(PR_SET_KEEPCAPS, 1));
    show("get_keepcaps", prctl(PR_GET_KEEPCAPS));
    show("set_keepcaps 2", prctl(PR_SET_KEEPCAPS, 2));
    show("get_seccomp", prctl(PR_GET_SECCOMP));

    int reaper = -1;
    show("get_child_subreaper", prctl(PR_GET_CHILD_SUBREAPER, &reaper));
    printf("subreaper %d\n", reaper);
    show("set_child_subreaper", prctl(PR_SET_CHILD_SUBREAPER, 1));
    prctl(PR_GET_CHILD_SUBREAPER, &reaper);
    printf("subreaper %d\n", reaper);

    show("get_thp_disable", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
    show("unknown option", prctl(0x7fff0000, 0, 0, 0, 0));
    return 0;
}
