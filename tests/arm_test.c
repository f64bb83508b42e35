/* arm_test.c - Criterion tests of the 32-bit ARM backend (arm: VIVT cache, arm-vipt: VIPT): the
 * layout figures of arch/arm (PKMAP_BASE = PAGE_OFFSET - PMD_SIZE, the upward fixmap), the Linux
 * PTE, kmap_atomic / kunmap_atomic with and without DEBUG_HIGHMEM, kmap_atomic pinning a kmapped
 * page through kmap_high_get (2.6.30) and kunmap_atomic unpinning it, a refused set_pte, the
 * BUGs; in 5.11 the kmap_local wrapper with ARM's hooks. Each test runs in the generation of the
 * run (HM_TEST_KERNEL) unless it pins the one it is about. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testlib.h"

#define HIGH0 0x37000u /* 880 MiB of lowmem: VMALLOC_END 0xff000000 - 128 MiB - PAGE_OFFSET */
#define PG(n) (HIGH0 + 0x300u + (uint32_t)(n))
#define LOWPFN 0x1234u
#define KM_USER0 3u
#define KM_USER1 4u
#define KM_IRQ0 9u
#define KM_TYPE_NR 14u /* the 13 common types and KM_L2_CACHE */
/* PAGE_KERNEL = L_PTE_PRESENT 0x1 | YOUNG 0x2 | MT_WRITEBACK 0xc | DIRTY 0x40 | WRITE 0x80 |
 * EXEC 0x200 = 0x2cf; the frame in bits 31..12 */
#define PROT 0x2cfu
#define KPTE(pfn) ((((hm_pte_t)(pfn)) << 12) | PROT)

#define PAGE_OFFSET 0xc0000000u
#define PKMAP_BASE 0xbfe00000u /* PAGE_OFFSET - PMD_SIZE (2 MiB) */
#define FIXADDR_START 0xfff00000u
#define FIXADDR_TOP 0xfffe0000u
/* open_arm's kernel for a test that holds in every generation: tl_cfg's, the run's */
#define RUN_KERNEL (-1)

TestSuite(arm_layout, .fini = tl_fini, .timeout = 60);
TestSuite(arm_atomic, .fini = tl_fini, .timeout = 60);
TestSuite(arm_high_get, .fini = tl_fini, .timeout = 60);

static struct tl *open_arm(const char *arch, uint32_t last_pkmap, uint32_t cpus, int debug, int kernel)
{
    struct hm_config c = tl_cfg(arch, last_pkmap, cpus);
    c.debug_highmem = debug;
    if (kernel != RUN_KERNEL)
        c.kernel = kernel; /* pinned: the caller says why */
    return tl_open(&c);
}

/* __fix_to_virt(FIX_KMAP_BEGIN + type + 14*cpu) = 0xfff00000 + (type + 14*cpu)*4K */
static hm_vaddr_t slot_of(uint32_t cpu, unsigned type)
{
    return FIXADDR_START + ((type + KM_TYPE_NR * cpu) << 12);
}

static hm_pte_t kpte(hm_pfn_t pfn)
{
    return KPTE(pfn);
}

static const struct tl_arch_hand hand = {kpte, slot_of, +1, FIXADDR_START - 1u};

/* 5.11: __fix_to_virt(FIX_KMAP_BEGIN + pos + KM_MAX_IDX * cpu) = 0xfff00000 + (pos +
 * KM_MAX_IDX*cpu)*4K, pos the running task's stack position (kmap_local_calc_idx, mm/highmem.c
 * 5.11) */
static hm_vaddr_t local_slot(uint32_t km_max_idx, uint32_t cpu, uint32_t pos)
{
    return FIXADDR_START + ((pos + km_max_idx * cpu) << 12);
}

static hm_vaddr_t local_slot_of(uint32_t cpu, unsigned pos)
{
    return local_slot(KM_MAX_IDX, cpu, pos);
}

static const struct tl_arch_hand hand_local = {kpte, local_slot_of, +1, FIXADDR_START - 1u};

/* ---------------------------------------------------------------------------------------
 * Layout.
 * ------------------------------------------------------------------------------------- */
