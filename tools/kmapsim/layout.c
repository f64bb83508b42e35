/* layout.c - kmapsim's `layout` subcommand: the simulated machine's virtual memory layout as
 * one JSON object, or as a 32-bit 2.6.24-style "virtual kernel memory layout" boot-log table;
 * with --arch all, every arch side by side (a comparison table, or a JSON array).
 * SPDX-License-Identifier: MIT */
#include "kmapsim.h"

#include <inttypes.h>
#include <string.h>

#include "highmem_arch.h"
#include "harness/json.h"

static void key_hex(struct kbuf *b, const char *key, uint64_t v)
{
    kbuf_printf(b, ",\"%s\":\"0x%" PRIx64 "\"", key, v);
}

static void key_u(struct kbuf *b, const char *key, uint64_t v)
{
    kbuf_printf(b, ",\"%s\":%" PRIu64, key, v);
}

/* Whether the machine's flush_all_zero_pkmaps follows the need_flush rule: --need-flush, or a
 * kernel generation from 2.6.30 on (the library's rule, core/hm_internal.h hm_need_flush). */
static int need_flush_in_effect(const struct hm_config *cfg)
{
    return cfg->need_flush || cfg->kernel >= HM_KERNEL_2_6_30;
}

/* The machine header's kernel words: "kernel 2.6.24, 2.6.24 (always flush)" and the like. */
static void kernel_words(struct kbuf *b, const struct hm_config *cfg)
{
    const char *k = hm_kernel_name(cfg->kernel);
    kbuf_printf(b, "kernel %s, %s flush_all_zero_pkmaps\n", k ? k : "?",
                need_flush_in_effect(cfg) ? "2.6.30 (need_flush)" : "2.6.24 (always flush)");
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
    kbuf_printf(b, ",\"need_flush\":%s", need_flush_in_effect(cfg) ? "true" : "false");
    kbuf_add(b, ",\"kernel\":", 10);
    kbuf_json_str(b, hm_kernel_name((int)l->kernel));
    if (l->km_max_idx) { /* 5.11: kmap_local's KM_MAX_IDX and the tasks of `switch` */
        key_u(b, "km_max_idx", l->km_max_idx);
        key_u(b, "nr_tasks", l->nr_tasks);
    }
    kbuf_add(b, "}\n", 2);
}

/* One region of the boot-log table. */
struct region {
    const char *name;
    uint64_t start, end; /* [start, end), end may be 4 GiB (0x100000000) */
    int mb;              /* sizes in MB (vmalloc, lowmem) rather than kB */
};

/* One row of the table: "    NAME : 0xSTART - 0xEND   (SIZE UNIT)". mb selects the kernel's
 * MB unit (vmalloc, lowmem); sizes below 1 MB are shown in kB whatever the unit. */
static void row(struct kbuf *b, const struct region *r)
{
    uint64_t size = r->end > r->start ? r->end - r->start : 0;
    kbuf_printf(b, "    %-7s : 0x%08" PRIx64 " - 0x%08" PRIx64 "   ", r->name, r->start, r->end);
    if (r->mb && size >= (UINT64_C(1) << 20))
        kbuf_printf(b, "(%4" PRIu64 " MB)\n", size >> 20);
    else
        kbuf_printf(b, "(%4" PRIu64 " kB)\n", size >> 10);
}

/* Slots per CPU of the kmap window: KM_TYPE_NR, or KM_MAX_IDX in 5.11. */
static uint32_t slots_per_cpu(const struct hm_layout *l)
{
    return l->km_max_idx ? l->km_max_idx : l->km_type_nr;
}

/* Number of kmap_atomic (5.11: kmap_local) slots the arch reserves: per configured CPU, times
 * the pkmap colours where each slot has one per colour (xtensa). */
static uint64_t atomic_slots(const struct hm_layout *l)
{
    return (uint64_t)slots_per_cpu(l) * l->config_nr_cpus * (l->pkmap_colours > 1u ? l->pkmap_colours : 1u);
}

/* The kmap_atomic window [lo, hi): slot idx 0 at kmap_atomic_base, the others above it (ppc,
 * dir +1) or below it (x86, sparc, dir -1). Returns 0 when the arch has none (generic). */
