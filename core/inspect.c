/* inspect.c - read-only views of a context for tests, fuzzers and tools: slot counts, the scan
 * cursors and waiters (per pkmap colour), pagefault depths, pool and bucket sizes, statistics,
 * kmap_local's tasks.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

int hm_pkmap_count(const struct hm_ctx *ctx, uint32_t slot)
{
    int32_t count;
    if (!hm_ctx_ok(ctx) || slot >= ctx->last_pkmap)
        return -1;
    count = hm_slot_count(ctx, slot);
    return count == HM_COUNT_CLAIMED ? 0 : count; /* mid-flush, seen without kmap_lock */
}

uint32_t hm_last_pkmap_nr(const struct hm_ctx *ctx)
{
    return hm_ctx_ok(ctx) ? HM_LOAD(&ctx->colour[0].last_pkmap_nr) : 0;
}

uint32_t hm_nr_waiters(const struct hm_ctx *ctx)
{
    uint32_t n = 0;
    for (uint32_t c = 0; hm_ctx_ok(ctx) && c <= ctx->colour_mask; c++)
        n += HM_LOAD(&ctx->colour[c].nr_waiters);
    return n;
}

uint32_t hm_pkmap_colours(const struct hm_ctx *ctx)
{
    return hm_ctx_ok(ctx) ? ctx->layout.pkmap_colours : 0;
}

int hm_pkmap_colour(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    if (!hm_ctx_ok(ctx) || pfn >= ctx->layout.max_pfn)
        return -1;
    return (int)hm_pfn_colour(ctx, pfn);
}

/* The colour's state, after the checks every per-colour getter makes: a colour is an input, so
 * one out of range is COLOUR_RANGE (without highmem, hm_pkmap_colours is 0: every colour is). */
static const struct hm_colour *colour_of(struct hm_ctx *ctx, uint32_t colour, const void *out, const char *fn,
                                         int *err)
{
    *err = HM_OK;
    if (!hm_ctx_ok(ctx))
        *err = HM_EINVAL;
    else if (!out)
        *err = hm_core_bug(ctx, HM_BUG_BAD_ARG, HM_EINVAL, fn, colour);
    else if (colour >= ctx->layout.pkmap_colours)
        *err = hm_core_bug(ctx, HM_BUG_COLOUR_RANGE, HM_EINVAL, fn, colour);
    return *err == HM_OK ? &ctx->colour[colour] : 0;
}

int hm_pkmap_cursor(struct hm_ctx *ctx, uint32_t colour, uint32_t *nr)
{
    int err;
    const struct hm_colour *col = colour_of(ctx, colour, nr, "hm_pkmap_cursor", &err);
    if (col)
        *nr = HM_LOAD(&col->last_pkmap_nr);
    return err;
}

int hm_pkmap_waiters(struct hm_ctx *ctx, uint32_t colour, uint32_t *waiters)
{
    int err;
    const struct hm_colour *col = colour_of(ctx, colour, waiters, "hm_pkmap_waiters", &err);
    if (col)
        *waiters = HM_LOAD(&col->nr_waiters);
    return err;
}

int hm_pagefault_depth(const struct hm_ctx *ctx, uint32_t cpu)
{
    if (!hm_ctx_ok(ctx) || cpu >= ctx->layout.nr_cpus)
        return -1;
    return hm_core_pagefault_depth(ctx, cpu);
}

static uint32_t list_len(const struct hm_ctx *ctx, const struct hm_list *list)
{
    uint32_t n = 0;
    for (int32_t r = list->head; r != HM_NIL && n <= ctx->last_pkmap; r = ctx->page_address_maps[r].next)
        n++;
    return n;
}

uint32_t hm_pool_size(const struct hm_ctx *ctx)
{
    return hm_ctx_ok(ctx) ? list_len(ctx, &ctx->page_address_pool) : 0;
}

uint32_t hm_bucket_size(const struct hm_ctx *ctx, uint32_t b)
{
    if (!hm_ctx_ok(ctx) || b >= HM_PA_HASH_SIZE)
        return 0;
    return list_len(ctx, &ctx->page_address_htable[b]);
}

uint32_t hm_page_bucket(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return hm_ctx_ok(ctx) ? hm_page_slot(ctx, pfn) : 0;
}

void hm_get_stats(const struct hm_ctx *ctx, struct hm_stats *out)
{
    if (!out)
        return;
    if (!hm_ctx_ok(ctx)) {
        struct hm_stats zero = {0};
        *out = zero;
        return;
    }
    *out = (struct hm_stats){0};
    out->kmap_calls = HM_LOAD64(&ctx->stats.kmap_calls);
    out->kmap_new = HM_LOAD64(&ctx->stats.kmap_new);
    out->kmap_eagain = HM_LOAD64(&ctx->stats.kmap_eagain);
    out->flushes = HM_LOAD64(&ctx->stats.flushes);
    out->slots_freed = HM_LOAD64(&ctx->stats.slots_freed);
    out->sleeps = HM_LOAD64(&ctx->stats.sleeps);
    out->wakeups = HM_LOAD64(&ctx->stats.wakeups);
    for (uint32_t i = 0; i < ctx->last_pkmap; i++) {
        const struct hm_slot *s = &ctx->slots[i]; /* every slot: the order does not matter */
        out->kmap_hits += HM_LOAD64(&s->hits);
        out->kmap_reuse_count1 += HM_LOAD64(&s->reuse1);
        out->kunmap_calls += HM_LOAD64(&s->kunmaps);
    }
    out->kmap_calls += out->kmap_hits; /* ctx->stats.kmap_calls counts the others */
    out->bugs = HM_LOAD(&ctx->bugs);
    for (int b = 0; b < HM_BUG__COUNT; b++)
        out->bug_by_kind[b] = HM_LOAD(&ctx->bug_by_kind[b]);
    out->machine_fails = HM_LOAD(&ctx->machine_fails);
}

int hm_cpu_task(const struct hm_ctx *ctx, uint32_t cpu)
{
    if (!hm_ctx_ok(ctx) || !ctx->layout.km_max_idx || cpu >= ctx->layout.nr_cpus)
        return -1;
    return (int)HM_LOAD(&ctx->cpus[cpu].task);
}

int hm_task_local_idx(const struct hm_ctx *ctx, uint32_t task, uint32_t cpu)
{
    if (!hm_ctx_ok(ctx) || !ctx->layout.km_max_idx || task >= ctx->layout.nr_tasks ||
        (task == 0 && cpu >= ctx->layout.nr_cpus))
        return -1;
    return HM_LOAD(&hm_task_of(ctx, task, cpu)->idx);
}