Test(arm_layout, documented_defaults)
{
    static const char *const arches[] = {"arm", "arm-vipt"};
    for (size_t i = 0; i < 2; i++) {
        struct tl *t = open_arm(arches[i], 0, 1, 0, RUN_KERNEL);
        const struct hm_layout *l = &t->layout;
        cr_assert(eq(str, (char *)hm_arch_name(t->cfg.arch), (char *)arches[i]));
        cr_assert(eq(u64, l->page_offset, PAGE_OFFSET));
        /* PKMAP_BASE = PAGE_OFFSET - PMD_SIZE, LAST_PKMAP = PTRS_PER_PTE: the window ends at
         * PAGE_OFFSET exactly */
        cr_assert(eq(u64, l->pkmap_base, 0xbfe00000u));
        cr_assert(eq(u32, l->last_pkmap, 512));
        cr_assert(eq(u64, l->pkmap_base + l->last_pkmap * 4096u, PAGE_OFFSET));
        /* the fixmap [0xfff00000, 0xfffe0000): 224 pages, the slots upward from its start */
        cr_assert(eq(u64, l->fixaddr_start, FIXADDR_START));
        cr_assert(eq(u64, l->fixaddr_top, FIXADDR_TOP));
        cr_assert(eq(u32, l->nr_fixmap, 224));
        cr_assert(eq(u32, l->fix_kmap_begin, 0));
        cr_assert(eq(u64, l->kmap_atomic_base, FIXADDR_START));
        cr_assert(eq(int, l->kmap_atomic_dir, 1));
        /* the kmap slots per CPU: KM_TYPE_NR, 5.11 KM_MAX_IDX */
        cr_assert(eq(u32, l->km_type_nr, t->cfg.kernel >= HM_KERNEL_5_11 ? KM_MAX_IDX : KM_TYPE_NR));
        cr_assert(eq(u32, l->nr_km_types, KM_TYPE_NR));
        cr_assert(eq(u32, l->config_nr_cpus, 4));
        /* 880 MiB of lowmem, 256 MiB of highmem */
        cr_assert(eq(u32, l->highmem_start_pfn, 0x37000u));
        cr_assert(eq(u32, l->max_pfn, 0x47000u));
        cr_assert(eq(u64, l->high_memory, 0xf7000000u));
        /* VMALLOC_START = (high_memory + 8 MiB) & ~(8 MiB - 1), VMALLOC_END 0xff000000 */
        cr_assert(eq(u64, l->vmalloc_start, 0xf7800000u));
        cr_assert(eq(u64, l->vmalloc_end, 0xff000000u));
        /* one page-table window [PKMAP_BASE, FIXADDR_TOP): (0xfffe0000 - 0xbfe00000) / 4K */
        cr_assert(eq(u64, l->pt_start, PKMAP_BASE));
        cr_assert(eq(u32, l->pt_pages, 0x401e0u));
        cr_assert(eq(u32, l->pte_bytes, 4));
        /* mem_map[] 8 MiB into lowmem, 32-byte struct page: what hash_ptr hashes */
        cr_assert(eq(u64, l->mem_map, 0xc0800000u));
        cr_assert(eq(u32, l->struct_page_size, 32));
        tl_close(t);
    }
}

Test(arm_layout, window_cpus_and_memory_limits)
{
    struct hm_config c = tl_cfg("arm", 1024, 1);
    struct hm_layout l;
    /* one PTE page: 1024 slots would run past PAGE_OFFSET into the direct map */
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    c.last_pkmap = 512;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    /* KM_TYPE_NR * NR_CPUS slots in 224 fixmap pages: 14 * 16 = 224 fit, 17 CPUs do not; 5.11's
     * KM_MAX_IDX * NR_CPUS: 16 * 14 = 224 fit, 15 CPUs do not */
    uint32_t most = c.kernel >= HM_KERNEL_5_11 ? 14u : 16u;
    c.nr_cpus = most;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.config_nr_cpus, most));
    c.nr_cpus = most + 1u;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    /* 32-bit physical addresses: max_pfn up to 2^20 */
    c.nr_cpus = 1;
    tl_assert_max_pfn_limit(&c, HIGH0, 0x100000u);
}

Test(arm_layout, km_type_names_in_order)
{
    struct tl *t = open_arm("arm", 8, 1, 0, RUN_KERNEL);
    tl_expect_km_type_names(t, 13);
    cr_assert(eq(str, (char *)t->layout.km_types[13], "KM_L2_CACHE"));
}

