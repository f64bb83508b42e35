/* xtensa_test.c - Criterion tests of the xtensa backend and of the core's pkmap colouring (spec
 * §10.3): the layout figures, the PTE, the coloured map_new_virtual (per-colour slots, cursors,
 * exhaustion and waking), the wrap flush over every slot, the coloured kmap_atomic slots (5.11:
 * the coloured kmap_local slot of the stack position), the colour getters' COLOUR_RANGE error, in
 * both locking modes and in the generation of the run (HM_TEST_KERNEL). SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testlib.h"

#define HIGH0 0x8000u /* the 128 MiB KSEG of lowmem: highmem starts at pfn 0x8000 */
#define PG(n) (HIGH0 + 0x100u + (uint32_t)(n)) /* colour n & 1 */
#define KM_USER0 3u
#define KM_TYPE_NR 13u
#define COLOURS 2u
/* kmap_prot = PAGE_KERNEL_EXEC = CA_WB 0x4 | ACCESSED 0x100 | HW_WRITE 0x2 | HW_EXEC 0x1 */
#define PROT 0x107u
#define KPTE(pfn) ((((hm_pte_t)(pfn)) << 12) | PROT)
/* FIXADDR_TOP = VMALLOC_START 0xc0000000 - 4K; FIXADDR_SIZE = 13 * 4 CPUs * 2 colours = 104
 * pages (0x68000); (0xbffff000 - 0x68000 = 0xbff97000) & ~(4M - 1) = 0xbfc00000 */
#define FIXADDR_TOP 0xbffff000u
#define FIXADDR_START 0xbfc00000u
/* (0xbfc00000 - (2048 + 1) * 4K = 0xbf3ff000) & ~(4M - 1) */
#define PKMAP_BASE 0xbf000000u
/* 5.11: KM_MAX_IDX (testlib.h) slots per CPU: FIXADDR_SIZE = 16 * 4 * 2 = 128 pages (0x80000);
 * (0xbffff000 - 0x80000 = 0xbff7f000) & ~(4M - 1) = 0xbfc00000, the same FIXADDR_START and
 * PKMAP_BASE */

TestSuite(xtensa_layout, .fini = tl_fini, .timeout = 60);
TestSuite(xtensa_colour, .fini = tl_fini, .timeout = 60);
TestSuite(xtensa_atomic, .fini = tl_fini, .timeout = 60);

static struct tl *open_locking(uint32_t last_pkmap, uint32_t cpus, int debug, int locking)
{
    struct hm_config c = tl_cfg("xtensa", last_pkmap, cpus);
    c.debug_highmem = debug;
    c.locking = locking;
    return tl_open(&c);
}

static struct tl *open_xtensa(uint32_t last_pkmap, uint32_t cpus, int debug)
{
    return tl_open_arch("xtensa", last_pkmap, cpus, debug, 0);
}

/* kmap_idx = (type + 13 * cpu) * 2 + colour pages above FIXADDR_START; tl_map_every_atomic_slot
 * maps PG(type) (colour type & 1) at type. */
static hm_vaddr_t slot_col(uint32_t cpu, unsigned type, uint32_t colour)
{
    return FIXADDR_START + ((((hm_vaddr_t)type + KM_TYPE_NR * cpu) * COLOURS + colour) << 12);
}
static hm_vaddr_t slot_of(uint32_t cpu, unsigned type)
{
    return slot_col(cpu, type, type & 1u);
}
static hm_pte_t kpte(hm_pfn_t pfn)
{
    return KPTE(pfn);
}
static const struct tl_arch_hand hand = {kpte, slot_of, +1, FIXADDR_START - 0x1000u};

/* 5.11: arch_kmap_local_map_idx(pos, pfn) = kmap_idx(pos, DCACHE_ALIAS(pfn << PAGE_SHIFT)):
 * (pos + 16 * cpu) * 2 + colour pages above FIXADDR_START (the ascending fixmap of this layout,
 * docs/generations.md), pos the running task's stack position */
