/* sparc_test.c - Criterion tests of the sparc32 SRMMU backend: layout (spec §5.1, §7), the PTE
 * over every pfn, cache/TLB flushes around kmap_atomic, the lazy no-debug kunmap_atomic and the
 * BUGs of §5.2; in 5.11 the kmap_local wrapper with sparc's hooks (§10.6), in the generation of
 * the run (HM_TEST_KERNEL) unless a test pins one. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testlib.h"

#define HIGH0 0xc000u /* SRMMU_MAXMEM 192 MiB of lowmem: highmem starts at pfn 0xc000 */
#define PG(n) (HIGH0 + 0x500u + (uint32_t)(n))
#define LOWPFN 0x1234u
#define KM_USER0 3u
#define KM_USER1 4u
#define KM_TYPE_NR 13u
/* kmap_prot = SRMMU_ET_PTE 0x2 | SRMMU_PRIV 0x1c | SRMMU_CACHE 0x80 = 0x9e; the physical page
 * number sits in bits 31..8 */
#define PROT 0x9eu
#define KPTE(pfn) ((((hm_pte_t)(pfn)) << 8) | PROT)

#define PKMAP_BASE 0xfc800000u /* PMD_ALIGN(0xfc000000 + 1280*4K = 0xfc500000) to 4 MiB */
#define FIXADDR_TOP 0xfcfff000u
#define FIX_KMAP_BEGIN 1u

TestSuite(sparc_layout, .fini = tl_fini, .timeout = 60);
TestSuite(sparc_atomic, .fini = tl_fini, .timeout = 60);
TestSuite(sparc_pkmap, .fini = tl_fini, .timeout = 60);

static struct tl *open_sparc(uint32_t last_pkmap, uint32_t cpus, int debug)
{
    return tl_open_arch("sparc", last_pkmap, cpus, debug, 0);
}

/* __fix_to_virt(FIX_KMAP_BEGIN + type + 13*cpu) = 0xfcfff000 - (1 + type + 13*cpu)*4K */
static hm_vaddr_t slot_of(uint32_t cpu, unsigned type)
{
    return FIXADDR_TOP - ((FIX_KMAP_BEGIN + type + KM_TYPE_NR * cpu) << 12);
}

static hm_pte_t kpte(hm_pfn_t pfn)
{
    return KPTE(pfn);
}

static const struct tl_arch_hand hand = {kpte, slot_of, -1, FIXADDR_TOP};

/* 5.11: __fix_to_virt(FIX_KMAP_BEGIN + pos + KM_MAX_IDX * cpu), pos the running task's stack
 * position (kmap_local_calc_idx, mm/highmem.c 5.11): 0xfcfff000 - (1 + pos + 16*cpu)*4K */
static hm_vaddr_t local_slot_of(uint32_t cpu, unsigned pos)
{
    return FIXADDR_TOP - ((FIX_KMAP_BEGIN + pos + KM_MAX_IDX * cpu) << 12);
}

static const struct tl_arch_hand hand_local = {kpte, local_slot_of, -1, FIXADDR_TOP};

/* ---------------------------------------------------------------------------------------
 * Layout.
 * ------------------------------------------------------------------------------------- */
