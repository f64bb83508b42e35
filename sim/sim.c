/* sim.c - the simulated machine behind struct hm_machine: sparse physical memory, page tables,
 * one software TLB per CPU with a stale-translation detector, and pthread locks / sleep / wake.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include "sim.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "highmem_arch.h"
#include "machine/kmap_wait.h"
#include "cache.h"
#include "dirty.h"

/* Physical memory is a two-level table: mem[pfn >> LEAF_SHIFT] is a leaf of LEAF_SIZE page
 * pointers, allocated (like the pages themselves) on the first write that needs it. */
#define LEAF_SHIFT 12u
#define LEAF_SIZE (1u << LEAF_SHIFT)

#define VA_END ((uint64_t)1 << 32) /* one past the last address of the sim's 32-bit space */

struct hm_sim {
    const struct hm_arch *arch;
    hm_event_fn on_event;
    void *cookie;

    /* Layout facts, copied (and widened to 64 bits where a range may end at 4 GiB). */
    uint32_t page_shift, page_size;
    uint32_t nr_cpus;
    hm_pfn_t max_pfn, highmem_start_pfn;
    uint64_t page_offset, dm_end;       /* direct map [page_offset, dm_end) */
    uint64_t pt_start, pt_end;          /* page-table window */
    uint32_t pt_pages;
    uint64_t pkmap_start, pkmap_end;    /* pkmap window (empty without highmem) */

    /* Everything below up to `locks` is guarded by `mu`: a spinlock (the critical sections are
     * a few loads and stores; an uncontended pthread mutex cost about 3x as many instructions,
     * 16 % of a kmap_ops replay under callgrind). Never held across a call out of the sim. */
    atomic_flag mu;
    uint8_t ***mem;                     /* mem_leaves leaves of LEAF_SIZE page pointers */
    size_t mem_leaves;
    hm_pte_t *pt;                       /* pt_pages raw PTE words */
    uint32_t *tlb;                      /* nr_cpus * pt_pages entries: pfn + 1, 0 = empty */
    struct hm_sim_stats st;

    /* What hm_sim_reset must undo, so that it never sweeps the whole arrays:
     * pt_dirty: the PTE indices written with a non-zero word since the last reset;
     * tlb_dirty: the TLB entries filled since the last reset or flush_tlb_all; pages: the pfns whose page is allocated. Capacities are kept across resets. */
    struct dirty pt_dirty, tlb_dirty;
    hm_pfn_t *pages;
    size_t n_pages, cap_pages;
    uint8_t **free_pages;               /* zeroed-on-reuse pages of page_size bytes */
    size_t n_free, cap_free;
    /* allocated sizes, >= what the current layout needs */
    size_t cap_mem_leaves;

    /* The embedder-visible locks and the pkmap_map_wait queue. */
    struct hm_kmap_wait q;

    atomic_int in_irq;
    int drop_flushes;                   /* NONE or DROP_*: enum hm_sim_fault, guarded by `mu` */
    int fail_writes;                    /* NONE or FAIL_*: likewise */

    /* The data cache model (cache.h), guarded by `mu`; off unless hm_sim_set_cache turns it
     * on, with the layout's cache kind and colours. */
    struct sim_cache cache;
    uint32_t cache_kind, cache_colours;
};

/* Events found under `mu` are queued here and delivered after it is released, so the
 * callback never runs with sim state locked. At most one event per CPU per operation. */
struct pending {
    unsigned n;
    struct hm_event ev[HM_MAX_CPUS];
};

static void pending_add(struct pending *p, int kind, uint32_t cpu, hm_vaddr_t va, hm_pfn_t pfn,
                        hm_pte_t pte)
{
    if (p->n < HM_MAX_CPUS) {
        struct hm_event *e = &p->ev[p->n++];
        e->kind = kind;
        e->cpu = cpu;
        e->a = va;
        e->b = pfn;
        e->pte = pte;
    }
}

static void pending_emit(const struct hm_sim *s, const struct pending *p)
{
    if (!s->on_event)
        return;
    for (unsigned i = 0; i < p->n; i++)
        s->on_event(s->cookie, &p->ev[i]);
}

static void sim_lock(const struct hm_sim *s)
{
    atomic_flag *mu = (atomic_flag *)&s->mu;
    while (atomic_flag_test_and_set_explicit(mu, memory_order_acquire))
        sched_yield(); /* held by another thread: a handful of instructions away from release */
}

static void sim_unlock(const struct hm_sim *s)
{
    atomic_flag_clear_explicit((atomic_flag *)&s->mu, memory_order_release);
}

/* One more of a statistics counter (under mu, like every counter of st). */
static void stat_inc(struct hm_sim *s, uint64_t *counter)
{
    sim_lock(s);
    (*counter)++;
    sim_unlock(s);
}

