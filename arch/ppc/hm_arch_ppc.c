/* hm_arch_ppc.c - the 32-bit PowerPC backend (classic hash MMU, include/asm-powerpc/highmem.h of
 * 2.6.2x): PKMAP_BASE = CONFIG_HIGHMEM_START, an upward-growing atomic window 4 MiB above it,
 * per-page TLB flushes on kmap_atomic and kunmap_atomic, HIGHMEM_DEBUG checks always on.
 * SPDX-License-Identifier: MIT */
#include "highmem_arch.h"

/* ppc32 PTE bits (classic 6xx/7xx MMU) */
#define PPC_PRESENT 0x001u
#define PPC_HASHPTE 0x002u  /* set by hash_page; not part of "none" */
#define PPC_COHERENT 0x010u /* M: memory coherence, set on SMP */
#define PPC_DIRTY 0x080u
#define PPC_ACCESSED 0x100u
#define PPC_RW 0x400u
/* PAGE_KERNEL = _PAGE_BASE | _PAGE_WRENABLE on an SMP classic ppc32 (no _PAGE_HWWRITE there) */
#define PPC_PAGE_KERNEL (PPC_PRESENT | PPC_ACCESSED | PPC_COHERENT | PPC_RW | PPC_DIRTY)

#define PPC_HIGHMEM_START 0xfe000000u   /* CONFIG_HIGHMEM_START default: PKMAP_BASE */
#define PPC_KMAP_FIX_OFFSET 0x00400000u /* KMAP_FIX_BEGIN = PKMAP_BASE + 4 MiB */
#define PPC_CONFIG_NR_CPUS 4u           /* NR_CPUS of the documented config (raised to --cpus) */
#define PPC_VMALLOC_OFFSET 0x01000000u  /* 16 MiB */

/* enum km_type of asm-powerpc/kmap_types.h: the common list, then two ppc types */
static const char *const ppc_km_types[] = {HM_KM_TYPES_COMMON, "KM_PPC_SYNC_PAGE", "KM_PPC_SYNC_ICACHE"};

static int ppc_layout(const struct hm_config *cfg, struct hm_layout *l)
{
    uint32_t nr_cpus_config = l->nr_cpus > PPC_CONFIG_NR_CPUS ? l->nr_cpus : PPC_CONFIG_NR_CPUS;
    uint32_t atomic_pages;
    (void)cfg;

    if (l->max_pfn > (1u << (32 - l->page_shift))) /* 32-bit PTEs hold 32-bit physical addresses */
        return HM_EINVAL;
    if (((uint64_t)l->last_pkmap << l->page_shift) > PPC_KMAP_FIX_OFFSET)
        return HM_EINVAL; /* the pkmap window would run into the atomic window */
    l->km_types = ppc_km_types;
    l->nr_km_types = sizeof ppc_km_types / sizeof ppc_km_types[0];
    l->km_type_nr = hm_kmap_slots_per_cpu(l, l->nr_km_types); /* no fences on ppc */
    l->config_nr_cpus = nr_cpus_config;
    l->pkmap_base = PPC_HIGHMEM_START;
    /* no fixmap in this era: kmap_atomic has its own window at KMAP_FIX_BEGIN, growing upward */
    l->fixaddr_top = l->fixaddr_start = l->fixaddr_boot_start = 0;
    l->nr_fixmap = 0;
    l->fix_kmap_begin = 0;
    l->kmap_atomic_base = PPC_HIGHMEM_START + PPC_KMAP_FIX_OFFSET;
    l->kmap_atomic_dir = 1;
    /* VMALLOC_END = ioremap_bot, which starts at IOREMAP_TOP = PKMAP_BASE with highmem */
    l->vmalloc_start = (l->high_memory + PPC_VMALLOC_OFFSET) & ~(hm_vaddr_t)(PPC_VMALLOC_OFFSET - 1u);
    l->vmalloc_end = l->pkmap_base;
    atomic_pages = l->km_type_nr * nr_cpus_config;
    l->pt_start = l->pkmap_base;
    l->pt_pages = (PPC_KMAP_FIX_OFFSET >> l->page_shift) + atomic_pages;
    return HM_OK;
}

static hm_pte_t ppc_mk_pte(hm_pfn_t pfn, hm_pte_t prot)
{
    return (hm_pte_t)(((uint32_t)pfn << 12) | (uint32_t)(prot & 0xfffu));
}

static int ppc_pte_none(hm_pte_t pte)
{
    return ((uint32_t)pte & ~PPC_HASHPTE) == 0; /* _PTE_NONE_MASK = _PAGE_HASHPTE */
}

static hm_pfn_t ppc_pte_pfn(hm_pte_t pte)
{
    return (uint32_t)pte >> 12;
}

