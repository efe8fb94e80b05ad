/* qpp's native fast path: unicorn block and memory hooks that apply inline operations
 * without entering Python.
 *
 * Loaded with ctypes (no Python C-API here: the hooks run while unicorn holds no GIL and
 * call back into Python only through ctypes function pointers, which take the GIL
 * themselves). The Python side (qpp_core/instrument/native.py) mirrors every announced
 * block's folded inline operations and its conditional callbacks into an open-addressing
 * table keyed by block address, and every accessing instruction's memory inline
 * operations into a second table keyed by pc. A block without Python callbacks never
 * enters Python; a block whose callbacks are all conditional enters Python only when one
 * of the conditions holds. Anything this file does not know (a block not announced yet,
 * a block that needs Python for other reasons) goes to the Python block hook, which does
 * everything itself on the same scoreboard memory.
 *
 * Scoreboards are arrays of u64 slots owned by Python (ctypes arrays); an operation
 * names a qpp_score and applies to the slot of bases[current_vcpu]. qpp keeps the running
 * vCPU's values in base 0 and swaps values when guest threads switch (vcpus.py), so
 * current_vcpu stays 0 and no table here changes on a switch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define QPP_EXPORT __declspec(dllexport)
#else
#define QPP_EXPORT __attribute__((visibility("default")))
#endif

typedef int (*uc_reg_read_fn)(void *uc, int regid, void *value);
typedef void (*py_block_fn)(uint64_t address, uint32_t size);
typedef void (*py_extra_fn)(uint64_t address);
typedef void (*py_mem_fn)(uint64_t pc, int access, uint64_t address, int size, int64_t value);

typedef struct {
    uint64_t **bases; /* bases[vcpu]: that vCPU's slots */
    uint32_t n;       /* how many vCPUs have storage */
} qpp_score;

