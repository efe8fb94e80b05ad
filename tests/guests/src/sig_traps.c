/* Synchronous signals from the CPU reach handlers with the kernel's siginfo: SIGFPE from an
 * integer divide by zero (x86_64; mips' compiler-inserted trap), SIGILL from an undefined
 * instruction (the handler skips it and returns), SIGTRAP from a breakpoint instruction,
 * SIGBUS past the end of a file mapping; si_addr is compared with the saved pc. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__x86_64__)
#define PC(uc) ((uc)->uc_mcontext.gregs[REG_RIP])
#define UNDEFINED() asm volatile("ud2")
#define ILL_LEN(uc) 2
#define BREAKPOINT() asm volatile(".globl bp_insn\nbp_insn: int3")
#elif defined(__aarch64__)
#define PC(uc) ((uc)->uc_mcontext.pc)
#define UNDEFINED() asm volatile(".inst 0x00000000")
#define ILL_LEN(uc) 4
#define BREAKPOINT() asm volatile(".globl bp_insn\nbp_insn: brk #0")
#elif defined(__arm__)
#define PC(uc) ((uc)->uc_mcontext.arm_pc)
#define UNDEFINED() asm volatile("udf #0")
#define ILL_LEN(uc) (((uc)->uc_mcontext.arm_cpsr & 0x20) ? 2 : 4)
#define BREAKPOINT() asm volatile(".globl bp_insn\nbp_insn: bkpt #0")
#elif defined(__riscv)
#define PC(uc) ((uc)->uc_mcontext.__gregs[0])
#define UNDEFINED() asm volatile(".option push\n.option norvc\n.word 0\n.option pop")
#define ILL_LEN(uc) 4
#define BREAKPOINT() asm volatile(".option push\n.option norvc\n.globl bp_insn\nbp_insn: ebreak\n.option pop")
#elif defined(__mips__)
#define PC(uc) ((uc)->uc_mcontext.pc)
#define UNDEFINED() asm volatile(".word 0x0000003f") /* dsra32: mips64 only */
#define ILL_LEN(uc) 4
#define BREAKPOINT() asm volatile(".globl bp_insn\nbp_insn: break")
#endif

extern char bp_insn[];
static sigjmp_buf env;
static volatile int got_sig, got_code, addr_is_pc, skip;
static volatile long pc_from_bp;

static void handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    got_sig = sig;
    got_code = si->si_code;
    addr_is_pc = (uintptr_t)si->si_addr == (uintptr_t)PC(uc);
    pc_from_bp = (long)((uintptr_t)PC(uc) - (uintptr_t)bp_insn);
    if (skip) {
        PC(uc) += ILL_LEN(uc);
        return;
    }
    siglongjmp(env, 1);
}

static void report(const char *what, int jumped) {
    printf("%s: jumped=%d sig=%d code=%d addr_is_pc=%d\n", what, jumped, got_sig, got_code,
           addr_is_pc);
    got_sig = got_code = addr_is_pc = 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    int sigs[] = {SIGFPE, SIGILL, SIGTRAP, SIGBUS, SIGSEGV};
    for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);

    volatile int zero = 0, n = 7, q = 0;
    int r = sigsetjmp(env, 1);
    if (r == 0) q = n / zero;
    report("divide by zero", r);
    (void)q;

    r = sigsetjmp(env, 1);
    if (r == 0) UNDEFINED();
    report("undefined instruction", r);

    skip = 1;
    UNDEFINED();
    report("undefined instruction skipped", 0);
    skip = 0;

    r = sigsetjmp(env, 1);
    if (r == 0) BREAKPOINT();
    report("breakpoint", r);
    printf("saved pc, from the breakpoint instruction: %ld\n", pc_from_bp);

    int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600); /* no random name: exact counts */
    long page = sysconf(_SC_PAGESIZE);
    if (ftruncate(fd, 1) != 0) return 1;
    volatile char *map = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
    r = sigsetjmp(env, 1);
    if (r == 0) (void)map[page];
    printf("past the end of a file: jumped=%d sig=%d code=%d\n", r, got_sig, got_code);
    return 0;
}
