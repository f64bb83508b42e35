/* x86_pae_test.c - Criterion tests of the x86 PAE backend: layout (spec §3.1, §7), the 64-bit
 * PTE with NX over every pfn, the kmap_atomic family as on x86 (§3.3-§3.7; 5.11's kmap_local
 * wrapper, §10.6) and frames above 4 GiB through the simulated MMU, in the generation of the run
 * (HM_TEST_KERNEL) unless a test pins one. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testlib.h"

#define HIGH0 0x38000u /* lowmem is 896 MiB as on x86: highmem starts at pfn 0x38000 */
#define PG(n) (HIGH0 + 0x300u + (uint32_t)(n))
#define LOWPFN 0x1234u
#define KM_USER0 3u
#define KM_USER1 4u
#define NR_KM 13u
/* kmap_prot = PAGE_KERNEL with NX: bit 63 | GLOBAL 0x100 | DIRTY 0x40 | ACCESSED 0x20 | RW 0x2
 * | PRESENT 0x1 = 0x8000000000000163 */
#define NX (1ull << 63)
#define PROT (NX | 0x163u)
#define KPTE(pfn) ((((hm_pte_t)(pfn)) << 12) | PROT)

/* The documented fixmap (same as x86, hm_arch_x86.c): FIX_KMAP_BEGIN = 4 + 1 + 64 + 1 = 70,
 * 6 entries after FIX_KMAP_END, 16 boot-time FIX_BTMAP slots and FIX_WP_TEST. */
#define FIXADDR_TOP 0xfffff000u
#define FIX_KMAP_BEGIN 70u

TestSuite(x86_pae_layout, .fini = tl_fini, .timeout = 60);
TestSuite(x86_pae_atomic, .fini = tl_fini, .timeout = 60);
TestSuite(x86_pae_mem, .fini = tl_fini, .timeout = 60);

static struct tl *open_pae(uint32_t last_pkmap, uint32_t cpus, int debug)
{
    return tl_open_arch("x86-pae", last_pkmap, cpus, debug, 0);
}

/* __fix_to_virt(FIX_KMAP_BEGIN + type + 13 * cpu) */
static hm_vaddr_t slot_of(uint32_t cpu, unsigned type)
{
    return FIXADDR_TOP - ((FIX_KMAP_BEGIN + type + NR_KM * cpu) << 12);
}

static hm_pte_t kpte(hm_pfn_t pfn)
{
    return KPTE(pfn);
}

static const struct tl_arch_hand hand = {kpte, slot_of, -1, FIXADDR_TOP};

/* 5.11: __fix_to_virt(FIX_KMAP_BEGIN + pos + KM_MAX_IDX * cpu), pos the running task's stack
 * position (kmap_local_calc_idx, mm/highmem.c 5.11) */
static hm_vaddr_t local_slot(uint32_t km_max_idx, uint32_t cpu, uint32_t pos)
{
    return FIXADDR_TOP - ((FIX_KMAP_BEGIN + pos + km_max_idx * cpu) << 12);
}

static hm_vaddr_t local_slot_of(uint32_t cpu, unsigned pos)
{
    return local_slot(KM_MAX_IDX, cpu, pos);
}

static const struct tl_arch_hand hand_local = {kpte, local_slot_of, -1, FIXADDR_TOP};

/* ---------------------------------------------------------------------------------------
 * Layout (§3.1: LAST_PKMAP 512, PMD 2 MiB).
 * ------------------------------------------------------------------------------------- */
