/*
 * cpu_features.c - "advertised implies executes": for each CPU feature the
 * guest is told about (x86_64: CPUID through __builtin_cpu_supports and the
 * raw bits; others: AT_HWCAP/AT_HWCAP2), execute one instruction of it.
 *
 * Prints one line per known feature, "NAME yes" (advertised and it ran) or
 * "NAME no" (not advertised: not executed), after a first line with the raw
 * words.  An advertised feature whose instruction traps prints
 * "NAME ADVERTISED-BUT-TRAPS" and the program exits 1.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

static sigjmp_buf trap;
static unsigned long long word[4] __attribute__((aligned(64)));
static int failures;

static void on_trap(int sig)
{
    siglongjmp(trap, sig);
}

static void check(const char *name, int advertised, void (*probe)(void))
{
    if (!advertised) {
        printf("%s no\n", name);
        return;
    }
    int sig = sigsetjmp(trap, 1);
    if (sig == 0) {
        probe();
        printf("%s yes\n", name);
    } else {
        printf("%s ADVERTISED-BUT-TRAPS (signal %d)\n", name, sig);
        failures++;
    }
}

#if defined(__x86_64__)
#include <cpuid.h>

static unsigned c1, d1, b7, c7, ce1, de1;

#define X86(name, text, ...)                                                   \
    static void p_##name(void)                                                 \
    {                                                                          \
        __asm__ volatile("lea %0, %%rsi\n\t" text                              \
                         : "+m"(word)                                          \
                         :                                                     \
                         : "rax", "rcx", "rdx", "rbx", "rsi", "rdi", "xmm0",   \
                           "xmm1", "cc", "memory" __VA_ARGS__);                \
    }
X86(sse3, "addsubpd %%xmm0, %%xmm0")
X86(ssse3, "pshufb %%xmm0, %%xmm0")
X86(sse41, "ptest %%xmm0, %%xmm0\n\tpblendw $1, %%xmm0, %%xmm0")
X86(sse42, "crc32b %%al, %%eax\n\tpcmpistri $0, %%xmm0, %%xmm0")
X86(popcnt, "popcnt %%rax, %%rax")
X86(aes, "aesenc %%xmm0, %%xmm0")
X86(pclmul, "pclmulqdq $0, %%xmm0, %%xmm0")
X86(movbe, "movbe (%%rsi), %%eax")
X86(rdrnd, "rdrand %%rax")
X86(cx16, "xor %%eax, %%eax\n\txor %%edx, %%edx\n\tcmpxchg16b (%%rsi)")
X86(avx, "vaddps %%ymm0, %%ymm0, %%ymm0")
X86(avx2, "vpaddd %%ymm0, %%ymm0, %%ymm0")
X86(fma, "vfmadd231ps %%xmm0, %%xmm0, %%xmm0")
X86(f16c, "vcvtph2ps %%xmm0, %%xmm0")
X86(avx512f, "vpaddd %%zmm0, %%zmm0, %%zmm0")
X86(xsave, "xor %%ecx, %%ecx\n\txgetbv")
X86(bmi, "andn %%rax, %%rax, %%rax")
X86(bmi2, "pdep %%rax, %%rax, %%rax\n\tshlx %%rax, %%rax, %%rax")
X86(adx, "adcx %%rax, %%rax\n\tadox %%rax, %%rax")
X86(erms, "mov $8, %%ecx\n\tmov %%rsi, %%rdi\n\trep movsb")
X86(clflushopt, "clflushopt (%%rsi)")
X86(clwb, "clwb (%%rsi)")
X86(fsgsbase, "rdfsbase %%rax")
X86(sha, "sha1rnds4 $0, %%xmm0, %%xmm0")
X86(lzcnt, "lzcnt %%rax, %%rax")
X86(sse4a, "extrq $0, $0, %%xmm0")
X86(rdtscp, "rdtscp")
X86(rdseed, "rdseed %%rax")

static void probe_all(void)
{
    unsigned a, b;
    __cpuid(1, a, b, c1, d1);
    __cpuid_count(7, 0, a, b7, c7, b);
    __cpuid(0x80000001, a, b, ce1, de1);
    printf("cpuid 1:ecx=%08x 1:edx=%08x 7:ebx=%08x 7:ecx=%08x 80000001:ecx=%08x edx=%08x\n",
           c1, d1, b7, c7, ce1, de1);
    __builtin_cpu_init();
    /* gcc's view (with the OS checks for AVX state) agrees with the raw bits */
    if (!!__builtin_cpu_supports("sse4.2") != !!(c1 & bit_SSE4_2) ||
        !!__builtin_cpu_supports("ssse3") != !!(c1 & bit_SSSE3) ||
        !!__builtin_cpu_supports("popcnt") != !!(c1 & bit_POPCNT))
        printf("__builtin_cpu_supports disagrees with CPUID\n");
    check("sse3", __builtin_cpu_supports("sse3"), p_sse3);
    check("ssse3", __builtin_cpu_supports("ssse3"), p_ssse3);
    check("sse4.1", __builtin_cpu_supports("sse4.1"), p_sse41);
    check("sse4.2", __builtin_cpu_supports("sse4.2"), p_sse42);
    check("popcnt", __builtin_cpu_supports("popcnt"), p_popcnt);
    check("aes", __builtin_cpu_supports("aes"), p_aes);
    check("pclmul", __builtin_cpu_supports("pclmul"), p_pclmul);
    check("movbe", c1 & bit_MOVBE, p_movbe);
    check("rdrnd", c1 & bit_RDRND, p_rdrnd);
    check("cx16", c1 & bit_CMPXCHG16B, p_cx16);
    /* the raw bits too: an advertised AVX must run even if the OS state is off */
    check("avx", __builtin_cpu_supports("avx") || (c1 & bit_AVX), p_avx);
    check("avx2", __builtin_cpu_supports("avx2") || (b7 & bit_AVX2), p_avx2);
    check("fma", __builtin_cpu_supports("fma") || (c1 & bit_FMA), p_fma);
    check("f16c", c1 & bit_F16C, p_f16c);
    check("avx512f", __builtin_cpu_supports("avx512f") || (b7 & bit_AVX512F), p_avx512f);
    check("osxsave", c1 & bit_OSXSAVE, p_xsave);
    check("bmi", __builtin_cpu_supports("bmi"), p_bmi);
    check("bmi2", __builtin_cpu_supports("bmi2"), p_bmi2);
    check("adx", b7 & bit_ADX, p_adx);
    check("erms", b7 & (1u << 9), p_erms);
    check("clflushopt", b7 & bit_CLFLUSHOPT, p_clflushopt);
    check("clwb", b7 & bit_CLWB, p_clwb);
    check("fsgsbase", b7 & bit_FSGSBASE, p_fsgsbase);
    check("sha", b7 & bit_SHA, p_sha);
    check("rdseed", b7 & bit_RDSEED, p_rdseed);
    check("lzcnt", ce1 & bit_LZCNT, p_lzcnt);
    check("sse4a", __builtin_cpu_supports("sse4a"), p_sse4a);
    check("rdtscp", de1 & (1u << 27), p_rdtscp);
}