/* ---------------------------------------------------------------------------------------
 * PTE decoding, address classification, memory.
 * ------------------------------------------------------------------------------------- */
static int sim_pte_none(const struct hm_sim *s, hm_pte_t pte)
{
    return s->arch->pte_none ? s->arch->pte_none(pte) != 0 : pte == 0;
}

static hm_pfn_t sim_pte_pfn(const struct hm_sim *s, hm_pte_t pte)
{
    return s->arch->pte_pfn ? s->arch->pte_pfn(pte) : (hm_pfn_t)(pte >> s->page_shift);
}

/* The page-table window index of va, or -1 outside the window. */
static int64_t win_index(const struct hm_sim *s, hm_vaddr_t va)
{
    uint64_t v = va;
    if (v < s->pt_start || v >= s->pt_end)
        return -1;
    return (int64_t)((v - s->pt_start) >> s->page_shift);
}

static int in_pkmap(const struct hm_sim *s, hm_vaddr_t va)
{
    uint64_t v = va;
    return v >= s->pkmap_start && v < s->pkmap_end;
}

/* The page frame's bytes: NULL when never written (reads as zero) unless alloc is set; with
 * alloc, NULL only on allocation failure. pfn < max_pfn. Called with mu held. */
static uint8_t *page_of(struct hm_sim *s, hm_pfn_t pfn, int alloc)
{
    size_t hi = pfn >> LEAF_SHIFT;
    uint8_t **leaf = s->mem[hi];
    if (!leaf) {
        if (!alloc)
            return NULL;
        leaf = calloc(LEAF_SIZE, sizeof *leaf);
        if (!leaf)
            return NULL;
        s->mem[hi] = leaf;
    }
    uint8_t *page = leaf[pfn & (LEAF_SIZE - 1u)];
    if (!page && alloc) {
        if (s->n_pages == s->cap_pages) {
            size_t cap = s->cap_pages ? 2u * s->cap_pages : 64u;
            hm_pfn_t *p = realloc(s->pages, cap * sizeof *p);
            if (!p)
                return NULL;
            s->pages = p;
            s->cap_pages = cap;
        }
        if (s->n_free) {
            page = s->free_pages[--s->n_free];
            memset(page, 0, s->page_size);
        } else {
            page = calloc(1, s->page_size);
            if (!page)
                return NULL;
        }
        leaf[pfn & (LEAF_SIZE - 1u)] = page;
        s->pages[s->n_pages++] = pfn;
    }
    return page;
}

/* The cache model's view of memory (struct sim_cache_mem): page_of. */
static uint8_t *cache_page(void *ctx, hm_pfn_t pfn, int alloc)
{
    return page_of(ctx, pfn, alloc);
}

static struct sim_cache_mem cache_mem(struct hm_sim *s)
{
    struct sim_cache_mem m = {cache_page, s};
    return m;
}

static void pt_touch(struct hm_sim *s, uint32_t idx)
{
    dirty_add(&s->pt_dirty, idx);
}

static void tlb_touch(struct hm_sim *s, size_t e)
{
    dirty_add(&s->tlb_dirty, e);
}

/* Read or write one byte of a frame. Called with mu held. */
static int mem_access(struct hm_sim *s, hm_pfn_t pfn, uint32_t off, uint8_t *val, int write)
{
    if (write) {
        uint8_t *page = page_of(s, pfn, 1);
        if (!page)
            return HM_ENOSPC;
        page[off] = *val;
    } else {
        const uint8_t *page = page_of(s, pfn, 0);
        *val = page ? page[off] : 0;
    }
    return HM_OK;
}

