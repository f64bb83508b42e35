/* sim_test.c - Criterion tests of the simulated machine (sim/) on its own: memory, page tables,
 * per-CPU TLBs and the stale-translation detectors, flushes, errors, and sleep / wake_all.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "highmem_arch.h"
#include "sim/sim.h"

/* ---------------------------------------------------------------------------------------
 * Fixture: an x86-like layout, a tiny PTE format (pfn << 12 | flags), an event recorder.
 * ------------------------------------------------------------------------------------- */
#include "sim_criterion.h" /* sim_fixture.h, sim_stats, sim_load_ok */

struct recorder {
    unsigned n;
    struct hm_event ev[64];
};

static void record(void *cookie, const struct hm_event *ev)
{
    struct recorder *r = cookie;
    if (r->n < 64)
        r->ev[r->n] = *ev;
    r->n++;
}

static struct hm_layout layout;
static struct recorder rec;
static struct hm_sim *sim;
static struct hm_machine mach;

static void setup(void)
{
    layout = make_layout();
    memset(&rec, 0, sizeof rec);
    sim = hm_sim_new(&layout, &test_arch, record, &rec);
    cr_assert(not(eq(ptr, sim, NULL)));
    hm_sim_machine(sim, &mach);
}

static void teardown(void)
{
    hm_sim_free(sim);
    sim = NULL;
}

/* Neither detector reported anything: no stale TLB hit counted, no event recorded. */
static void assert_no_stale_reports(void)
{
    cr_assert(eq(u64, sim_stats(sim).stale_tlb_hits, 0));
    cr_assert(eq(u32, rec.n, 0));
}

/* Put a marker byte at offset 5 of two highmem pages. */
static void mark_pages(void)
{
    cr_assert(eq(int, hm_sim_phys_write(sim, HIGH_A, 5, 0xAA), HM_OK));
    cr_assert(eq(int, hm_sim_phys_write(sim, HIGH_B, 5, 0xBB), HM_OK));
}

TestSuite(sim, .init = setup, .fini = teardown, .timeout = 20);

/* ---------------------------------------------------------------------------------------
 * Memory.
 * ------------------------------------------------------------------------------------- */
Test(sim, memory_is_zero_filled)
{
    uint8_t v = 0xff;
    cr_assert(eq(int, hm_sim_phys_read(sim, 0, 0, &v), HM_OK));
    cr_assert(eq(u8, v, 0));
    v = 0xff;
    cr_assert(eq(int, hm_sim_phys_read(sim, layout.max_pfn - 1, 4095, &v), HM_OK));
    cr_assert(eq(u8, v, 0));
    /* A written page keeps its other bytes zero. */
    cr_assert(eq(int, hm_sim_phys_write(sim, 7, 100, 0x5a), HM_OK));
    cr_assert(eq(int, hm_sim_phys_read(sim, 7, 100, &v), HM_OK));
    cr_assert(eq(u8, v, 0x5a));
    cr_assert(eq(int, hm_sim_phys_read(sim, 7, 101, &v), HM_OK));
    cr_assert(eq(u8, v, 0));
    cr_assert(eq(int, hm_sim_phys_read(sim, 8, 100, &v), HM_OK));
    cr_assert(eq(u8, v, 0));
    /* Through the direct map too. */
    cr_assert(eq(u8, sim_load_ok(sim, 0, 0xc0123456u), 0));
}

Test(sim, phys_range_errors)
{
    uint8_t v = 0;
    cr_assert(eq(int, hm_sim_phys_read(sim, layout.max_pfn, 0, &v), HM_ERANGE));
    cr_assert(eq(int, hm_sim_phys_write(sim, layout.max_pfn, 0, 1), HM_ERANGE));
    cr_assert(eq(int, hm_sim_phys_write(sim, 0xffffffffu, 0, 1), HM_ERANGE));
    cr_assert(eq(int, hm_sim_phys_read(sim, 0, 4096, &v), HM_ERANGE));
    cr_assert(eq(int, hm_sim_phys_write(sim, 0, 4096, 1), HM_ERANGE));
    cr_assert(eq(int, hm_sim_phys_read(sim, 0, 0, NULL), HM_EINVAL));
}

Test(sim, direct_map_store_load)
{
    /* vaddr 0xc0001234 is pfn 1, offset 0x234. */
    cr_assert(eq(int, hm_sim_store(sim, 0, 0xc0001234u, 0x42), HM_OK));
    uint8_t v = 0;
    cr_assert(eq(int, hm_sim_phys_read(sim, 1, 0x234, &v), HM_OK));
    cr_assert(eq(u8, v, 0x42));
    cr_assert(eq(u8, sim_load_ok(sim, 1, 0xc0001234u), 0x42));
    /* Last lowmem byte. */
    cr_assert(eq(int, hm_sim_store(sim, 1, 0xf7ffffffu, 0x99), HM_OK));
    cr_assert(eq(int, hm_sim_phys_read(sim, 0x37fff, 4095, &v), HM_OK));
    cr_assert(eq(u8, v, 0x99));
    /* The direct map is never cached and never counts as a TLB access. */
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.tlb_hits, 0));
    cr_assert(eq(u64, st.tlb_misses, 0));
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 0), 0));
    cr_assert(eq(u64, st.stores, 2));
    cr_assert(eq(u64, st.loads, 1));
}

