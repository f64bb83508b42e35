/* arch_generic.c - the !CONFIG_HIGHMEM backend (spec §6): every page is lowmem, kmap returns
 * page_address, kunmap does nothing, the atomic forms only move the pagefault-disable depth.
 * SPDX-License-Identifier: MIT */
#include "highmem_arch.h"

#define GENERIC_FIXADDR_TOP 0xfffff000u
#define VMALLOC_OFFSET (8u << 20)

static int generic_layout(const struct hm_config *cfg, struct hm_layout *l)
{
    (void)cfg;
    l->pkmap_base = 0;
    l->fixaddr_top = l->fixaddr_start = l->fixaddr_boot_start = GENERIC_FIXADDR_TOP;
    l->vmalloc_start = (l->high_memory + 2u * VMALLOC_OFFSET - 1u) & ~(hm_vaddr_t)(VMALLOC_OFFSET - 1u);
    l->vmalloc_end = l->fixaddr_start - 2u * l->page_size;
    l->km_types = hm_km_types_common; /* the generic km_type list of 2.6.24 */
    l->nr_km_types = l->km_type_nr = HM_NR_KM_TYPES_COMMON;
    l->config_nr_cpus = l->nr_cpus;
    l->kmap_atomic_base = 0;
    l->kmap_atomic_dir = 0;
    l->pt_start = 0;
    l->pt_pages = 0; /* no page-table-backed window: nothing is ever remapped */
    return HM_OK;
}

static int generic_kunmap(struct hm_ctx *ctx, hm_pfn_t pfn)
{
    (void)ctx;
    (void)pfn; /* kunmap() is a no-op without CONFIG_HIGHMEM */
    return HM_OK;
}

const struct hm_arch hm_arch_generic = {
    .abi_version = HM_ARCH_ABI_VERSION,
    .name = "generic",
    .has_highmem = 0,
    .page_shift = 12,
    .pte_bytes = 4,
    .page_offset = 0xc0000000u,
    .lowmem_pages = 0x38000u, /* 896 MiB, all of it direct mapped */
    .default_last_pkmap = 0,
    .default_highmem_pages = 0,
    .mem_map = 0xc1000000u,
    .struct_page_size = 32,
    .kmap_prot = 0,
    .layout = generic_layout,
    .kunmap = generic_kunmap,
    /* kmap, kmap_atomic*, kunmap_atomic, kmap_atomic_to_page: the core's defaults are the
     * !CONFIG_HIGHMEM versions */
    .cache_kind = HM_CACHE_PIPT, /* no kmap aliases without highmem: nothing to model */
    .cache_colours = 1,
};
