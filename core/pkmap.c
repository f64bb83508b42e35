/* pkmap.c - the persistent kmap machinery of mm/highmem.c (2.6.24 semantics, with 3.17's colour
 * hooks): flush_all_zero_pkmaps, kmap_flush_unused, map_new_virtual, kmap_high, kmap, kunmap_high,
 * and 2.6.30's kmap_high_get.
 * SPDX-License-Identifier: MIT */
#include "fast.h"

/* A flush that read another page from slot i's PTE than the slot was given (only a corrupted
 * PTE does that) has unhashed that page from its own slot nr, which keeps its count, as in the
 * kernel. The word's page then names no page, so that no kmap or kunmap without the lock
 * finds the page there: they take the locked path and see what the kernel's table says. */
static void forget_page(struct hm_ctx *ctx, uint32_t nr)
{
    struct hm_slot *s = hm_slot(ctx, nr);
    uint64_t w = HM_LOAD64(&s->word);
    while (!HM_CAS64(&s->word, &w, HM_WORD(HM_NO_PAGE, hm_word_count(w))))
        ;
}

/* flush_all_zero_pkmaps(). Caller holds kmap_lock. The cache-flush hook runs first, even when
 * nothing will be freed; every count-1 slot is torn down in ascending order (count 0, PTE
 * cleared at the page's address read before it is unhashed, association removed); then one
 * TLB flush of the whole window (2.6.24: always; need_flush and 2.6.30 on: only if a slot
 * was freed).
 * The count-1 slots are claimed before the cache flush, torn down after it: a fast kunmap takes
 * no lock and may drop a count to 1 at any moment, and a slot it dropped after the cache flush
 * must not be freed by this run, or the stores made through it before that kunmap would stay in
 * a virtually indexed cache under the address the slot's next page gets (the kernel's kunmap
 * waits for kmap_lock, so there both orders free the same slots). Claims make no event: the
 * events are the kernel's, in its order.
 * A count-1 slot whose PTE is none is the kernel's BUG: it is detected before anything is
 * changed, so the state stays as it was, and noted in *bug with bug_arg (the pfn being mapped,
 * or 0) for the caller to deliver outside kmap_lock. A slot whose clear the machine refuses
 * is kept as it was (count 1, mapped, hashed) and the others are torn down as usual.
 * Returns HM_OK, HM_EMACHINE (some slot kept), or the BUG's error. */