Test(x86_pae_layout, documented_defaults)
{
    struct tl *t = open_pae(0, 1, 0);
    const struct hm_layout *l = hm_ctx_layout(t->ctx);
    cr_assert(not(eq(ptr, (void *)l, NULL)));
    cr_assert(eq(str, (char *)hm_arch_name(t->cfg.arch), "x86-pae"));
    cr_assert(eq(u32, l->last_pkmap, 512));
    cr_assert(eq(u32, l->pte_bytes, 8));
    cr_assert(eq(u32, l->page_size, 4096));
    cr_assert(eq(u32, l->page_offset, 0xc0000000u));
    cr_assert(eq(u32, l->fixaddr_top, FIXADDR_TOP));
    cr_assert(eq(u32, l->fix_kmap_begin, FIX_KMAP_BEGIN));
    cr_assert(eq(u32, l->nr_km_types, 13));
    cr_assert(eq(u32, l->config_nr_cpus, 8)); /* NR_CPUS 8 of the documented config */
    tl_expect_x86_default_fixmap(l); /* PAE's fixmap is non-PAE's */
    /* PKMAP_BASE = (FIXADDR_BOOT_START - 513*4K) & ~(2M-1): 2.6.24 (0xfff3a000 - 0x201000 =
     * 0xffd39000) and 5.11 (0xfff22000 - 0x201000 = 0xffd21000) alike 0xffc00000 */
    cr_assert(eq(u32, l->pkmap_base, 0xffc00000u));
    /* the window [0xffc00000, 0xffc00000 + 512*4K = 0xffe00000) keeps a guard page below the
     * boot fixmaps (§9.25): 0xffe00000 <= 0xfff3a000 - 4K */
    cr_assert(le(u32, 0xffe00000u, l->fixaddr_boot_start - 4096u)); /* 5.11: 0xfff22000 - 4K */
    /* atomic slot idx 0: __fix_to_virt(70) = 0xfffff000 - 0x46000 = 0xfffb9000, descending */
    cr_assert(eq(u32, l->kmap_atomic_base, 0xfffb9000u));
    cr_assert(eq(int, l->kmap_atomic_dir, -1));
    /* memory: 896 MiB lowmem, max_pfn 0x140000 (5 GiB: frames above 4 GiB exist) */
    cr_assert(eq(u32, l->highmem_start_pfn, 0x38000u));
    cr_assert(eq(u32, l->max_pfn, 0x140000u));
    cr_assert(eq(u32, l->high_memory, 0xf8000000u)); /* 0xc0000000 + (0x38000 << 12) */
    /* VMALLOC_END = PKMAP_BASE - 2*4K = 0xffbfe000;
     * VMALLOC_START = (0xf8000000 + 2*8M - 1) & ~(8M-1) = 0xf8800000 */
    cr_assert(eq(u32, l->vmalloc_end, 0xffbfe000u));
    cr_assert(eq(u32, l->vmalloc_start, 0xf8800000u));
    /* the page-table window covers the pkmap area and the whole fixmap up to FIXADDR_TOP */
    cr_assert(le(u32, l->pt_start, 0xffc00000u));
    cr_assert(ge(u64, (uint64_t)l->pt_start + ((uint64_t)l->pt_pages << 12), 0xfffff000ull + 4096u));
}