static hm_vaddr_t local_slot_col(uint32_t cpu, unsigned pos, uint32_t colour)
{
    return FIXADDR_START + ((((hm_vaddr_t)pos + KM_MAX_IDX * cpu) * COLOURS + colour) << 12);
}
static hm_vaddr_t local_slot_of(uint32_t cpu, unsigned pos)
{
    return local_slot_col(cpu, pos, pos & 1u); /* tl_map_every_atomic_slot maps PG(pos) at pos */
}
static const struct tl_arch_hand hand_local = {kpte, local_slot_of, +1, FIXADDR_START - 0x1000u};

static uint32_t cursor(struct tl *t, uint32_t colour)
{
    uint32_t nr = 0xdeadu;
    cr_assert(eq(int, hm_pkmap_cursor(t->ctx, colour, &nr), HM_OK));
    return nr;
}
static uint32_t waiters(struct tl *t, uint32_t colour)
{
    uint32_t n = 0xdeadu;
    cr_assert(eq(int, hm_pkmap_waiters(t->ctx, colour, &n), HM_OK));
    return n;
}

/* ---------------------------------------------------------------------------------------
 * Layout and PTE.
 * ------------------------------------------------------------------------------------- */
Test(xtensa_layout, documented_defaults)
{
    struct tl *t = open_xtensa(0, 1, 0);
    const struct hm_layout *l = hm_ctx_layout(t->ctx);
    cr_assert(eq(str, (char *)hm_arch_name(t->cfg.arch), "xtensa"));
    cr_assert(eq(u32, l->pkmap_colours, 2));                 /* 8 KiB D-cache way / 4 KiB */
    cr_assert(eq(u32, l->last_pkmap, 2048));                 /* PTRS_PER_PTE 1024 * 2 */
    cr_assert(eq(u64, l->page_offset, 0xd0000000u));
    cr_assert(eq(u32, l->highmem_start_pfn, HIGH0));
    cr_assert(eq(u32, l->max_pfn, HIGH0 + 0x10000u));
    cr_assert(eq(u64, l->high_memory, 0xd8000000u));
    cr_assert(eq(u64, l->vmalloc_start, 0xc0000000u));
    cr_assert(eq(u64, l->vmalloc_end, 0xc7ff0000u));
    cr_assert(eq(u64, l->mem_map, 0xd0400000u));              /* mem_map[] 4 MiB into lowmem */
    cr_assert(eq(u64, l->fixaddr_top, FIXADDR_TOP));
    cr_assert(eq(u32, l->config_nr_cpus, 4));
    cr_assert(eq(u32, l->fix_kmap_begin, 0));
    if (t->cfg.kernel >= HM_KERNEL_5_11) {
        cr_assert(eq(u32, l->km_type_nr, 16)); /* KM_MAX_IDX */
        cr_assert(eq(u32, l->nr_fixmap, 128)); /* 16 * 4 CPUs * 2 colours */
    } else {
        cr_assert(eq(u32, l->km_type_nr, 13));
        cr_assert(eq(u32, l->nr_fixmap, 104));
    }
    cr_assert(eq(u64, l->fixaddr_start, FIXADDR_START));
    cr_assert(eq(u64, l->kmap_atomic_base, FIXADDR_START)); /* __fix_to_virt(0), ascending */
    cr_assert(eq(int, l->kmap_atomic_dir, 1));
    cr_assert(eq(u64, l->pkmap_base, PKMAP_BASE));
    /* PKMAP_ADDR(2048) = 0xbf800000 lies below the fixmap */
    cr_assert(le(u64, l->pkmap_base + ((uint64_t)l->last_pkmap << 12), FIXADDR_START));
    /* page tables from PKMAP_BASE to the last fixmap page: 3072 + 104 pages (5.11: + 128) */
    cr_assert(eq(u64, l->pt_start, PKMAP_BASE));
    cr_assert(eq(u32, l->pt_pages, t->cfg.kernel >= HM_KERNEL_5_11 ? 3200u : 3176u));
    cr_assert(eq(u32, hm_pkmap_colours(t->ctx), 2));
}

