/* hm_arch_arm.c - the 32-bit ARM backend (arch/arm/mm/highmem.c, 2.6.32 - 3.x): the pkmap window
 * one PMD below PAGE_OFFSET, an upward fixmap at 0xfff00000, kmap_atomic trying kmap_high_get
 * first and kunmap_atomic handing pkmap addresses to kunmap_high; VIVT (arm) or VIPT (arm-vipt).
 * SPDX-License-Identifier: MIT */
#include "highmem_arch.h"

/* The Linux PTE of 2-level ARM (the "Linux pt" beside the hardware tables): frame in bits 31..12,
 * L_PTE_PRESENT, YOUNG, the memory type XXCB in bits 5..2, DIRTY, WRITE, EXEC. PAGE_KERNEL =
 * pgprot_kernel with the write-back cache policy (L_PTE_MT_WRITEBACK), uniprocessor. */
#define ARM_L_PTE_PRESENT 0x001u
#define ARM_L_PTE_YOUNG 0x002u
#define ARM_L_PTE_MT_WRITEBACK 0x00cu
#define ARM_L_PTE_DIRTY 0x040u
#define ARM_L_PTE_WRITE 0x080u
#define ARM_L_PTE_EXEC 0x200u
#define ARM_PAGE_KERNEL                                                                        \
    (ARM_L_PTE_PRESENT | ARM_L_PTE_YOUNG | ARM_L_PTE_MT_WRITEBACK | ARM_L_PTE_DIRTY |          \
     ARM_L_PTE_WRITE | ARM_L_PTE_EXEC)

#define ARM_PAGE_OFFSET 0xc0000000u /* CONFIG_VMSPLIT_3G */
#define ARM_PMD_SIZE (1u << 21)     /* PMD_SHIFT 21: one Linux PMD is two 1 MiB sections */
#define ARM_PTRS_PER_PTE 512u       /* LAST_PKMAP */
#define ARM_FIXADDR_START 0xfff00000u
#define ARM_FIXADDR_TOP 0xfffe0000u /* above it: the XScale cache-flush area, the vectors */
#define ARM_CONFIG_NR_CPUS 4u       /* NR_CPUS of the documented config (raised to --cpus) */
#define ARM_VMALLOC_END 0xff000000u
#define ARM_VMALLOC_OFFSET (8u << 20)

/* enum km_type of arch/arm/include/asm/kmap_types.h: the common list, then KM_L2_CACHE */
static const char *const arm_km_types[] = {HM_KM_TYPES_COMMON, "KM_L2_CACHE"};

static int arm_layout(const struct hm_config *cfg, struct hm_layout *l)
{
    uint32_t nr_cpus_config = l->nr_cpus > ARM_CONFIG_NR_CPUS ? l->nr_cpus : ARM_CONFIG_NR_CPUS;
    uint32_t fix_pages = (ARM_FIXADDR_TOP - ARM_FIXADDR_START) >> l->page_shift;
    (void)cfg;

    if (l->max_pfn > (1u << (32 - l->page_shift))) /* 32-bit physical addresses (no LPAE) */
        return HM_EINVAL;
    if (l->last_pkmap > ARM_PTRS_PER_PTE) /* one PTE page: the window would reach PAGE_OFFSET */
        return HM_EINVAL;
    l->km_types = arm_km_types;
    l->nr_km_types = sizeof arm_km_types / sizeof arm_km_types[0];
    l->km_type_nr = hm_kmap_slots_per_cpu(l, l->nr_km_types); /* 5.11: KM_MAX_IDX */
    if (l->km_type_nr * nr_cpus_config > fix_pages) /* KM_TYPE_NR * NR_CPUS must fit the fixmap */
        return HM_EINVAL;
    l->config_nr_cpus = nr_cpus_config;
    l->pkmap_base = ARM_PAGE_OFFSET - ARM_PMD_SIZE;
    /* FIX_KMAP_BEGIN 0 .. FIX_KMAP_END = FIXADDR_SIZE >> PAGE_SHIFT; __fix_to_virt(x) =
     * FIXADDR_START + (x << PAGE_SHIFT): the atomic slots grow upward from FIXADDR_START */
    l->fixaddr_start = l->fixaddr_boot_start = ARM_FIXADDR_START;
    l->fixaddr_top = ARM_FIXADDR_TOP;
    l->fix_kmap_begin = 0;
    l->nr_fixmap = fix_pages;
    l->kmap_atomic_base = ARM_FIXADDR_START;
    l->kmap_atomic_dir = 1;
    l->vmalloc_start = (l->high_memory + ARM_VMALLOC_OFFSET) & ~(hm_vaddr_t)(ARM_VMALLOC_OFFSET - 1u);
    l->vmalloc_end = ARM_VMALLOC_END;
    /* One window from the pkmap area below PAGE_OFFSET to FIXADDR_TOP: the direct map inside it
     * translates arithmetically, as the kernel's section mappings do. */
    l->pt_start = l->pkmap_base;
    l->pt_pages = (uint32_t)((ARM_FIXADDR_TOP - l->pkmap_base) >> l->page_shift);
    return HM_OK;
}