Test(x86_pae_layout, debug_fences_and_many_cpus)
{
    struct tl *t = open_pae(0, 1, 1);
    int local = t->cfg.kernel >= HM_KERNEL_5_11;
    if (local) {
        /* DEBUG_KMAP_LOCAL, KM_MAX_IDX 33: end_permanent = 70 + 33*8 + 6 = 340 -> 0xfffff000 -
         * 0x154000 = 0xffeab000; end_fixed = 357 -> 0xfffff000 - 0x165000 = 0xffe9a000;
         * PKMAP_BASE = (0xffe9a000 - 0x201000 = 0xffc99000) & 0xffe00000 = 0xffc00000 */
        cr_assert(eq(u32, t->layout.km_type_nr, 33));
        cr_assert(eq(u32, t->layout.fixaddr_start, 0xffeab000u));
        cr_assert(eq(u32, t->layout.fixaddr_boot_start, 0xffe9a000u));
    } else {
        /* KM_TYPE_NR 27: end_permanent = 70 + 27*8 + 6 = 292 -> 0xfffff000 - 0x124000 = 0xffedb000;
         * end_fixed = 309 -> 0xfffff000 - 0x135000 = 0xffeca000;
         * PKMAP_BASE = (0xffeca000 - 0x201000 = 0xffcc9000) & 0xffe00000 = 0xffc00000 */
        cr_assert(eq(u32, t->layout.km_type_nr, 27));
        cr_assert(eq(u32, t->layout.fixaddr_start, 0xffedb000u));
        cr_assert(eq(u32, t->layout.fixaddr_boot_start, 0xffeca000u));
    }
    cr_assert(eq(u32, t->layout.pkmap_base, 0xffc00000u));

    t = open_pae(0, 64, 0);
    /* NR_CPUS raised to 64: end_fixed = 70 + 13*64 + 6 + 17 = 925 ->
     * FIXADDR_BOOT_START = 0xfffff000 - 0x39d000 = 0xffc62000;
     * PKMAP_BASE = (0xffc62000 - 0x201000 = 0xffa61000) & 0xffe00000 = 0xffa00000.
     * (Non-PAE would round to 4 MiB: 0xff800000. The 2 MiB PMD is what makes it 0xffa00000.)
     * 5.11: end_fixed = 70 + 16*64 + 6 + 17 = 1117 -> 0xfffff000 - 0x45d000 = 0xffba2000;
     * PKMAP_BASE = (0xffba2000 - 0x201000 = 0xff9a1000) & 0xffe00000 = 0xff800000 */
    cr_assert(eq(u32, t->layout.config_nr_cpus, 64));
    cr_assert(eq(u32, t->layout.fixaddr_boot_start, local ? 0xffba2000u : 0xffc62000u));
    cr_assert(eq(u32, t->layout.pkmap_base, local ? 0xff800000u : 0xffa00000u));

    t = open_pae(16, 1, 0);
    /* (0xfff3a000 - 17*4K = 0xfff29000) & 0xffe00000 = 0xffe00000; 5.11: (0xfff22000 - 17*4K =
     * 0xfff11000) & 0xffe00000, the same */
    cr_assert(eq(u32, t->layout.pkmap_base, 0xffe00000u));
}

Test(x86_pae_layout, physical_addresses_are_36_bits)
{
    struct hm_config c = tl_cfg("x86-pae", 0, 1);
    /* max_pfn may reach 2^24 (36-bit physical addresses with 4 KiB pages) but not exceed it */
    tl_assert_max_pfn_limit(&c, HIGH0, 0x1000000u);
}

/* ---------------------------------------------------------------------------------------
 * PTE format: every pfn < 2^24, including frames above 4 GiB (pfn >= 2^20).
 * ------------------------------------------------------------------------------------- */
Test(x86_pae_layout, pte_round_trip_every_pfn)
{
    struct tl *t = open_pae(8, 1, 0);
    /* frame address in bits 35..12, PAGE_KERNEL bits below, NX in bit 63 */
    tl_assert_pte_every_pfn(t, &hand, 1u << 24, 0);
    /* hand values at the boundaries */
    cr_assert(eq(u64, hm_mk_kmap_pte(t->ctx, 0xfffffu), 0x80000000fffff163ull));  /* last < 4 GiB */
    cr_assert(eq(u64, hm_mk_kmap_pte(t->ctx, 0x100000u), 0x8000000100000163ull)); /* 4 GiB */
    cr_assert(eq(u64, hm_mk_kmap_pte(t->ctx, 0xffffffu), 0x8000000ffffff163ull)); /* 64 GiB - 4K */
    /* pte_none: both halves must be empty; NX alone, or a high half alone, is not none */
    cr_assert(not(eq(int, hm_pte_none(t->ctx, 0), 0)));
    cr_assert(eq(int, hm_pte_none(t->ctx, NX), 0));
    cr_assert(eq(int, hm_pte_none(t->ctx, 0x100000000ull), 0));
    /* pte_pfn ignores NX and the low protection bits */
    cr_assert(eq(u32, hm_pte_pfn(t->ctx, 0x80000001234ab163ull), 0x1234abu));
}

Test(x86_pae_layout, km_type_names_in_order)
{
    tl_expect_km_type_names(open_pae(8, 1, 0), 13);
}

/* ---------------------------------------------------------------------------------------
 * Atomic slots: as x86 (descending fixmap, idx = type + 13*cpu).
 * ------------------------------------------------------------------------------------- */
/* 2.6.24: the slot of (cpu, type); 5.11: of the stack position (the 13 nested types take
 * positions 0..12 of each CPU's stack). */