Test(sparc_layout, documented_defaults)
{
    struct tl *t = open_sparc(0, 1, 0);
    const struct hm_layout *l = hm_ctx_layout(t->ctx);
    cr_assert(not(eq(ptr, (void *)l, NULL)));
    cr_assert(eq(str, (char *)hm_arch_name(t->cfg.arch), "sparc"));
    /* SRMMU_NOCACHE_VADDR 0xfc000000 + (1280 << 12 = 0x500000) = 0xfc500000, rounded up to the
     * 4 MiB pagetable boundary: 0xfc800000 */
    cr_assert(eq(u64, l->pkmap_base, 0xfc800000u));
    cr_assert(eq(u32, l->last_pkmap, 1024));
    cr_assert(eq(u64, l->fixaddr_top, FIXADDR_TOP));
    cr_assert(eq(u32, l->fix_kmap_begin, 1));
    cr_assert(eq(u32, l->nr_km_types, 13));
    cr_assert(eq(u32, l->config_nr_cpus, 32));
    if (t->cfg.kernel >= HM_KERNEL_5_11) {
        /* KM_MAX_IDX 16 per CPU: __end_of_fixed_addresses = FIX_HOLE + 16*32 = 513;
         * FIXADDR_START = 0xfcfff000 - 513*4K (0x201000) = 0xfcdfe000 */
        cr_assert(eq(u32, l->km_type_nr, 16));
        cr_assert(eq(u32, l->nr_fixmap, 513));
        cr_assert(eq(u64, l->fixaddr_start, 0xfcdfe000u));
    } else {
        /* __end_of_fixed_addresses = FIX_HOLE + 13*32 = 417;
         * FIXADDR_START = 0xfcfff000 - 417*4K (0x1a1000) = 0xfce5e000 */
        cr_assert(eq(u32, l->km_type_nr, 13));
        cr_assert(eq(u32, l->nr_fixmap, 417));
        cr_assert(eq(u64, l->fixaddr_start, 0xfce5e000u));
    }
    /* PKMAP_END = 0xfc800000 + 1024*4K = 0xfcc00000 lies below the fixmap */
    cr_assert(le(u64, l->pkmap_base + l->last_pkmap * 4096u, 0xfcc00000u));
    cr_assert(le(u64, 0xfcc00000u, l->fixaddr_start));
    /* atomic slot idx 0: __fix_to_virt(1) = 0xfcffe000, descending */
    cr_assert(eq(u64, l->kmap_atomic_base, 0xfcffe000u));
    cr_assert(eq(int, l->kmap_atomic_dir, -1));
    /* memory: KERNBASE 0xf0000000, 192 MiB lowmem (pfn 0xc000), 256 MiB highmem */
    cr_assert(eq(u64, l->page_offset, 0xf0000000u));
    cr_assert(eq(u32, l->highmem_start_pfn, 0xc000u));
    cr_assert(eq(u32, l->max_pfn, 0x1c000u));
    cr_assert(eq(u64, l->high_memory, 0xfc000000u)); /* 0xf0000000 + (0xc000 << 12) */
    cr_assert(eq(u32, l->pte_bytes, 4));
    /* the SRMMU vmalloc area of the arch file */
    cr_assert(eq(u64, l->vmalloc_start, 0xfe600000u));
    cr_assert(eq(u64, l->vmalloc_end, 0xffc00000u));
    /* page tables cover [PKMAP_BASE, FIXADDR_TOP]: (0xfcfff000 - 0xfc800000) / 4K + 1 = 2048 */
    cr_assert(eq(u64, l->pt_start, 0xfc800000u));
    cr_assert(eq(u32, l->pt_pages, 2048));
}

/* NR_CPUS raised to --cpus; debug_highmem adds no fences on sparc before 5.11, while 5.11's
 * DEBUG_KMAP_LOCAL makes KM_MAX_IDX 33 on every arch. */