static int atomic_window(const struct hm_layout *l, uint64_t *lo, uint64_t *hi)
{
    uint64_t n = atomic_slots(l), base = l->kmap_atomic_base;
    if (!l->last_pkmap || !base || !l->kmap_atomic_dir || !n)
        return 0;
    if (l->kmap_atomic_dir > 0) {
        *lo = base;
        *hi = base + n * l->page_size;
    } else {
        *hi = base + l->page_size;
        *lo = *hi - n * l->page_size;
    }
    return 1;
}

/* The data cache the arch's descriptor gives the layout (docs/arches.md, "Data caches"):
 * "PIPT", "VIVT, 16 colours". */
static void cache_text(char *dst, size_t len, const struct hm_layout *l)
{
    static const char *const kind[] = {"PIPT", "VIPT", "VIVT"};
    uint32_t colours = l->cache_colours ? l->cache_colours : 1u;
    const char *k = l->cache_kind < 3u ? kind[l->cache_kind] : "?";
    if (l->cache_kind == HM_CACHE_PIPT || colours == 1u)
        snprintf(dst, len, "%s", k);
    else
        snprintf(dst, len, "%s, %" PRIu32 " colours", k, colours);
}

/* The boot-log table, from the top of the address space down (the regions sorted by start
 * address, highest first: on x86 and ppc that is the kernel's fixmap/kmap, pkmap, vmalloc,
 * lowmem order; sparc32's vmalloc area lies above its fixmap and comes first). ppc has no
 * fixmap in this era: its kmap_atomic window is shown as "kmap" instead; generic has no pkmap. */
