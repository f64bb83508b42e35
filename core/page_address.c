/* page_address.c - the hashed page->virtual table of mm/highmem.c (HASHED_PAGE_VIRTUAL):
 * 128 buckets indexed by hash_ptr(struct page *, 7), and a pool of exactly LAST_PKMAP records.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

uint32_t hm_hash_long32(uint32_t val, unsigned bits)
{
    return bits == 0 || bits > 32 ? 0 : hm_hash32(val, bits);
}

/* page_address_init(): records 0..LAST_PKMAP-1 are each added at the head of the pool, so the
 * head ends up being the last record, the first one an Add takes. */
void hm_page_address_init(struct hm_ctx *ctx)
{
    struct hm_list *pool = &ctx->page_address_pool;
    pool->head = pool->tail = HM_NIL;
    for (uint32_t i = 0; i < ctx->last_pkmap; i++) {
        struct hm_pam *pam = &ctx->page_address_maps[i];
        pam->page = 0;
        pam->slot = 0;
        pam->next = pool->head;
        pool->head = (int32_t)i;
        if (pool->tail == HM_NIL)
            pool->tail = (int32_t)i;
    }
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        ctx->page_address_htable[b].head = ctx->page_address_htable[b].tail = HM_NIL;
}

/* The locks of the table are HM_LOCKING_KERNEL's only (hm_internal.h). */
static void table_lock(struct hm_ctx *ctx, unsigned id)
{
    if (!ctx->fast)
        hm_lock(ctx, id);
}
static void table_unlock(struct hm_ctx *ctx, unsigned id)
{
    if (!ctx->fast)
        hm_unlock(ctx, id);
}

/* The walk of a bucket without its lock, every field read with one atomic load. A reader may meet records being moved (a walk that leaves its
 * bucket ends in the pool or another bucket, always at NIL), so the walk stops after LAST_PKMAP
 * records and an index out of range ends it: its answer is a candidate the caller validates. */
uint32_t hm_page_address_slot_nolock(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    const struct hm_pam *maps = ctx->page_address_maps;
    int32_t r = HM_LOAD(&ctx->page_address_htable[hm_page_slot(ctx, pfn)].head);

    for (uint32_t steps = 0; (uint32_t)r < ctx->last_pkmap && steps < ctx->last_pkmap; steps++) {
        if (HM_LOAD(&maps[r].page) == pfn)
            return HM_LOAD(&maps[r].slot);
        r = HM_LOAD(&maps[r].next);
    }
    return HM_NO_SLOT; /* NIL (-1) is out of range too */
}

/* page_address() for a highmem page, as the slot number (hm_internal.h). */
uint32_t hm_page_address_slot(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    uint32_t b = hm_page_slot(ctx, pfn), slot;

    table_lock(ctx, HM_LOCK_BUCKET0 + b);
    slot = hm_page_address_slot_nolock(ctx, pfn);
    table_unlock(ctx, HM_LOCK_BUCKET0 + b);
    return slot;
}

/* A lookup that no change of the table overlapped (table_gen even and unchanged around it),
 * in HM_LOCKING_FAST; after a few overlapped tries it waits for the writers' kmap_lock. */
uint32_t hm_page_address_slot_exact(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    uint32_t slot;

    if (!ctx->fast)
        return hm_page_address_slot(ctx, pfn);
    for (int tries = 0; tries < 16; tries++) {
        uint32_t gen = HM_LOAD_ACQUIRE(&ctx->table_gen);
        if (gen & 1u)
            continue;
        slot = hm_page_address_slot_nolock(ctx, pfn);
        HM_FENCE_ACQUIRE();
        if (HM_LOAD(&ctx->table_gen) == gen)
            return slot;
    }
    hm_lock(ctx, HM_LOCK_KMAP);
    slot = hm_page_address_slot_nolock(ctx, pfn);
    hm_unlock(ctx, HM_LOCK_KMAP);
    return slot;
}

