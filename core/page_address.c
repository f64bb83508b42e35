/* page_address.c - the hashed page->virtual table of mm/highmem.c (HASHED_PAGE_VIRTUAL):
 * 128 buckets indexed by hash_ptr(struct page *, 7), and a pool of exactly LAST_PKMAP records.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

/* hash_long() of a 32-bit kernel: multiply by GOLDEN_RATIO_PRIME modulo 2^32, keep the top
 * bits. Done in uint32_t so a 64-bit host computes the 32-bit kernel's value. */
uint32_t hm_hash_long32(uint32_t val, unsigned bits)
{
    if (bits == 0 || bits > 32)
        return 0;
    return (uint32_t)(val * 0x9e370001u) >> (32u - bits);
}

/* page_slot(): the bucket of a page, hashing the address of its struct page in mem_map. That
 * is a 32-bit kernel's pointer, hashed by its 32-bit hash_long: the sum is taken modulo 2^32
 * as that kernel's pointer arithmetic would (sparc's 2^24 frames of 32 bytes do pass 4 GiB). */
uint32_t hm_page_slot(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    uint32_t page_ptr = (uint32_t)(ctx->layout.mem_map + (uint64_t)pfn * ctx->layout.struct_page_size);
    return hm_hash_long32(page_ptr, HM_PA_HASH_ORDER);
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
        pam->virtual = 0;
        pam->next = pool->head;
        pool->head = (int32_t)i;
        if (pool->tail == HM_NIL)
            pool->tail = (int32_t)i;
    }
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        ctx->page_address_htable[b].head = ctx->page_address_htable[b].tail = HM_NIL;
}

static void list_append(struct hm_ctx *ctx, struct hm_list *list, int32_t rec)
{
    ctx->page_address_maps[rec].next = HM_NIL;
    if (list->tail == HM_NIL)
        list->head = rec;
    else
        ctx->page_address_maps[list->tail].next = rec;
    list->tail = rec;
}

/* page_address() for a highmem page: the virtual of the first record for it in its bucket,
 * or 0 (NULL). Takes only the bucket lock, as the kernel does. */
hm_vaddr_t hm_page_address_locked(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    uint32_t b = hm_page_slot(ctx, pfn);
    hm_vaddr_t ret = 0;

    hm_lock(ctx, HM_LOCK_BUCKET0 + b);
    for (int32_t r = ctx->page_address_htable[b].head; r != HM_NIL; r = ctx->page_address_maps[r].next) {
        if (ctx->page_address_maps[r].page == pfn) {
            ret = ctx->page_address_maps[r].virtual;
            break;
        }
    }
    hm_unlock(ctx, HM_LOCK_BUCKET0 + b);
    return ret;
}

/* set_page_address(): Add (virtual != 0) takes the record at the pool head under pool_lock and
 * appends it to the bucket's tail under the bucket lock; Remove (virtual == 0) unlinks the
 * first record for the page and returns it to the pool's tail. The two locks are never held
 * together. Removing an absent page does nothing. */
int hm_set_page_address(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t virtual)
{
    uint32_t b;

    if (!hm_core_is_highmem(ctx, pfn))
        return hm_core_bug(ctx, HM_BUG_SET_ADDR_LOWMEM, HM_EINVAL, "set_page_address", pfn);
    b = hm_page_slot(ctx, pfn);

    if (virtual) {
        int32_t rec;
        /* tested before pool_lock is taken, as in 2.6.24 */
        if (ctx->page_address_pool.head == HM_NIL)
            return hm_core_bug(ctx, HM_BUG_POOL_EMPTY, HM_EINVAL, "set_page_address", pfn);
        hm_lock(ctx, HM_LOCK_POOL);
        rec = ctx->page_address_pool.head;
        ctx->page_address_pool.head = ctx->page_address_maps[rec].next;
        if (ctx->page_address_pool.head == HM_NIL)
            ctx->page_address_pool.tail = HM_NIL;
        hm_unlock(ctx, HM_LOCK_POOL);

        ctx->page_address_maps[rec].page = pfn;
        ctx->page_address_maps[rec].virtual = virtual;

        hm_lock(ctx, HM_LOCK_BUCKET0 + b);
        list_append(ctx, &ctx->page_address_htable[b], rec);
        hm_unlock(ctx, HM_LOCK_BUCKET0 + b);
        return HM_OK;
    }

    {
        struct hm_list *bucket = &ctx->page_address_htable[b];
        int32_t prev = HM_NIL, rec;

        hm_lock(ctx, HM_LOCK_BUCKET0 + b);
        for (rec = bucket->head; rec != HM_NIL; prev = rec, rec = ctx->page_address_maps[rec].next)
            if (ctx->page_address_maps[rec].page == pfn)
                break;
        if (rec != HM_NIL) {
            int32_t next = ctx->page_address_maps[rec].next;
            if (prev == HM_NIL)
                bucket->head = next;
            else
                ctx->page_address_maps[prev].next = next;
            if (bucket->tail == rec)
                bucket->tail = prev;
        }
        hm_unlock(ctx, HM_LOCK_BUCKET0 + b);

        if (rec != HM_NIL) {
            hm_lock(ctx, HM_LOCK_POOL);
            list_append(ctx, &ctx->page_address_pool, rec);
            hm_unlock(ctx, HM_LOCK_POOL);
        }
    }
    return HM_OK;
}
