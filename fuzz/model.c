/* model.c - the reference model of kmap_ops, the executable statement of docs/kernel-highmem.md
 * §2-§9 (2.6.24), of docs/generations.md's 2.6.30, 3.17 (colours) and 5.11 rows (§10.1, §10.3,
 * §10.6) and of docs/arches.md's arm and xtensa tables: plain arrays, linear scans, per-arch
 * rules; written from those pages (arch/arm and arch/xtensa were read only for which behaviours
 * exist, never to transcribe them).
 * SPDX-License-Identifier: MIT */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_SHIFT 12u
#define PAGE_SIZE (1u << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1u))
/* 2.6.30 brought need_flush into flush_all_zero_pkmaps for good (docs/generations.md, first
 * row): from then on the config's need_flush no longer matters. */
#define NEED_FLUSH(m) ((m)->cfg.need_flush || (m)->cfg.kernel >= HM_KERNEL_2_6_30)
/* One past the last address of every modelled (32-bit) machine: the model's arithmetic is on
 * uint32_t addresses, which only addresses below this reach. */
#define VA_END 0x100000000ull

/* ---------------------------------------------------------------------------------------
 * Constants of the modelled machines (spec §3.1, §4.1, §5.1; docs/design.md, docs/arches.md).
 * ------------------------------------------------------------------------------------- */
/* x86, both configurations */
#define X86_PAGE_OFFSET 0xc0000000u
#define X86_LOWMEM_PAGES 0x38000u          /* 896 MiB */
#define X86_HIGHMEM_PAGES 0x8000u          /* 128 MiB */
#define X86_PAE_HIGHMEM_PAGES (0x140000u - 0x38000u) /* up to 5 GiB */
#define X86_FIXADDR_TOP 0xfffff000u        /* __FIXADDR_TOP default */
#define X86_FIX_KMAP_BEGIN 70u             /* HOLE, VDSO, DBGP, EARLYCON, APIC, 64 IO-APIC, F00F */
#define X86_FIX_AFTER_KMAP 6u              /* 4 ACPI, PCIE_MCFG, PARAVIRT_BOOTMAP */
#define X86_NR_FIX_BTMAPS 16u              /* then FIX_WP_TEST */
#define X86_CONFIG_NR_CPUS 8u
#define X86_KM_TYPES 13u
#define X86_PMD_SIZE (4u << 20)            /* two-level paging */
#define X86_PAE_PMD_SIZE (2u << 20)        /* three-level paging */
#define X86_PAGE_KERNEL 0x163u             /* P RW A D G */
#define X86_VMALLOC_OFFSET (8u << 20)
#define X86_PAE_NX 0x8000000000000000ull
#define X86_PAE_FRAME 0x000ffffffffff000ull
/* ppc32 */
#define PPC_PAGE_OFFSET 0xc0000000u
#define PPC_LOWMEM_PAGES 0x30000u          /* 768 MiB */
#define PPC_HIGHMEM_PAGES 0x10000u
#define PPC_HIGHMEM_START 0xfe000000u      /* CONFIG_HIGHMEM_START = PKMAP_BASE */
#define PPC_KMAP_FIX_OFFSET 0x00400000u    /* KMAP_FIX_BEGIN = PKMAP_BASE + 4 MiB */
#define PPC_KM_TYPES 15u                   /* + KM_PPC_SYNC_PAGE, KM_PPC_SYNC_ICACHE */
#define PPC_CONFIG_NR_CPUS 4u
#define PPC_PAGE_KERNEL 0x591u
/* sparc32 */
#define SPARC_PAGE_OFFSET 0xf0000000u      /* KERNBASE */
#define SPARC_LOWMEM_PAGES 0xc000u         /* SRMMU_MAXMEM, 192 MiB */
#define SPARC_HIGHMEM_PAGES 0x10000u
#define SPARC_NOCACHE_VADDR 0xfc000000u
#define SPARC_NOCACHE_PAGES 1280u
#define SPARC_NOCACHE_PHYS 0x00400000u
#define SPARC_PMD_SIZE (4u << 20)
#define SPARC_FIXADDR_TOP 0xfcfff000u
#define SPARC_FIX_KMAP_BEGIN 1u            /* after FIX_HOLE */
#define SPARC_CONFIG_NR_CPUS 32u
#define SPARC_KM_TYPES 13u
#define SPARC_KMAP_PROT 0x9eu              /* SRMMU_ET_PTE | SRMMU_PRIV | SRMMU_CACHE */
/* 5.11 kmap_local (include/asm-generic/kmap_size.h) */
#define KM_MAX_IDX 16u
#define KM_MAX_IDX_DEBUG 33u               /* DEBUG_KMAP_LOCAL: a guard below every mapping */
/* generic (!CONFIG_HIGHMEM) */
#define GENERIC_PAGE_OFFSET 0xc0000000u
#define GENERIC_LOWMEM_PAGES 0x38000u
#define GENERIC_KM_TYPES 13u
/* 32-bit ARM, arm (VIVT) and arm-vipt (docs/arches.md "arm and arm-vipt") */
#define ARM_PAGE_OFFSET 0xc0000000u        /* VMSPLIT_3G */
#define ARM_LOWMEM_PAGES 0x37000u          /* 880 MiB */
#define ARM_HIGHMEM_PAGES 0x10000u
#define ARM_PKMAP_BASE 0xbfe00000u         /* PAGE_OFFSET - PMD_SIZE (2 MiB) */
#define ARM_PTRS_PER_PTE 512u              /* LAST_PKMAP's default and its limit */
#define ARM_FIXADDR_START 0xfff00000u      /* FIX_KMAP_BEGIN 0, ascending */
#define ARM_FIXADDR_TOP 0xfffe0000u
#define ARM_CONFIG_NR_CPUS 4u
#define ARM_KM_TYPES 14u                   /* the common 13 and KM_L2_CACHE */
#define ARM_PAGE_KERNEL 0x2cfu             /* PRESENT YOUNG WRITEBACK DIRTY WRITE EXEC */
/* xtensa (docs/arches.md "xtensa"): the coloured pkmap of 3.17/3.18 */
#define XTENSA_PAGE_OFFSET 0xd0000000u     /* the MMUv2 cached KSEG */
#define XTENSA_LOWMEM_PAGES 0x8000u        /* 128 MiB */
#define XTENSA_HIGHMEM_PAGES 0x10000u
#define XTENSA_COLOURS 2u                  /* DCACHE_N_COLORS: an 8 KiB way, 4 KiB pages */
#define XTENSA_LAST_PKMAP 2048u            /* PTRS_PER_PTE * DCACHE_N_COLORS */
#define XTENSA_FIXADDR_TOP 0xbffff000u     /* VMALLOC_START - PAGE_SIZE */
#define XTENSA_PMD_SIZE (4u << 20)
#define XTENSA_CONFIG_NR_CPUS 4u
#define XTENSA_KM_TYPES 13u
#define XTENSA_PAGE_KERNEL_EXEC 0x107u     /* CA_WB ACCESSED HW_WRITE HW_EXEC */
#define IS_ARM(m) ((m)->L.arch == MA_ARM || (m)->L.arch == MA_ARM_VIPT)
/* kmap_high_get exists (ARCH_NEEDS_KMAP_HIGH_GET): ARM from 2.6.30 */
#define HAS_HIGH_GET(m) (IS_ARM(m) && (m)->cfg.kernel >= HM_KERNEL_2_6_30)

static uint32_t max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static int is_pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1u)) == 0;
}

/* ---------------------------------------------------------------------------------------
 * Layout.
 * ------------------------------------------------------------------------------------- */