Test(arm_layout, pte_round_trip_every_pfn)
{
    struct tl *t = open_arm("arm", 8, 1, 0, RUN_KERNEL);
    tl_assert_pte_every_pfn(t, &hand, 1u << 20, 0);
    /* by hand: pfn 0x12345 -> 0x123452cf; prot bits above the flags are dropped */
    cr_assert(eq(u64, hm_mk_kmap_pte(t->ctx, 0x12345u), 0x123452cfull));
    cr_assert(eq(u32, hm_pte_pfn(t->ctx, 0xabcde2cfu), 0xabcdeu));
    cr_assert(not(eq(int, hm_pte_none(t->ctx, 0), 0)));
}

/* ---------------------------------------------------------------------------------------
 * kmap_atomic / kunmap_atomic: the dedicated slots.
 * ------------------------------------------------------------------------------------- */
/* 2.6.24 and 2.6.30 (none of the pages is kmapped: no kmap_high_get pin): the slot of (cpu,
 * type); 5.11: of the stack position (the 14 nested types take positions 0..13 of each CPU's
 * stack). */
Test(arm_atomic, slot_addresses_ascend_with_type_and_cpu)
{
    struct tl *t = open_arm("arm", 8, 4, 0, RUN_KERNEL);
    tl_map_every_atomic_slot(t, tl_arch_hand_of(t, &hand, &hand_local), 4, KM_TYPE_NR, PG(0));
    /* by hand: cpu 0 KM_USER0 at 0xfff03000; cpu 1 KM_USER0: 3 + 14 = 17 -> 0xfff11000;
     * cpu 3 KM_L2_CACHE: 13 + 42 = 55 -> 0xfff37000 */
    cr_assert(eq(u64, slot_of(0, KM_USER0), 0xfff03000u));
    cr_assert(eq(u64, slot_of(1, KM_USER0), 0xfff11000u));
    cr_assert(eq(u64, slot_of(3, 13), 0xfff37000u));
    /* 5.11 by hand: cpu 1 position 3: 3 + 16 = 19 -> 0xfff13000; cpu 3 position 13: 13 + 48 =
     * 61 -> 0xfff3d000 */
    cr_assert(eq(u64, local_slot_of(1, 3), 0xfff13000u));
    cr_assert(eq(u64, local_slot_of(3, 13), 0xfff3d000u));
}

/* Map: set the PTE, then flush this CPU's TLB entry (the previous mapping may still be cached);
 * the same in 5.11 (arch_kmap_local_post_map: local_flush_tlb_kernel_page). Unmap without
 * DEBUG_HIGHMEM: the PTE stays, no flush; 5.11's kunmap_local always clears it and flushes this
 * CPU's entry (post_unmap). On a VIVT cache the page's dcache is flushed first in both. */
Test(arm_atomic, map_sets_and_flushes_locally_then_unmap)
{
    struct tl *t = open_arm("arm", 8, 2, 0, RUN_KERNEL);
    static const int map_ev[] = {HM_EV_PTE_SET, HM_EV_TLB_FLUSH_PAGE};
    int local = tl_atomic_is_local(t);
    hm_vaddr_t v = 0, v2 = 0;
    tl_mark(t, PG(0), 0x0a);
    tl_mark(t, PG(1), 0x0b);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(0), KM_USER0, &v), HM_OK));
    /* cpu 1 KM_USER0: 3 + 14 = 17 -> 0xfff11000; 5.11, cpu 1 position 0: 16 -> 0xfff10000 */
    cr_assert(eq(u64, v, local ? 0xfff10000u : 0xfff11000u));
    tl_assert_ev_kinds(t, 0, map_ev, 2, "kmap_atomic");
    tl_assert_pte_set_ev(t, 0, v, PG(0), KPTE(PG(0)));
    cr_assert(eq(u32, t->ev[1].cpu, 1));
    cr_assert(eq(u64, t->ev[1].a, v));
    cr_assert(eq(u8, tl_load(t, 1, v), 0x0a));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v, KM_USER0), HM_OK));
    /* VIVT: the page's dcache is flushed (on this CPU) before the unmap */
    cr_assert(eq(int, t->ev[0].kind, HM_EV_CACHE_FLUSH_PAGE));
    cr_assert(eq(u32, t->ev[0].cpu, 1));
    cr_assert(eq(u64, t->ev[0].a, v));
    if (local) {
        tl_assert_clear_flush_page_ev(t, 1, v, 1, "5.11 kunmap_atomic");
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
    } else {
        cr_assert(eq(sz, t->nev, 1)); /* nothing else */
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
    }
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
    /* the next map of the slot overwrites the PTE and drops the cached entry: no stale read */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(1), KM_USER0, &v2), HM_OK));
    cr_assert(eq(u64, v2, v));
    cr_assert(eq(u8, tl_load(t, 1, v), 0x0b));
    cr_assert(eq(u64, tl_sim_stats(t).stale_tlb_hits, 0));
    cr_assert(eq(sz, t->nbugs, 0));
    cr_assert(eq(u64, tl_sim_stats(t).cache_flushes, 0));
}

