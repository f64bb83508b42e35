/* highmem_arch.h - the backend contract: what an arch (x86, generic, ...) supplies to the
 * core, and the core services an arch's kmap fronts call. Read with include/highmem.h.
 * SPDX-License-Identifier: MIT */
#ifndef HIGHMEM_ARCH_H
#define HIGHMEM_ARCH_H

#include "highmem.h"

#ifdef __cplusplus
extern "C" {
#endif

HM_API_BEGIN /* exported: see highmem.h */

/* 2: hm_core_set_pte and hm_core_pte_clear return HM_EMACHINE when the machine refuses the
 * write, and a front undoes what it began (highmem.h, struct hm_machine).
 * 3: struct hm_arch gained needs_kmap_high_get, pkmap_colours, cache_kind, cache_colours and
 * the kmap_local hooks (all appended; zero keeps the 2.6.24 behaviour). */
#define HM_ARCH_ABI_VERSION 3

/* A backend: a constant descriptor plus an ops table. A NULL hook means the core's default
 * (the pointer form of the kernel's "#ifndef hook" fallbacks). */
struct hm_arch {
    uint32_t abi_version;          /* HM_ARCH_ABI_VERSION */
    const char *name;              /* the --arch name */
    int has_highmem;               /* 0: the !CONFIG_HIGHMEM kmap (spec §6) */
    uint32_t page_shift;           /* 12 everywhere here */
    uint32_t pte_bytes;            /* sizeof(pte_t): 4, or 8 for PAE / 64-bit PTEs */
    hm_vaddr_t page_offset;        /* PAGE_OFFSET */
    hm_pfn_t lowmem_pages;         /* pfns below this are direct mapped (highmem_start_pfn); 0
                                    * only with has_highmem (every page highmem, host/) */
    uint32_t default_last_pkmap;   /* LAST_PKMAP */
    uint32_t default_highmem_pages;/* --highmem-pages default */
    hm_vaddr_t mem_map;            /* where mem_map[] lives (hash_ptr hashes struct page *) */
    uint32_t struct_page_size;     /* sizeof(struct page) */
    hm_pte_t kmap_prot;            /* protection bits of kmap_prot */

    /* Fill the arch part of a layout: pkmap_base, vmalloc, fixmap, atomic slots, km_types,
     * pt_start/pt_pages. The core has already filled page size, pfn ranges, last_pkmap,
     * nr_cpus, pte_bytes, mem_map and va_bits (32: a 32-bit kernel; an arch with a wider
     * space raises it). The core then refuses a layout with an address, or a window end,
     * past 2^va_bits. Returns HM_OK or HM_EINVAL. */
    int (*layout)(const struct hm_config *cfg, struct hm_layout *l);

    /* PTE format. mk_pte(pfn, prot) builds a present entry; pte_none defaults to "== 0". */
    hm_pte_t (*mk_pte)(hm_pfn_t pfn, hm_pte_t prot);
    int (*pte_none)(hm_pte_t pte);
    hm_pfn_t (*pte_pfn)(hm_pte_t pte);

    /* The kmap fronts (arch/<a>/highmem*.c in the kernel). Arguments are already validated by
     * the core (pfn < max_pfn, cpu < nr_cpus, type < nr_km_types, out pointers non-NULL).
     * NULL kmap/kunmap: lowmem -> page_address, highmem -> kmap_high / kunmap_high. */
    int (*kmap)(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr);
    int (*kunmap)(struct hm_ctx *ctx, hm_pfn_t pfn);
    int (*kmap_atomic_prot)(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                            hm_pte_t prot, hm_vaddr_t *vaddr);
    int (*kunmap_atomic)(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr, unsigned type);
    /* NULL: kmap_atomic(pfn_to_page(pfn)) as the generic header does. */
    int (*kmap_atomic_pfn)(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                           hm_vaddr_t *vaddr);
    /* NULL: virt_to_page for direct-map addresses only. */
    int (*kmap_atomic_to_page)(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn);
    /* flush_cache_kmaps(); NULL is the x86 no-op. */
    void (*flush_cache_kmaps)(struct hm_ctx *ctx);

    /* ARCH_NEEDS_KMAP_HIGH_GET: the arch has kmap_high_get (from 2.6.30; spec §10.1), and
     * kunmap_high may then run in interrupt context (its lock is taken irq-safe). */
    int needs_kmap_high_get;

    /* PKMAP colouring (3.17/3.18, xtensa): the number of data-cache colours, DCACHE_N_COLORS
     * (a power of two; 0 or 1: uncoloured, the kernel's defaults). With n > 1 a page's colour
     * is pfn & (n - 1), DCACHE_ALIAS(page_to_phys(page)); it only gets pkmap slots of its own
     * colour (slot & (n - 1)), and each colour has its own scan cursor, wait-queue waiters and
     * LAST_PKMAP / n entries. The core derives every hook from this number. */
    uint32_t pkmap_colours;

    /* The data cache the machine's CPUs have (enum hm_cache_kind), copied into the layout; the
     * sim's cache model (sim/cache.h) follows it. cache_colours: how many page-sized colours
     * its index spans (way size / page size); 0 or 1 means no two virtual pages alias. A zeroed
     * descriptor says PIPT, the x86 case. docs/arches.md gives each arch's values and sources. */
    uint32_t cache_kind;
    uint32_t cache_colours;

    /* kmap_local (5.11): the arch_kmap_local_* hooks around a local slot's PTE write, on the
     * CPU whose slot vaddr is. pre_map runs before a kmap_local's set_pte, post_map after it
     * and after each re-install at a switch; pre_unmap and post_unmap around each clear
     * (kunmap_local, a switch's sched-out). NULL does nothing, as the kernel's defaults. A
     * hook with a TLB flush of one page flushes only this CPU's TLB (local_flush_tlb_page):
     * hm_core_flush_tlb_page fits the signature. Where a cache flush of the one page belongs
     * (a VIVT cache), pre_unmap is the place. */
    void (*kmap_local_pre_map)(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr);
    void (*kmap_local_post_map)(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr);
    void (*kmap_local_pre_unmap)(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr);
    void (*kmap_local_post_unmap)(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr);
    /* arch_kmap_local_high_get (5.11): NULL, or what kmap_local_page tries first for a highmem
     * page (ARM with a VIVT cache: kmap_high_get, hm_core_kmap_high_get): HM_OK with *vaddr the
     * page's pinned pkmap address, or 0 when it has none (kmap_local then maps it); an error is
     * returned as is. kunmap_local hands a pkmap address to kunmap_high where the context has
     * kmap_high_get. */
    int (*kmap_local_high_get)(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr);
    /* arch_kmap_local_map_idx (5.11): NULL, or the address of the fixmap slot that stack
     * position pos on cpu uses for pfn (xtensa: the slot of the page's colour among the
     * layout's pkmap_colours slots of (cpu, pos), which the layout op sizes its fixmap for).
     * NULL is kmap_local_calc_idx, the uncoloured slot pos + KM_MAX_IDX * cpu. The core asks it
     * for every local slot: a map, a switch's re-install and clear (from the saved pteval's
     * pfn), kunmap_local's top-of-stack check (arch_kmap_local_unmap_idx: the address must be
     * the top's slot) and kmap_to_page. */
    hm_vaddr_t (*kmap_local_slot)(const struct hm_ctx *ctx, uint32_t cpu, uint32_t pos, hm_pfn_t pfn);
};

/* How a CPU's data cache is indexed and tagged (hm_arch.cache_kind, hm_layout.cache_kind). */
enum hm_cache_kind {
    HM_CACHE_PIPT = 0,           /* physically indexed and tagged: no aliases (x86, ppc) */
    HM_CACHE_VIPT_ALIASING = 1,  /* virtually indexed, physically tagged, the index wider than
                                  * a page: two mappings of a page in different colours are two
                                  * lines */
    HM_CACHE_VIVT = 2            /* virtually indexed and tagged: every mapping of a page is its
                                  * own line, and a line outlives a PTE change until flushed */
};

/* The kmap slots per CPU of the fixmap a layout op sizes: KM_MAX_IDX in 5.11 (the core sets
 * l->km_max_idx before it calls the op), else the arch's own KM_TYPE_NR. A layout op writes
 * l->km_type_nr = hm_kmap_slots_per_cpu(l, its KM_TYPE_NR) and sizes its window from that. */
static inline uint32_t hm_kmap_slots_per_cpu(const struct hm_layout *l, uint32_t km_type_nr)
{
    return l->km_max_idx ? l->km_max_idx : km_type_nr;
}

/* enum km_type of 2.6.24 as x86, sparc and the generic header have it, in enum order: a layout
 * op points km_types at hm_km_types_common, or an arch with more types lists them after these
 * in its own array, { HM_KM_TYPES_COMMON, "KM_PPC_SYNC_PAGE", ... }. */
#define HM_KM_TYPES_COMMON                                                                  \
    "KM_BOUNCE_READ", "KM_SKB_SUNRPC_DATA", "KM_SKB_DATA_SOFTIRQ", "KM_USER0", "KM_USER1", \
    "KM_BIO_SRC_IRQ", "KM_BIO_DST_IRQ", "KM_PTE0", "KM_PTE1", "KM_IRQ0", "KM_IRQ1",        \
    "KM_SOFTIRQ0", "KM_SOFTIRQ1"
#define HM_NR_KM_TYPES_COMMON 13u
extern const char *const hm_km_types_common[HM_NR_KM_TYPES_COMMON];

/* ---------------------------------------------------------------------------------------
 * Core services for arch fronts. All take a context built for that arch.
 * ------------------------------------------------------------------------------------- */
/* kmap_high / kunmap_high of mm/highmem.c (pfn must be highmem). may_sleep = 0 is the
 * never-sleeping form (HM_EAGAIN where the kernel would sleep). */
int hm_core_kmap_high(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr);
int hm_core_kunmap_high(struct hm_ctx *ctx, hm_pfn_t pfn);
/* kmap_high_get (pfn must be highmem; the front calls it only where hm_core_has_kmap_high_get):
 * *vaddr = the page's pkmap address with its count raised, or 0 when it is not mapped (HM_OK,
 * nothing changed); HM_EINVAL when the count is below 1 (KMAP_HIGH_GET_COUNT, reported). */
int hm_core_kmap_high_get(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr);
/* Whether the context has kmap_high_get: its arch needs_kmap_high_get and its generation is
 * 2.6.30 or later. */
int hm_core_has_kmap_high_get(const struct hm_ctx *ctx);
/* kmap() as x86 and ppc have it after might_sleep() (the core's default for a NULL kmap op):
 * a lowmem page's direct-map address, a highmem page through kmap_high. */
int hm_core_kmap(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr);
/* kmap() as sparc and xtensa have it: BUG_ON(in_interrupt()) (IN_INTERRUPT, HM_EINVAL, nothing
 * changed) instead of might_sleep(), then as hm_core_kmap. */
int hm_core_kmap_no_irq(struct hm_ctx *ctx, hm_pfn_t pfn, int may_sleep, hm_vaddr_t *vaddr);

/* Report a BUG condition: counts it, emits HM_EV_BUG, calls the embedder's hook, and returns
 * err so a front can write `return hm_core_bug(...)`. */
int hm_core_bug(struct hm_ctx *ctx, int bug, int err, const char *function, uint64_t arg);

/* Hardware actions, each emitting its event before it reaches the machine. The two PTE
 * writes return HM_OK, or HM_EMACHINE when the machine refused the write (the PTE is as it
 * was): they have then emitted HM_EV_MACHINE_FAIL and counted it, and the caller undoes what
 * it began (highmem.h, struct hm_machine) and makes none of the flushes that follow the write. */
int hm_core_set_pte(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pte_t pte);
int hm_core_pte_clear(struct hm_ctx *ctx, hm_vaddr_t vaddr);
hm_pte_t hm_core_get_pte(const struct hm_ctx *ctx, hm_vaddr_t vaddr);
void hm_core_flush_tlb_range(struct hm_ctx *ctx, hm_vaddr_t start, hm_vaddr_t end);
void hm_core_flush_tlb_page(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr);
void hm_core_flush_tlb_all(struct hm_ctx *ctx);
void hm_core_flush_cache_all(struct hm_ctx *ctx);
/* flush_cache_page / __cpuc_flush_dcache_area of one page: write back and invalidate cpu's
 * (HM_CPU_ALL: every CPU's) cached lines of the page mapped at vaddr. Emits
 * HM_EV_CACHE_FLUSH_PAGE (cpu, a = vaddr), then calls the machine's flush_cache_page (NULL: a
 * no-op). Pre: vaddr below 2^va_bits; no lock is needed beyond what the caller holds. */
void hm_core_flush_cache_page(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr);

/* pagefault_disable / pagefault_enable on a CPU (the kmap_atomic nesting depth).
 * enable returns HM_EINVAL (ATOMIC_UNBALANCED, reported) when the depth is already 0. */
void hm_core_pagefault_disable(struct hm_ctx *ctx, uint32_t cpu);
int hm_core_pagefault_enable(struct hm_ctx *ctx, uint32_t cpu);
int hm_core_pagefault_depth(const struct hm_ctx *ctx, uint32_t cpu);

/* The address of cpu's kmap_atomic slot for a km_type index, from the layout: kmap_atomic_base,
 * kmap_atomic_dir, KM_TYPE_NR (with the debug fences where the arch has them). In 5.11 the index
 * is a kmap_local stack position below KM_MAX_IDX (no fences: the stack has its guards). */
hm_vaddr_t hm_core_atomic_slot(const struct hm_ctx *ctx, uint32_t cpu, unsigned type);

/* The lowmem shortcut every kmap_atomic front takes: pagefault_disable(), then
 * page_address(). Always HM_OK. */
int hm_core_kmap_atomic_lowmem(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_vaddr_t *vaddr);
/* virt_to_page() as the kmap_atomic_to_page fronts use it: the arithmetic is the kernel's (a
 * pkmap address gives a wrong but valid pfn); an address below PAGE_OFFSET or a pfn past
 * max_pfn is reported as BAD_ADDR (HM_ERANGE) instead of a pointer outside mem_map. */
int hm_core_virt_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn);