static hm_pte_t arm_mk_pte(hm_pfn_t pfn, hm_pte_t prot)
{
    return (hm_pte_t)(((uint32_t)pfn << 12) | (uint32_t)(prot & 0xfffu));
}

/* cache_is_vivt(): the descriptor's data cache kind. */
static int arm_is_vivt(const struct hm_ctx *ctx)
{
    return hm_ctx_layout(ctx)->cache_kind == HM_CACHE_VIVT;
}

/* Whether kmap_atomic tries kmap_high_get first: where the kernel has it; on a VIPT cache not
 * with DEBUG_HIGHMEM, which then forces the dedicated slot (no alias to care about). */
static int atomic_tries_high_get(const struct hm_ctx *ctx)
{
    return hm_core_has_kmap_high_get(ctx) && (arm_is_vivt(ctx) || !hm_core_debug_highmem(ctx));
}

/* The dedicated slot of (cpu, type) mapped to pfn, as kmap_atomic and kmap_atomic_pfn do: with
 * DEBUG_HIGHMEM the slot must be empty; the PTE is written over whatever a non-debug
 * kunmap_atomic left, then this CPU's TLB entry for it is flushed. */
static int map_slot(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type, hm_pte_t prot,
                    hm_vaddr_t *vaddr)
{
    hm_vaddr_t v = hm_core_atomic_slot(ctx, cpu, type);

    if (hm_core_debug_highmem(ctx) && !hm_core_pte_none(ctx, hm_core_get_pte(ctx, v)))
        return hm_core_bug(ctx, HM_BUG_ATOMIC_BUSY, HM_EBUSY, "kmap_atomic", v);
    hm_core_pagefault_disable(ctx, cpu);
    if (hm_core_set_pte(ctx, v, hm_core_mk_pte(ctx, pfn, prot)) != HM_OK) {
        (void)hm_core_pagefault_enable(ctx, cpu); /* refused: no flush, the depth goes back */
        return HM_EMACHINE;
    }
    hm_core_flush_tlb_page(ctx, cpu, v); /* local_flush_tlb_kernel_page */
    *vaddr = v;
    return HM_OK;
}

static int arm_kmap_atomic_prot(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                                hm_pte_t prot, hm_vaddr_t *vaddr)
{
    hm_vaddr_t v;
    int err;

    if (!hm_core_is_highmem(ctx, pfn))
        return hm_core_kmap_atomic_lowmem(ctx, cpu, pfn, vaddr);
    if (atomic_tries_high_get(ctx)) {
        /* a page kmapped already is pinned at its pkmap address; kunmap_atomic unpins it */
        if ((err = hm_core_kmap_high_get(ctx, pfn, &v)) != HM_OK)
            return err;
        if (v) {
            hm_core_pagefault_disable(ctx, cpu);
            *vaddr = v;
            return HM_OK;
        }
    }
    return map_slot(ctx, cpu, pfn, type, prot, vaddr);
}

/* kmap_atomic_pfn: the dedicated slot, no highmem test, no kmap_high_get. */
static int arm_kmap_atomic_pfn(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type, hm_vaddr_t *vaddr)
{
    return map_slot(ctx, cpu, pfn, type, hm_core_kmap_prot(ctx), vaddr);
}

/* kunmap_atomic: a fixmap address (or above) is the dedicated slot: with DEBUG_HIGHMEM it must
 * be this (cpu, type)'s, and is cleared and flushed from this CPU's TLB; without, the PTE stays
 * (on a VIVT cache the page's dcache is flushed first). A pkmap address came from kmap_high_get: the
 * page its PTE maps is handed to kunmap_high. Anything else is a lowmem page's. A BUG or a
 * refused clear changes nothing: pagefaults stay disabled. */
static int arm_kunmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t kvaddr, unsigned type)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    hm_vaddr_t v = hm_page_base(l, kvaddr), slot = hm_core_atomic_slot(ctx, cpu, type);
    hm_vaddr_t pkmap_end = l->pkmap_base + ((hm_vaddr_t)l->last_pkmap << l->page_shift);
    int err;

    if (hm_core_pagefault_depth(ctx, cpu) <= 0)
        return hm_core_pagefault_enable(ctx, cpu); /* reports ATOMIC_UNBALANCED */
    if (kvaddr >= l->fixaddr_start) {
        if (arm_is_vivt(ctx))
            hm_core_flush_cache_page(ctx, cpu, v); /* __cpuc_flush_dcache_area of the page */
        if (hm_core_debug_highmem(ctx)) {
            if (v != slot)
                return hm_core_bug(ctx, HM_BUG_ATOMIC_BAD_ADDR, HM_EINVAL, "kunmap_atomic", kvaddr);
            if (hm_core_pte_clear(ctx, slot) != HM_OK)
                return HM_EMACHINE;
            hm_core_flush_tlb_page(ctx, cpu, slot);
        }
    } else if (v >= l->pkmap_base && v < pkmap_end) {
        hm_pte_t pte = hm_core_get_pte(ctx, v);
        hm_pfn_t pfn = hm_core_pte_pfn(ctx, pte);
        if (hm_core_pte_none(ctx, pte) || !hm_core_is_highmem(ctx, pfn))
            return hm_core_bug(ctx, HM_BUG_KUNMAP_UNMAPPED, HM_EINVAL, "kunmap_high", v);
        if ((err = hm_core_kunmap_high(ctx, pfn)) != HM_OK)
            return err;
    }
    return hm_core_pagefault_enable(ctx, cpu);
}

