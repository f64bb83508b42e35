/* check.c - hm_check_invariants: the invariants of the spec's §8 the core can see on its own
 * (I1 range, I2 count 0 empty, I3 count >= 1 mapped, I5 uniqueness, I6 hash/pool, I10 depth,
 * I13 kmap_local stacks), per pkmap colour where the layout is coloured (§10.3).
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

/* Write "In: text" (and a number) into msg without libc. */
static int fail(int which, const char *text, uint32_t num, char *msg, size_t len)
{
    if (msg && len) {
        size_t n = 0;
        char digits[11];
        int d = 0;
        const char *p;
        if (n + 1 < len) msg[n++] = 'I';
        if (which >= 10 && n + 1 < len) msg[n++] = (char)('0' + which / 10);
        if (n + 1 < len) msg[n++] = (char)('0' + which % 10);
        for (p = ": "; *p && n + 1 < len; p++) msg[n++] = *p;
        for (p = text; *p && n + 1 < len; p++) msg[n++] = *p;
        do {
            digits[d++] = (char)('0' + num % 10);
            num /= 10;
        } while (num && d < 10);
        if (n + 1 < len) msg[n++] = ' ';
        while (d > 0 && n + 1 < len) msg[n++] = digits[--d];
        msg[n] = '\0';
    }
    return which;
}

/* A list starting at head is well formed: valid record indexes, NIL within last_pkmap steps. */
static int chain_ok(const struct hm_ctx *ctx, int32_t head)
{
    uint32_t steps = 0;
    for (int32_t r = head; r != HM_NIL; r = ctx->page_address_maps[r].next)
        if (r < 0 || (uint32_t)r >= ctx->last_pkmap || ++steps > ctx->last_pkmap)
            return 0;
    return 1;
}

/* The task number of task record r (hm_task_of's order: each CPU's idle task, then 1..). */
static uint32_t record_task(const struct hm_ctx *ctx, uint32_t r)
{
    return r < ctx->layout.nr_cpus ? 0u : r - ctx->layout.nr_cpus + 1u;
}

/* I13 (5.11): every task's kmap_ctrl well formed (0 <= idx < KM_MAX_IDX, a PTE at each mapped
 * position, none at guards and above the top); each CPU runs one task that knows it, and each
 * of the CPU's kmap slots holds exactly what that task's stack says (its pteval below the top,
 * none elsewhere), so no switched-out task's local PTE is live. */
static int check_local(const struct hm_ctx *ctx, char *msg, size_t msg_len)
{
    const struct hm_layout *l = &ctx->layout;
    uint32_t nrec = l->nr_cpus + l->nr_tasks - 1u, pos = 0;

    for (uint32_t c = 0; c < l->nr_cpus; c++) /* first: the records below are found through it */
        if (ctx->cpus[c].task >= l->nr_tasks)
            return fail(13, "no such task running on cpu", c, msg, msg_len);
    for (uint32_t r = 0; r < nrec; r++) {
        const struct hm_task *t = &ctx->tasks[r];
        int bad = hm_local_stack_bad(ctx, t, &pos);
        if (bad == HM_LOCAL_BAD_IDX)
            return fail(13, "kmap_ctrl.idx out of range in task", record_task(ctx, r), msg, msg_len);
        if (bad)
            return fail(13, "pteval disagrees with idx at position", pos, msg, msg_len);
        if (t->cpu != HM_NO_CPU && (t->cpu >= l->nr_cpus || hm_task_of(ctx, ctx->cpus[t->cpu].task, t->cpu) != t))
            return fail(13, "a switched-out task says it runs, task", record_task(ctx, r), msg, msg_len);
    }
    for (uint32_t c = 0; c < l->nr_cpus; c++) {
        const struct hm_task *t = hm_task_of(ctx, ctx->cpus[c].task, c);
        if (t->cpu != c)
            return fail(13, "the running task does not say so on cpu", c, msg, msg_len);
        for (uint32_t j = 0; ctx->last_pkmap && j < l->km_max_idx; j++) { /* no slots without highmem */
            hm_pte_t held = (int32_t)j < t->idx ? t->pteval[j] : 0;
            hm_vaddr_t at = hm_local_slot(ctx, c, j, hm_pte_page(ctx, held));
            /* each slot of (c, j), one per colour: the pteval at its page's slot, none elsewhere */
            for (uint32_t q = 0; q < hm_local_slot_colours(ctx); q++) {
                hm_vaddr_t v = hm_local_slot(ctx, c, j, q);
                hm_pte_t want = v == at ? held : 0;
                if (hm_pte_get(ctx, v) != want)
                    return fail(13, want ? "a local slot's PTE is not its pteval, slot"
                                         : "a local slot is mapped that the running task does not hold, slot",
                                c * l->km_max_idx + j, msg, msg_len);
            }
        }
    }
    return 0;
}