/* Drop cpu's TLB entry for window page idx; returns 1 if there was one. Called with mu held. */
static unsigned tlb_drop(struct hm_sim *s, uint32_t cpu, uint32_t idx)
{
    uint32_t *e = &s->tlb[(size_t)cpu * s->pt_pages + idx];
    if (!*e)
        return 0;
    *e = 0;
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * Creation.
 * ------------------------------------------------------------------------------------- */
static int layout_ok(const struct hm_layout *l)
{
    if (l->page_shift < 8u || l->page_shift > 24u || l->page_size != (1u << l->page_shift))
        return 0;
    if (l->nr_cpus < 1u || l->nr_cpus > HM_MAX_CPUS)
        return 0;
    if (l->max_pfn == 0u || l->highmem_start_pfn > l->max_pfn)
        return 0;
    if (l->va_bits > 32u) /* a wider space than the sim models */
        return 0;
    hm_vaddr_t mask = l->page_size - 1u;
    if ((l->page_offset & mask) != 0u || (l->pt_start & mask) != 0u)
        return 0;
    /* every start below 4 GiB first, so that no end below can wrap around 2^64 */
    if (l->pt_start >= VA_END || l->pkmap_base >= VA_END)
        return 0;
    uint64_t pt_end = (uint64_t)l->pt_start + ((uint64_t)l->pt_pages << l->page_shift);
    if (pt_end > VA_END)
        return 0;
    uint64_t dm_end = l->high_memory ? (uint64_t)l->high_memory : VA_END;
    if (dm_end < l->page_offset || dm_end > VA_END)
        return 0;
    /* The window must not overlap the direct map (an address has one translation), unless it
     * holds all of it (ARM: the pkmap area below PAGE_OFFSET, the fixmap at the top), whose
     * addresses then translate arithmetically first and are never given a PTE. */
    int dm_inside = l->pt_start <= l->page_offset && dm_end <= pt_end;
    if (l->pt_pages && l->pt_start < dm_end && l->page_offset < pt_end && l->page_offset < dm_end &&
        !dm_inside)
        return 0;
    /* The pkmap window, when there is one, lies inside the page-table window, outside the
     * direct map. */
    if (l->last_pkmap) {
        uint64_t pk_end = (uint64_t)l->pkmap_base + ((uint64_t)l->last_pkmap << l->page_shift);
        if (l->pkmap_base < l->pt_start || pk_end > pt_end ||
            (l->pkmap_base < dm_end && l->page_offset < pk_end))
            return 0;
    }
    return 1;
}

/* The arrays a layout needs, allocated only where the current ones are too small. */
struct arrays {
    uint8_t ***mem;
    size_t mem_leaves;
    hm_pte_t *pt;
    struct dirty pt_dirty;
    uint32_t *tlb;
    struct dirty tlb_dirty;
};

static void arrays_free(struct arrays *a)
{
    free(a->mem);
    free(a->pt);
    dirty_free(&a->pt_dirty);
    free(a->tlb);
    dirty_free(&a->tlb_dirty);
}

/* Allocate (zeroed) every array of s that is smaller than layout needs; 0, or -1 with nothing
 * allocated. s itself is not modified. */
static int arrays_alloc(const struct hm_sim *s, const struct hm_layout *l, struct arrays *a)
{
    size_t pages = l->pt_pages ? l->pt_pages : 1u;
    memset(a, 0, sizeof *a);
    a->mem_leaves = ((size_t)l->max_pfn + LEAF_SIZE - 1u) >> LEAF_SHIFT;
    size_t pt_n = pages, tlb_n = (size_t)l->nr_cpus * pages;
    if (a->mem_leaves > s->cap_mem_leaves && !(a->mem = calloc(a->mem_leaves, sizeof *a->mem)))
        goto fail;
    if (pt_n > s->pt_dirty.cap &&
        (!(a->pt = calloc(pt_n, sizeof *a->pt)) || dirty_alloc(&a->pt_dirty, pt_n) != 0))
        goto fail;
    if (tlb_n > s->tlb_dirty.cap &&
        (!(a->tlb = calloc(tlb_n, sizeof *a->tlb)) || dirty_alloc(&a->tlb_dirty, tlb_n) != 0))
        goto fail;
    return 0;
fail:
    arrays_free(a);
    return -1;
}

/* Undo every write since the last reset (the dirty lists), so that every array is zero again;
 * pages go to the free list (freed instead when page_size changes to new_page_size). */
static void sim_clear(struct hm_sim *s, uint32_t new_page_size)
{
    sim_cache_clear(&s->cache); /* before the pages its lines came from go */
    for (uint32_t i = 0; i < s->pt_dirty.n; i++)
        s->pt[s->pt_dirty.idx[i]] = 0;
    dirty_reset(&s->pt_dirty);
    for (uint32_t i = 0; i < s->tlb_dirty.n; i++)
        s->tlb[s->tlb_dirty.idx[i]] = 0;
    dirty_reset(&s->tlb_dirty);
    if (new_page_size != s->page_size) {
        for (size_t i = 0; i < s->n_free; i++)
            free(s->free_pages[i]);
        s->n_free = 0;
    }
    for (size_t i = 0; i < s->n_pages; i++) {
        uint8_t **slot = &s->mem[s->pages[i] >> LEAF_SHIFT][s->pages[i] & (LEAF_SIZE - 1u)];
        if (new_page_size == s->page_size && s->n_free == s->cap_free) {
            size_t cap = s->cap_free ? 2u * s->cap_free : 64u;
            uint8_t **p = realloc(s->free_pages, cap * sizeof *p);
            if (p) {
                s->free_pages = p;
                s->cap_free = cap;
            }
        }
        if (new_page_size == s->page_size && s->n_free < s->cap_free)
            s->free_pages[s->n_free++] = *slot;
        else
            free(*slot);
        *slot = NULL;
    }
    s->n_pages = 0;
}

/* Install the arrays a (replacing the smaller ones) and the layout: s becomes what hm_sim_new
 * returns for it. Every array of s is all zero on entry (new, or after sim_clear). */
static void sim_install(struct hm_sim *s, const struct hm_layout *layout, const struct hm_arch *arch,
                        hm_event_fn on_event, void *cookie, struct arrays *a)
{
    if (a->mem) {
        /* keep the (empty) leaves already allocated: they are reused by page_of */
        if (s->mem)
            memcpy(a->mem, s->mem, s->cap_mem_leaves * sizeof *s->mem);
        free(s->mem);
        s->mem = a->mem;
        s->cap_mem_leaves = a->mem_leaves;
    }
    if (a->pt) {
        free(s->pt);
        s->pt = a->pt;
        dirty_install(&s->pt_dirty, &a->pt_dirty);
    }
    if (a->tlb) {
        free(s->tlb);
        s->tlb = a->tlb;
        dirty_install(&s->tlb_dirty, &a->tlb_dirty);
    }
    s->arch = arch;
    s->on_event = on_event;
    s->cookie = cookie;
    s->page_shift = layout->page_shift;
    s->page_size = layout->page_size;
    s->nr_cpus = layout->nr_cpus;
    s->max_pfn = layout->max_pfn;
    s->highmem_start_pfn = layout->highmem_start_pfn;
    s->page_offset = layout->page_offset;
    s->dm_end = layout->high_memory ? (uint64_t)layout->high_memory : VA_END;
    s->pt_start = layout->pt_start;
    s->pt_pages = layout->pt_pages;
    s->pt_end = s->pt_start + ((uint64_t)s->pt_pages << s->page_shift);
    s->pkmap_start = layout->pkmap_base;
    s->pkmap_end = s->pkmap_start + ((uint64_t)layout->last_pkmap << s->page_shift);
    s->mem_leaves = a->mem_leaves;
    s->cache_kind = layout->cache_kind;
    s->cache_colours = layout->cache_colours;
    memset(&s->st, 0, sizeof s->st);
    s->drop_flushes = HM_SIM_FAULT_NONE;
    s->fail_writes = HM_SIM_FAULT_NONE;
    hm_kmap_wait_reset(&s->q); /* no wake-up pending, the lock checker's state forgotten */
    atomic_store(&s->in_irq, 0);
}

struct hm_sim *hm_sim_new(const struct hm_layout *layout, const struct hm_arch *arch,
                          hm_event_fn on_event, void *cookie)
{
    struct arrays a;
    if (!layout || !arch || !layout_ok(layout))
        return NULL;
    struct hm_sim *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (arrays_alloc(s, layout, &a) != 0) {
        free(s);
        return NULL;
    }
    atomic_flag_clear(&s->mu);
    hm_kmap_wait_init(&s->q);
    hm_kmap_wait_check(&s->q, 1);
    atomic_init(&s->in_irq, 0);
    sim_install(s, layout, arch, on_event, cookie, &a);
    return s;
}

int hm_sim_reset(struct hm_sim *sim, const struct hm_layout *layout, const struct hm_arch *arch,
                 hm_event_fn on_event, void *cookie)
{
    struct arrays a;
    if (!sim || !layout || !arch || !layout_ok(layout))
        return HM_EINVAL;
    if (arrays_alloc(sim, layout, &a) != 0)
        return HM_ENOSPC;
    sim_clear(sim, layout->page_size);
    sim_install(sim, layout, arch, on_event, cookie, &a);
    return HM_OK;
}

void hm_sim_free(struct hm_sim *sim)
{
    if (!sim)
        return;
    for (size_t i = 0; i < sim->n_pages; i++)
        free(sim->mem[sim->pages[i] >> LEAF_SHIFT][sim->pages[i] & (LEAF_SIZE - 1u)]);
    for (size_t i = 0; i < sim->cap_mem_leaves; i++)
        free(sim->mem[i]);
    for (size_t i = 0; i < sim->n_free; i++)
        free(sim->free_pages[i]);
    free(sim->free_pages);
    free(sim->pages);
    free(sim->mem);
    free(sim->pt);
    dirty_free(&sim->pt_dirty);
    free(sim->tlb);
    dirty_free(&sim->tlb_dirty);
    sim_cache_free(&sim->cache);
    hm_kmap_wait_destroy(&sim->q);
    free(sim);
}

/* ---------------------------------------------------------------------------------------
 * The struct hm_machine hooks.
 * ------------------------------------------------------------------------------------- */
/* Fault injection: called under `mu` by set_pte for a write in the window; returns 1 when
 * this write is to be refused. */
static int write_refused(struct hm_sim *s, int clear)
{
    int next = clear ? HM_SIM_FAULT_FAIL_NEXT_CLEAR : HM_SIM_FAULT_FAIL_NEXT_MAP;
    int all = clear ? HM_SIM_FAULT_FAIL_ALL_CLEARS : HM_SIM_FAULT_FAIL_ALL_MAPS;
    if (s->fail_writes != next && s->fail_writes != all)
        return 0;
    if (s->fail_writes == next)
        s->fail_writes = HM_SIM_FAULT_NONE;
    if (clear)
        s->st.pte_clears_refused++;
    else
        s->st.pte_sets_refused++;
    return 1;
}

static int hook_set_pte(void *m, hm_vaddr_t vaddr, hm_pte_t pte)
{
    struct hm_sim *s = m;
    struct pending p;
    p.n = 0;
    sim_lock(s);
    int64_t idx = win_index(s, vaddr);
    if (idx < 0) {
        s->st.pte_out_of_window++;
        sim_unlock(s);
        return 1;
    }
    if (write_refused(s, sim_pte_none(s, pte))) {
        sim_unlock(s);
        return 1; /* the PTE stays as it was */
    }
    if (sim_pte_none(s, pte)) {
        s->st.pte_clears++;
    } else {
        s->st.pte_sets++;
        /* I4: a new translation written into a pkmap slot that some CPU still caches with
         * another page. (Atomic slots are exempt: some arches overwrite, then flush.) */
        if (in_pkmap(s, vaddr)) {
            hm_pfn_t pfn = sim_pte_pfn(s, pte);
            for (uint32_t cpu = 0; cpu < s->nr_cpus; cpu++) {
                uint32_t e = s->tlb[(size_t)cpu * s->pt_pages + (size_t)idx];
                if (e && e - 1u != pfn) {
                    s->st.stale_pte_writes++;
                    pending_add(&p, HM_EV_STALE_TLB, cpu, vaddr, e - 1u, pte);
                }
            }
        }
    }
    s->pt[idx] = pte;
    if (pte)
        pt_touch(s, (uint32_t)idx);
    sim_unlock(s);
    pending_emit(s, &p);
    return 0;
}

static hm_pte_t hook_get_pte(void *m, hm_vaddr_t vaddr)
{
    struct hm_sim *s = m;
    hm_pte_t pte = 0;
    sim_lock(s);
    int64_t idx = win_index(s, vaddr);
    if (idx < 0)
        s->st.pte_out_of_window++;
    else
        pte = s->pt[idx];
    sim_unlock(s);
    return pte;
}

/* Fault injection: called under `mu` by every TLB flush hook after counting the flush;
 * returns 1 when this flush is to be dropped (the TLBs keep their entries). */
static int flush_dropped(struct hm_sim *s)
{
    if (s->drop_flushes == HM_SIM_FAULT_NONE)
        return 0;
    if (s->drop_flushes == HM_SIM_FAULT_DROP_NEXT_FLUSH)
        s->drop_flushes = HM_SIM_FAULT_NONE;
    s->st.tlb_flushes_dropped++;
    return 1;
}

void hm_sim_inject(struct hm_sim *sim, int fault)
{
    if (!sim || fault < HM_SIM_FAULT_NONE || fault > HM_SIM_FAULT_FAIL_ALL_CLEARS)
        return;
    sim_lock(sim);
    if (fault == HM_SIM_FAULT_NONE)
        sim->drop_flushes = sim->fail_writes = HM_SIM_FAULT_NONE;
    else if (fault <= HM_SIM_FAULT_DROP_ALL_FLUSHES)
        sim->drop_flushes = fault;
    else
        sim->fail_writes = fault;
    sim_unlock(sim);
}

static void hook_flush_tlb_range(void *m, hm_vaddr_t start, hm_vaddr_t end)
{
    struct hm_sim *s = m;
    uint64_t lo = start, hi = end;
    sim_lock(s);
    s->st.tlb_flush_ranges++;
    if (flush_dropped(s)) {
        sim_unlock(s);
        return;
    }
    /* Window pages overlapping [lo, hi). */
    if (hi > lo && lo < s->pt_end && hi > s->pt_start) {
        uint64_t first = lo <= s->pt_start ? 0 : (lo - s->pt_start) >> s->page_shift;
        uint64_t last = hi >= s->pt_end ? s->pt_pages
                                        : (hi - s->pt_start + s->page_size - 1u) >> s->page_shift;
        uint64_t dropped = 0;
        if (s->tlb_dirty.n < (last - first) * s->nr_cpus) {
            /* fewer entries were ever filled than the range has: visit only those */
            for (uint32_t k = 0; k < s->tlb_dirty.n; k++) {
                uint32_t e = s->tlb_dirty.idx[k], i = e % s->pt_pages;
                if (i >= first && i < last && s->tlb[e]) {
                    s->tlb[e] = 0;
                    dropped++;
                }
            }
        } else {
            for (uint32_t cpu = 0; cpu < s->nr_cpus; cpu++)
                for (uint64_t i = first; i < last; i++)
                    dropped += tlb_drop(s, cpu, (uint32_t)i);
        }
        s->st.tlb_entries_dropped += dropped;
    }
    sim_unlock(s);
}

static void hook_flush_tlb_page(void *m, uint32_t cpu, hm_vaddr_t vaddr)
{
    struct hm_sim *s = m;
    sim_lock(s);
    s->st.tlb_flush_pages++;
    if (flush_dropped(s)) {
        sim_unlock(s);
        return;
    }
    int64_t idx = win_index(s, vaddr);
    if (idx >= 0) {
        if (cpu == HM_CPU_ALL) {
            for (uint32_t c = 0; c < s->nr_cpus; c++)
                s->st.tlb_entries_dropped += tlb_drop(s, c, (uint32_t)idx);
        } else if (cpu < s->nr_cpus) {
            s->st.tlb_entries_dropped += tlb_drop(s, cpu, (uint32_t)idx);
        }
    }
    sim_unlock(s);
}

static void hook_flush_tlb_all(void *m)
{
    struct hm_sim *s = m;
    sim_lock(s);
    s->st.tlb_flush_alls++;
    if (flush_dropped(s)) {
        sim_unlock(s);
        return;
    }
    /* only entries filled since the last reset or flush_tlb_all can be non-zero */
    uint64_t dropped = 0;
    for (uint32_t k = 0; k < s->tlb_dirty.n; k++) {
        uint32_t e = s->tlb_dirty.idx[k];
        dropped += s->tlb[e] != 0u;
        s->tlb[e] = 0;
    }
    dirty_reset(&s->tlb_dirty);
    s->st.tlb_entries_dropped += dropped;
    sim_unlock(s);
}

/* flush_cache_all: every line of every CPU, at once. The kernels cross-call each CPU to flush
 * its own cache (sparc32 SMP's flush_cache_all); no access runs between those flushes in the
 * sim, which holds its lock over the whole flush. */
static void hook_flush_cache_all(void *m)
{
    struct hm_sim *s = m;
    sim_lock(s);
    s->st.cache_flushes++;
    if (s->cache.on) {
        struct sim_cache_mem mem = cache_mem(s);
        sim_cache_flush_all(&s->cache, &mem, &s->st);
    }
    sim_unlock(s);
}

/* The frame cpu's MMU would use for vaddr right now, with no side effect: the direct map's
 * arithmetic, or in the window the TLB entry (stale or not), else a present PTE. Returns 0
 * when there is none. Called with mu held. */
static int peek_translation(const struct hm_sim *s, uint32_t cpu, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    uint64_t v = vaddr;
    int64_t idx;
    if (v >= s->page_offset && v < s->dm_end) {
        uint64_t f = (v - s->page_offset) >> s->page_shift;
        *pfn = (hm_pfn_t)f;
        return f < s->highmem_start_pfn;
    }
    if ((idx = win_index(s, vaddr)) < 0)
        return 0;
    uint32_t e = s->tlb[(size_t)cpu * s->pt_pages + (size_t)idx];
    if (e) {
        *pfn = e - 1u;
        return 1;
    }
    if (sim_pte_none(s, s->pt[idx]))
        return 0;
    *pfn = sim_pte_pfn(s, s->pt[idx]);
    return *pfn < s->max_pfn;
}

/* flush_cache_page: the page at vaddr on cpu, or on every CPU for HM_CPU_ALL (a cpu past
 * nr_cpus flushes nothing). Counted in cache_page_flushes with the model on or off. */
static void hook_flush_cache_page(void *m, uint32_t cpu, hm_vaddr_t vaddr)
{
    struct hm_sim *s = m;
    sim_lock(s);
    s->st.cache_page_flushes++;
    if (s->cache.on && vaddr < VA_END) {
        struct sim_cache_mem mem = cache_mem(s);
        for (uint32_t c = 0; c < s->nr_cpus; c++) {
            hm_pfn_t pfn = 0;
            if (cpu != HM_CPU_ALL && c != cpu)
                continue;
            int has = peek_translation(s, c, vaddr, &pfn);
            sim_cache_flush_page(&s->cache, &mem, &s->st, c, vaddr, has, pfn);
        }
    }
    sim_unlock(s);
}

int hm_sim_set_cache(struct hm_sim *sim, int on)
{
    int rc = HM_OK;
    if (!sim)
        return HM_EINVAL;
    sim_lock(sim);
    if (on && !sim->cache.on)
        rc = sim_cache_setup(&sim->cache, sim->cache_kind, sim->cache_colours, sim->page_shift,
                             sim->nr_cpus);
    else if (!on && sim->cache.on) {
        struct sim_cache_mem mem = cache_mem(sim);
        sim_cache_off(&sim->cache, &mem, &sim->st);
    }
    sim_unlock(sim);
    return rc;
}

int hm_sim_cache_on(const struct hm_sim *sim)
{
    int on;
    if (!sim)
        return 0;
    sim_lock(sim);
    on = sim->cache.on;
    sim_unlock(sim);
    return on;
}

static void hook_lock(void *m, unsigned id)
{
    struct hm_sim *s = m;
    if (hm_kmap_wait_lock(&s->q, id))
        stat_inc(s, &s->st.lock_acquires);
}

static void hook_unlock(void *m, unsigned id)
{
    hm_kmap_wait_unlock(&((struct hm_sim *)m)->q, id);
}

/* Entered with locks[HM_LOCK_KMAP] held (machine/kmap_wait.h: no lost wake-up; the checker
 * reports a sleep without it, or holding another lock, and then returns at once). */
static void hook_sleep(void *m)
{
    struct hm_sim *s = m;
    stat_inc(s, &s->st.sleeps);
    hm_kmap_wait_sleep(&s->q);
}

static void hook_wake_all(void *m)
{
    struct hm_sim *s = m;
    hm_kmap_wait_wake_all(&s->q);
    stat_inc(s, &s->st.wakes);
}

/* The per-colour pair: the same, on colour's own queue; counted with sleep and wake_all. */
static void hook_sleep_colour(void *m, uint32_t colour)
{
    struct hm_sim *s = m;
    stat_inc(s, &s->st.sleeps);
    hm_kmap_wait_sleep_colour(&s->q, colour);
}

static void hook_wake_colour(void *m, uint32_t colour)
{
    struct hm_sim *s = m;
    hm_kmap_wait_wake_colour(&s->q, colour);
    stat_inc(s, &s->st.wakes);
}

void hm_sim_on_lock_error(struct hm_sim *sim, hm_lock_error_fn fn, void *cookie)
{
    if (sim)
        hm_kmap_wait_on_error(&sim->q, fn, cookie);
}

size_t hm_sim_describe_waits(const struct hm_sim *sim, char *buf, size_t n)
{
    if (!sim) {
        if (buf && n)
            buf[0] = '\0';
        return 0;
    }
    return hm_kmap_wait_describe(&sim->q, buf, n);
}

static int hook_in_interrupt(void *m)
{
    struct hm_sim *s = m;
    return atomic_load(&s->in_irq);
}

void hm_sim_machine(struct hm_sim *sim, struct hm_machine *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!sim)
        return;
    out->m = sim;
    out->set_pte = hook_set_pte;
    out->get_pte = hook_get_pte;
    out->flush_tlb_range = hook_flush_tlb_range;
    out->flush_tlb_page = hook_flush_tlb_page;
    out->flush_tlb_all = hook_flush_tlb_all;
    out->flush_cache_all = hook_flush_cache_all;
    out->lock = hook_lock;
    out->unlock = hook_unlock;
    out->sleep = hook_sleep;
    out->wake_all = hook_wake_all;
    out->in_interrupt = hook_in_interrupt;
    out->flush_cache_page = hook_flush_cache_page;
    out->sleep_colour = hook_sleep_colour;
    out->wake_colour = hook_wake_colour;
}