/* The same sequence in 5.11 (pre_unmap's dcache flush on VIVT, clear, post_unmap's local TLB
 * flush), at the DEBUG_KMAP_LOCAL position 1. */
Test(arm_atomic, debug_unmap_clears_and_flushes_locally)
{
    struct tl *t = open_arm("arm", 8, 2, 1, RUN_KERNEL);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(0), KM_USER1, &v), HM_OK));
    /* KM_USER1 on cpu 1: 4 + 14 = 18 -> 0xfff12000; 5.11, DEBUG_KMAP_LOCAL: position 1 + 33 = 34
     * -> 0xfff22000 */
    cr_assert(eq(u64, v, tl_atomic_is_local(t) ? 0xfff22000u : 0xfff12000u));
    cr_assert(eq(u64, v, tl_atomic_is_local(t) ? local_slot(KM_MAX_IDX_DEBUG, 1, tl_local_pos(1, 0))
                                               : slot_of(1, KM_USER1)));
    cr_assert(eq(u8, tl_load(t, 1, v), 0));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v + 0x123u, KM_USER1), HM_OK));
    cr_assert(eq(int, t->ev[0].kind, HM_EV_CACHE_FLUSH_PAGE), "VIVT: the page's dcache first");
    cr_assert(eq(u64, t->ev[0].a, v));
    tl_assert_clear_flush_page_ev(t, 1, v, 1, "debug kunmap_atomic");
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 1, v, NULL), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
}

/* arm-vipt: no alias to flush, so kunmap_atomic flushes no cache: without DEBUG_HIGHMEM it makes
 * no event at all; 5.11's clears and flushes this CPU's TLB entry (no pre_unmap on VIPT). */
Test(arm_atomic, vipt_unmap_flushes_no_cache)
{
    struct tl *t = open_arm("arm-vipt", 8, 2, 0, RUN_KERNEL);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(0), KM_USER0, &v), HM_OK));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v, KM_USER0), HM_OK));
    if (tl_atomic_is_local(t))
        tl_assert_clear_flush_page_ev(t, 0, v, 1, "5.11 kunmap_atomic");
    else
        cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_CACHE_FLUSH_PAGE), 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_CACHE_FLUSH_ALL), 0));
}

Test(arm_atomic, debug_bugs_busy_wrong_slot_unbalanced)
{
    /* ARM's DEBUG_HIGHMEM checks of the type's slot; 5.11's wrapper: slot_addresses_ascend_with_type_and_cpu, map_sets_and_flushes_locally_then_unmap */
    struct tl *t = open_arm("arm", 8, 2, 1, HM_KERNEL_2_6_24);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    tl_assert_kmap_atomic_busy(t, 0, PG(1), KM_USER0, "kmap_atomic", "nested debug kmap_atomic");
    tl_assert_kunmap_atomic_bug(t, 0, v, KM_USER1, HM_BUG_ATOMIC_BAD_ADDR, "wrong-type kunmap_atomic");
    /* above FIXADDR_TOP is still >= FIXADDR_START: the slot check BUGs */
    tl_assert_kunmap_atomic_bug(t, 0, 0xffff0000u, KM_USER0, HM_BUG_ATOMIC_BAD_ADDR, "vectors kunmap_atomic");
    tl_assert_kunmap_atomic_bug(t, 1, slot_of(1, KM_USER0), KM_USER0, HM_BUG_ATOMIC_UNBALANCED,
                                "unbalanced kunmap_atomic");
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
}