Test(sim, efault_and_einval)
{
    uint8_t v = 0;
    /* A none PTE in the window. */
    cr_assert(eq(int, hm_sim_load(sim, 0, PKMAP_ADDR(3), &v), HM_EFAULT));
    cr_assert(eq(int, hm_sim_store(sim, 0, PKMAP_ADDR(3), 1), HM_EFAULT));
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 0), 0));
    /* Unmapped regions: user space, vmalloc gap, the page above the window, below PAGE_OFFSET. */
    cr_assert(eq(int, hm_sim_load(sim, 0, 0x00001000u, &v), HM_EFAULT));
    cr_assert(eq(int, hm_sim_load(sim, 0, 0xf8800000u, &v), HM_EFAULT));
    cr_assert(eq(int, hm_sim_load(sim, 0, 0xfffff000u, &v), HM_EFAULT));
    cr_assert(eq(int, hm_sim_store(sim, 1, 0xbfffffffu, 1), HM_EFAULT));
    /* A PTE pointing past max_pfn. */
    mach.set_pte(mach.m, PKMAP_ADDR(4), PTE(layout.max_pfn));
    cr_assert(eq(int, hm_sim_load(sim, 0, PKMAP_ADDR(4), &v), HM_EFAULT));
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, PKMAP_ADDR(4), NULL), 0));
    /* Bad cpu, NULL out. */
    cr_assert(eq(int, hm_sim_load(sim, 2, 0xc0000000u, &v), HM_EINVAL));
    cr_assert(eq(int, hm_sim_store(sim, 2, 0xc0000000u, 1), HM_EINVAL));
    cr_assert(eq(int, hm_sim_load(sim, HM_CPU_ALL, 0xc0000000u, &v), HM_EINVAL));
    cr_assert(eq(int, hm_sim_load(sim, 0, 0xc0000000u, NULL), HM_EINVAL));
    cr_assert(eq(int, hm_sim_load(NULL, 0, 0xc0000000u, &v), HM_EINVAL));
}

/* ---------------------------------------------------------------------------------------
 * Page tables and the TLB.
 * ------------------------------------------------------------------------------------- */
Test(sim, pte_window)
{
    cr_assert(eq(int, mach.set_pte(mach.m, PKMAP_ADDR(1), PTE(HIGH_A)), 0));
    cr_assert(eq(u64, mach.get_pte(mach.m, PKMAP_ADDR(1)), PTE(HIGH_A)));
    cr_assert(eq(u64, mach.get_pte(mach.m, PKMAP_ADDR(1) + 0x123), PTE(HIGH_A)));
    cr_assert(eq(u64, hm_sim_pte(sim, PKMAP_ADDR(1)), PTE(HIGH_A)));
    /* Last window page (0xffffe000). */
    mach.set_pte(mach.m, 0xffffe000u, PTE(HIGH_B));
    cr_assert(eq(u64, hm_sim_pte(sim, 0xffffe000u), PTE(HIGH_B)));
    /* Outside: refused, reads 0, counted. */
    cr_assert(ne(int, mach.set_pte(mach.m, 0xfffff000u, PTE(HIGH_B)), 0));
    cr_assert(ne(int, mach.set_pte(mach.m, 0xc0000000u, PTE(HIGH_B)), 0));
    cr_assert(eq(u64, mach.get_pte(mach.m, 0xfffff000u), 0));
    cr_assert(eq(u64, hm_sim_pte(sim, 0xc0000000u), 0));
    mach.set_pte(mach.m, PKMAP_ADDR(1), 0);
    cr_assert(eq(u64, hm_sim_pte(sim, PKMAP_ADDR(1)), 0));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.pte_sets, 2));
    cr_assert(eq(u64, st.pte_clears, 1));
    cr_assert(eq(u64, st.pte_out_of_window, 3));
}

Test(sim, window_ending_at_4g)
{
    hm_sim_free(sim);
    layout.pt_pages = 2048; /* [0xff800000, 4 GiB) */
    sim = hm_sim_new(&layout, &test_arch, record, &rec);
    cr_assert(not(eq(ptr, sim, NULL)));
    hm_sim_machine(sim, &mach);
    mach.set_pte(mach.m, 0xfffff000u, PTE(HIGH_A));
    cr_assert(eq(int, hm_sim_phys_write(sim, HIGH_A, 0xfff, 0x77), HM_OK));
    cr_assert(eq(u8, sim_load_ok(sim, 1, 0xffffffffu), 0x77));
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 1, 0xfffff000u, NULL), 1));
    mach.flush_tlb_range(mach.m, 0xfffff000u, 0); /* end below start: an empty range */
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 1, 0xfffff000u, NULL), 1));
    mach.flush_tlb_range(mach.m, 0xfffff000u, 0x100000000u); /* up to 4 GiB */
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 1, 0xfffff000u, NULL), 0));
    cr_assert(eq(u64, sim_stats(sim).tlb_entries_dropped, 1));
}

/* An address at or past 4 GiB is outside the sim's space however its low half reads: loads
 * and stores refuse it (ERANGE, nothing counted), the page-table hooks and the inspection
 * calls see no window page there, and no flush of it reaches the window page of its low half. */