static int arch_of(const char *name)
{
    static const char *const names[] = {"x86", "x86-pae", "ppc", "sparc", "generic", "arm", "arm-vipt", "xtensa"};
    for (int i = 0; i < 8; i++)
        if (name && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* x86 (§3.1): the fixmap below FIXADDR_TOP, PKMAP_BASE under the boot fixmaps, PMD-aligned. */
static int layout_x86(struct model_layout *L, const struct model_config *c, uint32_t pmd_size,
                      uint64_t phys_pages)
{
    uint32_t end_permanent, end_fixed, boot_start;

    if (L->max_pfn > phys_pages)
        return -1;
    L->nr_km_types = X86_KM_TYPES;
    /* fences with DEBUG_HIGHMEM; 5.11: KM_MAX_IDX per CPU instead (no fences) */
    L->km_type_nr = L->km_max_idx ? L->km_max_idx : c->debug_highmem ? 2u * X86_KM_TYPES + 1u : X86_KM_TYPES;
    L->config_nr_cpus = max_u32(X86_CONFIG_NR_CPUS, c->nr_cpus);
    L->fix_kmap_begin = X86_FIX_KMAP_BEGIN;
    end_permanent = X86_FIX_KMAP_BEGIN + L->km_type_nr * L->config_nr_cpus + X86_FIX_AFTER_KMAP;
    end_fixed = end_permanent + X86_NR_FIX_BTMAPS + 1u;
    L->nr_fixmap = end_fixed;
    L->fixaddr_top = X86_FIXADDR_TOP;
    L->fixaddr_start = X86_FIXADDR_TOP - end_permanent * PAGE_SIZE;
    boot_start = X86_FIXADDR_TOP - end_fixed * PAGE_SIZE;
    L->atomic_idx0 = X86_FIXADDR_TOP - X86_FIX_KMAP_BEGIN * PAGE_SIZE;
    L->pkmap_base = (boot_start - PAGE_SIZE * (L->S + 1u)) & ~(pmd_size - 1u);
    /* VMALLOC_START = high_memory + VMALLOC_OFFSET rounded up, VMALLOC_END = PKMAP_BASE - 2
     * pages: an empty vmalloc area is no machine (never with the built-in lowmem size) */
    if (((L->high_memory + 2u * X86_VMALLOC_OFFSET - 1u) & ~(X86_VMALLOC_OFFSET - 1u)) >=
        L->pkmap_base - 2u * PAGE_SIZE)
        return -1;
    L->pt_start = L->pkmap_base;
    if (X86_FIXADDR_TOP - (end_fixed - 1u) * PAGE_SIZE < L->pt_start)
        L->pt_start = X86_FIXADDR_TOP - (end_fixed - 1u) * PAGE_SIZE;
    L->pt_end = (uint64_t)X86_FIXADDR_TOP + PAGE_SIZE;
    return 0;
}

/* ppc (§4.1): PKMAP_BASE = CONFIG_HIGHMEM_START, the atomic window 4 MiB above, ascending. */
static int layout_ppc(struct model_layout *L, const struct model_config *c)
{
    if (L->max_pfn > (1u << 20) || (uint64_t)L->S * PAGE_SIZE > PPC_KMAP_FIX_OFFSET)
        return -1;
    L->nr_km_types = PPC_KM_TYPES;
    L->km_type_nr = L->km_max_idx ? L->km_max_idx : PPC_KM_TYPES;
    L->config_nr_cpus = max_u32(PPC_CONFIG_NR_CPUS, c->nr_cpus);
    L->pkmap_base = PPC_HIGHMEM_START;
    L->kmap_fix_begin = L->atomic_idx0 = PPC_HIGHMEM_START + PPC_KMAP_FIX_OFFSET;
    L->pt_start = L->pkmap_base;
    L->pt_end = (uint64_t)L->kmap_fix_begin + (uint64_t)L->km_type_nr * L->config_nr_cpus * PAGE_SIZE;
    return 0;
}

/* sparc (§5.1): PKMAP_BASE = PMD_ALIGN(end of the nocache pool), fixmap under 0xfcfff000. */
static int layout_sparc(struct model_layout *L, const struct model_config *c)
{
    uint32_t nocache_end = SPARC_NOCACHE_VADDR + SPARC_NOCACHE_PAGES * PAGE_SIZE;

    if (L->max_pfn > (1u << 24))
        return -1;
    L->nr_km_types = SPARC_KM_TYPES;
    L->km_type_nr = L->km_max_idx ? L->km_max_idx : SPARC_KM_TYPES;
    L->config_nr_cpus = max_u32(SPARC_CONFIG_NR_CPUS, c->nr_cpus);
    L->pkmap_base = (nocache_end + SPARC_PMD_SIZE - 1u) & ~(SPARC_PMD_SIZE - 1u);
    L->fix_kmap_begin = SPARC_FIX_KMAP_BEGIN;
    L->nr_fixmap = SPARC_FIX_KMAP_BEGIN + L->km_type_nr * L->config_nr_cpus;
    L->fixaddr_top = SPARC_FIXADDR_TOP;
    L->fixaddr_start = SPARC_FIXADDR_TOP - L->nr_fixmap * PAGE_SIZE;
    L->atomic_idx0 = SPARC_FIXADDR_TOP - SPARC_FIX_KMAP_BEGIN * PAGE_SIZE;
    if ((uint64_t)L->pkmap_base + (uint64_t)L->S * PAGE_SIZE > L->fixaddr_start)
        return -1;
    L->pt_start = L->pkmap_base;
    L->pt_end = (uint64_t)SPARC_FIXADDR_TOP + PAGE_SIZE;
    return 0;
}

/* arm (docs/arches.md): pkmap one 2 MiB PMD below PAGE_OFFSET, at most one PTE page of slots;
 * the atomic slots ascend from FIXADDR_START and KM_TYPE_NR * NR_CPUS must fit the 224 fixmap
 * pages below FIXADDR_TOP; 32-bit physical addresses. */
static int layout_arm(struct model_layout *L, const struct model_config *c)
{
    if (L->max_pfn > (1u << 20) || L->S > ARM_PTRS_PER_PTE)
        return -1;
    L->nr_km_types = ARM_KM_TYPES;
    L->km_type_nr = L->km_max_idx ? L->km_max_idx : ARM_KM_TYPES;
    L->config_nr_cpus = max_u32(ARM_CONFIG_NR_CPUS, c->nr_cpus);
    if (L->km_type_nr * L->config_nr_cpus > (ARM_FIXADDR_TOP - ARM_FIXADDR_START) / PAGE_SIZE)
        return -1;
    L->pkmap_base = ARM_PKMAP_BASE;
    L->fixaddr_start = ARM_FIXADDR_START;
    L->fixaddr_top = ARM_FIXADDR_TOP;
    L->atomic_idx0 = ARM_FIXADDR_START;
    L->pt_start = ARM_PKMAP_BASE;
    L->pt_end = ARM_FIXADDR_TOP;
    return 0;
}

/* xtensa (3.17/3.18; 5.11 sizes it with KM_MAX_IDX, a local slot of each colour per stack
 * position, docs/arches.md): an ascending fixmap of KM_TYPE_NR * NR_CPUS * DCACHE_N_COLORS pages
 * ending at FIXADDR_TOP, its start rounded down to a PMD; the pkmap window below it,
 * (FIXADDR_START - (LAST_PKMAP + 1) pages) rounded down to a PMD; 20-bit physical frames. */
static int layout_xtensa(struct model_layout *L, const struct model_config *c)
{
    if (L->max_pfn > (1u << 20) || L->S < XTENSA_COLOURS)
        return -1;
    L->nr_km_types = XTENSA_KM_TYPES;
    L->km_type_nr = L->km_max_idx ? L->km_max_idx : XTENSA_KM_TYPES; /* 5.11: KM_MAX_IDX */
    L->config_nr_cpus = max_u32(XTENSA_CONFIG_NR_CPUS, c->nr_cpus);
    L->nr_fixmap = L->km_type_nr * L->config_nr_cpus * XTENSA_COLOURS;
    L->fixaddr_top = XTENSA_FIXADDR_TOP;
    L->fixaddr_start = (XTENSA_FIXADDR_TOP - L->nr_fixmap * PAGE_SIZE) & ~(XTENSA_PMD_SIZE - 1u);
    L->pkmap_base = (L->fixaddr_start - (L->S + 1u) * PAGE_SIZE) & ~(XTENSA_PMD_SIZE - 1u);
    L->atomic_idx0 = L->fixaddr_start;
    L->pt_start = L->pkmap_base;
    L->pt_end = (uint64_t)L->fixaddr_start + (uint64_t)L->nr_fixmap * PAGE_SIZE;
    return 0;
}

/* The memory of the highmem arches: PAGE_OFFSET, lowmem pages, and the defaults of the
 * highmem pages and of LAST_PKMAP. */
static const struct {
    uint32_t page_offset, lowmem, highmem, last_pkmap;
} arch_memory[] = {
    [MA_X86] = {X86_PAGE_OFFSET, X86_LOWMEM_PAGES, X86_HIGHMEM_PAGES, 1024u},
    [MA_X86_PAE] = {X86_PAGE_OFFSET, X86_LOWMEM_PAGES, X86_PAE_HIGHMEM_PAGES, 512u},
    [MA_PPC] = {PPC_PAGE_OFFSET, PPC_LOWMEM_PAGES, PPC_HIGHMEM_PAGES, 1024u},
    [MA_SPARC] = {SPARC_PAGE_OFFSET, SPARC_LOWMEM_PAGES, SPARC_HIGHMEM_PAGES, 1024u},
    [MA_GENERIC] = {0, 0, 0, 0},
    [MA_ARM] = {ARM_PAGE_OFFSET, ARM_LOWMEM_PAGES, ARM_HIGHMEM_PAGES, ARM_PTRS_PER_PTE},
    [MA_ARM_VIPT] = {ARM_PAGE_OFFSET, ARM_LOWMEM_PAGES, ARM_HIGHMEM_PAGES, ARM_PTRS_PER_PTE},
    [MA_XTENSA] = {XTENSA_PAGE_OFFSET, XTENSA_LOWMEM_PAGES, XTENSA_HIGHMEM_PAGES, XTENSA_LAST_PKMAP},
};

static int compute_layout(struct model_layout *L, const struct model_config *c)
{
    uint32_t lowmem, highmem;

    memset(L, 0, sizeof *L);
    L->arch = arch_of(c->arch);
    if (L->arch < 0 || c->nr_cpus < 1 || c->nr_cpus > HM_MAX_CPUS || c->kernel < HM_KERNEL_2_6_24 ||
        c->kernel > HM_KERNEL_5_11)
        return -1;
    if (c->kernel >= HM_KERNEL_5_11) { /* every arch, generic too, has the tasks */
        if (c->nr_tasks > HM_MAX_TASKS)
            return -1;
        L->km_max_idx = c->debug_highmem ? KM_MAX_IDX_DEBUG : KM_MAX_IDX;
        L->nr_tasks = c->nr_tasks ? c->nr_tasks : c->nr_cpus + 2u;
    }
    if (L->arch == MA_GENERIC) { /* every page is lowmem, no pkmap window, no atomic slots */
        L->page_offset = GENERIC_PAGE_OFFSET;
        L->highmem_start_pfn = L->max_pfn = GENERIC_LOWMEM_PAGES;
        L->high_memory = GENERIC_PAGE_OFFSET + GENERIC_LOWMEM_PAGES * PAGE_SIZE;
        L->nr_km_types = L->km_type_nr = GENERIC_KM_TYPES;
        L->config_nr_cpus = c->nr_cpus;
        return 0;
    }
    L->page_offset = arch_memory[L->arch].page_offset;
    lowmem = arch_memory[L->arch].lowmem;
    highmem = c->highmem_pages ? c->highmem_pages : arch_memory[L->arch].highmem;
    L->S = c->last_pkmap ? c->last_pkmap : arch_memory[L->arch].last_pkmap;
    if (!is_pow2(L->S) || L->S < 2u || L->S > HM_MAX_PKMAP)
        return -1;
    if (highmem > UINT32_MAX - lowmem)
        return -1;
    L->highmem_start_pfn = lowmem;
    L->max_pfn = lowmem + highmem;
    L->high_memory = L->page_offset + lowmem * PAGE_SIZE;
    switch (L->arch) {
    case MA_X86:
        return layout_x86(L, c, X86_PMD_SIZE, (uint64_t)1 << 20);
    case MA_X86_PAE:
        return layout_x86(L, c, X86_PAE_PMD_SIZE, (uint64_t)1 << 24);
    case MA_PPC:
        return layout_ppc(L, c);
    case MA_ARM:
    case MA_ARM_VIPT:
        return layout_arm(L, c);
    case MA_XTENSA:
        return layout_xtensa(L, c);
    default:
        return layout_sparc(L, c);
    }
}

/* ---------------------------------------------------------------------------------------
 * Addresses and PTE words.
 * ------------------------------------------------------------------------------------- */
uint32_t model_pkmap_addr(const struct model *m, uint32_t i)
{
    return m->L.pkmap_base + i * PAGE_SIZE; /* PKMAP_ADDR(i) */
}

/* The atomic slot of (cpu, type): idx = type + KM_TYPE_NR * cpu (§3.3, §4.2, §5.2); on x86
 * with DEBUG_HIGHMEM the real types sit at the odd enum values, between the fences (§3.1). */
uint32_t model_slot_addr(const struct model *m, uint32_t cpu, uint32_t type)
{
    const struct model_layout *L = &m->L;
    uint32_t t = type;

    switch (L->arch) {
    case MA_X86:
    case MA_X86_PAE:
        if (m->cfg.debug_highmem && !L->km_max_idx)
            t = 2u * type + 1u;
        /* __fix_to_virt(FIX_KMAP_BEGIN + idx): descending */
        return L->fixaddr_top - (L->fix_kmap_begin + t + L->km_type_nr * cpu) * PAGE_SIZE;
    case MA_PPC:
        /* KMAP_FIX_BEGIN + idx * PAGE_SIZE: ascending */
        return L->kmap_fix_begin + (t + L->km_type_nr * cpu) * PAGE_SIZE;
    case MA_SPARC:
        return L->fixaddr_top - (L->fix_kmap_begin + t + L->km_type_nr * cpu) * PAGE_SIZE;
    case MA_ARM:
    case MA_ARM_VIPT: /* __fix_to_virt(idx) = FIXADDR_START + idx pages: ascending */
        return L->atomic_idx0 + (t + L->km_type_nr * cpu) * PAGE_SIZE;
    case MA_XTENSA: /* kmap_idx(type, colour 0): the first of the pair; 5.11: of position t */
        return L->atomic_idx0 + (t + L->km_type_nr * cpu) * XTENSA_COLOURS * PAGE_SIZE;
    default:
        return 0; /* generic: there are no atomic slots */
    }
}

/* mk_pte(pfn, kmap_prot) in each arch's format (docs/arches.md "PTE formats"). */
uint64_t model_pte_word(const struct model *m, uint32_t pfn)
{
    switch (m->L.arch) {
    case MA_X86:
        return (uint32_t)(pfn << PAGE_SHIFT) | X86_PAGE_KERNEL;
    case MA_X86_PAE:
        return (((uint64_t)pfn << PAGE_SHIFT) & X86_PAE_FRAME) | X86_PAE_NX | X86_PAGE_KERNEL;
    case MA_PPC:
        return (uint32_t)(pfn << PAGE_SHIFT) | PPC_PAGE_KERNEL;
    case MA_SPARC:
        return ((pfn << 8) & 0xffffff00u) | SPARC_KMAP_PROT;
    case MA_ARM:
    case MA_ARM_VIPT:
        return (uint32_t)(pfn << PAGE_SHIFT) | ARM_PAGE_KERNEL;
    case MA_XTENSA:
        return (uint32_t)(pfn << PAGE_SHIFT) | XTENSA_PAGE_KERNEL_EXEC;
    default:
        return 0;
    }
}

static int is_highmem(const struct model *m, uint32_t pfn)
{
    return pfn >= m->L.highmem_start_pfn && pfn < m->L.max_pfn;
}

static uint32_t lowmem_address(const struct model *m, uint32_t pfn)
{
    return m->L.page_offset + (pfn << PAGE_SHIFT); /* __va(pfn << PAGE_SHIFT) */
}

/* Which atomic slot of a simulated CPU vaddr's page is: the slot-address formula inverted
 * (idx = type + KM_TYPE_NR * cpu), accepted only if the forward formula gives vaddr back. */
static int atomic_slot_of(const struct model *m, uint32_t va, uint32_t *j)
{
    const struct model_layout *L = &m->L;
    uint32_t idx, cpu, t, type;

    if (L->arch == MA_XTENSA) { /* (type + KM_TYPE_NR * cpu) * colours + colour, ascending */
        if (va < L->atomic_idx0 || (va - L->atomic_idx0) / PAGE_SIZE / m->spc >= m->ncpus)
            return 0;
        *j = (va - L->atomic_idx0) / PAGE_SIZE;
        return 1;
    }
    switch (L->arch) {
    case MA_X86:
    case MA_X86_PAE:
    case MA_SPARC: /* descending from __fix_to_virt(FIX_KMAP_BEGIN) */
        if (va > L->atomic_idx0)
            return 0;
        idx = (L->atomic_idx0 - va) / PAGE_SIZE;
        break;
    case MA_PPC: /* ascending from KMAP_FIX_BEGIN */
    case MA_ARM:
    case MA_ARM_VIPT: /* ascending from FIXADDR_START */
        if (va < L->atomic_idx0)
            return 0;
        idx = (va - L->atomic_idx0) / PAGE_SIZE;
        break;
    default:
        return 0;
    }
    cpu = idx / L->km_type_nr;
    t = idx % L->km_type_nr;
    type = t;
    if ((L->arch == MA_X86 || L->arch == MA_X86_PAE) && m->cfg.debug_highmem && !L->km_max_idx) {
        if (t % 2u == 0)
            return 0; /* a __KM_FENCE_n slot: never mapped */
        type = (t - 1u) / 2u;
    }
    if (cpu >= m->ncpus || type >= m->spc || model_slot_addr(m, cpu, type) != va)
        return 0;
    *j = cpu * m->spc + type;
    return 1;
}

/* What an address is, for the MMU: a pkmap slot, an atomic slot of a simulated CPU, or
 * neither. */
enum { CL_NONE, CL_PKMAP, CL_ATOMIC };

static int classify(const struct model *m, uint32_t vaddr, uint32_t *index)
{
    uint32_t va = vaddr & PAGE_MASK;

    if (m->L.S && va >= m->L.pkmap_base && (va - m->L.pkmap_base) / PAGE_SIZE < m->L.S) {
        *index = (va - m->L.pkmap_base) / PAGE_SIZE;
        return CL_PKMAP;
    }
    return atomic_slot_of(m, va, index) ? CL_ATOMIC : CL_NONE;
}

/* The page a PTE maps, plus one (0: none). */
static uint32_t pte_page_at(const struct model *m, uint32_t vaddr)
{
    uint32_t i;
    switch (classify(m, vaddr, &i)) {
    case CL_PKMAP:
        return m->pk_pte[i];
    case CL_ATOMIC:
        return m->atomic_pte[i];
    default:
        return 0;
    }
}

uint64_t model_pte_at(const struct model *m, uint64_t vaddr)
{
    uint32_t p = vaddr < VA_END ? pte_page_at(m, (uint32_t)vaddr) : 0;
    return p ? model_pte_word(m, p - 1u) : 0;
}

int model_tlb_lookup(const struct model *m, uint32_t cpu, uint64_t vaddr, uint32_t *pfn)
{
    uint32_t i, e = 0;
    if (cpu >= m->ncpus || vaddr >= VA_END)
        return 0;
    switch (classify(m, (uint32_t)vaddr, &i)) {
    case CL_PKMAP:
        e = m->tlb_pk[cpu * m->L.S + i];
        break;
    case CL_ATOMIC:
        e = m->tlb_at[cpu * m->nslots + i];
        break;
    default:
        break;
    }
    if (e && pfn)
        *pfn = e - 1u;
    return e != 0;
}

uint32_t model_tlb_entries(const struct model *m, uint32_t cpu)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->L.S; i++)
        n += m->tlb_pk[cpu * m->L.S + i] != 0;
    for (uint32_t j = 0; j < m->nslots; j++)
        n += m->tlb_at[cpu * m->nslots + j] != 0;
    return n;
}

