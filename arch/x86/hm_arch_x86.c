/* hm_arch_x86.c - the 32-bit x86 backend in its two configurations, non-PAE and PAE: layout and
 * fixmap, PTE formats, and the kmap_atomic family of arch/x86/mm/highmem_32.c (2.6.24).
 * SPDX-License-Identifier: MIT */
#include "highmem_arch.h"

/* x86 PTE bits */
#define X86_PRESENT 0x001u
#define X86_RW 0x002u
#define X86_ACCESSED 0x020u
#define X86_DIRTY 0x040u
#define X86_GLOBAL 0x100u
#define X86_NX (1ull << 63) /* PAE only */
/* PAGE_KERNEL on a CPU with global pages (PGE); with PAE the CPU also has NX. */
#define X86_PAGE_KERNEL (X86_PRESENT | X86_RW | X86_ACCESSED | X86_DIRTY | X86_GLOBAL)
#define X86_PAE_PAGE_KERNEL (X86_NX | X86_PAGE_KERNEL)
#define X86_PAE_PFN_MASK 0x000ffffffffff000ull /* physical address bits of a PAE PTE */

#define X86_FIXADDR_TOP 0xfffff000u /* __FIXADDR_TOP default */
#define X86_PMD_SHIFT 22u           /* 4 MiB PMD, two-level paging */
#define X86_PAE_PMD_SHIFT 21u       /* 2 MiB PMD, three-level paging */
#define X86_CONFIG_NR_CPUS 8u       /* NR_CPUS of the documented config (raised to --cpus if larger) */
#define VMALLOC_OFFSET (8u << 20)

/* enum fixed_addresses of the documented 2.6.24 config (docs/design.md): entries before
 * FIX_KMAP_BEGIN are FIX_HOLE, FIX_VDSO, FIX_DBGP_BASE, FIX_EARLYCON_MEM_BASE, FIX_APIC_BASE
 * (LOCAL_APIC), FIX_IO_APIC_BASE_0..63 (IO_APIC, MAX_IO_APICS 64), FIX_F00F_IDT (F00F_BUG);
 * after FIX_KMAP_END: FIX_ACPI_BEGIN..END (4), FIX_PCIE_MCFG, FIX_PARAVIRT_BOOTMAP; then the
 * 16 FIX_BTMAP slots and FIX_WP_TEST. */
#define X86_FIX_KMAP_BEGIN (4u + 1u + 64u + 1u)
#define X86_FIX_AFTER_KMAP (4u + 1u + 1u)
#define X86_NR_FIX_BTMAPS 16u

/* The layout of both configurations: they differ in the PMD size (PKMAP_BASE alignment) and
 * in how many physical address bits a PTE holds (32 without PAE, 36 with). */
static int layout_common(const struct hm_config *cfg, struct hm_layout *l, uint32_t pmd_shift,
                         uint32_t phys_bits)
{
    uint32_t nr_cpus_config = l->nr_cpus > X86_CONFIG_NR_CPUS ? l->nr_cpus : X86_CONFIG_NR_CPUS;
    uint32_t end_permanent, end_fixed;
    hm_vaddr_t pmd_mask = ~(hm_vaddr_t)((1u << pmd_shift) - 1u), low;

    if (l->max_pfn > (1u << (phys_bits - l->page_shift)))
        return HM_EINVAL;
    l->km_types = hm_km_types_common;
    l->nr_km_types = HM_NR_KM_TYPES_COMMON;
    /* CONFIG_DEBUG_HIGHMEM puts a __KM_FENCE_n before every type: KM_TYPE_NR becomes 27 */
    l->km_type_nr = hm_kmap_slots_per_cpu(l, cfg->debug_highmem ? 2u * HM_NR_KM_TYPES_COMMON + 1u
                                                                : HM_NR_KM_TYPES_COMMON);
    l->config_nr_cpus = nr_cpus_config;

    l->fix_kmap_begin = X86_FIX_KMAP_BEGIN;
    end_permanent = X86_FIX_KMAP_BEGIN + l->km_type_nr * nr_cpus_config + X86_FIX_AFTER_KMAP;
    end_fixed = end_permanent + X86_NR_FIX_BTMAPS + 1u; /* FIX_BTMAP_*, FIX_WP_TEST */
    l->nr_fixmap = end_fixed;
    l->fixaddr_top = X86_FIXADDR_TOP;
    l->fixaddr_start = X86_FIXADDR_TOP - (end_permanent << l->page_shift);
    l->fixaddr_boot_start = X86_FIXADDR_TOP - (end_fixed << l->page_shift);

    /* PKMAP_BASE = (FIXADDR_BOOT_START - PAGE_SIZE*(LAST_PKMAP+1)) & PMD_MASK */
    l->pkmap_base = (l->fixaddr_boot_start - l->page_size * (l->last_pkmap + 1u)) & pmd_mask;
    l->vmalloc_end = l->pkmap_base - 2u * l->page_size;
    l->vmalloc_start = (l->high_memory + 2u * VMALLOC_OFFSET - 1u) & ~(hm_vaddr_t)(VMALLOC_OFFSET - 1u);
    if (l->vmalloc_start >= l->vmalloc_end)
        return HM_EINVAL;

    l->kmap_atomic_base = hm_fix_to_virt(l, X86_FIX_KMAP_BEGIN);
    l->kmap_atomic_dir = -1;
    /* page tables cover the pkmap window and the whole fixmap up to FIXADDR_TOP */
    low = hm_fix_to_virt(l, end_fixed - 1u);
    if (l->pkmap_base < low)
        low = l->pkmap_base;
    l->pt_start = low;
    /* low >= PKMAP_BASE - a few MiB: the page count fits 32 bits */
    l->pt_pages = (uint32_t)((X86_FIXADDR_TOP - low) >> l->page_shift) + 1u;
    return HM_OK;
}

