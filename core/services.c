/* services.c - the hm_core_* services arch fronts call (highmem_arch.h): hardware actions that
 * emit their event first, pagefault depth, atomic slot addresses, PTE format, address arithmetic.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

/* The machine's set_pte, after the write's own event: a refusal is counted and reported
 * (HM_EV_MACHINE_FAIL) and HM_EMACHINE returned; the caller undoes what it began. */
static int write_pte(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pte_t pte)
{
    if (ctx->machine.set_pte(ctx->machine.m, vaddr, pte) == 0)
        return HM_OK;
    HM_ADD(&ctx->machine_fails, 1u);
    hm_emit(ctx, HM_EV_MACHINE_FAIL, HM_CPU_ALL, vaddr, 0, pte);
    return HM_EMACHINE;
}

int hm_core_set_pte(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pte_t pte)
{
    hm_emit(ctx, HM_EV_PTE_SET, HM_CPU_ALL, vaddr, hm_core_pte_pfn(ctx, pte), pte);
    return write_pte(ctx, vaddr, pte);
}

int hm_core_pte_clear(struct hm_ctx *ctx, hm_vaddr_t vaddr)
{
    hm_emit(ctx, HM_EV_PTE_CLEAR, HM_CPU_ALL, vaddr, 0, 0);
    return write_pte(ctx, vaddr, 0);
}

hm_pte_t hm_core_get_pte(const struct hm_ctx *ctx, hm_vaddr_t vaddr)
{
    return hm_pte_get(ctx, vaddr);
}

void hm_core_flush_tlb_range(struct hm_ctx *ctx, hm_vaddr_t start, hm_vaddr_t end)
{
    hm_emit(ctx, HM_EV_TLB_FLUSH_RANGE, HM_CPU_ALL, start, end, 0);
    if (ctx->machine.flush_tlb_range)
        ctx->machine.flush_tlb_range(ctx->machine.m, start, end);
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

void hm_core_flush_cache_page(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr)
{
    hm_emit(ctx, HM_EV_CACHE_FLUSH_PAGE, cpu, vaddr, 0, 0);
    if (ctx->machine.flush_cache_page)
        ctx->machine.flush_cache_page(ctx->machine.m, cpu, vaddr);
}

/* A CPU's depth is changed only by the thread running as that CPU; hm_pagefault_depth may read
 * it from any thread, hence the atomic accesses. */
void hm_core_pagefault_disable(struct hm_ctx *ctx, uint32_t cpu)
{
    HM_STORE(&ctx->cpus[cpu].pagefault_disabled, ctx->cpus[cpu].pagefault_disabled + 1);
}

int hm_core_pagefault_enable(struct hm_ctx *ctx, uint32_t cpu)
{
    if (ctx->cpus[cpu].pagefault_disabled <= 0)
        return hm_core_bug(ctx, HM_BUG_ATOMIC_UNBALANCED, HM_EINVAL, "kunmap_atomic", cpu);
    HM_STORE(&ctx->cpus[cpu].pagefault_disabled, ctx->cpus[cpu].pagefault_disabled - 1);
    return HM_OK;
}

int hm_core_pagefault_depth(const struct hm_ctx *ctx, uint32_t cpu)
{
    return HM_LOAD(&ctx->cpus[cpu].pagefault_disabled);
}

/* idx = type + KM_TYPE_NR * cpu, idx pages from the atomic window's base in its direction: x86
 * and sparc __fix_to_virt(FIX_KMAP_BEGIN + idx) (dir -1), ppc KMAP_FIX_BEGIN + idx * PAGE_SIZE
 * (dir +1). Where KM_TYPE_NR counts more than the real types, a __KM_FENCE_n stands before
 * every type and after the last (x86 CONFIG_DEBUG_HIGHMEM): type t is enum value 2t + 1. In
 * 5.11 (km_max_idx set) type is a kmap_local stack position and the stride is KM_MAX_IDX
 * (kmap_local_calc_idx), whatever KM_TYPE_NR the arch's layout op left.
 * Pre: cpu < nr_cpus, type < nr_km_types (5.11: < km_max_idx), so the slot lies inside the
 * page-table window (below kmap_atomic_base by at most the fixmap's size: the subtraction never
 * wraps). */
hm_vaddr_t hm_core_atomic_slot(const struct hm_ctx *ctx, uint32_t cpu, unsigned type)
{
    const struct hm_layout *l = &ctx->layout;
    uint32_t km = !l->km_max_idx && l->km_type_nr > l->nr_km_types ? 2u * type + 1u : type;
    uint32_t stride = l->km_max_idx ? l->km_max_idx : l->km_type_nr;
    hm_vaddr_t offset = ((hm_vaddr_t)km + (hm_vaddr_t)stride * cpu) << l->page_shift;
    return l->kmap_atomic_dir < 0 ? l->kmap_atomic_base - offset : l->kmap_atomic_base + offset;
}

int hm_core_kmap_atomic_lowmem(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    hm_core_pagefault_disable(ctx, cpu);
    *vaddr = hm_core_lowmem_address(ctx, pfn);
    return HM_OK;
}

int hm_core_virt_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    uint64_t p;
    if (vaddr < ctx->layout.page_offset)
        return hm_core_bug(ctx, HM_BUG_BAD_ADDR, HM_ERANGE, "kmap_atomic_to_page", vaddr);
    p = ((uint64_t)vaddr - ctx->layout.page_offset) >> ctx->layout.page_shift; /* 64 bits: no alias */
    if (p >= ctx->layout.max_pfn)
        return hm_core_bug(ctx, HM_BUG_BAD_ADDR, HM_ERANGE, "kmap_atomic_to_page", vaddr);
    *pfn = (hm_pfn_t)p;
    return HM_OK;
}

int hm_core_in_interrupt(const struct hm_ctx *ctx)
{
    return hm_in_interrupt(ctx);
}

int hm_core_debug_highmem(const struct hm_ctx *ctx)
{
    return ctx->cfg.debug_highmem != 0;
}

int hm_core_is_highmem(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return hm_is_highmem(ctx, pfn);
}

hm_vaddr_t hm_core_lowmem_address(const struct hm_ctx *ctx, hm_pfn_t pfn)
{
    return hm_lowmem_address(ctx, pfn);
}

/* Shifted in 64 bits, then narrowed: the pre-condition (highmem_arch.h) keeps the pfn within
 * 32 bits. */
hm_pfn_t hm_core_virt_to_pfn(const struct hm_ctx *ctx, hm_vaddr_t vaddr)
{
    return (hm_pfn_t)(((uint64_t)vaddr - ctx->layout.page_offset) >> ctx->layout.page_shift);
}

hm_pte_t hm_core_kmap_prot(const struct hm_ctx *ctx)
{
    return ctx->arch->kmap_prot;
}

int hm_core_pte_none(const struct hm_ctx *ctx, hm_pte_t pte)
{
    return hm_pte_is_none(ctx, pte);
}

hm_pfn_t hm_core_pte_pfn(const struct hm_ctx *ctx, hm_pte_t pte)
{
    return hm_pte_page(ctx, pte);
}

hm_pte_t hm_core_mk_pte(const struct hm_ctx *ctx, hm_pfn_t pfn, hm_pte_t prot)
{
    return hm_pte_make(ctx, pfn, prot);
}