/* Without debug nothing is checked: a nested map overwrites, a wrong unmap is accepted. */
Test(arm_atomic, no_debug_checks_nothing)
{
    /* the unchecked type slots of the 2.6 fronts; 5.11 pushes and checks: local_test out_of_order_unmap_is_refused */
    struct tl *t = open_arm("arm", 8, 1, 0, HM_KERNEL_2_6_24);
    hm_vaddr_t v = 0, v2 = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &v2), HM_OK));
    cr_assert(eq(u64, v2, v));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(1))));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, 0xffff0000u, KM_USER1), HM_OK));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(sz, t->nbugs, 0));
}

/* A refused set_pte: HM_EMACHINE, no TLB flush, the PTE and the depth as they were; a refused
 * clear (where kunmap_atomic clears: with debug, and always in 5.11): still mapped, pagefaults
 * still disabled, the call may be repeated. */
Test(arm_atomic, refused_set_pte_and_clear)
{
    for (int debug = 0; debug <= 1; debug++) {
        struct tl *t = open_arm("arm-vipt", 8, 1, debug, RUN_KERNEL);
        static const int want[] = {HM_EV_PTE_SET, HM_EV_MACHINE_FAIL};
        hm_vaddr_t v = 0x5au;
        struct tl_snap s;
        tl_snap_take(t, &s);
        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_EMACHINE));
        tl_assert_ev_kinds(t, s.nev, want, 2, "refused kmap_atomic");
        s.nev = t->nev;
        tl_snap_assert_same(t, &s, "refused kmap_atomic");
        cr_assert(eq(u64, v, 0x5au));
        cr_assert(eq(sz, t->nbugs, 0));
        /* kmap_atomic_pfn takes the same path */
        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
        cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, PG(0), KM_USER0, &v), HM_EMACHINE));
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
        if (debug || tl_atomic_is_local(t)) {
            hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_CLEAR);
            cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_EMACHINE));
            cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
            cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
        }
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
        tl_assert_invariants(t, "refused writes");
        tl_close(t);
    }
}

/* kmap_atomic_to_page: virt_to_page below FIXADDR_START (a pkmap address lies below PAGE_OFFSET:
 * no page), the slot's PTE in the fixmap, nothing above FIXADDR_TOP. */
Test(arm_atomic, kmap_atomic_to_page_regions)
{
    struct tl *t = open_arm("arm", 8, 1, 0, RUN_KERNEL);
    hm_pfn_t pfn = 0;
    hm_vaddr_t av = 0, pv = tl_kmap(t, PG(6));
    cr_assert(eq(u64, pv, PKMAP_BASE + 0x1000u));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, pv, &pfn), HM_ERANGE));
    tl_assert_last_bug(t, HM_BUG_BAD_ADDR, HM_ERANGE, NULL);
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, pv, &pfn), HM_OK)); /* kmap_to_page finds it */
    cr_assert(eq(u32, pfn, PG(6)));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xc1234567u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x1234u));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(7), KM_USER1, &av), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, av + 0xfffu, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(7)));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, FIXADDR_TOP, &pfn), HM_ERANGE));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xffff0000u, &pfn), HM_ERANGE));
}

/* ---------------------------------------------------------------------------------------
 * kmap_high_get in the arm fronts (2.6.30 on).
 * ------------------------------------------------------------------------------------- */
/* A page kmapped already: kmap_atomic pins it at its pkmap address (no PTE write, no flush) and
 * kunmap_atomic hands that address to kunmap_high. */
