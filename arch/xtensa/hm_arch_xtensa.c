/* hm_arch_xtensa.c - the xtensa backend (MMUv2, 3.17/3.18 highmem on the test_mmuhifi_c3 core: a
 * 16 KiB 2-way D-cache, so two cache colours): a coloured pkmap of PTRS_PER_PTE * DCACHE_N_COLORS
 * slots below an ascending fixmap whose kmap_atomic (5.11: kmap_local) slot also has the page's
 * colour. SPDX-License-Identifier: MIT */
#include "highmem_arch.h"

/* PTE: PPN in bits 31..12, software bits 11..6, ring 5..4, cache attribute 3..0; CA = 3 is
 * _PAGE_INVALID, what pte_clear writes (the model's cleared word is 0: both are none). */
#define XTENSA_PAGE_HW_EXEC 0x001u
#define XTENSA_PAGE_HW_WRITE 0x002u
#define XTENSA_PAGE_CA_WB 0x004u
#define XTENSA_PAGE_INVALID 0x00cu
#define XTENSA_PAGE_ACCESSED 0x100u
/* kmap_prot = PAGE_KERNEL_EXEC = _PAGE_PRESENT (CA_WB | ACCESSED) | HW_WRITE | HW_EXEC */
#define XTENSA_KMAP_PROT (XTENSA_PAGE_CA_WB | XTENSA_PAGE_ACCESSED | XTENSA_PAGE_HW_WRITE | XTENSA_PAGE_HW_EXEC)

#define XTENSA_KSEG_CACHED 0xd0000000u   /* PAGE_OFFSET: XCHAL_KSEG_CACHED_VADDR of MMUv2 */
#define XTENSA_KSEG_PAGES 0x8000u        /* the 128 MiB KSEG: the lowmem the kernel maps */
#define XTENSA_VMALLOC_START 0xc0000000u
#define XTENSA_VMALLOC_END 0xc7ff0000u   /* one past VMALLOC_END 0xc7feffff */
#define XTENSA_FIXADDR_TOP (XTENSA_VMALLOC_START - 0x1000u) /* VMALLOC_START - PAGE_SIZE */
#define XTENSA_PMD_SIZE (4u << 20)       /* the folded PMD: one PGD entry maps 4 MiB */
#define XTENSA_CONFIG_NR_CPUS 4u         /* NR_CPUS, the SMP default (raised to --cpus) */
#define XTENSA_DCACHE_N_COLORS 2u        /* DCACHE_WAY_SIZE 8 KiB / PAGE_SIZE */

/* FIX_KMAP_BEGIN = 0 .. FIX_KMAP_END = KM_TYPE_NR * NR_CPUS * DCACHE_N_COLORS - 1; FIXADDR_START
 * = (FIXADDR_TOP - FIXADDR_SIZE) & PMD_MASK, and __fix_to_virt(x) = FIXADDR_START + x pages
 * (ascending); PKMAP_BASE = (FIXADDR_START - (LAST_PKMAP + 1) pages) & PMD_MASK. */
static int xtensa_layout(const struct hm_config *cfg, struct hm_layout *l)
{
    uint32_t nr_cpus_config = l->nr_cpus > XTENSA_CONFIG_NR_CPUS ? l->nr_cpus : XTENSA_CONFIG_NR_CPUS;
    hm_vaddr_t pmd_mask = ~(hm_vaddr_t)(XTENSA_PMD_SIZE - 1u);
    (void)cfg;

    if (l->max_pfn > (1u << 20)) /* a 20-bit PPN: 4 GiB of physical memory */
        return HM_EINVAL;
    l->km_types = hm_km_types_common;
    l->nr_km_types = HM_NR_KM_TYPES_COMMON;
    l->km_type_nr = hm_kmap_slots_per_cpu(l, HM_NR_KM_TYPES_COMMON); /* 5.11: KM_MAX_IDX */
    l->config_nr_cpus = nr_cpus_config;
    l->fix_kmap_begin = 0;
    l->nr_fixmap = l->km_type_nr * nr_cpus_config * l->pkmap_colours;
    l->fixaddr_top = XTENSA_FIXADDR_TOP;
    l->fixaddr_start = l->fixaddr_boot_start =
        (XTENSA_FIXADDR_TOP - ((hm_vaddr_t)l->nr_fixmap << l->page_shift)) & pmd_mask;
    l->pkmap_base = (l->fixaddr_start - ((hm_vaddr_t)(l->last_pkmap + 1u) << l->page_shift)) & pmd_mask;
    l->kmap_atomic_base = l->fixaddr_start; /* __fix_to_virt(FIX_KMAP_BEGIN) */
    l->kmap_atomic_dir = +1;
    l->vmalloc_start = XTENSA_VMALLOC_START;
    l->vmalloc_end = XTENSA_VMALLOC_END;
    l->pt_start = l->pkmap_base;
    /* the pkmap window up to the last fixmap page; below 3 GiB, so the count fits */
    l->pt_pages = (uint32_t)((l->fixaddr_start - l->pkmap_base) >> l->page_shift) + l->nr_fixmap;
    return HM_OK;
}

