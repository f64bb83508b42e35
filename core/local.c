/* local.c - kmap_local of 5.11 (spec §10.6): the push and pop on the running task's kmap_ctrl
 * stack, the context switch that clears and re-installs a task's local mappings, 5.11's
 * kmap_atomic family as wrappers around them, and kmap_to_page of a local address.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

/* The kmap_ctrl of the task running on cpu (`current` there). */
static struct hm_task *local_current(const struct hm_ctx *ctx, uint32_t cpu)
{
    return hm_task_of(ctx, ctx->cpus[cpu].task, cpu);
}

hm_vaddr_t hm_local_slot(const struct hm_ctx *ctx, uint32_t cpu, uint32_t pos, hm_pfn_t pfn)
{
    /* arch_kmap_local_map_idx; its default kmap_local_calc_idx(pos) = pos + KM_MAX_IDX * cpu
     * slots from the kmap window's base (hm_core_atomic_slot, with KM_TYPE_NR = KM_MAX_IDX) */
    if (ctx->arch->kmap_local_slot)
        return ctx->arch->kmap_local_slot(ctx, cpu, pos, pfn);
    return hm_core_atomic_slot(ctx, cpu, pos);
}

uint32_t hm_local_slot_colours(const struct hm_ctx *ctx)
{
    return ctx->arch->kmap_local_slot && ctx->layout.pkmap_colours > 1u ? ctx->layout.pkmap_colours : 1u;
}

/* The slot of a saved pteval (the page it maps picks the slot where the arch colours them). */
static hm_vaddr_t local_slot(const struct hm_ctx *ctx, uint32_t cpu, uint32_t pos, hm_pte_t pte)
{
    return hm_local_slot(ctx, cpu, pos, hm_pte_page(ctx, pte));
}

/* Whether v's page lies in the kmap fixmap, FIX_KMAP_BEGIN..FIX_KMAP_END (KM_MAX_IDX slots, of
 * each colour where the arch colours them, for each of the config's NR_CPUS); if so, the CPU
 * and stack position whose slot (of some colour) it is. */
static int local_slot_index(const struct hm_ctx *ctx, hm_vaddr_t v, uint32_t *cpu, uint32_t *pos)
{
    const struct hm_layout *l = &ctx->layout;
    hm_vaddr_t page = hm_page_base(l, v);
    uint64_t off;
    uint32_t colours = hm_local_slot_colours(ctx);
    uint32_t n = l->km_max_idx * l->config_nr_cpus * colours;

    if (!ctx->last_pkmap || !l->km_max_idx)
        return 0; /* no highmem: no kmap fixmap */
    if (l->kmap_atomic_dir < 0) {
        if (page > l->kmap_atomic_base)
            return 0;
        off = (l->kmap_atomic_base - page) >> l->page_shift;
    } else {
        if (page < l->kmap_atomic_base)
            return 0;
        off = (page - l->kmap_atomic_base) >> l->page_shift;
    }
    if (off >= n)
        return 0;
    off /= colours;
    *cpu = (uint32_t)off / l->km_max_idx; /* off < n: 32-bit division */
    *pos = (uint32_t)off % l->km_max_idx;
    return 1;
}

static void local_hook(struct hm_ctx *ctx, void (*hook)(struct hm_ctx *, uint32_t, hm_vaddr_t),
                       uint32_t cpu, hm_vaddr_t v)
{
    if (hook)
        hook(ctx, cpu, v);
}

/* One position's clear, as kunmap_local_indexed and __kmap_local_sched_out make it: the
 * arch's pre_unmap, pte_clear, post_unmap. HM_EMACHINE when the machine refused the clear (no
 * post_unmap then: the PTE did not change). pte: the position's saved pteval. */
static int local_clear(struct hm_ctx *ctx, uint32_t cpu, uint32_t pos, hm_pte_t pte)
{
    hm_vaddr_t v = local_slot(ctx, cpu, pos, pte);
    local_hook(ctx, ctx->arch->kmap_local_pre_unmap, cpu, v);
    if (hm_core_pte_clear(ctx, v) != HM_OK)
        return HM_EMACHINE;
    local_hook(ctx, ctx->arch->kmap_local_post_unmap, cpu, v);
    return HM_OK;
}