/* Context facts. */
int hm_core_in_interrupt(const struct hm_ctx *ctx);
int hm_core_debug_highmem(const struct hm_ctx *ctx);
int hm_core_is_highmem(const struct hm_ctx *ctx, hm_pfn_t pfn);
hm_vaddr_t hm_core_lowmem_address(const struct hm_ctx *ctx, hm_pfn_t pfn);
/* virt_to_page's arithmetic, (vaddr - PAGE_OFFSET) >> PAGE_SHIFT, with no range check.
 * Pre: PAGE_OFFSET <= vaddr and the pfn fits 32 bits (a direct-map address, or any address of
 * a 32-bit space); the kernel's wrap below PAGE_OFFSET is not modelled. */
hm_pfn_t hm_core_virt_to_pfn(const struct hm_ctx *ctx, hm_vaddr_t vaddr);
hm_pte_t hm_core_kmap_prot(const struct hm_ctx *ctx);
int hm_core_pte_none(const struct hm_ctx *ctx, hm_pte_t pte);
hm_pfn_t hm_core_pte_pfn(const struct hm_ctx *ctx, hm_pte_t pte);
hm_pte_t hm_core_mk_pte(const struct hm_ctx *ctx, hm_pfn_t pfn, hm_pte_t prot);

/* Address arithmetic on hm_vaddr_t. Masks are built in hm_vaddr_t's own width: a 32-bit
 * ~(PAGE_SIZE - 1) would clear the high half of a wide address, not just its page offset. */