#elif defined(__aarch64__)
/* one instruction each, as its encoding (the assembler would want -march) */
#define A64(name, enc)                                                         \
    static void p_##name(void)                                                 \
    {                                                                          \
        __asm__ volatile("mov x1, %0\n\t.inst " #enc                           \
                         :                                                     \
                         : "r"(word)                                           \
                         : "x0", "x1", "x2", "x3", "v0", "v1", "v2", "v3",     \
                           "cc", "memory");                                    \
    }
A64(fp, 0x1e602800)       /* fadd d0, d0, d0 */
A64(asimd, 0x4e208400)    /* add v0.16b, v0.16b, v0.16b */
A64(aes, 0x4e284820)      /* aese v0.16b, v1.16b */
A64(pmull, 0x0ee1e000)    /* pmull v0.1q, v0.1d, v1.1d */
A64(sha1, 0x5e280820)     /* sha1h s0, s1 */
A64(sha2, 0x5e024020)     /* sha256h q0, q1, v2.4s */
A64(crc32, 0x1ac14000)    /* crc32b w0, w0, w1 */
A64(atomics, 0xb8220023)  /* ldadd w2, w3, [x1] */
A64(fphp, 0x1ee02800)     /* fadd h0, h0, h0 */
A64(asimdhp, 0x4e401400)  /* fadd v0.8h, v0.8h, v0.8h */
A64(cpuid, 0xd5380000)    /* mrs x0, midr_el1 */
A64(asimdrdm, 0x6e428420) /* sqrdmlah v0.8h, v1.8h, v2.8h */
A64(jscvt, 0x1e7e0000)    /* fjcvtzs w0, d0 */
A64(fcma, 0x6e82c420)     /* fcmla v0.4s, v1.4s, v2.4s, #0 */
A64(lrcpc, 0xb8bfc020)    /* ldapr w0, [x1] */
A64(dcpop, 0xd50b7c21)    /* dc cvap, x1 */
A64(sha3, 0xce020c20)     /* eor3 v0.16b, v1.16b, v2.16b, v3.16b */
A64(sm3, 0xce420c20)      /* sm3ss1 v0.4s, v1.4s, v2.4s, v3.4s */
A64(sm4, 0xcec08420)      /* sm4e v0.4s, v1.4s */
A64(asimddp, 0x4e829420)  /* sdot v0.4s, v1.16b, v2.16b */
A64(sha512, 0xce628020)   /* sha512h q0, q1, v2.2d */
A64(sve, 0x0420e3e0)      /* cntb x0 */
A64(asimdfhm, 0x0e22ec20) /* fmlal v0.2s, v1.2h, v2.2h */
A64(dit, 0xd53b42a0)      /* mrs x0, dit */
A64(ilrcpc, 0x99400020)   /* ldapur w0, [x1] */
A64(flagm, 0xd500401f)    /* cfinv */
A64(ssbs, 0xd53b42c0)     /* mrs x0, ssbs */
A64(sb, 0xd50330ff)       /* sb */
A64(paca, 0xdac10020)     /* pacia x0, x1 */
A64(pacg, 0x9ac23020)     /* pacga x0, x1, x2 */
A64(dcpodp, 0xd50b7d21)   /* dc cvadp, x1 */
A64(sve2, 0x04213840)     /* eor3 z0.d, z0.d, z1.d, z2.d */
A64(sveaes, 0x4522e020)   /* aese z0.b, z0.b, z1.b */
A64(svepmull, 0x45026820) /* pmullb z0.q, z1.d, z2.d */
A64(svebitperm, 0x4502b420) /* bdep z0.b, z1.b, z2.b */
A64(svesha3, 0x4522f420)  /* rax1 z0.d, z1.d, z2.d */
A64(svesm4, 0x4523e020)   /* sm4e z0.s, z0.s, z1.s */
A64(flagm2, 0xd500405f)   /* axflag */
A64(frint, 0x1e284020)    /* frint32z s0, s1 */
A64(svei8mm, 0x45029820)  /* smmla z0.s, z1.b, z2.b */
A64(svef32mm, 0x64a2e420) /* fmmla z0.s, z1.s, z2.s */
A64(svef64mm, 0x64e2e420) /* fmmla z0.d, z1.d, z2.d */
A64(svebf16, 0x64628020)  /* bfdot z0.s, z1.h, z2.h */
A64(i8mm, 0x4e82a420)     /* smmla v0.4s, v1.16b, v2.16b */
A64(bf16, 0x2e42fc20)     /* bfdot v0.2s, v1.4h, v2.4h */
A64(dgh, 0xd50320df)      /* dgh */
A64(rng, 0xd53b2400)      /* mrs x0, rndr */
A64(bti, 0xd503245f)      /* bti c */
A64(mte, 0x9adf1020)      /* irg x0, x1 */
A64(sme, 0x04bf5820)      /* rdsvl x0, #1 */

