/* hm_internal.h - the context structure, the hook wrappers and the functions the core's files
 * share. Not part of the public API: embedders and arch backends use highmem.h / highmem_arch.h.
 * SPDX-License-Identifier: MIT */
#ifndef HM_INTERNAL_H
#define HM_INTERNAL_H

#include "highmem_arch.h"
#include "hm_atomic.h"

#define HM_CTX_MAGIC 0x686d6b6du /* "hmkm": set by hm_ctx_init */
#define HM_NIL (-1)

/* struct page_address_map: one record per pkmap slot, linked through `next`. The kernel's
 * `virtual` is kept as the slot number it points at (PKMAP_ADDR(slot)): every field is 32 bits,
 * so the fast mode's lock-free readers load each with one atomic access. */
struct hm_pam {
    hm_pfn_t page;
    uint32_t slot;
    int32_t next;
};

/* A singly linked list of records with a tail, for the pool and for each bucket. */
struct hm_list {
    int32_t head, tail;
};

/* One pkmap slot: pkmap_count[nr] and the page it maps, in one word that a compare-and-swap
 * changes as a whole, and the slot's share of the statistics (summed by hm_get_stats, so that a
 * hit writes only its own slot's cache line). 32 bytes: two slots per 64-byte line, and
 * hm_slot() places slots nr and nr + 1 in different lines. */
struct hm_slot {
    uint64_t word;    /* HM_WORD(page, count): count is pkmap_count[nr], page the pfn last mapped */
    uint64_t hits;    /* kmaps that found their page here (kmap_hits) */
    uint64_t reuse1;  /* of those, at count 1 (kmap_reuse_count1) */
    uint64_t kunmaps; /* kunmaps that dropped a reference here (kunmap_calls) */
};
#define HM_NO_PAGE UINT32_MAX /* never a pfn: pfn < max_pfn <= UINT32_MAX */
/* The count of a count-1 slot flush_all_zero_pkmaps has claimed and not yet torn down (only
 * while it runs, under kmap_lock; the kernel's pkmap_count is 0 there, and hm_pkmap_count says
 * 0): no hit or kunmap moves it, as none moves a count below 1 or 2. */
#define HM_COUNT_CLAIMED (-1)
#define HM_WORD(page, count) (((uint64_t)(page) << 32) | (uint32_t)(count))
static inline int32_t hm_word_count(uint64_t w)
{
    return (int32_t)(uint32_t)w;
}
static inline hm_pfn_t hm_word_page(uint64_t w)
{
    return (hm_pfn_t)(w >> 32);
}

/* One pkmap colour (spec §10.3): its scan cursor and its wait queue's waiter count. Uncoloured,
 * colour0 is the kernel's last_pkmap_nr and pkmap_map_wait. */
struct hm_colour {
    uint32_t last_pkmap_nr; /* the slot last handed out or tested, of this colour (the kernel's
                             * last_pkmap_nr_arr[c] + c): written under kmap_lock, read atomically
                             * by the inspection calls */
    uint32_t nr_waiters;    /* tasks asleep for a slot of this colour: waitqueue_active() of its
                             * queue; changed under kmap_lock, read by the fast kunmap (fast.h) */
};

struct hm_cpu_state {
    int32_t pagefault_disabled; /* kmap_atomic nesting (the pagefault-disable depth) */
    uint32_t task;              /* 5.11: the task running here (0: this CPU's idle task) */
};

/* 5.11: one task's kmap_ctrl and where it runs. idx and cpu are changed only by the thread
 * running as the task's CPU (atomic stores: the inspection calls may read them any time). */
#define HM_NO_CPU UINT32_MAX
struct hm_task {
    int32_t idx;      /* kmap_ctrl.idx: stack positions in use (KM_INCR per mapping) */
    uint32_t cpu;     /* the CPU running it, HM_NO_CPU while switched out */
    uint32_t home;    /* the CPU it last ran on, where its stack's slots are (HM_NO_CPU: never
                       * ran); a task holding mappings may run nowhere else */
    hm_pte_t pteval[HM_KM_MAX_IDX_DEBUG]; /* kmap_ctrl.pteval: the PTE of each position */
};