/* pte_none: _PAGE_INVALID, or the machine's cleared word 0 */
static int xtensa_pte_none(hm_pte_t pte)
{
    return pte == 0 || pte == XTENSA_PAGE_INVALID;
}

/* kmap_idx(type, colour) = (type + KM_TYPE_NR * cpu) * DCACHE_N_COLORS + colour: the slot of the
 * page's colour among the DCACHE_N_COLORS slots of (cpu, type), from the core's uncoloured one. */
static hm_vaddr_t xtensa_atomic_slot(const struct hm_ctx *ctx, uint32_t cpu, unsigned type, uint32_t colour)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    hm_vaddr_t idx = (hm_core_atomic_slot(ctx, cpu, type) - l->kmap_atomic_base) >> l->page_shift;
    return l->kmap_atomic_base + ((idx * l->pkmap_colours + colour) << l->page_shift);
}

/* 5.11 arch_kmap_local_map_idx(pos, pfn) = kmap_idx(pos, DCACHE_ALIAS(pfn << PAGE_SHIFT)), with
 * KM_MAX_IDX in KM_TYPE_NR's place: stack position pos's slot of the page's colour (its
 * address has that colour; the kernel's fixmap descends, hence its DCACHE_N_COLORS - 1 -
 * colour, this layout's ascends). arch_kmap_local_unmap_idx takes the colour of the address. */
static hm_vaddr_t xtensa_kmap_local_slot(const struct hm_ctx *ctx, uint32_t cpu, uint32_t pos, hm_pfn_t pfn)
{
    return xtensa_atomic_slot(ctx, cpu, pos, (uint32_t)pfn & (hm_ctx_layout(ctx)->pkmap_colours - 1u));
}

static int xtensa_kmap_atomic_prot(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                                   hm_pte_t prot, hm_vaddr_t *vaddr)
{
    hm_vaddr_t v;

    if (!hm_core_is_highmem(ctx, pfn))
        return hm_core_kmap_atomic_lowmem(ctx, cpu, pfn, vaddr);
    /* DCACHE_ALIAS(page_to_phys(page)) */
    v = xtensa_atomic_slot(ctx, cpu, type, (uint32_t)hm_pkmap_colour(ctx, pfn));
    if (hm_core_debug_highmem(ctx) && !hm_core_pte_none(ctx, hm_core_get_pte(ctx, v)))
        return hm_core_bug(ctx, HM_BUG_ATOMIC_BUSY, HM_EBUSY, "kmap_atomic", v);
    hm_core_pagefault_disable(ctx, cpu);
    if (hm_core_set_pte(ctx, v, hm_core_mk_pte(ctx, pfn, prot)) != HM_OK) {
        (void)hm_core_pagefault_enable(ctx, cpu); /* refused: the slot is as it was */
        return HM_EMACHINE;
    }
    *vaddr = v; /* no TLB flush: kunmap_atomic flushed the slot's page */
    return HM_OK;
}

/* __kunmap_atomic: an address in [FIXADDR_START, FIXADDR_TOP) names the slot of (cpu, type) of
 * its own colour, DCACHE_ALIAS(kvaddr): its PTE is cleared and its page flushed from this CPU's
 * TLB (local_flush_tlb_kernel_range of one page). Any other address (lowmem) only re-enables
 * pagefaults. Where the kernel would clear the (cpu, type) slot of that colour for an address
 * that is not that slot, the model reports ATOMIC_BAD_ADDR and changes nothing. */