#define CAP(word, bit, name) check(#name, (word >> bit) & 1, p_##name)

static void probe_all(void)
{
    unsigned long h1 = getauxval(AT_HWCAP), h2 = getauxval(AT_HWCAP2);
    printf("hwcap %lx hwcap2 %lx\n", h1, h2);
    CAP(h1, 0, fp); CAP(h1, 1, asimd); CAP(h1, 3, aes); CAP(h1, 4, pmull);
    CAP(h1, 5, sha1); CAP(h1, 6, sha2); CAP(h1, 7, crc32); CAP(h1, 8, atomics);
    CAP(h1, 9, fphp); CAP(h1, 10, asimdhp); CAP(h1, 11, cpuid); CAP(h1, 12, asimdrdm);
    CAP(h1, 13, jscvt); CAP(h1, 14, fcma); CAP(h1, 15, lrcpc); CAP(h1, 16, dcpop);
    CAP(h1, 17, sha3); CAP(h1, 18, sm3); CAP(h1, 19, sm4); CAP(h1, 20, asimddp);
    CAP(h1, 21, sha512); CAP(h1, 22, sve); CAP(h1, 23, asimdfhm); CAP(h1, 24, dit);
    CAP(h1, 26, ilrcpc); CAP(h1, 27, flagm); CAP(h1, 28, ssbs); CAP(h1, 29, sb);
    CAP(h1, 30, paca); CAP(h1, 31, pacg);
    CAP(h2, 0, dcpodp); CAP(h2, 1, sve2); CAP(h2, 2, sveaes); CAP(h2, 3, svepmull);
    CAP(h2, 4, svebitperm); CAP(h2, 5, svesha3); CAP(h2, 6, svesm4); CAP(h2, 7, flagm2);
    CAP(h2, 8, frint); CAP(h2, 9, svei8mm); CAP(h2, 10, svef32mm); CAP(h2, 11, svef64mm);
    CAP(h2, 12, svebf16); CAP(h2, 13, i8mm); CAP(h2, 14, bf16); CAP(h2, 15, dgh);
    CAP(h2, 16, rng); CAP(h2, 17, bti); CAP(h2, 18, mte); CAP(h2, 23, sme);
}