Test(sparc_layout, nr_cpus_raised_and_no_fences)
{
    struct tl *t = open_sparc(0, 33, 0);
    struct hm_config c = tl_cfg("sparc", 0, 64);
    struct hm_layout l;
    cr_assert(eq(u32, t->layout.config_nr_cpus, 33));
    cr_assert(eq(u64, t->layout.pkmap_base, PKMAP_BASE));
    c.debug_highmem = 1;
    if (t->cfg.kernel >= HM_KERNEL_5_11) {
        /* 1 + 16*33 = 529 -> 0xfcfff000 - 0x211000 = 0xfcdee000 */
        cr_assert(eq(u32, t->layout.nr_fixmap, 529));
        cr_assert(eq(u64, t->layout.fixaddr_start, 0xfcdee000u));
        /* 64 CPUs with debug: 1 + 33*64 = 2113 pages would put FIXADDR_START at 0xfcfff000 -
         * 0x841000 = 0xfc7be000, below PKMAP_BASE 0xfc800000 itself: refused, even with a window
         * of 8 pkmap slots */
        cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
        c.last_pkmap = 8;
        cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
        /* NR_CPUS 32 with debug: 1 + 33*32 = 1057 -> 0xfcfff000 - 0x421000 = 0xfcbde000, below
         * PKMAP_END 0xfcc00000 of the 1024 slots (refused), above that of 8 (0xfc808000) */
        c.nr_cpus = 1;
        cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
        cr_assert(eq(u64, l.fixaddr_start, 0xfcbde000u));
        cr_assert(eq(u32, l.km_type_nr, 33));
        c.last_pkmap = 0;
        cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    } else {
        /* 1 + 13*33 = 430 -> 0xfcfff000 - 0x1ae000 = 0xfce51000 */
        cr_assert(eq(u32, t->layout.nr_fixmap, 430));
        cr_assert(eq(u64, t->layout.fixaddr_start, 0xfce51000u));
        /* 1 + 13*64 = 833 -> 0xfcfff000 - 0x341000 = 0xfccbe000, still above PKMAP_END 0xfcc00000 */
        cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
        cr_assert(eq(u64, l.fixaddr_start, 0xfccbe000u));
        cr_assert(eq(u32, l.km_type_nr, 13)); /* no DEBUG_HIGHMEM fences on sparc */
    }
}

Test(sparc_layout, km_type_names_in_order)
{
    tl_expect_km_type_names(open_sparc(8, 1, 0), 13);
}

/* SRMMU PTE: pfn << 8 | 0x9e for every pfn < 2^24 (36-bit physical addresses). */
Test(sparc_layout, pte_round_trip_every_pfn)
{
    struct tl *t = open_sparc(8, 1, 0);
    tl_assert_pte_every_pfn(t, &hand, 1u << 24, 0);
    /* by hand: pfn 0x12345 -> 0x0123459e; the largest pfn 0xffffff -> 0xffffff9e */
    cr_assert(eq(u64, hm_mk_kmap_pte(t->ctx, 0x12345u), 0x0123459eull));
    cr_assert(eq(u64, hm_mk_kmap_pte(t->ctx, 0xffffffu), 0xffffff9eull));
    cr_assert(eq(u32, hm_pte_pfn(t->ctx, 0xabcdef9eu), 0xabcdefu));
    cr_assert(not(eq(int, hm_pte_none(t->ctx, 0), 0)));
}

/* ---------------------------------------------------------------------------------------
 * Atomic slots and their events.
 * ------------------------------------------------------------------------------------- */
/* 2.6.24: the slot of (cpu, type); 5.11: of the stack position (the 13 nested types take
 * positions 0..12 of each CPU's stack). */
Test(sparc_atomic, slot_addresses_descend_with_type_and_cpu)
{
    struct tl *t = open_sparc(8, 4, 0);
    tl_map_every_atomic_slot(t, tl_arch_hand_of(t, &hand, &hand_local), 4, KM_TYPE_NR, PG(0));
    /* by hand: cpu 0 KM_USER0: 1 + 3 = 4 -> 0xfcfff000 - 0x4000 = 0xfcffb000;
     * cpu 1 KM_USER0: 1 + 3 + 13 = 17 -> 0xfcfff000 - 0x11000 = 0xfcfee000;
     * cpu 31 KM_SOFTIRQ1: 1 + 12 + 403 = 416 -> 0xfcfff000 - 0x1a0000 = 0xfce5f000, one page
     * above FIXADDR_START */
    cr_assert(eq(u64, slot_of(0, KM_USER0), 0xfcffb000u));
    cr_assert(eq(u64, slot_of(1, KM_USER0), 0xfcfee000u));
    cr_assert(eq(u64, slot_of(31, 12), 0xfce5f000u));
    /* 5.11 by hand: cpu 0 position 3: 1 + 3 = 4 -> 0xfcffb000; cpu 1 position 3: 1 + 3 + 16 =
     * 20 -> 0xfcfff000 - 0x14000 = 0xfcfeb000; cpu 31 position 15: 1 + 15 + 496 = 512 ->
     * 0xfcfff000 - 0x200000 = 0xfcdff000, one page above 5.11's FIXADDR_START */
    cr_assert(eq(u64, local_slot_of(0, 3), 0xfcffb000u));
    cr_assert(eq(u64, local_slot_of(1, 3), 0xfcfeb000u));
    cr_assert(eq(u64, local_slot_of(31, 15), 0xfcdff000u));
}