/* ---------------------------------------------------------------------------------------
 * Loads and stores through a CPU's MMU.
 * ------------------------------------------------------------------------------------- */
static int mmu_access(struct hm_sim *s, uint32_t cpu, hm_vaddr_t vaddr, uint8_t *val, int write)
{
    struct pending p;
    p.n = 0;
    int rc = HM_OK;
    hm_pfn_t pfn = 0;
    uint64_t v = vaddr;

    sim_lock(s);
    if (write)
        s->st.stores++;
    else
        s->st.loads++;

    int64_t idx;
    if (v >= s->page_offset && v < s->dm_end) {
        /* The direct map: arithmetic, never cached. */
        uint64_t f = (v - s->page_offset) >> s->page_shift;
        if (f < s->highmem_start_pfn)
            pfn = (hm_pfn_t)f;
        else
            rc = HM_EFAULT;
    } else if ((idx = win_index(s, vaddr)) >= 0) {
        uint32_t *e = &s->tlb[(size_t)cpu * s->pt_pages + (size_t)idx];
        hm_pte_t pte = s->pt[idx];
        if (*e) {
            /* A TLB hit is used as is, even when the PTE has changed underneath it. */
            s->st.tlb_hits++;
            pfn = *e - 1u;
            if (sim_pte_none(s, pte) || sim_pte_pfn(s, pte) != pfn) {
                s->st.stale_tlb_hits++;
                pending_add(&p, HM_EV_STALE_TLB, cpu, vaddr, pfn, pte);
            }
        } else {
            s->st.tlb_misses++;
            if (sim_pte_none(s, pte)) {
                rc = HM_EFAULT;
            } else {
                pfn = sim_pte_pfn(s, pte);
                if (pfn >= s->max_pfn)
                    rc = HM_EFAULT;
                else {
                    *e = pfn + 1u;
                    tlb_touch(s, (size_t)cpu * s->pt_pages + (size_t)idx);
                }
            }
        }
    } else {
        rc = HM_EFAULT;
    }

    if (rc == HM_OK && s->cache.on) {
        /* through cpu's data cache: a stale copy is counted and reported like a stale TLB hit */
        struct sim_cache_mem mem = cache_mem(s);
        hm_pfn_t line_pfn = 0;
        int stale = 0;
        rc = sim_cache_access(&s->cache, &mem, &s->st, cpu, vaddr, pfn,
                              (uint32_t)(vaddr & (s->page_size - 1u)), val, write, &stale, &line_pfn);
        if (stale)
            pending_add(&p, HM_EV_STALE_CACHE, cpu, vaddr, line_pfn, 0);
    } else if (rc == HM_OK) { /* the page offset: below page_size */
        rc = mem_access(s, pfn, (uint32_t)(vaddr & (s->page_size - 1u)), val, write);
    }
    sim_unlock(s);
    pending_emit(s, &p);
    return rc;
}

