/* cache.c - the sim's data cache model (cache.h): per CPU a write-back, direct-mapped cache of
 * `colours` pages, indexed and tagged by virtual or physical address, with per-byte tracking of
 * which cached copies are older than a store made through another mapping.
 * SPDX-License-Identifier: MIT */
#include "cache.h"

#include <string.h>

#include "highmem_arch.h"

/* One line. Which line of a CPU holds an address is its set: the address bits above the line
 * offset, modulo nsets, of the virtual address (VIVT, VIPT) or the physical one (PIPT). Its
 * tag says which address it holds: the virtual line (VIVT) or the physical line (VIPT, PIPT).
 * Two mappings of one frame whose virtual addresses differ in the colour bits (VIPT), or at
 * all (VIVT), are two lines: the aliases the kernel's flush_cache_* calls exist for. */
struct sim_cline {
    uint64_t tag;     /* (VIVT: virtual, else physical) address >> SIM_CACHE_LINE_SHIFT */
    hm_pfn_t pfn;     /* the frame the bytes were filled from, where a write-back goes */
    uint32_t stored;  /* bytes stored through this line since memory last received it */
    uint32_t stale;   /* bytes another copy of the frame has stored more recently */
    uint8_t valid, dirty;
};

#define MAX_CACHE_BYTES ((size_t)64 << 20) /* lines of every CPU, with their states */

int sim_cache_setup(struct sim_cache *c, uint32_t kind, uint32_t colours, uint32_t page_shift,
                    uint32_t nr_cpus)
{
    uint32_t lpp, nsets;
    size_t n, bytes;

    c->on = 0;
    if (colours == 0)
        colours = 1;
    if (kind > HM_CACHE_VIVT || colours > 1024u || (colours & (colours - 1u)) != 0 ||
        page_shift < SIM_CACHE_LINE_SHIFT || page_shift > 24u || nr_cpus == 0)
        return HM_EINVAL;
    lpp = 1u << (page_shift - SIM_CACHE_LINE_SHIFT);
    nsets = colours * lpp;
    n = (size_t)nr_cpus * nsets;
    bytes = n * (SIM_CACHE_LINE + sizeof(struct sim_cline) + sizeof(uint32_t) + 1u);
    if (n > UINT32_MAX || bytes / n != SIM_CACHE_LINE + sizeof(struct sim_cline) + sizeof(uint32_t) + 1u ||
        bytes > MAX_CACHE_BYTES)
        return HM_EINVAL;
    if (n > c->filled.cap) {
        /* every line state is zero (invalid) in the new arrays; the old ones are all invalid
         * too (the cache is off), so nothing is lost */
        struct dirty d;
        struct sim_cline *line = calloc(n, sizeof *line);
        uint8_t *data = malloc(n * SIM_CACHE_LINE);
        if (!line || !data || dirty_alloc(&d, n) != 0) {
            free(line);
            free(data);
            return HM_ENOSPC;
        }
        free(c->line);
        free(c->data);
        c->line = line;
        c->data = data;
        dirty_install(&c->filled, &d);
    }
    c->kind = kind;
    c->colours = colours;
    c->page_shift = page_shift;
    c->nr_cpus = nr_cpus;
    c->lines_per_page = lpp;
    c->nsets = nsets;
    c->on = 1;
    return HM_OK;
}

void sim_cache_free(struct sim_cache *c)
{
    free(c->line);
    free(c->data);
    dirty_free(&c->filled);
    memset(c, 0, sizeof *c);
}

/* The index of a set's line on cpu, and its bytes. */
static size_t line_index(const struct sim_cache *c, uint32_t cpu, uint32_t set)
{
    return (size_t)cpu * c->nsets + set;
}

static uint8_t *line_data(const struct sim_cache *c, size_t i)
{
    return c->data + i * SIM_CACHE_LINE;
}

/* Which line of its frame (0 .. lines_per_page - 1) a set holds: its index bits below the
 * page size are the address's page-offset bits, the same in a virtual and a physical address. */
static uint32_t line_in_page(const struct sim_cache *c, uint32_t set)
{
    return set & (c->lines_per_page - 1u);
}

/* Copy line i back to its frame and mark it clean: memory now holds what it stores. */
static void write_back(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st,
                       size_t i)
{
    struct sim_cline *l = &c->line[i];
    /* A dirty line's frame was allocated by the store that dirtied it and pages are only
     * freed by a reset, which forgets the lines first: the page exists. */
    uint8_t *page = mem->page(mem->ctx, l->pfn, 0);
    if (page)
        memcpy(page + ((size_t)line_in_page(c, (uint32_t)(i % c->nsets)) << SIM_CACHE_LINE_SHIFT),
               line_data(c, i), SIM_CACHE_LINE);
    l->dirty = 0;
    l->stored = 0;
    st->cache_writebacks++;
}

/* Write line i back if dirty, then invalidate it. */
static void drop_line(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st,
                      size_t i)
{
    struct sim_cline *l = &c->line[i];
    if (l->valid && l->dirty)
        write_back(c, mem, st, i);
    memset(l, 0, sizeof *l);
}

/* Visit the aliases of line self for frame pfn: on each CPU, the line of each colour at the
 * same place in the page, when it is valid and holds that frame (self excluded). Marks `mark`
 * stale in each, and returns the bytes some of them stored that memory has not yet received:
 * a copy of the frame filled from memory is stale there. */