/* ---------------------------------------------------------------------------------------
 * Set-up.
 * ------------------------------------------------------------------------------------- */
int model_init(struct model *m, const struct model_config *cfg)
{
    uint32_t S;
    size_t n_count, n_atomic, n_tlb_pk, n_tlb_at, n_rec, words, bytes;
    uint32_t *w;
    /* the allocations of a previous init, reused */
    void *block = m->block;
    size_t block_size = m->block_size;
    struct model_byte *mem = m->mem;
    uint32_t capmem = m->capmem;

    memset(m, 0, sizeof *m);
    m->block = block;
    m->block_size = block_size;
    m->mem = mem;
    m->capmem = capmem;
    m->cfg = *cfg;
    if (compute_layout(&m->L, cfg) != 0)
        return -1;
    S = m->L.S;
    m->ncpus = cfg->nr_cpus;
    m->spc = m->L.km_max_idx ? m->L.km_max_idx : m->L.nr_km_types;
    m->colours = 1;
    if (m->L.arch == MA_XTENSA) { /* a slot of each colour per (cpu, type), 5.11 per position */
        m->colours = XTENSA_COLOURS;
        m->spc *= XTENSA_COLOURS;
        m->last_nr1 = 1; /* colour c's cursor starts at c */
    }
    m->nslots = m->L.arch == MA_GENERIC ? 0 : m->ncpus * m->spc;
    m->incr = m->L.km_max_idx == KM_MAX_IDX_DEBUG ? 2u : 1u;
    n_rec = m->L.km_max_idx ? m->ncpus + m->L.nr_tasks - 1u : 0u;
    m->capev = 2u * S + 16u; /* a flush: enter, cache flush, S clears each refused, TLB flush, done; + a BUG */
    /* 5.11 switch: save and restore, each position cleared (pre hook, clear, refusal or post
     * hook) and installed (set, refusal or post hook), and the undo of both: 14 per position */
    m->capev += 14u * m->L.km_max_idx;
    /* one zeroed block: the event list, then every array of 32-bit words */
    n_count = S;
    n_atomic = m->nslots;
    n_tlb_pk = (size_t)m->ncpus * S;
    n_tlb_at = (size_t)m->ncpus * m->nslots;
    words = 4 * n_count + n_atomic + m->ncpus + n_tlb_pk + n_tlb_at;
    if (n_rec) /* cur, then per record idx, home, on, and its pteval */
        words += m->ncpus + n_rec * (3u + m->L.km_max_idx);
    bytes = m->capev * sizeof *m->ev + words * sizeof(uint32_t);
    if (bytes > m->block_size) {
        free(m->block);
        m->block_size = 0;
        m->block = calloc(1, bytes);
        if (!m->block)
            return -1;
        m->block_size = bytes;
    } else {
        /* The event list and the page_address records are only read below nev / nrec (both
         * 0 now), so they are not cleared; every other array starts zero. */
        size_t kept = m->capev * sizeof *m->ev + 2 * n_count * sizeof(uint32_t);
        memset((char *)m->block + kept, 0, bytes - kept);
    }
    m->ev = m->block;
    w = (uint32_t *)(void *)(m->ev + m->capev);
    m->rec_page = w;
    w += n_count;
    m->rec_slot = w;
    w += n_count;
    m->count = (int32_t *)(void *)w;
    w += n_count;
    m->pk_pte = w;
    w += n_count;
    m->atomic_pte = w;
    w += n_atomic;
    m->depth = (int32_t *)(void *)w;
    w += m->ncpus;
    m->tlb_pk = w;
    w += n_tlb_pk;
    m->tlb_at = w;
    w += n_tlb_at;
    if (n_rec) {
        m->cur = w;
        w += m->ncpus;
        m->t_idx = (int32_t *)(void *)w;
        w += n_rec;
        m->t_home = w;
        w += n_rec;
        m->t_on = w;
        w += n_rec;
        m->t_pte = w;
        for (uint32_t c = 0; c < m->ncpus; c++) { /* every CPU starts in its idle task */
            m->cur[c] = c;
            m->t_home[c] = c;
            m->t_on[c] = c + 1u;
        }
    }
    return 0;
}

