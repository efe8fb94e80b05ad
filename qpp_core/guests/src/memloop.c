/*
 * memloop.c - a guest whose exact memory accesses are known, for testing
 * memory-access-counting plugins.  No libc (-nostdlib -static -no-pie).
 *
 * _start (hand-written per architecture in top-level asm, so the compiler
 * cannot add, remove or move memory accesses) does:
 *
 *     r_addr = &memloop_cell            (address formed in registers only:
 *     r_n    = 1000                      no literal pool, no GOT, no stack)
 *   memloop_loop:                        repeated exactly 1000 times:
 *     r_v = *r_addr          ; LOAD  (32-bit)
 *     r_v = r_v + 1
 *     *r_addr = r_v          ; STORE (32-bit)
 *     r_n = r_n - 1
 *     if (r_n != 0) goto memloop_loop
 *   memloop_exit:
 *     exit(0)                ; raw exit syscall, no memory access
 *
 * Expected counts (from _start to the exit syscall, inclusive):
 *   loads  = 1000, stores = 1000, total memory accesses = 2000
 *   instructions executed:
 *     x86_64  : 2 + 5*1000 + 3 = 5005   (lea, mov | 5 | mov, xor, syscall)
 *     aarch64 : 3 + 5*1000 + 3 = 5006   (adrp, add, mov | 5 | mov, mov, svc)
 *     arm     : 3 + 5*1000 + 3 = 5006   (Thumb-2: movw, movt, movw | 5 | movs, movs, svc)
 *     riscv64 : 3 + 5*1000 + 3 = 5006   (auipc, addi, li | 5 | li, li, ecall)
 *     mipsel  : 3 + 5*1000 + 3 = 5006   (lui, addiu, li | 5, the store in the
 *                                        branch delay slot | li, li, syscall)
 * memloop_cell ends at 1000.  These constants are mirrored in
 * qpp_core/guests/__init__.py (MEMLOOP_*).
 */

#if defined(__x86_64__)
__asm__(
    "    .text\n"
    "    .globl _start\n"
    "    .type _start, @function\n"
    "_start:\n"
    "    lea memloop_cell(%rip), %rdi\n"
    "    mov $1000, %ecx\n"
    "    .globl memloop_loop\n"
    "memloop_loop:\n"
    "    mov (%rdi), %eax\n"
    "    add $1, %eax\n"
    "    mov %eax, (%rdi)\n"
    "    sub $1, %ecx\n"
    "    jnz memloop_loop\n"
    "    .globl memloop_exit\n"
    "memloop_exit:\n"
    "    mov $60, %eax\n"          /* SYS_exit */
    "    xor %edi, %edi\n"
    "    syscall\n"
    "    .size _start, . - _start\n");
#elif defined(__aarch64__)
__asm__(
    "    .text\n"
    "    .globl _start\n"
    "    .type _start, %function\n"
    "_start:\n"
    "    adrp x1, memloop_cell\n"
    "    add x1, x1, :lo12:memloop_cell\n"
    "    mov x2, #1000\n"
    "    .globl memloop_loop\n"
    "memloop_loop:\n"
    "    ldr w0, [x1]\n"
    "    add w0, w0, #1\n"
    "    str w0, [x1]\n"
    "    subs x2, x2, #1\n"
    "    b.ne memloop_loop\n"
    "    .globl memloop_exit\n"
    "memloop_exit:\n"
    "    mov x0, #0\n"
    "    mov x8, #93\n"             /* SYS_exit */
    "    svc #0\n"
    "    .size _start, . - _start\n");
#elif defined(__arm__)
__asm__(
    "    .syntax unified\n"
    "    .text\n"
    "    .thumb\n"
    "    .globl _start\n"
    "    .type _start, %function\n"
    "    .thumb_func\n"
    "_start:\n"
    "    movw r1, #:lower16:memloop_cell\n"
    "    movt r1, #:upper16:memloop_cell\n"
    "    movw r2, #1000\n"
    "    .globl memloop_loop\n"
    "    .thumb_func\n"
    "memloop_loop:\n"
    "    ldr r0, [r1]\n"
    "    adds r0, r0, #1\n"
    "    str r0, [r1]\n"
    "    subs r2, r2, #1\n"
    "    bne memloop_loop\n"
    "    .globl memloop_exit\n"
    "    .thumb_func\n"
    "memloop_exit:\n"
    "    movs r0, #0\n"
    "    movs r7, #1\n"             /* SYS_exit */
    "    svc #0\n"
    "    .size _start, . - _start\n");
#elif defined(__riscv) && __riscv_xlen == 64
__asm__(
    "    .text\n"
    "    .option push\n"
    "    .option norelax\n"          /* keep auipc+addi: gp is never set up */
    "    .globl _start\n"
    "    .type _start, @function\n"
    "_start:\n"
    "    lla a1, memloop_cell\n"
    "    li a2, 1000\n"
    "    .globl memloop_loop\n"
    "memloop_loop:\n"
    "    lw a0, 0(a1)\n"
    "    addiw a0, a0, 1\n"
    "    sw a0, 0(a1)\n"
    "    addi a2, a2, -1\n"
    "    bnez a2, memloop_loop\n"
    "    .globl memloop_exit\n"
    "memloop_exit:\n"
    "    li a0, 0\n"
    "    li a7, 93\n"               /* SYS_exit */
    "    ecall\n"
    "    .size _start, . - _start\n"
    "    .option pop\n");
#elif defined(__mips__) && defined(__MIPSEL__) && _MIPS_SIM == _ABIO32
__asm__(
    "    .text\n"
    "    .set push\n"
    "    .set noreorder\n"
    "    .set nomacro\n"
    "    .globl _start\n"
    "    .type _start, @function\n"
    "    .ent _start\n"
    "_start:\n"
    "    lui $5, %hi(memloop_cell)\n"
    "    addiu $5, $5, %lo(memloop_cell)\n"
    "    addiu $6, $0, 1000\n"
    "    .globl memloop_loop\n"
    "memloop_loop:\n"
    "    lw $8, 0($5)\n"
    "    addiu $8, $8, 1\n"
    "    addiu $6, $6, -1\n"
    "    bne $6, $0, memloop_loop\n"
    "    sw $8, 0($5)\n"            /* delay slot: runs on every iteration */
    "    .globl memloop_exit\n"
    "memloop_exit:\n"
    "    addiu $2, $0, 4001\n"      /* SYS_exit (o32) */
    "    addu $4, $0, $0\n"
    "    syscall\n"
    "    .end _start\n"
    "    .size _start, . - _start\n"
    "    .set pop\n");
#else
#error "memloop: unsupported architecture"
#endif

/* The word the loop reads and writes (in .bss, 0 at start, 1000 at exit). */
__attribute__((used, aligned(16))) unsigned int memloop_cell;