static uint32_t aliases(struct sim_cache *c, size_t self, hm_pfn_t pfn, uint32_t mark)
{
    uint32_t newer = 0, k = line_in_page(c, (uint32_t)(self % c->nsets));
    for (uint32_t cpu = 0; cpu < c->nr_cpus; cpu++)
        for (uint32_t col = 0; col < c->colours; col++) {
            size_t j = line_index(c, cpu, col * c->lines_per_page + k);
            struct sim_cline *x = &c->line[j];
            if (j == self || !x->valid || x->pfn != pfn)
                continue;
            newer |= x->stored & ~x->stale;
            x->stale |= mark;
        }
    return newer;
}

int sim_cache_access(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st,
                     uint32_t cpu, hm_vaddr_t vaddr, hm_pfn_t pfn, uint32_t off, uint8_t *val,
                     int write, int *stale, hm_pfn_t *stale_pfn)
{
    uint64_t phys = ((uint64_t)pfn << c->page_shift) | off;
    uint64_t vline = (uint64_t)vaddr >> SIM_CACHE_LINE_SHIFT, pline = phys >> SIM_CACHE_LINE_SHIFT;
    uint32_t set = (uint32_t)((c->kind == HM_CACHE_PIPT ? pline : vline) & (c->nsets - 1u));
    uint64_t tag = c->kind == HM_CACHE_VIVT ? vline : pline;
    size_t self = line_index(c, cpu, set);
    struct sim_cline *l = &c->line[self];
    int hit = l->valid && l->tag == tag;
    uint32_t bit = 1u << (off & (SIM_CACHE_LINE - 1u));

    *stale = 0;
    /* A store's frame (the line's on a hit: a VIVT line may hold another frame than the
     * translation's) gets its page now, so that no later write-back has to allocate. */
    if (write && !mem->page(mem->ctx, hit ? l->pfn : pfn, 1))
        return HM_ENOSPC;

    /* The other CPUs' copies of the same line are kept coherent, as a snooping bus does: a
     * dirty one is written back first, and a store invalidates them. */
    for (uint32_t o = 0; o < c->nr_cpus; o++) {
        size_t j = line_index(c, o, set);
        struct sim_cline *x = &c->line[j];
        if (o == cpu || !x->valid || x->tag != tag)
            continue;
        if (x->dirty)
            write_back(c, mem, st, j);
        if (write)
            memset(x, 0, sizeof *x);
    }

    if (hit) {
        st->cache_hits++;
    } else {
        const uint8_t *page;
        st->cache_misses++;
        drop_line(c, mem, st, self); /* evict: a dirty victim goes back to its frame */
        page = mem->page(mem->ctx, pfn, 0);
        if (page)
            memcpy(line_data(c, self), page + ((size_t)line_in_page(c, set) << SIM_CACHE_LINE_SHIFT),
                   SIM_CACHE_LINE);
        else
            memset(line_data(c, self), 0, SIM_CACHE_LINE);
        l->tag = tag;
        l->pfn = pfn;
        l->valid = 1;
        l->stale = aliases(c, self, pfn, 0);
        dirty_add(&c->filled, self);
    }

    if (write) {
        line_data(c, self)[off & (SIM_CACHE_LINE - 1u)] = *val;
        l->dirty = 1;
        l->stored |= bit;
        l->stale &= ~bit;
        (void)aliases(c, self, l->pfn, bit); /* every other copy of this byte is now older */
    } else {
        *val = line_data(c, self)[off & (SIM_CACHE_LINE - 1u)];
        if ((l->stale & bit) || l->pfn != pfn) {
            *stale = 1;
            *stale_pfn = l->pfn;
            st->stale_cache_reads++;
        }
    }
    return HM_OK;
}

void sim_cache_flush_all(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st)
{
    /* only lines filled since the last reset or flush of everything can be valid */
    for (uint32_t k = 0; k < c->filled.n; k++)
        drop_line(c, mem, st, c->filled.idx[k]);
    dirty_reset(&c->filled);
}

void sim_cache_flush_page(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st,
                          uint32_t cpu, hm_vaddr_t vaddr, int has_pfn, hm_pfn_t pfn)
{
    uint64_t page_base = (c->kind == HM_CACHE_PIPT ? (uint64_t)pfn << c->page_shift
                                                   : (uint64_t)vaddr) >> SIM_CACHE_LINE_SHIFT;
    uint32_t first = (uint32_t)(page_base & (c->nsets - 1u)) & ~(c->lines_per_page - 1u);
    uint64_t vpage = (uint64_t)vaddr >> c->page_shift;

    if (c->kind != HM_CACHE_VIVT && !has_pfn)
        return;
    for (uint32_t k = 0; k < c->lines_per_page; k++) {
        size_t i = line_index(c, cpu, first + k);
        const struct sim_cline *l = &c->line[i];
        if (!l->valid)
            continue;
        if (c->kind == HM_CACHE_VIVT ? (l->tag >> (c->page_shift - SIM_CACHE_LINE_SHIFT)) == vpage
                                     : l->pfn == pfn)
            drop_line(c, mem, st, i);
    }
}

void sim_cache_off(struct sim_cache *c, const struct sim_cache_mem *mem, struct hm_sim_stats *st)
{
    if (c->on)
        sim_cache_flush_all(c, mem, st);
    c->on = 0;
}

void sim_cache_clear(struct sim_cache *c)
{
    for (uint32_t k = 0; k < c->filled.n; k++)
        memset(&c->line[c->filled.idx[k]], 0, sizeof c->line[0]);
    dirty_reset(&c->filled);
    c->on = 0;
}
