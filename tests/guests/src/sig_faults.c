/* Fault handlers: a SIGSEGV handler that mprotects the page and returns (the store is
 * retried), siglongjmp out of a handler, and the siginfo they see (si_code, si_addr).
 * With an argument ("live") it exits normally instead of dying of a last SIGSEGV. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *page;
static long pagesize;
static volatile int faults, code_ok, addr_ok;
static sigjmp_buf env;

static void fix(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    faults++;
    code_ok = si->si_code == SEGV_ACCERR;
    addr_ok = (char *)si->si_addr == page + 8;
    mprotect(page, pagesize, PROT_READ | PROT_WRITE);
}

static void jump(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    code_ok = si->si_code == SEGV_MAPERR && si->si_signo == sig;
    addr_ok = (uintptr_t)si->si_addr == 24;
    siglongjmp(env, 7);
}

static volatile int *volatile bad = (int *)24;

int main(int argc, char **argv) {
    (void)argv;
    setvbuf(stdout, NULL, _IONBF, 0);
    pagesize = sysconf(_SC_PAGESIZE);
    page = mmap(NULL, pagesize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fix;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    ((volatile char *)page)[8] = 42;
    printf("mprotect handler: faults=%d value=%d code=%d addr=%d\n", faults, page[8], code_ok,
           addr_ok);

    sa.sa_sigaction = jump;
    sigaction(SIGSEGV, &sa, NULL);
    int r = sigsetjmp(env, 1);
    if (r == 0) {
        *bad = 1;
        printf("not reached\n");
    }
    printf("siglongjmp: r=%d code=%d addr=%d\n", r, code_ok, addr_ok);
    r = sigsetjmp(env, 1);
    if (r == 0) (void)*bad;
    printf("again, mask restored: r=%d\n", r);
    if (argc > 1) return 0; /* "live": exit normally (qemu prints plugin counts then) */
    signal(SIGSEGV, SIG_DFL);
    *bad = 2;
    return 0;
}