Test(x86_pae_atomic, slot_addresses_descend)
{
    struct tl *t = open_pae(8, 8, 0);
    tl_map_every_atomic_slot(t, tl_arch_hand_of(t, &hand, &hand_local), 8, NR_KM, PG(0));
    /* by hand: cpu 0 KM_USER0: 0xfffff000 - 73*4K = 0xfffb6000;
     * cpu 1 KM_USER0: 70 + 3 + 13 = 86 -> 0xfffff000 - 0x56000 = 0xfffa9000;
     * cpu 7 KM_SOFTIRQ1: 70 + 12 + 91 = 173 -> 0xfffff000 - 0xad000 = 0xfff52000 */
    cr_assert(eq(u32, slot_of(0, KM_USER0), 0xfffb6000u));
    cr_assert(eq(u32, slot_of(1, KM_USER0), 0xfffa9000u));
    cr_assert(eq(u32, slot_of(7, 12), 0xfff52000u));
    /* 5.11: cpu 0 position 0: 0xfffff000 - 70*4K = 0xfffb9000; cpu 1 position 3: 70 + 3 + 16 =
     * 89 -> 0xfffff000 - 0x59000 = 0xfffa6000; cpu 7 position 12: 70 + 12 + 112 = 194 ->
     * 0xfffff000 - 0xc2000 = 0xfff3d000 */
    cr_assert(eq(u32, local_slot_of(0, 0), 0xfffb9000u));
    cr_assert(eq(u32, local_slot_of(1, 3), 0xfffa6000u));
    cr_assert(eq(u32, local_slot_of(7, 12), 0xfff3d000u));
}

Test(x86_pae_atomic, map_sets_pte_only_and_unmap_flushes_local_cpu)
{
    struct tl *t = open_pae(8, 2, 0);
    static const int map_ev[] = {HM_EV_PTE_SET};
    hm_vaddr_t v = 0;
    tl_mark(t, PG(0), 0x3c);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(0), KM_USER1, &v), HM_OK));
    /* cpu 1 KM_USER1: 70 + 4 + 13 = 87 -> 0xfffff000 - 0x57000 = 0xfffa8000;
     * 5.11, cpu 1 position 0: 70 + 16 = 86 -> 0xfffa9000 */
    cr_assert(eq(u32, v, tl_atomic_is_local(t) ? 0xfffa9000u : 0xfffa8000u));
    /* set_pte only: 5.11's x86 map hook is the paravirt lazy-MMU flush, nothing here */
    tl_assert_ev_kinds(t, 0, map_ev, 1, "kmap_atomic");
    tl_assert_pte_set_ev(t, 0, v, PG(0), KPTE(PG(0)));
    cr_assert(eq(u8, tl_load(t, 0, v), 0x3c));
    cr_assert(eq(u8, tl_load(t, 1, v), 0x3c));

    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v + 0x7ffu, KM_USER1), HM_OK));
    /* __flush_tlb_one (5.11: flush_tlb_one_kernel after the unmap): this CPU only */
    tl_assert_clear_flush_page_ev(t, 0, v, 1, "kunmap_atomic");
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 1, v, NULL), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 0, v, NULL), 1)); /* the other CPU keeps it */
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
}

/* 2.6.24: a nested kmap_atomic of the same type finds its slot busy, nothing changed. 5.11: the
 * type is ignored, the nested mapping is pushed one position (one page) further. */
Test(x86_pae_atomic, nested_same_type_is_busy_or_pushed)
{
    struct tl *t = open_pae(8, 1, 0);
    hm_vaddr_t v = 0, v2 = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &v2), HM_OK));
        cr_assert(eq(u32, v2, local_slot_of(0, 1)));
        cr_assert(eq(u32, v2, v - 4096u));
        cr_assert(eq(u64, hm_sim_pte(t->sim, v2), KPTE(PG(1))));
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 2));
        cr_assert(eq(sz, t->nbugs, 0));
    } else {
        tl_assert_kmap_atomic_busy(t, 0, PG(1), KM_USER0, "kmap_atomic_prot", "nested kmap_atomic");
    }
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
}