Test(sim, addresses_past_4g_refused)
{
    const uint64_t hi = UINT64_C(1) << 32;
    const hm_vaddr_t wide[] = {hi, hi + PKMAP_ADDR(1) + 5u, hi + 0xc0001000u, (hi << 1) + PKMAP_ADDR(1),
                               (UINT64_C(1) << 63) | PKMAP_ADDR(1), UINT64_MAX};
    const size_t n = sizeof wide / sizeof wide[0];
    mark_pages();
    mach.set_pte(mach.m, PKMAP_ADDR(1), PTE(HIGH_A));
    cr_assert(eq(u8, sim_load_ok(sim, 0, PKMAP_ADDR(1) + 5u), 0xAA)); /* cpu 0 caches the page */
    struct hm_sim_stats before = sim_stats(sim);
    for (size_t i = 0; i < n; i++) {
        uint8_t v = 0x5a;
        hm_pfn_t pfn = 0x5b;
        cr_assert(eq(int, hm_sim_load(sim, 0, wide[i], &v), HM_ERANGE), "0x%" PRIx64, wide[i]);
        cr_assert(eq(u8, v, 0x5a));
        cr_assert(eq(int, hm_sim_store(sim, 0, wide[i], 0x11), HM_ERANGE), "0x%" PRIx64, wide[i]);
        cr_assert(eq(u64, hm_sim_pte(sim, wide[i]), 0), "0x%" PRIx64, wide[i]);
        cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, wide[i], &pfn), 0), "0x%" PRIx64, wide[i]);
        cr_assert(eq(u32, pfn, 0x5b));
        cr_assert(eq(u64, mach.get_pte(mach.m, wide[i]), 0), "0x%" PRIx64, wide[i]);
        mach.set_pte(mach.m, wide[i], PTE(HIGH_B));
        mach.flush_tlb_page(mach.m, HM_CPU_ALL, wide[i]);
    }
    mach.flush_tlb_range(mach.m, hi + PKMAP_ADDR(0), hi + PKMAP_ADDR(4));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.loads, before.loads));
    cr_assert(eq(u64, st.stores, before.stores));
    cr_assert(eq(u64, st.pte_sets, before.pte_sets));
    cr_assert(eq(u64, st.pte_out_of_window, before.pte_out_of_window + 2u * n));
    cr_assert(eq(u64, st.tlb_entries_dropped, 0));
    /* the window page of the low half is as it was: its PTE, its TLB entry, its bytes */
    cr_assert(eq(u64, hm_sim_pte(sim, PKMAP_ADDR(1)), PTE(HIGH_A)));
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, PKMAP_ADDR(1), NULL), 1));
    cr_assert(eq(u8, sim_load_ok(sim, 0, PKMAP_ADDR(1) + 5u), 0xAA));
    assert_no_stale_reports();
}

Test(sim, load_fills_tlb)
{
    mark_pages();
    mach.set_pte(mach.m, PKMAP_ADDR(2), PTE(HIGH_A));
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, PKMAP_ADDR(2), NULL), 0));
    cr_assert(eq(u8, sim_load_ok(sim, 0, PKMAP_ADDR(2) + 5), 0xAA));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.tlb_misses, 1));
    cr_assert(eq(u64, st.tlb_hits, 0));
    hm_pfn_t pfn = 0;
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, PKMAP_ADDR(2) + 0x800, &pfn), 1));
    cr_assert(eq(u32, pfn, HIGH_A));
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 0), 1));
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 1), 0)); /* per-CPU */
    cr_assert(eq(u8, sim_load_ok(sim, 0, PKMAP_ADDR(2) + 5), 0xAA));
    /* A store through the cached translation reaches the page. */
    cr_assert(eq(int, hm_sim_store(sim, 0, PKMAP_ADDR(2) + 6, 0x31), HM_OK));
    uint8_t v = 0;
    cr_assert(eq(int, hm_sim_phys_read(sim, HIGH_A, 6, &v), HM_OK));
    cr_assert(eq(u8, v, 0x31));
    st = sim_stats(sim);
    cr_assert(eq(u64, st.tlb_misses, 1));
    cr_assert(eq(u64, st.tlb_hits, 2));
    assert_no_stale_reports();
}

Test(sim, stale_tlb_hit_reads_old_page)
{
    mark_pages();
    mach.set_pte(mach.m, FIX_ADDR, PTE(HIGH_A));
    cr_assert(eq(u8, sim_load_ok(sim, 1, FIX_ADDR + 5), 0xAA));
    /* Remap without a flush: the TLB still serves the old page. */
    mach.set_pte(mach.m, FIX_ADDR, PTE(HIGH_B));
    cr_assert(eq(u32, rec.n, 0)); /* not the pkmap window: no write-time report */
    cr_assert(eq(u8, sim_load_ok(sim, 1, FIX_ADDR + 5), 0xAA));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.stale_tlb_hits, 1));
    cr_assert(eq(u64, st.tlb_hits, 1));
    cr_assert(eq(u32, rec.n, 1));
    cr_assert(eq(int, rec.ev[0].kind, HM_EV_STALE_TLB));
    cr_assert(eq(u32, rec.ev[0].cpu, 1));
    cr_assert(eq(u64, rec.ev[0].a, FIX_ADDR + 5));
    cr_assert(eq(u64, rec.ev[0].b, HIGH_A));
    /* A store through it lands in the old page too. */
    cr_assert(eq(int, hm_sim_store(sim, 1, FIX_ADDR + 9, 0x11), HM_OK));
    uint8_t v = 0;
    cr_assert(eq(int, hm_sim_phys_read(sim, HIGH_A, 9, &v), HM_OK));
    cr_assert(eq(u8, v, 0x11));
    cr_assert(eq(int, hm_sim_phys_read(sim, HIGH_B, 9, &v), HM_OK));
    cr_assert(eq(u8, v, 0));
    cr_assert(eq(u64, sim_stats(sim).stale_tlb_hits, 2));
    /* CPU 0 never cached it: it sees the new page, with no report. */
    cr_assert(eq(u8, sim_load_ok(sim, 0, FIX_ADDR + 5), 0xBB));
    cr_assert(eq(u32, rec.n, 2));
}