Test(xtensa_layout, window_override_and_cpus_raise_the_fixmap)
{
    struct tl *t = open_xtensa(16, 8, 0);
    /* 13 * 8 * 2 = 208 pages = 0xd0000: (0xbffff000 - 0xd0000) & ~(4M - 1) = 0xbfc00000 still
     * (5.11: 16 * 8 * 2 = 256 pages = 0x100000, (0xbffff000 - 0x100000) & ~(4M - 1) likewise);
     * PKMAP_BASE = (0xbfc00000 - 17 pages) & ~(4M - 1) = 0xbf800000 */
    cr_assert(eq(u32, t->layout.nr_fixmap, t->cfg.kernel >= HM_KERNEL_5_11 ? 256u : 208u));
    cr_assert(eq(u64, t->layout.fixaddr_start, FIXADDR_START));
    cr_assert(eq(u64, t->layout.pkmap_base, 0xbf800000u));
    cr_assert(eq(u32, t->layout.pkmap_colours, 2));
}

/* The colour count must be a power of two no larger than LAST_PKMAP; the context grows only for
 * a coloured layout (the per-colour cursors and waiters). */
Test(xtensa_layout, colour_count_checked_and_sized)
{
    struct hm_arch uncoloured = hm_arch_xtensa, four = hm_arch_xtensa, three = hm_arch_xtensa;
    struct hm_config c = tl_cfg("xtensa", 2, 1);
    struct hm_layout l;
    uncoloured.pkmap_colours = 1;
    four.pkmap_colours = 4;
    three.pkmap_colours = 3;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.pkmap_colours, 2)); /* one slot per colour is enough */
    c.arch = &four;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    cr_assert(eq(sz, hm_ctx_size(&c), 0));
    c.last_pkmap = 4;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    c.arch = &three;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    c.last_pkmap = 1024;
    c.arch = &hm_arch_xtensa;
    size_t coloured = hm_ctx_size(&c);
    c.arch = &uncoloured;
    size_t plain = hm_ctx_size(&c);
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.pkmap_colours, 1));
    cr_assert(eq(sz, coloured, plain + 64u)); /* 2 x 8 bytes, rounded to the context's 64 */
    /* an uncoloured arch: pkmap_colours 0 in its descriptor means 1 */
    cr_assert(eq(u32, hm_arch_x86.pkmap_colours, 0));
    c = tl_cfg("x86", 8, 1);
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.pkmap_colours, 1));
}

Test(xtensa_layout, km_type_names_in_order)
{
    tl_expect_km_type_names(open_xtensa(8, 1, 0), 13);
}

/* PTE: pfn << 12 | 0x107 for every pfn < 2^20; none is 0 or _PAGE_INVALID (0xc). */
Test(xtensa_layout, pte_round_trip_every_pfn)
{
    struct tl *t = open_xtensa(8, 1, 0);
    tl_assert_pte_every_pfn(t, &hand, 1u << 20, 0);
    cr_assert(eq(u64, hm_mk_kmap_pte(t->ctx, 0x12345u), 0x12345107ull));
    cr_assert(eq(u32, hm_pte_pfn(t->ctx, 0xabcde107u), 0xabcdeu));
    cr_assert(not(eq(int, hm_pte_none(t->ctx, 0), 0)));
    cr_assert(not(eq(int, hm_pte_none(t->ctx, 0xcu), 0)));
    cr_assert(eq(int, hm_pte_none(t->ctx, 0x107u), 0));
    struct hm_config c = tl_cfg("xtensa", 8, 1);
    c.highmem_pages = (1u << 20) - HIGH0 + 1u; /* one pfn past the 20-bit PPN */
    struct hm_layout l;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    c.highmem_pages--;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
}

/* ---------------------------------------------------------------------------------------
 * The coloured map_new_virtual.
 * ------------------------------------------------------------------------------------- */
