/* hm_internal.h - the context structure, the hook wrappers and the functions the core's files
 * share. Not part of the public API: embedders and arch backends use highmem.h / highmem_arch.h.
 * SPDX-License-Identifier: MIT */
#ifndef HM_INTERNAL_H
#define HM_INTERNAL_H

#include <stdatomic.h>

#include "highmem_arch.h"

#define HM_CTX_MAGIC 0x686d6b6du /* "hmkm": set by hm_ctx_init */
#define HM_NIL (-1)

/* struct page_address_map: one record per pkmap slot, linked through `next`. */
struct hm_pam {
    hm_pfn_t page;
    hm_vaddr_t virtual;
    int32_t next;
};

/* A singly linked list of records with a tail, for the pool and for each bucket. */
struct hm_list {
    int32_t head, tail;
};

struct hm_cpu_state {
    int32_t pagefault_disabled; /* kmap_atomic nesting (the pagefault-disable depth) */
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
    uint32_t last_pkmap_nr;
    uint32_t nr_waiters;      /* tasks on pkmap_map_wait: waitqueue_active() */
    int32_t *pkmap_count;     /* [last_pkmap] */

    /* the hashed page_address table */
    struct hm_pam *page_address_maps; /* [last_pkmap] */
    struct hm_list page_address_pool;
    struct hm_list page_address_htable[HM_PA_HASH_SIZE];

    struct hm_cpu_state *cpus; /* [nr_cpus] */
    struct hm_stats stats;     /* fields other than the bug counts: updated under kmap_lock */
    /* BUG reports may come from any thread outside every lock: counted atomically (32-bit
     * atomics are lock-free on every 32-bit target we build for; libatomic is not needed). */
    atomic_uint bugs;
    atomic_uint bug_by_kind[HM_BUG__COUNT];
    /* Refused PTE writes: the kmap_atomic family writes outside every lock, so counted
     * atomically as the bugs are. */
    atomic_uint machine_fails;
};

/* PKMAP_ADDR(nr), nr <= LAST_PKMAP: inside the address space (hm_layout_compute checks the
 * window's end). */
static inline hm_vaddr_t hm_pkmap_addr(const struct hm_ctx *ctx, uint32_t nr)
{
    return ctx->layout.pkmap_base + ((hm_vaddr_t)nr << ctx->layout.page_shift);
}
/* PKMAP_NR(vaddr), saturated: an address below PKMAP_BASE, or too far above it for 32 bits,
 * gives UINT32_MAX (never a slot), not the low bits of the distance. */
static inline uint32_t hm_pkmap_nr(const struct hm_ctx *ctx, hm_vaddr_t vaddr)
{
    uint64_t nr;
    if (vaddr < ctx->layout.pkmap_base)
        return UINT32_MAX;
    nr = ((uint64_t)vaddr - ctx->layout.pkmap_base) >> ctx->layout.page_shift;
    return nr > UINT32_MAX ? UINT32_MAX : (uint32_t)nr;
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
 *   pkmap.c            kmap_high, kmap, kunmap_high and flush_all_zero_pkmaps
 *   inspect.c          read-only views of a context
 *   kmap.c, check.c    the public kmap family; hm_check_invariants */

/* bug.c. A BUG found while a lock is held is noted in a struct hm_bug_report by the code that
 * finds it (hm_bug_note, which returns the report's err), and the caller delivers it once
 * every lock is released. Delivery counts it, emits HM_EV_BUG and calls the on_bug hook, and
 * returns the report's err; every BUG report, noted or immediate (hm_core_bug), goes out
 * through hm_bug_deliver. */
int hm_bug_note(struct hm_bug_report *r, int bug, int err, const char *function, uint64_t arg);
int hm_bug_deliver(struct hm_ctx *ctx, const struct hm_bug_report *r);

/* page_address.c */
void hm_page_address_init(struct hm_ctx *ctx);
hm_vaddr_t hm_page_address_locked(struct hm_ctx *ctx, hm_pfn_t pfn); /* hashed lookup, bucket lock */
int hm_set_page_address(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t virtual);
uint32_t hm_page_slot(const struct hm_ctx *ctx, hm_pfn_t pfn);

/* ctx.c */
int hm_ctx_ok(const struct hm_ctx *ctx);

#endif /* HM_INTERNAL_H */