Test(x86_pae_atomic, unbalanced_unmap_and_interrupt_context)
{
    struct tl *t = open_pae(8, 2, 0);
    tl_assert_kunmap_atomic_bug(t, 1, slot_of(1, KM_USER0), KM_USER0, HM_BUG_ATOMIC_UNBALANCED,
                                "unbalanced kunmap_atomic");

    /* kmap in interrupt context: x86 only has might_sleep(), so it works */
    hm_sim_set_in_interrupt(t->sim, 1);
    cr_assert(eq(u32, tl_kmap(t, PG(0)), 0xffe01000u)); /* S = 8: PKMAP_BASE 0xffe00000, slot 1 */
    /* kunmap in interrupt context BUGs */
    tl_assert_kunmap_in_interrupt_bugs(t, PG(0), 1);
}

/* 2.6.24 with DEBUG_HIGHMEM: the wrong type's slot BUGs. 5.11 (the type ignored): a kmap slot
 * that is not the top's is LOCAL_NOT_TOP, an address below PAGE_OFFSET LOCAL_BAD_ADDR. */
Test(x86_pae_atomic, wrong_address_with_debug)
{
    struct tl *t = open_pae(8, 1, 1);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        /* DEBUG_KMAP_LOCAL: position 1, 0xfffff000 - 71*4K = 0xfffb8000, below guard position 0 */
        cr_assert(eq(u32, v, 0xfffb8000u));
        cr_assert(eq(u32, v, local_slot(KM_MAX_IDX_DEBUG, 0, tl_local_pos(1, 0))));
        tl_assert_kunmap_atomic_refused(t, 0, v + 4096u, KM_USER0, HM_BUG_LOCAL_NOT_TOP,
                                        "kunmap_local_indexed", "guard kunmap_atomic");
        tl_assert_kunmap_atomic_refused(t, 0, 0xbffff000u, KM_USER0, HM_BUG_LOCAL_BAD_ADDR,
                                        "kunmap_local_indexed", "user-space kunmap_atomic");
    } else {
        /* DEBUG_HIGHMEM fences: KM_USER0 = 7, slot 0xfffff000 - 77*4K = 0xfffb2000 */
        cr_assert(eq(u32, v, 0xfffb2000u));
        tl_assert_kunmap_atomic_bug(t, 0, v, KM_USER1, HM_BUG_ATOMIC_BAD_ADDR, "wrong-type kunmap_atomic");
    }
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
}

Test(x86_pae_atomic, flush_all_zero_pkmaps_has_no_cache_flush)
{
    struct tl *t = open_pae(8, 1, 0);
    static const int want[] = {HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_RANGE,
                               HM_EV_FLUSH_DONE};
    tl_kmap(t, PG(0));
    tl_kunmap(t, PG(0));
    tl_assert_flush_unused_events(t, want, 4, "kmap_flush_unused");
    /* [PKMAP_ADDR(0), PKMAP_ADDR(8)) = [0xffe00000, 0xffe08000) */
    cr_assert(eq(u32, t->ev[2].a, 0xffe00000u));
    cr_assert(eq(u32, t->ev[2].b, 0xffe08000u));
    cr_assert(eq(u64, tl_sim_stats(t).cache_flushes, 0));
}

/* §3.7 / §9.20: kmap_atomic_to_page returns virt_to_page() garbage for a pkmap address. */
Test(x86_pae_atomic, kmap_atomic_to_page_quirks)
{
    struct tl *t = open_pae(0, 1, 0);
    hm_pfn_t pfn = 0;
    hm_vaddr_t av = 0, pv = tl_kmap(t, PG(6));
    cr_assert(eq(u32, pv, 0xffc01000u)); /* PKMAP_ADDR(1) */
    /* (0xffc01000 - 0xc0000000) >> 12 = 0x3fc01: a lowmem-looking pfn, not the page; kmap_to_page
     * is right */
    tl_assert_pkmap_atomic_to_page_quirk(t, pv, PG(6), 0x3fc01u, 5u);
    /* an atomic slot holding a frame above 4 GiB */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, 0x123456u, KM_USER0, &av), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, av + 1u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x123456u));
    /* direct map */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xc1234000u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x1234u));
    /* FIXADDR_TOP: virt_to_fix BUGs */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, FIXADDR_TOP, &pfn), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_VIRT_TO_FIX, HM_EINVAL, NULL);
}