static int hm_flush_all_zero_pkmaps(struct hm_ctx *ctx, uint32_t bug_arg, struct hm_bug_report *bug)
{
    uint32_t i, freed = 0, kept = 0;

    for (i = 0; i < ctx->last_pkmap; i++)
        if (hm_slot_count(ctx, i) == 1 && hm_pte_is_none(ctx, hm_pte_get(ctx, hm_pkmap_addr(ctx, i))))
            return hm_bug_note(bug, HM_BUG_FLUSH_PTE_NONE, HM_EFAULT, "flush_all_zero_pkmaps", bug_arg);

    hm_emit(ctx, HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_CPU_ALL, 0, 0, 0);
    /* Claim the count-1 slots with a compare-and-swap: a fast kmap that has just raised the
     * count (or raises it now) keeps the slot, and no kmap or kunmap moves a claimed count. */
    for (i = 0; i < ctx->last_pkmap; i++) {
        struct hm_slot *s = hm_slot(ctx, i);
        uint64_t w = HM_LOAD64(&s->word);
        if (hm_word_count(w) == 1)
            (void)HM_CAS64(&s->word, &w, HM_WORD(hm_word_page(w), HM_COUNT_CLAIMED));
    }
    if (ctx->arch->flush_cache_kmaps)
        ctx->arch->flush_cache_kmaps(ctx);

    for (i = 0; i < ctx->last_pkmap; i++) {
        struct hm_slot *s = hm_slot(ctx, i);
        uint64_t w = HM_LOAD64(&s->word);
        hm_pfn_t page;
        uint32_t nr;

        if (hm_word_count(w) != HM_COUNT_CLAIMED)
            continue;
        page = hm_pte_page(ctx, hm_pte_get(ctx, hm_pkmap_addr(ctx, i)));
        nr = hm_page_address_slot(ctx, page);
        if (nr >= ctx->last_pkmap) /* cannot happen while I3 holds; clear the slot's own PTE then */
            nr = i;
        if (hm_core_pte_clear(ctx, hm_pkmap_addr(ctx, nr)) != HM_OK) {
            /* still mapped: the slot stays in use at count 1 */
            HM_STORE64_RELEASE(&s->word, HM_WORD(hm_word_page(w), 1));
            kept++;
            continue;
        }
        HM_STORE64_RELEASE(&s->word, HM_WORD(hm_word_page(w), 0));
        hm_set_page_address(ctx, page, HM_NO_SLOT);
        if (nr != i)
            forget_page(ctx, nr);
        freed++;
    }

    if (!hm_need_flush(ctx) || freed)
        hm_core_flush_tlb_range(ctx, hm_pkmap_addr(ctx, 0), hm_pkmap_addr(ctx, ctx->last_pkmap));
    hm_emit(ctx, HM_EV_FLUSH_DONE, HM_CPU_ALL, freed, 0, 0);
    HM_ADD64(&ctx->stats.flushes, 1);
    HM_ADD64(&ctx->stats.slots_freed, freed);
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

/* The colour hooks of spec §10.3, derived from DCACHE_N_COLORS = colour_mask + 1 (1 when
 * uncoloured, where each is the kernel's default): get_pkmap_color is hm_pfn_colour;
 * get_next_pkmap_nr(c) steps the colour's cursor by DCACHE_N_COLORS modulo LAST_PKMAP, which
 * keeps its colour (the low bits); no_more_pkmaps(nr, c) is nr < DCACHE_N_COLORS, i.e. the
 * colour's scan wrapped to its first slot c (nr == 0 uncoloured); get_pkmap_entries_count(c) is
 * LAST_PKMAP / DCACHE_N_COLORS; get_pkmap_wait_queue_head(c) is the colour's waiter count. */
static uint32_t get_next_pkmap_nr(struct hm_ctx *ctx, struct hm_colour *col)
{
    uint32_t nr = (col->last_pkmap_nr + ctx->colour_mask + 1u) & ctx->last_pkmap_mask;
    HM_STORE(&col->last_pkmap_nr, nr);
    return nr;
}
static int no_more_pkmaps(const struct hm_ctx *ctx, uint32_t nr)
{
    return nr <= ctx->colour_mask;
}
static uint32_t get_pkmap_entries_count(const struct hm_ctx *ctx)
{
    return ctx->last_pkmap / (ctx->colour_mask + 1u);
}

/* get_pkmap_wait_queue_head(c) on the machine: whether it has a queue per colour (both hooks of
 * the pair, highmem.h struct hm_machine), else its one queue (sleep / wake_all) serves every
 * colour. Decided from the context's copy of the machine, so a sleeper and its waker agree. */
static int hm_wait_per_colour(const struct hm_ctx *ctx)
{
    return ctx->machine.sleep_colour && ctx->machine.wake_colour;
}

/* map_new_virtual(). Caller holds kmap_lock and found page_address(pfn) == NULL. The page gets
 * a slot of its own colour, found by its colour's scan (all slots when uncoloured).
 * Returns HM_OK with *slot set (*hit: the page was mapped by somebody else while this task
 * slept), HM_EAGAIN where the kernel would sleep and may not, HM_EMACHINE (the machine refused
 * the new PTE: the slot stays free; or the wrap's flush kept slots it could not clear and none
 * is free), or the error of a BUG, noted in *bug (with pfn as its arg) for the caller to deliver
 * after unlocking. */
static int map_new_virtual(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, uint32_t *slot, int *hit,
                           struct hm_bug_report *bug)
{
    uint32_t count, nr, colour = hm_pfn_colour(ctx, pfn);
    struct hm_colour *col = &ctx->colour[colour];
    hm_vaddr_t vaddr;
    int err, kept = 0;

start:
    count = get_pkmap_entries_count(ctx);
    for (;;) {
        nr = get_next_pkmap_nr(ctx, col);
        if (no_more_pkmaps(ctx, nr)) {
            err = hm_flush_all_zero_pkmaps(ctx, pfn, bug); /* over every slot, of every colour */
            if (err != HM_OK && err != HM_EMACHINE)
                return err;
            kept = err == HM_EMACHINE; /* of this pass's flush: the budget restarts with it */
            count = get_pkmap_entries_count(ctx);
        }
        if (hm_slot_count(ctx, nr) == 0)
            break; /* found a usable entry */
        if (--count)
            continue;

        /* Every slot is in use. If this pass's flush could not clear some count-1 slot, no
         * kunmap may ever free it: give up rather than sleep for ever. */
        if (kept)
            return HM_EMACHINE;
        /* Sleep on pkmap_map_wait, or give up. */
        if (!may_sleep || !(ctx->machine.sleep || hm_wait_per_colour(ctx))) {
            HM_ADD64(&ctx->stats.kmap_eagain, 1);
            return HM_EAGAIN;
        }
        /* Counted on the queue of the page's colour: only a kunmap of that colour wakes it. */
        (void)HM_RMW_ADD(&col->nr_waiters, 1u);
        /* HM_LOCKING_FAST: a kunmap holding no lock may have dropped a count of this colour to
         * 1 after the scan passed its slot, and seen no waiter. Now that this task is counted
         * (seq_cst), either its re-check of this colour's slots (seq_cst loads) sees that
         * count or that kunmap sees the waiter (fast.h), and wakes it only after taking
         * kmap_lock, which this task holds until sleep() has registered. With kmap_lock around
         * every kunmap no slot is found here. */
        if (ctx->fast) {
            if (hm_any_slot_reclaimable(ctx, colour)) {
                (void)HM_RMW_ADD(&col->nr_waiters, (uint32_t)-1);
                goto start;
            }
        }
        HM_ADD64(&ctx->stats.sleeps, 1);
        hm_emit(ctx, HM_EV_SLEEP, HM_CPU_ALL, pfn, 0, 0);
        /* drops and re-takes kmap_lock. On the colour's own queue when the machine has one per
         * colour; on its one queue otherwise, where a wake-up meant for another colour returns
         * here too, as a spurious one: the re-check and rescan below then find nothing of this
         * colour and sleep again (docs/design.md, PKMAP colours). */
        if (hm_wait_per_colour(ctx))
            ctx->machine.sleep_colour(ctx->machine.m, colour);
        else
            ctx->machine.sleep(ctx->machine.m);
        (void)HM_RMW_ADD(&col->nr_waiters, (uint32_t)-1);

        /* Somebody else might have mapped it while we slept. */
        nr = hm_page_address_slot(ctx, pfn);
        if (nr != HM_NO_SLOT) {
            *hit = 1;
            *slot = nr;
            return HM_OK;
        }
        goto start; /* re-start the scan; last_pkmap_nr is not reset */
    }

    vaddr = hm_pkmap_addr(ctx, nr);
    if (ctx->page_address_pool.head == HM_NIL) /* set_page_address would BUG: change nothing */
        return hm_bug_note(bug, HM_BUG_POOL_EMPTY, HM_EINVAL, "set_page_address", pfn);
    if (hm_core_set_pte(ctx, vaddr, hm_pte_make(ctx, pfn, ctx->arch->kmap_prot)) != HM_OK)
        return HM_EMACHINE; /* the slot stays free: count 0, PTE none, nothing hashed */
    /* Published after the PTE: a fast kmap that finds the page and raises this count
     * (acquire) then sees the mapping. */
    HM_STORE64_RELEASE(&hm_slot(ctx, nr)->word, HM_WORD(pfn, 1));
    hm_set_page_address(ctx, pfn, nr);
    if (ctx->fast)
        HM_STORE(&ctx->hint[pfn & ctx->hint_mask], nr);
    HM_ADD64(&ctx->stats.kmap_new, 1);
    *slot = nr;
    return HM_OK;
}

/* The increment of kmap_high and of kmap_high_get, under kmap_lock: raise the count of slot nr,
 * which the page_address table gives pfn, when it is at least 1. The increment races only with
 * fast kmaps and kunmaps, which keep a count >= 1 (flush_all_zero_pkmaps runs under the lock).
 * Returns 1 when raised, with the word before the move in *old; 0 when the count is below 1 or
 * nr lies outside the window (a corrupted table): the caller's BUG, nothing changed. */
static int pin_locked(struct hm_ctx *ctx, hm_pfn_t pfn, uint32_t nr, uint64_t *old)
{
    struct hm_slot *s = nr < ctx->last_pkmap ? hm_slot(ctx, nr) : 0;
    if (!s || !hm_slot_move(s, 0, pfn, 1, +1, old))
        return 0;
    if (ctx->fast)
        HM_STORE(&ctx->hint[pfn & ctx->hint_mask], nr); /* the next hit of pfn needs no lock */
    return 1;
}

/* kmap_high() under kmap_lock: HM_LOCKING_KERNEL's whole call, and what HM_LOCKING_FAST's hit
 * (fast.h hm_kmap_high) leaves. pfn is a valid highmem page. A BUG found under kmap_lock (here
 * or in map_new_virtual) is delivered after the lock is released. */
int hm_kmap_high_locked(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr)
{
    struct hm_bug_report bug = {0};
    uint32_t nr;
    int err = HM_OK, hit = 0;

    hm_lock(ctx, HM_LOCK_KMAP);
    nr = hm_page_address_slot(ctx, pfn);
    if (nr == HM_NO_SLOT)
        err = map_new_virtual(ctx, pfn, may_sleep, &nr, &hit, &bug);
    else
        hit = 2; /* found at once: a count of 1 is a reuse */
    if (err == HM_OK) {
        /* A count that would end below 2 is the kernel's BUG. */
        uint64_t w = 0;
        int moved = pin_locked(ctx, pfn, nr, &w);
        if (nr < ctx->last_pkmap && hit) {
            struct hm_slot *s = hm_slot(ctx, nr);
            HM_ADD64(&s->hits, 1);
            if (hit == 2 && hm_word_count(w) == 1)
                HM_ADD64(&s->reuse1, 1);
        }
        if (!moved)
            err = hm_bug_note(&bug, HM_BUG_KMAP_COUNT, HM_EINVAL, "kmap_high", pfn);
    }
    if (err != HM_EMACHINE && !hit) /* a refused call counts only in machine_fails; hits per slot */
        HM_ADD64(&ctx->stats.kmap_calls, 1);
    hm_unlock(ctx, HM_LOCK_KMAP);

    if (bug.bug != HM_BUG_NONE)
        return hm_bug_deliver(ctx, &bug);
    if (err == HM_OK)
        *vaddr = hm_pkmap_addr(ctx, nr);
    return err;
}

/* kmap_high_get(): pfn is a valid highmem page. HM_LOCKING_FAST first raises the count of the
 * slot its hint names, as a kmap hit does (a count of 0, a slot being torn down by a flush, is
 * never raised: hm_slot_move); otherwise, and in HM_LOCKING_KERNEL, under kmap_lock: the page's
 * slot, if it has one, gets one more reference unless its count is below 1 (the BUG, checked
 * before the increment, unlike kmap_high's). Never sleeps, never maps a slot. */
int hm_core_kmap_high_get(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    struct hm_bug_report bug = {0};
    uint64_t w;
    uint32_t nr;

    if (ctx->fast && hm_fast_move(ctx, pfn, 1, +1, &nr, &w)) {
        *vaddr = hm_pkmap_addr(ctx, nr);
        return HM_OK;
    }
    hm_lock(ctx, HM_LOCK_KMAP);
    nr = hm_page_address_slot(ctx, pfn);
    if (nr != HM_NO_SLOT && !pin_locked(ctx, pfn, nr, &w))
        hm_bug_note(&bug, HM_BUG_KMAP_HIGH_GET_COUNT, HM_EINVAL, "kmap_high_get", pfn);
    hm_unlock(ctx, HM_LOCK_KMAP);
    if (bug.bug != HM_BUG_NONE)
        return hm_bug_deliver(ctx, &bug);
    *vaddr = nr == HM_NO_SLOT ? 0 : hm_pkmap_addr(ctx, nr);
    return HM_OK;
}

int hm_core_has_kmap_high_get(const struct hm_ctx *ctx)
{
    return hm_has_kmap_high_get(ctx);
}

/* The services of highmem_arch.h over fast.h's inline forms. */
int hm_core_kmap_high(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr)
{
    return hm_kmap_high(ctx, pfn, may_sleep, vaddr);
}
int hm_core_kmap(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr)
{
    return hm_kmap_default(ctx, pfn, may_sleep, vaddr);
}
int hm_core_kmap_no_irq(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr)
{
    if (hm_core_in_interrupt(ctx))
        return hm_core_bug(ctx, HM_BUG_IN_INTERRUPT, HM_EINVAL, "kmap", pfn);
    return hm_kmap_default(ctx, pfn, may_sleep, vaddr);
}
int hm_core_kunmap_high(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return hm_kunmap_high(ctx, pfn);
}

void hm_wake_waiters(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    hm_emit(ctx, HM_EV_WAKEUP, HM_CPU_ALL, pfn, 0, 0);
    if (hm_wait_per_colour(ctx))
        ctx->machine.wake_colour(ctx->machine.m, hm_pfn_colour(ctx, pfn)); /* only pfn's colour */
    else if (ctx->machine.wake_all)
        ctx->machine.wake_all(ctx->machine.m);
}

/* kunmap_high() under kmap_lock. pfn is a valid highmem page. The PTE stays (lazy unmap); the
 * waiters are woken, outside the lock, only when the count drops to exactly 1 and somebody
 * waits. The BUG cases (page not mapped, count would reach 0) change nothing. HM_LOCKING_FAST
 * comes here with what its kunmap without the lock leaves (a misuse, a race with a flush). */
int hm_kunmap_high_locked(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    struct hm_slot *s;
    uint64_t w;
    uint32_t nr;
    int need_wakeup = 0;

    hm_lock(ctx, HM_LOCK_KMAP);
    nr = hm_page_address_slot(ctx, pfn);
    if (nr == HM_NO_SLOT) {
        hm_unlock(ctx, HM_LOCK_KMAP);
        return hm_core_bug(ctx, HM_BUG_KUNMAP_UNMAPPED, HM_EINVAL, "kunmap_high", pfn);
    }
    s = nr < ctx->last_pkmap ? hm_slot(ctx, nr) : 0;
    if (!s || !hm_slot_move(s, 0, pfn, 2, -1, &w)) {
        /* case 0 of the kernel's switch: BUG, and we stop (no fall-through into case 1) */
        hm_unlock(ctx, HM_LOCK_KMAP);
        return hm_core_bug(ctx, HM_BUG_KUNMAP_ZERO, HM_EINVAL, "kunmap_high", pfn);
    }
    HM_ADD64(&s->kunmaps, 1);
    if (hm_word_count(w) == 2) {
        /* waitqueue_active() of the page's colour's queue: safe without the queue lock,
         * waiters come and go under kmap_lock */
        need_wakeup = ctx->colour[hm_pfn_colour(ctx, pfn)].nr_waiters > 0;
        if (need_wakeup)
            HM_ADD64(&ctx->stats.wakeups, 1);
    }
    hm_unlock(ctx, HM_LOCK_KMAP);

    if (need_wakeup)
        hm_wake_waiters(ctx, pfn);
    return HM_OK;
}