static void layout_table(struct kbuf *b, const struct hm_config *cfg, const struct hm_layout *l)
{
    struct region r[5];
    size_t n = 0, i, j;
    uint64_t lo, hi;

    kbuf_printf(b, "arch %s: %" PRIu32 " CPU%s, ", hm_arch_name(cfg->arch), l->nr_cpus,
                l->nr_cpus == 1 ? "" : "s");
    if (l->last_pkmap)
        kbuf_printf(b, "LAST_PKMAP %" PRIu32 ", highmem pfns %" PRIu32 "..%" PRIu32 " (%" PRIu32
                       " pages), ",
                    l->last_pkmap, l->highmem_start_pfn, l->max_pfn - 1,
                    l->max_pfn - l->highmem_start_pfn);
    else
        kbuf_printf(b, "no highmem (%" PRIu32 " lowmem pages), ", l->max_pfn);
    kbuf_printf(b, "KM_TYPE_NR %" PRIu32 ", CONFIG_DEBUG_HIGHMEM %s, ", l->km_type_nr,
                cfg->debug_highmem ? "on" : "off");
    kernel_words(b, cfg);

    if (l->fixaddr_top) {
        r[n].name = "fixmap";
        r[n].start = l->fixaddr_start;
        r[n].end = l->fixaddr_top;
        r[n++].mb = 0;
    }
    if (atomic_window(l, &lo, &hi) && (!l->fixaddr_top || lo < l->fixaddr_start ||
                                       hi > l->fixaddr_top)) {
        r[n].name = "kmap"; /* an atomic window of its own, outside any fixmap (ppc) */
        r[n].start = lo;
        r[n].end = hi;
        r[n++].mb = 0;
    }
    if (l->last_pkmap) {
        r[n].name = "pkmap";
        r[n].start = l->pkmap_base;
        r[n].end = (uint64_t)l->pkmap_base + (uint64_t)l->last_pkmap * l->page_size;
        r[n++].mb = 0;
    }
    r[n].name = "vmalloc";
    r[n].start = l->vmalloc_start;
    r[n].end = l->vmalloc_end;
    r[n++].mb = 1;
    r[n].name = "lowmem";
    r[n].start = l->page_offset;
    r[n].end = l->high_memory;
    r[n++].mb = 1;
    for (i = 1; i < n; i++) /* insertion sort, highest start first */
        for (j = i; j > 0 && r[j].start > r[j - 1].start; j--) {
            struct region t = r[j];
            r[j] = r[j - 1];
            r[j - 1] = t;
        }
    kbuf_printf(b, "virtual kernel memory layout:\n");
    for (i = 0; i < n; i++)
        row(b, &r[i]);
    if (atomic_window(l, &lo, &hi) && l->km_max_idx && cfg->arch->kmap_local_slot && l->pkmap_colours > 1u)
        kbuf_printf(b, /* xtensa's arch_kmap_local_map_idx: a slot per colour, the page's */
                    "kmap_local: slot idx = (stack position + KM_MAX_IDX %" PRIu32 "*cpu)*%" PRIu32
                    " + the page's colour at 0x%08" PRIx64
                    " %c idx*%" PRIu32 " (%s), %" PRIu64 " slots for NR_CPUS %" PRIu32
                    "; kmap_atomic maps there too; tasks 0..%" PRIu32 " (0: each CPU's idle task)\n",
                    l->km_max_idx, l->pkmap_colours, l->kmap_atomic_base, l->kmap_atomic_dir > 0 ? '+' : '-',
                    l->page_size, l->kmap_atomic_dir > 0 ? "upward" : "downward",
                    atomic_slots(l), l->config_nr_cpus, l->nr_tasks - 1u);
    else if (atomic_window(l, &lo, &hi) && l->km_max_idx)
        kbuf_printf(b,
                    "kmap_local: slot idx = stack position + KM_MAX_IDX %" PRIu32 "*cpu at 0x%08" PRIx64
                    " %c idx*%" PRIu32 " (%s), %" PRIu64 " slots for NR_CPUS %" PRIu32
                    "; kmap_atomic maps there too; tasks 0..%" PRIu32 " (0: each CPU's idle task)\n",
                    l->km_max_idx, l->kmap_atomic_base, l->kmap_atomic_dir > 0 ? '+' : '-',
                    l->page_size, l->kmap_atomic_dir > 0 ? "upward" : "downward",
                    atomic_slots(l), l->config_nr_cpus, l->nr_tasks - 1u);
    else if (atomic_window(l, &lo, &hi))
        kbuf_printf(b,
                    "kmap_atomic: slot idx = type + %" PRIu32 "*cpu at 0x%08" PRIx64
                    " %c idx*%" PRIu32 " (%s), %" PRIu64 " slots for NR_CPUS %" PRIu32 "\n",
                    l->km_type_nr, l->kmap_atomic_base, l->kmap_atomic_dir > 0 ? '+' : '-',
                    l->page_size, l->kmap_atomic_dir > 0 ? "upward" : "downward",
                    atomic_slots(l), l->config_nr_cpus);
    else
        kbuf_printf(b, "kmap_atomic: page_address() (no highmem)\n");
    {
        char cache[48];
        cache_text(cache, sizeof cache, l);
        kbuf_printf(b, "data cache: %s\n", cache);
    }
}

/* ------------------------------------------------------------------------------------- */
/* The comparison table of every arch                                                     */
/* ------------------------------------------------------------------------------------- */

enum cell {
    C_PAGE_SIZE, C_PAGE_OFFSET, C_HIGH_MEMORY, C_LOWMEM_SIZE, C_HIGHMEM_START, C_MAX_PFN,
    C_HIGHMEM_SIZE, C_PKMAP_BASE, C_LAST_PKMAP, C_PKMAP_END, C_ATOMIC_BASE, C_ATOMIC_DIR,
    C_KM_TYPE_NR, C_NR_KM_TYPES, C_ATOMIC_SLOTS, C_ATOMIC_LO, C_ATOMIC_HI, C_FIX_START,
    C_FIX_TOP, C_FIX_BOOT, C_NR_FIXMAP, C_FIX_KMAP_BEGIN, C_VMALLOC_START, C_VMALLOC_END,
    C_PTE_BYTES, C_KMAP_PROT, C_FLUSH_CACHE_KMAPS, C_CONFIG_NR_CPUS, C_NR_CPUS, C_PT_START,
    C_PT_PAGES, C_MEM_MAP, C_DATA_CACHE, C__COUNT
};