/* The writers' side of table_gen (every writer holds kmap_lock); HM_LOCKING_KERNEL's readers
 * take the bucket lock instead. */
static void table_write_begin(struct hm_ctx *ctx)
{
    if (!ctx->fast)
        return;
    HM_STORE(&ctx->table_gen, ctx->table_gen + 1u);
    HM_FENCE_RELEASE();
}
static void table_write_end(struct hm_ctx *ctx)
{
    if (ctx->fast)
        HM_STORE_RELEASE(&ctx->table_gen, ctx->table_gen + 1u);
}

/* Append rec to a list; the record's fields are written before the link that publishes it. */
static void list_append(struct hm_ctx *ctx, struct hm_list *list, int32_t rec)
{
    HM_STORE(&ctx->page_address_maps[rec].next, HM_NIL);
    if (list->tail == HM_NIL)
        HM_STORE_RELEASE(&list->head, rec);
    else
        HM_STORE_RELEASE(&ctx->page_address_maps[list->tail].next, rec);
    list->tail = rec;
}

/* set_page_address(): Add (slot != HM_NO_SLOT) takes the record at the pool head under
 * pool_lock and appends it to the bucket's tail under the bucket lock; Remove unlinks the first
 * record for the page and returns it to the pool's tail. The two locks are never held together.
 * Removing an absent page does nothing. Caller holds kmap_lock. */
int hm_set_page_address(struct hm_ctx *ctx, hm_pfn_t pfn, uint32_t slot)
{
    struct hm_pam *maps = ctx->page_address_maps;
    uint32_t b;

    if (!hm_is_highmem(ctx, pfn))
        return hm_core_bug(ctx, HM_BUG_SET_ADDR_LOWMEM, HM_EINVAL, "set_page_address", pfn);
    b = hm_page_slot(ctx, pfn);

    if (slot != HM_NO_SLOT) {
        int32_t rec;
        /* tested before pool_lock is taken, as in 2.6.24 */
        if (ctx->page_address_pool.head == HM_NIL)
            return hm_core_bug(ctx, HM_BUG_POOL_EMPTY, HM_EINVAL, "set_page_address", pfn);
        table_write_begin(ctx);
        table_lock(ctx, HM_LOCK_POOL);
        rec = ctx->page_address_pool.head;
        HM_STORE(&ctx->page_address_pool.head, maps[rec].next);
        if (ctx->page_address_pool.head == HM_NIL)
            ctx->page_address_pool.tail = HM_NIL;
        table_unlock(ctx, HM_LOCK_POOL);

        HM_STORE(&maps[rec].page, pfn);
        HM_STORE(&maps[rec].slot, slot);

        table_lock(ctx, HM_LOCK_BUCKET0 + b);
        list_append(ctx, &ctx->page_address_htable[b], rec);
        table_unlock(ctx, HM_LOCK_BUCKET0 + b);
        table_write_end(ctx);
        return HM_OK;
    }

    {
        struct hm_list *bucket = &ctx->page_address_htable[b];
        int32_t prev = HM_NIL, rec;

        table_write_begin(ctx);
        table_lock(ctx, HM_LOCK_BUCKET0 + b);
        for (rec = bucket->head; rec != HM_NIL; prev = rec, rec = maps[rec].next)
            if (maps[rec].page == pfn)
                break;
        if (rec != HM_NIL) {
            int32_t next = maps[rec].next;
            if (prev == HM_NIL)
                HM_STORE(&bucket->head, next);
            else
                HM_STORE(&maps[prev].next, next);
            if (bucket->tail == rec)
                bucket->tail = prev;
        }
        table_unlock(ctx, HM_LOCK_BUCKET0 + b);

        if (rec != HM_NIL) {
            table_lock(ctx, HM_LOCK_POOL);
            list_append(ctx, &ctx->page_address_pool, rec);
            table_unlock(ctx, HM_LOCK_POOL);
        }
        table_write_end(ctx);
    }
    return HM_OK;
}
