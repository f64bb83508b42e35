/* kmap.c - the public kmap family: argument checks, then the arch's front or the core's
 * default (the !CONFIG_HIGHMEM / asm-generic behaviour), plus page_address and kmap_to_page.
 * SPDX-License-Identifier: MIT */
#include "fast.h"

static int bad_arg(struct hm_ctx *ctx, const char *function, uint64_t arg)
{
    return hm_core_bug(ctx, HM_BUG_BAD_ARG, HM_EINVAL, function, arg);
}

/* An address argument outside the machine's space [0, 2^va_bits) is refused before any
 * arithmetic on it (nothing changes), so that no mask or subtraction can alias it onto an
 * address inside the space: BAD_ADDR, as for an address of no region. */
static int vaddr_check(struct hm_ctx *ctx, hm_vaddr_t vaddr, const char *function)
{
    if (!hm_va_ok(&ctx->layout, vaddr))
        return hm_core_bug(ctx, HM_BUG_BAD_ADDR, HM_ERANGE, function, vaddr);
    return HM_OK;
}

static int pfn_check(struct hm_ctx *ctx, hm_pfn_t pfn, const char *function)
{
    if (pfn >= ctx->layout.max_pfn)
        return hm_core_bug(ctx, HM_BUG_PFN_RANGE, HM_ERANGE, function, pfn);
    return HM_OK;
}

static int atomic_args(struct hm_ctx *ctx, uint32_t cpu, unsigned type, const char *function)
{
    if (cpu >= ctx->layout.nr_cpus)
        return bad_arg(ctx, function, cpu);
    if (type >= ctx->layout.nr_km_types)
        return bad_arg(ctx, function, type);
    return HM_OK;
}

/* The checks of the kmap_atomic forms that map a page: out pointer, cpu, type, then pfn. */
static int atomic_map_args(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                           const hm_vaddr_t *vaddr, const char *function)
{
    int err;
    if (!vaddr)
        return bad_arg(ctx, function, pfn);
    if ((err = atomic_args(ctx, cpu, type, function)) != HM_OK)
        return err;
    return pfn_check(ctx, pfn, function);
}

/* The checks of the calls that give a page's address (kmap, page_address): out pointer, then
 * pfn. */
static int page_args(struct hm_ctx *ctx, hm_pfn_t pfn, const hm_vaddr_t *vaddr,
                     const char *function)
{
    if (!vaddr)
        return bad_arg(ctx, function, pfn);
    return pfn_check(ctx, pfn, function);
}

static int do_kmap(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = page_args(ctx, pfn, vaddr, "kmap")) != HM_OK)
        return err;
    if (ctx->arch->kmap)
        return ctx->arch->kmap(ctx, pfn, may_sleep, vaddr);
    return hm_kmap_default(ctx, pfn, may_sleep, vaddr);
}

int hm_kmap(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    return do_kmap(ctx, pfn, 1, vaddr);
}

int hm_kmap_try(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    return do_kmap(ctx, pfn, 0, vaddr);
}

int hm_kunmap(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = pfn_check(ctx, pfn, "kunmap")) != HM_OK)
        return err;
    if (ctx->arch->kunmap)
        return ctx->arch->kunmap(ctx, pfn);
    /* x86 / ppc / arm: BUG if in_interrupt(), lowmem pages return, highmem goes to kunmap_high.
     * Where kmap_high_get exists, kunmap_high takes its lock irq-safe and may run in interrupt
     * context, and hm_kunmap is also the release of a kmap_high_get pin: no BUG there. */
    if (hm_in_interrupt(ctx) && !hm_has_kmap_high_get(ctx))
        return hm_core_bug(ctx, HM_BUG_IN_INTERRUPT, HM_EINVAL, "kunmap", pfn);
    if (!hm_is_highmem(ctx, pfn))
        return HM_OK;
    return hm_kunmap_high(ctx, pfn);
}

int hm_kmap_atomic_prot(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type, hm_pte_t prot,
                        hm_vaddr_t *vaddr)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = atomic_map_args(ctx, cpu, pfn, type, vaddr, "kmap_atomic")) != HM_OK)
        return err;
    if (ctx->layout.km_max_idx) /* 5.11: the wrapper around kmap_local, type ignored */
        return hm_local_kmap_atomic(ctx, cpu, pfn, prot, 0, vaddr);
    if (ctx->arch->kmap_atomic_prot)
        return ctx->arch->kmap_atomic_prot(ctx, cpu, pfn, type, prot, vaddr);
    /* !CONFIG_HIGHMEM: pagefault_disable(), then page_address(); prot is ignored */
    return hm_core_kmap_atomic_lowmem(ctx, cpu, pfn, vaddr);
}

