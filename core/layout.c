/* layout.c - hm_layout_compute: the arch-independent part of a machine's layout, the arch's
 * layout op, the check that it fits its address space; the km_type names of every 2.6.24 arch.
 * SPDX-License-Identifier: MIT */
#include "highmem_arch.h"

const char *const hm_km_types_common[HM_NR_KM_TYPES_COMMON] = {HM_KM_TYPES_COMMON};

static int is_pow2(uint32_t v)
{
    return v && !(v & (v - 1u));
}

/* Whether [start, start + pages pages) ends at or below 2^va_bits (computed in 64 bits: no
 * end wraps around to a low address). */
static int window_fits(const struct hm_layout *l, hm_vaddr_t start, uint32_t pages)
{
    uint64_t end = (uint64_t)start + ((uint64_t)pages << l->page_shift);
    return end >= start && (l->va_bits >= 64u || end <= (uint64_t)1 << l->va_bits);
}

/* Every address the layout names lies in the space [0, 2^va_bits), and every window ends at
 * or below its top: so every address the core computes from it (PKMAP_ADDR(0..LAST_PKMAP),
 * the atomic slots, the direct map) does too, and none wraps. */
static int layout_in_space(const struct hm_layout *l)
{
    if (l->va_bits < 32u || l->va_bits > 64u)
        return 0;
    if (!hm_va_ok(l, l->page_offset) || !hm_va_ok(l, l->mem_map) ||
        !hm_va_ok(l, l->vmalloc_start) || !hm_va_ok(l, l->vmalloc_end) ||
        !hm_va_ok(l, l->fixaddr_start) || !hm_va_ok(l, l->fixaddr_boot_start) ||
        !hm_va_ok(l, l->kmap_atomic_base))
        return 0;
    /* high_memory and FIXADDR_TOP are ends: they may equal 2^va_bits */
    if (l->high_memory < l->page_offset || !window_fits(l, l->high_memory, 0) ||
        !window_fits(l, l->fixaddr_top, 0))
        return 0;
    return window_fits(l, l->pkmap_base, l->last_pkmap) && window_fits(l, l->pt_start, l->pt_pages);
}

/* 5.11: the kmap_local slots, KM_MAX_IDX for each of the config's NR_CPUS from the kmap window's
 * base in its direction, lie in the page-table window (an arch whose layout op does not size its
 * fixmap with hm_kmap_slots_per_cpu still has room for them, or the layout is refused). */
static int kmap_local_fits(const struct hm_layout *l)
{
    uint64_t n = (uint64_t)l->km_max_idx * l->config_nr_cpus, lo, end;
    if (!l->km_max_idx || !l->last_pkmap)
        return 1;
    if (l->kmap_atomic_dir < 0) {
        if (((uint64_t)l->kmap_atomic_base >> l->page_shift) + 1u < n)
            return 0;
        lo = (uint64_t)l->kmap_atomic_base - ((n - 1u) << l->page_shift);
    } else {
        lo = l->kmap_atomic_base;
    }
    end = lo + (n << l->page_shift);
    return lo >= l->pt_start && end <= (uint64_t)l->pt_start + ((uint64_t)l->pt_pages << l->page_shift);
}

int hm_layout_compute(const struct hm_config *cfg, struct hm_layout *out)
{
    const struct hm_arch *arch;
    struct hm_layout l = {0};
    uint32_t nr_cpus, last_pkmap = 0, highmem_pages = 0;

    if (!cfg || !out || !cfg->arch)
        return HM_EINVAL;
    arch = cfg->arch;
    /* A machine without highmem needs some lowmem; one with highmem may have none (host/). */
    if (arch->abi_version != HM_ARCH_ABI_VERSION || !arch->layout || arch->page_shift < 10 ||
        arch->page_shift > 16 || (arch->lowmem_pages == 0 && !arch->has_highmem))
        return HM_EINVAL;
    if (cfg->locking != HM_LOCKING_FAST && cfg->locking != HM_LOCKING_KERNEL)
        return HM_EINVAL;
    if (!hm_kernel_name(cfg->kernel))
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
    l.va_bits = 32; /* a 32-bit kernel; the arch's layout op may widen it */
    l.page_offset = arch->page_offset;
    l.highmem_start_pfn = arch->lowmem_pages;
    l.max_pfn = arch->lowmem_pages + highmem_pages;
    l.high_memory = arch->page_offset + ((hm_vaddr_t)arch->lowmem_pages << arch->page_shift);
    l.last_pkmap = last_pkmap;
    l.nr_cpus = nr_cpus;
    l.pte_bytes = arch->pte_bytes;
    l.mem_map = arch->mem_map;
    l.struct_page_size = arch->struct_page_size;
    l.kernel = (uint32_t)cfg->kernel;
    if (arch->has_highmem) {
        /* DCACHE_N_COLORS: a power of two; each colour needs a slot of its own, so it divides
         * LAST_PKMAP (both powers of two) */
        l.pkmap_colours = arch->pkmap_colours ? arch->pkmap_colours : 1u;
        if (!is_pow2(l.pkmap_colours) || l.pkmap_colours > last_pkmap)
            return HM_EINVAL;
    }
    l.cache_kind = arch->cache_kind;
    l.cache_colours = arch->cache_colours;
    if (l.kernel >= HM_KERNEL_5_11) {
        /* kmap_local: KM_MAX_IDX slots per CPU (the arch's layout op sizes its fixmap with
         * hm_kmap_slots_per_cpu), and the tasks of hm_switch */
        if (cfg->nr_tasks > HM_MAX_TASKS)
            return HM_EINVAL;
        l.km_max_idx = cfg->debug_highmem ? HM_KM_MAX_IDX_DEBUG : HM_KM_MAX_IDX;
        l.nr_tasks = cfg->nr_tasks ? cfg->nr_tasks : nr_cpus + 2u;
    }
    if (arch->layout(cfg, &l) != HM_OK || !layout_in_space(&l) || !kmap_local_fits(&l))
        return HM_EINVAL;
    *out = l;
    return HM_OK;
}