static void colour_slots_and_cursors(int locking)
{
    struct tl *t = open_locking(8, 1, 0, locking);
    cr_assert(eq(int, hm_pkmap_colour(t->ctx, PG(0)), 0));
    cr_assert(eq(int, hm_pkmap_colour(t->ctx, PG(1)), 1));
    cr_assert(eq(u32, cursor(t, 0), 0));
    cr_assert(eq(u32, cursor(t, 1), 1));
    /* get_next_pkmap_nr steps each colour's cursor by DCACHE_N_COLORS */
    cr_assert(eq(u64, tl_kmap(t, PG(0)), tl_pkaddr(t, 2)));
    cr_assert(eq(u64, tl_kmap(t, PG(1)), tl_pkaddr(t, 3)));
    cr_assert(eq(u64, tl_kmap(t, PG(2)), tl_pkaddr(t, 4)));
    cr_assert(eq(u64, tl_kmap(t, PG(3)), tl_pkaddr(t, 5)));
    cr_assert(eq(u64, tl_kmap(t, PG(4)), tl_pkaddr(t, 6)));
    cr_assert(eq(u32, cursor(t, 0), 6));
    cr_assert(eq(u32, cursor(t, 1), 5));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 6)); /* colour 0's */
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 0));
    /* colour 0 wraps at slot 0 (no_more_pkmaps: nr < 2) and flushes there; colour 1 has not */
    cr_assert(eq(u64, tl_kmap(t, PG(6)), tl_pkaddr(t, 0)));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 1));
    cr_assert(eq(u64, tl_kmap(t, PG(5)), tl_pkaddr(t, 7)));
    cr_assert(eq(u64, tl_kmap(t, PG(7)), tl_pkaddr(t, 1))); /* colour 1's wrap */
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 2));
    for (uint32_t n = 0; n < 8; n++) { /* every slot holds a page of its colour */
        uint32_t slot = (uint32_t)((tl_page_address(t, PG(n)) - tl_pkaddr(t, 0)) >> 12);
        cr_assert(eq(u32, slot & 1u, n & 1u));
        cr_assert(eq(int, hm_pkmap_count(t->ctx, slot), 2));
    }
    tl_assert_invariants(t, "every colour full");
}
Test(xtensa_colour, pages_get_slots_of_their_colour_fast)
{
    colour_slots_and_cursors(HM_LOCKING_FAST);
}
Test(xtensa_colour, pages_get_slots_of_their_colour_kernel)
{
    colour_slots_and_cursors(HM_LOCKING_KERNEL);
}

/* One colour exhausted: kmap_try fails where the kernel would sleep, after a full pass of the
 * colour's 4 slots following its flush, while the other colour still maps. */
static void exhaustion_of_one_colour(int locking)
{
    struct tl *t = open_locking(8, 1, 0, locking);
    hm_vaddr_t v = 0;
    for (uint32_t n = 0; n < 8; n += 2)
        tl_kmap(t, PG(n)); /* slots 2, 4, 6, 0 */
    cr_assert(eq(u32, cursor(t, 0), 0));
    size_t flushes = tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS);
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(8), &v), HM_EAGAIN));
    /* 2, 4, 6 tested, 0 wraps (one flush) and resets the budget: 0, 2, 4, 6 */
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), flushes + 1));
    cr_assert(eq(u32, cursor(t, 0), 6));
    cr_assert(eq(u32, cursor(t, 1), 1));
    cr_assert(eq(u64, tl_stats(t).kmap_eagain, 1));
    cr_assert(eq(u64, tl_kmap(t, PG(1)), tl_pkaddr(t, 3))); /* colour 1 has slots */
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(10), &v), HM_EAGAIN));
    tl_assert_invariants(t, "colour 0 exhausted");
}
Test(xtensa_colour, one_colour_exhausted_fast)
{
    exhaustion_of_one_colour(HM_LOCKING_FAST);
}
Test(xtensa_colour, one_colour_exhausted_kernel)
{
    exhaustion_of_one_colour(HM_LOCKING_KERNEL);
}

/* flush_all_zero_pkmaps still runs over every slot: colour 0's wrap frees colour 1's count-1
 * slot too. */
Test(xtensa_colour, wrap_flush_frees_every_colour)
{
    struct tl *t = open_xtensa(8, 1, 0);
    tl_kmap(t, PG(1)); /* slot 3 */
    tl_kunmap(t, PG(1));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 3), 1));
    for (uint32_t n = 0; n < 6; n += 2)
        tl_kmap(t, PG(n)); /* 2, 4, 6 */
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, PG(6)), tl_pkaddr(t, 0)));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 1));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 3), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 3)), 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_CACHE_FLUSH_ALL), 1)); /* flush_cache_kmaps first */
    cr_assert(eq(int, t->ev[0].kind, HM_EV_FLUSH_ALL_ZERO_PKMAPS));
    cr_assert(eq(int, t->ev[1].kind, HM_EV_CACHE_FLUSH_ALL));
    tl_assert_invariants(t, "after the wrap");
}

