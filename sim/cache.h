/* cache.h - the sim's data cache model (internal to sim/): one write-back, direct-mapped cache
 * per simulated CPU, indexed and tagged as the arch's descriptor says (PIPT, VIPT aliasing,
 * VIVT), so that a missing flush_cache_* shows up as a wrong byte read through an alias.
 * SPDX-License-Identifier: MIT */
#ifndef HM_SIM_CACHE_H
#define HM_SIM_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "highmem.h"
#include "dirty.h"
#include "sim.h"

/* 32-byte lines: the sun4m modules' (the kernel's L1_CACHE_BYTES on sparc32) and most ARM
 * cores'. Per-byte masks of a line fit a uint32_t. */
#define SIM_CACHE_LINE_SHIFT 5u
#define SIM_CACHE_LINE (1u << SIM_CACHE_LINE_SHIFT)

/* Where the cache reads and writes back its lines: the sim's physical memory. page(ctx, pfn,
 * alloc) returns the frame's bytes; NULL when never written (reads as zero) unless alloc is
 * set, and with alloc NULL only when the allocation failed. */
struct sim_cache_mem {
    uint8_t *(*page)(void *ctx, hm_pfn_t pfn, int alloc);
    void *ctx;
};

struct sim_cline;

/* The model's state. Zero it before the first sim_cache_setup. Not thread-safe: every call
 * runs under the sim's lock. */
struct sim_cache {
    int on;                      /* the model is in use (sim_cache_setup succeeded) */
    uint32_t kind;               /* enum hm_cache_kind */
    uint32_t colours;            /* >= 1: pages of index the cache spans (its way size) */
    uint32_t page_shift, nr_cpus;
    uint32_t lines_per_page;     /* page size / SIM_CACHE_LINE */
    uint32_t nsets;              /* lines per CPU: colours * lines_per_page (a power of two) */
    struct sim_cline *line;      /* nr_cpus * nsets line states */
    uint8_t *data;               /* their bytes, SIM_CACHE_LINE each */
    struct dirty filled;         /* lines filled since the last reset or flush of everything */
};

/* Turn the model on for a machine of nr_cpus CPUs with pages of 1 << page_shift bytes, with
 * a cache of `kind` spanning `colours` pages (0 taken as 1). Every line starts invalid.
 * Allocations are kept and reused when large enough. Pre: the cache is off (fresh, or after
 * sim_cache_off). Returns HM_OK; HM_EINVAL (kind not an enum hm_cache_kind, colours not a
 * power of two up to 1024, or more than 64 MiB of lines for all CPUs) or HM_ENOSPC, with the
 * model off. */
int sim_cache_setup(struct sim_cache *c, uint32_t kind, uint32_t colours, uint32_t page_shift,
                    uint32_t nr_cpus);

/* Write back every dirty line, invalidate every line, and turn the model off. */
void sim_cache_off(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st);

/* Forget every line without writing anything back (a reset), and turn the model off. Costs in
 * proportion to the lines filled since the last flush of everything. */
void sim_cache_clear(struct sim_cache *c);

void sim_cache_free(struct sim_cache *c);

/* One byte through cpu's cache: vaddr is the address used, pfn/off the frame and offset its
 * translation gave (the TLB's, stale or not). A load returns the byte of the line (filled from
 * memory on a miss); a store writes it into the line, which becomes dirty. Returns HM_OK, or
 * HM_ENOSPC (store: the frame's page could not be allocated; nothing changed). *stale is set
 * to 1 when a load read a stale copy (a byte another mapping has stored more recently, or, VIVT,
 * a line holding another frame than the translation's), with *stale_pfn the line's frame. */
int sim_cache_access(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st,
                     uint32_t cpu, hm_vaddr_t vaddr, hm_pfn_t pfn, uint32_t off, uint8_t *val,
                     int write, int *stale, hm_pfn_t *stale_pfn);

/* flush_cache_all: write back and invalidate every line of every CPU. */
void sim_cache_flush_all(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st);

/* flush_cache_page on one CPU: write back and invalidate the lines of the page at vaddr. VIVT
 * finds them by virtual address; VIPT and PIPT by the frame the page maps (has_pfn 0: no
 * translation, nothing to flush). */
void sim_cache_flush_page(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st,
                          uint32_t cpu, hm_vaddr_t vaddr, int has_pfn, hm_pfn_t pfn);

#endif /* HM_SIM_CACHE_H */