enum { OP_ADD = 0, OP_STORE = 1, OP_SNAP = 2 };
enum { CMP_EQ = 0, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
enum { MEM_R = 1, MEM_W = 2 };
enum { UC_MEM_WRITE = 17 };

typedef struct {
    uint32_t kind;   /* OP_* */
    uint32_t rw;     /* memory ops: MEM_R / MEM_W mask */
    qpp_score *score;
    uint64_t slot;
    uint64_t imm;
    uint64_t *cell;  /* OP_SNAP: where the slot's value at block start goes */
} qpp_op;

/* A condition: (slot + cell[0] - k) <cmp> imm, evaluated exactly in 128 bits. */
typedef struct {
    uint32_t cmp;
    uint32_t has_cell;
    qpp_score *score;
    uint64_t slot;
    int64_t k;
    int64_t imm_hi; /* imm as a signed 128-bit number: hi, lo */
    uint64_t imm_lo;
    uint64_t *cell;
} qpp_cond;

/* F_ONE_ADD (set by put): the entry is one ADD and nothing else, the common counting case */
enum { F_PY = 1, F_BRANCH = 2, F_ONE_ADD = 4 };

typedef struct {
    uint64_t key;
    uint32_t size;  /* blocks: the block's size; memory: unused */
    uint8_t state;  /* 0 empty, 1 used, 2 deleted */
    uint8_t flags;  /* F_* */
    uint16_t n_conds;
    uint32_t n_ops;
    qpp_op *ops;
    qpp_cond *conds;
} qpp_entry;

typedef struct {
    qpp_entry *tab;
    uint64_t cap, used, filled; /* filled counts deleted slots too */
} qpp_table;

/* A stop request (qpp_core/machine/blockstop.py): another host thread sets armed; a block
 * hook stops the engine at the next block start, from inside the hook, the one kind of
 * stop unicorn resumes from exactly. budget (-sched deterministic) counts blocks down to
 * a stop, so slices end at the same block on every run. The engine's uc_emu_stop comes
 * from Python (unicorn's library). */
typedef struct {
    volatile int64_t armed;
    int (*stop)(void *uc);
    uint64_t last, last_size; /* the block that started last (mips: where a trap was) */
    int64_t budget;           /* blocks left before a stop; 0: none counted */
} qpp_slice;

/* Whether the block starting now must not run yet (the stop request is armed, or this
 * block spends the budget). */
static inline int stop_now(qpp_slice *s) {
    return s->armed || (s->budget > 0 && --s->budget == 0);
}

typedef struct {
    qpp_table blocks, mem;
    uint32_t current_vcpu;
    uint32_t py_all;     /* every block goes to Python (e.g. pending Thumb IT callbacks) */
    uint32_t mips_guard; /* one-instruction blocks go to Python unless expected */
    uint64_t *cur;       /* Python's "block executing now" cell */
    uint64_t *slot_next; /* mips: end of the last block when it ended on a branch */
    py_block_fn py_block;
    py_extra_fn py_extra;
    py_mem_fn py_mem;
    uc_reg_read_fn reg_read;
    int pc_reg;
    uint64_t n_native, n_python, n_mem_native;
    qpp_slice *stop_req; /* tested before anything else of a block (NULL: none) */
} qpp_state;

static uint64_t hash64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static void entry_free(qpp_entry *e) {
    free(e->ops);
    free(e->conds);
    e->ops = NULL;
    e->conds = NULL;
}

static inline qpp_entry *table_find(const qpp_table *t, uint64_t key) {
    if (!t->cap)
        return NULL;
    uint64_t mask = t->cap - 1, i = hash64(key) & mask;
    for (;;) {
        qpp_entry *e = &t->tab[i];
        if (e->state == 0)
            return NULL;
        if (e->state == 1 && e->key == key)
            return e;
        i = (i + 1) & mask;
    }
}

static int table_grow(qpp_table *t) {
    uint64_t cap = t->cap ? t->cap : 256;
    while (t->used * 2 + 2 > cap)
        cap *= 2;
    qpp_entry *tab = calloc(cap, sizeof(qpp_entry));
    if (!tab)
        return -1;
    for (uint64_t j = 0; j < t->cap; j++) {
        qpp_entry *e = &t->tab[j];
        if (e->state != 1)
            continue;
        uint64_t i = hash64(e->key) & (cap - 1);
        while (tab[i].state)
            i = (i + 1) & (cap - 1);
        tab[i] = *e;
    }
    free(t->tab);
    t->tab = tab;
    t->cap = cap;
    t->filled = t->used;
    return 0;
}

static qpp_entry *table_slot(qpp_table *t, uint64_t key) {
    qpp_entry *e = table_find(t, key);
    if (e) {
        entry_free(e);
        return e;
    }
    if ((t->filled + 1) * 2 > t->cap && table_grow(t))
        return NULL;
    uint64_t mask = t->cap - 1, i = hash64(key) & mask;
    while (t->tab[i].state == 1)
        i = (i + 1) & mask;
    e = &t->tab[i];
    if (e->state == 0)
        t->filled++;
    t->used++;
    memset(e, 0, sizeof(*e));
    e->state = 1;
    e->key = key;
    return e;
}

static void table_del(qpp_table *t, uint64_t key) {
    qpp_entry *e = table_find(t, key);
    if (!e)
        return;
    entry_free(e);
    e->state = 2;
    t->used--;
}

static void table_clear(qpp_table *t) {
    for (uint64_t j = 0; j < t->cap; j++)
        if (t->tab[j].state == 1)
            entry_free(&t->tab[j]);
    free(t->tab);
    t->tab = NULL;
    t->cap = t->used = t->filled = 0;
}

static int put(qpp_table *t, uint64_t key, uint32_t size, uint32_t flags, const qpp_op *ops,
               uint32_t n_ops, const qpp_cond *conds, uint32_t n_conds) {
    qpp_op *o = NULL;
    qpp_cond *c = NULL;
    if (n_ops) {
        o = malloc(n_ops * sizeof(qpp_op));
        if (!o)
            return -1;
        memcpy(o, ops, n_ops * sizeof(qpp_op));
    }
    if (n_conds) {
        c = malloc(n_conds * sizeof(qpp_cond));
        if (!c) {
            free(o);
            return -1;
        }
        memcpy(c, conds, n_conds * sizeof(qpp_cond));
    }
    qpp_entry *e = table_slot(t, key);
    if (!e) {
        free(o);
        free(c);
        return -1;
    }
    e->size = size;
    if (n_ops == 1 && o[0].kind == OP_ADD && !n_conds && !(flags & F_PY))
        flags |= F_ONE_ADD;
    e->flags = (uint8_t)flags;
    e->ops = o;
    e->n_ops = n_ops;
    e->conds = c;
    e->n_conds = (uint16_t)n_conds;
    return 0;
}

/* --- the Python side's interface ------------------------------------------------------ */

QPP_EXPORT uint32_t qpp_abi_version(void) { return 4; }

QPP_EXPORT qpp_state *qpp_state_new(void) { return calloc(1, sizeof(qpp_state)); }

QPP_EXPORT void qpp_state_free(qpp_state *st) {
    if (!st)
        return;
    table_clear(&st->blocks);
    table_clear(&st->mem);
    free(st);
}

QPP_EXPORT int qpp_block_put(qpp_state *st, uint64_t addr, uint32_t size, uint32_t flags,
                             const qpp_op *ops, uint32_t n_ops, const qpp_cond *conds,
                             uint32_t n_conds) {
    return put(&st->blocks, addr, size, flags, ops, n_ops, conds, n_conds);
}

QPP_EXPORT void qpp_block_del(qpp_state *st, uint64_t addr) { table_del(&st->blocks, addr); }

QPP_EXPORT void qpp_blocks_clear(qpp_state *st) { table_clear(&st->blocks); }

QPP_EXPORT uint64_t qpp_blocks_count(qpp_state *st) { return st->blocks.used; }

QPP_EXPORT int qpp_mem_put(qpp_state *st, uint64_t pc, uint32_t flags, const qpp_op *ops,
                           uint32_t n_ops) {
    return put(&st->mem, pc, 0, flags, ops, n_ops, NULL, 0);
}

QPP_EXPORT void qpp_mem_del(qpp_state *st, uint64_t pc) { table_del(&st->mem, pc); }

QPP_EXPORT void qpp_mem_clear(qpp_state *st) { table_clear(&st->mem); }

/* --- the hooks ------------------------------------------------------------------------ */

static inline uint64_t *slot_of(const qpp_state *st, qpp_score *s, uint64_t slot) {
    return s->bases[st->current_vcpu] + slot;
}

static int cond_holds(const qpp_state *st, const qpp_cond *c) {
    __int128 v = (__int128)*slot_of(st, c->score, c->slot);
    if (c->has_cell)
        v += (__int128)*c->cell;
    v -= (__int128)c->k;
    __int128 imm = ((__int128)c->imm_hi << 64) | (__int128)c->imm_lo;
    switch (c->cmp) {
    case CMP_EQ: return v == imm;
    case CMP_NE: return v != imm;
    case CMP_LT: return v < imm;
    case CMP_LE: return v <= imm;
    case CMP_GT: return v > imm;
    case CMP_GE: return v >= imm;
    }
    return 1;
}

/* UC_HOOK_BLOCK: void cb(uc_engine *uc, uint64_t address, uint32_t size, void *user) */
QPP_EXPORT void qpp_on_block(void *uc, uint64_t address, uint32_t size, void *user) {
    qpp_state *st = user;
    if (st->stop_req) {
        if (stop_now(st->stop_req)) {
            st->stop_req->stop(uc); /* the block runs after the stop, from its start */
            return;
        }
        st->stop_req->last = address;
        st->stop_req->last_size = size;
    }
    *st->cur = address;
    qpp_entry *e = st->py_all ? NULL : table_find(&st->blocks, address);
    if (!e || e->size != size ||
        (st->mips_guard && size == 4 && address != *st->slot_next)) {
        st->n_python++;
        st->py_block(address, size);
        return;
    }
    st->n_native++;
    if ((e->flags & F_ONE_ADD) && !st->mips_guard) {
        *slot_of(st, e->ops[0].score, e->ops[0].slot) += e->ops[0].imm;
        return;
    }
    for (uint32_t i = 0; i < e->n_ops; i++) {
        const qpp_op *op = &e->ops[i];
        uint64_t *p = slot_of(st, op->score, op->slot);
        switch (op->kind) {
        case OP_ADD: *p += op->imm; break;
        case OP_STORE: *p = op->imm; break;
        case OP_SNAP: *op->cell = *p; break;
        }
    }
    if (st->mips_guard)
        *st->slot_next = (e->flags & F_BRANCH) ? address + size : UINT64_MAX;
    int call = e->flags & F_PY;
    for (uint32_t i = 0; !call && i < e->n_conds; i++)
        call = cond_holds(st, &e->conds[i]);
    if (call)
        st->py_extra(address);
}

/* UC_HOOK_MEM_READ_AFTER | UC_HOOK_MEM_WRITE:
 * void cb(uc_engine *uc, int type, uint64_t address, int size, int64_t value, void *user) */
QPP_EXPORT void qpp_on_mem(void *uc, int access, uint64_t address, int size, int64_t value,
                           void *user) {
    qpp_state *st = user;
    uint64_t pc = 0;
    st->reg_read(uc, st->pc_reg, &pc);
    qpp_entry *e = table_find(&st->mem, pc);
    if (!e)
        return;
    uint32_t rw = access == UC_MEM_WRITE ? MEM_W : MEM_R;
    for (uint32_t i = 0; i < e->n_ops; i++) {
        const qpp_op *op = &e->ops[i];
        if (!(op->rw & rw))
            continue;
        uint64_t *p = slot_of(st, op->score, op->slot);
        if (op->kind == OP_ADD)
            *p += op->imm;
        else
            *p = op->imm;
    }
    st->n_mem_native++;
    if (e->flags & F_PY)
        st->py_mem(pc, access, address, size, value);
}

/* --- time slices and signals (qpp_core/machine/slicer.py, blockstop.py) -----------------
 * qpp's own block hook for a stop request (qpp_slice above), where no qpp_on_block tests it:
 * a guest thread's slice ends, a signal's handler is to run. */

QPP_EXPORT void qpp_slice_hook(void *uc, uint64_t address, uint32_t size, void *user) {
    qpp_slice *s = (qpp_slice *)user;
    if (stop_now(s)) {
        s->stop(uc);
        return;
    }
    s->last = address;
    s->last_size = size;
}

/* Not a Python module: the package loads this file with ctypes. The symbol only keeps
 * setuptools' extension build (which names an init function) satisfied. */
QPP_EXPORT void *PyInit__fastpath(void) { return NULL; }