/* kunmap wakes the queue of the page's colour only: colour 0 is full and a kmap of colour 0
 * sleeps; a kunmap of colour 1 dropping to 1 wakes nobody, one of colour 0 wakes the sleeper,
 * whose rescan (wrap, flush) then takes the freed slot. */
static void sleeper_of_colour_0(struct tl *t, unsigned nth)
{
    cr_assert(eq(u32, nth, 1), "slept twice");
    cr_assert(eq(u32, waiters(t, 0), 1));
    cr_assert(eq(u32, waiters(t, 1), 0));
    cr_assert(eq(u32, hm_nr_waiters(t->ctx), 1));
    uint64_t wakes = t->wrap.wakes;
    tl_kunmap(t, PG(1)); /* colour 1, count 2 -> 1 */
    cr_assert(eq(u64, t->wrap.wakes, wakes), "a colour-1 kunmap woke a colour-0 sleeper");
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_WAKEUP), 0));
    tl_kunmap(t, PG(2)); /* colour 0, slot 4, count 2 -> 1 */
    cr_assert(eq(u64, t->wrap.wakes, wakes + 1));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_WAKEUP), 1));
}
static void kunmap_wakes_its_colour(int locking)
{
    struct tl *t = open_locking(8, 1, 0, locking);
    tl_kmap(t, PG(1)); /* slot 3 */
    for (uint32_t n = 0; n < 8; n += 2)
        tl_kmap(t, PG(n)); /* 2, 4, 6, 0 */
    tl_ev_clear(t);
    t->wrap.sleep_action = sleeper_of_colour_0;
    hm_vaddr_t v = tl_kmap(t, PG(8)); /* sleeps once; then 0 wraps, the flush frees 4 and 3 */
    cr_assert(eq(u64, v, tl_pkaddr(t, 4)));
    cr_assert(eq(u64, t->wrap.sleeps, 1));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 3), 0));
    cr_assert(eq(u32, hm_nr_waiters(t->ctx), 0));
    cr_assert(eq(u32, waiters(t, 0), 0));
    struct hm_stats st = tl_stats(t);
    cr_assert(eq(u64, st.sleeps, 1));
    cr_assert(eq(u64, st.wakeups, 1));
    tl_assert_invariants(t, "after the wake-up");
}
Test(xtensa_colour, kunmap_wakes_the_pages_colour_fast)
{
    kunmap_wakes_its_colour(HM_LOCKING_FAST);
}
Test(xtensa_colour, kunmap_wakes_the_pages_colour_kernel)
{
    kunmap_wakes_its_colour(HM_LOCKING_KERNEL);
}

/* A refused PTE write: the colour's slot stays free, the cursors keep where the scan got to. */
static void failing_set_pte(int locking)
{
    struct tl *t = open_locking(8, 1, 0, locking);
    hm_vaddr_t v = 0;
    tl_kmap(t, PG(0)); /* slot 2 */
    hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
    cr_assert(eq(int, hm_kmap(t->ctx, PG(1), &v), HM_EMACHINE));
    cr_assert(eq(u64, v, 0));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 3), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 3)), 0));
    cr_assert(eq(u32, cursor(t, 1), 3));
    cr_assert(eq(u32, cursor(t, 0), 2));
    cr_assert(eq(u64, tl_stats(t).machine_fails, 1));
    tl_assert_invariants(t, "refused map");
    cr_assert(eq(u64, tl_kmap(t, PG(1)), tl_pkaddr(t, 5))); /* the scan goes on from 3 */
}
Test(xtensa_colour, failing_set_pte_fast)
{
    failing_set_pte(HM_LOCKING_FAST);
}
Test(xtensa_colour, failing_set_pte_kernel)
{
    failing_set_pte(HM_LOCKING_KERNEL);
}