Test(arm_high_get, kmap_atomic_reuses_the_pkmap_address)
{
    static const char *const arches[] = {"arm", "arm-vipt"};
    for (size_t i = 0; i < 2; i++) {
        /* the 2.6.30 fronts; 5.11's arch_kmap_local_high_get (VIVT only): local_test high_get_first_and_kunmap_high */
        struct tl *t = open_arm(arches[i], 8, 2, 0, HM_KERNEL_2_6_30);
        hm_vaddr_t pv = tl_kmap(t, PG(0)), v = 0;
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
        tl_ev_clear(t);
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(0), KM_USER0, &v), HM_OK));
        cr_assert(eq(u64, v, pv), "%s", arches[i]);
        cr_assert(eq(sz, tl_ev_hw_count(t, 0), 0), "%s: no PTE write, no flush", arches[i]);
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 3));
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 1));
        cr_assert(eq(u64, hm_sim_pte(t->sim, slot_of(1, KM_USER0)), 0));
        /* a page not kmapped takes its slot as before */
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(1), KM_USER1, &v), HM_OK));
        cr_assert(eq(u64, v, slot_of(1, KM_USER1)));
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v, KM_USER1), HM_OK));
        /* kunmap_atomic of the pkmap address: kunmap_high, the count back to 2 */
        tl_ev_clear(t);
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, pv + 0x10u, KM_USER0), HM_OK));
        cr_assert(eq(sz, tl_ev_hw_count(t, 0), 0));
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
        tl_kunmap(t, PG(0));
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 1));
        tl_assert_invariants(t, arches[i]);
        tl_close(t);
    }
}

/* 2.6.24 has no kmap_high_get: kmap_atomic of a kmapped page takes its dedicated slot. */
Test(arm_high_get, not_before_2_6_30)
{
    struct tl *t = open_arm("arm", 8, 1, 0, HM_KERNEL_2_6_24); /* the generation without it */
    hm_vaddr_t pv = tl_kmap(t, PG(0)), v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(u64, v, slot_of(0, KM_USER0)));
    cr_assert(not(eq(u64, v, pv)));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
    cr_assert(eq(int, hm_kmap_high_get(t->ctx, PG(0), &v), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_UNAVAILABLE, HM_EINVAL, "kmap_high_get");
}

/* DEBUG_HIGHMEM on a VIPT cache forces the dedicated slot; a VIVT cache still pins. */
Test(arm_high_get, debug_vipt_forces_the_slot)
{
    struct tl *t = open_arm("arm-vipt", 8, 1, 1, HM_KERNEL_2_6_30); /* the 2.6.30 front's choice */
    hm_vaddr_t pv = tl_kmap(t, PG(0)), v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(u64, v, slot_of(0, KM_USER0)));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    tl_close(t);
    t = open_arm("arm", 8, 1, 1, HM_KERNEL_2_6_30);
    pv = tl_kmap(t, PG(0));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(u64, v, pv));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 3));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
}

/* In interrupt context: kmap_atomic pins, kunmap_atomic releases through kunmap_high, and
 * kunmap itself is allowed (kunmap_high's irq-safe lock), where kmap_high_get exists. */
Test(arm_high_get, interrupt_context)
{
    struct tl *t = open_arm("arm", 8, 1, 0, HM_KERNEL_2_6_30); /* kmap_high_get's first generation */
    hm_vaddr_t pv = tl_kmap(t, PG(0)), v = 0, g = 0;
    tl_kmap(t, PG(0)); /* count 3 */
    hm_sim_set_in_interrupt(t->sim, 1);
    cr_assert(eq(int, hm_kmap_high_get(t->ctx, PG(0), &g), HM_OK));
    cr_assert(eq(u64, g, pv));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_IRQ0, &v), HM_OK));
    cr_assert(eq(u64, v, pv));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 5));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_IRQ0), HM_OK));
    cr_assert(eq(int, hm_kunmap(t->ctx, PG(0)), HM_OK));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 3));
    cr_assert(eq(sz, t->nbugs, 0));
    hm_sim_set_in_interrupt(t->sim, 0);
    tl_close(t);
    /* 2.6.24 (no kmap_high_get on the arch yet): kunmap in interrupt context BUGs */
    t = open_arm("arm", 8, 1, 0, HM_KERNEL_2_6_24); /* the generation without kmap_high_get */
    tl_kmap(t, PG(0));
    hm_sim_set_in_interrupt(t->sim, 1);
    tl_assert_kunmap_in_interrupt_bugs(t, PG(0), 1);
}

/* kunmap_atomic(vaddr) that BUGs in kunmap_high: HM_EINVAL, `bug`, nothing changed. */
static void assert_kunmap_high_bug(struct tl *t, hm_vaddr_t vaddr, int bug, const char *what)
{
    struct tl_snap s;
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, vaddr, KM_USER0), HM_EINVAL), "%s", what);
    tl_assert_last_bug(t, bug, HM_EINVAL, "kunmap_high");
    tl_snap_assert_same(t, &s, what);
}