int hm_check_invariants(const struct hm_ctx *ctx_c, char *msg, size_t msg_len)
{
    /* The lookups below take the bucket locks; the context is not modified. */
    struct hm_ctx *ctx = (struct hm_ctx *)(uintptr_t)ctx_c;
    const struct hm_layout *l;
    uint32_t i, in_use = 0, hashed = 0, pooled;

    if (!hm_ctx_ok(ctx))
        return fail(1, "not an initialised context", 0, msg, msg_len);
    l = &ctx->layout;

    /* I1, per colour: each cursor in range and of its own colour */
    for (uint32_t c = 0; ctx->last_pkmap && c <= ctx->colour_mask; c++) {
        uint32_t nr = HM_LOAD(&ctx->colour[c].last_pkmap_nr);
        if (nr >= ctx->last_pkmap)
            return fail(1, "last_pkmap_nr out of range", nr, msg, msg_len);
        if ((nr & ctx->colour_mask) != c)
            return fail(1, "a colour's cursor is not of its colour, colour", c, msg, msg_len);
    }
    for (i = 0; i < ctx->last_pkmap; i++)
        if (hm_slot_count(ctx, i) < 0)
            return fail(1, "negative pkmap_count at slot", i, msg, msg_len);

    /* I6, the shape first: every bucket and the pool is a chain of valid record indexes
     * ending in NIL within last_pkmap steps, so that every walk below terminates. */
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        if (!chain_ok(ctx, ctx->page_address_htable[b].head))
            return fail(6, "cycle or bad link in bucket", b, msg, msg_len);
    if (!chain_ok(ctx, ctx->page_address_pool.head))
        return fail(6, "cycle or bad link in the pool, head", (uint32_t)ctx->page_address_pool.head,
                    msg, msg_len);

    for (i = 0; i < ctx->last_pkmap; i++) {
        hm_pte_t pte = hm_pte_get(ctx, hm_pkmap_addr(ctx, i));
        if (hm_slot_count(ctx, i) == 0) {
            /* I2 */
            if (!hm_pte_is_none(ctx, pte))
                return fail(2, "count 0 but PTE present at slot", i, msg, msg_len);
        } else {
            hm_pfn_t p;
            /* I3 */
            in_use++;
            if (hm_pte_is_none(ctx, pte))
                return fail(3, "count >= 1 but PTE none at slot", i, msg, msg_len);
            p = hm_pte_page(ctx, pte);
            if (!hm_is_highmem(ctx, p))
                return fail(3, "slot maps a non-highmem pfn at slot", i, msg, msg_len);
            if (hm_pfn_colour(ctx, p) != (i & ctx->colour_mask))
                return fail(3, "slot maps a page of another colour at slot", i, msg, msg_len);
            if (hm_page_address_slot(ctx, p) != i)
                return fail(3, "page_address disagrees with slot", i, msg, msg_len);
        }
    }

    /* I5 + I6: walk every bucket */
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++) {
        for (int32_t r = ctx->page_address_htable[b].head; r != HM_NIL; r = ctx->page_address_maps[r].next) {
            const struct hm_pam *pam = &ctx->page_address_maps[r];
            uint32_t nr;
            hashed++;
            if (hm_page_slot(ctx, pam->page) != b)
                return fail(6, "record in the wrong bucket, pfn", pam->page, msg, msg_len);
            nr = pam->slot;
            if (nr >= ctx->last_pkmap)
                return fail(6, "record address outside the pkmap window, pfn", pam->page, msg, msg_len);
            if (hm_slot_count(ctx, nr) < 1)
                return fail(2, "hashed address of a count-0 slot", nr, msg, msg_len);
            for (int32_t q = ctx->page_address_maps[r].next; q != HM_NIL; q = ctx->page_address_maps[q].next)
                if (ctx->page_address_maps[q].page == pam->page)
                    return fail(5, "page hashed twice, pfn", pam->page, msg, msg_len);
        }
    }
    pooled = hm_pool_size(ctx);
    if (hashed != in_use)
        return fail(6, "hashed records != slots in use", hashed, msg, msg_len);
    if (hashed + pooled != ctx->last_pkmap)
        return fail(6, "records not conserved, pool", pooled, msg, msg_len);

    /* I3, the slot words (the fast mode's copy of what the table says): checked last, so that
     * a state the kernel's own structures already show broken is named as they show it */
    for (i = 0; i < ctx->last_pkmap; i++)
        if (hm_slot_count(ctx, i) >= 1 &&
            hm_word_page(HM_LOAD64(&hm_slot(ctx, i)->word)) != hm_pte_page(ctx, hm_pte_get(ctx, hm_pkmap_addr(ctx, i))))
            return fail(3, "the slot's page is not its PTE's at slot", i, msg, msg_len);
    /* I10 (the part visible here): depths never negative */
    for (i = 0; i < l->nr_cpus; i++)
        if (ctx->cpus[i].pagefault_disabled < 0)
            return fail(10, "negative pagefault depth on cpu", i, msg, msg_len);
    if (l->km_max_idx && (i = check_local(ctx, msg, msg_len)) != 0)
        return (int)i;

    if (msg && msg_len)
        msg[0] = '\0';
    return 0;
}