Test(sim, stale_hit_after_clear)
{
    mark_pages();
    mach.set_pte(mach.m, FIX_ADDR, PTE(HIGH_A));
    cr_assert(eq(u8, sim_load_ok(sim, 0, FIX_ADDR + 5), 0xAA));
    mach.set_pte(mach.m, FIX_ADDR, 0); /* pte_clear, no flush */
    cr_assert(eq(u8, sim_load_ok(sim, 0, FIX_ADDR + 5), 0xAA));
    cr_assert(eq(u64, sim_stats(sim).stale_tlb_hits, 1));
    cr_assert(eq(u32, rec.n, 1));
    cr_assert(eq(u64, rec.ev[0].b, HIGH_A));
    /* After the flush the none PTE faults. */
    mach.flush_tlb_page(mach.m, 0, FIX_ADDR);
    uint8_t v;
    cr_assert(eq(int, hm_sim_load(sim, 0, FIX_ADDR + 5, &v), HM_EFAULT));
}

/* Map HIGH_A at va, cache it on both CPUs, remap to HIGH_B without a flush. */
static void cache_then_remap(hm_vaddr_t va)
{
    mark_pages();
    mach.set_pte(mach.m, va, PTE(HIGH_A));
    cr_assert(eq(u8, sim_load_ok(sim, 0, va + 5), 0xAA));
    cr_assert(eq(u8, sim_load_ok(sim, 1, va + 5), 0xAA));
    mach.set_pte(mach.m, va, PTE(HIGH_B));
}

Test(sim, flush_tlb_range_drops_entries)
{
    cache_then_remap(FIX_ADDR);
    mach.flush_tlb_range(mach.m, FIX_ADDR, FIX_ADDR + 4096);
    cr_assert(eq(u8, sim_load_ok(sim, 0, FIX_ADDR + 5), 0xBB));
    cr_assert(eq(u8, sim_load_ok(sim, 1, FIX_ADDR + 5), 0xBB));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.tlb_flush_ranges, 1));
    cr_assert(eq(u64, st.tlb_entries_dropped, 2));
    assert_no_stale_reports();
}

Test(sim, flush_tlb_range_bounds)
{
    mach.set_pte(mach.m, PKMAP_ADDR(0), PTE(HIGH_A));
    mach.set_pte(mach.m, PKMAP_ADDR(1), PTE(HIGH_A + 1));
    mach.set_pte(mach.m, PKMAP_ADDR(2), PTE(HIGH_A + 2));
    for (unsigned i = 0; i < 3; i++)
        (void)sim_load_ok(sim, 0, PKMAP_ADDR(i));
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 0), 3));
    /* [PKMAP_ADDR(1), PKMAP_ADDR(2)): end is exclusive. */
    mach.flush_tlb_range(mach.m, PKMAP_ADDR(1), PKMAP_ADDR(2));
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, PKMAP_ADDR(0), NULL), 1));
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, PKMAP_ADDR(1), NULL), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, PKMAP_ADDR(2), NULL), 1));
    /* A range that misses the window drops nothing. */
    mach.flush_tlb_range(mach.m, 0xc0000000u, 0xf8000000u);
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 0), 2));
    /* The whole pkmap window. */
    mach.flush_tlb_range(mach.m, PKMAP_BASE, PKMAP_ADDR(1024));
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 0), 0));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.tlb_flush_ranges, 3));
    cr_assert(eq(u64, st.tlb_entries_dropped, 3));
}

Test(sim, flush_tlb_page_is_per_cpu)
{
    cache_then_remap(FIX_ADDR);
    mach.flush_tlb_page(mach.m, 0, FIX_ADDR + 0x10);
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, FIX_ADDR, NULL), 0));
    hm_pfn_t pfn = 0;
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 1, FIX_ADDR, &pfn), 1));
    cr_assert(eq(u32, pfn, HIGH_A));
    cr_assert(eq(u8, sim_load_ok(sim, 0, FIX_ADDR + 5), 0xBB));
    cr_assert(eq(u32, rec.n, 0));
    /* CPU 1 still has the stale entry. */
    cr_assert(eq(u8, sim_load_ok(sim, 1, FIX_ADDR + 5), 0xAA));
    cr_assert(eq(u32, rec.n, 1));
    cr_assert(eq(u32, rec.ev[0].cpu, 1));
    /* HM_CPU_ALL drops it everywhere. */
    mach.flush_tlb_page(mach.m, HM_CPU_ALL, FIX_ADDR);
    cr_assert(eq(u8, sim_load_ok(sim, 1, FIX_ADDR + 5), 0xBB));
    cr_assert(eq(u32, rec.n, 1));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.tlb_flush_pages, 2));
    cr_assert(eq(u64, st.tlb_entries_dropped, 3)); /* cpu0, then cpu0 (refilled) + cpu1 */
    cr_assert(eq(u64, st.stale_tlb_hits, 1));
}

