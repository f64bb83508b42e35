/* fast.h - HM_LOCKING_FAST's kmap hit and kunmap, which take no lock, inlined into the public
 * calls: a hint table gives a candidate slot, and a compare-and-swap on the slot's word (page,
 * count) both validates and counts. docs/design.md has the argument.
 * SPDX-License-Identifier: MIT */
#ifndef HM_FAST_H
#define HM_FAST_H

#include "hm_internal.h"

/* The slot the hint table names for pfn, or NULL. The hint is the slot map_new_virtual (or a
 * locked hit) last gave a page with the same low pfn bits, so it may name another page's slot
 * or a slot since recycled: the callers' compare-and-swap checks the word's page, which
 * map_new_virtual set before it published the slot and which cannot change while the count
 * stays above 0. A page whose hint was overwritten takes the locked path, which walks the
 * kernel's page_address table. */
static inline struct hm_slot *hm_fast_find(const struct hm_ctx *ctx, hm_pfn_t pfn, uint32_t *nr)
{
    *nr = HM_LOAD(&ctx->hint[pfn & ctx->hint_mask]);
    return *nr < ctx->last_pkmap ? hm_slot(ctx, *nr) : 0;
}

/* Move the count of the slot the hint names for pfn by delta (hm_slot_move, the word matching
 * pfn). Returns the slot, with its number in *nr and the word before the change in *old, or
 * NULL when the locked path must run. */
static inline struct hm_slot *hm_fast_move(struct hm_ctx *ctx, hm_pfn_t pfn, int32_t min, int delta,
                                           uint32_t *nr, uint64_t *old)
{
    struct hm_slot *s = hm_fast_find(ctx, pfn, nr);
    return s && hm_slot_move(s, 1, pfn, min, delta, old) ? s : 0;
}

/* kmap_high's hit, pfn a highmem page: raise a count of 1 or more on the slot that maps pfn.
 * Returns 1 when done, 0 when the locked path must run. A count of 0 means the slot is free or
 * being torn down by flush_all_zero_pkmaps (which claims count-1 slots with a compare-and-swap):
 * the locked path then waits for that flush and maps the page anew. */
static inline int hm_fast_kmap(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    uint32_t nr;
    uint64_t w;
    struct hm_slot *s = hm_fast_move(ctx, pfn, 1, +1, &nr, &w);

    if (!s)
        return 0;
    HM_ADD64(&s->hits, 1);
    if (hm_word_count(w) == 1)
        HM_ADD64(&s->reuse1, 1);
    *vaddr = hm_pkmap_addr(ctx, nr);
    return 1;
}

/* kunmap_high, pfn a highmem page: drop a count of 2 or more on the slot that maps pfn.
 * Returns 1 when done, 0 when the locked path must run: the page not found, a count of 1 or 0
 * (the kernel's BUGs, which that path reports). A drop to 1 with a waiter of the page's colour
 * calls hm_fast_wake. */
static inline int hm_fast_kunmap(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    uint32_t nr;
    uint64_t w;
    struct hm_slot *s = hm_fast_move(ctx, pfn, 2, -1, &nr, &w);

    if (!s)
        return 0;
    HM_ADD64(&s->kunmaps, 1);
    /* The CAS and this load are seq_cst, as are a sleeper's increment of its colour's
     * nr_waiters and its re-check of that colour's counts (pkmap.c map_new_virtual): in their
     * single total order either this load sees the waiter or the re-check sees this count of
     * 1. The slot's colour is the page's (map_new_virtual gives a page only its colour's). */
    if (hm_word_count(w) == 2 && HM_LOAD_SEQ(&ctx->colour[hm_pfn_colour(ctx, pfn)].nr_waiters) > 0)
        hm_fast_wake(ctx, pfn);
    return 1;
}

/* kmap_high, kmap (the x86 / ppc default: a lowmem page's direct-map address) and kunmap_high:
 * the hit or kunmap without the lock when HM_LOCKING_FAST runs, else the locked path (pkmap.c).
 * pfn < max_pfn; the public calls (kmap.c) and the hm_core_* services (pkmap.c) use these. */
static inline int hm_kmap_high(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr)
{
    if (ctx->fast && hm_fast_kmap(ctx, pfn, vaddr))
        return HM_OK;
    return hm_kmap_high_locked(ctx, pfn, may_sleep, vaddr);
}
static inline int hm_kmap_default(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr)
{
    if (!hm_is_highmem(ctx, pfn)) {
        *vaddr = hm_lowmem_address(ctx, pfn);
        return HM_OK;
    }
    return hm_kmap_high(ctx, pfn, may_sleep, vaddr);
}
static inline int hm_kunmap_high(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    if (ctx->fast && hm_fast_kunmap(ctx, pfn))
        return HM_OK;
    return hm_kunmap_high_locked(ctx, pfn);
}

#endif /* HM_FAST_H */