struct hm_ctx {
    uint32_t magic;
    const struct hm_arch *arch;
    struct hm_config cfg;
    struct hm_layout layout;
    struct hm_machine machine;
    struct hm_hooks hooks;

    /* mm/highmem.c state */
    uint32_t last_pkmap;      /* LAST_PKMAP */
    uint32_t last_pkmap_mask; /* LAST_PKMAP_MASK */
    uint32_t colour_mask;     /* DCACHE_N_COLORS - 1 (0: uncoloured, the kernel's defaults) */
    struct hm_colour *colour; /* [colour_mask + 1]: &colour0 when uncoloured, else an array
                               * behind the context (ctx.c plan) */
    struct hm_colour colour0; /* the one cursor and queue of an uncoloured layout */
    uint32_t slot_half_shift; /* log2(last_pkmap / 2): hm_slot()'s interleave */
    int fast;                 /* HM_LOCKING_FAST in effect */
    struct hm_slot *slots;    /* [last_pkmap], in hm_slot() order */
    uint32_t *hint;           /* [hint_mask + 1]: HM_LOCKING_FAST's slot of a pfn (fast.h) */
    uint32_t hint_mask;       /* 2 * last_pkmap - 1 */

    /* the hashed page_address table */
    struct hm_pam *page_address_maps; /* [last_pkmap] */
    uint32_t table_gen;               /* odd while hm_set_page_address changes the table */
    struct hm_list page_address_pool;
    struct hm_list page_address_htable[HM_PA_HASH_SIZE];

    struct hm_cpu_state *cpus; /* [nr_cpus] */
    /* 5.11 (layout.km_max_idx != 0): [nr_cpus + nr_tasks - 1], each CPU's idle task first
     * (hm_task_of), then tasks 1.. ; NULL before 5.11 */
    struct hm_task *tasks;
    /* Statistics: kmap_calls here counts the calls that are not hits (the slots count those);
     * the other fields are what hm_get_stats reports. Updated under kmap_lock with HM_ADD64 so
     * that hm_get_stats may read them at any time; the bug and machine_fail counts are not. */
    struct hm_stats stats;
    /* BUG reports may come from any thread outside every lock: counted with HM_ADD. */
    uint32_t bugs;
    uint32_t bug_by_kind[HM_BUG__COUNT];
    /* Refused PTE writes: the kmap_atomic family writes outside every lock, counted as bugs are. */
    uint32_t machine_fails;
};

/* Slot nr (< last_pkmap): slots nr and nr + last_pkmap/2 share a cache line, neighbours do not. */
static inline struct hm_slot *hm_slot(const struct hm_ctx *ctx, uint32_t nr)
{
    uint32_t half = ctx->last_pkmap >> 1;
    return &ctx->slots[((nr & (half - 1u)) << 1) | (nr >> ctx->slot_half_shift)];
}
/* pkmap_count[nr]. */
static inline int32_t hm_slot_count(const struct hm_ctx *ctx, uint32_t nr)
{
    return hm_word_count(HM_LOAD64(&hm_slot(ctx, nr)->word));
}

/* The one compare-and-swap that moves a slot's count by delta (+1 or -1): only while the count
 * is at least min (and, raised, stays within int32_t), and (match_page) the word names pfn. Returns 1 when
 * moved; *old is the word before the move, or the word that stopped it. The fast path matches
 * the page (fast.h); the locked path, as the kernel, trusts the table's slot. */
static inline int hm_slot_move(struct hm_slot *s, int match_page, hm_pfn_t pfn, int32_t min, int delta,
                               uint64_t *old)
{
    uint64_t w = HM_LOAD64(&s->word);
    do {
        if ((match_page && hm_word_page(w) != pfn) || hm_word_count(w) < min ||
            (delta > 0 && hm_word_count(w) == INT32_MAX)) {
            *old = w;
            return 0;
        }
    } while (!HM_CAS64(&s->word, &w, w + (uint64_t)(int64_t)delta));
    *old = w;
    return 1;
}

/* get_pkmap_color(page): DCACHE_ALIAS(page_to_phys(page)) = pfn & (DCACHE_N_COLORS - 1); 0
 * when uncoloured. A slot's colour is likewise nr & colour_mask. */
static inline uint32_t hm_pfn_colour(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return pfn & ctx->colour_mask;
}

