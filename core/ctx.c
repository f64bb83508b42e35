/* ctx.c - the context: its size and alignment, hm_ctx_init (in storage the caller provides),
 * the validity check every public call makes, and the layout it was built with.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

/* 64: the slots array starts on a cache line (struct hm_slot). */
#define HM_ALIGN 64u
static size_t round_up(size_t v)
{
    return (v + HM_ALIGN - 1u) & ~(size_t)(HM_ALIGN - 1u);
}

size_t hm_ctx_align(void)
{
    return HM_ALIGN;
}

/* Offsets of the variable-size arrays behind struct hm_ctx. */
struct ctx_plan {
    size_t slot_off, hint_off, pam_off, cpu_off, colour_off, task_off, total;
};

/* The per-colour cursors and waiter counts of a coloured layout follow the CPUs; an
 * uncoloured one uses the context's own colour0 and needs no more room. */
static size_t colour_bytes(const struct hm_layout *l)
{
    return l->pkmap_colours > 1u ? (size_t)l->pkmap_colours * sizeof(struct hm_colour) : 0u;
}

/* 5.11: the task records, each CPU's idle task and tasks 1..nr_tasks-1 (none before 5.11). */
static uint32_t nr_task_records(const struct hm_layout *l)
{
    return l->km_max_idx ? l->nr_cpus + l->nr_tasks - 1u : 0u;
}
static void plan(const struct hm_layout *l, struct ctx_plan *p)
{
    p->slot_off = round_up(sizeof(struct hm_ctx));
    p->hint_off = round_up(p->slot_off + (size_t)l->last_pkmap * sizeof(struct hm_slot));
    p->pam_off = round_up(p->hint_off + (size_t)l->last_pkmap * 2u * sizeof(uint32_t));
    p->cpu_off = round_up(p->pam_off + (size_t)l->last_pkmap * sizeof(struct hm_pam));
    p->colour_off = round_up(p->cpu_off + (size_t)l->nr_cpus * sizeof(struct hm_cpu_state));
    p->task_off = round_up(p->colour_off + colour_bytes(l));
    p->total = round_up(p->task_off + (size_t)nr_task_records(l) * sizeof(struct hm_task));
}

size_t hm_ctx_size(const struct hm_config *cfg)
{
    struct hm_layout l;
    struct ctx_plan p;
    if (hm_layout_compute(cfg, &l) != HM_OK)
        return 0;
    plan(&l, &p);
    return p.total;
}

int hm_ctx_init(void *mem, size_t size, const struct hm_config *cfg, const struct hm_machine *machine,
                const struct hm_hooks *hooks, struct hm_ctx **out)
{
    struct hm_layout l;
    struct ctx_plan p;
    struct hm_ctx *ctx;
    unsigned char *base = mem;

    if (!mem || !cfg || !machine || !out || ((uintptr_t)mem & (HM_ALIGN - 1u)))
        return HM_EINVAL;
    if (hm_layout_compute(cfg, &l) != HM_OK)
        return HM_EINVAL;
    if (l.last_pkmap && (!machine->set_pte || !machine->get_pte))
        return HM_EINVAL;
    plan(&l, &p);
    if (size < p.total)
        return HM_ENOSPC;

    /* Zero the header in one assignment, then each array through its own type: the arrays
     * are most of the context (LAST_PKMAP x 52 bytes) and need one store per element, not per
     * byte. page_address_maps is filled by hm_page_address_init. */
    ctx = mem;
    *ctx = (struct hm_ctx){0};
    ctx->arch = cfg->arch;
    ctx->cfg = *cfg;
    ctx->cfg.nr_cpus = l.nr_cpus;
    ctx->cfg.last_pkmap = l.last_pkmap;
    ctx->layout = l;
    ctx->machine = *machine;
    if (hooks)
        ctx->hooks = *hooks;
    ctx->last_pkmap = l.last_pkmap;
    ctx->last_pkmap_mask = l.last_pkmap ? l.last_pkmap - 1u : 0;
    /* Each colour's cursor starts at the colour itself (the kernel's last_pkmap_nr_arr[c] = 0,
     * plus c): its first scan step lands on slot c + DCACHE_N_COLORS, slot 1 uncoloured. */
    ctx->colour_mask = l.pkmap_colours > 1u ? l.pkmap_colours - 1u : 0;
    ctx->colour = l.pkmap_colours > 1u ? (struct hm_colour *)(void *)(base + p.colour_off) : &ctx->colour0;
    for (uint32_t c = 0; c <= ctx->colour_mask; c++)
        ctx->colour[c] = (struct hm_colour){c, 0};
    ctx->fast = HM_FAST_KMAP && cfg->locking == HM_LOCKING_FAST;
    ctx->cfg.locking = ctx->fast ? HM_LOCKING_FAST : HM_LOCKING_KERNEL;
    for (uint32_t half = l.last_pkmap >> 1; half > 1u; half >>= 1)
        ctx->slot_half_shift++;
    ctx->slots = (struct hm_slot *)(void *)(base + p.slot_off);
    ctx->hint = (uint32_t *)(void *)(base + p.hint_off);
    ctx->hint_mask = l.last_pkmap ? 2u * l.last_pkmap - 1u : 0;
    for (uint32_t i = 0; l.last_pkmap && i <= ctx->hint_mask; i++)
        ctx->hint[i] = HM_NO_SLOT;
    ctx->page_address_maps = (struct hm_pam *)(void *)(base + p.pam_off);
    ctx->cpus = (struct hm_cpu_state *)(void *)(base + p.cpu_off);
    for (uint32_t i = 0; i < l.last_pkmap; i++)
        ctx->slots[i] = (struct hm_slot){0};
    for (uint32_t i = 0; i < l.nr_cpus; i++)
        ctx->cpus[i] = (struct hm_cpu_state){0}; /* pagefault depth 0, running its idle task */
    /* 5.11: every CPU runs its idle task; tasks 1.. have never run; every stack is empty */
    ctx->tasks = nr_task_records(&l) ? (struct hm_task *)(void *)(base + p.task_off) : 0;
    for (uint32_t i = 0; i < nr_task_records(&l); i++) {
        ctx->tasks[i] = (struct hm_task){0};
        ctx->tasks[i].cpu = ctx->tasks[i].home = i < l.nr_cpus ? i : HM_NO_CPU;
    }
    hm_page_address_init(ctx);
    ctx->magic = HM_CTX_MAGIC;
    *out = ctx;
    return HM_OK;
}

const struct hm_layout *hm_ctx_layout(const struct hm_ctx *ctx)
{
    return hm_ctx_ok(ctx) ? &ctx->layout : 0;
}

int hm_ctx_locking(const struct hm_ctx *ctx)
{
    return hm_ctx_ok(ctx) ? ctx->cfg.locking : -1;
}

int hm_ctx_kernel(const struct hm_ctx *ctx)
{
    return hm_ctx_ok(ctx) ? (int)ctx->layout.kernel : -1;
}