static int x86_layout(const struct hm_config *cfg, struct hm_layout *l)
{
    return layout_common(cfg, l, X86_PMD_SHIFT, 32);
}

static int x86_pae_layout(const struct hm_config *cfg, struct hm_layout *l)
{
    return layout_common(cfg, l, X86_PAE_PMD_SHIFT, 36);
}

/* non-PAE: one 32-bit word, frame in bits 31..12 */
static hm_pte_t x86_mk_pte(hm_pfn_t pfn, hm_pte_t prot)
{
    return (hm_pte_t)(((uint32_t)pfn << 12) | (uint32_t)(prot & 0xfffu));
}

static int x86_pte_none(hm_pte_t pte)
{
    return (uint32_t)pte == 0; /* pte_none() tests pte_low */
}

static hm_pfn_t x86_pte_pfn(hm_pte_t pte)
{
    return (uint32_t)pte >> 12;
}

/* PAE: 64-bit entry, frame in bits 35..12 (the format allows up to bit 51), NX in bit 63 */
static hm_pte_t x86_pae_mk_pte(hm_pfn_t pfn, hm_pte_t prot)
{
    return (((hm_pte_t)pfn << 12) & X86_PAE_PFN_MASK) | (prot & ~X86_PAE_PFN_MASK);
}

static int x86_pae_pte_none(hm_pte_t pte)
{
    return pte == 0; /* both halves empty */
}

static hm_pfn_t x86_pae_pte_pfn(hm_pte_t pte)
{
    return (hm_pfn_t)((pte & X86_PAE_PFN_MASK) >> 12);
}

/* pagefault_disable(), then set_pte of slot v: no TLB flush on map. A refused write leaves
 * the PTE as it was; the depth is put back (highmem.h, struct hm_machine). */
static int map_atomic_slot(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t v, hm_pte_t pte, hm_vaddr_t *vaddr)
{
    hm_core_pagefault_disable(ctx, cpu);
    if (hm_core_set_pte(ctx, v, pte) != HM_OK) {
        (void)hm_core_pagefault_enable(ctx, cpu); /* depth >= 1 here: never a BUG */
        return HM_EMACHINE;
    }
    *vaddr = v;
    return HM_OK;
}

static int x86_kmap_atomic_prot(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                                hm_pte_t prot, hm_vaddr_t *vaddr)
{
    hm_vaddr_t v;

    if (!hm_core_is_highmem(ctx, pfn)) /* lowmem: pagefaults stay disabled all the same */
        return hm_core_kmap_atomic_lowmem(ctx, cpu, pfn, vaddr);
    v = hm_core_atomic_slot(ctx, cpu, type);
    if (!hm_core_pte_none(ctx, hm_core_get_pte(ctx, v))) /* BUG_ON(!pte_none()), always on */
        return hm_core_bug(ctx, HM_BUG_ATOMIC_BUSY, HM_EBUSY, "kmap_atomic_prot", v);
    return map_atomic_slot(ctx, cpu, v, hm_core_mk_pte(ctx, pfn, prot), vaddr);
}

static int x86_kunmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t kvaddr, unsigned type)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    hm_vaddr_t v = hm_page_base(l, kvaddr), slot = hm_core_atomic_slot(ctx, cpu, type);

    if (hm_core_pagefault_depth(ctx, cpu) <= 0)
        return hm_core_pagefault_enable(ctx, cpu); /* reports ATOMIC_UNBALANCED */
    if (v == slot) {
        /* kpte_clear_flush(): pte_clear, then __flush_tlb_one on this CPU only. A refused
         * clear changes nothing: the slot stays mapped, pagefaults stay disabled. */
        if (hm_core_pte_clear(ctx, slot) != HM_OK)
            return HM_EMACHINE;
        hm_core_flush_tlb_page(ctx, cpu, slot);
    } else if (hm_core_debug_highmem(ctx) && (v < l->page_offset || v >= l->high_memory)) {
        /* DEBUG_HIGHMEM: anything else must be a lowmem address */
        return hm_core_bug(ctx, HM_BUG_ATOMIC_BAD_ADDR, HM_EINVAL, "kunmap_atomic", kvaddr);
    } /* else: the wrong type or address is silently ignored */
    return hm_core_pagefault_enable(ctx, cpu);
}