/* PKMAP_ADDR(nr), nr <= LAST_PKMAP: inside the address space (hm_layout_compute checks the
 * window's end). */
static inline hm_vaddr_t hm_pkmap_addr(const struct hm_ctx *ctx, uint32_t nr)
{
    return ctx->layout.pkmap_base + ((hm_vaddr_t)nr << ctx->layout.page_shift);
}

/* Whether flush_all_zero_pkmaps flushes the TLB only when it freed a slot: 2.6.30 and later
 * always, 2.6.24 when its config asks for it (hm_config.need_flush). */
static inline int hm_need_flush(const struct hm_ctx *ctx)
{
    return ctx->cfg.need_flush || ctx->layout.kernel >= HM_KERNEL_2_6_30;
}

/* Whether kmap_high_get exists: ARCH_NEEDS_KMAP_HIGH_GET and a kernel from 2.6.30 on. */
static inline int hm_has_kmap_high_get(const struct hm_ctx *ctx)
{
    return ctx->arch->needs_kmap_high_get && ctx->layout.kernel >= HM_KERNEL_2_6_30;
}

/* kmap_local's task record: task 0 is cpu's idle task, task t > 0 is shared by every CPU.
 * Pre: a 5.11 context, cpu < nr_cpus, task < nr_tasks. */
static inline struct hm_task *hm_task_of(const struct hm_ctx *ctx, uint32_t task, uint32_t cpu)
{
    return &ctx->tasks[task ? ctx->layout.nr_cpus + task - 1u : cpu];
}
/* KM_INCR: 2 under DEBUG_KMAP_LOCAL (debug_highmem), every even position a guard. */
static inline int32_t hm_km_incr(const struct hm_ctx *ctx)
{
    return ctx->layout.km_max_idx == HM_KM_MAX_IDX_DEBUG ? 2 : 1;
}
/* Whether stack position pos is a DEBUG_KMAP_LOCAL guard (never mapped). */
static inline int hm_local_guard(const struct hm_ctx *ctx, uint32_t pos)
{
    return hm_km_incr(ctx) == 2 && !(pos & 1u);
}

/* The validity check every public call makes first. */
static inline int hm_ctx_ok(const struct hm_ctx *ctx)
{
    return ctx && ctx->magic == HM_CTX_MAGIC;
}

/* Inline forms of what the hot paths ask on every call. The hm_core_* services that answer the
 * same questions for arch backends (services.c: is_highmem, lowmem_address, get_pte, pte_none,
 * pte_pfn, mk_pte, in_interrupt) and hm_hash_long32 (page_address.c) are these, out of line. */
static inline int hm_is_highmem(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return pfn >= ctx->layout.highmem_start_pfn && pfn < ctx->layout.max_pfn;
}
/* pfn < highmem_start_pfn: inside the direct map, which ends at high_memory <= 2^va_bits. */
static inline hm_vaddr_t hm_lowmem_address(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return ctx->layout.page_offset + ((hm_vaddr_t)pfn << ctx->layout.page_shift);
}
/* The machine's PTE read and the arch's PTE format (the default: pfn << page_shift | prot). */
static inline hm_pte_t hm_pte_get(const struct hm_ctx *ctx, hm_vaddr_t vaddr)
{
    return ctx->machine.get_pte ? ctx->machine.get_pte(ctx->machine.m, vaddr) : 0;
}
static inline int hm_pte_is_none(const struct hm_ctx *ctx, hm_pte_t pte)
{
    return ctx->arch->pte_none ? ctx->arch->pte_none(pte) : pte == 0;
}
static inline hm_pfn_t hm_pte_page(const struct hm_ctx *ctx, hm_pte_t pte)
{
    return ctx->arch->pte_pfn ? ctx->arch->pte_pfn(pte) : (hm_pfn_t)(pte >> ctx->layout.page_shift);
}
static inline hm_pte_t hm_pte_make(const struct hm_ctx *ctx, hm_pfn_t pfn, hm_pte_t prot)
{
    return ctx->arch->mk_pte ? ctx->arch->mk_pte(pfn, prot) : (((hm_pte_t)pfn << ctx->layout.page_shift) | prot);
}
static inline int hm_in_interrupt(const struct hm_ctx *ctx)
{
    return ctx->machine.in_interrupt ? ctx->machine.in_interrupt(ctx->machine.m) != 0 : 0;
}
/* hash_long() of a 32-bit kernel: multiply by GOLDEN_RATIO_PRIME modulo 2^32, keep the top
 * bits (1..32). Done in uint32_t so a 64-bit host computes the 32-bit kernel's value. */