/* Whether v lies in the machine's virtual address space [0, 2^va_bits). */
static inline int hm_va_ok(const struct hm_layout *l, hm_vaddr_t v)
{
    return l->va_bits >= 64u || ((uint64_t)v >> l->va_bits) == 0u;
}
/* v & PAGE_MASK. */
static inline hm_vaddr_t hm_page_base(const struct hm_layout *l, hm_vaddr_t v)
{
    return v & ~(hm_vaddr_t)(l->page_size - 1u);
}
/* __fix_to_virt(idx) = FIXADDR_TOP - (idx << PAGE_SHIFT). Pre: idx < nr_fixmap (the result
 * stays in the fixmap, never below 0). */
static inline hm_vaddr_t hm_fix_to_virt(const struct hm_layout *l, uint32_t idx)
{
    return l->fixaddr_top - ((hm_vaddr_t)idx << l->page_shift);
}
/* __virt_to_fix(v) = (FIXADDR_TOP - (v & PAGE_MASK)) >> PAGE_SHIFT. Pre: FIXADDR_START <= v <
 * FIXADDR_TOP, so the index is below nr_fixmap and fits its 32 bits. */
static inline uint32_t hm_virt_to_fix(const struct hm_layout *l, hm_vaddr_t v)
{
    return (uint32_t)((l->fixaddr_top - hm_page_base(l, v)) >> l->page_shift);
}

/* The built-in backends (one exported symbol each). */
extern const struct hm_arch hm_arch_x86;     /* arch/x86: 32-bit, no PAE */
extern const struct hm_arch hm_arch_x86_pae; /* arch/x86: CONFIG_X86_PAE */
extern const struct hm_arch hm_arch_ppc;     /* arch/ppc: ppc32, classic MMU */
extern const struct hm_arch hm_arch_sparc;   /* arch/sparc: sparc32 SRMMU */
extern const struct hm_arch hm_arch_generic; /* core: !CONFIG_HIGHMEM */
extern const struct hm_arch hm_arch_arm;      /* arch/arm: 32-bit ARM, VIVT cache */
extern const struct hm_arch hm_arch_arm_vipt; /* arch/arm: 32-bit ARM, VIPT non-aliasing cache */
extern const struct hm_arch hm_arch_xtensa;  /* arch/xtensa: MMUv2, aliasing D-cache, coloured pkmap */

HM_API_END

#ifdef __cplusplus
}
#endif
#endif /* HIGHMEM_ARCH_H */