Test(sim, flush_tlb_all_and_cache)
{
    cache_then_remap(FIX_ADDR);
    mach.set_pte(mach.m, PKMAP_ADDR(9), PTE(HIGH_A));
    (void)sim_load_ok(sim, 1, PKMAP_ADDR(9));
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 1), 2));
    mach.flush_tlb_all(mach.m);
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 0), 0));
    cr_assert(eq(u32, hm_sim_tlb_size(sim, 1), 0));
    cr_assert(eq(u8, sim_load_ok(sim, 0, FIX_ADDR + 5), 0xBB));
    cr_assert(eq(u8, sim_load_ok(sim, 1, FIX_ADDR + 5), 0xBB));
    mach.flush_cache_all(mach.m);
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.tlb_flush_alls, 1));
    cr_assert(eq(u64, st.tlb_entries_dropped, 3));
    cr_assert(eq(u64, st.cache_flushes, 1));
    assert_no_stale_reports();
}

/* ---------------------------------------------------------------------------------------
 * The write-time detector (spec §8 I4).
 * ------------------------------------------------------------------------------------- */
Test(sim, stale_pte_write_in_pkmap_window)
{
    hm_vaddr_t va = PKMAP_ADDR(17);
    mark_pages();
    mach.set_pte(mach.m, va, PTE(HIGH_A));
    cr_assert(eq(u8, sim_load_ok(sim, 1, va), 0));
    /* Rewriting the same page is harmless. */
    mach.set_pte(mach.m, va, PTE(HIGH_A));
    cr_assert(eq(u32, rec.n, 0));
    /* Clearing is what flush_all_zero_pkmaps does before its flush: no report. */
    mach.set_pte(mach.m, va, 0);
    cr_assert(eq(u32, rec.n, 0));
    /* A new page while CPU 1 still caches the old one: reported once, for CPU 1. */
    mach.set_pte(mach.m, va, PTE(HIGH_B));
    cr_assert(eq(u32, rec.n, 1));
    cr_assert(eq(int, rec.ev[0].kind, HM_EV_STALE_TLB));
    cr_assert(eq(u32, rec.ev[0].cpu, 1));
    cr_assert(eq(u64, rec.ev[0].a, va));
    cr_assert(eq(u64, rec.ev[0].b, HIGH_A));
    cr_assert(eq(u64, rec.ev[0].pte, PTE(HIGH_B)));
    cr_assert(eq(u64, sim_stats(sim).stale_pte_writes, 1));
    /* The PTE was still written. */
    cr_assert(eq(u64, hm_sim_pte(sim, va), PTE(HIGH_B)));
}

Test(sim, stale_pte_write_every_cpu)
{
    hm_vaddr_t va = PKMAP_ADDR(1023); /* last pkmap slot */
    cache_then_remap(va);
    cr_assert(eq(u32, rec.n, 2));
    cr_assert(eq(u32, rec.ev[0].cpu, 0));
    cr_assert(eq(u32, rec.ev[1].cpu, 1));
    cr_assert(eq(u64, rec.ev[0].b, HIGH_A));
    cr_assert(eq(u64, rec.ev[1].b, HIGH_A));
    cr_assert(eq(u64, sim_stats(sim).stale_pte_writes, 2));
}

Test(sim, no_stale_pte_write_outside_pkmap_or_after_flush)
{
    /* Just past the pkmap window (first fixmap-ish page): not checked. */
    cache_then_remap(PKMAP_ADDR(1024));
    cr_assert(eq(u32, rec.n, 0));
    cache_then_remap(FIX_ADDR);
    cr_assert(eq(u32, rec.n, 0));
    cr_assert(eq(u64, sim_stats(sim).stale_pte_writes, 0));
    /* Inside the window, but flushed first. */
    hm_vaddr_t va = PKMAP_ADDR(5);
    mach.set_pte(mach.m, va, PTE(HIGH_A));
    (void)sim_load_ok(sim, 0, va);
    (void)sim_load_ok(sim, 1, va);
    mach.set_pte(mach.m, va, 0);
    mach.flush_tlb_range(mach.m, PKMAP_BASE, PKMAP_ADDR(1024));
    mach.set_pte(mach.m, va, PTE(HIGH_B));
    cr_assert(eq(u32, rec.n, 0));
    /* Flushed on CPU 0 only: CPU 1 is still reported. */
    (void)sim_load_ok(sim, 0, va);
    (void)sim_load_ok(sim, 1, va);
    mach.flush_tlb_page(mach.m, 0, va);
    mach.set_pte(mach.m, va, PTE(HIGH_A));
    cr_assert(eq(u32, rec.n, 1));
    cr_assert(eq(u32, rec.ev[0].cpu, 1));
    cr_assert(eq(u64, rec.ev[0].b, HIGH_B));
    cr_assert(eq(u64, sim_stats(sim).stale_pte_writes, 1));
}

/* ---------------------------------------------------------------------------------------
 * Refused PTE writes (fault injection: FAIL_*).
 * ------------------------------------------------------------------------------------- */
/* The sim's PTE-write counters: done and refused, maps and clears. */
static void expect_pte_writes(uint64_t sets, uint64_t clears, uint64_t sets_refused, uint64_t clears_refused)
{
    struct hm_sim_stats st = sim_stats(sim);
    uint64_t got[4] = {st.pte_sets, st.pte_clears, st.pte_sets_refused, st.pte_clears_refused};
    uint64_t want[4] = {sets, clears, sets_refused, clears_refused};
    for (int i = 0; i < 4; i++)
        cr_assert(eq(u64, got[i], want[i]), "counter %d of sets, clears, sets refused, clears refused", i);
}

/* FAIL_NEXT_MAP: the next map is refused and leaves the PTE (present or none) as it was; a
 * clear and an out-of-window write do not use it up; the map after it succeeds. */
