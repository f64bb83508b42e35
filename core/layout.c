/* layout.c - hm_layout_compute: the arch-independent part of a machine's layout, then the arch's
 * layout op; and the km_type names every 2.6.24 arch shares.
 * SPDX-License-Identifier: MIT */
#include "highmem_arch.h"

const char *const hm_km_types_common[HM_NR_KM_TYPES_COMMON] = {HM_KM_TYPES_COMMON};

static int is_pow2(uint32_t v)
{
    return v && !(v & (v - 1u));
}

int hm_layout_compute(const struct hm_config *cfg, struct hm_layout *out)
{
    const struct hm_arch *arch;
    struct hm_layout l = {0};
    uint32_t nr_cpus, last_pkmap = 0, highmem_pages = 0;

    if (!cfg || !out || !cfg->arch)
        return HM_EINVAL;
    arch = cfg->arch;
    if (arch->abi_version != HM_ARCH_ABI_VERSION || !arch->layout || arch->page_shift < 10 ||
        arch->page_shift > 16 || arch->lowmem_pages == 0)
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
    l.page_offset = arch->page_offset;
    l.highmem_start_pfn = arch->lowmem_pages;
    l.max_pfn = arch->lowmem_pages + highmem_pages;
    l.high_memory = arch->page_offset + (arch->lowmem_pages << arch->page_shift);
    l.last_pkmap = last_pkmap;
    l.nr_cpus = nr_cpus;
    l.pte_bytes = arch->pte_bytes;
    l.mem_map = arch->mem_map;
    l.struct_page_size = arch->struct_page_size;
    if (arch->layout(cfg, &l) != HM_OK)
        return HM_EINVAL;
    *out = l;
    return HM_OK;
}
