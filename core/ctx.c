/* ctx.c - context set-up and layout, the names of errors/bugs/events, the core services the
 * arch fronts call (PTE writes, flushes, pagefault depth, BUG reports), and inspection.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

/* ---- names ---------------------------------------------------------------------------- */

const char *hm_strerror(int err)
{
    static const char *const names[] = {"OK", "EINVAL", "ERANGE", "EAGAIN", "EBUSY", "EFAULT", "ENOSPC"};
    if (err < 0 || (unsigned)err >= sizeof names / sizeof names[0])
        return "EUNKNOWN";
    return names[err];
}

const char *hm_bug_name(int bug)
{
    static const char *const names[HM_BUG__COUNT] = {
        "NONE", "PFN_RANGE", "BAD_ARG", "KUNMAP_UNMAPPED", "KUNMAP_ZERO", "KMAP_COUNT",
        "POOL_EMPTY", "SET_ADDR_LOWMEM", "FLUSH_PTE_NONE", "IN_INTERRUPT", "ATOMIC_BUSY",
        "ATOMIC_UNBALANCED", "ATOMIC_BAD_ADDR", "VIRT_TO_FIX", "BAD_ADDR", "NOT_MAPPED"};
    if (bug < 0 || bug >= HM_BUG__COUNT)
        return "UNKNOWN";
    return names[bug];
}

const char *hm_event_name(int kind)
{
    static const char *const names[] = {
        "none", "pte_set", "pte_clear", "tlb_flush_range", "tlb_flush_page", "tlb_flush_all",
        "cache_flush_all", "flush_all_zero_pkmaps", "flush_done", "sleep", "wakeup", "stale_tlb", "bug"};
    if (kind < 0 || (unsigned)kind >= sizeof names / sizeof names[0])
        return "unknown";
    return names[kind];
}

/* ---- layout --------------------------------------------------------------------------- */

static int is_pow2(uint32_t v)
{
    return v && !(v & (v - 1u));
}

int hm_layout_compute(const struct hm_config *cfg, struct hm_layout *out)
{
    const struct hm_arch *arch;
    struct hm_layout l = {0};
    uint32_t nr_cpus, last_pkmap = 0, highmem_pages = 0;

    if (!cfg || !out || !cfg->arch)
        return HM_EINVAL;
    arch = cfg->arch;
    if (arch->abi_version != HM_ARCH_ABI_VERSION || !arch->layout || arch->page_shift < 10 ||
        arch->page_shift > 16 || arch->lowmem_pages == 0)
        return HM_EINVAL;
    nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : 1;
    if (nr_cpus > HM_MAX_CPUS)
        return HM_EINVAL;
    if (arch->has_highmem) {
        last_pkmap = cfg->last_pkmap ? cfg->last_pkmap : arch->default_last_pkmap;
        if (!is_pow2(last_pkmap) || last_pkmap < 2 || last_pkmap > HM_MAX_PKMAP)
            return HM_EINVAL;
        highmem_pages = cfg->highmem_pages ? cfg->highmem_pages : arch->default_highmem_pages;
        if (highmem_pages == 0 || highmem_pages > UINT32_MAX - arch->lowmem_pages)
            return HM_EINVAL;
    }

    l.arch = arch->name;
    l.page_shift = arch->page_shift;
    l.page_size = 1u << arch->page_shift;
    l.page_offset = arch->page_offset;
    l.highmem_start_pfn = arch->lowmem_pages;
    l.max_pfn = arch->lowmem_pages + highmem_pages;
    l.high_memory = arch->page_offset + (arch->lowmem_pages << arch->page_shift);
    l.last_pkmap = last_pkmap;
    l.nr_cpus = nr_cpus;
    l.pte_bytes = arch->pte_bytes;
    l.mem_map = arch->mem_map;
    l.struct_page_size = arch->struct_page_size;
    if (arch->layout(cfg, &l) != HM_OK)
        return HM_EINVAL;
    *out = l;
    return HM_OK;
}

/* ---- context -------------------------------------------------------------------------- */

#define HM_ALIGN 16u
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
    size_t count_off, pam_off, cpu_off, total;
};