int hm_kmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type, hm_vaddr_t *vaddr)
{
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    return hm_kmap_atomic_prot(ctx, cpu, pfn, type, ctx->arch->kmap_prot, vaddr);
}

int hm_kmap_atomic_pfn(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type, hm_vaddr_t *vaddr)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = atomic_map_args(ctx, cpu, pfn, type, vaddr, "kmap_atomic_pfn")) != HM_OK)
        return err;
    if (ctx->layout.km_max_idx) /* 5.11: __kmap_local_pfn_prot maps any pfn */
        return hm_local_kmap_atomic(ctx, cpu, pfn, ctx->arch->kmap_prot, 1, vaddr);
    if (ctx->arch->kmap_atomic_pfn)
        return ctx->arch->kmap_atomic_pfn(ctx, cpu, pfn, type, vaddr);
    return hm_kmap_atomic(ctx, cpu, pfn, type, vaddr); /* kmap_atomic(pfn_to_page(pfn)) */
}

int hm_kunmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr, unsigned type)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = atomic_args(ctx, cpu, type, "kunmap_atomic")) != HM_OK ||
        (err = vaddr_check(ctx, vaddr, "kunmap_atomic")) != HM_OK)
        return err;
    if (ctx->layout.km_max_idx) /* 5.11: kunmap_local, then pagefault_enable */
        return hm_local_kunmap_atomic(ctx, cpu, vaddr);
    if (ctx->arch->kunmap_atomic)
        return ctx->arch->kunmap_atomic(ctx, cpu, vaddr, type);
    return hm_core_pagefault_enable(ctx, cpu); /* !CONFIG_HIGHMEM: pagefault_enable() only */
}

int hm_kmap_high_get(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = page_args(ctx, pfn, vaddr, "kmap_high_get")) != HM_OK)
        return err;
    if (!hm_has_kmap_high_get(ctx))
        return hm_core_bug(ctx, HM_BUG_UNAVAILABLE, HM_EINVAL, "kmap_high_get", pfn);
    if (!hm_is_highmem(ctx, pfn)) /* its callers pass highmem pages only */
        return bad_arg(ctx, "kmap_high_get", pfn);
    return hm_core_kmap_high_get(ctx, pfn, vaddr);
}

/* virt_to_page() for the direct map; anything else is out of range. */
static int direct_map_pfn(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    if (vaddr >= ctx->layout.page_offset && vaddr < ctx->layout.high_memory) {
        *pfn = hm_core_virt_to_pfn(ctx, vaddr);
        return HM_OK;
    }
    return HM_ERANGE;
}

int hm_kmap_atomic_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if (!pfn)
        return bad_arg(ctx, "kmap_atomic_to_page", vaddr);
    if ((err = vaddr_check(ctx, vaddr, "kmap_atomic_to_page")) != HM_OK)
        return err;
    if (ctx->arch->kmap_atomic_to_page)
        return ctx->arch->kmap_atomic_to_page(ctx, vaddr, pfn);
    if (direct_map_pfn(ctx, vaddr, pfn) != HM_OK)
        return hm_core_bug(ctx, HM_BUG_BAD_ADDR, HM_ERANGE, "kmap_atomic_to_page", vaddr);
    return HM_OK;
}

/* kmap_to_page as later kernels have it (3.6 with the 2012 bound fix, spec §10.4), extended to
 * every region and offered in every generation: the direct map arithmetically, first; in 5.11 a
 * kmap_local slot from the stack of the task running on its CPU (spec §10.4, 2022); anything
 * else in the page-table window (the pkmap slots [PKMAP_ADDR(0), PKMAP_ADDR(LAST_PKMAP)), the
 * atomic slots) by its PTE. PKMAP_ADDR(LAST_PKMAP) is never read as a pkmap slot: on arm it is
 * PAGE_OFFSET, a direct-map address; elsewhere whatever the window holds there (none:
 * NOT_MAPPED). */