/* An address past the 32-bit space is refused before it reaches the MMU (nothing is counted):
 * no region test or page mask ever sees it. */
int hm_sim_load(struct hm_sim *sim, uint32_t cpu, hm_vaddr_t vaddr, uint8_t *value)
{
    if (!sim || !value || cpu >= sim->nr_cpus)
        return HM_EINVAL;
    if (vaddr >= VA_END)
        return HM_ERANGE;
    return mmu_access(sim, cpu, vaddr, value, 0);
}

int hm_sim_store(struct hm_sim *sim, uint32_t cpu, hm_vaddr_t vaddr, uint8_t value)
{
    if (!sim || cpu >= sim->nr_cpus)
        return HM_EINVAL;
    if (vaddr >= VA_END)
        return HM_ERANGE;
    return mmu_access(sim, cpu, vaddr, &value, 1);
}

/* ---------------------------------------------------------------------------------------
 * Physical access and inspection.
 * ------------------------------------------------------------------------------------- */
int hm_sim_phys_read(const struct hm_sim *sim, hm_pfn_t pfn, uint32_t offset, uint8_t *value)
{
    if (!sim || !value)
        return HM_EINVAL;
    if (pfn >= sim->max_pfn || offset >= sim->page_size)
        return HM_ERANGE;
    struct hm_sim *s = (struct hm_sim *)sim; /* reads never allocate */
    sim_lock(s);
    int rc = mem_access(s, pfn, offset, value, 0);
    sim_unlock(s);
    return rc;
}