static void plan(const struct hm_layout *l, struct ctx_plan *p)
{
    p->count_off = round_up(sizeof(struct hm_ctx));
    p->pam_off = round_up(p->count_off + (size_t)l->last_pkmap * sizeof(int32_t));
    p->cpu_off = round_up(p->pam_off + (size_t)l->last_pkmap * sizeof(struct hm_pam));
    p->total = round_up(p->cpu_off + (size_t)l->nr_cpus * sizeof(struct hm_cpu_state));
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
     * are most of the context (LAST_PKMAP x 16 bytes) and need one store per element, not per
     * byte. page_address_maps is filled by hm_page_address_init. */
    ctx = mem;
    *ctx = (struct hm_ctx){0};
    atomic_init(&ctx->bugs, 0u);
    for (int b = 0; b < HM_BUG__COUNT; b++)
        atomic_init(&ctx->bug_by_kind[b], 0u);
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
    ctx->last_pkmap_nr = 0;
    ctx->pkmap_count = (int32_t *)(void *)(base + p.count_off);
    ctx->page_address_maps = (struct hm_pam *)(void *)(base + p.pam_off);
    ctx->cpus = (struct hm_cpu_state *)(void *)(base + p.cpu_off);
    for (uint32_t i = 0; i < l.last_pkmap; i++)
        ctx->pkmap_count[i] = 0;
    for (uint32_t i = 0; i < l.nr_cpus; i++)
        ctx->cpus[i].pagefault_disabled = 0;
    hm_page_address_init(ctx);
    ctx->magic = HM_CTX_MAGIC;
    *out = ctx;
    return HM_OK;
}

int hm_ctx_ok(const struct hm_ctx *ctx)
{
    return ctx && ctx->magic == HM_CTX_MAGIC;
}

const struct hm_layout *hm_ctx_layout(const struct hm_ctx *ctx)
{
    return hm_ctx_ok(ctx) ? &ctx->layout : 0;
}

/* ---- core services -------------------------------------------------------------------- */

void hm_emit(struct hm_ctx *ctx, int kind, uint32_t cpu, uint32_t a, uint32_t b, hm_pte_t pte)
{
    if (ctx->hooks.on_event) {
        struct hm_event ev = {kind, cpu, a, b, pte};
        ctx->hooks.on_event(ctx->hooks.event_cookie, &ev);
    }
}

int hm_core_bug(struct hm_ctx *ctx, int bug, int err, const char *function, uint32_t arg)
{
    struct hm_bug_report r = {bug, err, function, arg};
    atomic_fetch_add_explicit(&ctx->bugs, 1u, memory_order_relaxed);
    if (bug > 0 && bug < HM_BUG__COUNT)
        atomic_fetch_add_explicit(&ctx->bug_by_kind[bug], 1u, memory_order_relaxed);
    hm_emit(ctx, HM_EV_BUG, HM_CPU_ALL, (uint32_t)bug, arg, 0);
    if (ctx->hooks.on_bug)
        ctx->hooks.on_bug(ctx->hooks.bug_cookie, &r);
    return err;
}

void hm_core_set_pte(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pte_t pte)
{
    hm_emit(ctx, HM_EV_PTE_SET, HM_CPU_ALL, vaddr, hm_core_pte_pfn(ctx, pte), pte);
    ctx->machine.set_pte(ctx->machine.m, vaddr, pte);
}

void hm_core_pte_clear(struct hm_ctx *ctx, hm_vaddr_t vaddr)
{
    hm_emit(ctx, HM_EV_PTE_CLEAR, HM_CPU_ALL, vaddr, 0, 0);
    ctx->machine.set_pte(ctx->machine.m, vaddr, 0);
}

hm_pte_t hm_core_get_pte(const struct hm_ctx *ctx, hm_vaddr_t vaddr)
{
    return ctx->machine.get_pte ? ctx->machine.get_pte(ctx->machine.m, vaddr) : 0;
}

void hm_core_flush_tlb_page(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr)
{
    hm_emit(ctx, HM_EV_TLB_FLUSH_PAGE, cpu, vaddr, 0, 0);
    if (ctx->machine.flush_tlb_page)
        ctx->machine.flush_tlb_page(ctx->machine.m, cpu, vaddr);
}

void hm_core_flush_tlb_all(struct hm_ctx *ctx)
{
    hm_emit(ctx, HM_EV_TLB_FLUSH_ALL, HM_CPU_ALL, 0, 0, 0);
    if (ctx->machine.flush_tlb_all)
        ctx->machine.flush_tlb_all(ctx->machine.m);
}

void hm_core_flush_cache_all(struct hm_ctx *ctx)
{
    hm_emit(ctx, HM_EV_CACHE_FLUSH_ALL, HM_CPU_ALL, 0, 0, 0);
    if (ctx->machine.flush_cache_all)
        ctx->machine.flush_cache_all(ctx->machine.m);
}