/* kmap_atomic_pfn: no highmem test and no pte_none check. */
static int x86_kmap_atomic_pfn(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type, hm_vaddr_t *vaddr)
{
    hm_vaddr_t v = hm_core_atomic_slot(ctx, cpu, type);
    return map_atomic_slot(ctx, cpu, v, hm_core_mk_pte(ctx, pfn, hm_core_kmap_prot(ctx)), vaddr);
}

/* kmap_atomic_to_page: below FIXADDR_START it is virt_to_page(), which is wrong for pkmap
 * addresses (kept on purpose); in the fixmap it reads the slot's PTE without checking that
 * the index is a KMAP one (a none PTE yields pfn 0, as pte_page() of it would). */
static int x86_kmap_atomic_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    const struct hm_layout *l = hm_ctx_layout(ctx);
    if (vaddr < l->fixaddr_start)
        return hm_core_virt_to_page(ctx, vaddr, pfn);
    if (vaddr >= l->fixaddr_top) /* virt_to_fix() BUGs */
        return hm_core_bug(ctx, HM_BUG_VIRT_TO_FIX, HM_EINVAL, "virt_to_fix", vaddr);
    *pfn = hm_core_pte_pfn(ctx, hm_core_get_pte(ctx, hm_fix_to_virt(l, hm_virt_to_fix(l, vaddr))));
    return HM_OK;
}

/* The kmap_atomic family of both descriptors: the same code for both entry formats (it builds
 * and reads PTEs through the descriptor's mk_pte, pte_none and pte_pfn). */
#define X86_KMAP_ATOMIC_OPS                                                                   \
    .kmap_atomic_prot = x86_kmap_atomic_prot,                                                 \
    .kunmap_atomic = x86_kunmap_atomic,                                                       \
    .kmap_atomic_pfn = x86_kmap_atomic_pfn,                                                   \
    .kmap_atomic_to_page = x86_kmap_atomic_to_page

/* 5.11 arch/x86/include/asm/highmem.h: after a map only the paravirt lazy-MMU flush (nothing
 * here); after an unmap flush_tlb_one_kernel(vaddr), this CPU's TLB entry of the page. */
#define X86_KMAP_LOCAL_OPS .kmap_local_post_unmap = hm_core_flush_tlb_page

/* What both configurations share: the 3G/1G split with 896 MiB of lowmem (MAXMEM with a
 * 128 MiB vmalloc reserve), mem_map[] placed 16 MiB into lowmem, sizeof(struct page) of 2.6.24
 * i386, 4 KiB pages. */
#define X86_COMMON_FIELDS                                                                     \
    .abi_version = HM_ARCH_ABI_VERSION, .has_highmem = 1, .page_shift = 12,                   \
    .page_offset = 0xc0000000u, .lowmem_pages = 0x38000u, .mem_map = 0xc1000000u,             \
    .struct_page_size = 32

const struct hm_arch hm_arch_x86 = {
    X86_COMMON_FIELDS,
    .name = "x86",
    .pte_bytes = 4,
    .default_last_pkmap = 1024,        /* PTRS_PER_PTE */
    .default_highmem_pages = 0x8000u,  /* 128 MiB of highmem: a 1 GiB machine */
    .kmap_prot = X86_PAGE_KERNEL,
    .layout = x86_layout,
    .mk_pte = x86_mk_pte,
    .pte_none = x86_pte_none,
    .pte_pfn = x86_pte_pfn,
    /* kmap (NULL): might_sleep(); lowmem -> page_address; highmem -> kmap_high */
    /* kunmap (NULL): BUG if in_interrupt(); lowmem -> nothing; highmem -> kunmap_high */
    X86_KMAP_ATOMIC_OPS,
    /* flush_cache_kmaps (NULL): empty on x86 */
    .cache_kind = HM_CACHE_PIPT, /* physically tagged, coherent: no aliases (docs/arches.md) */
    .cache_colours = 1,
    X86_KMAP_LOCAL_OPS,
};

/* CONFIG_X86_PAE: 512 slots (PTRS_PER_PTE with 8-byte entries), 2 MiB PMD, NX in kmap_prot,
 * and physical frames above 4 GiB: the default machine has 5 GiB of memory. */
const struct hm_arch hm_arch_x86_pae = {
    X86_COMMON_FIELDS,
    .name = "x86-pae",
    .pte_bytes = 8,
    .default_last_pkmap = 512,
    .default_highmem_pages = 0x140000u - 0x38000u, /* up to pfn 0x140000: 5 GiB */
    .kmap_prot = X86_PAE_PAGE_KERNEL,
    .layout = x86_pae_layout,
    .mk_pte = x86_pae_mk_pte,
    .pte_none = x86_pae_pte_none,
    .pte_pfn = x86_pae_pte_pfn,
    /* kmap, kunmap (NULL): as on x86 */
    X86_KMAP_ATOMIC_OPS,
    /* flush_cache_kmaps (NULL): empty on x86 */
    .cache_kind = HM_CACHE_PIPT, /* physically tagged, coherent: no aliases (docs/arches.md) */
    .cache_colours = 1,
    X86_KMAP_LOCAL_OPS,
};