static inline uint32_t hm_hash32(uint32_t val, unsigned bits)
{
    return (uint32_t)(val * 0x9e370001u) >> (32u - bits);
}
/* page_slot(): the bucket of a page, hashing the address of its struct page in mem_map. That
 * is a 32-bit kernel's pointer, hashed by its 32-bit hash_long: the sum is taken modulo 2^32
 * as that kernel's pointer arithmetic would (sparc's 2^24 frames of 32 bytes do pass 4 GiB). */
static inline uint32_t hm_page_slot(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    uint32_t page_ptr = (uint32_t)(ctx->layout.mem_map + (uint64_t)pfn * ctx->layout.struct_page_size);
    return hm_hash32(page_ptr, HM_PA_HASH_ORDER);
}

/* The embedder's hooks the algorithm calls directly: the event stream and the locks. */
static inline void hm_emit(struct hm_ctx *ctx, int kind, uint32_t cpu, uint64_t a, uint64_t b, hm_pte_t pte)
{
    if (ctx->hooks.on_event) {
        struct hm_event ev = {kind, cpu, a, b, pte};
        ctx->hooks.on_event(ctx->hooks.event_cookie, &ev);
    }
}
static inline void hm_lock(struct hm_ctx *ctx, unsigned id)
{
    if (ctx->machine.lock)
        ctx->machine.lock(ctx->machine.m, id);
}
static inline void hm_unlock(struct hm_ctx *ctx, unsigned id)
{
    if (ctx->machine.unlock)
        ctx->machine.unlock(ctx->machine.m, id);
}

/* The core's files, each calling only files listed above it (no circle):
 *   names.c, layout.c  the public names; hm_layout_compute and the common km_type names
 *   arch_generic.c     the !CONFIG_HIGHMEM backend
 *   bug.c              BUG reports (below)
 *   services.c         the hm_core_* services of highmem_arch.h: hardware actions, pagefault
 *                      depth, atomic slot addresses, PTE format, address arithmetic
 *   page_address.c     the page_address hash and pool
 *   ctx.c              context size, set-up and validity
 *   fast.h, fast.c     HM_LOCKING_FAST's lock-free kmap hit and kunmap
 *   pkmap.c            kmap_high, kmap, kunmap_high and flush_all_zero_pkmaps
 *   inspect.c          read-only views of a context
 *   local.c            kmap_local, kunmap_local, the context switch, 5.11's kmap_atomic
 *   kmap.c, check.c    the public kmap family; hm_check_invariants */

/* bug.c. A BUG found while a lock is held is noted in a struct hm_bug_report by the code that
 * finds it (hm_bug_note, which returns the report's err), and the caller delivers it once
 * every lock is released. Delivery counts it, emits HM_EV_BUG and calls the on_bug hook, and
 * returns the report's err; every BUG report, noted or immediate (hm_core_bug), goes out
 * through hm_bug_deliver. */
int hm_bug_note(struct hm_bug_report *r, int bug, int err, const char *function, uint64_t arg);
int hm_bug_deliver(struct hm_ctx *ctx, const struct hm_bug_report *r);

/* page_address.c. A lookup gives the slot a highmem page's first record points at, or
 * HM_NO_SLOT. hm_page_address_slot takes the bucket lock in HM_LOCKING_KERNEL and none in
 * HM_LOCKING_FAST, where every writer holds kmap_lock and a reader that holds none validates
 * the slot against its word (fast.c); hm_set_page_address likewise takes pool_lock and the
 * bucket lock only in HM_LOCKING_KERNEL. hm_page_address_slot_exact is the kernel's answer in
 * both modes: HM_LOCKING_FAST reads it without a lock, retrying while table_gen moves. */
