/* layout.c - kmapsim's `layout` subcommand: the simulated machine's virtual memory layout as
 * one JSON object, or as a 32-bit 2.6.24-style "virtual kernel memory layout" boot-log table.
 * SPDX-License-Identifier: MIT */
#include "kmapsim.h"

#include <inttypes.h>
#include <string.h>

#include "highmem_arch.h"
#include "json.h"

static void key_hex(struct kbuf *b, const char *key, uint64_t v)
{
    kbuf_printf(b, ",\"%s\":\"0x%" PRIx64 "\"", key, v);
}

static void key_u(struct kbuf *b, const char *key, uint64_t v)
{
    kbuf_printf(b, ",\"%s\":%" PRIu64, key, v);
}

static void layout_json(struct kbuf *b, const struct hm_config *cfg, const struct hm_layout *l)
{
    uint32_t i;
    kbuf_add(b, "{\"arch\":", 8);
    kbuf_json_str(b, hm_arch_name(cfg->arch));
    key_u(b, "page_size", l->page_size);
    key_hex(b, "page_offset", l->page_offset);
    key_u(b, "highmem_start_pfn", l->highmem_start_pfn);
    key_u(b, "max_pfn", l->max_pfn);
    key_hex(b, "pkmap_base", l->pkmap_base);
    key_u(b, "last_pkmap", l->last_pkmap);
    kbuf_add(b, ",\"km_types\":[", 13);
    for (i = 0; i < l->nr_km_types; i++) {
        if (i)
            kbuf_add(b, ",", 1);
        kbuf_json_str(b, l->km_types ? l->km_types[i] : "");
    }
    kbuf_add(b, "]", 1);
    key_u(b, "nr_cpus", l->nr_cpus);
    /* Extras. */
    key_u(b, "page_shift", l->page_shift);
    key_hex(b, "high_memory", l->high_memory);
    key_hex(b, "vmalloc_start", l->vmalloc_start);
    key_hex(b, "vmalloc_end", l->vmalloc_end);
    key_hex(b, "fixaddr_top", l->fixaddr_top);
    key_hex(b, "fixaddr_start", l->fixaddr_start);
    key_hex(b, "fixaddr_boot_start", l->fixaddr_boot_start);
    key_u(b, "fix_kmap_begin", l->fix_kmap_begin);
    key_u(b, "nr_fixmap", l->nr_fixmap);
    key_u(b, "km_type_nr", l->km_type_nr);
    key_hex(b, "kmap_atomic_base", l->kmap_atomic_base);
    kbuf_printf(b, ",\"kmap_atomic_dir\":%d", l->kmap_atomic_dir);
    key_u(b, "pte_bytes", l->pte_bytes);
    key_u(b, "config_nr_cpus", l->config_nr_cpus);
    key_hex(b, "pt_start", l->pt_start);
    key_u(b, "pt_pages", l->pt_pages);
    key_hex(b, "mem_map", l->mem_map);
    key_u(b, "struct_page_size", l->struct_page_size);
    kbuf_printf(b, ",\"debug_highmem\":%s", cfg->debug_highmem ? "true" : "false");
    kbuf_printf(b, ",\"need_flush\":%s", cfg->need_flush ? "true" : "false");
    kbuf_add(b, "}\n", 2);
}

/* One row of the table: "    NAME : 0xSTART - 0xEND   (SIZE UNIT)". mb selects the kernel's
 * MB unit (vmalloc, lowmem); sizes below 1 MB are shown in kB whatever the unit. */
static void row(struct kbuf *b, const char *name, uint64_t start, uint64_t end, int mb)
{
    uint64_t size;
    if (end == 0 && start != 0)
        end = UINT64_C(0x100000000); /* a range that runs to the top of the 4 GiB space */
    size = end > start ? end - start : 0;
    kbuf_printf(b, "    %-7s : 0x%08" PRIx64 " - 0x%08" PRIx64 "   ", name, start, end);
    if (mb && size >= (UINT64_C(1) << 20))
        kbuf_printf(b, "(%4" PRIu64 " MB)\n", size >> 20);
    else
        kbuf_printf(b, "(%4" PRIu64 " kB)\n", size >> 10);
}

static void layout_table(struct kbuf *b, const struct hm_config *cfg, const struct hm_layout *l)
{
    kbuf_printf(b, "arch %s: %" PRIu32 " CPU%s, ", hm_arch_name(cfg->arch), l->nr_cpus,
                l->nr_cpus == 1 ? "" : "s");
    if (l->last_pkmap)
        kbuf_printf(b, "LAST_PKMAP %" PRIu32 ", highmem pfns %" PRIu32 "..%" PRIu32 " (%" PRIu32
                       " pages), ",
                    l->last_pkmap, l->highmem_start_pfn, l->max_pfn - 1,
                    l->max_pfn - l->highmem_start_pfn);
    else
        kbuf_printf(b, "no highmem (%" PRIu32 " lowmem pages), ", l->max_pfn);
    kbuf_printf(b, "KM_TYPE_NR %" PRIu32 ", CONFIG_DEBUG_HIGHMEM %s, %s flush_all_zero_pkmaps\n",
                l->km_type_nr, cfg->debug_highmem ? "on" : "off",
                cfg->need_flush ? "2.6.30 (need_flush)" : "2.6.24 (always flush)");
    kbuf_printf(b, "virtual kernel memory layout:\n");
    row(b, "fixmap", l->fixaddr_start, l->fixaddr_top, 0);
    if (l->last_pkmap)
        row(b, "pkmap", l->pkmap_base,
            (uint64_t)l->pkmap_base + (uint64_t)l->last_pkmap * l->page_size, 0);
    row(b, "vmalloc", l->vmalloc_start, l->vmalloc_end, 1);
    row(b, "lowmem", l->page_offset, l->high_memory, 1);
}

int kmapsim_layout(const struct hm_config *cfg, int json, FILE *out)
{
    struct hm_layout l;
    struct kbuf b = {0};
    struct hm_config c = *cfg;
    int rc;

    memset(&l, 0, sizeof l);
    rc = hm_layout_compute(&c, &l);
    if (rc != HM_OK) {
        fprintf(stderr, "kmapsim: invalid machine configuration (%s)\n", hm_strerror(rc));
        return 2;
    }
    if (json)
        layout_json(&b, &c, &l);
    else
        layout_table(&b, &c, &l);
    fwrite(kbuf_str(&b), 1, b.n, out);
    kbuf_free(&b);
    if (fflush(out) != 0) {
        fputs("kmapsim: error writing the output\n", stderr);
        return 2;
    }
    return 0;
}