/* The same sequence in 5.11: sparc's kmap_local hooks flush the whole cache before and the whole
 * TLB after the PTE write (docs/generations.md, kmap_local). */
Test(sparc_atomic, map_flushes_cache_sets_pte_flushes_tlb)
{
    struct tl *t = open_sparc(8, 2, 0);
    static const int map_ev[] = {HM_EV_CACHE_FLUSH_ALL, HM_EV_PTE_SET, HM_EV_TLB_FLUSH_ALL};
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(0), KM_USER0, &v), HM_OK));
    /* cpu 1 KM_USER0: 1 + 3 + 13 = 17; 5.11, cpu 1 position 0: 1 + 0 + 16 = 17 as well */
    cr_assert(eq(u64, v, tl_atomic_is_local(t) ? local_slot_of(1, 0) : slot_of(1, KM_USER0)));
    cr_assert(eq(u64, v, 0xfcfee000u));
    tl_assert_ev_kinds(t, 0, map_ev, 3, "kmap_atomic");
    tl_assert_pte_set_ev(t, 1, 0xfcfee000u, PG(0), KPTE(PG(0)));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 1));
    struct hm_sim_stats st = tl_sim_stats(t);
    cr_assert(eq(u64, st.cache_flushes, 1));
    cr_assert(eq(u64, st.tlb_flush_alls, 1));
}

/* Without DEBUG_HIGHMEM kunmap_atomic is pagefault_enable() only: the PTE stays. */
Test(sparc_atomic, unmap_without_debug_leaves_the_pte)
{
    struct hm_config c = tl_cfg("sparc", 8, 1);
    c.kernel = HM_KERNEL_2_6_24; /* sparc's own kunmap_atomic; 5.11's always clears: local_test ppc_and_sparc_hooks */
    struct tl *t = tl_open(&c);
    hm_vaddr_t v = 0;
    tl_mark(t, PG(0), 0x4d);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(not(eq(u64, hm_sim_pte(t->sim, v), 0)));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
    /* the stale mapping still reads the page */
    cr_assert(eq(u8, tl_load(t, 0, v), 0x4d));
    /* the wrong type or any address is accepted too: nothing is checked */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER1, &v), HM_OK));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, 0xfce5e000u, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(sz, t->nbugs, 0));
}

/* With debug: flush_cache_all, pte_clear, flush_tlb_all; 5.11's kunmap_local makes the same three
 * (its pre- and post-unmap hooks). */
Test(sparc_atomic, unmap_with_debug_flushes_clears_flushes)
{
    struct tl *t = open_sparc(8, 1, 1);
    static const int unmap_ev[] = {HM_EV_CACHE_FLUSH_ALL, HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_ALL};
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    /* KM_USER0: 1 + 3 -> 0xfcffb000; 5.11, DEBUG_KMAP_LOCAL position 1: 1 + 1 -> 0xfcffd000 */
    cr_assert(eq(u64, v, tl_atomic_is_local(t) ? 0xfcffd000u : 0xfcffb000u));
    cr_assert(eq(u8, tl_load(t, 0, v), 0));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v + 0x10u, KM_USER0), HM_OK));
    tl_assert_ev_kinds(t, 0, unmap_ev, 3, "debug kunmap_atomic");
    cr_assert(eq(u64, t->ev[1].a, v));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 0, v, NULL), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
}

/* Without debug a nested kmap_atomic is no BUG: 2.6.24 overwrites the PTE of the type's slot and
 * flushes the TLB; 5.11 pushes the nested mapping to the next position (one page down), with the
 * same flushes. */
