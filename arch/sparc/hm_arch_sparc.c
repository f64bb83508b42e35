/* hm_arch_sparc.c - the sparc32 (SRMMU) backend of 2.6.24: PKMAP_BASE above the nocache pool,
 * a descending fixmap under 0xfcfff000, whole-cache and whole-TLB flushes around kmap_atomic,
 * and a kunmap_atomic that leaves the PTE in place unless CONFIG_DEBUG_HIGHMEM is on.
 * SPDX-License-Identifier: MIT */
#include "highmem_arch.h"

/* SRMMU PTE: entry type in bits 1..0, ACC in 4..2, C(acheable) bit 7, physical page number
 * (physical address bits 35..12) in bits 31..8. */
#define SRMMU_ET_MASK 0x3u
#define SRMMU_ET_PTE 0x2u
#define SRMMU_PRIV 0x1cu  /* ACC = 7: supervisor read/write/execute */
#define SRMMU_CACHE 0x80u
#define SRMMU_PTE_PMASK 0xffffff00u
#define SPARC_KMAP_PROT (SRMMU_ET_PTE | SRMMU_PRIV | SRMMU_CACHE)

#define SPARC_KERNBASE 0xf0000000u
#define SPARC_NOCACHE_VADDR 0xfc000000u    /* KERNBASE + SRMMU_MAXMEM */
#define SPARC_MAX_NOCACHE_PAGES 1280u
/* PMD_ALIGN granule for PKMAP_BASE: 4 MiB, the "pagetable boundary" of the header comment (the
 * Linux-level sparc32 PMD; a hardware SRMMU table maps 256 KiB). Spec §12.5: unverified. */
#define SPARC_PKMAP_ALIGN (4u << 20)
#define SPARC_FIXADDR_TOP 0xfcfff000u
#define SPARC_CONFIG_NR_CPUS 32u           /* NR_CPUS (raised to --cpus) */
#define SPARC_NOCACHE_PHYS 0x00400000u     /* where the boot code put the nocache pool */
#define SPARC_VMALLOC_START 0xfe600000u    /* the SRMMU vmalloc area above the I/O area */
#define SPARC_VMALLOC_END 0xffc00000u

#define SPARC_FIX_KMAP_BEGIN 1u /* after FIX_HOLE */

static int sparc_layout(const struct hm_config *cfg, struct hm_layout *l)
{
    uint32_t nr_cpus_config = l->nr_cpus > SPARC_CONFIG_NR_CPUS ? l->nr_cpus : SPARC_CONFIG_NR_CPUS;
    uint32_t nocache_end = SPARC_NOCACHE_VADDR + (SPARC_MAX_NOCACHE_PAGES << l->page_shift);
    (void)cfg;

    if (l->max_pfn > (1u << 24)) /* 36-bit physical addresses */
        return HM_EINVAL;
    l->km_types = hm_km_types_common;
    l->nr_km_types = HM_NR_KM_TYPES_COMMON;
    l->km_type_nr = hm_kmap_slots_per_cpu(l, HM_NR_KM_TYPES_COMMON); /* no fences on sparc */
    l->config_nr_cpus = nr_cpus_config;
    /* PKMAP_BASE = PMD_ALIGN(SRMMU_NOCACHE_VADDR + (SRMMU_MAX_NOCACHE_PAGES << PAGE_SHIFT)) */
    l->pkmap_base = (nocache_end + SPARC_PKMAP_ALIGN - 1u) & ~(SPARC_PKMAP_ALIGN - 1u);
    /* enum fixed_addresses: FIX_HOLE, FIX_KMAP_BEGIN..FIX_KMAP_END, __end_of_fixed_addresses */
    l->fix_kmap_begin = SPARC_FIX_KMAP_BEGIN;
    l->nr_fixmap = SPARC_FIX_KMAP_BEGIN + l->km_type_nr * nr_cpus_config;
    l->fixaddr_top = SPARC_FIXADDR_TOP;
    l->fixaddr_start = l->fixaddr_boot_start = SPARC_FIXADDR_TOP - (l->nr_fixmap << l->page_shift);
    if (l->pkmap_base + ((uint64_t)l->last_pkmap << l->page_shift) > l->fixaddr_start)
        return HM_EINVAL; /* the pkmap window would run into the fixmap */
    l->kmap_atomic_base = hm_fix_to_virt(l, SPARC_FIX_KMAP_BEGIN);
    l->kmap_atomic_dir = -1;
    l->vmalloc_start = SPARC_VMALLOC_START;
    l->vmalloc_end = SPARC_VMALLOC_END;
    l->pt_start = l->pkmap_base;
    /* PKMAP_BASE lies below FIXADDR_TOP (checked above): a count of at most 2^20 pages */
    l->pt_pages = (uint32_t)((SPARC_FIXADDR_TOP - l->pkmap_base) >> l->page_shift) + 1u;
    return HM_OK;
}