Test(sim, fail_next_map_refuses_one_map)
{
    hm_vaddr_t va = PKMAP_ADDR(3);
    cr_assert(eq(int, mach.set_pte(mach.m, va, PTE(HIGH_A)), 0));
    cr_assert(eq(u8, sim_load_ok(sim, 1, va), 0)); /* CPU 1 caches HIGH_A */
    hm_sim_inject(sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
    cr_assert(ne(int, mach.set_pte(mach.m, 0xc0000000u, PTE(HIGH_B)), 0)); /* outside anyway */
    cr_assert(eq(int, mach.set_pte(mach.m, PKMAP_ADDR(4), 0), 0));          /* a clear: done */
    cr_assert(ne(int, mach.set_pte(mach.m, va, PTE(HIGH_B)), 0));
    cr_assert(eq(u64, hm_sim_pte(sim, va), PTE(HIGH_A)), "a refused map changed the PTE");
    cr_assert(eq(u32, rec.n, 0), "a refused write reached the stale detector");
    cr_assert(eq(int, mach.set_pte(mach.m, PKMAP_ADDR(5), PTE(HIGH_B)), 0));
    cr_assert(eq(u64, hm_sim_pte(sim, PKMAP_ADDR(5)), PTE(HIGH_B)), "only the next map is refused");
    expect_pte_writes(2, 1, 1, 0);
    cr_assert(eq(u64, sim_stats(sim).pte_out_of_window, 1));
    cr_assert(eq(u64, sim_stats(sim).stale_pte_writes, 0));
}

/* FAIL_ALL_MAPS until NONE; FAIL_NEXT_CLEAR and FAIL_ALL_CLEARS refuse clears only. */
Test(sim, fail_all_maps_and_clears)
{
    hm_vaddr_t va = PKMAP_ADDR(7);
    hm_sim_inject(sim, HM_SIM_FAULT_FAIL_ALL_MAPS);
    for (int i = 0; i < 3; i++)
        cr_assert(ne(int, mach.set_pte(mach.m, va, PTE(HIGH_A)), 0));
    cr_assert(eq(u64, hm_sim_pte(sim, va), 0));
    hm_sim_inject(sim, HM_SIM_FAULT_NONE);
    cr_assert(eq(int, mach.set_pte(mach.m, va, PTE(HIGH_A)), 0));

    hm_sim_inject(sim, HM_SIM_FAULT_FAIL_NEXT_CLEAR);
    cr_assert(eq(int, mach.set_pte(mach.m, FIX_ADDR, PTE(HIGH_B)), 0)); /* maps go through */
    cr_assert(ne(int, mach.set_pte(mach.m, va, 0), 0));
    cr_assert(eq(u64, hm_sim_pte(sim, va), PTE(HIGH_A)), "a refused clear changed the PTE");
    cr_assert(eq(int, mach.set_pte(mach.m, va, 0), 0));

    hm_sim_inject(sim, HM_SIM_FAULT_FAIL_ALL_CLEARS);
    cr_assert(ne(int, mach.set_pte(mach.m, FIX_ADDR, 0), 0));
    cr_assert(ne(int, mach.set_pte(mach.m, FIX_ADDR, 0), 0));
    cr_assert(eq(u64, hm_sim_pte(sim, FIX_ADDR), PTE(HIGH_B)));
    hm_sim_inject(sim, HM_SIM_FAULT_FAIL_NEXT_MAP); /* replaces the clear mode */
    cr_assert(eq(int, mach.set_pte(mach.m, FIX_ADDR, 0), 0));
    expect_pte_writes(2, 2, 3, 3);
}

/* The two settings are independent: a write mode keeps flushes dropped, a flush mode keeps
 * writes refused, and NONE ends both. */
Test(sim, write_and_flush_faults_are_independent)
{
    hm_vaddr_t va = PKMAP_ADDR(9);
    cr_assert(eq(int, mach.set_pte(mach.m, va, PTE(HIGH_A)), 0));
    cr_assert(eq(u8, sim_load_ok(sim, 0, va), 0));
    hm_sim_inject(sim, HM_SIM_FAULT_DROP_ALL_FLUSHES);
    hm_sim_inject(sim, HM_SIM_FAULT_FAIL_ALL_MAPS);
    mach.flush_tlb_all(mach.m);
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, va, NULL), 1), "the flush was not dropped");
    hm_sim_inject(sim, HM_SIM_FAULT_DROP_NEXT_FLUSH);
    cr_assert(ne(int, mach.set_pte(mach.m, PKMAP_ADDR(10), PTE(HIGH_B)), 0), "maps work again");
    hm_sim_inject(sim, HM_SIM_FAULT_NONE);
    cr_assert(eq(int, mach.set_pte(mach.m, PKMAP_ADDR(10), PTE(HIGH_B)), 0));
    mach.flush_tlb_all(mach.m);
    cr_assert(eq(int, hm_sim_tlb_lookup(sim, 0, va, NULL), 0), "NONE left the pending drop");
    hm_sim_inject(sim, 7); /* unknown: ignored */
    cr_assert(eq(int, mach.set_pte(mach.m, va, 0), 0));
}

/* ---------------------------------------------------------------------------------------
 * Creation, machine hooks, interrupts, large pfn ranges.
 * ------------------------------------------------------------------------------------- */