Test(sparc_atomic, nested_without_debug_overwrites_or_pushes)
{
    struct tl *t = open_sparc(8, 1, 0);
    static const int map_ev[] = {HM_EV_CACHE_FLUSH_ALL, HM_EV_PTE_SET, HM_EV_TLB_FLUSH_ALL};
    hm_vaddr_t v = 0, v2 = 0;
    tl_mark(t, PG(0), 0x0a);
    tl_mark(t, PG(1), 0x0b);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(u8, tl_load(t, 0, v), 0x0a)); /* cached */
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &v2), HM_OK));
    tl_assert_ev_kinds(t, 0, map_ev, 3, "nested kmap_atomic");
    tl_assert_pte_set_ev(t, 1, v2, PG(1), KPTE(PG(1)));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 2));
    if (tl_atomic_is_local(t)) {
        cr_assert(eq(u64, v, local_slot_of(0, 0)));
        cr_assert(eq(u64, v2, local_slot_of(0, 1)));
        cr_assert(eq(u64, v2, v - 4096u));
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
        cr_assert(eq(u8, tl_load(t, 0, v), 0x0a)); /* the first mapping stays */
        cr_assert(eq(u8, tl_load(t, 0, v2), 0x0b));
    } else {
        cr_assert(eq(u64, v2, v));
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(1))));
        cr_assert(eq(u8, tl_load(t, 0, v), 0x0b)); /* flush_tlb_all dropped the old entry */
    }
    cr_assert(eq(u64, tl_sim_stats(t).stale_tlb_hits, 0));
    cr_assert(eq(sz, t->nbugs, 0));
}

/* 2.6.24, with debug: a nested kmap_atomic of the same type finds its slot busy. The kernel's
 * flush_cache_all() comes before that check (§5.2 steps 3-4), so the cache flush is the one event
 * besides the BUG; nothing else moves: no PTE write, no TLB flush, no pagefault-depth change.
 * 5.11: the nesting is pushed to the next odd position (DEBUG_KMAP_LOCAL), with the map flushes;
 * a busy slot is found only where something else mapped the position, and that BUG_ON(!pte_none)
 * of __kmap_local_pfn_prot comes before arch_kmap_local_pre_map's flush_cache_all: the BUG is
 * the one event. */
Test(sparc_atomic, nested_with_debug_is_busy_or_pushed)
{
    struct tl *t = open_sparc(8, 1, 1);
    static const int want[] = {HM_EV_CACHE_FLUSH_ALL, HM_EV_BUG};
    static const int want_local[] = {HM_EV_BUG};
    static const int map_ev[] = {HM_EV_CACHE_FLUSH_ALL, HM_EV_PTE_SET, HM_EV_TLB_FLUSH_ALL};
    hm_vaddr_t v = 0, v2 = 0x42u, busy;
    struct tl_snap s;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        /* positions 1 and 3: 0xfcfff000 - 2*4K = 0xfcffd000 and - 4*4K = 0xfcffb000 */
        cr_assert(eq(u64, v, 0xfcffd000u));
        size_t from = t->nev;
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &v2), HM_OK));
        cr_assert(eq(u64, v2, 0xfcffb000u));
        tl_assert_ev_kinds(t, from, map_ev, 3, "nested debug kmap_atomic");
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 2));
        /* position 5 (0xfcff9000) mapped behind the library's back */
        busy = local_slot_of(0, tl_local_pos(1, 2));
        cr_assert(eq(u64, busy, 0xfcff9000u));
        cr_assert(eq(int, t->sim_machine.set_pte(t->sim_machine.m, busy, KPTE(PG(9))), HM_OK));
        v2 = 0x42u;
        tl_snap_take(t, &s);
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(2), KM_USER0, &v2), HM_EBUSY));
        tl_assert_last_bug(t, HM_BUG_LOCAL_BUSY, HM_EBUSY, "__kmap_local_pfn_prot");
        tl_assert_ev_kinds(t, s.nev, want_local, 1, "kmap_atomic into a busy position");
    } else {
        busy = 0xfcffb000u; /* KM_USER0's slot: 1 + 3 */
        cr_assert(eq(u64, v, busy));
        tl_snap_take(t, &s);
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &v2), HM_EBUSY));
        tl_assert_last_bug(t, HM_BUG_ATOMIC_BUSY, HM_EBUSY, "kmap_atomic");
        tl_assert_ev_kinds(t, s.nev, want, 2, "nested debug kmap_atomic");
    }
    cr_assert(eq(u64, tl_last_bug(t)->arg, busy));
    s.nev = t->nev; /* those events are accounted for: the rest of the state must be unchanged */
    tl_snap_assert_same(t, &s, "busy debug kmap_atomic");
    cr_assert(eq(u64, v2, 0x42u));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), tl_atomic_is_local(t) ? 2 : 1));
}