static hm_pte_t sparc_mk_pte(hm_pfn_t pfn, hm_pte_t prot)
{
    return (hm_pte_t)((((uint32_t)pfn << 8) & SRMMU_PTE_PMASK) | (uint32_t)(prot & 0xffu));
}

static int sparc_pte_none(hm_pte_t pte)
{
    return ((uint32_t)pte & 0x0fffffffu) == 0; /* srmmu_pte_none */
}

static hm_pfn_t sparc_pte_pfn(hm_pte_t pte)
{
    return ((uint32_t)pte & SRMMU_PTE_PMASK) >> 8;
}

static int sparc_kmap_atomic_prot(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                                  hm_pte_t prot, hm_vaddr_t *vaddr)
{
    hm_vaddr_t v;

    if (!hm_core_is_highmem(ctx, pfn))
        return hm_core_kmap_atomic_lowmem(ctx, cpu, pfn, vaddr);
    v = hm_core_atomic_slot(ctx, cpu, type);
    /* The kernel flushes the whole cache before its DEBUG_HIGHMEM busy check, so a BUG still
     * shows that flush (it changes no state); the pagefault depth is only raised on success. */
    hm_core_flush_cache_all(ctx); /* the per-page cache flush is #if 0'd out */
    if (hm_core_debug_highmem(ctx) && !hm_core_pte_none(ctx, hm_core_get_pte(ctx, v)))
        return hm_core_bug(ctx, HM_BUG_ATOMIC_BUSY, HM_EBUSY, "kmap_atomic", v);
    hm_core_pagefault_disable(ctx, cpu);
    if (hm_core_set_pte(ctx, v, sparc_mk_pte(pfn, prot)) != HM_OK) {
        /* refused: the PTE (none, or the one a non-debug kunmap_atomic left) is unchanged, so
         * no TLB flush; the cache flush above has happened, harmlessly; the depth goes back */
        (void)hm_core_pagefault_enable(ctx, cpu);
        return HM_EMACHINE;
    }
    hm_core_flush_tlb_all(ctx);   /* likewise for the per-page TLB flush */
    *vaddr = v;
    return HM_OK;
}

static int sparc_kunmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t kvaddr, unsigned type)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    hm_vaddr_t v = hm_page_base(l, kvaddr), slot = hm_core_atomic_slot(ctx, cpu, type);

    if (hm_core_pagefault_depth(ctx, cpu) <= 0)
        return hm_core_pagefault_enable(ctx, cpu); /* reports ATOMIC_UNBALANCED */
    if (!hm_core_debug_highmem(ctx) || v < l->fixaddr_start)
        return hm_core_pagefault_enable(ctx, cpu); /* the PTE stays; the next map overwrites it */
    if (v != slot)
        return hm_core_bug(ctx, HM_BUG_ATOMIC_BAD_ADDR, HM_EINVAL, "kunmap_atomic", kvaddr);
    hm_core_flush_cache_all(ctx);
    if (hm_core_pte_clear(ctx, slot) != HM_OK)
        return HM_EMACHINE; /* refused: still mapped, no TLB flush, pagefaults stay disabled */
    hm_core_flush_tlb_all(ctx);
    return hm_core_pagefault_enable(ctx, cpu);
}