int hm_sim_phys_write(struct hm_sim *sim, hm_pfn_t pfn, uint32_t offset, uint8_t value)
{
    if (!sim)
        return HM_EINVAL;
    if (pfn >= sim->max_pfn || offset >= sim->page_size)
        return HM_ERANGE;
    sim_lock(sim);
    int rc = mem_access(sim, pfn, offset, &value, 1);
    sim_unlock(sim);
    return rc;
}

hm_pte_t hm_sim_pte(const struct hm_sim *sim, hm_vaddr_t vaddr)
{
    if (!sim)
        return 0;
    hm_pte_t pte = 0;
    sim_lock(sim);
    int64_t idx = win_index(sim, vaddr);
    if (idx >= 0)
        pte = sim->pt[idx];
    sim_unlock(sim);
    return pte;
}

int hm_sim_tlb_lookup(const struct hm_sim *sim, uint32_t cpu, hm_vaddr_t vaddr, hm_pfn_t *pfn)
{
    if (!sim || cpu >= sim->nr_cpus)
        return 0;
    int found = 0;
    sim_lock(sim);
    int64_t idx = win_index(sim, vaddr);
    if (idx >= 0) {
        uint32_t e = sim->tlb[(size_t)cpu * sim->pt_pages + (size_t)idx];
        if (e) {
            found = 1;
            if (pfn)
                *pfn = e - 1u;
        }
    }
    sim_unlock(sim);
    return found;
}

uint32_t hm_sim_tlb_size(const struct hm_sim *sim, uint32_t cpu)
{
    if (!sim || cpu >= sim->nr_cpus)
        return 0;
    uint32_t n = 0;
    sim_lock(sim);
    const uint32_t *t = &sim->tlb[(size_t)cpu * sim->pt_pages];
    for (uint32_t i = 0; i < sim->pt_pages; i++)
        n += t[i] != 0u;
    sim_unlock(sim);
    return n;
}

void hm_sim_get_stats(const struct hm_sim *sim, struct hm_sim_stats *out)
{
    if (!out)
        return;
    if (!sim) {
        memset(out, 0, sizeof *out);
        return;
    }
    sim_lock(sim);
    *out = sim->st;
    sim_unlock(sim);
}

void hm_sim_set_in_interrupt(struct hm_sim *sim, int on)
{
    if (sim)
        atomic_store(&sim->in_irq, on != 0);
}