void model_free(struct model *m)
{
    free(m->block);
    free(m->mem);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------------------------------
 * Events, errors, physical memory, TLBs.
 * ------------------------------------------------------------------------------------- */
static void begin(struct model *m, struct model_out *out)
{
    m->nev = 0;
    memset(out, 0, sizeof *out);
}

static void emit(struct model *m, int kind, uint32_t cpu, uint64_t a, uint64_t b, uint64_t pte)
{
    if (m->nev == m->capev) {
        m->overflow = 1;
        return;
    }
    m->ev[m->nev].kind = kind;
    m->ev[m->nev].cpu = cpu;
    m->ev[m->nev].a = a;
    m->ev[m->nev].b = b;
    m->ev[m->nev].pte = pte;
    m->nev++;
}

/* A BUG the library turns into an error: it reports it (a bug event) and changes nothing. */
static void report(struct model *m, struct model_out *out, int err, int which)
{
    out->bug = which;
    out->bug_err = err;
    out->nbugs++;
    emit(m, HM_EV_BUG, HM_CPU_ALL, (uint64_t)which, 0, 0);
}

static void bug(struct model *m, struct model_out *out, int err, int which)
{
    out->err = err;
    report(m, out, err, which);
}

static uint8_t phys_read(const struct model *m, uint32_t pfn, uint32_t off)
{
    for (uint32_t i = 0; i < m->nmem; i++)
        if (m->mem[i].pfn == pfn && m->mem[i].off == off)
            return m->mem[i].val;
    return 0; /* memory starts zero-filled */
}

static void phys_write(struct model *m, uint32_t pfn, uint32_t off, uint8_t val)
{
    for (uint32_t i = 0; i < m->nmem; i++)
        if (m->mem[i].pfn == pfn && m->mem[i].off == off) {
            m->mem[i].val = val;
            return;
        }
    if (m->nmem == m->capmem) {
        uint32_t cap = m->capmem ? 2u * m->capmem : 64u;
        struct model_byte *p = realloc(m->mem, cap * sizeof *p);
        if (!p) {
            m->overflow = 1;
            return;
        }
        m->mem = p;
        m->capmem = cap;
    }
    m->mem[m->nmem].pfn = pfn;
    m->mem[m->nmem].off = off;
    m->mem[m->nmem].val = val;
    m->nmem++;
}

/* flush_tlb_kernel_range over the pkmap window: every CPU forgets every pkmap slot. */
static void tlb_forget_pkmap(struct model *m)
{
    memset(m->tlb_pk, 0, (size_t)m->ncpus * m->L.S * sizeof *m->tlb_pk);
}

/* flush_tlb_all: every CPU forgets everything. */
static void tlb_forget_all(struct model *m)
{
    tlb_forget_pkmap(m);
    memset(m->tlb_at, 0, (size_t)m->ncpus * m->nslots * sizeof *m->tlb_at);
}

/* The machine's answer to a PTE write (clear: a none word): 1 if it refuses it, using up a
 * FAIL_NEXT_* mode. */
static int refused(struct model *m, int clear)
{
    /* per mode: does it refuse a map / a clear, and the mode a refusal leaves in force */
    static const struct {
        uint8_t map, clear;
        int after;
    } t[MODEL_INJECT__COUNT] = {
        [MODEL_INJECT_NONE] = {0, 0, MODEL_INJECT_NONE},
        [MODEL_INJECT_FAIL_NEXT_MAP] = {1, 0, MODEL_INJECT_NONE},
        [MODEL_INJECT_FAIL_ALL_MAPS] = {1, 0, MODEL_INJECT_FAIL_ALL_MAPS},
        [MODEL_INJECT_FAIL_NEXT_CLEAR] = {0, 1, MODEL_INJECT_NONE},
        [MODEL_INJECT_FAIL_ALL_CLEARS] = {0, 1, MODEL_INJECT_FAIL_ALL_CLEARS},
    };
    if (!(clear ? t[m->fail_write].clear : t[m->fail_write].map))
        return 0;
    m->fail_write = t[m->fail_write].after;
    return 1;
}

/* A write of the library (its pte_set / pte_clear event already emitted) the machine refuses:
 * reported right after, and counted. */
static int library_write_refused(struct model *m, uint32_t vaddr, uint64_t pte)
{
    if (!refused(m, pte == 0))
        return 0;
    emit(m, HM_EV_MACHINE_FAIL, HM_CPU_ALL, vaddr, 0, pte);
    m->machine_fails++;
    return 1;
}

/* flush_tlb_page of atomic slot j on one CPU, or on all (HM_CPU_ALL). */
static void tlb_forget_slot(struct model *m, uint32_t cpu, uint32_t j)
{
    for (uint32_t c = 0; c < m->ncpus; c++)
        if (cpu == HM_CPU_ALL || cpu == c)
            m->tlb_at[c * m->nslots + j] = 0;
}

/* ---------------------------------------------------------------------------------------
 * mm/highmem.c (§2).
 * ------------------------------------------------------------------------------------- */
/* page_address() of a highmem page: the slot its record points at, by a plain scan; -1 if
 * none. (A record outlives its slot's count only after the embedder's page table changed
 * under the library: see model_poke_pte.) */
static int find_record(const struct model *m, uint32_t pfn)
{
    for (uint32_t r = 0; r < m->nrec; r++)
        if (m->rec_page[r] == pfn)
            return (int)r;
    return -1;
}

static int slot_of_page(const struct model *m, uint32_t pfn)
{
    int r = find_record(m, pfn);
    return r < 0 ? -1 : (int)m->rec_slot[r];
}

/* set_page_address(page, 0): a lowmem page is a BUG (reported; the caller goes on), an absent
 * page is nothing to do. */
static void unset_page_address(struct model *m, uint32_t pfn, struct model_out *out)
{
    int r;
    if (!(pfn >= m->L.highmem_start_pfn && pfn < m->L.max_pfn)) {
        report(m, out, HM_EINVAL, HM_BUG_SET_ADDR_LOWMEM);
        return;
    }
    r = find_record(m, pfn);
    if (r >= 0) {
        m->nrec--;
        m->rec_page[r] = m->rec_page[m->nrec];
        m->rec_slot[r] = m->rec_slot[m->nrec];
    }
}

/* flush_all_zero_pkmaps (§2.1): a count-1 slot whose PTE is none is the kernel's BUG, found
 * before anything changes (returned: the caller reports it). Else the cache hook first, then
 * every count-1 slot in ascending order: count 0, the PTE cleared at page_address() of the page
 * its PTE maps (its own address when that page has none), the page unhashed; then one global
 * TLB flush of the window (2.6.24: always; 2.6.30 need_flush: only if a slot was freed, §9.4).
 * A clear the machine refuses keeps its slot as it was (count 1, mapped, hashed): *kept counts
 * them (highmem.h, struct hm_machine). */
static int flush_all_zero_pkmaps(struct model *m, struct model_out *out, uint32_t *kept)
{
    uint32_t freed = 0;

    for (uint32_t i = 0; i < m->L.S; i++)
        if (m->count[i] == 1 && m->pk_pte[i] == 0)
            return HM_BUG_FLUSH_PTE_NONE;
    emit(m, HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_CPU_ALL, 0, 0, 0);
    /* flush_cache_kmaps = flush_cache_all; arm-vipt: nothing (ARM commit 7e5a69e83ba7) */
    if (m->L.arch == MA_PPC || m->L.arch == MA_SPARC || m->L.arch == MA_ARM || m->L.arch == MA_XTENSA)
        emit(m, HM_EV_CACHE_FLUSH_ALL, HM_CPU_ALL, 0, 0, 0);
    for (uint32_t i = 0; i < m->L.S; i++) {
        uint32_t page, j;
        int s;
        if (m->count[i] != 1)
            continue;
        m->count[i] = 0;
        page = m->pk_pte[i] ? m->pk_pte[i] - 1u : 0u; /* pte_page of a none PTE: pfn 0 */
        s = slot_of_page(m, page);
        j = s < 0 ? i : (uint32_t)s;
        emit(m, HM_EV_PTE_CLEAR, HM_CPU_ALL, model_pkmap_addr(m, j), 0, 0);
        if (library_write_refused(m, model_pkmap_addr(m, j), 0)) {
            m->count[i] = 1;
            (*kept)++;
            continue;
        }
        m->pk_pte[j] = 0;
        unset_page_address(m, page, out);
        freed++;
    }
    if (!NEED_FLUSH(m) || freed) {
        emit(m, HM_EV_TLB_FLUSH_RANGE, HM_CPU_ALL, model_pkmap_addr(m, 0), model_pkmap_addr(m, m->L.S), 0);
        tlb_forget_pkmap(m);
    }
    emit(m, HM_EV_FLUSH_DONE, HM_CPU_ALL, freed, 0, 0);
    out->flushed = 1;
    return HM_BUG_NONE;
}

/* kmap_high (§2.4) with map_new_virtual (§2.3), never sleeping: EAGAIN where it would, or
 * EMACHINE there when the pass's flush kept slots the machine would not clear (no kunmap may
 * ever free them). A refused PTE leaves the slot free: EMACHINE, nothing else changes. */
static void kmap_high(struct model *m, uint32_t pfn, struct model_out *out)
{
    int slot = slot_of_page(m, pfn);

    if (slot < 0) {
        /* colouring (§10.3; 1 colour: the plain scan): the page's colour c = pfn % colours,
         * c's own cursor stepping by the colour count over c's slots, its wrap at c's first
         * slot, a budget of c's share of the window; the flush still covers every slot */
        uint32_t n = m->colours, c = pfn & (n - 1u);
        uint32_t *cur = c ? &m->last_nr1 : &m->last_nr;
        uint32_t budget = m->L.S / n, i, kept = 0;
        uint64_t word;
        for (;;) {
            *cur = (*cur + n) & (m->L.S - 1u); /* pre-increment (§9.1) */
            if (*cur < n) {                    /* wrapped: flush (§9.2) */
                int b;
                kept = 0;
                b = flush_all_zero_pkmaps(m, out, &kept);
                if (b != HM_BUG_NONE) {
                    bug(m, out, HM_EFAULT, b);
                    return;
                }
                budget = m->L.S / n;           /* and a new budget (§9.3) */
            }
            if (m->count[*cur] == 0)
                break;
            if (--budget == 0) {
                out->err = kept ? HM_EMACHINE : HM_EAGAIN; /* the kernel would sleep here */
                return;
            }
        }
        i = *cur;
        if (m->nrec == m->L.S) { /* set_page_address would find the pool empty: BUG first */
            bug(m, out, HM_EINVAL, HM_BUG_POOL_EMPTY);
            return;
        }
        /* set_pte with no TLB flush: a count-0 slot is cached nowhere (I4), unless the
         * hardware says otherwise, which the sim counts as a stale PTE write (one it carries
         * out: a refused write never reaches its detector). */
        word = model_pte_word(m, pfn);
        emit(m, HM_EV_PTE_SET, HM_CPU_ALL, model_pkmap_addr(m, i), pfn, word);
        if (library_write_refused(m, model_pkmap_addr(m, i), word)) {
            out->err = HM_EMACHINE;
            return;
        }
        for (uint32_t c = 0; c < m->ncpus; c++) {
            uint32_t e = m->tlb_pk[c * m->L.S + i];
            if (e && e != pfn + 1u)
                out->stale_pte_writes++;
        }
        m->pk_pte[i] = pfn + 1u;
        m->count[i] = 1;
        m->rec_page[m->nrec] = pfn;
        m->rec_slot[m->nrec] = i;
        m->nrec++;
        slot = (int)i;
    } else if (m->count[slot] < 1) {
        /* a record whose slot was freed under it: the count would not reach 2 */
        bug(m, out, HM_EINVAL, HM_BUG_KMAP_COUNT);
        return;
    }
    m->count[slot]++; /* a count-1 (cached, unused) slot is reused as is (§9.5) */
    out->val = model_pkmap_addr(m, (uint32_t)slot);
}

/* kunmap_high (§2.5): lazy; BUG if the page has no address or the count would reach 0. */
static void kunmap_high(struct model *m, uint32_t pfn, struct model_out *out)
{
    int slot = slot_of_page(m, pfn);

    if (slot < 0) {
        bug(m, out, HM_EINVAL, HM_BUG_KUNMAP_UNMAPPED);
        return;
    }
    if (m->count[slot] <= 1) { /* case 0: BUG, and stop there (§9.14) */
        bug(m, out, HM_EINVAL, HM_BUG_KUNMAP_ZERO);
        return;
    }
    m->count[slot]--;
}

/* ---------------------------------------------------------------------------------------
 * The public operations.
 * ------------------------------------------------------------------------------------- */
void model_kmap(struct model *m, uint32_t pfn, struct model_out *out)
{
    begin(m, out);
    if (pfn >= m->L.max_pfn) {
        bug(m, out, HM_ERANGE, HM_BUG_PFN_RANGE);
        return;
    }
    if ((m->L.arch == MA_SPARC || m->L.arch == MA_XTENSA) && m->in_interrupt) { /* §5.2: BUG_ON(in_interrupt()) */
        bug(m, out, HM_EINVAL, HM_BUG_IN_INTERRUPT);
        return;
    }
    if (m->L.arch == MA_GENERIC || !is_highmem(m, pfn)) { /* §3.2, §6: page_address */
        out->val = lowmem_address(m, pfn);
        return;
    }
    kmap_high(m, pfn, out); /* x86/ppc: might_sleep() only warns */
}

void model_kunmap(struct model *m, uint32_t pfn, struct model_out *out)
{
    begin(m, out);
    if (pfn >= m->L.max_pfn) {
        bug(m, out, HM_ERANGE, HM_BUG_PFN_RANGE);
        return;
    }
    if (m->L.arch == MA_GENERIC)
        return; /* §6: a no-op */
    /* §3.2, §4.2, §5.2: BUG if in_interrupt(), before the lowmem test; not where kmap_high_get
     * exists (kunmap_high may run in any context, and is how its pin is released) */
    if (m->in_interrupt && !HAS_HIGH_GET(m)) {
        bug(m, out, HM_EINVAL, HM_BUG_IN_INTERRUPT);
        return;
    }
    if (!is_highmem(m, pfn))
        return; /* lowmem pages return */
    kunmap_high(m, pfn, out);
}

void model_flush_unused(struct model *m, struct model_out *out)
{
    begin(m, out);
    if (m->L.arch != MA_GENERIC) { /* §2.2; a no-op without highmem (§6) */
        uint32_t kept = 0;
        int b = flush_all_zero_pkmaps(m, out, &kept);
        if (b != HM_BUG_NONE)
            bug(m, out, HM_EFAULT, b);
        else if (kept)
            out->err = HM_EMACHINE;
    }
}

static int atomic_args_ok(struct model *m, uint32_t cpu, uint32_t type, struct model_out *out)
{
    if (cpu >= m->ncpus || type >= m->L.nr_km_types) {
        bug(m, out, HM_EINVAL, HM_BUG_BAD_ARG);
        return 0;
    }
    return 1;
}

/* The argument checks of kmap_atomic and kmap_atomic_pfn: cpu and type, then the pfn. */
static int atomic_pfn_args_ok(struct model *m, uint32_t cpu, uint32_t type, uint32_t pfn,
                              struct model_out *out)
{
    if (!atomic_args_ok(m, cpu, type, out))
        return 0;
    if (pfn >= m->L.max_pfn) {
        bug(m, out, HM_ERANGE, HM_BUG_PFN_RANGE);
        return 0;
    }
    return 1;
}

/* The PTE writes of the kmap_atomic family: 1 if the machine refused it (the PTE stays). */
static int set_atomic_pte(struct model *m, uint32_t j, uint32_t vaddr, uint32_t pfn)
{
    emit(m, HM_EV_PTE_SET, HM_CPU_ALL, vaddr, pfn, model_pte_word(m, pfn));
    if (library_write_refused(m, vaddr, model_pte_word(m, pfn)))
        return 1;
    m->atomic_pte[j] = pfn + 1u;
    return 0;
}

static int clear_atomic_pte(struct model *m, uint32_t j, uint32_t vaddr)
{
    emit(m, HM_EV_PTE_CLEAR, HM_CPU_ALL, vaddr, 0, 0);
    if (library_write_refused(m, vaddr, 0))
        return 1;
    m->atomic_pte[j] = 0;
    return 0;
}

/* kpte_clear_flush: clear atomic slot j's PTE, then flush its TLB entry on cpu (HM_CPU_ALL: on
 * every CPU). 1 when the clear was refused (nothing flushed). */
static int clear_flush_atomic_slot(struct model *m, uint32_t cpu, uint32_t j, uint32_t slot)
{
    if (clear_atomic_pte(m, j, slot))
        return 1;
    emit(m, HM_EV_TLB_FLUSH_PAGE, cpu, slot, 0, 0);
    tlb_forget_slot(m, cpu, j);
    return 0;
}

/* pagefault_disable() and the slot's PTE; a refused write puts the depth back (EMACHINE). */
static int map_atomic_slot(struct model *m, uint32_t cpu, uint32_t j, uint32_t vaddr, uint32_t pfn,
                           struct model_out *out)
{
    m->depth[cpu]++;
    if (!set_atomic_pte(m, j, vaddr, pfn))
        return 0;
    m->depth[cpu]--;
    out->err = HM_EMACHINE;
    return 1;
}

/* kmap_high_get (2.6.30, where it exists) of a highmem page: a page with a pkmap address is
 * pinned there (its count raised; a count below 1 is the kernel's BUG), else nothing happens
 * and the address is 0. No PTE write, no event. Returns 1 on a BUG (reported). */
static int high_get(struct model *m, uint32_t pfn, uint32_t *va, struct model_out *out)
{
    int slot = slot_of_page(m, pfn);
    *va = 0;
    if (slot < 0)
        return 0;
    if (m->count[slot] < 1) {
        bug(m, out, HM_EINVAL, HM_BUG_KMAP_HIGH_GET_COUNT);
        return 1;
    }
    m->count[slot]++;
    *va = model_pkmap_addr(m, (uint32_t)slot);
    return 0;
}

/* ARM's dedicated slot (kmap_atomic, kmap_atomic_pfn): with DEBUG_HIGHMEM it must be empty;
 * the PTE is written (over what a non-debug kunmap_atomic left), then this CPU alone flushes
 * the page from its TLB. 1 if it failed (reported or EMACHINE). */
static int arm_map_slot(struct model *m, uint32_t cpu, uint32_t type, uint32_t pfn, struct model_out *out)
{
    uint32_t j = cpu * m->L.nr_km_types + type, v = model_slot_addr(m, cpu, type);
    if (m->cfg.debug_highmem && m->atomic_pte[j]) {
        bug(m, out, HM_EBUSY, HM_BUG_ATOMIC_BUSY);
        return 1;
    }
    if (map_atomic_slot(m, cpu, j, v, pfn, out))
        return 1;
    emit(m, HM_EV_TLB_FLUSH_PAGE, cpu, v, 0, 0);
    tlb_forget_slot(m, cpu, j);
    out->val = v;
    return 0;
}

/* kmap_atomic (§3.3, §4.2, §5.2, §6), after the argument checks. */
static void kmap_atomic(struct model *m, uint32_t cpu, uint32_t type, uint32_t pfn, struct model_out *out)
{
    uint32_t j = cpu * m->L.nr_km_types + type, v;

    if (m->L.arch == MA_GENERIC || !is_highmem(m, pfn)) {
        m->depth[cpu]++; /* the lowmem shortcut still disables pagefaults (§9.18) */
        out->val = lowmem_address(m, pfn);
        return;
    }
    if (m->L.arch == MA_XTENSA) { /* the slot of the page's colour; no TLB flush on map */
        j = (cpu * m->L.nr_km_types + type) * XTENSA_COLOURS + (pfn & (XTENSA_COLOURS - 1u));
        v = m->L.atomic_idx0 + j * PAGE_SIZE;
        if (m->cfg.debug_highmem && m->atomic_pte[j]) {
            bug(m, out, HM_EBUSY, HM_BUG_ATOMIC_BUSY);
            return;
        }
        if (!map_atomic_slot(m, cpu, j, v, pfn, out))
            out->val = v;
        return;
    }
    if (IS_ARM(m)) {
        /* from 2.6.30 kmap_high_get first (a VIPT cache with DEBUG_HIGHMEM forces the slot):
         * a kmapped page is pinned at its pkmap address */
        if (HAS_HIGH_GET(m) && (m->L.arch == MA_ARM || !m->cfg.debug_highmem)) {
            if (high_get(m, pfn, &v, out))
                return;
            if (v) {
                m->depth[cpu]++;
                out->val = v;
                return;
            }
        }
        arm_map_slot(m, cpu, type, pfn, out);
        return;
    }
    v = model_slot_addr(m, cpu, type);
    switch (m->L.arch) {
    case MA_X86:
    case MA_X86_PAE: /* BUG_ON(!pte_none) always; no TLB flush on map (§9.15, §9.16) */
        if (m->atomic_pte[j]) {
            bug(m, out, HM_EBUSY, HM_BUG_ATOMIC_BUSY);
            return;
        }
        if (map_atomic_slot(m, cpu, j, v, pfn, out))
            return;
        break;
    case MA_PPC: /* HIGHMEM_DEBUG is always 1; flush_tlb_page on map (broadcast) */
        if (m->atomic_pte[j]) {
            bug(m, out, HM_EBUSY, HM_BUG_ATOMIC_BUSY);
            return;
        }
        if (map_atomic_slot(m, cpu, j, v, pfn, out))
            return; /* the PTE did not change: no flush */
        emit(m, HM_EV_TLB_FLUSH_PAGE, HM_CPU_ALL, v, 0, 0);
        tlb_forget_slot(m, HM_CPU_ALL, j);
        break;
    default: /* sparc (§5.2): flush_cache_all, then the busy check (DEBUG_HIGHMEM only), then
              * set the PTE and flush_tlb_all. A BUG or a refused PTE still shows the cache flush. */
        emit(m, HM_EV_CACHE_FLUSH_ALL, HM_CPU_ALL, 0, 0, 0);
        if (m->cfg.debug_highmem && m->atomic_pte[j]) {
            bug(m, out, HM_EBUSY, HM_BUG_ATOMIC_BUSY);
            return;
        }
        if (map_atomic_slot(m, cpu, j, v, pfn, out))
            return;
        emit(m, HM_EV_TLB_FLUSH_ALL, HM_CPU_ALL, 0, 0, 0);
        tlb_forget_all(m);
        break;
    }
    out->val = v;
}

static void local_kmap_atomic(struct model *m, uint32_t cpu, uint32_t pfn, int any, struct model_out *out);
static void local_unmap(struct model *m, uint32_t cpu, uint32_t vaddr, struct model_out *out);
static int local_to_page(struct model *m, uint32_t vaddr, struct model_out *out);

void model_kmap_atomic(struct model *m, uint32_t cpu, uint32_t type, uint32_t pfn, struct model_out *out)
{
    begin(m, out);
    if (!atomic_pfn_args_ok(m, cpu, type, pfn, out))
        return;
    if (m->L.km_max_idx) { /* 5.11: the wrapper, the type checked and ignored */
        local_kmap_atomic(m, cpu, pfn, 0, out);
        return;
    }
    kmap_atomic(m, cpu, type, pfn, out);
}

/* x86 kmap_atomic_pfn (§3.6, §9.21): no highmem test, no none check, no flush. Elsewhere it is
 * kmap_atomic(pfn_to_page(pfn)) (§6, docs/arches.md). */
void model_kmap_atomic_pfn(struct model *m, uint32_t cpu, uint32_t type, uint32_t pfn, struct model_out *out)
{
    begin(m, out);
    if (!atomic_pfn_args_ok(m, cpu, type, pfn, out))
        return;
    if (m->L.km_max_idx) { /* 5.11: __kmap_local_pfn_prot, any pfn (lowmem too) on the stack */
        local_kmap_atomic(m, cpu, pfn, 1, out);
        return;
    }
    if (m->L.arch == MA_X86 || m->L.arch == MA_X86_PAE) {
        uint32_t v = model_slot_addr(m, cpu, type);
        if (!map_atomic_slot(m, cpu, cpu * m->L.nr_km_types + type, v, pfn, out))
            out->val = v;
        return;
    }
    if (IS_ARM(m)) { /* the slot: no highmem test, no kmap_high_get */
        arm_map_slot(m, cpu, type, pfn, out);
        return;
    }
    kmap_atomic(m, cpu, type, pfn, out);
}

/* kunmap_atomic (§3.5, §4.2, §5.2, §6). An address outside the 32-bit space is refused after
 * the cpu and type checks (highmem.h: ERANGE, BAD_ADDR); a kunmap_atomic with no kmap_atomic
 * outstanding on the CPU is refused (EINVAL, ATOMIC_UNBALANCED) before the address is looked at. */
void model_kunmap_atomic(struct model *m, uint32_t cpu, uint32_t type, uint64_t vaddr, struct model_out *out)
{
    uint32_t va, slot, j;

    begin(m, out);
    if (!atomic_args_ok(m, cpu, type, out))
        return;
    if (vaddr >= VA_END) {
        bug(m, out, HM_ERANGE, HM_BUG_BAD_ADDR);
        return;
    }
    va = (uint32_t)vaddr & PAGE_MASK;
    if (m->depth[cpu] <= 0) {
        bug(m, out, HM_EINVAL, HM_BUG_ATOMIC_UNBALANCED);
        return;
    }
    if (m->L.km_max_idx) { /* 5.11: kunmap_local, then pagefault_enable (not on an error) */
        local_unmap(m, cpu, (uint32_t)vaddr, out);
        if (out->err == HM_OK)
            m->depth[cpu]--;
        return;
    }
    if (m->L.arch == MA_GENERIC) { /* pagefault_enable() only */
        m->depth[cpu]--;
        return;
    }
    slot = model_slot_addr(m, cpu, type);
    j = cpu * m->L.nr_km_types + type;
    if (m->L.arch == MA_XTENSA) {
        if (va >= m->L.fixaddr_start && va < m->L.fixaddr_top) {
            /* the (cpu, type) slot of the address's own colour, or ATOMIC_BAD_ADDR */
            j = (cpu * m->L.nr_km_types + type) * XTENSA_COLOURS + (va / PAGE_SIZE) % XTENSA_COLOURS;
            slot = m->L.atomic_idx0 + j * PAGE_SIZE;
            if (va != slot) {
                bug(m, out, HM_EINVAL, HM_BUG_ATOMIC_BAD_ADDR);
                return;
            }
            if (clear_flush_atomic_slot(m, cpu, j, slot))
                goto refused;
        } /* else lowmem: pagefault_enable only */
        m->depth[cpu]--;
        return;
    }
    if (IS_ARM(m)) {
        if (va >= m->L.fixaddr_start) { /* the fixmap and above */
            if (m->L.arch == MA_ARM) /* VIVT: the page's dcache first */
                emit(m, HM_EV_CACHE_FLUSH_PAGE, cpu, va, 0, 0);
            if (m->cfg.debug_highmem) {
                if (va != slot) {
                    bug(m, out, HM_EINVAL, HM_BUG_ATOMIC_BAD_ADDR);
                    return;
                }
                if (clear_flush_atomic_slot(m, cpu, j, slot))
                    goto refused;
            } /* else the PTE stays */
        } else if (va >= m->L.pkmap_base && (va - m->L.pkmap_base) / PAGE_SIZE < m->L.S) {
            /* a kmap_high_get pin: kunmap_high of the page the slot's PTE maps */
            uint32_t p = m->pk_pte[(va - m->L.pkmap_base) / PAGE_SIZE];
            if (!p || !is_highmem(m, p - 1u)) {
                bug(m, out, HM_EINVAL, HM_BUG_KUNMAP_UNMAPPED);
                return;
            }
            kunmap_high(m, p - 1u, out);
            if (out->err != HM_OK)
                return;
        } /* else a lowmem address: pagefault_enable only */
        m->depth[cpu]--;
        return;
    }
    switch (m->L.arch) {
    case MA_X86:
    case MA_X86_PAE:
        if (va == slot) { /* kpte_clear_flush: clear, then invlpg on this CPU only */
            if (clear_flush_atomic_slot(m, cpu, j, slot))
                goto refused;
        } else if (m->cfg.debug_highmem && (va < m->L.page_offset || va >= m->L.high_memory)) {
            bug(m, out, HM_EINVAL, HM_BUG_ATOMIC_BAD_ADDR); /* must be a lowmem address */
            return;
        } /* else: the wrong type or address is silently ignored (§9.17) */
        break;
    case MA_PPC:
        if (va < m->L.kmap_fix_begin)
            break; /* lowmem (and pkmap) addresses: pagefault_enable only */
        if (va != slot) {
            bug(m, out, HM_EINVAL, HM_BUG_ATOMIC_BAD_ADDR); /* wrong type or CPU */
            return;
        }
        if (clear_flush_atomic_slot(m, HM_CPU_ALL, j, slot))
            goto refused;
        break;
    default: /* sparc: without DEBUG_HIGHMEM the PTE stays */
        if (!m->cfg.debug_highmem || va < m->L.fixaddr_start)
            break;
        if (va != slot) {
            bug(m, out, HM_EINVAL, HM_BUG_ATOMIC_BAD_ADDR);
            return;
        }
        emit(m, HM_EV_CACHE_FLUSH_ALL, HM_CPU_ALL, 0, 0, 0);
        if (clear_atomic_pte(m, j, slot))
            goto refused;
        emit(m, HM_EV_TLB_FLUSH_ALL, HM_CPU_ALL, 0, 0, 0);
        tlb_forget_all(m);
        break;
    }
    m->depth[cpu]--; /* pagefault_enable() */
    return;
refused: /* the clear was refused: the slot stays mapped, no flush, pagefaults stay disabled */
    out->err = HM_EMACHINE;
}

/* ---------------------------------------------------------------------------------------
 * kmap_local (5.11; spec §10.6, docs/generations.md "kmap_local (5.11)"): a stack per task,
 * position p of the task running on CPU c at fixmap slot p + KM_MAX_IDX * c (xtensa: one slot
 * per colour there, the page's), strict LIFO.
 * ------------------------------------------------------------------------------------- */
static int32_t *idx_of(struct model *m, uint32_t rec)
{
    return &m->t_idx[rec];
}

static uint32_t *pteval(struct model *m, uint32_t rec, uint32_t pos)
{
    return &m->t_pte[rec * m->L.km_max_idx + pos];
}

static int is_guard(const struct model *m, uint32_t pos)
{
    return m->incr == 2u && pos % 2u == 0; /* DEBUG_KMAP_LOCAL: KM_INCR 2, the even ones */
}

/* The task number of a record (0: an idle task). */
static uint32_t task_of_record(const struct model *m, uint32_t rec)
{
    return rec < m->ncpus ? 0u : rec - m->ncpus + 1u;
}

/* Local slots per stack position: xtensa's arch_kmap_local_map_idx gives each position one per
 * cache colour, kmap_idx(pos, colour) = (pos + KM_MAX_IDX * cpu) * DCACHE_N_COLORS + colour in
 * this ascending fixmap (the page's colour at the address); elsewhere the one. */
static uint32_t local_colours(const struct model *m)
{
    return m->L.arch == MA_XTENSA ? XTENSA_COLOURS : 1u;
}

/* The row index (cpu * spc + ...) of the slot position pos on cpu uses for page page1 - 1 (0:
 * none, colour 0), and its address. */
static uint32_t local_slot_j(const struct model *m, uint32_t cpu, uint32_t pos, uint32_t page1)
{
    uint32_t n = local_colours(m);
    return cpu * m->spc + pos * n + (page1 ? (page1 - 1u) & (n - 1u) : 0u);
}

static uint32_t local_slot_va(const struct model *m, uint32_t cpu, uint32_t pos, uint32_t page1)
{
    if (m->L.arch == MA_XTENSA)
        return m->L.atomic_idx0 + local_slot_j(m, cpu, pos, page1) * PAGE_SIZE;
    return model_slot_addr(m, cpu, pos);
}

/* Which kmap fixmap slot va's page is, over the config's NR_CPUS (the fixmap is sized for
 * them, the simulated CPUs are the first): its CPU and stack position. */
static int local_fix_index(const struct model *m, uint32_t va, uint32_t *cpu, uint32_t *pos)
{
    const struct model_layout *L = &m->L;
    uint32_t page = va & PAGE_MASK, off;
    if (!L->S || !L->km_max_idx)
        return 0;
    if (L->arch == MA_PPC || L->arch == MA_ARM || L->arch == MA_ARM_VIPT || L->arch == MA_XTENSA) { /* ascending */
        if (page < L->atomic_idx0)
            return 0;
        off = (page - L->atomic_idx0) / PAGE_SIZE;
    } else { /* x86, sparc: descending from __fix_to_virt(FIX_KMAP_BEGIN) */
        if (page > L->atomic_idx0)
            return 0;
        off = (L->atomic_idx0 - page) / PAGE_SIZE;
    }
    if (off >= L->km_max_idx * L->config_nr_cpus * local_colours(m))
        return 0;
    off /= local_colours(m);
    *cpu = off / L->km_max_idx;
    *pos = off % L->km_max_idx;
    return 1;
}

/* The arch's hooks around a local slot's PTE write (docs/generations.md's table): x86 flushes
 * the page from this CPU's TLB after an unmap, as xtensa does; ppc and arm after a map and after an unmap;
 * sparc flushes the whole cache before and the whole TLB (every CPU) after either; arm (VIVT)
 * flushes the page's dcache on this CPU before an unmap. */
static void hook_pre(struct model *m, uint32_t cpu, uint32_t v, int unmap)
{
    if (m->L.arch == MA_SPARC)
        emit(m, HM_EV_CACHE_FLUSH_ALL, HM_CPU_ALL, 0, 0, 0);
    else if (m->L.arch == MA_ARM && unmap)
        emit(m, HM_EV_CACHE_FLUSH_PAGE, cpu, v, 0, 0);
}

/* (j, v: the slot's row index and address) */
static void hook_post(struct model *m, uint32_t cpu, uint32_t j, uint32_t v, int unmap)
{
    if (m->L.arch == MA_SPARC) {
        emit(m, HM_EV_TLB_FLUSH_ALL, HM_CPU_ALL, 0, 0, 0);
        tlb_forget_all(m);
    } else if (m->L.arch == MA_PPC || IS_ARM(m) ||
               (unmap && (m->L.arch == MA_X86 || m->L.arch == MA_X86_PAE || m->L.arch == MA_XTENSA))) {
        emit(m, HM_EV_TLB_FLUSH_PAGE, cpu, v, 0, 0);
        tlb_forget_slot(m, cpu, j);
    }
}

/* Clear position pos's slot on cpu for its pteval page1 (pre hook, the clear, post hook): 1 if
 * refused (no post hook then). */
static int local_clear_slot(struct model *m, uint32_t cpu, uint32_t pos, uint32_t page1)
{
    uint32_t j = local_slot_j(m, cpu, pos, page1), v = local_slot_va(m, cpu, pos, page1);
    hook_pre(m, cpu, v, 1);
    if (clear_atomic_pte(m, j, v))
        return 1;
    hook_post(m, cpu, j, v, 1);
    return 0;
}

/* Map page (pteval page + 1) at position pos's slot on cpu (the write, the post hook): 1 if
 * refused. The pre hook is the caller's (a push has one, a re-install at a switch none). */
static int local_set_slot(struct model *m, uint32_t cpu, uint32_t pos, uint32_t page1)
{
    uint32_t j = local_slot_j(m, cpu, pos, page1), v = local_slot_va(m, cpu, pos, page1);
    if (set_atomic_pte(m, j, v, page1 - 1u))
        return 1;
    hook_post(m, cpu, j, v, 0);
    return 0;
}

/* kmap_local_page / __kmap_local_pfn_prot on cpu, after the argument checks: a lowmem page
 * (unless any: kmap_atomic_pfn) and every page without highmem is its direct-map address,
 * nothing pushed; else the push: overflow, a busy slot, a refused write change nothing. */
static void local_map(struct model *m, uint32_t cpu, uint32_t pfn, int any, struct model_out *out)
{
    uint32_t rec, pos;
    int32_t idx;

    if (!m->L.S || (!any && !is_highmem(m, pfn))) {
        out->val = lowmem_address(m, pfn);
        return;
    }
    if (!any && m->L.arch == MA_ARM && HAS_HIGH_GET(m)) { /* VIVT: arch_kmap_local_high_get */
        uint32_t v;
        if (high_get(m, pfn, &v, out))
            return;
        if (v) { /* pinned at its pkmap address: nothing pushed */
            out->val = v;
            return;
        }
    }
    rec = m->cur[cpu];
    idx = *idx_of(m, rec) + (int32_t)m->incr;
    if (idx >= (int32_t)m->L.km_max_idx) { /* BUG_ON(idx >= KM_MAX_IDX) */
        bug(m, out, HM_EINVAL, HM_BUG_LOCAL_OVERFLOW);
        return;
    }
    pos = (uint32_t)idx - 1u;
    if (m->atomic_pte[local_slot_j(m, cpu, pos, pfn + 1u)]) { /* BUG_ON(!pte_none(...)) */
        bug(m, out, HM_EBUSY, HM_BUG_LOCAL_BUSY);
        return;
    }
    hook_pre(m, cpu, local_slot_va(m, cpu, pos, pfn + 1u), 0);
    if (local_set_slot(m, cpu, pos, pfn + 1u)) {
        out->err = HM_EMACHINE;
        return;
    }
    *pteval(m, rec, pos) = pfn + 1u;
    *idx_of(m, rec) = idx;
    out->val = local_slot_va(m, cpu, pos, pfn + 1u);
}

/* kunmap_local on cpu of a 32-bit address, after the argument checks. */
static void local_unmap(struct model *m, uint32_t cpu, uint32_t vaddr, struct model_out *out)
{
    uint32_t c, pos, rec;
    int32_t idx;

    if (!m->L.S)
        return; /* !CONFIG_HIGHMEM: nothing */
    if (!local_fix_index(m, vaddr, &c, &pos)) {
        uint32_t va = vaddr & PAGE_MASK;
        if (HAS_HIGH_GET(m) && va >= m->L.pkmap_base && (va - m->L.pkmap_base) / PAGE_SIZE < m->L.S) {
            /* kmap_high_unmap_local: kunmap_high of the page the slot's PTE maps */
            uint32_t p = m->pk_pte[(va - m->L.pkmap_base) / PAGE_SIZE];
            if (!p || !is_highmem(m, p - 1u))
                bug(m, out, HM_EINVAL, HM_BUG_KUNMAP_UNMAPPED);
            else
                kunmap_high(m, p - 1u, out);
            return;
        }
        if (va < m->L.page_offset)
            bug(m, out, HM_EINVAL, HM_BUG_LOCAL_BAD_ADDR);
        return; /* a lowmem page's address: nothing was pushed */
    }
    rec = m->cur[cpu];
    idx = *idx_of(m, rec);
    if (idx < (int32_t)m->incr || c != cpu || pos != (uint32_t)idx - 1u ||
        (vaddr & PAGE_MASK) != local_slot_va(m, cpu, pos, *pteval(m, rec, pos))) { /* strict LIFO */
        bug(m, out, HM_EINVAL, HM_BUG_LOCAL_NOT_TOP);
        return;
    }
    if (local_clear_slot(m, cpu, pos, *pteval(m, rec, pos))) {
        out->err = HM_EMACHINE; /* still mapped, still on the stack */
        return;
    }
    *pteval(m, rec, pos) = 0;
    *idx_of(m, rec) = idx - (int32_t)m->incr;
}

static void local_kmap_atomic(struct model *m, uint32_t cpu, uint32_t pfn, int any, struct model_out *out)
{
    m->depth[cpu]++; /* pagefault_disable, kept on success only */
    local_map(m, cpu, pfn, any, out);
    if (out->err != HM_OK)
        m->depth[cpu]--;
}

/* kmap_to_page of a kmap fixmap address (5.11): the pteval of the task running on its CPU; 0
 * if the address is not in that fixmap. */
static int local_to_page(struct model *m, uint32_t vaddr, struct model_out *out)
{
    uint32_t c, pos;
    if (!local_fix_index(m, vaddr, &c, &pos))
        return 0;
    if (c < m->ncpus && (int32_t)pos < *idx_of(m, m->cur[c]) && *pteval(m, m->cur[c], pos) &&
        (vaddr & PAGE_MASK) == local_slot_va(m, c, pos, *pteval(m, m->cur[c], pos)))
        out->val = *pteval(m, m->cur[c], pos) - 1u;
    else
        bug(m, out, HM_EFAULT, HM_BUG_NOT_MAPPED);
    return 1;
}

/* The 5.11 calls' first checks: the generation, then the cpu. */
static int local_args_ok(struct model *m, uint32_t cpu, struct model_out *out)
{
    begin(m, out);
    if (!m->L.km_max_idx) {
        bug(m, out, HM_EINVAL, HM_BUG_UNAVAILABLE);
        return 0;
    }
    if (cpu >= m->ncpus) {
        bug(m, out, HM_EINVAL, HM_BUG_BAD_ARG);
        return 0;
    }
    return 1;
}

void model_kmap_local(struct model *m, uint32_t cpu, uint32_t pfn, struct model_out *out)
{
    if (!local_args_ok(m, cpu, out))
        return;
    if (pfn >= m->L.max_pfn) {
        bug(m, out, HM_ERANGE, HM_BUG_PFN_RANGE);
        return;
    }
    local_map(m, cpu, pfn, 0, out);
}

void model_kunmap_local(struct model *m, uint32_t cpu, uint64_t vaddr, struct model_out *out)
{
    if (!local_args_ok(m, cpu, out))
        return;
    if (vaddr >= VA_END) {
        bug(m, out, HM_ERANGE, HM_BUG_BAD_ADDR);
        return;
    }
    local_unmap(m, cpu, (uint32_t)vaddr, out);
}

/* The positions below n, guards skipped, of cpu's slots: cleared (sched out), or re-installed
 * from record rec's pteval (sched in). Each returns n, or the position the machine refused. */
static uint32_t clear_below(struct model *m, uint32_t cpu, uint32_t rec, uint32_t n)
{
    for (uint32_t p = 0; p < n; p++)
        if (!is_guard(m, p) && local_clear_slot(m, cpu, p, *pteval(m, rec, p)))
            return p;
    return n;
}

static uint32_t install_below(struct model *m, uint32_t cpu, uint32_t rec, uint32_t n)
{
    for (uint32_t p = 0; p < n; p++)
        if (!is_guard(m, p) && local_set_slot(m, cpu, p, *pteval(m, rec, p)))
            return p;
    return n;
}

/* schedule() on cpu to task: prepare_task_switch clears the outgoing task's slots
 * (__kmap_local_sched_out), finish_task_switch re-installs the incoming one's
 * (__kmap_local_sched_in). A task's kmap_ctrl is never corrupted here (only writes into the
 * context's memory could do it), so LOCAL_CORRUPT is not predicted. */
void model_switch(struct model *m, uint32_t cpu, uint32_t task, struct model_out *out)
{
    uint32_t prev, next, np, nn, done;

    if (!local_args_ok(m, cpu, out))
        return;
    if (task >= m->L.nr_tasks) {
        bug(m, out, HM_EINVAL, HM_BUG_BAD_ARG);
        return;
    }
    if (m->in_interrupt || m->depth[cpu] > 0) { /* scheduling while atomic */
        bug(m, out, HM_EINVAL, HM_BUG_SWITCH_ATOMIC);
        return;
    }
    prev = m->cur[cpu];
    next = task ? m->ncpus + task - 1u : cpu;
    if (next == prev)
        return;
    if (m->t_on[next]) {
        bug(m, out, HM_EINVAL, HM_BUG_TASK_RUNNING);
        return;
    }
    if (*idx_of(m, next) != 0 && m->t_home[next] != cpu) { /* migrate_disable() */
        bug(m, out, HM_EINVAL, HM_BUG_LOCAL_MIGRATE);
        return;
    }
    np = (uint32_t)*idx_of(m, prev);
    nn = (uint32_t)*idx_of(m, next);
    if (np)
        emit(m, HM_EV_LOCAL_SAVE, cpu, task_of_record(m, prev), 0, 0);
    if ((done = clear_below(m, cpu, prev, np)) != np) {
        (void)install_below(m, cpu, prev, done); /* the outgoing task runs on */
        out->err = HM_EMACHINE;
        return;
    }
    if (nn)
        emit(m, HM_EV_LOCAL_RESTORE, cpu, task, 0, 0);
    if ((done = install_below(m, cpu, next, nn)) != nn) {
        (void)clear_below(m, cpu, next, done);
        (void)install_below(m, cpu, prev, np);
        out->err = HM_EMACHINE;
        return;
    }
    m->t_on[prev] = 0;
    m->t_on[next] = cpu + 1u;
    m->t_home[next] = cpu;
    m->cur[cpu] = next;
}

int model_cpu_task(const struct model *m, uint32_t cpu)
{
    if (!m->L.km_max_idx || cpu >= m->ncpus)
        return -1;
    return (int)task_of_record(m, m->cur[cpu]);
}

int model_task_local_idx(const struct model *m, uint32_t task, uint32_t cpu)
{
    if (!m->L.km_max_idx || task >= m->L.nr_tasks || (task == 0 && cpu >= m->ncpus))
        return -1;
    return m->t_idx[task ? m->ncpus + task - 1u : cpu];
}

/* One byte through cpu's MMU, as the simulated hardware does it (sim/sim.h): an address past
 * 2^32 refused (ERANGE, nothing counted); the direct map by arithmetic (lowmem frames only); a
 * slot address through the CPU's TLB first (a stale entry is used, and counted), then the PTE,
 * which fills the TLB. Anything else faults. */
static void mmu_access(struct model *m, uint32_t cpu, uint64_t vaddr64, int write, uint8_t value,
                   struct model_out *out)
{
    uint32_t pfn, i, *e, pte, vaddr;

    begin(m, out);
    if (cpu >= m->ncpus) {
        out->err = HM_EINVAL;
        return;
    }
    if (vaddr64 >= VA_END) {
        out->err = HM_ERANGE;
        return;
    }
    vaddr = (uint32_t)vaddr64;
    if (vaddr >= m->L.page_offset && vaddr < m->L.high_memory) {
        pfn = (vaddr - m->L.page_offset) >> PAGE_SHIFT;
        if (pfn >= m->L.highmem_start_pfn) {
            out->err = HM_EFAULT;
            return;
        }
    } else {
        switch (classify(m, vaddr, &i)) {
        case CL_PKMAP:
            e = &m->tlb_pk[cpu * m->L.S + i];
            break;
        case CL_ATOMIC:
            e = &m->tlb_at[cpu * m->nslots + i];
            break;
        default:
            out->err = HM_EFAULT; /* no PTE was ever written there */
            return;
        }
        pte = pte_page_at(m, vaddr);
        if (*e) {
            pfn = *e - 1u;
            if (pte != *e)
                out->stale_tlb_hits++;
        } else {
            if (!pte || pte - 1u >= m->L.max_pfn) {
                out->err = HM_EFAULT;
                return;
            }
            pfn = pte - 1u;
            *e = pte;
        }
    }
    if (write)
        phys_write(m, pfn, vaddr & (PAGE_SIZE - 1u), value);
    else
        out->val = phys_read(m, pfn, vaddr & (PAGE_SIZE - 1u));
}

void model_load(struct model *m, uint32_t cpu, uint64_t vaddr, struct model_out *out)
{
    mmu_access(m, cpu, vaddr, 0, 0, out);
}

void model_store(struct model *m, uint32_t cpu, uint64_t vaddr, uint8_t value, struct model_out *out)
{
    mmu_access(m, cpu, vaddr, 1, value, out);
}

/* The library's own kmap_to_page (highmem.h; §10.4 extended to every region): the direct map
 * by arithmetic, the page-table window by its PTE, anything else out of range (an address past
 * 2^32 first of all). */
void model_kmap_to_page(struct model *m, uint64_t vaddr64, struct model_out *out)
{
    uint32_t p, vaddr;

    begin(m, out);
    if (vaddr64 >= VA_END) {
        bug(m, out, HM_ERANGE, HM_BUG_BAD_ADDR);
        return;
    }
    vaddr = (uint32_t)vaddr64;
    if (vaddr >= m->L.page_offset && vaddr < m->L.high_memory) {
        out->val = (vaddr - m->L.page_offset) >> PAGE_SHIFT;
        return;
    }
    if (m->L.km_max_idx && local_to_page(m, vaddr, out))
        return;
    if (vaddr >= m->L.pt_start && vaddr < m->L.pt_end) {
        p = pte_page_at(m, vaddr);
        if (!p) {
            bug(m, out, HM_EFAULT, HM_BUG_NOT_MAPPED);
            return;
        }
        out->val = p - 1u;
        return;
    }
    bug(m, out, HM_ERANGE, HM_BUG_BAD_ADDR);
}

/* virt_to_page(): the kernel does no check; the library refuses an address below PAGE_OFFSET
 * or past the last page (highmem.h: ERANGE). Above that, PKMAP addresses give garbage (§9.20). */
static void virt_to_page(struct model *m, uint32_t vaddr, struct model_out *out)
{
    uint32_t p = (vaddr - m->L.page_offset) >> PAGE_SHIFT;
    if (vaddr < m->L.page_offset || p >= m->L.max_pfn) {
        bug(m, out, HM_ERANGE, HM_BUG_BAD_ADDR);
        return;
    }
    out->val = p;
}

/* The page of the PTE at a fixmap/atomic address; a none PTE reads as pfn 0 (pte_page). */
static uint32_t fix_pte_pfn(const struct model *m, uint32_t vaddr)
{
    uint32_t p = pte_page_at(m, vaddr);
    return p ? p - 1u : 0;
}

/* Each arch's kmap_atomic_to_page, quirks included (§3.7, §4.2, §5.2, §6, §9.20), after the
 * library's refusal of an address past 2^32 (ERANGE, BAD_ADDR). */
void model_kmap_atomic_to_page(struct model *m, uint64_t vaddr64, struct model_out *out)
{
    const struct model_layout *L = &m->L;
    uint32_t vaddr;

    begin(m, out);
    if (vaddr64 >= VA_END) {
        bug(m, out, HM_ERANGE, HM_BUG_BAD_ADDR);
        return;
    }
    vaddr = (uint32_t)vaddr64;
    switch (L->arch) {
    case MA_X86:
    case MA_X86_PAE:
        if (vaddr < L->fixaddr_start)
            virt_to_page(m, vaddr, out);
        else if (vaddr >= L->fixaddr_top) /* virt_to_fix BUGs */
            bug(m, out, HM_EINVAL, HM_BUG_VIRT_TO_FIX);
        else
            out->val = fix_pte_pfn(m, vaddr); /* the index is not checked to be a KMAP one */
        return;
    case MA_PPC:
        if (vaddr < L->kmap_fix_begin)
            virt_to_page(m, vaddr, out);
        else if ((vaddr - L->kmap_fix_begin) / PAGE_SIZE >= L->km_type_nr * L->config_nr_cpus)
            bug(m, out, HM_ERANGE, HM_BUG_BAD_ADDR); /* past kmap_pte[]: refused */
        else
            out->val = fix_pte_pfn(m, vaddr);
        return;
    case MA_XTENSA: /* a kmap fixmap page: its PTE's page; else the direct map */
        if (vaddr < L->fixaddr_start || vaddr - L->fixaddr_start >= L->nr_fixmap * PAGE_SIZE)
            virt_to_page(m, vaddr, out);
        else
            out->val = fix_pte_pfn(m, vaddr);
        return;
    case MA_ARM:
    case MA_ARM_VIPT:
        if (vaddr < L->fixaddr_start) /* pkmap addresses too: below PAGE_OFFSET, refused */
            virt_to_page(m, vaddr, out);
        else if (vaddr >= L->fixaddr_top) /* the vectors and cache-flush pages */
            bug(m, out, HM_ERANGE, HM_BUG_BAD_ADDR);
        else
            out->val = fix_pte_pfn(m, vaddr);
        return;
    case MA_SPARC:
        if (vaddr < SPARC_NOCACHE_VADDR)
            virt_to_page(m, vaddr, out);
        else if (vaddr < L->pkmap_base) /* the nocache pool: __nocache_pa */
            out->val = (SPARC_NOCACHE_PHYS + (vaddr - SPARC_NOCACHE_VADDR)) >> PAGE_SHIFT;
        else if (vaddr < L->fixaddr_start || vaddr >= L->fixaddr_top) /* incl. every PKMAP address */
            bug(m, out, HM_EINVAL, HM_BUG_VIRT_TO_FIX);
        else
            out->val = fix_pte_pfn(m, vaddr);
        return;
    default: /* generic: virt_to_page of the direct map */
        if (vaddr >= L->page_offset && vaddr < L->high_memory)
            out->val = (vaddr - L->page_offset) >> PAGE_SHIFT;
        else
            bug(m, out, HM_ERANGE, HM_BUG_BAD_ADDR);
        return;
    }
}

int model_slot_of_page(const struct model *m, uint32_t pfn)
{
    return slot_of_page(m, pfn);
}

uint32_t model_page_address_of(const struct model *m, uint32_t pfn)
{
    int slot;
    if (m->L.arch == MA_GENERIC || !is_highmem(m, pfn))
        return lowmem_address(m, pfn);
    slot = slot_of_page(m, pfn);
    return slot < 0 ? 0 : model_pkmap_addr(m, (uint32_t)slot);
}

void model_page_address(struct model *m, uint32_t pfn, struct model_out *out)
{
    begin(m, out);
    if (pfn >= m->L.max_pfn) {
        bug(m, out, HM_ERANGE, HM_BUG_PFN_RANGE);
        return;
    }
    out->val = model_page_address_of(m, pfn);
}

void model_set_in_interrupt(struct model *m, int on, struct model_out *out)
{
    begin(m, out);
    m->in_interrupt = on != 0;
}

void model_kmap_high_get(struct model *m, uint32_t pfn, struct model_out *out)
{
    begin(m, out);
    if (pfn >= m->L.max_pfn) {
        bug(m, out, HM_ERANGE, HM_BUG_PFN_RANGE);
        return;
    }
    /* mm/highmem.c compiles kmap_high_get only under ARCH_NEEDS_KMAP_HIGH_GET (2.6.30, ARM):
     * absent before 2.6.30 and on x86, x86-pae, ppc, sparc and generic in every generation */
    if (!HAS_HIGH_GET(m)) {
        bug(m, out, HM_EINVAL, HM_BUG_UNAVAILABLE);
        return;
    }
    if (!is_highmem(m, pfn)) { /* its callers pass highmem pages only */
        bug(m, out, HM_EINVAL, HM_BUG_BAD_ARG);
        return;
    }
    {
        uint32_t v;
        if (!high_get(m, pfn, &v, out))
            out->val = v;
    }
}

void model_inject(struct model *m, int mode, struct model_out *out)
{
    begin(m, out);
    if (mode >= MODEL_INJECT_NONE && mode < MODEL_INJECT__COUNT)
        m->fail_write = mode; /* one setting: a map mode replaces a clear mode and back */
}

/* ---------------------------------------------------------------------------------------
 * The rest of the public API: names, the registry, hashing, configs (highmem.h, spec §2.6,
 * docs/arches.md).
 * ------------------------------------------------------------------------------------- */
const char *model_err_name(int err)
{
    /* highmem.h: errno-style names of enum hm_err, "OK" for HM_OK */
    static const char *const names[] = {"OK",    "EINVAL", "ERANGE", "EAGAIN",
                                        "EBUSY", "EFAULT", "ENOSPC", "EMACHINE"};
    return err >= 0 && err < (int)(sizeof names / sizeof names[0]) ? names[err] : NULL;
}

const char *model_bug_name(int bug)
{
    /* the enum hm_bug members without their HM_BUG_ prefix */
    static const char *const names[] = {
        "NONE", "PFN_RANGE", "BAD_ARG", "KUNMAP_UNMAPPED", "KUNMAP_ZERO", "KMAP_COUNT", "POOL_EMPTY",
        "SET_ADDR_LOWMEM", "FLUSH_PTE_NONE", "IN_INTERRUPT", "ATOMIC_BUSY", "ATOMIC_UNBALANCED",
        "ATOMIC_BAD_ADDR", "VIRT_TO_FIX", "BAD_ADDR", "NOT_MAPPED"};
    return bug >= 0 && bug < (int)(sizeof names / sizeof names[0]) ? names[bug] : NULL;
}

const char *model_event_name(int kind)
{
    /* the enum hm_event_kind members, lower case, without HM_EV_ (docs/trace-format.md spells
     * them so) */
    static const char *const names[] = {
        NULL, "pte_set", "pte_clear", "tlb_flush_range", "tlb_flush_page", "tlb_flush_all",
        "cache_flush_all", "flush_all_zero_pkmaps", "flush_done", "sleep", "wakeup", "stale_tlb", "bug",
        "machine_fail"};
    return kind > 0 && kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : NULL;
}

/* The registry (highmem_arch.h): the five arches, then arm, arm-vipt and xtensa. */
static const char *const registry[] = {"x86", "x86-pae", "ppc", "sparc", "generic", "arm", "arm-vipt", "xtensa"};
#define REGISTRY_SIZE ((int)(sizeof registry / sizeof registry[0]))

int model_arch_index(const char *name)
{
    for (int i = 0; i < REGISTRY_SIZE; i++)
        if (name && strcmp(name, registry[i]) == 0)
            return i;
    return -1;
}

const char *model_arch_name(int i)
{
    return i >= 0 && i < REGISTRY_SIZE ? registry[i] : NULL;
}

int model_knows(const char *arch, int kernel)
{
    (void)kernel; /* every generation of each */
    return arch_of(arch) >= 0;
}

uint32_t model_row_slot_addr(const struct model *m, uint32_t cpu, uint32_t k)
{
    if (m->L.arch == MA_XTENSA)
        return m->L.atomic_idx0 + (cpu * m->spc + k) * PAGE_SIZE;
    return model_slot_addr(m, cpu, k);
}

void model_pkmap_cursor(struct model *m, uint32_t c, int waiters, struct model_out *out)
{
    begin(m, out);
    if (c >= m->colours) {
        bug(m, out, HM_EINVAL, HM_BUG_COLOUR_RANGE);
        return;
    }
    out->val = waiters ? 0u : c ? m->last_nr1 : m->last_nr;
}

uint32_t model_hash_long32(uint32_t val, unsigned bits)
{
    /* spec §2.6: times GOLDEN_RATIO_PRIME modulo 2^32, the top `bits` bits; only 1..32 bits
     * make a hash (the kernel never asks for others): anything else gives 0 */
    if (bits < 1 || bits > 32)
        return 0;
    return (uint32_t)(val * 0x9e370001u) >> (32u - bits);
}

uint32_t model_page_bucket(const struct model *m, uint32_t pfn)
{
    /* hash_ptr(&mem_map[pfn], 7) with 32-byte struct pages at docs/arches.md's mem_map */
    static const uint32_t mem_map[] = {0xc1000000u, 0xc1000000u, 0xc0400000u, 0xf0400000u, 0xc1000000u,
                                       0xc0800000u, 0xc0800000u, 0xd0400000u};
    return model_hash_long32(mem_map[m->L.arch] + pfn * 32u, 7);
}

uint32_t model_pool_size(const struct model *m)
{
    return m->L.S - m->nrec;
}

int model_check_code(const struct model *m)
{
    uint32_t in_use = 0;
    for (uint32_t i = 0; i < m->L.S; i++) {
        uint32_t p;
        if (m->count[i] == 0) {
            if (m->pk_pte[i])
                return 2; /* I2: a free slot has a PTE */
            continue;
        }
        in_use++;
        if (!m->pk_pte[i])
            return 3; /* I3: a slot in use has none */
        p = m->pk_pte[i] - 1u;
        if (!is_highmem(m, p))
            return 3; /* I3: it maps a page that is not highmem */
        if (model_page_address_of(m, p) != model_pkmap_addr(m, i))
            return 3; /* I3: page_address of that page is not this slot */
    }
    for (uint32_t r = 0; r < m->nrec; r++)
        if (m->count[m->rec_slot[r]] < 1)
            return 2; /* I2: a record points at a free slot */
    if (m->nrec != in_use)
        return 6; /* I6: records and slots in use */
    /* I13 (5.11): each CPU's local slots hold exactly what the stack of the task running there
     * says (a stack itself is never inconsistent here); only a switch whose undo the machine
     * also refused leaves a slot otherwise */
    for (uint32_t c = 0; m->L.km_max_idx && m->L.S && c < m->ncpus; c++) {
        uint32_t rec = m->cur[c];
        for (uint32_t p = 0; p < m->L.km_max_idx; p++) {
            uint32_t held = (int32_t)p < m->t_idx[rec] ? m->t_pte[rec * m->L.km_max_idx + p] : 0u;
            for (uint32_t q = 0; q < local_colours(m); q++) { /* the page's slot holds it */
                uint32_t j = local_slot_j(m, c, p, q + 1u); /* page q: colour q's slot */
                if (m->atomic_pte[j] != (j == local_slot_j(m, c, p, held) ? held : 0u))
                    return 13;
            }
        }
    }
    return 0;
}

void model_poke_pte(struct model *m, uint32_t slot, uint32_t pte_page, struct model_out *out)
{
    begin(m, out);
    if (refused(m, pte_page == 0)) { /* the machine's own refusal: no library event */
        out->err = HM_EMACHINE;
        return;
    }
    /* the sim's detector: a new translation where some CPU caches another page */
    if (pte_page)
        for (uint32_t c = 0; c < m->ncpus; c++) {
            uint32_t e = m->tlb_pk[c * m->L.S + slot];
            if (e && e != pte_page)
                out->stale_pte_writes++;
        }
    m->pk_pte[slot] = pte_page;
}

int model_config_valid(const struct model_config *cfg, struct model_layout *out)
{
    struct model_config c = *cfg;
    struct model_layout L;
    if (c.nr_cpus == 0)
        c.nr_cpus = 1; /* highmem.h: 0 means 1 */
    if (arch_of(c.arch) == MA_GENERIC) {
        c.last_pkmap = 0; /* no pkmap window to size: ignored */
        c.highmem_pages = 0;
    }
    if (compute_layout(&L, &c) != 0)
        return -1;
    if (out)
        *out = L;
    return 0;
}

void model_no_op(struct model *m, struct model_out *out)
{
    begin(m, out);
}

void model_bad_arg(struct model *m, struct model_out *out)
{
    /* highmem.h: a NULL out pointer is a BUG_BAD_ARG, EINVAL, and changes nothing */
    begin(m, out);
    bug(m, out, HM_EINVAL, HM_BUG_BAD_ARG);
}