void hm_core_pagefault_disable(struct hm_ctx *ctx, uint32_t cpu)
{
    ctx->cpus[cpu].pagefault_disabled++;
}

int hm_core_pagefault_enable(struct hm_ctx *ctx, uint32_t cpu)
{
    if (ctx->cpus[cpu].pagefault_disabled <= 0)
        return hm_core_bug(ctx, HM_BUG_ATOMIC_UNBALANCED, HM_EINVAL, "kunmap_atomic", cpu);
    ctx->cpus[cpu].pagefault_disabled--;
    return HM_OK;
}

int hm_core_pagefault_depth(const struct hm_ctx *ctx, uint32_t cpu)
{
    return ctx->cpus[cpu].pagefault_disabled;
}

int hm_core_kmap_atomic_lowmem(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    hm_core_pagefault_disable(ctx, cpu);
    *vaddr = hm_core_lowmem_address(ctx, pfn);
    return HM_OK;
}

int hm_core_virt_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    hm_pfn_t p = hm_core_virt_to_pfn(ctx, vaddr);
    if (vaddr < ctx->layout.page_offset || p >= ctx->layout.max_pfn)
        return hm_core_bug(ctx, HM_BUG_BAD_ADDR, HM_ERANGE, "kmap_atomic_to_page", vaddr);
    *pfn = p;
    return HM_OK;
}

int hm_core_in_interrupt(const struct hm_ctx *ctx)
{
    return ctx->machine.in_interrupt ? ctx->machine.in_interrupt(ctx->machine.m) != 0 : 0;
}

int hm_core_debug_highmem(const struct hm_ctx *ctx)
{
    return ctx->cfg.debug_highmem != 0;
}

int hm_core_is_highmem(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return pfn >= ctx->layout.highmem_start_pfn && pfn < ctx->layout.max_pfn;
}

hm_vaddr_t hm_core_lowmem_address(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return ctx->layout.page_offset + (pfn << ctx->layout.page_shift);
}

hm_pfn_t hm_core_virt_to_pfn(const struct hm_ctx *ctx, hm_vaddr_t vaddr)
{
    return (hm_pfn_t)(vaddr - ctx->layout.page_offset) >> ctx->layout.page_shift;
}

hm_pte_t hm_core_kmap_prot(const struct hm_ctx *ctx)
{
    return ctx->arch->kmap_prot;
}

int hm_core_pte_none(const struct hm_ctx *ctx, hm_pte_t pte)
{
    return ctx->arch->pte_none ? ctx->arch->pte_none(pte) : pte == 0;
}

hm_pfn_t hm_core_pte_pfn(const struct hm_ctx *ctx, hm_pte_t pte)
{
    return ctx->arch->pte_pfn ? ctx->arch->pte_pfn(pte) : (hm_pfn_t)(pte >> ctx->layout.page_shift);
}

hm_pte_t hm_core_mk_pte(const struct hm_ctx *ctx, hm_pfn_t pfn, hm_pte_t prot)
{
    return ctx->arch->mk_pte ? ctx->arch->mk_pte(pfn, prot) : (((hm_pte_t)pfn << ctx->layout.page_shift) | prot);
}

/* ---- inspection ----------------------------------------------------------------------- */

int hm_pkmap_count(const struct hm_ctx *ctx, uint32_t slot)
{
    if (!hm_ctx_ok(ctx) || slot >= ctx->last_pkmap)
        return -1;
    return ctx->pkmap_count[slot];
}

uint32_t hm_last_pkmap_nr(const struct hm_ctx *ctx)
{
    return hm_ctx_ok(ctx) ? ctx->last_pkmap_nr : 0;
}

uint32_t hm_nr_waiters(const struct hm_ctx *ctx)
{
    return hm_ctx_ok(ctx) ? ctx->nr_waiters : 0;
}

int hm_pagefault_depth(const struct hm_ctx *ctx, uint32_t cpu)
{
    if (!hm_ctx_ok(ctx) || cpu >= ctx->layout.nr_cpus)
        return -1;
    return ctx->cpus[cpu].pagefault_disabled;
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
    *out = ctx->stats;
    out->bugs = atomic_load_explicit(&ctx->bugs, memory_order_relaxed);
    for (int b = 0; b < HM_BUG__COUNT; b++)
        out->bug_by_kind[b] = atomic_load_explicit(&ctx->bug_by_kind[b], memory_order_relaxed);
}