/* 2.6.24 with debug: a fixmap address that is not the (cpu, type) slot BUGs. 5.11 (the type
 * ignored): a kmap slot that is not this CPU's top is LOCAL_NOT_TOP, an address below
 * PAGE_OFFSET LOCAL_BAD_ADDR; nothing changed. */
Test(sparc_atomic, debug_unmap_of_wrong_fixmap_address)
{
    struct tl *t = open_sparc(8, 2, 1);
    hm_vaddr_t v = 0, lv = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        /* position 1: 0xfcffd000; its guard, position 0, one page above */
        cr_assert(eq(u64, v, 0xfcffd000u));
        tl_assert_kunmap_atomic_refused(t, 0, v + 0x1000u, KM_USER0, HM_BUG_LOCAL_NOT_TOP,
                                        "kunmap_local_indexed", "guard kunmap_atomic");
        hm_vaddr_t w = 0;
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(1), KM_USER0, &w), HM_OK));
        tl_assert_kunmap_atomic_refused(t, 1, v, KM_USER0, HM_BUG_LOCAL_NOT_TOP, "kunmap_local_indexed",
                                        "cpu 0's slot on cpu 1");
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, w, KM_USER0), HM_OK));
        /* the nocache pool lies above PAGE_OFFSET; user space below it */
        tl_assert_kunmap_atomic_refused(t, 0, 0x00400000u, KM_USER0, HM_BUG_LOCAL_BAD_ADDR,
                                        "kunmap_local_indexed", "user-space kunmap_atomic");
    } else {
        /* wrong type: KM_USER1's slot is 0xfcffa000 */
        tl_assert_kunmap_atomic_bug(t, 0, v, KM_USER1, HM_BUG_ATOMIC_BAD_ADDR, "wrong-type kunmap_atomic");
        /* FIXADDR_START itself is >= FIXADDR_START and no slot */
        tl_assert_kunmap_atomic_bug(t, 0, 0xfce5e000u, KM_USER0, HM_BUG_ATOMIC_BAD_ADDR,
                                    "FIXADDR_START kunmap_atomic");
    }
    /* below FIXADDR_START (lowmem, pkmap): pagefault_enable only */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, LOWPFN, KM_USER1, &lv), HM_OK));
    cr_assert(eq(u64, lv, 0xf1234000u));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, lv, KM_USER1), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
}

Test(sparc_atomic, unbalanced_unmap_with_and_without_debug)
{
    for (int debug = 0; debug <= 1; debug++)
        tl_assert_kunmap_atomic_bug(open_sparc(8, 2, debug), 1, slot_of(1, KM_USER0), KM_USER0,
                                    HM_BUG_ATOMIC_UNBALANCED,
                                    debug ? "unbalanced kunmap_atomic, debug" : "unbalanced kunmap_atomic");
}

/* ---------------------------------------------------------------------------------------
 * kmap_atomic_to_page (§5.2): virt_to_page / nocache pool / BUG for pkmap / fixmap PTE.
 * ------------------------------------------------------------------------------------- */