static int ppc_kmap_atomic_prot(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                                hm_pte_t prot, hm_vaddr_t *vaddr)
{
    hm_vaddr_t v;

    if (!hm_core_is_highmem(ctx, pfn))
        return hm_core_kmap_atomic_lowmem(ctx, cpu, pfn, vaddr);
    v = hm_core_atomic_slot(ctx, cpu, type);
    if (!hm_core_pte_none(ctx, hm_core_get_pte(ctx, v))) /* HIGHMEM_DEBUG is always 1 */
        return hm_core_bug(ctx, HM_BUG_ATOMIC_BUSY, HM_EBUSY, "kmap_atomic", v);
    hm_core_pagefault_disable(ctx, cpu);
    if (hm_core_set_pte(ctx, v, ppc_mk_pte(pfn, prot)) != HM_OK) { /* set_pte_at */
        /* refused: the PTE is still none, nothing to flush; the depth goes back */
        (void)hm_core_pagefault_enable(ctx, cpu);
        return HM_EMACHINE;
    }
    hm_core_flush_tlb_page(ctx, HM_CPU_ALL, v);       /* flush_tlb_page(NULL, vaddr): on map too */
    *vaddr = v;
    return HM_OK;
}

/* The whole body is under HIGHMEM_DEBUG, i.e. always present. */
static int ppc_kunmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t kvaddr, unsigned type)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    hm_vaddr_t v = hm_page_base(l, kvaddr), slot = hm_core_atomic_slot(ctx, cpu, type);

    if (hm_core_pagefault_depth(ctx, cpu) <= 0)
        return hm_core_pagefault_enable(ctx, cpu); /* reports ATOMIC_UNBALANCED */
    if (v < l->kmap_atomic_base) /* lowmem (and pkmap) addresses */
        return hm_core_pagefault_enable(ctx, cpu);
    if (v != slot) /* BUG_ON(vaddr != KMAP_FIX_BEGIN + idx * PAGE_SIZE): wrong type or CPU */
        return hm_core_bug(ctx, HM_BUG_ATOMIC_BAD_ADDR, HM_EINVAL, "kunmap_atomic", kvaddr);
    if (hm_core_pte_clear(ctx, slot) != HM_OK)
        return HM_EMACHINE; /* refused: still mapped, no flush, pagefaults stay disabled */
    hm_core_flush_tlb_page(ctx, HM_CPU_ALL, slot);
    return hm_core_pagefault_enable(ctx, cpu);
}

/* Below KMAP_FIX_BEGIN: virt_to_page (wrong for pkmap addresses, as on x86); above it the PTE
 * at kmap_pte[idx], with no upper bound in the kernel: past the atomic window is refused. */
static int ppc_kmap_atomic_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    uint64_t idx;

    if (vaddr < l->kmap_atomic_base)
        return hm_core_virt_to_page(ctx, vaddr, pfn);
    idx = ((uint64_t)vaddr - l->kmap_atomic_base) >> l->page_shift; /* 64 bits: compared whole */
    if (idx >= (uint64_t)l->km_type_nr * l->config_nr_cpus)
        return hm_core_bug(ctx, HM_BUG_BAD_ADDR, HM_ERANGE, "kmap_atomic_to_page", vaddr);
    *pfn = ppc_pte_pfn(hm_core_get_pte(ctx, l->kmap_atomic_base + (idx << l->page_shift)));
    return HM_OK;
}

const struct hm_arch hm_arch_ppc = {
    .abi_version = HM_ARCH_ABI_VERSION,
    .name = "ppc",
    .has_highmem = 1,
    .page_shift = 12,
    .pte_bytes = 4,
    .page_offset = 0xc0000000u,
    .lowmem_pages = 0x30000u,          /* CONFIG_LOWMEM_SIZE 0x30000000: 768 MiB */
    .default_last_pkmap = 1024,        /* 1 << PTE_SHIFT, PTE_SHIFT = PAGE_SHIFT - log2(4) */
    .default_highmem_pages = 0x10000u, /* 256 MiB of highmem: a 1 GiB machine */
    .mem_map = 0xc0400000u,            /* mem_map[] 4 MiB into lowmem */
    .struct_page_size = 32,
    .kmap_prot = PPC_PAGE_KERNEL,
    .layout = ppc_layout,
    .mk_pte = ppc_mk_pte,
    .pte_none = ppc_pte_none,
    .pte_pfn = ppc_pte_pfn,
    /* kmap (NULL): might_sleep(); lowmem -> page_address; highmem -> kmap_high */
    /* kunmap (NULL): BUG_ON(in_interrupt()); lowmem -> nothing; highmem -> kunmap_high */
    .kmap_atomic_prot = ppc_kmap_atomic_prot,
    .kunmap_atomic = ppc_kunmap_atomic,
    /* kmap_atomic_pfn (NULL): not in the ppc header: the core maps it to kmap_atomic */
    .kmap_atomic_to_page = ppc_kmap_atomic_to_page,
    .flush_cache_kmaps = hm_core_flush_cache_all, /* flush_cache_kmaps() = flush_cache_all() */
    .cache_kind = HM_CACHE_PIPT, /* classic ppc32 L1: no aliases (docs/arches.md) */
    .cache_colours = 1,
    /* 5.11 asm/highmem.h: local_flush_tlb_page(NULL, vaddr) after a map and after an unmap */
    .kmap_local_post_map = hm_core_flush_tlb_page,
    .kmap_local_post_unmap = hm_core_flush_tlb_page,
};