static const char *const cell_label[C__COUNT] = {
    [C_PAGE_SIZE] = "page size",
    [C_PAGE_OFFSET] = "PAGE_OFFSET",
    [C_HIGH_MEMORY] = "lowmem end (high_memory)",
    [C_LOWMEM_SIZE] = "lowmem size",
    [C_HIGHMEM_START] = "highmem_start_pfn",
    [C_MAX_PFN] = "max_pfn",
    [C_HIGHMEM_SIZE] = "highmem size",
    [C_PKMAP_BASE] = "PKMAP_BASE",
    [C_LAST_PKMAP] = "LAST_PKMAP",
    [C_PKMAP_END] = "pkmap end",
    [C_ATOMIC_BASE] = "atomic slot 0 (base)",
    [C_ATOMIC_DIR] = "atomic slot direction",
    [C_KM_TYPE_NR] = "KM_TYPE_NR",
    [C_NR_KM_TYPES] = "km_type names",
    [C_ATOMIC_SLOTS] = "atomic slots (all CPUs)",
    [C_ATOMIC_LO] = "atomic window start",
    [C_ATOMIC_HI] = "atomic window end",
    [C_FIX_START] = "fixmap start (FIXADDR_START)",
    [C_FIX_TOP] = "fixmap top (FIXADDR_TOP)",
    [C_FIX_BOOT] = "FIXADDR_BOOT_START",
    [C_NR_FIXMAP] = "fixmap entries",
    [C_FIX_KMAP_BEGIN] = "FIX_KMAP_BEGIN",
    [C_VMALLOC_START] = "vmalloc start",
    [C_VMALLOC_END] = "vmalloc end",
    [C_PTE_BYTES] = "PTE bytes",
    [C_KMAP_PROT] = "kmap_prot",
    [C_FLUSH_CACHE_KMAPS] = "flush_cache_kmaps",
    [C_CONFIG_NR_CPUS] = "NR_CPUS (config)",
    [C_NR_CPUS] = "CPUs (simulated)",
    [C_PT_START] = "page-table window start",
    [C_PT_PAGES] = "page-table window pages",
    [C_MEM_MAP] = "mem_map",
    [C_DATA_CACHE] = "data cache",
};

#define CELL_LEN 24

static void hex32(char *dst, uint64_t v)
{
    snprintf(dst, CELL_LEN, "0x%08" PRIx64, v);
}

static void size_mb(char *dst, uint64_t bytes)
{
    if (bytes >= (UINT64_C(1) << 20))
        snprintf(dst, CELL_LEN, "%" PRIu64 " MB", bytes >> 20);
    else
        snprintf(dst, CELL_LEN, "%" PRIu64 " kB", bytes >> 10);
}

