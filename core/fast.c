/* fast.c - the out-of-line parts of HM_LOCKING_FAST (the hit and the kunmap are inline in
 * fast.h): the wake-up after a fast kunmap, and the sleeper's re-check. SPDX-License-Identifier: MIT */
#include "fast.h"

/* After a fast kunmap dropped a count to 1 and saw a waiter of the page's colour (fast.h). The
 * wake-up takes kmap_lock first, which the waiter holds until its sleep() (sleep_colour) has
 * registered, so the wake_all (wake_colour) cannot come before the sleep it is meant for. */
void hm_fast_wake(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    hm_lock(ctx, HM_LOCK_KMAP);
    HM_ADD64(&ctx->stats.wakeups, 1);
    hm_unlock(ctx, HM_LOCK_KMAP);
    hm_wake_waiters(ctx, pfn);
}

int hm_any_slot_reclaimable(const struct hm_ctx *ctx, uint32_t colour)
{
    for (uint32_t i = colour; i < ctx->last_pkmap; i += ctx->colour_mask + 1u)
        if (hm_word_count(HM_LOAD64_SEQ(&hm_slot(ctx, i)->word)) <= 1)
            return 1;
    return 0;
}