/* kunmap_atomic of a pkmap address whose page is not kmapped any more (count 1, or a slot
 * with no page): kunmap_high's BUG, nothing changed, pagefaults still disabled. */
Test(arm_high_get, kunmap_atomic_of_an_unpinned_pkmap_address)
{
    struct tl *t = open_arm("arm", 8, 1, 0, HM_KERNEL_2_6_30); /* the 2.6.30 kunmap_atomic front */
    hm_vaddr_t pv = tl_kmap(t, PG(0)), v = 0;
    tl_kunmap(t, PG(0)); /* count 1: cached, not held */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, LOWPFN, KM_USER0, &v), HM_OK));
    assert_kunmap_high_bug(t, pv, HM_BUG_KUNMAP_ZERO, "kunmap_atomic of a count-1 page");
    assert_kunmap_high_bug(t, PKMAP_BASE + 5u * 4096u, HM_BUG_KUNMAP_UNMAPPED,
                           "kunmap_atomic of an empty pkmap slot");
    cr_assert(eq(u64, tl_last_bug(t)->arg, PKMAP_BASE + 5u * 4096u)); /* the address: no page */
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
}

/* flush_cache_kmaps: flush_cache_all on the VIVT machine, nothing on the VIPT one. */
Test(arm_high_get, flush_cache_kmaps_per_cache_kind)
{
    static const int vivt_ev[] = {HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_EV_CACHE_FLUSH_ALL, HM_EV_PTE_CLEAR,
                                  HM_EV_TLB_FLUSH_RANGE, HM_EV_FLUSH_DONE};
    static const int vipt_ev[] = {HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_RANGE,
                                  HM_EV_FLUSH_DONE};
    struct tl *t = open_arm("arm", 4, 1, 0, RUN_KERNEL);
    tl_kmap(t, PG(0));
    tl_kunmap(t, PG(0));
    tl_assert_flush_unused_events(t, vivt_ev, 5, "arm kmap_flush_unused");
    tl_close(t);
    t = open_arm("arm-vipt", 4, 1, 0, RUN_KERNEL);
    tl_kmap(t, PG(0));
    tl_kunmap(t, PG(0));
    tl_assert_flush_unused_events(t, vipt_ev, 4, "arm-vipt kmap_flush_unused");
}

/* kmap_to_page's bound (spec §10.4, the 2012 fix): PKMAP_ADDR(LAST_PKMAP) is PAGE_OFFSET on arm,
 * the direct map's pfn 0, never one PTE past the pkmap table; the last slot is still a slot. */
Test(arm_atomic, kmap_to_page_pkmap_bound)
{
    struct tl *t = open_arm("arm", 0, 1, 0, HM_KERNEL_5_11); /* the bound of 5.11's kmap_to_page */
    hm_pfn_t pfn = 0x77u;
    for (uint32_t i = 0; i < 511; i++)
        tl_kmap(t, PG(i)); /* slots 1..511 */
    cr_assert(eq(u64, tl_page_address(t, PG(510)), PAGE_OFFSET - 0x1000u));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, PAGE_OFFSET - 1u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(510)));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, PAGE_OFFSET, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, PKMAP_BASE, &pfn), HM_EFAULT)); /* slot 0: empty */
    tl_assert_last_bug(t, HM_BUG_NOT_MAPPED, HM_EFAULT, "kmap_to_page");
}

/* The same bound in kunmap_atomic: PAGE_OFFSET, one past the last pkmap slot, is the direct map's
 * pfn 0, which kmap_atomic maps there (lowmem). Its kunmap_atomic only re-enables pagefaults; a
 * bound one slot too far would take it for a kmap_high_get pin and hand pfn 0 to kunmap_high. */
Test(arm_atomic, kunmap_atomic_of_page_offset_is_lowmem)
{
    struct tl *t = open_arm("arm", 0, 1, 0, RUN_KERNEL);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, 0, KM_USER0, &v), HM_OK));
    cr_assert(eq(u64, v, PAGE_OFFSET));
    size_t nbugs = t->nbugs, from = t->nev;
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(sz, t->nbugs, nbugs), "no BUG");
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(sz, tl_ev_hw_count(t, from), 0), "nothing to flush or clear for lowmem");
    tl_assert_invariants(t, "lowmem kunmap_atomic");
}