#elif defined(__arm__)
#define A32(name, text)                                                        \
    static void p_##name(void)                                                 \
    {                                                                          \
        __asm__ volatile(".fpu crypto-neon-fp-armv8\n\t.arch armv8-a\n\t"      \
                         ".arch_extension crc\n\t.arch_extension idiv\n\t"     \
                         "mov r1, %0\n\t" text                                 \
                         :                                                     \
                         : "r"(word)                                           \
                         : "r0", "r1", "r2", "d0", "d1", "d2", "d3", "d4",     \
                           "d5", "d16", "d17", "cc", "memory");                \
    }
A32(vfp, "vadd.f64 d0, d0, d0")
A32(edsp, "qadd r0, r0, r0")
A32(neon, "vadd.i8 q0, q0, q0")
A32(vfpv3, "vmov.f64 d0, #1.0")
A32(tls, "mrc p15, 0, r0, c13, c0, 3")
A32(vfpv4, "vfma.f32 s0, s1, s2")
A32(idiva, "sdiv r0, r0, r0")
A32(vfpd32, "vadd.f64 d16, d16, d17")
A32(lpae, "ldrexd r2, r3, [r1]\n\tclrex")
A32(aes, "aese.8 q0, q1")
A32(pmull, "vmull.p64 q0, d2, d3")
A32(sha1, "sha1h.32 q0, q1")
A32(sha2, "sha256h.32 q0, q1, q2")
A32(crc32, "crc32b r0, r0, r1")

#define CAP(word, bit, name) check(#name, (word >> bit) & 1, p_##name)

static void probe_all(void)
{
    unsigned long h1 = getauxval(AT_HWCAP), h2 = getauxval(AT_HWCAP2);
    printf("hwcap %lx hwcap2 %lx\n", h1, h2);
    CAP(h1, 6, vfp); CAP(h1, 7, edsp); CAP(h1, 12, neon); CAP(h1, 13, vfpv3);
    CAP(h1, 15, tls); CAP(h1, 16, vfpv4); CAP(h1, 17, idiva); CAP(h1, 19, vfpd32);
    CAP(h1, 20, lpae);
    CAP(h2, 0, aes); CAP(h2, 1, pmull); CAP(h2, 2, sha1); CAP(h2, 3, sha2); CAP(h2, 4, crc32);
}

#elif defined(__riscv)
#define RV(name, text)                                                         \
    static void p_##name(void)                                                 \
    {                                                                          \
        __asm__ volatile("mv a1, %0\n\t" text                                  \
                         :                                                     \
                         : "r"(word)                                           \
                         : "a0", "a1", "a2", "ft0", "memory");                 \
    }
RV(i, "add a0, a0, a0")
RV(m, "mul a0, a0, a0\n\tdivu a0, a0, a1")
RV(a, "amoadd.w a0, a0, (a1)\n\tlr.d a2, (a1)\n\tsc.d a0, a2, (a1)")
RV(f, "fadd.s ft0, ft0, ft0")
RV(d, "fadd.d ft0, ft0, ft0")
RV(c, "c.nop")

#define CAP(word, letter) check(#letter, (word >> (#letter[0] - 'a')) & 1, p_##letter)

static void probe_all(void)
{
    unsigned long h1 = getauxval(AT_HWCAP);
    printf("hwcap %lx\n", h1);
    CAP(h1, i); CAP(h1, m); CAP(h1, a); CAP(h1, f); CAP(h1, d); CAP(h1, c);
}

#else /* mips: no user-visible feature bits beyond the base ISA (qemu-user: 0) */
static void probe_all(void)
{
    printf("hwcap %lx\n", getauxval(AT_HWCAP));
}
#endif

int main(void)
{
    struct sigaction sa;
    setvbuf(stdout, 0, _IONBF, 0); /* a trap that kills the guest keeps the lines */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_trap;
    sigaction(SIGILL, &sa, 0);
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGBUS, &sa, 0);
    probe_all();
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
