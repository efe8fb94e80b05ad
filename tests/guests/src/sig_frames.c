/* The kernel's signal frame: handlers read and edit the saved context (uc_mcontext and
 * uc_sigmask) and sigreturn resumes with what the frame holds; SA_NODEFER, SA_RESETHAND,
 * sigaltstack with SA_ONSTACK (a stack overflow caught on the alternate stack; sigreturn
 * taking the alternate stack from an edited uc_stack), and FP
 * registers that survive handlers interrupting a computation (left out with an argument,
 * "sync": every signal is then synchronous). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__x86_64__)
#define PC(uc) ((uc)->uc_mcontext.gregs[REG_RIP])
#define SP(uc) ((uc)->uc_mcontext.gregs[REG_RSP])
#define RET(uc) ((uc)->uc_mcontext.gregs[REG_RAX])
#define LOAD_LEN(uc) 2
#elif defined(__aarch64__)
#define PC(uc) ((uc)->uc_mcontext.pc)
#define SP(uc) ((uc)->uc_mcontext.sp)
#define RET(uc) ((uc)->uc_mcontext.regs[0])
#define LOAD_LEN(uc) 4
#elif defined(__arm__)
#define PC(uc) ((uc)->uc_mcontext.arm_pc)
#define SP(uc) ((uc)->uc_mcontext.arm_sp)
#define RET(uc) ((uc)->uc_mcontext.arm_r0)
#define LOAD_LEN(uc) (((uc)->uc_mcontext.arm_cpsr & 0x20) ? 2 : 4)
#elif defined(__riscv)
#define PC(uc) ((uc)->uc_mcontext.__gregs[0])
#define SP(uc) ((uc)->uc_mcontext.__gregs[2])
#define RET(uc) ((uc)->uc_mcontext.__gregs[10])
#define LOAD_LEN(uc) 4
#elif defined(__mips__)
#define PC(uc) ((uc)->uc_mcontext.pc)
#define SP(uc) ((uc)->uc_mcontext.gregs[29])
#define RET(uc) ((uc)->uc_mcontext.gregs[2])
#define LOAD_LEN(uc) 4
#endif

/* a load from the address in the result register into that register */
static long faulting_load(long addr) {
#if defined(__x86_64__)
    register long v asm("rax") = addr;
    asm volatile("movl (%%rax), %%eax" : "+r"(v)::"memory");
#elif defined(__aarch64__)
    register long v asm("x0") = addr;
    asm volatile("ldr x0, [x0]" : "+r"(v)::"memory");
#elif defined(__arm__)
    register long v asm("r0") = addr;
    asm volatile("ldr r0, [r0]" : "+r"(v)::"memory");
#elif defined(__riscv)
    register long v asm("a0") = addr;
    asm volatile(".option push\n.option norvc\nld a0, 0(a0)\n.option pop" : "+r"(v)::"memory");
#elif defined(__mips__)
    register long v asm("$2") = addr;
    asm volatile("lw $2, 0($2)" : "+r"(v)::"memory");
#endif
    return v;
}

static volatile int seen_code;
static volatile uintptr_t seen_addr;

static void skip_load(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    (void)sig;
    seen_code = si->si_code;
    seen_addr = (uintptr_t)si->si_addr;
    PC(uc) += LOAD_LEN(uc);
    RET(uc) = 1234;
}

static volatile uintptr_t main_sp, handler_sp;
static volatile int sp_ok;

static void edit_result(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    volatile int here = 0;
    (void)si;
    (void)here;
    sp_ok = SP(uc) > (uintptr_t)&here && SP(uc) < main_sp;
    RET(uc) = 77; /* what the interrupted kill returns */
#if defined(__mips__)
    uc->uc_mcontext.gregs[7] = 0; /* a3: no error */
#endif
    sigaddset(&uc->uc_sigmask, SIGUSR2); /* blocked after sigreturn */
    (void)sig;
}

static volatile int depth, max_depth, order[4], norder;

static void nested(int sig) {
    (void)sig;
    order[norder++] = ++depth;
    if (depth > max_depth) max_depth = depth;
    if (norder < 2) raise(SIGUSR1);
    depth--;
}

static volatile int ran;

static void once(int sig) {
    (void)sig;
    ran++;
}

static char *alt;
static volatile int alt_ok, alt_flags_ok, uc_stack_ok;

static void on_alt(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    volatile char here = 0;
    stack_t now;
    (void)sig;
    (void)si;
    alt_ok = &here > alt && &here < alt + SIGSTKSZ * 4;
    sigaltstack(NULL, &now);
    alt_flags_ok = now.ss_flags == SS_ONSTACK;
    uc_stack_ok = uc->uc_stack.ss_sp == alt && uc->uc_stack.ss_flags == 0;
}

static char *alt2;
static volatile int disable;

