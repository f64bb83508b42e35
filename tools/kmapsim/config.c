/* config.c - kmapsim's machine configurations: the per-arch hm_config built from the machine
 * options, and its validation with a message saying which option does not fit the arch's layout.
 * SPDX-License-Identifier: MIT */
#include "kmapsim.h"

#include <inttypes.h>
#include <string.h>

#include "highmem_arch.h"

void kmapsim_config_for(const struct hm_config *opts, const struct hm_arch *arch,
                        struct hm_config *out)
{
    *out = *opts;
    out->arch = arch;
    if (!arch || !arch->has_highmem)
        out->last_pkmap = 0; /* --pkmap-entries is ignored without highmem */
}

static int fits(const struct hm_config *cfg)
{
    struct hm_layout l;
    return hm_layout_compute(cfg, &l) == HM_OK;
}

/* The largest power of two 2..(want/2) that fits as LAST_PKMAP, 0 if none. */
static uint32_t largest_pkmap(const struct hm_config *cfg, uint32_t want)
{
    struct hm_config c = *cfg;
    uint32_t n;
    for (n = want / 2; n >= 2; n /= 2) {
        c.last_pkmap = n;
        if (fits(&c))
            return n;
    }
    return 0;
}

/* The largest highmem page count below want that fits (layouts only ever reject too many
 * pages: a PTE has room for so many physical address bits). 0 if not even 1 fits. */
static uint32_t largest_highmem(const struct hm_config *cfg, uint32_t want)
{
    struct hm_config c = *cfg;
    uint32_t lo = 0, hi = want; /* lo fits (0 = none known), hi does not */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        c.highmem_pages = mid;
        if (fits(&c))
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The largest CPU count below want that fits, 0 if none. */
static uint32_t largest_cpus(const struct hm_config *cfg, uint32_t want)
{
    struct hm_config c = *cfg;
    uint32_t n;
    for (n = want - 1; n >= 1; n--) {
        c.nr_cpus = n;
        if (fits(&c))
            return n;
    }
    return 0;
}

/* Why LAST_PKMAP = n does not fit: name the region the window would run into, taken from the
 * layout with the arch's own LAST_PKMAP (whose pkmap_base is the same on ppc and sparc, the
 * arches where the window has a fixed base). */
static void explain_pkmap(const struct hm_config *cfg, uint32_t n, char *msg, size_t len)
{
    struct hm_config c = *cfg;
    struct hm_layout d;
    const char *name = hm_arch_name(cfg->arch);
    uint32_t best = largest_pkmap(cfg, n);
    uint64_t end;
    char why[160] = "";

    c.last_pkmap = 0;
    if (hm_layout_compute(&c, &d) == HM_OK) {
        end = (uint64_t)d.pkmap_base + (uint64_t)n * d.page_size;
        if (d.nr_fixmap == 0 && d.kmap_atomic_dir > 0 && d.kmap_atomic_base > d.pkmap_base &&
            end > d.kmap_atomic_base)
            snprintf(why, sizeof why,
                     ": a %" PRIu64 " kB pkmap window at 0x%08" PRIx64
                     " would overlap the kmap_atomic window at 0x%08" PRIx64,
                     ((uint64_t)n * d.page_size) >> 10, d.pkmap_base, d.kmap_atomic_base);
        else if (d.nr_fixmap && d.fixaddr_start > d.pkmap_base && end > d.fixaddr_start)
            snprintf(why, sizeof why,
                     ": a %" PRIu64 " kB pkmap window at 0x%08" PRIx64
                     " would overlap the fixmap at 0x%08" PRIx64,
                     ((uint64_t)n * d.page_size) >> 10, d.pkmap_base, d.fixaddr_start);
    }
    if (best)
        snprintf(msg, len, "--pkmap-entries %" PRIu32 " does not fit the %s layout%s (at most %" PRIu32 ")",
                 n, name, why, best);
    else
        snprintf(msg, len, "--pkmap-entries %" PRIu32 " does not fit the %s layout%s", n, name, why);
}

int kmapsim_config_check(const struct hm_config *cfg, struct hm_layout *out, char *msg,
                         size_t len)
{
    struct hm_config c;
    const char *name = hm_arch_name(cfg->arch);
    int rc;

    if (len)
        msg[0] = 0;
    memset(out, 0, sizeof *out);
    rc = hm_layout_compute(cfg, out);
    if (rc == HM_OK)
        return 0;
    if (!cfg->arch) {
        snprintf(msg, len, "no arch");
        return -1;
    }
    /* Find the one option that, left at its default, makes the layout fit. */
    if (cfg->last_pkmap) {
        c = *cfg;
        c.last_pkmap = 0;
        if (fits(&c)) {
            explain_pkmap(cfg, cfg->last_pkmap, msg, len);
            return -1;
        }
    }
    if (cfg->highmem_pages) {
        c = *cfg;
        c.highmem_pages = 0;
        if (fits(&c)) {
            uint32_t best = largest_highmem(cfg, cfg->highmem_pages);
            uint64_t max_pfn = (uint64_t)cfg->arch->lowmem_pages + cfg->highmem_pages;
            snprintf(msg, len,
                     "--highmem-pages %" PRIu32 " does not fit the %s layout (max_pfn would be "
                     "0x%" PRIx64 "; at most %" PRIu32 " highmem pages fit)",
                     cfg->highmem_pages, name, max_pfn, best);
            return -1;
        }
    }
    if (cfg->nr_cpus > 1) {
        c = *cfg;
        c.nr_cpus = 1;
        if (fits(&c)) {
            snprintf(msg, len, "--cpus %" PRIu32 " does not fit the %s layout (at most %" PRIu32 ")",
                     cfg->nr_cpus, name, largest_cpus(cfg, cfg->nr_cpus));
            return -1;
        }
    }
    c = *cfg;
    c.last_pkmap = 0;
    c.highmem_pages = 0;
    c.nr_cpus = 1;
    if (fits(&c))
        snprintf(msg, len,
                 "the combination of --pkmap-entries, --highmem-pages and --cpus does not fit "
                 "the %s layout",
                 name);
    else
        snprintf(msg, len, "invalid machine configuration for %s (%s)", name, hm_strerror(rc));
    return -1;
}