Test(sparc_atomic, kmap_atomic_to_page_regions)
{
    struct tl *t = open_sparc(0, 1, 0);
    hm_pfn_t pfn = 0;
    hm_vaddr_t av = 0, pv = tl_kmap(t, PG(6));
    cr_assert(eq(u64, pv, 0xfc801000u)); /* PKMAP_ADDR(1) */
    /* a pkmap address BUGs */
    struct tl_snap s;
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, pv, &pfn), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_VIRT_TO_FIX, HM_EINVAL, NULL);
    tl_snap_assert_same(t, &s, "kmap_atomic_to_page(pkmap)");
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, PKMAP_BASE, &pfn), HM_EINVAL));
    /* between PKMAP_END (0xfcc00000) and FIXADDR_START too */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xfcc00000u, &pfn), HM_EINVAL));
    /* ... while kmap_to_page finds the page */
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, pv, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(6)));
    /* the nocache pool [0xfc000000, PKMAP_BASE): __nocache_pa = 0x00400000 + (v - 0xfc000000) */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xfc000000u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x400u)); /* 0x400000 >> 12 */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xfc123456u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x523u)); /* (0x400000 + 0x123456) >> 12 = 0x523456 >> 12 */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xfc7fffffu, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0xbffu)); /* (0x400000 + 0x7fffff) >> 12 = 0xbfffff >> 12 */
    /* the direct map: virt_to_page, (0xf1234567 - 0xf0000000) >> 12 = 0x1234 */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xf1234567u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x1234u));
    /* an atomic slot: 0xfcfff000 - 5*4K (KM_USER1); 5.11, position 0: 0xfcfff000 - 1*4K */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(7), KM_USER1, &av), HM_OK));
    cr_assert(eq(u64, av, tl_atomic_is_local(t) ? 0xfcffe000u : 0xfcffa000u));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, av + 0xfffu, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(7)));
    /* == FIXADDR_TOP: virt_to_fix BUGs; > FIXADDR_TOP: BUG_ON(vaddr > FIXADDR_TOP) */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, FIXADDR_TOP, &pfn), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_VIRT_TO_FIX, HM_EINVAL, NULL);
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, FIXADDR_TOP + 1u, &pfn), HM_EINVAL));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xfd000000u, &pfn), HM_EINVAL));
}

/* ---------------------------------------------------------------------------------------
 * pkmap on sparc: kmap BUGs in interrupt context, flush_cache_kmaps = flush_cache_all.
 * ------------------------------------------------------------------------------------- */
Test(sparc_pkmap, kmap_in_interrupt_bugs)
{
    struct tl *t = open_sparc(8, 1, 0);
    hm_vaddr_t v = 0x1u;
    struct tl_snap s;
    hm_sim_set_in_interrupt(t->sim, 1);
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kmap(t->ctx, PG(0), &v), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_IN_INTERRUPT, HM_EINVAL, "kmap");
    /* BUG_ON(in_interrupt()) comes before the lowmem test, and kmap_try is no exception */
    cr_assert(eq(int, hm_kmap(t->ctx, LOWPFN, &v), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_IN_INTERRUPT, HM_EINVAL, "kmap");
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(0), &v), HM_EINVAL));
    tl_snap_assert_same(t, &s, "kmap in interrupt");
    cr_assert(eq(u64, v, 0x1u));
    cr_assert(eq(u64, tl_page_address(t, PG(0)), 0));
    hm_sim_set_in_interrupt(t->sim, 0);
    cr_assert(eq(u64, tl_kmap(t, PG(0)), 0xfc801000u));
    cr_assert(eq(u64, tl_kmap(t, LOWPFN), 0xf1234000u));
}

Test(sparc_pkmap, kunmap_in_interrupt_bugs)
{
    struct tl *t = open_sparc(8, 1, 0);
    tl_kmap(t, PG(0));
    hm_sim_set_in_interrupt(t->sim, 1);
    tl_assert_kunmap_in_interrupt_bugs(t, PG(0), 1);
}

/* flush_cache_kmaps (flush_cache_all) first, in every generation; the TLB flush after the loop
 * always in 2.6.24, only when a slot was freed from 2.6.30 on (need_flush, S19). */