int hm_kmap_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    const struct hm_layout *l;
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if (!pfn)
        return bad_arg(ctx, "kmap_to_page", vaddr);
    if ((err = vaddr_check(ctx, vaddr, "kmap_to_page")) != HM_OK)
        return err;
    l = &ctx->layout;
    if (direct_map_pfn(ctx, vaddr, pfn) == HM_OK)
        return HM_OK;
    if (l->km_max_idx && (err = hm_local_to_page(ctx, vaddr, pfn)) != HM_ERANGE)
        return err;
    if (l->pt_pages && vaddr >= l->pt_start &&
        ((uint64_t)vaddr - l->pt_start) >> l->page_shift < l->pt_pages) {
        hm_pte_t pte = hm_core_get_pte(ctx, hm_page_base(l, vaddr));
        if (hm_core_pte_none(ctx, pte))
            return hm_core_bug(ctx, HM_BUG_NOT_MAPPED, HM_EFAULT, "kmap_to_page", vaddr);
        *pfn = hm_core_pte_pfn(ctx, pte);
        return HM_OK;
    }
    return hm_core_bug(ctx, HM_BUG_BAD_ADDR, HM_ERANGE, "kmap_to_page", vaddr);
}

/* The checks of the kmap_local calls: a 5.11 context, then the cpu. */
static int local_args(struct hm_ctx *ctx, uint32_t cpu, const char *function)
{
    if (!ctx->layout.km_max_idx)
        return hm_core_bug(ctx, HM_BUG_UNAVAILABLE, HM_EINVAL, function, 0);
    if (cpu >= ctx->layout.nr_cpus)
        return bad_arg(ctx, function, cpu);
    return HM_OK;
}

int hm_kmap_local_page(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = local_args(ctx, cpu, "kmap_local_page")) != HM_OK ||
        (err = page_args(ctx, pfn, vaddr, "kmap_local_page")) != HM_OK)
        return err;
    return hm_local_map(ctx, cpu, pfn, ctx->arch->kmap_prot, 0, vaddr);
}

int hm_kunmap_local(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = local_args(ctx, cpu, "kunmap_local")) != HM_OK ||
        (err = vaddr_check(ctx, vaddr, "kunmap_local")) != HM_OK)
        return err;
    return hm_local_unmap(ctx, cpu, vaddr);
}

int hm_switch(struct hm_ctx *ctx, uint32_t cpu, uint32_t task)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = local_args(ctx, cpu, "schedule")) != HM_OK)
        return err;
    if (task >= ctx->layout.nr_tasks)
        return bad_arg(ctx, "schedule", task);
    return hm_local_switch(ctx, cpu, task);
}

/* page_address() of a highmem page: the kernel's answer in both modes (a record pointing
 * outside the window, only in a corrupted table, reads as NULL). Like the kernel's, it may be
 * a slot a flush is about to tear down: only a kmap pins it. */
static hm_vaddr_t hm_page_address_of(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    uint32_t nr = hm_page_address_slot_exact(ctx, pfn);
    return nr < ctx->last_pkmap ? hm_pkmap_addr(ctx, nr) : 0;
}

int hm_page_address(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    int err;
    if (!hm_ctx_ok(ctx))
        return HM_EINVAL;
    if ((err = page_args(ctx, pfn, vaddr, "page_address")) != HM_OK)
        return err;
    if (!hm_is_highmem(ctx, pfn))
        *vaddr = hm_lowmem_address(ctx, pfn);
    else
        *vaddr = ctx->last_pkmap ? hm_page_address_of(ctx, pfn) : 0;
    return HM_OK;
}

int hm_page_is_highmem(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    if (!hm_ctx_ok(ctx) || pfn >= ctx->layout.max_pfn)
        return -1;
    return hm_core_is_highmem(ctx, pfn);
}

hm_pte_t hm_mk_kmap_pte(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return hm_ctx_ok(ctx) ? hm_core_mk_pte(ctx, pfn, ctx->arch->kmap_prot) : 0;
}

int hm_pte_none(const struct hm_ctx *ctx, hm_pte_t pte)
{
    return hm_ctx_ok(ctx) ? hm_core_pte_none(ctx, pte) : 1;
}

hm_pfn_t hm_pte_pfn(const struct hm_ctx *ctx, hm_pte_t pte)
{
    return hm_ctx_ok(ctx) ? hm_core_pte_pfn(ctx, pte) : 0;
}