/* sigreturn sets the alternate stack from uc_stack, as sigaltstack would */
static void edit_uc_stack(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    (void)sig;
    (void)si;
    uc->uc_stack.ss_sp = alt2;
    uc->uc_stack.ss_size = SIGSTKSZ * 2;
    uc->uc_stack.ss_flags = disable ? SS_DISABLE : 0;
}

static sigjmp_buf env;
static volatile int overflow_alt;

static void overflow(int sig, siginfo_t *si, void *ctx) {
    volatile char here = 0;
    (void)sig;
    (void)si;
    (void)ctx;
    overflow_alt = &here > alt && &here < alt + SIGSTKSZ * 4;
    siglongjmp(env, 1);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int __attribute__((noinline)) recurse(volatile char *prev) {
    volatile char buf[1024];
    buf[0] = prev ? prev[0] + 1 : 0;
    return recurse(buf) + buf[1];
}

/* every FP/vector register zeroed, callee-saved ones included (no clobbers are declared,
 * so the compiler does not save them): what the interrupted code kept there must come
 * back from the signal frame */
static void __attribute__((noinline)) clobber_fp(void) {
#if defined(__x86_64__)
    asm volatile("pxor %xmm0, %xmm0\npxor %xmm1, %xmm1\npxor %xmm2, %xmm2\npxor %xmm3, %xmm3\npxor %xmm4, %xmm4\npxor %xmm5, %xmm5\npxor %xmm6, %xmm6\npxor %xmm7, %xmm7\npxor %xmm8, %xmm8\npxor %xmm9, %xmm9\npxor %xmm10, %xmm10\npxor %xmm11, %xmm11\npxor %xmm12, %xmm12\npxor %xmm13, %xmm13\npxor %xmm14, %xmm14\npxor %xmm15, %xmm15");
    asm volatile("fldz\nfldz\nfldz\nfldz\nfstp %st(0)\nfstp %st(0)\nfstp %st(0)\nfstp %st(0)");
#elif defined(__aarch64__)
    asm volatile("movi v0.2d, #0\nmovi v1.2d, #0\nmovi v2.2d, #0\nmovi v3.2d, #0\nmovi v4.2d, #0\nmovi v5.2d, #0\nmovi v6.2d, #0\nmovi v7.2d, #0\nmovi v8.2d, #0\nmovi v9.2d, #0\nmovi v10.2d, #0\nmovi v11.2d, #0\nmovi v12.2d, #0\nmovi v13.2d, #0\nmovi v14.2d, #0\nmovi v15.2d, #0\nmovi v16.2d, #0\nmovi v17.2d, #0\nmovi v18.2d, #0\nmovi v19.2d, #0\nmovi v20.2d, #0\nmovi v21.2d, #0\nmovi v22.2d, #0\nmovi v23.2d, #0\nmovi v24.2d, #0\nmovi v25.2d, #0\nmovi v26.2d, #0\nmovi v27.2d, #0\nmovi v28.2d, #0\nmovi v29.2d, #0\nmovi v30.2d, #0\nmovi v31.2d, #0");
#elif defined(__arm__) /* vfpv3-d16: d0-d15 */
    asm volatile("vmov d0, %0, %0\nvmov d1, %0, %0\nvmov d2, %0, %0\nvmov d3, %0, %0\nvmov d4, %0, %0\nvmov d5, %0, %0\nvmov d6, %0, %0\nvmov d7, %0, %0\nvmov d8, %0, %0\nvmov d9, %0, %0\nvmov d10, %0, %0\nvmov d11, %0, %0\nvmov d12, %0, %0\nvmov d13, %0, %0\nvmov d14, %0, %0\nvmov d15, %0, %0" :: "r"(0));
#elif defined(__riscv)
    asm volatile("fmv.d.x f0, zero\nfmv.d.x f1, zero\nfmv.d.x f2, zero\nfmv.d.x f3, zero\nfmv.d.x f4, zero\nfmv.d.x f5, zero\nfmv.d.x f6, zero\nfmv.d.x f7, zero\nfmv.d.x f8, zero\nfmv.d.x f9, zero\nfmv.d.x f10, zero\nfmv.d.x f11, zero\nfmv.d.x f12, zero\nfmv.d.x f13, zero\nfmv.d.x f14, zero\nfmv.d.x f15, zero\nfmv.d.x f16, zero\nfmv.d.x f17, zero\nfmv.d.x f18, zero\nfmv.d.x f19, zero\nfmv.d.x f20, zero\nfmv.d.x f21, zero\nfmv.d.x f22, zero\nfmv.d.x f23, zero\nfmv.d.x f24, zero\nfmv.d.x f25, zero\nfmv.d.x f26, zero\nfmv.d.x f27, zero\nfmv.d.x f28, zero\nfmv.d.x f29, zero\nfmv.d.x f30, zero\nfmv.d.x f31, zero");
#elif defined(__mips__) /* FPXX: the even registers (each a double) */
    asm volatile("mtc1 $zero, $f0\nmtc1 $zero, $f2\nmtc1 $zero, $f4\nmtc1 $zero, $f6\nmtc1 $zero, $f8\nmtc1 $zero, $f10\nmtc1 $zero, $f12\nmtc1 $zero, $f14\nmtc1 $zero, $f16\nmtc1 $zero, $f18\nmtc1 $zero, $f20\nmtc1 $zero, $f22\nmtc1 $zero, $f24\nmtc1 $zero, $f26\nmtc1 $zero, $f28\nmtc1 $zero, $f30");
#endif
}

static volatile int ticks;

static void tick(int sig) {
    /* clobber the FP registers */
    volatile double a = 3.0;
    double s = 0;
    volatile long double l = 3.0L;
    long double t = 0;
    for (int i = 1; i < 50; i++) s += a / i + (double)i * 0.25;
    for (int i = 1; i < 50; i++) t += l / i + (long double)i * 0.5L;
    a = s;
    l = t;
    clobber_fp();
    (void)sig;
    ticks++;
}

/* FP work kept in registers for long stretches (a timer's handler interrupts it) */
static void __attribute__((noinline)) compute(double *out, long double *lout) {
    double acc = 1.0, x = 0.5;
    long double lacc = 1.0L, lx = 0.25L;
    for (int i = 0; i < 200000; i++) {
        acc = acc * 1.0000001 + x;
        x = x * 0.999 + 0.001;
        lacc = lacc * 1.0000001L + lx;
        lx = lx * 0.999L + 0.002L;
    }
    *out = acc;
    *lout = lacc;
}

int main(int argc, char **argv) {
    (void)argv;
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);

    sa.sa_sigaction = skip_load;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    long v = faulting_load(16);
    printf("pc and register edited: value=%ld code=%d addr=%lu\n", v, seen_code,
           (unsigned long)seen_addr);

    volatile int anchor = 0;
    main_sp = (uintptr_t)&anchor + 4096;
    sa.sa_sigaction = edit_result;
    sigaction(SIGUSR1, &sa, NULL);
    long r = syscall(SYS_kill, getpid(), SIGUSR1);
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("syscall result edited: kill=%ld sp_ok=%d usr2_blocked=%d usr1_blocked=%d\n", r,
           sp_ok, sigismember(&cur, SIGUSR2), sigismember(&cur, SIGUSR1));
    sigemptyset(&cur);
    sigprocmask(SIG_SETMASK, &cur, NULL);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nested;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("deferred: order=%d,%d max_depth=%d\n", order[0], order[1], max_depth);
    norder = max_depth = 0;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("SA_NODEFER: order=%d,%d max_depth=%d\n", order[0], order[1], max_depth);
    sa.sa_handler = once;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("SA_RESETHAND: ran=%d reset=%d\n", ran, now.sa_handler == SIG_DFL);

    alt = malloc(SIGSTKSZ * 4);
    stack_t ss = {.ss_sp = alt, .ss_size = SIGSTKSZ * 4, .ss_flags = 0};
    printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alt;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    stack_t out;
    sigaltstack(NULL, &out);
    printf("on the alternate stack: %d flags=%d uc_stack=%d after=%d\n", alt_ok, alt_flags_ok,
           uc_stack_ok, out.ss_flags);
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("without SA_ONSTACK: %d\n", alt_ok);

    alt2 = malloc(SIGSTKSZ * 2);
    sa.sa_sigaction = edit_uc_stack;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    sigaltstack(NULL, &out);
    printf("uc_stack edited: sp=%d size=%d flags=%d\n", out.ss_sp == alt2,
           out.ss_size == SIGSTKSZ * 2, out.ss_flags);
    disable = 1;
    raise(SIGUSR1);
    sigaltstack(NULL, &out);
    printf("uc_stack disabled: flags=%d\n", out.ss_flags);
    sigaltstack(&ss, NULL);

    sa.sa_sigaction = overflow;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(env, 1) == 0) recurse(NULL);
    printf("stack overflow caught on the alternate stack: %d\n", overflow_alt);

    if (argc > 1) return 0; /* "sync": no timer, the same instructions on every run */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tick;
    sigaction(SIGALRM, &sa, NULL);
    double expect = 0;
    long double lexpect = 0;
    compute(&expect, &lexpect); /* no signal yet: the reference */
    struct itimerval it = {{0, 2000}, {0, 2000}};
    setitimer(ITIMER_REAL, &it, NULL);
    int bad = 0, lbad = 0, rounds = 0;
    while (rounds < 3 || ticks < 5) {
        double acc;
        long double lacc;
        compute(&acc, &lacc);
        bad |= acc != expect;
        lbad |= lacc != lexpect;
        rounds++;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("FP state kept across handlers: %d long double: %d (ticks>=5: %d)\n", !bad, !lbad,
           ticks >= 5);
    return 0;
}