/* A colour is an input of the per-colour getters: one out of range is COLOUR_RANGE (EINVAL),
 * *out and the state unchanged; on an uncoloured arch only colour 0 exists. */
static void expect_colour_range(struct tl *t, uint32_t colour)
{
    struct tl_snap s;
    uint32_t out = 0x5a5au;
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_pkmap_cursor(t->ctx, colour, &out), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_COLOUR_RANGE, HM_EINVAL, "hm_pkmap_cursor");
    cr_assert(eq(u64, tl_last_bug(t)->arg, colour));
    cr_assert(eq(int, hm_pkmap_waiters(t->ctx, colour, &out), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_COLOUR_RANGE, HM_EINVAL, "hm_pkmap_waiters");
    cr_assert(eq(u32, out, 0x5a5au));
    tl_snap_assert_same(t, &s, "colour out of range");
}
Test(xtensa_colour, colour_out_of_range)
{
    struct tl *t = open_xtensa(8, 1, 0);
    tl_kmap(t, PG(1));
    expect_colour_range(t, 2);
    expect_colour_range(t, UINT32_MAX);
    cr_assert(eq(u64, tl_stats(t).bug_by_kind[HM_BUG_COLOUR_RANGE], 4));
    cr_assert(eq(str, (char *)hm_bug_name(HM_BUG_COLOUR_RANGE), "COLOUR_RANGE"));
    cr_assert(eq(u32, cursor(t, 1), 3));
    /* NULL out: BAD_ARG */
    cr_assert(eq(int, hm_pkmap_cursor(t->ctx, 0, NULL), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_BAD_ARG, HM_EINVAL, "hm_pkmap_cursor");
    cr_assert(eq(int, hm_pkmap_waiters(NULL, 0, NULL), HM_EINVAL));
    cr_assert(eq(int, hm_pkmap_colour(t->ctx, t->layout.max_pfn), -1));
    cr_assert(eq(u32, hm_pkmap_colours(NULL), 0));

    struct hm_config c = tl_cfg("x86", 8, 1);
    t = tl_open(&c);
    tl_kmap(t, t->layout.highmem_start_pfn + 1u); /* slot 1 */
    cr_assert(eq(u32, hm_pkmap_colours(t->ctx), 1));
    cr_assert(eq(int, hm_pkmap_colour(t->ctx, t->layout.highmem_start_pfn + 1u), 0));
    cr_assert(eq(u32, cursor(t, 0), 1));
    cr_assert(eq(u32, cursor(t, 0), hm_last_pkmap_nr(t->ctx)));
    expect_colour_range(t, 1);

    c = tl_cfg("generic", 0, 1); /* no highmem: no colour at all */
    t = tl_open(&c);
    cr_assert(eq(u32, hm_pkmap_colours(t->ctx), 0));
    expect_colour_range(t, 0);
}

/* ---------------------------------------------------------------------------------------
 * kmap_atomic: the fixmap slot has the page's colour.
 * ------------------------------------------------------------------------------------- */
/* 2.6.24: the slot of (cpu, type) of the page's colour; 5.11: of the stack position (the 13
 * nested types take positions 0..12 of each CPU's stack), of the page's colour. */
Test(xtensa_atomic, slot_addresses_ascend_with_colour_type_and_cpu)
{
    struct tl *t = open_xtensa(8, 4, 0);
    tl_map_every_atomic_slot(t, tl_arch_hand_of(t, &hand, &hand_local), 4, KM_TYPE_NR, PG(0));
    /* by hand: cpu 0 KM_USER0 colour 0: idx 6 -> 0xbfc06000; colour 1: 0xbfc07000; cpu 3
     * KM_SOFTIRQ1 colour 0: (12 + 39) * 2 = 102 -> 0xbfc66000, the last page but one */
    cr_assert(eq(u64, slot_col(0, KM_USER0, 0), 0xbfc06000u));
    cr_assert(eq(u64, slot_col(0, KM_USER0, 1), 0xbfc07000u));
    cr_assert(eq(u64, slot_col(3, 12, 0), 0xbfc66000u));
    /* 5.11 by hand: cpu 0 position 3 colour 1: 3 * 2 + 1 = 7 -> 0xbfc07000; cpu 3 position 12
     * colour 0: (12 + 48) * 2 = 120 -> 0xbfc78000; cpu 3 position 15 colour 1, 127, is the last
     * page of the fixmap */
    cr_assert(eq(u64, local_slot_col(0, 3, 1), 0xbfc07000u));
    cr_assert(eq(u64, local_slot_col(3, 12, 0), 0xbfc78000u));
    cr_assert(eq(u64, local_slot_col(3, 15, 1), FIXADDR_START + 127u * 0x1000u));
}

Test(xtensa_atomic, map_sets_the_pte_of_the_colour_slot_and_unmap_clears_it)
{
    struct tl *t = open_xtensa(8, 2, 0);
    static const int map_ev[] = {HM_EV_PTE_SET};
    hm_vaddr_t v0 = 0, v1 = 0;
    tl_mark(t, PG(1), 0x3c);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(1), KM_USER0, &v1), HM_OK));
    /* (3 + 13) * 2 + 1 = 33; 5.11, cpu 1 position 0: (0 + 16) * 2 + 1 = 33 as well */
    cr_assert(eq(u64, v1, tl_atomic_is_local(t) ? local_slot_col(1, 0, 1) : slot_col(1, KM_USER0, 1)));
    cr_assert(eq(u64, v1, 0xbfc21000u));
    tl_assert_ev_kinds(t, 0, map_ev, 1, "kmap_atomic (no TLB flush)");
    tl_assert_pte_set_ev(t, 0, v1, PG(1), KPTE(PG(1)));
    cr_assert(eq(u8, tl_load(t, 1, v1), 0x3c));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(4), KM_USER0, &v0), HM_OK));
    /* 3 * 2 = 6 -> 0xbfc06000; 5.11, cpu 0 position 0 colour 0: FIXADDR_START itself */
    cr_assert(eq(u64, v0, tl_atomic_is_local(t) ? local_slot_col(0, 0, 0) : slot_col(0, KM_USER0, 0)));
    cr_assert(eq(u64, v0, tl_atomic_is_local(t) ? 0xbfc00000u : 0xbfc06000u));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 1));
    hm_pfn_t back = 0;
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, v1 + 0x20u, &back), HM_OK));
    cr_assert(eq(u32, back, PG(1)));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, v0, &back), HM_OK));
    cr_assert(eq(u32, back, PG(4)));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xd0001000u, &back), HM_OK)); /* virt_to_page */
    cr_assert(eq(u32, back, 1));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, PKMAP_BASE, &back), HM_ERANGE));
    tl_assert_last_bug(t, HM_BUG_BAD_ADDR, HM_ERANGE, NULL);
    tl_bugs_clear(t);
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v1 + 0x20u, KM_USER0), HM_OK));
    /* 5.11: kunmap_local's post_unmap, local_flush_tlb_kernel_range of the page: the same */
    tl_assert_clear_flush_page_ev(t, 0, v1, 1, "kunmap_atomic");
    cr_assert(eq(u64, hm_sim_pte(t->sim, v1), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 1, v1, NULL), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
    /* a lowmem address only re-enables pagefaults */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, 0x1234u, KM_USER0 + 1u, &v1), HM_OK));
    cr_assert(eq(u64, v1, 0xd1234000u));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v1, KM_USER0 + 1u), HM_OK));
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(sz, t->nbugs, 0));
}