/* The text of one cell of a valid column. */
static void cell_text(char *dst, int c, const struct hm_arch *arch, const struct hm_layout *l)
{
    int hm = l->last_pkmap != 0, fix = l->fixaddr_top != 0 || l->nr_fixmap != 0;
    uint64_t lo = 0, hi = 0;
    int aw = atomic_window(l, &lo, &hi);

    strcpy(dst, "-");
    switch (c) {
    case C_PAGE_SIZE: snprintf(dst, CELL_LEN, "%" PRIu32, l->page_size); break;
    case C_PAGE_OFFSET: hex32(dst, l->page_offset); break;
    case C_HIGH_MEMORY: hex32(dst, l->high_memory); break;
    case C_LOWMEM_SIZE:
        size_mb(dst, (uint64_t)l->highmem_start_pfn << l->page_shift);
        break;
    case C_HIGHMEM_START: snprintf(dst, CELL_LEN, "0x%" PRIx32, l->highmem_start_pfn); break;
    case C_MAX_PFN: snprintf(dst, CELL_LEN, "0x%" PRIx32, l->max_pfn); break;
    case C_HIGHMEM_SIZE:
        size_mb(dst, (uint64_t)(l->max_pfn - l->highmem_start_pfn) << l->page_shift);
        break;
    case C_PKMAP_BASE: if (hm) hex32(dst, l->pkmap_base); break;
    case C_LAST_PKMAP: snprintf(dst, CELL_LEN, "%" PRIu32, l->last_pkmap); break;
    case C_PKMAP_END:
        if (hm)
            hex32(dst, (uint64_t)l->pkmap_base + (uint64_t)l->last_pkmap * l->page_size);
        break;
    case C_ATOMIC_BASE: if (aw) hex32(dst, l->kmap_atomic_base); break;
    case C_ATOMIC_DIR:
        if (aw)
            strcpy(dst, l->kmap_atomic_dir > 0 ? "+1 (up)" : "-1 (down)");
        break;
    case C_KM_TYPE_NR: snprintf(dst, CELL_LEN, "%" PRIu32, l->km_type_nr); break;
    case C_NR_KM_TYPES: snprintf(dst, CELL_LEN, "%" PRIu32, l->nr_km_types); break;
    case C_ATOMIC_SLOTS: if (aw) snprintf(dst, CELL_LEN, "%" PRIu64, atomic_slots(l)); break;
    case C_ATOMIC_LO: if (aw) hex32(dst, lo); break;
    case C_ATOMIC_HI: if (aw) hex32(dst, hi); break;
    case C_FIX_START: if (fix) hex32(dst, l->fixaddr_start); else strcpy(dst, "none"); break;
    case C_FIX_TOP: if (fix) hex32(dst, l->fixaddr_top); else strcpy(dst, "none"); break;
    case C_FIX_BOOT: if (fix) hex32(dst, l->fixaddr_boot_start); else strcpy(dst, "none"); break;
    case C_NR_FIXMAP: snprintf(dst, CELL_LEN, "%" PRIu32, l->nr_fixmap); break;
    case C_FIX_KMAP_BEGIN:
        if (fix && aw)
            snprintf(dst, CELL_LEN, "%" PRIu32, l->fix_kmap_begin);
        break;
    case C_VMALLOC_START: hex32(dst, l->vmalloc_start); break;
    case C_VMALLOC_END: hex32(dst, l->vmalloc_end); break;
    case C_PTE_BYTES: snprintf(dst, CELL_LEN, "%" PRIu32, l->pte_bytes); break;
    case C_KMAP_PROT:
        if (hm)
            snprintf(dst, CELL_LEN, "0x%" PRIx64, (uint64_t)arch->kmap_prot);
        break;
    case C_FLUSH_CACHE_KMAPS:
        if (hm)
            strcpy(dst, arch->flush_cache_kmaps ? "flush_cache_all" : "no-op");
        break;
    case C_CONFIG_NR_CPUS: snprintf(dst, CELL_LEN, "%" PRIu32, l->config_nr_cpus); break;
    case C_NR_CPUS: snprintf(dst, CELL_LEN, "%" PRIu32, l->nr_cpus); break;
    case C_PT_START: if (l->pt_pages) hex32(dst, l->pt_start); break;
    case C_PT_PAGES: snprintf(dst, CELL_LEN, "%" PRIu32, l->pt_pages); break;
    case C_MEM_MAP: hex32(dst, l->mem_map); break;
    case C_DATA_CACHE: cache_text(dst, CELL_LEN, l); break;
    default: break;
    }
}

#define MAX_ARCHES 16

struct column {
    const struct hm_arch *arch;
    struct hm_config cfg;
    struct hm_layout l;
    int valid;
    char msg[256];
};

static size_t collect(const struct hm_config *opts, struct column *col)
{
    size_t n;
    const struct hm_arch *a;
    for (n = 0; n < MAX_ARCHES && (a = hm_arch_at((unsigned)n)) != NULL; n++) {
        col[n].arch = a;
        kmapsim_config_for(opts, a, &col[n].cfg);
        col[n].valid =
            kmapsim_config_check(&col[n].cfg, &col[n].l, col[n].msg, sizeof col[n].msg) == 0;
    }
    return n;
}