Test(sim, bad_layouts_rejected)
{
    struct hm_layout l = make_layout();
    cr_assert(eq(ptr, hm_sim_new(NULL, &test_arch, NULL, NULL), NULL));
    cr_assert(eq(ptr, hm_sim_new(&l, NULL, NULL, NULL), NULL));
    l.page_size = 8192;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l = make_layout();
    l.nr_cpus = 0;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l.nr_cpus = HM_MAX_CPUS + 1;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l = make_layout();
    l.pt_pages = 2049; /* past 4 GiB */
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l = make_layout();
    l.pt_start = 0xff800800u; /* unaligned */
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l = make_layout();
    l.pt_start = 0xf7fff000u; /* overlaps the direct map */
    l.pt_pages = 16;
    l.last_pkmap = 0;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l = make_layout();
    l.pt_start = 0xffc00000u; /* pkmap window not inside it */
    l.pt_pages = 1023;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l = make_layout();
    l.highmem_start_pfn = l.max_pfn + 1;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    /* Past the sim's 32-bit space: a wider space, a window or direct map starting or ending
     * past 4 GiB (a start near 2^64 must not wrap its end back below 4 GiB). */
    l = make_layout();
    l.va_bits = 33;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l = make_layout();
    l.pt_start += UINT64_C(1) << 32;
    l.pkmap_base += UINT64_C(1) << 32;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l = make_layout();
    l.pt_start = UINT64_MAX - 0xfffu; /* + 1 page wraps to 0 */
    l.pt_pages = 1;
    l.last_pkmap = 0;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    l = make_layout();
    l.high_memory = (UINT64_C(1) << 32) + 0x1000u;
    cr_assert(eq(ptr, hm_sim_new(&l, &test_arch, NULL, NULL), NULL));
    /* A machine without highmem and without a window is fine. */
    l = make_layout();
    l.pkmap_base = 0;
    l.last_pkmap = 0;
    l.pt_start = 0;
    l.pt_pages = 0;
    l.nr_cpus = HM_MAX_CPUS;
    struct hm_sim *s = hm_sim_new(&l, &test_arch, NULL, NULL);
    cr_assert(not(eq(ptr, s, NULL)));
    uint8_t v = 1;
    cr_assert(eq(int, hm_sim_load(s, HM_MAX_CPUS - 1, 0xc0000010u, &v), HM_OK));
    cr_assert(eq(u8, v, 0));
    cr_assert(eq(int, hm_sim_load(s, 0, 0xff800000u, &v), HM_EFAULT));
    hm_sim_free(s);
}

Test(sim, machine_hooks_filled)
{
    cr_assert(eq(ptr, mach.m, sim));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.set_pte, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.get_pte, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.flush_tlb_range, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.flush_tlb_page, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.flush_tlb_all, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.flush_cache_all, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.lock, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.unlock, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.sleep, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.wake_all, NULL)));
    cr_assert(not(eq(ptr, (void *)(uintptr_t)mach.in_interrupt, NULL)));
    /* Locks: every id works, and acquisitions are counted. */
    for (unsigned id = 0; id < HM_NR_LOCKS; id++) {
        mach.lock(mach.m, id);
        mach.unlock(mach.m, id);
    }
    cr_assert(eq(u64, sim_stats(sim).lock_acquires, HM_NR_LOCKS));
}

Test(sim, in_interrupt_flag)
{
    cr_assert(eq(int, mach.in_interrupt(mach.m), 0));
    hm_sim_set_in_interrupt(sim, 1);
    cr_assert(ne(int, mach.in_interrupt(mach.m), 0));
    hm_sim_set_in_interrupt(sim, 0);
    cr_assert(eq(int, mach.in_interrupt(mach.m), 0));
}

Test(sim, large_pfn_range)
{
    hm_sim_free(sim);
    layout.max_pfn = 1u << 24; /* PAE-sized */
    sim = hm_sim_new(&layout, &test_arch, record, &rec);
    cr_assert(not(eq(ptr, sim, NULL)));
    hm_sim_machine(sim, &mach);
    hm_pfn_t top = (1u << 24) - 1;
    cr_assert(eq(int, hm_sim_phys_write(sim, top, 4095, 0x3c), HM_OK));
    mach.set_pte(mach.m, PKMAP_ADDR(0), PTE(top));
    cr_assert(eq(u8, sim_load_ok(sim, 0, PKMAP_ADDR(0) + 4095), 0x3c));
    uint8_t v = 0;
    cr_assert(eq(int, hm_sim_phys_read(sim, top - 1, 4095, &v), HM_OK));
    cr_assert(eq(u8, v, 0));
    cr_assert(eq(int, hm_sim_phys_write(sim, 1u << 24, 0, 1), HM_ERANGE));
}

/* ---------------------------------------------------------------------------------------
 * sleep / wake_all with real threads. Every wait is bounded so a bug fails, never hangs.
 * ------------------------------------------------------------------------------------- */
struct sleeper {
    atomic_int entered;  /* set under HM_LOCK_KMAP just before sleep() */
    atomic_int returned; /* sleep() came back */
    atomic_int released; /* set just before the sleeper unlocks HM_LOCK_KMAP */
    atomic_int done;
};

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Poll *flag until non-zero, up to ~5 s. */
static int wait_flag(atomic_int *flag)
{
    for (int i = 0; i < 5000; i++) {
        if (atomic_load(flag))
            return 1;
        nap_ms(1);
    }
    return atomic_load(flag) != 0;
}

static void *sleeper_main(void *arg)
{
    struct sleeper *sl = arg;
    mach.lock(mach.m, HM_LOCK_KMAP);
    atomic_store(&sl->entered, 1);
    mach.sleep(mach.m);
    atomic_store(&sl->returned, 1);
    nap_ms(50); /* hold the lock a while: the main thread must not get it meanwhile */
    atomic_store(&sl->released, 1);
    mach.unlock(mach.m, HM_LOCK_KMAP);
    atomic_store(&sl->done, 1);
    return NULL;
}