/* ---------------------------------------------------------------------------------------
 * Frames above 4 GiB through the simulated MMU.
 * ------------------------------------------------------------------------------------- */
Test(x86_pae_mem, page_above_4g_through_kmap_and_kmap_atomic_on_two_cpus)
{
    struct tl *t = open_pae(0, 2, 0);
    const hm_pfn_t hi = 0x100000u, top = 0x13ffffu; /* 4 GiB, and the last frame (5 GiB - 4K) */
    hm_vaddr_t v, a0 = 0, a1 = 0;
    hm_pfn_t pfn = 0;

    cr_assert(eq(int, hm_page_is_highmem(t->ctx, top), 1));
    cr_assert(eq(int, hm_page_is_highmem(t->ctx, 0x140000u), -1));
    cr_assert(eq(int, hm_sim_phys_write(t->sim, hi, 0x123, 0x5a), HM_OK));
    cr_assert(eq(int, hm_sim_phys_write(t->sim, top, 0xfff, 0xa5), HM_OK));

    v = tl_kmap(t, hi);
    cr_assert(eq(u32, v, 0xffc01000u));
    /* (0x100000 << 12) = 0x100000000 | NX | 0x163 */
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0x8000000100000163ull));
    cr_assert(eq(u8, tl_load(t, 0, v + 0x123u), 0x5a));
    cr_assert(eq(u8, tl_load(t, 1, v + 0x123u), 0x5a));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, v, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, hi));

    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, top, KM_USER0, &a0), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, top, KM_USER0, &a1), HM_OK));
    /* KM_USER0: 70 + 3 -> 0xfffb6000, cpu 1: 70 + 3 + 13 -> 0xfffa9000; 5.11, position 0 of each
     * CPU: 70 -> 0xfffb9000, cpu 1: 70 + 16 -> 0xfffa9000 */
    cr_assert(eq(u32, a0, tl_atomic_is_local(t) ? 0xfffb9000u : 0xfffb6000u));
    cr_assert(eq(u32, a1, 0xfffa9000u));
    cr_assert(eq(u64, hm_sim_pte(t->sim, a0), 0x800000013ffff163ull));
    cr_assert(eq(u8, tl_load(t, 0, a0 + 0xfffu), 0xa5));
    cr_assert(eq(u8, tl_load(t, 1, a1 + 0xfffu), 0xa5));
    /* a cpu reading another cpu's slot goes through the same PTE */
    cr_assert(eq(u8, tl_load(t, 1, a0 + 0xfffu), 0xa5));

    /* a store through the pkmap address lands in the frame above 4 GiB */
    uint8_t b = 0;
    cr_assert(eq(int, hm_sim_store(t->sim, 1, v + 0x200u, 0x77), HM_OK));
    cr_assert(eq(int, hm_sim_phys_read(t->sim, hi, 0x200, &b), HM_OK));
    cr_assert(eq(u8, b, 0x77));
    tl_assert_invariants(t, "above 4 GiB");
    cr_assert(eq(u64, tl_sim_stats(t).stale_tlb_hits, 0));
}

Test(x86_pae_mem, last_frame_of_a_64g_machine)
{
    struct hm_config c = tl_cfg("x86-pae", 8, 1);
    c.highmem_pages = 0x1000000u - 0x38000u; /* max_pfn 2^24 */
    struct tl *t = tl_open(&c);
    hm_vaddr_t v;
    cr_assert(eq(int, hm_sim_phys_write(t->sim, 0xffffffu, 7, 0x99), HM_OK));
    v = tl_kmap(t, 0xffffffu);
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0x8000000ffffff163ull));
    cr_assert(eq(u8, tl_load(t, 0, v + 7u), 0x99));
    hm_vaddr_t dummy = 0;
    cr_assert(eq(int, hm_kmap(t->ctx, 0x1000000u, &dummy), HM_ERANGE));
}