/* 2.6.24: a fixmap page that is not the (cpu, type) slot of its own colour: a BUG, nothing
 * changed. (The other colour's slot of the same (cpu, type) is that slot for its colour: the
 * kernel clears it, as the model does.) 5.11: the type is ignored; arch_kmap_local_unmap_idx
 * takes the colour of the address, so the top position's slot of the other colour is not the
 * top's slot (LOCAL_NOT_TOP), and an address past the kmap slots, below PAGE_OFFSET, is
 * LOCAL_BAD_ADDR; nothing changed. */
Test(xtensa_atomic, unmap_of_another_slot_bugs)
{
    struct tl *t = open_xtensa(8, 1, 0);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        cr_assert(eq(u64, v, local_slot_col(0, 0, 0)));
        tl_assert_kunmap_atomic_refused(t, 0, local_slot_col(0, 0, 1), KM_USER0, HM_BUG_LOCAL_NOT_TOP,
                                        "kunmap_local_indexed", "the other colour's slot");
        tl_assert_kunmap_atomic_refused(t, 0, FIXADDR_TOP - 0x1000u, KM_USER0, HM_BUG_LOCAL_BAD_ADDR,
                                        "kunmap_local_indexed", "past the slots");
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0 + 1u), HM_OK)); /* any type */
    } else {
        tl_assert_kunmap_atomic_bug(t, 0, v, KM_USER0 + 1u, HM_BUG_ATOMIC_BAD_ADDR, "other type");
        tl_assert_kunmap_atomic_bug(t, 0, FIXADDR_TOP - 0x1000u, KM_USER0, HM_BUG_ATOMIC_BAD_ADDR,
                                    "past the slots");
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    }
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
}

