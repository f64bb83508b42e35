/* pkmap.c - the persistent kmap machinery of mm/highmem.c (2.6.24 semantics):
 * flush_all_zero_pkmaps, kmap_flush_unused, map_new_virtual, kmap_high, kmap, kunmap_high.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

/* flush_all_zero_pkmaps(). Caller holds kmap_lock. The cache-flush hook runs first, even when
 * nothing will be freed; every count-1 slot is torn down in ascending order (count 0, PTE
 * cleared at the page's address read before it is unhashed, association removed); then one
 * TLB flush of the whole window (2.6.24: always; need_flush: only if a slot was freed).
 * A count-1 slot whose PTE is none is the kernel's BUG: it is detected before anything is
 * changed, so the state stays as it was, and noted in *bug with bug_arg (the pfn being mapped,
 * or 0) for the caller to deliver outside kmap_lock. A slot whose clear the machine refuses
 * is kept as it was (count 1, mapped, hashed) and the others are torn down as usual.
 * Returns HM_OK, HM_EMACHINE (some slot kept), or the BUG's error. */
static int hm_flush_all_zero_pkmaps(struct hm_ctx *ctx, uint32_t bug_arg, struct hm_bug_report *bug)
{
    uint32_t i, freed = 0, kept = 0;

    for (i = 0; i < ctx->last_pkmap; i++)
        if (ctx->pkmap_count[i] == 1 && hm_core_pte_none(ctx, hm_core_get_pte(ctx, hm_pkmap_addr(ctx, i))))
            return hm_bug_note(bug, HM_BUG_FLUSH_PTE_NONE, HM_EFAULT, "flush_all_zero_pkmaps", bug_arg);

    hm_emit(ctx, HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_CPU_ALL, 0, 0, 0);
    if (ctx->arch->flush_cache_kmaps)
        ctx->arch->flush_cache_kmaps(ctx);

    for (i = 0; i < ctx->last_pkmap; i++) {
        hm_pfn_t page;
        hm_vaddr_t addr;

        if (ctx->pkmap_count[i] != 1)
            continue;
        ctx->pkmap_count[i] = 0;
        page = hm_core_pte_pfn(ctx, hm_core_get_pte(ctx, hm_pkmap_addr(ctx, i)));
        addr = hm_page_address_locked(ctx, page);
        if (addr == 0) /* cannot happen while I3 holds; clear the slot's own PTE then */
            addr = hm_pkmap_addr(ctx, i);
        if (hm_core_pte_clear(ctx, addr) != HM_OK) {
            ctx->pkmap_count[i] = 1; /* still mapped: the slot stays in use at count 1 */
            kept++;
            continue;
        }
        hm_set_page_address(ctx, page, 0);
        freed++;
    }

    if (!ctx->cfg.need_flush || freed)
        hm_core_flush_tlb_range(ctx, hm_pkmap_addr(ctx, 0), hm_pkmap_addr(ctx, ctx->last_pkmap));
    hm_emit(ctx, HM_EV_FLUSH_DONE, HM_CPU_ALL, freed, 0, 0);
    ctx->stats.flushes++;
    ctx->stats.slots_freed += freed;
    return kept ? HM_EMACHINE : HM_OK;
}

int hm_kmap_flush_unused(struct hm_ctx *ctx)
{
    struct hm_bug_report bug = {0};
    int err;

    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if (ctx->last_pkmap == 0)
        return HM_OK; /* !CONFIG_HIGHMEM: a no-op */
    hm_lock(ctx, HM_LOCK_KMAP);
    err = hm_flush_all_zero_pkmaps(ctx, 0, &bug);
    hm_unlock(ctx, HM_LOCK_KMAP);
    return bug.bug != HM_BUG_NONE ? hm_bug_deliver(ctx, &bug) : err;
}

/* map_new_virtual(). Caller holds kmap_lock and found page_address(pfn) == NULL.
 * Returns HM_OK with *out set, HM_EAGAIN where the kernel would sleep and may not, HM_EMACHINE
 * (the machine refused the new PTE: the slot stays free; or the wrap's flush kept slots it could
 * not clear and none is free), or the error of a BUG, noted in *bug (with pfn as its arg) for
 * the caller to deliver after unlocking. */
static int map_new_virtual(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *out,
                           struct hm_bug_report *bug)
{
    uint32_t count;
    hm_vaddr_t vaddr;
    int err, kept = 0;

start:
    count = ctx->last_pkmap;
    for (;;) {
        ctx->last_pkmap_nr = (ctx->last_pkmap_nr + 1) & ctx->last_pkmap_mask;
        if (ctx->last_pkmap_nr == 0) {
            err = hm_flush_all_zero_pkmaps(ctx, pfn, bug);
            if (err != HM_OK && err != HM_EMACHINE)
                return err;
            kept = err == HM_EMACHINE; /* of this pass's flush: the budget restarts with it */
            count = ctx->last_pkmap;
        }
        if (ctx->pkmap_count[ctx->last_pkmap_nr] == 0)
            break; /* found a usable entry */
        if (--count)
            continue;

        /* Every slot is in use. If this pass's flush could not clear some count-1 slot, no
         * kunmap may ever free it: give up rather than sleep for ever. */
        if (kept)
            return HM_EMACHINE;
        /* Sleep on pkmap_map_wait, or give up. */
        if (!may_sleep || !ctx->machine.sleep) {
            ctx->stats.kmap_eagain++;
            return HM_EAGAIN;
        }
        ctx->nr_waiters++;
        ctx->stats.sleeps++;
        hm_emit(ctx, HM_EV_SLEEP, HM_CPU_ALL, pfn, 0, 0);
        ctx->machine.sleep(ctx->machine.m); /* drops and re-takes kmap_lock */
        ctx->nr_waiters--;

        /* Somebody else might have mapped it while we slept. */
        vaddr = hm_page_address_locked(ctx, pfn);
        if (vaddr) {
            ctx->stats.kmap_hits++;
            *out = vaddr;
            return HM_OK;
        }
        goto start; /* re-start the scan; last_pkmap_nr is not reset */
    }