/* One position's install, as __kmap_local_pfn_prot (after its pre_map) and
 * __kmap_local_sched_in make it: set_pte, then the arch's post_map. */
static int local_install(struct hm_ctx *ctx, uint32_t cpu, uint32_t pos, hm_pte_t pte)
{
    hm_vaddr_t v = local_slot(ctx, cpu, pos, pte);
    if (hm_core_set_pte(ctx, v, pte) != HM_OK)
        return HM_EMACHINE;
    local_hook(ctx, ctx->arch->kmap_local_post_map, cpu, v);
    return HM_OK;
}

int hm_local_stack_bad(const struct hm_ctx *ctx, const struct hm_task *t, uint32_t *pos)
{
    int32_t km = (int32_t)ctx->layout.km_max_idx;
    if (t->idx < 0 || t->idx >= km || t->idx % hm_km_incr(ctx) != 0)
        return HM_LOCAL_BAD_IDX;
    for (uint32_t j = 0; j < (uint32_t)km; j++) {
        int none = hm_pte_is_none(ctx, t->pteval[j]) != 0;
        /* below the top: a mapping, or none at a guard; at and above it: none (the pop
         * clears pteval[top]) */
        if (none != ((int32_t)j >= t->idx || hm_local_guard(ctx, j))) {
            *pos = j;
            return HM_LOCAL_BAD_PTEVAL;
        }
    }
    return 0;
}

/* __kmap_local_pfn_prot on cpu: push onto the running task's stack, map pfn with prot at the
 * new top's slot. Nothing changes on an error. */
static int local_map_pfn(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_pte_t prot, hm_vaddr_t *vaddr)
{
    struct hm_task *t = local_current(ctx, cpu);
    int32_t idx = t->idx + hm_km_incr(ctx);
    uint32_t pos;
    hm_vaddr_t v;
    hm_pte_t pte;

    if (t->idx < 0) /* only a corrupted context has one */
        return hm_core_bug(ctx, HM_BUG_LOCAL_CORRUPT, HM_EINVAL, "kmap_local_idx_push", pfn);
    if (idx >= (int32_t)ctx->layout.km_max_idx) /* BUG_ON(idx >= KM_MAX_IDX) after the push */
        return hm_core_bug(ctx, HM_BUG_LOCAL_OVERFLOW, HM_EINVAL, "kmap_local_idx_push", pfn);
    pos = (uint32_t)idx - 1u;
    v = hm_local_slot(ctx, cpu, pos, pfn); /* arch_kmap_local_map_idx(idx, pfn) */
    if (!hm_core_pte_none(ctx, hm_core_get_pte(ctx, v))) /* BUG_ON(!pte_none(*(kmap_pte - idx))) */
        return hm_core_bug(ctx, HM_BUG_LOCAL_BUSY, HM_EBUSY, "__kmap_local_pfn_prot", v);
    pte = hm_core_mk_pte(ctx, pfn, prot);
    local_hook(ctx, ctx->arch->kmap_local_pre_map, cpu, v);
    if (local_install(ctx, cpu, pos, pte) != HM_OK)
        return HM_EMACHINE; /* the push is not made: the stack is as it was */
    t->pteval[pos] = pte;
    HM_STORE(&t->idx, idx);
    *vaddr = v;
    return HM_OK;
}

int hm_local_map(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_pte_t prot, int map_any,
                 hm_vaddr_t *vaddr)
{
    /* __kmap_local_page_prot: a lowmem page is its direct-map address (no push); without
     * highmem every form is page_address */
    if (!ctx->last_pkmap || (!map_any && !hm_is_highmem(ctx, pfn))) {
        *vaddr = hm_lowmem_address(ctx, pfn);
        return HM_OK;
    }
    if (!map_any && ctx->arch->kmap_local_high_get) { /* arch_kmap_local_high_get */
        hm_vaddr_t v = 0;
        int err = ctx->arch->kmap_local_high_get(ctx, pfn, &v);
        if (err != HM_OK || v) {
            if (err == HM_OK)
                *vaddr = v; /* pinned in the pkmap window: kunmap_local hands it to kunmap_high */
            return err;
        }
    }
    return local_map_pfn(ctx, cpu, pfn, prot, vaddr);
}