/* 2.6.24 with debug: a nested kmap_atomic of the same type and colour finds its slot busy, the
 * other colour's slot of the type is free. 5.11: each nested mapping is pushed to the next odd
 * position (DEBUG_KMAP_LOCAL), in the slot of its page's colour. Then, in both, a refused clear
 * and a refused map change nothing. */
Test(xtensa_atomic, debug_busy_or_pushed_and_refused_writes)
{
    struct tl *t = open_xtensa(8, 1, 1);
    int local = tl_atomic_is_local(t);
    hm_vaddr_t v = 0, v2 = 0, w = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(2), KM_USER0, &v), HM_OK));
    if (local) {
        /* positions 1, 3, 5: colour 0 at 1 * 2 = 2 and 3 * 2 = 6, colour 1 at 5 * 2 + 1 = 11 pages */
        cr_assert(eq(u64, v, FIXADDR_START + 2u * 0x1000u));
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(4), KM_USER0, &v2), HM_OK));
        cr_assert(eq(u64, v2, FIXADDR_START + 6u * 0x1000u));
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(3), KM_USER0, &w), HM_OK));
        cr_assert(eq(u64, w, FIXADDR_START + 11u * 0x1000u));
        cr_assert(eq(u64, w, local_slot_col(0, tl_local_pos(1, 2), 1)));
        cr_assert(eq(sz, t->nbugs, 0));
    } else {
        tl_assert_kmap_atomic_busy(t, 0, PG(4), KM_USER0, "kmap_atomic", "same colour, same slot");
        /* the other colour's slot of the same type is free */
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(3), KM_USER0, &w), HM_OK));
        cr_assert(eq(u64, w, v + 0x1000u));
    }
    /* a refused clear: nothing changes, the call may be repeated */
    int depth = local ? 3 : 2;
    hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_CLEAR);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, w, KM_USER0), HM_EMACHINE));
    cr_assert(eq(u64, hm_sim_pte(t->sim, w), KPTE(PG(3))));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), depth));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, w, KM_USER0), HM_OK));
    if (local)
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v2, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    /* a refused map: depth back, PTE none (PG(5) is of colour 1: KM_USER0's slot of colour 1;
     * 5.11: position 1's) */
    hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(5), KM_USER0, &w), HM_EMACHINE));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, local ? local_slot_col(0, 1, 1) : slot_col(0, KM_USER0, 1)), 0));
    if (local)
        cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 0));
}

/* kmap and kunmap BUG in interrupt context (BUG_ON(in_interrupt()) in both). */
Test(xtensa_atomic, kmap_and_kunmap_in_interrupt)
{
    struct tl *t = open_xtensa(8, 1, 0);
    hm_vaddr_t v = 0;
    tl_kmap(t, PG(0)); /* slot 2, count 2 */
    hm_sim_set_in_interrupt(t->sim, 1);
    tl_assert_kunmap_in_interrupt_bugs(t, PG(0), 2);
    hm_sim_set_in_interrupt(t->sim, 1);
    cr_assert(eq(int, hm_kmap(t->ctx, PG(1), &v), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_IN_INTERRUPT, HM_EINVAL, "kmap");
    hm_sim_set_in_interrupt(t->sim, 0);
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 3), 0));
}