/* kmap_atomic_to_page: below FIXADDR_START virt_to_page() (wrong for pkmap addresses, which lie
 * below PAGE_OFFSET: reported as BAD_ADDR); in the fixmap the page of the slot's PTE (pfn 0
 * for a none PTE, as pte_page() of it would give). */
static int arm_kmap_atomic_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    if (vaddr < l->fixaddr_start)
        return hm_core_virt_to_page(ctx, vaddr, pfn);
    if (vaddr >= l->fixaddr_top) /* the vectors and cache-flush pages: no kmap slot */
        return hm_core_bug(ctx, HM_BUG_BAD_ADDR, HM_ERANGE, "kmap_atomic_to_page", vaddr);
    *pfn = hm_core_pte_pfn(ctx, hm_core_get_pte(ctx, hm_page_base(l, vaddr)));
    return HM_OK;
}

/* What both cache kinds share: a 1 GiB machine with PHYS_OFFSET 0 (Marvell Kirkwood style):
 * 880 MiB of lowmem (VMALLOC_END 0xff000000 less the 128 MiB vmalloc reserve), 256 MiB of
 * highmem, mem_map[] 8 MiB into lowmem, a 32-byte struct page. */
#define ARM_COMMON_FIELDS                                                                     \
    .abi_version = HM_ARCH_ABI_VERSION, .has_highmem = 1, .page_shift = 12, .pte_bytes = 4,   \
    .page_offset = ARM_PAGE_OFFSET, .lowmem_pages = 0x37000u,                                 \
    .default_last_pkmap = ARM_PTRS_PER_PTE, .default_highmem_pages = 0x10000u,                \
    .mem_map = 0xc0800000u, .struct_page_size = 32, .kmap_prot = ARM_PAGE_KERNEL,             \
    .layout = arm_layout, .mk_pte = arm_mk_pte,                                               \
    /* pte_none, pte_pfn (NULL): pte == 0, pte >> PAGE_SHIFT */                               \
    /* kmap (NULL): might_sleep(); lowmem -> page_address; highmem -> kmap_high */            \
    /* kunmap (NULL): BUG if in_interrupt() unless kmap_high_get exists; then kunmap_high */  \
    .kmap_atomic_prot = arm_kmap_atomic_prot, .kunmap_atomic = arm_kunmap_atomic,             \
    .kmap_atomic_pfn = arm_kmap_atomic_pfn, .kmap_atomic_to_page = arm_kmap_atomic_to_page,   \
    .needs_kmap_high_get = 1,                                                                 \
    /* 5.11 asm/highmem.h: local_flush_tlb_kernel_page after a local map and after an unmap */ \
    .kmap_local_post_map = hm_core_flush_tlb_page, .kmap_local_post_unmap = hm_core_flush_tlb_page

/* VIVT cache (ARMv5, e.g. Feroceon): flush_cache_kmaps() is flush_cache_all(). */
const struct hm_arch hm_arch_arm = {
    ARM_COMMON_FIELDS,
    .name = "arm",
    .flush_cache_kmaps = hm_core_flush_cache_all,
    /* 5.11: arch_kmap_local_high_get is kmap_high_get on a VIVT cache, and the page's dcache is
     * flushed before its local mapping is cleared (arch_kmap_local_pre_unmap) */
    .kmap_local_high_get = hm_core_kmap_high_get,
    .kmap_local_pre_unmap = hm_core_flush_cache_page,
    /* Feroceon-class VIVT write-back data cache, modelled as a 16 KiB direct-mapped cache: four
     * page-sized colours (docs/arches.md, Data caches) */
    .cache_kind = HM_CACHE_VIVT,
    .cache_colours = 4,
};

/* VIPT non-aliasing cache (ARMv6/v7): flush_cache_kmaps() does nothing (tagged physically, an
 * unmapped page needs no flush; ARM commit 7e5a69e83ba7). */
const struct hm_arch hm_arch_arm_vipt = {
    ARM_COMMON_FIELDS,
    .name = "arm-vipt",
    /* non-aliasing VIPT (highmem is refused on an aliasing VIPT cache): no alias, as PIPT */
    .cache_kind = HM_CACHE_PIPT,
    .cache_colours = 1,
};