/* Direct map -> virt_to_page; the nocache pool -> its physical page; pkmap (and anything else
 * below FIXADDR_START) -> BUG; above FIXADDR_TOP -> BUG (the kernel tests `>`, virt_to_fix
 * then BUGs at == FIXADDR_TOP); a fixmap address -> the page of its PTE. */
static int sparc_kmap_atomic_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);

    if (vaddr < SPARC_NOCACHE_VADDR)
        return hm_core_virt_to_page(ctx, vaddr, pfn);
    if (vaddr < l->pkmap_base) {
        /* __nocache_pa; vaddr < PKMAP_BASE keeps the pfn far below 2^32 */
        *pfn = (hm_pfn_t)((SPARC_NOCACHE_PHYS + (vaddr - SPARC_NOCACHE_VADDR)) >> l->page_shift);
        return HM_OK;
    }
    if (vaddr < l->fixaddr_start || vaddr > l->fixaddr_top)
        return hm_core_bug(ctx, HM_BUG_VIRT_TO_FIX, HM_EINVAL, "kmap_atomic_to_page", vaddr);
    if (vaddr == l->fixaddr_top)
        return hm_core_bug(ctx, HM_BUG_VIRT_TO_FIX, HM_EINVAL, "virt_to_fix", vaddr);
    *pfn = sparc_pte_pfn(hm_core_get_pte(ctx, hm_fix_to_virt(l, hm_virt_to_fix(l, vaddr))));
    return HM_OK;
}

/* kmap_local's hooks (asm/highmem.h once fixed for the generic kmap_local: the 5.11 release had
 * flush_cache_all() as both post hooks and no TLB flush; docs/generations.md): the whole cache
 * before a map or an unmap, the whole TLB after it. */
static void sparc_local_flush_cache(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr)
{
    (void)cpu;
    (void)vaddr;
    hm_core_flush_cache_all(ctx);
}

static void sparc_local_flush_tlb(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr)
{
    (void)cpu;
    (void)vaddr;
    hm_core_flush_tlb_all(ctx);
}

const struct hm_arch hm_arch_sparc = {
    .abi_version = HM_ARCH_ABI_VERSION,
    .name = "sparc",
    .has_highmem = 1,
    .page_shift = 12,
    .pte_bytes = 4,
    .page_offset = SPARC_KERNBASE,
    .lowmem_pages = 0xc000u,           /* SRMMU_MAXMEM: 192 MiB of lowmem */
    .default_last_pkmap = 1024,
    .default_highmem_pages = 0x10000u, /* 256 MiB of highmem */
    .mem_map = 0xf0400000u,            /* mem_map[] 4 MiB into lowmem */
    .struct_page_size = 32,
    .kmap_prot = SPARC_KMAP_PROT,
    .layout = sparc_layout,
    .mk_pte = sparc_mk_pte,
    .pte_none = sparc_pte_none,
    .pte_pfn = sparc_pte_pfn,
    .kmap = hm_core_kmap_no_irq, /* BUG_ON(in_interrupt()), not might_sleep() */
    /* kunmap (NULL): BUG_ON(in_interrupt()); lowmem -> nothing; highmem -> kunmap_high */
    .kmap_atomic_prot = sparc_kmap_atomic_prot,
    .kunmap_atomic = sparc_kunmap_atomic,
    /* kmap_atomic_pfn (NULL): the core's kmap_atomic(pfn_to_page(pfn)) */
    .kmap_atomic_to_page = sparc_kmap_atomic_to_page,
    .flush_cache_kmaps = hm_core_flush_cache_all, /* flush_cache_kmaps() = flush_cache_all() */
    /* sun4m modules with a virtual address cache (ROSS Cypress, HyperSPARC): write-back VIVT,
     * 64 KiB direct-mapped on the Cypress 604/605 = 16 page colours (docs/arches.md) */
    .cache_kind = HM_CACHE_VIVT,
    .cache_colours = 16,
    .kmap_local_pre_map = sparc_local_flush_cache,
    .kmap_local_post_map = sparc_local_flush_tlb,
    .kmap_local_pre_unmap = sparc_local_flush_cache,
    .kmap_local_post_unmap = sparc_local_flush_tlb,
};