Test(sparc_pkmap, flush_all_zero_pkmaps_starts_with_cache_flush)
{
    struct tl *t = open_sparc(4, 1, 0);
    static const int unused_ev[] = {HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_EV_CACHE_FLUSH_ALL,
                                    HM_EV_PTE_CLEAR, HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_RANGE,
                                    HM_EV_FLUSH_DONE};
    static const int empty_ev[] = {HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_EV_CACHE_FLUSH_ALL,
                                   HM_EV_TLB_FLUSH_RANGE, HM_EV_FLUSH_DONE};
    static const int empty_need_flush_ev[] = {HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_EV_CACHE_FLUSH_ALL,
                                              HM_EV_FLUSH_DONE};
    tl_kmap(t, PG(0)); /* slot 1 */
    tl_kmap(t, PG(1)); /* slot 2 */
    tl_kmap(t, PG(2)); /* slot 3, held */
    tl_kunmap(t, PG(0));
    tl_kunmap(t, PG(1));
    tl_assert_flush_unused_events(t, unused_ev, 6, "kmap_flush_unused");
    cr_assert(eq(u64, t->ev[2].a, 0xfc801000u));
    cr_assert(eq(u64, t->ev[3].a, 0xfc802000u));
    /* [PKMAP_ADDR(0), PKMAP_ADDR(4)) = [0xfc800000, 0xfc804000) */
    cr_assert(eq(u64, t->ev[4].a, 0xfc800000u));
    cr_assert(eq(u64, t->ev[4].b, 0xfc804000u));
    cr_assert(eq(u64, t->ev[5].a, 2));
    /* nothing to free: the cache flush still comes first; from 2.6.30 on no TLB flush */
    if (tl_flush_only_when_freed(t))
        tl_assert_flush_unused_events(t, empty_need_flush_ev, 3, "empty kmap_flush_unused, need_flush");
    else
        tl_assert_flush_unused_events(t, empty_ev, 4, "empty kmap_flush_unused");
    tl_assert_invariants(t, "flush");
}

Test(sparc_layout, window_must_end_below_the_fixmap)
{
    struct hm_config c = tl_cfg("sparc", 2048, 1);
    struct hm_layout l;
    /* 0xfc800000 + 2048*4K = 0xfd000000 > FIXADDR_START 0xfce5e000 */
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    c.last_pkmap = 1024;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    /* 36-bit physical addresses: max_pfn up to 2^24 */
    tl_assert_max_pfn_limit(&c, HIGH0, 0x1000000u);
}

Test(sparc_atomic, prot_pfn_and_lowmem_shortcut)
{
    struct tl *t = open_sparc(8, 1, 1);
    hm_vaddr_t v = 0;
    /* kmap_atomic_prot: ET_PTE | PRIV without CACHE = 0x1e */
    cr_assert(eq(int, hm_kmap_atomic_prot(t->ctx, 0, PG(2), KM_USER1, 0x1eu, &v), HM_OK));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), ((hm_pte_t)PG(2) << 8) | 0x1eu));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER1), HM_OK));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, LOWPFN, KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        /* 5.11's kmap_atomic_pfn is __kmap_local_pfn_prot: the lowmem pfn is mapped at position 1
         * (DEBUG_KMAP_LOCAL), 0xfcfff000 - 2*4K, between sparc's flushes */
        static const int map_ev[] = {HM_EV_CACHE_FLUSH_ALL, HM_EV_PTE_SET, HM_EV_TLB_FLUSH_ALL};
        cr_assert(eq(u64, v, 0xfcffd000u));
        tl_assert_ev_kinds(t, 0, map_ev, 3, "kmap_atomic_pfn of a lowmem pfn");
        tl_assert_pte_set_ev(t, 1, v, LOWPFN, KPTE(LOWPFN));
        tl_ev_clear(t);
    } else {
        /* no kmap_atomic_pfn in the sparc header: kmap_atomic(pfn_to_page()), lowmem shortcut */
        cr_assert(eq(u64, v, 0xf1234000u));
        cr_assert(eq(sz, t->nev, 0));
    }
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    /* with debug, a pkmap address is below FIXADDR_START too: pagefault_enable only (5.11: an
     * address outside the kmap fixmap above PAGE_OFFSET, no kmap_high_get on sparc: nothing is
     * popped, the position stays mapped) */
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, PKMAP_BASE + 0x1000u, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(sz, t->nev, 0));
    if (tl_atomic_is_local(t)) {
        cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 2));
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(LOWPFN)));
    }
}