/* Wait until the sleeper is parked: it set `entered` under KMAP and KMAP is free again. */
static int wait_parked(struct sleeper *sl)
{
    for (int i = 0; i < 5000; i++) {
        mach.lock(mach.m, HM_LOCK_KMAP);
        int e = atomic_load(&sl->entered);
        mach.unlock(mach.m, HM_LOCK_KMAP);
        if (e)
            return 1;
        nap_ms(1);
    }
    return 0;
}

Test(sim, sleep_until_wake_all)
{
    /* A wake_all before anyone sleeps must not be remembered. */
    mach.wake_all(mach.m);

    static struct sleeper sl;
    memset(&sl, 0, sizeof sl);
    pthread_t t;
    cr_assert(eq(int, pthread_create(&t, NULL, sleeper_main, &sl), 0));
    cr_assert(wait_parked(&sl), "sleeper never parked");
    nap_ms(50);
    cr_assert(eq(int, atomic_load(&sl.returned), 0), "sleep returned without a wake_all");

    mach.wake_all(mach.m);
    cr_assert(wait_flag(&sl.returned), "sleeper not woken by wake_all");
    /* sleep() re-took HM_LOCK_KMAP: we only get it after the sleeper's own unlock. */
    mach.lock(mach.m, HM_LOCK_KMAP);
    cr_assert(eq(int, atomic_load(&sl.released), 1), "sleep returned without HM_LOCK_KMAP");
    mach.unlock(mach.m, HM_LOCK_KMAP);
    cr_assert(wait_flag(&sl.done));
    cr_assert(eq(int, pthread_join(t, NULL), 0));

    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.sleeps, 1));
    cr_assert(eq(u64, st.wakes, 2));
}

static atomic_int woken_count;

static void *multi_sleeper(void *arg)
{
    atomic_int *entered = arg;
    mach.lock(mach.m, HM_LOCK_KMAP);
    atomic_fetch_add(entered, 1);
    mach.sleep(mach.m);
    atomic_fetch_add(&woken_count, 1);
    mach.unlock(mach.m, HM_LOCK_KMAP);
    return NULL;
}

Test(sim, wake_all_wakes_every_sleeper)
{
    enum { N = 4 };
    static atomic_int entered;
    atomic_store(&entered, 0);
    atomic_store(&woken_count, 0);
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        cr_assert(eq(int, pthread_create(&t[i], NULL, multi_sleeper, &entered), 0));
    int parked = 0;
    for (int i = 0; i < 5000 && !parked; i++) {
        mach.lock(mach.m, HM_LOCK_KMAP);
        parked = atomic_load(&entered) == N;
        mach.unlock(mach.m, HM_LOCK_KMAP);
        if (!parked)
            nap_ms(1);
    }
    cr_assert(parked, "sleepers never parked");
    cr_assert(eq(int, atomic_load(&woken_count), 0));
    mach.wake_all(mach.m);
    for (int i = 0; i < 5000 && atomic_load(&woken_count) < N; i++)
        nap_ms(1);
    cr_assert(eq(int, atomic_load(&woken_count), N));
    for (int i = 0; i < N; i++)
        cr_assert(eq(int, pthread_join(t[i], NULL), 0));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.sleeps, N));
    cr_assert(eq(u64, st.wakes, 1));
}

/* Several CPUs hammering loads, stores, remaps and flushes at once: the state stays coherent. */
struct cpu_arg {
    uint32_t cpu;
    int errors;
};

static void *cpu_main(void *arg)
{
    struct cpu_arg *ca = arg;
    hm_vaddr_t va = PKMAP_ADDR(100 + ca->cpu); /* one private slot per CPU */
    for (unsigned i = 0; i < 2000; i++) {
        hm_pfn_t pfn = HIGH_A + ca->cpu * 2 + (i & 1);
        mach.set_pte(mach.m, va, PTE(pfn));
        if (hm_sim_store(sim, ca->cpu, va + (i % 4096), (uint8_t)i) != HM_OK)
            ca->errors++;
        uint8_t v;
        if (hm_sim_load(sim, ca->cpu, va + (i % 4096), &v) != HM_OK || v != (uint8_t)i)
            ca->errors++;
        mach.set_pte(mach.m, va, 0);
        mach.flush_tlb_page(mach.m, ca->cpu, va);
        (void)hm_sim_load(sim, ca->cpu, 0xc0000000u + i, &v);
    }
    return NULL;
}

Test(sim, concurrent_cpus)
{
    pthread_t t[2];
    struct cpu_arg ca[2] = {{0, 0}, {1, 0}};
    for (int i = 0; i < 2; i++)
        cr_assert(eq(int, pthread_create(&t[i], NULL, cpu_main, &ca[i]), 0));
    for (int i = 0; i < 2; i++)
        cr_assert(eq(int, pthread_join(t[i], NULL), 0));
    cr_assert(eq(int, ca[0].errors, 0));
    cr_assert(eq(int, ca[1].errors, 0));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.stale_pte_writes, 0));
    cr_assert(eq(u64, st.pte_sets, 4000));
    cr_assert(eq(u64, st.pte_clears, 4000));
    cr_assert(eq(u64, st.tlb_entries_dropped, 4000));
    assert_no_stale_reports();
}