static void layout_all_table(struct kbuf *b, const struct hm_config *opts,
                             const struct column *col, size_t n)
{
    static char cells[C__COUNT][MAX_ARCHES][CELL_LEN];
    size_t width[MAX_ARCHES], lw = strlen("arch"), i;
    int c;

    for (c = 0; c < C__COUNT; c++)
        if (strlen(cell_label[c]) > lw)
            lw = strlen(cell_label[c]);
    for (i = 0; i < n; i++) {
        width[i] = strlen(hm_arch_name(col[i].arch));
        for (c = 0; c < C__COUNT; c++) {
            if (col[i].valid)
                cell_text(cells[c][i], c, col[i].arch, &col[i].l);
            else
                strcpy(cells[c][i], c == 0 ? "invalid config" : "-");
            if (strlen(cells[c][i]) > width[i])
                width[i] = strlen(cells[c][i]);
        }
    }
    kbuf_printf(b, "machine options: %" PRIu32 " CPU%s, LAST_PKMAP ", opts->nr_cpus ? opts->nr_cpus : 1,
                opts->nr_cpus > 1 ? "s" : "");
    if (opts->last_pkmap)
        kbuf_printf(b, "%" PRIu32, opts->last_pkmap);
    else
        kbuf_printf(b, "(arch default)");
    kbuf_printf(b, ", highmem pages ");
    if (opts->highmem_pages)
        kbuf_printf(b, "%" PRIu32, opts->highmem_pages);
    else
        kbuf_printf(b, "(arch default)");
    kbuf_printf(b, ", CONFIG_DEBUG_HIGHMEM %s, ", opts->debug_highmem ? "on" : "off");
    kernel_words(b, opts);
    kbuf_printf(b, "%-*s", (int)lw, "arch");
    for (i = 0; i < n; i++)
        kbuf_printf(b, "  %-*s", i + 1 < n ? (int)width[i] : 0, hm_arch_name(col[i].arch));
    kbuf_add(b, "\n", 1);
    for (c = 0; c < C__COUNT; c++) {
        kbuf_printf(b, "%-*s", (int)lw, cell_label[c]);
        for (i = 0; i < n; i++)
            kbuf_printf(b, "  %-*s", i + 1 < n ? (int)width[i] : 0, cells[c][i]);
        kbuf_add(b, "\n", 1);
    }
    for (i = 0; i < n; i++)
        if (!col[i].valid)
            kbuf_printf(b, "%s: invalid config: %s\n", hm_arch_name(col[i].arch), col[i].msg);
}

static int flush_out(struct kbuf *b, FILE *out)
{
    int rc = 0;
    fwrite(kbuf_str(b), 1, b->n, out);
    kbuf_free(b);
    if (fflush(out) != 0 || ferror(out)) {
        fputs("kmapsim: error writing the output\n", stderr);
        rc = 2;
    }
    return rc;
}

int kmapsim_layout_all(const struct hm_config *opts, int json, FILE *out)
{
    static struct column col[MAX_ARCHES];
    struct kbuf b = {0};
    size_t n = collect(opts, col), i;

    if (json) {
        kbuf_add(&b, "[\n", 2);
        for (i = 0; i < n; i++) {
            if (col[i].valid) {
                layout_json(&b, &col[i].cfg, &col[i].l); /* ends with "}\n" */
                b.n--;                                   /* drop the newline */
            } else {
                kbuf_add(&b, "{\"arch\":", 8);
                kbuf_json_str(&b, hm_arch_name(col[i].arch));
                kbuf_add(&b, ",\"error\":\"invalid config\",\"message\":", 36);
                kbuf_json_str(&b, col[i].msg);
                kbuf_add(&b, "}", 1);
            }
            kbuf_add(&b, i + 1 < n ? ",\n" : "\n", i + 1 < n ? 2 : 1);
        }
        kbuf_add(&b, "]\n", 2);
    } else {
        layout_all_table(&b, opts, col, n);
    }
    return flush_out(&b, out);
}

int kmapsim_layout(const struct hm_config *cfg, int json, FILE *out)
{
    struct hm_layout l;
    struct kbuf b = {0};
    char msg[256];

    if (kmapsim_config_check(cfg, &l, msg, sizeof msg) != 0) {
        fprintf(stderr, "kmapsim: %s\n", msg);
        return 2;
    }
    if (json)
        layout_json(&b, cfg, &l);
    else
        layout_table(&b, cfg, &l);
    return flush_out(&b, out);
}