/* kunmap_local_indexed of an address outside the kmap fixmap: kmap_high_unmap_local (a pkmap
 * address, where the arch has kmap_high_get), else a WARN below PAGE_OFFSET. */
static int local_unmap_other(struct hm_ctx *ctx, hm_vaddr_t vaddr)
{
    const struct hm_layout *l = &ctx->layout;
    hm_vaddr_t page = hm_page_base(l, vaddr);

    if (hm_has_kmap_high_get(ctx) && page >= hm_pkmap_addr(ctx, 0) &&
        page < hm_pkmap_addr(ctx, ctx->last_pkmap)) {
        hm_pte_t pte = hm_core_get_pte(ctx, page);
        hm_pfn_t pfn = hm_core_pte_pfn(ctx, pte);
        if (hm_core_pte_none(ctx, pte) || !hm_is_highmem(ctx, pfn))
            return hm_core_bug(ctx, HM_BUG_KUNMAP_UNMAPPED, HM_EINVAL, "kunmap_high", vaddr);
        return hm_core_kunmap_high(ctx, pfn);
    }
    if (page < l->page_offset)
        return hm_core_bug(ctx, HM_BUG_LOCAL_BAD_ADDR, HM_EINVAL, "kunmap_local_indexed", vaddr);
    return HM_OK; /* a lowmem page's address: nothing was pushed for it */
}

int hm_local_unmap(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr)
{
    struct hm_task *t = local_current(ctx, cpu);
    int32_t incr = hm_km_incr(ctx);
    uint32_t c, pos;

    if (!ctx->last_pkmap)
        return HM_OK; /* !CONFIG_HIGHMEM: kunmap_local does nothing */
    if (!local_slot_index(ctx, vaddr, &c, &pos))
        return local_unmap_other(ctx, vaddr);
    /* The kernel WARNs when the address is not the top's slot (arch_kmap_local_unmap_idx: of
     * the address's colour where the arch colours them) and clears the top anyway: here
     * strict LIFO, nothing changes. An empty stack (the pop's BUG) is the same error. */
    if (t->idx < incr || t->idx > (int32_t)ctx->layout.km_max_idx || c != cpu ||
        pos != (uint32_t)t->idx - 1u ||
        hm_page_base(&ctx->layout, vaddr) != local_slot(ctx, cpu, pos, t->pteval[pos]))
        return hm_core_bug(ctx, HM_BUG_LOCAL_NOT_TOP, HM_EINVAL, "kunmap_local_indexed", vaddr);
    if (local_clear(ctx, cpu, pos, t->pteval[pos]) != HM_OK)
        return HM_EMACHINE; /* still mapped and still on the stack */
    t->pteval[pos] = 0;
    HM_STORE(&t->idx, t->idx - incr);
    return HM_OK;
}

int hm_local_kmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_pte_t prot, int map_any,
                         hm_vaddr_t *vaddr)
{
    int err;
    hm_core_pagefault_disable(ctx, cpu); /* preempt_disable(); pagefault_disable() */
    if ((err = hm_local_map(ctx, cpu, pfn, prot, map_any, vaddr)) != HM_OK)
        (void)hm_core_pagefault_enable(ctx, cpu); /* depth >= 1 here: never a BUG */
    return err;
}

int hm_local_kunmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr)
{
    int err;
    if (hm_core_pagefault_depth(ctx, cpu) <= 0)
        return hm_core_pagefault_enable(ctx, cpu); /* reports ATOMIC_UNBALANCED */
    if ((err = hm_local_unmap(ctx, cpu, vaddr)) != HM_OK)
        return err;
    return hm_core_pagefault_enable(ctx, cpu);
}

/* The positions below n of a task's stack on cpu, guards skipped: cleared as
 * __kmap_local_sched_out does, or re-installed from pteval as __kmap_local_sched_in does.
 * Each returns n, or the position whose write the machine refused. */