static int xtensa_kunmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t kvaddr, unsigned type)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    hm_vaddr_t v = hm_page_base(l, kvaddr), slot;

    if (hm_core_pagefault_depth(ctx, cpu) <= 0)
        return hm_core_pagefault_enable(ctx, cpu); /* reports ATOMIC_UNBALANCED */
    if (v < l->fixaddr_start || v >= l->fixaddr_top)
        return hm_core_pagefault_enable(ctx, cpu);
    slot = xtensa_atomic_slot(ctx, cpu, type, (uint32_t)(v >> l->page_shift) & (l->pkmap_colours - 1u));
    if (v != slot)
        return hm_core_bug(ctx, HM_BUG_ATOMIC_BAD_ADDR, HM_EINVAL, "kunmap_atomic", kvaddr);
    if (hm_core_pte_clear(ctx, slot) != HM_OK)
        return HM_EMACHINE; /* refused: still mapped, no TLB flush, pagefaults stay disabled */
    hm_core_flush_tlb_page(ctx, cpu, slot);
    return hm_core_pagefault_enable(ctx, cpu);
}

/* kmap_atomic_to_page, as the fixmap arches have it: a fixmap address -> the page of its PTE
 * (its own slot's, whatever its colour); anything else -> virt_to_page (the direct map; xtensa's
 * fixmap and pkmap window lie below PAGE_OFFSET, so a pkmap address is BAD_ADDR). */
static int xtensa_kmap_atomic_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    hm_vaddr_t v = hm_page_base(l, vaddr);

    if (v < l->fixaddr_start || v >= l->fixaddr_start + ((hm_vaddr_t)l->nr_fixmap << l->page_shift))
        return hm_core_virt_to_page(ctx, vaddr, pfn);
    *pfn = hm_core_pte_pfn(ctx, hm_core_get_pte(ctx, v));
    return HM_OK;
}

const struct hm_arch hm_arch_xtensa = {
    .abi_version = HM_ARCH_ABI_VERSION,
    .name = "xtensa",
    .has_highmem = 1,
    .page_shift = 12,
    .pte_bytes = 4,
    .page_offset = XTENSA_KSEG_CACHED,
    .lowmem_pages = XTENSA_KSEG_PAGES,
    .default_last_pkmap = 1024u * XTENSA_DCACHE_N_COLORS, /* PTRS_PER_PTE * DCACHE_N_COLORS */
    .default_highmem_pages = 0x10000u,  /* 256 MiB of highmem */
    .mem_map = 0xd0400000u,             /* mem_map[] 4 MiB into lowmem */
    .struct_page_size = 32,
    .kmap_prot = XTENSA_KMAP_PROT,
    .layout = xtensa_layout,
    /* mk_pte, pte_pfn (NULL): pfn << PAGE_SHIFT | prot, and back */
    .pte_none = xtensa_pte_none,
    .kmap = hm_core_kmap_no_irq, /* BUG_ON(in_interrupt()), not might_sleep() */
    /* kunmap (NULL): BUG_ON(in_interrupt()); lowmem -> nothing; highmem -> kunmap_high */
    .kmap_atomic_prot = xtensa_kmap_atomic_prot,
    .kunmap_atomic = xtensa_kunmap_atomic,
    /* kmap_atomic_pfn (NULL): the core's kmap_atomic(pfn_to_page(pfn)) */
    .kmap_atomic_to_page = xtensa_kmap_atomic_to_page,
    .flush_cache_kmaps = hm_core_flush_cache_all, /* flush_cache_kmaps() = flush_cache_all() */
    .pkmap_colours = XTENSA_DCACHE_N_COLORS,
    /* 5.11 asm/highmem.h: local_flush_tlb_kernel_range of the page after a local unmap */
    .kmap_local_post_unmap = hm_core_flush_tlb_page,
    /* the D-cache is virtually indexed, physically tagged and aliases (an 8 KiB way over 4 KiB
     * pages): its colours are the pkmap's */
    .cache_kind = HM_CACHE_VIPT_ALIASING,
    .cache_colours = XTENSA_DCACHE_N_COLORS,
    .kmap_local_slot = xtensa_kmap_local_slot, /* arch_kmap_local_{map,unmap}_idx (5.11) */
};