    vaddr = hm_pkmap_addr(ctx, ctx->last_pkmap_nr);
    if (ctx->page_address_pool.head == HM_NIL) /* set_page_address would BUG: change nothing */
        return hm_bug_note(bug, HM_BUG_POOL_EMPTY, HM_EINVAL, "set_page_address", pfn);
    if (hm_core_set_pte(ctx, vaddr, hm_core_mk_pte(ctx, pfn, ctx->arch->kmap_prot)) != HM_OK)
        return HM_EMACHINE; /* the slot stays free: count 0, PTE none, nothing hashed */
    ctx->pkmap_count[ctx->last_pkmap_nr] = 1;
    hm_set_page_address(ctx, pfn, vaddr);
    ctx->stats.kmap_new++;
    *out = vaddr;
    return HM_OK;
}

/* kmap_high(). pfn is a valid highmem page. A BUG found under kmap_lock (here or in
 * map_new_virtual) is delivered after the lock is released. */
int hm_core_kmap_high(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr)
{
    struct hm_bug_report bug = {0};
    hm_vaddr_t v;
    uint32_t nr;
    int err = HM_OK;

    hm_lock(ctx, HM_LOCK_KMAP);
    v = hm_page_address_locked(ctx, pfn);
    if (!v) {
        err = map_new_virtual(ctx, pfn, may_sleep, &v, &bug);
    } else {
        ctx->stats.kmap_hits++;
        nr = hm_pkmap_nr(ctx, v);
        if (nr < ctx->last_pkmap && ctx->pkmap_count[nr] == 1)
            ctx->stats.kmap_reuse_count1++;
    }
    if (err == HM_OK) {
        nr = hm_pkmap_nr(ctx, v);
        if (nr >= ctx->last_pkmap || ctx->pkmap_count[nr] < 1) {
            /* the count would be < 2 after the increment */
            err = hm_bug_note(&bug, HM_BUG_KMAP_COUNT, HM_EINVAL, "kmap_high", pfn);
        } else {
            ctx->pkmap_count[nr]++;
        }
    }
    if (err != HM_EMACHINE) /* a refused call counts only in machine_fails */
        ctx->stats.kmap_calls++;
    hm_unlock(ctx, HM_LOCK_KMAP);

    if (bug.bug != HM_BUG_NONE)
        return hm_bug_deliver(ctx, &bug);
    if (err == HM_OK)
        *vaddr = v;
    return err;
}

/* kmap() of the x86 and ppc fronts after might_sleep(): a lowmem page's direct-map address,
 * a highmem page through kmap_high. */
int hm_core_kmap(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr)
{
    if (!hm_core_is_highmem(ctx, pfn)) {
        *vaddr = hm_core_lowmem_address(ctx, pfn);
        return HM_OK;
    }
    return hm_core_kmap_high(ctx, pfn, may_sleep, vaddr);
}

/* kunmap_high(). pfn is a valid highmem page. The PTE stays (lazy unmap); the waiters are
 * woken, outside the lock, only when the count drops to exactly 1 and somebody waits. The
 * BUG cases (page not mapped, count would reach 0) change nothing. */
int hm_core_kunmap_high(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    hm_vaddr_t v;
    uint32_t nr;
    int need_wakeup = 0;

    hm_lock(ctx, HM_LOCK_KMAP);
    v = hm_page_address_locked(ctx, pfn);
    if (!v) {
        hm_unlock(ctx, HM_LOCK_KMAP);
        return hm_core_bug(ctx, HM_BUG_KUNMAP_UNMAPPED, HM_EINVAL, "kunmap_high", pfn);
    }
    nr = hm_pkmap_nr(ctx, v);
    if (nr >= ctx->last_pkmap || ctx->pkmap_count[nr] <= 1) {
        /* case 0 of the kernel's switch: BUG, and we stop (no fall-through into case 1) */
        hm_unlock(ctx, HM_LOCK_KMAP);
        return hm_core_bug(ctx, HM_BUG_KUNMAP_ZERO, HM_EINVAL, "kunmap_high", pfn);
    }
    ctx->stats.kunmap_calls++;
    if (--ctx->pkmap_count[nr] == 1) {
        /* waitqueue_active(): safe without the queue lock, waiters come and go under kmap_lock */
        need_wakeup = ctx->nr_waiters > 0;
        if (need_wakeup)
            ctx->stats.wakeups++;
    }
    hm_unlock(ctx, HM_LOCK_KMAP);

    if (need_wakeup) {
        hm_emit(ctx, HM_EV_WAKEUP, HM_CPU_ALL, pfn, 0, 0);
        if (ctx->machine.wake_all)
            ctx->machine.wake_all(ctx->machine.m);
    }
    return HM_OK;
}