static uint32_t local_clear_upto(struct hm_ctx *ctx, uint32_t cpu, const struct hm_task *t, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++)
        if (!hm_local_guard(ctx, j) && local_clear(ctx, cpu, j, t->pteval[j]) != HM_OK)
            return j;
    return n;
}

static uint32_t local_install_upto(struct hm_ctx *ctx, uint32_t cpu, const struct hm_task *t, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++)
        if (!hm_local_guard(ctx, j) && local_install(ctx, cpu, j, t->pteval[j]) != HM_OK)
            return j;
    return n;
}

int hm_local_switch(struct hm_ctx *ctx, uint32_t cpu, uint32_t task)
{
    uint32_t prev_task = ctx->cpus[cpu].task, np, nn, done, pos;
    struct hm_task *prev = local_current(ctx, cpu), *next = hm_task_of(ctx, task, cpu);

    /* schedule() with preemption off (a kmap_atomic held) or from an interrupt */
    if (hm_in_interrupt(ctx) || hm_core_pagefault_depth(ctx, cpu) > 0)
        return hm_core_bug(ctx, HM_BUG_SWITCH_ATOMIC, HM_EINVAL, "schedule", cpu);
    if (next == prev)
        return HM_OK; /* the same task goes on: no switch */
    if (HM_LOAD(&next->cpu) != HM_NO_CPU)
        return hm_core_bug(ctx, HM_BUG_TASK_RUNNING, HM_EINVAL, "schedule", task);
    if (hm_local_stack_bad(ctx, prev, &pos))
        return hm_core_bug(ctx, HM_BUG_LOCAL_CORRUPT, HM_EINVAL, "__kmap_local_sched_out", prev_task);
    if (hm_local_stack_bad(ctx, next, &pos))
        return hm_core_bug(ctx, HM_BUG_LOCAL_CORRUPT, HM_EINVAL, "__kmap_local_sched_in", task);
    if (next->idx != 0 && next->home != cpu) /* migrate_disable() holds it on its CPU */
        return hm_core_bug(ctx, HM_BUG_LOCAL_MIGRATE, HM_EINVAL, "migrate_disable", task);

    np = (uint32_t)prev->idx;
    nn = (uint32_t)next->idx;
    /* prepare_task_switch: __kmap_local_sched_out when the outgoing task has mappings */
    if (np)
        hm_emit(ctx, HM_EV_LOCAL_SAVE, cpu, prev_task, 0, 0);
    if ((done = local_clear_upto(ctx, cpu, prev, np)) != np) {
        (void)local_install_upto(ctx, cpu, prev, done); /* the outgoing task runs on */
        return HM_EMACHINE;
    }
    /* finish_task_switch: __kmap_local_sched_in when the incoming task has mappings */
    if (nn)
        hm_emit(ctx, HM_EV_LOCAL_RESTORE, cpu, task, 0, 0);
    if ((done = local_install_upto(ctx, cpu, next, nn)) != nn) {
        (void)local_clear_upto(ctx, cpu, next, done);
        (void)local_install_upto(ctx, cpu, prev, np);
        return HM_EMACHINE;
    }
    HM_STORE(&prev->cpu, HM_NO_CPU);
    HM_STORE(&next->cpu, cpu);
    next->home = cpu;
    HM_STORE(&ctx->cpus[cpu].task, task);
    return HM_OK;
}

int hm_local_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    uint32_t cpu, pos;
    if (!local_slot_index(ctx, vaddr, &cpu, &pos))
        return HM_ERANGE;
    if (cpu < ctx->layout.nr_cpus) {
        const struct hm_task *t = local_current(ctx, cpu);
        if ((int32_t)pos < HM_LOAD(&t->idx) && !hm_pte_is_none(ctx, t->pteval[pos]) &&
            hm_page_base(&ctx->layout, vaddr) == local_slot(ctx, cpu, pos, t->pteval[pos])) {
            *pfn = hm_pte_page(ctx, t->pteval[pos]);
            return HM_OK;
        }
    }
    return hm_core_bug(ctx, HM_BUG_NOT_MAPPED, HM_EFAULT, "kmap_to_page", vaddr);
}