#define HM_NO_SLOT UINT32_MAX
void hm_page_address_init(struct hm_ctx *ctx);
uint32_t hm_page_address_slot(struct hm_ctx *ctx, hm_pfn_t pfn);
uint32_t hm_page_address_slot_nolock(const struct hm_ctx *ctx, hm_pfn_t pfn);
uint32_t hm_page_address_slot_exact(struct hm_ctx *ctx, hm_pfn_t pfn);
int hm_set_page_address(struct hm_ctx *ctx, hm_pfn_t pfn, uint32_t slot); /* HM_NO_SLOT: remove */

/* fast.c (the hit and kunmap themselves are inline in fast.h): hm_fast_wake, the wake-up after
 * a fast kunmap dropped a count to 1 and saw a waiter of the page's colour;
 * hm_any_slot_reclaimable, whether some slot of the colour has a count of 0 or 1 (a sleeper's
 * re-check, see map_new_virtual; seq_cst loads). */
void hm_fast_wake(struct hm_ctx *ctx, hm_pfn_t pfn);
int hm_any_slot_reclaimable(const struct hm_ctx *ctx, uint32_t colour);

/* pkmap.c: kmap_high and kunmap_high under kmap_lock (fast.h puts the fast mode's attempt
 * without the lock in front of them). */
int hm_kmap_high_locked(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr);
int hm_kunmap_high_locked(struct hm_ctx *ctx, hm_pfn_t pfn);

/* pkmap.c: wake the tasks on pfn's colour's pkmap_map_wait (HM_EV_WAKEUP, then the machine's
 * wake_colour of that colour, or its wake_all without the pair), called without locks once a
 * kunmap has counted the wake-up. */
void hm_wake_waiters(struct hm_ctx *ctx, hm_pfn_t pfn);

/* local.c: kmap_local on a 5.11 context (layout.km_max_idx set), behind kmap.c's argument
 * checks (cpu < nr_cpus, task < nr_tasks, pfn < max_pfn, out pointers non-NULL, an address in
 * the machine's space). No locks.
 *   hm_local_map       __kmap_local_page_prot (map_any 0: a lowmem page is its address) or
 *                      __kmap_local_pfn_prot (map_any 1) on cpu's running task
 *   hm_local_unmap     kunmap_local_indexed
 *   hm_local_switch    the context switch of hm_switch
 *   hm_local_kmap_atomic, hm_local_kunmap_atomic
 *                      5.11's kmap_atomic (pagefault_disable + hm_local_map) and kunmap_atomic
 *                      (hm_local_unmap + pagefault_enable), type already checked and ignored
 *   hm_local_to_page   kmap_to_page of an address in the kmap fixmap, from the stack of the task
 *                      running on its CPU; HM_ERANGE without a report for any other address
 *   hm_local_stack_bad whether a task's kmap_ctrl is malformed: 0, HM_LOCAL_BAD_IDX (idx outside
 *                      0..KM_MAX_IDX-1 or off the KM_INCR step) or HM_LOCAL_BAD_PTEVAL (*pos: a
 *                      none PTE at a mapped position, or a present one at a guard or at or
 *                      above the top) */
#define HM_LOCAL_BAD_IDX 1
#define HM_LOCAL_BAD_PTEVAL 2
int hm_local_map(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_pte_t prot, int map_any,
                 hm_vaddr_t *vaddr);
int hm_local_unmap(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr);
int hm_local_switch(struct hm_ctx *ctx, uint32_t cpu, uint32_t task);
int hm_local_kmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_pte_t prot, int map_any,
                         hm_vaddr_t *vaddr);
int hm_local_kunmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr);
int hm_local_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn);
int hm_local_stack_bad(const struct hm_ctx *ctx, const struct hm_task *t, uint32_t *pos);
/* The kmap fixmap slot of stack position pos on cpu for pfn (the arch's kmap_local_slot, else
 * the uncoloured pos + KM_MAX_IDX * cpu), and how many slots each (cpu, pos) has (the layout's
 * pkmap_colours where the arch colours them, else 1): pfn 0..n-1 name each of them once. */
hm_vaddr_t hm_local_slot(const struct hm_ctx *ctx, uint32_t cpu, uint32_t pos, hm_pfn_t pfn);
uint32_t hm_local_slot_colours(const struct hm_ctx *ctx);


#endif /* HM_INTERNAL_H */
