/* fast.c - HM_LOCKING_FAST: a kmap of a page that already has a pkmap slot, and a kunmap, with
 * no lock: the lock-free page_address lookup gives a candidate slot, and a compare-and-swap on
 * the slot's word (page, count) both validates and counts. docs/design.md has the argument.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

/* The slot the lock-free lookup names for pfn, or NULL. The answer may be stale: the callers'
 * compare-and-swap checks the word's page, which map_new_virtual set before the slot was
 * published, and which cannot change while the count stays above 0. */
static struct hm_slot *find_slot(const struct hm_ctx *ctx, hm_pfn_t pfn, uint32_t *nr)
{
    *nr = hm_page_address_slot_nolock(ctx, pfn);
    return *nr < ctx->last_pkmap ? hm_slot(ctx, *nr) : 0;
}

/* kmap_high's hit: raise a count of 1 or more on the slot that maps pfn. A count of 0 means the
 * slot is free or being torn down by flush_all_zero_pkmaps (which claims count-1 slots with a
 * compare-and-swap): the locked path then waits for that flush and maps the page anew. */
int hm_fast_kmap(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    uint32_t nr;
    struct hm_slot *s = find_slot(ctx, pfn, &nr);
    uint64_t w;

    if (!s)
        return 0;
    w = HM_LOAD64(&s->word);
    do {
        if (hm_word_page(w) != pfn || hm_word_count(w) < 1 || hm_word_count(w) == INT32_MAX)
            return 0;
    } while (!HM_CAS64(&s->word, &w, w + 1u));
    HM_ADD64(&s->hits, 1);
    if (hm_word_count(w) == 1)
        HM_ADD64(&s->reuse1, 1);
    *vaddr = hm_pkmap_addr(ctx, nr);
    return 1;
}

/* kunmap_high: drop a count of 2 or more on the slot that maps pfn. Anything else (the page not
 * found, a count of 1 or 0: the kernel's BUGs) is left to the locked path, which reports it.
 * A drop to 1 wakes the waiters: after the seq_cst fence, either this thread sees a waiter that
 * map_new_virtual counted, or that task's re-check (after its own fence) sees this count of 1.
 * The wake-up takes kmap_lock first, which the waiter holds until its sleep() has registered,
 * so the wake_all cannot come before the sleep it is meant for. */
int hm_fast_kunmap(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    uint32_t nr;
    struct hm_slot *s = find_slot(ctx, pfn, &nr);
    uint64_t w;

    if (!s)
        return 0;
    w = HM_LOAD64(&s->word);
    do {
        if (hm_word_page(w) != pfn || hm_word_count(w) < 2)
            return 0;
    } while (!HM_CAS64(&s->word, &w, w - 1u));
    HM_ADD64(&s->kunmaps, 1);
    if (hm_word_count(w) == 2) {
        HM_FENCE();
        if (HM_LOAD(&ctx->nr_waiters) > 0) {
            hm_lock(ctx, HM_LOCK_KMAP);
            HM_ADD64(&ctx->stats.wakeups, 1);
            hm_unlock(ctx, HM_LOCK_KMAP);
            hm_wake_waiters(ctx, pfn);
        }
    }
    return 1;
}

int hm_any_slot_reclaimable(const struct hm_ctx *ctx)
{
    for (uint32_t i = 0; i < ctx->last_pkmap; i++)
        if (hm_slot_count(ctx, i) <= 1)
            return 1;
    return 0;
}
