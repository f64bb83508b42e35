/* core_test.c - Criterion tests of the portable pkmap core (mm/highmem.c, 2.6.24) on the x86
 * backend: the subtle points of spec §9, stats, invariants and the interaction with the simulated
 * MMU (the page_address hash table: page_address_test.c). SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* x86 documented config: highmem starts at pfn 0x38000 (896 MiB), max_pfn 0x40000. */
#define HIGH0 0x38000u
#define PG(n) (HIGH0 + 0x100u + (uint32_t)(n)) /* distinct highmem pages */
#define LOWPFN 0x1234u
/* x86 PAGE_KERNEL: PRESENT|RW|ACCESSED|DIRTY|GLOBAL = 0x001|0x002|0x020|0x040|0x100 = 0x163 */
#define KPTE(pfn) ((((hm_pte_t)(pfn)) << 12) | 0x163u)

TestSuite(core, .fini = tl_fini, .timeout = 60);
TestSuite(core_sim, .fini = tl_fini, .timeout = 60);

static struct tl *open_x86(uint32_t last_pkmap)
{
    struct hm_config c = tl_cfg("x86", last_pkmap, 1);
    return tl_open(&c);
}

/* Assert that event i has the given kind, a and b. */
static void expect_ev(const struct tl *t, size_t i, int kind, uint64_t a, uint64_t b)
{
    cr_assert(lt(sz, i, t->nev), "event %zu missing (only %zu)", i, t->nev);
    cr_expect(eq(str, (char *)hm_event_name(t->ev[i].kind), (char *)hm_event_name(kind)), "event %zu kind", i);
    cr_expect(eq(u64, t->ev[i].a, a), "event %zu (%s) a", i, hm_event_name(kind));
    cr_expect(eq(u64, t->ev[i].b, b), "event %zu (%s) b", i, hm_event_name(kind));
}

/* Assert that the first four events are the flush of a 4-slot window that frees slot 2 alone. */
static void expect_flush_frees_slot_2(const struct tl *t)
{
    expect_ev(t, 0, HM_EV_FLUSH_ALL_ZERO_PKMAPS, 0, 0);
    expect_ev(t, 1, HM_EV_PTE_CLEAR, tl_pkaddr(t, 2), 0);
    expect_ev(t, 2, HM_EV_TLB_FLUSH_RANGE, tl_pkaddr(t, 0), tl_pkaddr(t, 4));
    expect_ev(t, 3, HM_EV_FLUSH_DONE, 1, 0);
}

/* ---------------------------------------------------------------------------------------
 * §9.1 pre-increment: the first kmap uses slot 1; slot 0 only right after a wrap flush.
 * ------------------------------------------------------------------------------------- */
Test(core, first_kmap_uses_slot_1_default_window)
{
    struct tl *t = open_x86(0);
    cr_assert(eq(u32, t->layout.last_pkmap, 1024));
    cr_assert(eq(u64, t->layout.pkmap_base, 0xff800000u));
    hm_vaddr_t v = tl_kmap(t, PG(0));
    /* PKMAP_ADDR(1) = 0xff800000 + (1 << 12) */
    cr_assert(eq(u64, v, 0xff801000u));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 1));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2)); /* 1 (mapped) + 1 user */
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 0), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, 0xff801000u), KPTE(PG(0))));
    cr_assert(eq(u64, hm_sim_pte(t->sim, 0xff800000u), 0));
    /* exactly one PTE write, no flush of any kind */
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_PTE_SET), 1));
    cr_assert(eq(sz, tl_ev_hw_count(t, 0), 1));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 0));
    expect_ev(t, 0, HM_EV_PTE_SET, 0xff801000u, PG(0));
    cr_assert(eq(u64, t->ev[0].pte, KPTE(PG(0))));
}

Test(core, slot_0_only_after_wrap_flush)
{
    struct tl *t = open_x86(4);
    /* S = 4: slots 1, 2, 3, then the cursor wraps to 0, flushes, and takes slot 0 */
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert(eq(u64, tl_kmap(t, PG(i)), tl_pkaddr(t, i + 1)));
        cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 0));
    }
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 0), 0));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, PG(3)), tl_pkaddr(t, 0)));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 0));
    /* the flush comes first, then the PTE write of slot 0 */
    cr_assert(eq(int, t->ev[0].kind, HM_EV_FLUSH_ALL_ZERO_PKMAPS));
    cr_assert(eq(int, t->ev[t->nev - 1].kind, HM_EV_PTE_SET));
    cr_assert(eq(u64, t->ev[t->nev - 1].a, tl_pkaddr(t, 0)));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 1));
}

/* ---------------------------------------------------------------------------------------
 * §9.2 flush on wrap, not on exhaustion; §2.1 event order.
 * ------------------------------------------------------------------------------------- */
Test(core, flush_only_on_wrap_with_ordered_events)
{
    struct tl *t = open_x86(8);
    /* kmap 7 pages: slots 1..7. Free slots remain (slot 0) but nothing flushes. */
    for (uint32_t i = 0; i < 7; i++)
        cr_assert(eq(u64, tl_kmap(t, PG(i)), tl_pkaddr(t, i + 1)));
    /* release the pages in slots 6, 2, 5 (out of order): counts drop to 1 */
    tl_kunmap(t, PG(5));
    tl_kunmap(t, PG(1));
    tl_kunmap(t, PG(4));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_TLB_FLUSH_RANGE), 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_PTE_CLEAR), 0));

    tl_ev_clear(t);
    /* the 8th kmap wraps: flush (count-1 slots 2, 5, 6 ascending), TLB flush of the window
     * [PKMAP_ADDR(0), PKMAP_ADDR(8)), then slot 0 is used */
    cr_assert(eq(u64, tl_kmap(t, PG(7)), tl_pkaddr(t, 0)));
    cr_assert(eq(sz, t->nev, 7));
    expect_ev(t, 0, HM_EV_FLUSH_ALL_ZERO_PKMAPS, 0, 0);
    expect_ev(t, 1, HM_EV_PTE_CLEAR, tl_pkaddr(t, 2), 0);
    expect_ev(t, 2, HM_EV_PTE_CLEAR, tl_pkaddr(t, 5), 0);
    expect_ev(t, 3, HM_EV_PTE_CLEAR, tl_pkaddr(t, 6), 0);
    expect_ev(t, 4, HM_EV_TLB_FLUSH_RANGE, tl_pkaddr(t, 0), tl_pkaddr(t, 8));
    expect_ev(t, 5, HM_EV_FLUSH_DONE, 3, 0);
    expect_ev(t, 6, HM_EV_PTE_SET, tl_pkaddr(t, 0), PG(7));
    /* the freed slots are empty now, the held ones untouched */
    for (uint32_t s = 0; s < 8; s++) {
        int want = (s == 2 || s == 5 || s == 6) ? 0 : 2;
        cr_expect(eq(int, hm_pkmap_count(t->ctx, s), want), "slot %u", s);
    }
    cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 2)), 0));
    cr_assert(eq(u64, tl_page_address(t, PG(1)), 0));
    cr_assert(eq(u64, tl_page_address(t, PG(4)), 0));
    cr_assert(eq(u64, tl_page_address(t, PG(5)), 0));
    tl_assert_invariants(t, "wrap flush");
}

Test(core, wrap_at_default_1024_flushes_whole_window)
{
    struct tl *t = open_x86(0);
    /* map and release 1023 pages: slots 1..1023 all end at count 1, no flush yet */
    for (uint32_t i = 0; i < 1023; i++) {
        hm_vaddr_t v = tl_kmap(t, PG(i));
        cr_expect(eq(u64, v, 0xff800000u + ((i + 1) << 12)));
        tl_kunmap(t, PG(i));
    }
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 0));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, PG(2000)), 0xff800000u));
    /* 1 enter + 1023 clears + 1 TLB range + 1 done + 1 PTE set */
    cr_assert(eq(sz, t->nev, 1027));
    expect_ev(t, 0, HM_EV_FLUSH_ALL_ZERO_PKMAPS, 0, 0);
    for (uint32_t s = 1; s < 1024; s++)
        expect_ev(t, s, HM_EV_PTE_CLEAR, 0xff800000u + (s << 12), 0);
    /* [PKMAP_ADDR(0), PKMAP_ADDR(1024)) = [0xff800000, 0xffc00000) */
    expect_ev(t, 1024, HM_EV_TLB_FLUSH_RANGE, 0xff800000u, 0xffc00000u);
    expect_ev(t, 1025, HM_EV_FLUSH_DONE, 1023, 0);
    expect_ev(t, 1026, HM_EV_PTE_SET, 0xff800000u, PG(2000));
    cr_assert(eq(u32, hm_pool_size(t->ctx), 1023));
    tl_assert_invariants(t, "1024 wrap");
}

/* ---------------------------------------------------------------------------------------
 * §9.4 TLB flush unconditional in 2.6.24, conditional with need_flush.
 * ------------------------------------------------------------------------------------- */
Test(core, flush_flushes_tlb_even_when_nothing_freed_2624)
{
    struct hm_config c = tl_cfg("x86", 4, 1);
    c.kernel = HM_KERNEL_2_6_24; /* 2.6.30 and later skip it: generations_test */
    struct tl *t = tl_open(&c);
    for (uint32_t i = 0; i < 3; i++)
        tl_kmap(t, PG(i)); /* held: nothing will be freed */
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, PG(3)), tl_pkaddr(t, 0)));
    cr_assert(eq(sz, t->nev, 4));
    expect_ev(t, 0, HM_EV_FLUSH_ALL_ZERO_PKMAPS, 0, 0);
    expect_ev(t, 1, HM_EV_TLB_FLUSH_RANGE, tl_pkaddr(t, 0), tl_pkaddr(t, 4));
    expect_ev(t, 2, HM_EV_FLUSH_DONE, 0, 0);
    expect_ev(t, 3, HM_EV_PTE_SET, tl_pkaddr(t, 0), PG(3));
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flush_ranges, 1));

    /* and kmap_flush_unused on a window with nothing to free flushes the TLB too */
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_TLB_FLUSH_RANGE), 1));
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flush_ranges, 2));
}

Test(core, need_flush_skips_tlb_flush_when_nothing_freed)
{
    struct hm_config c = tl_cfg("x86", 4, 1);
    c.need_flush = 1;
    struct tl *t = tl_open(&c);
    for (uint32_t i = 0; i < 3; i++)
        tl_kmap(t, PG(i));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, PG(3)), tl_pkaddr(t, 0)));
    /* enter, done(0), pte_set: no TLB flush */
    cr_assert(eq(sz, t->nev, 3));
    expect_ev(t, 0, HM_EV_FLUSH_ALL_ZERO_PKMAPS, 0, 0);
    expect_ev(t, 1, HM_EV_FLUSH_DONE, 0, 0);
    expect_ev(t, 2, HM_EV_PTE_SET, tl_pkaddr(t, 0), PG(3));
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flush_ranges, 0));
    cr_assert(eq(u64, tl_stats(t).flushes, 1)); /* the flush still ran */

    /* with something to free, the TLB flush happens */
    tl_kunmap(t, PG(1)); /* slot 2 -> count 1 */
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(sz, t->nev, 4));
    expect_flush_frees_slot_2(t);
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flush_ranges, 1));
}

/* ---------------------------------------------------------------------------------------
 * §9.3 the wrap resets the scan budget; EAGAIN after flush + full pass at LAST_PKMAP-1.
 * ------------------------------------------------------------------------------------- */
Test(core, wrap_resets_scan_budget)
{
    struct tl *t = open_x86(4);
    /* fill every slot: 1, 2, 3, then 0 (after a flush); the cursor is at 0 */
    for (uint32_t i = 0; i < 4; i++)
        tl_kmap(t, PG(i));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 0));
    tl_ev_clear(t);
    hm_vaddr_t v = 0x1234u;
    /* kmap_try: tests 1, 2, 3 (budget 4 -> 1), wraps to 0: flush and budget back to 4, tests
     * 0, 1, 2, 3 -> 0: EAGAIN with the cursor at 3. Without the reset it would stop at 0. */
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(9), &v), HM_EAGAIN));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 3));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 1));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_PTE_SET), 0));
    cr_assert(eq(u64, tl_page_address(t, PG(9)), 0));
    cr_assert(eq(u64, tl_stats(t).kmap_eagain, 1));

    /* the next attempt starts at 3, so its first step wraps and flushes again at once */
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(9), &v), HM_EAGAIN));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 1));
    cr_assert(eq(int, t->ev[0].kind, HM_EV_FLUSH_ALL_ZERO_PKMAPS));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 3));

    /* free one (slot 2 -> count 1): the next try's wrap flush frees it and uses it */
    tl_kunmap(t, PG(1));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(9), &v), HM_OK));
    cr_assert(eq(u64, v, tl_pkaddr(t, 2)));
    expect_ev(t, 0, HM_EV_FLUSH_ALL_ZERO_PKMAPS, 0, 0);
    expect_ev(t, 1, HM_EV_PTE_CLEAR, tl_pkaddr(t, 2), 0);
    tl_assert_invariants(t, "budget");
}

Test(core, kmap_of_mapped_page_succeeds_even_when_window_full)
{
    struct tl *t = open_x86(4);
    for (uint32_t i = 0; i < 4; i++)
        tl_kmap(t, PG(i)); /* PG(0) in slot 1 */
    tl_ev_clear(t);
    hm_vaddr_t v = 0;
    /* page_address is consulted before any scan: no EAGAIN, no flush, count 2 -> 3 */
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(0), &v), HM_OK));
    cr_assert(eq(u64, v, tl_pkaddr(t, 1)));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 3));
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 0));
}

/* ---------------------------------------------------------------------------------------
 * §9.5 / §9.12 lazy kunmap, reuse of a count-1 slot by the same page only.
 * ------------------------------------------------------------------------------------- */
Test(core, kunmap_is_lazy)
{
    struct tl *t = open_x86(8);
    hm_vaddr_t v = tl_kmap(t, PG(0));
    tl_ev_clear(t);
    tl_kunmap(t, PG(0));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 1));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
    cr_assert(eq(u64, tl_page_address(t, PG(0)), v));
    cr_assert(eq(sz, tl_ev_hw_count(t, 0), 0));
    cr_assert(eq(u32, hm_pool_size(t->ctx), 7));
}

Test(core, rekmap_of_count1_page_reuses_address_without_pte_write)
{
    struct tl *t = open_x86(8);
    hm_vaddr_t v = tl_kmap(t, PG(0));
    tl_kunmap(t, PG(0));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, PG(0)), v));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
    cr_assert(eq(sz, tl_ev_hw_count(t, 0), 0));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 1)); /* no scan */
    cr_assert(eq(u64, tl_stats(t).kmap_reuse_count1, 1));
}

Test(core, count1_slot_not_reused_by_other_page_until_flush)
{
    struct tl *t = open_x86(4);
    cr_assert(eq(u64, tl_kmap(t, PG(0)), tl_pkaddr(t, 1)));
    tl_kunmap(t, PG(0)); /* slot 1 at count 1 */
    cr_assert(eq(u64, tl_kmap(t, PG(1)), tl_pkaddr(t, 2)));
    cr_assert(eq(u64, tl_kmap(t, PG(2)), tl_pkaddr(t, 3)));
    /* wrap: the flush frees slot 1, but the scan tests slot 0 first */
    cr_assert(eq(u64, tl_kmap(t, PG(3)), tl_pkaddr(t, 0)));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 0));
    /* only now can another page take slot 1 */
    cr_assert(eq(u64, tl_kmap(t, PG(4)), tl_pkaddr(t, 1)));
    cr_assert(eq(u64, tl_page_address(t, PG(0)), 0));
    tl_assert_invariants(t, "reuse");
}

Test(core, count1_slot_ahead_of_cursor_is_skipped)
{
    struct tl *t = open_x86(4);
    tl_kmap(t, PG(0)); /* slot 1 */
    tl_kmap(t, PG(1)); /* slot 2 */
    tl_kmap(t, PG(2)); /* slot 3 */
    tl_kmap(t, PG(3)); /* wrap, flush (nothing freed), slot 0; cursor 0 */
    tl_kunmap(t, PG(1)); /* slot 2 -> count 1, ahead of the cursor */
    tl_ev_clear(t);
    /* scan: 1 busy, 2 count 1 (not usable), 3 busy, wrap: flush frees 2, 0 busy, 1 busy, 2 */
    cr_assert(eq(u64, tl_kmap(t, PG(4)), tl_pkaddr(t, 2)));
    cr_assert(eq(sz, t->nev, 5));
    expect_flush_frees_slot_2(t);
    expect_ev(t, 4, HM_EV_PTE_SET, tl_pkaddr(t, 2), PG(4));
    cr_assert(eq(u64, tl_page_address(t, PG(1)), 0));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 2));
    tl_assert_invariants(t, "skip count 1");
}

/* §9.10 / §9.13: the order of the steps around each PTE write, seen from the set_pte hook.
 * map_new_virtual: PTE write, then count = 1, then set_page_address. flush_all_zero_pkmaps:
 * count = 0, PTE clear (page_address still readable), then the association is removed. */
static unsigned observed_sets, observed_clears;

static void observe_pte_write(struct tl *t, hm_vaddr_t va, hm_pte_t pte)
{
    uint32_t slot;
    if (va < t->layout.pkmap_base || va - t->layout.pkmap_base >= (uint64_t)t->layout.last_pkmap << 12)
        return;
    slot = (uint32_t)((va - t->layout.pkmap_base) >> 12);
    if (pte) {
        observed_sets++;
        cr_assert(eq(int, hm_pkmap_count(t->ctx, slot), 0), "count already set at PTE write");
        cr_assert(eq(u64, tl_page_address(t, (hm_pfn_t)(pte >> 12)), 0), "page hashed before PTE write");
    } else {
        hm_pfn_t page = hm_pte_pfn(t->ctx, hm_sim_pte(t->sim, va));
        observed_clears++;
        cr_assert(eq(int, hm_pkmap_count(t->ctx, slot), 0), "count not yet 0 at PTE clear");
        cr_assert(eq(u64, tl_page_address(t, page), va), "page unhashed before PTE clear");
    }
}

Test(core, order_of_pte_write_count_and_hash)
{
    struct tl *t = open_x86(4);
    observed_sets = observed_clears = 0;
    t->wrap.on_set_pte = observe_pte_write;
    tl_kmap(t, PG(0));
    tl_kunmap(t, PG(0));
    tl_kmap(t, PG(1));
    tl_kmap(t, PG(2));
    tl_kmap(t, PG(3)); /* wrap: clears slot 1 */
    cr_assert(eq(u32, observed_sets, 4));
    cr_assert(eq(u32, observed_clears, 1));
    /* and afterwards both steps are complete */
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 0), 2));
    cr_assert(eq(u64, tl_page_address(t, PG(3)), tl_pkaddr(t, 0)));
    cr_assert(eq(u64, tl_page_address(t, PG(0)), 0));
}

/* ---------------------------------------------------------------------------------------
 * §9.6 / §9.14 count never reaches 0 through kunmap.
 * ------------------------------------------------------------------------------------- */
Test(core, double_kunmap_is_kunmap_zero_bug_and_changes_nothing)
{
    struct tl *t = open_x86(8);
    hm_vaddr_t v = tl_kmap(t, PG(0));
    tl_kunmap(t, PG(0));
    struct tl_snap s;
    char msg[128];
    tl_snap_take(t, &s);
    struct hm_stats before = tl_stats(t);
    cr_assert(eq(int, hm_kunmap(t->ctx, PG(0)), HM_EINVAL));
    const struct tl_bug *b = tl_last_bug(t);
    cr_assert(eq(int, b->bug, HM_BUG_KUNMAP_ZERO));
    cr_assert(eq(int, b->err, HM_EINVAL));
    cr_assert(eq(str, (char *)b->function, "kunmap_high"));
    cr_assert(eq(u64, b->arg, PG(0)));
    cr_assert(eq(int, tl_snap_diff(t, &s, msg, sizeof msg), 0), "%s", msg);
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 1));
    cr_assert(eq(u64, tl_page_address(t, PG(0)), v));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_WAKEUP), 0)); /* no fall-through into case 1 */
    cr_assert(eq(u64, tl_stats(t).wakeups, before.wakeups));
    cr_assert(eq(u64, tl_stats(t).bugs, before.bugs + 1));
    tl_snap_free(&s);
}

/* ---------------------------------------------------------------------------------------
 * kmap_high increments; round-robin slots.
 * ------------------------------------------------------------------------------------- */
Test(core, kmap_increments_existing_mapping)
{
    struct tl *t = open_x86(8);
    hm_vaddr_t v = tl_kmap(t, PG(0));
    for (int n = 3; n <= 6; n++) {
        cr_assert(eq(u64, tl_kmap(t, PG(0)), v));
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), n));
    }
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_PTE_SET), 1));
    for (int n = 5; n >= 1; n--) {
        tl_kunmap(t, PG(0));
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), n));
    }
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 1));
}

Test(core, round_robin_consecutive_slots)
{
    struct tl *t = open_x86(16);
    for (uint32_t i = 0; i < 5; i++)
        cr_assert(eq(u64, tl_kmap(t, PG(i)), tl_pkaddr(t, i + 1)));
    /* releasing slot 1 does not make it the next one: no LIFO reuse */
    tl_kunmap(t, PG(0));
    cr_assert(eq(u64, tl_kmap(t, PG(10)), tl_pkaddr(t, 6)));
    cr_assert(eq(u64, tl_kmap(t, PG(11)), tl_pkaddr(t, 7)));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 7));
}

Test(core, lowmem_kmap_is_direct_and_touches_nothing)
{
    struct tl *t = open_x86(8);
    /* lowmem: PAGE_OFFSET + (0x1234 << 12) = 0xc1234000 */
    cr_assert(eq(u64, tl_kmap(t, LOWPFN), 0xc1234000u));
    tl_kunmap(t, LOWPFN);
    tl_kunmap(t, LOWPFN); /* lowmem kunmap returns at once, however often */
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 0));
    cr_assert(eq(u64, tl_stats(t).kmap_calls, 0));
    cr_assert(eq(u32, hm_pool_size(t->ctx), 8));
}

/* ---------------------------------------------------------------------------------------
 * kmap_flush_unused (§2.2).
 * ------------------------------------------------------------------------------------- */
Test(core, flush_unused_frees_count1_keeps_in_use)
{
    struct tl *t = open_x86(8);
    tl_kmap(t, PG(0)); /* slot 1 */
    tl_kmap(t, PG(1)); /* slot 2 */
    tl_kmap(t, PG(2)); /* slot 3 */
    tl_kunmap(t, PG(0));
    tl_kunmap(t, PG(2));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 0));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 2), 2));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 3), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 1)), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 2)), KPTE(PG(1))));
    cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 3)), 0));
    cr_assert(eq(u64, tl_page_address(t, PG(0)), 0));
    cr_assert(eq(u64, tl_page_address(t, PG(1)), tl_pkaddr(t, 2)));
    cr_assert(eq(u64, tl_page_address(t, PG(2)), 0));
    cr_assert(eq(u32, hm_pool_size(t->ctx), 7));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 3)); /* the cursor does not move */
    cr_assert(eq(sz, t->nev, 5));
    expect_ev(t, 0, HM_EV_FLUSH_ALL_ZERO_PKMAPS, 0, 0);
    expect_ev(t, 1, HM_EV_PTE_CLEAR, tl_pkaddr(t, 1), 0);
    expect_ev(t, 2, HM_EV_PTE_CLEAR, tl_pkaddr(t, 3), 0);
    expect_ev(t, 3, HM_EV_TLB_FLUSH_RANGE, tl_pkaddr(t, 0), tl_pkaddr(t, 8));
    expect_ev(t, 4, HM_EV_FLUSH_DONE, 2, 0);
    tl_assert_invariants(t, "flush_unused");
    /* the next kmap continues round-robin at slot 4 */
    cr_assert(eq(u64, tl_kmap(t, PG(3)), tl_pkaddr(t, 4)));
}

/* ---------------------------------------------------------------------------------------
 * Statistics.
 * ------------------------------------------------------------------------------------- */
Test(core, stats_agree_with_history)
{
    struct tl *t = open_x86(4);
    hm_vaddr_t v;
    tl_kmap(t, PG(0));   /* new, slot 1                      calls 1 new 1 */
    tl_kmap(t, PG(0));   /* hit, count 2 -> 3                calls 2 hits 1 */
    tl_kunmap(t, PG(0)); /* 3 -> 2                           kunmap 1 */
    tl_kunmap(t, PG(0)); /* 2 -> 1                           kunmap 2 */
    tl_kmap(t, PG(0));   /* hit on a count-1 slot            calls 3 hits 2 reuse 1 */
    tl_kmap(t, PG(1));   /* new, slot 2                      calls 4 new 2 */
    tl_kmap(t, PG(2));   /* new, slot 3                      calls 5 new 3 */
    tl_kunmap(t, PG(0)); /* slot 1 -> 1                      kunmap 3 */
    tl_kmap(t, PG(3));   /* wrap: flush frees slot 1; slot 0 calls 6 new 4 flushes 1 freed 1 */
    tl_kmap(t, LOWPFN);  /* lowmem: not counted */
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(4), &v), HM_OK)); /* slot 1: calls 7 new 5 */
    /* 2, 3 busy, wrap: flush frees nothing (flushes 2), 0..3 busy: EAGAIN  calls 8 eagain 1 */
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(5), &v), HM_EAGAIN));
    struct hm_stats s = tl_stats(t);
    cr_expect(eq(u64, s.kmap_calls, 8));
    cr_expect(eq(u64, s.kmap_hits, 2));
    cr_expect(eq(u64, s.kmap_reuse_count1, 1));
    cr_expect(eq(u64, s.kmap_new, 5));
    cr_expect(eq(u64, s.kmap_eagain, 1));
    cr_expect(eq(u64, s.kunmap_calls, 3));
    cr_expect(eq(u64, s.flushes, 2));
    cr_expect(eq(u64, s.slots_freed, 1));
    cr_expect(eq(u64, s.sleeps, 0));
    cr_expect(eq(u64, s.wakeups, 0));
    cr_expect(eq(u64, s.bugs, 0));
    /* a bug: PG(0) was torn down by the flush, so kunmap finds no address */
    cr_assert(eq(int, hm_kunmap(t->ctx, PG(0)), HM_EINVAL));
    s = tl_stats(t);
    cr_expect(eq(u64, s.bugs, 1));
    cr_expect(eq(u64, s.bug_by_kind[HM_BUG_KUNMAP_UNMAPPED], 1));
    cr_expect(eq(u64, s.bug_by_kind[HM_BUG_KUNMAP_ZERO], 0));
    /* the flush events agree with the counter */
    cr_expect(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 2));
    cr_expect(eq(sz, tl_ev_count(t, HM_EV_FLUSH_DONE), 2));
}

/* ---------------------------------------------------------------------------------------
 * Invariants through a longer script, and on corrupted machines.
 * ------------------------------------------------------------------------------------- */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

static void run_script(struct tl *t, uint32_t npages, uint32_t steps, uint32_t seed)
{
    uint32_t S = t->layout.last_pkmap;
    int held[64] = {0};
    hm_vaddr_t addr[64] = {0};
    cr_assert(le(u32, npages, 64));
    tl_assert_invariants(t, "init");
    for (uint32_t step = 0; step < steps; step++) {
        uint32_t r = lcg(&seed) % 100, p = lcg(&seed) % npages;
        char where[64];
        snprintf(where, sizeof where, "step %u", step);
        if (r < 55) {
            hm_vaddr_t v = 0;
            int all_busy = 1;
            for (uint32_t s = 0; s < S; s++)
                if (hm_pkmap_count(t->ctx, s) < 2)
                    all_busy = 0;
            hm_vaddr_t before = tl_page_address(t, PG(p));
            int rc = hm_kmap_try(t->ctx, PG(p), &v);
            if (before) {
                /* already mapped: always succeeds at the same address */
                cr_assert(eq(int, rc, HM_OK), "%s", where);
                cr_assert(eq(u64, v, before), "%s", where);
            } else if (all_busy) {
                /* §2.3: only a window with every slot in use makes the scan give up */
                cr_assert(eq(int, rc, HM_EAGAIN), "%s", where);
                cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), S - 1), "%s", where);
            } else {
                cr_assert(eq(int, rc, HM_OK), "%s", where);
            }
            if (rc == HM_OK) {
                held[p]++;
                addr[p] = v;
            }
        } else if (r < 95) {
            if (held[p] > 0) {
                cr_assert(eq(int, hm_kunmap(t->ctx, PG(p)), HM_OK), "%s", where);
                held[p]--;
            }
        } else {
            cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK), "%s", where);
        }
        tl_assert_invariants(t, where);
        /* reference balance (I7) for every page still held */
        for (uint32_t q = 0; q < npages; q++) {
            if (held[q] > 0) {
                uint32_t slot = (uint32_t)((addr[q] - t->layout.pkmap_base) >> 12); /* held: in the window */
                cr_assert(eq(u64, tl_page_address(t, PG(q)), addr[q]), "%s page %u", where, q);
                cr_assert(eq(int, hm_pkmap_count(t->ctx, slot), held[q] + 1), "%s page %u", where, q);
            } else {
                hm_vaddr_t v = tl_page_address(t, PG(q));
                if (v)
                    cr_assert(eq(int, hm_pkmap_count(t->ctx, (uint32_t)((v - t->layout.pkmap_base) >> 12)), 1),
                              "%s idle page %u", where, q);
            }
        }
    }
}

Test(core, invariants_hold_after_every_step_small_window)
{
    struct tl *t = open_x86(8);
    run_script(t, 20, 1500, 12345u);
    cr_assert(gt(u64, tl_stats(t).flushes, 10));
    cr_assert(gt(u64, tl_stats(t).kmap_eagain, 0));
    cr_assert(eq(u64, tl_sim_stats(t).stale_pte_writes, 0));
}

Test(core, invariants_hold_after_every_step_default_window)
{
    struct tl *t = open_x86(0);
    run_script(t, 64, 400, 777u);
    cr_assert(eq(u64, tl_sim_stats(t).stale_pte_writes, 0));
}

Test(core, invariants_detect_pte_cleared_behind_the_back)
{
    struct tl *t = open_x86(8);
    hm_vaddr_t v = tl_kmap(t, PG(0));
    tl_assert_invariants(t, "kmap");
    /* write the sim's PTE directly through its machine hook: count 2 but PTE none -> I3 */
    t->sim_machine.set_pte(t->sim_machine.m, v, 0);
    char msg[128] = "";
    cr_assert(eq(int, hm_check_invariants(t->ctx, msg, sizeof msg), 3));
    cr_assert(not(eq(str, msg, "")));
}

Test(core, invariants_detect_pte_in_count0_slot)
{
    struct tl *t = open_x86(8);
    /* slot 2 has count 0; a present PTE there breaks I2 */
    t->sim_machine.set_pte(t->sim_machine.m, tl_pkaddr(t, 2), KPTE(PG(7)));
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 2));
}

Test(core, invariants_detect_lying_get_pte)
{
    struct tl *t = open_x86(8);
    tl_kmap(t, PG(0)); /* slot 1 */
    tl_kmap(t, PG(1)); /* slot 2 */
    tl_assert_invariants(t, "two kmaps");
    /* slot 1's PTE now claims PG(1), whose address is slot 2: I3 */
    t->wrap.lie_on = 1;
    t->wrap.lie_vaddr = tl_pkaddr(t, 1);
    t->wrap.lie_pte = KPTE(PG(1));
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 3));
    /* a lowmem page in a pkmap slot: I3 as well */
    t->wrap.lie_pte = KPTE(LOWPFN);
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 3));
    t->wrap.lie_on = 0;
    tl_assert_invariants(t, "lie removed");
}

/* ---------------------------------------------------------------------------------------
 * §9.7 wake-ups only with waiters.
 * ------------------------------------------------------------------------------------- */
Test(core, no_wakeup_without_waiters)
{
    struct tl *t = open_x86(8);
    tl_kmap(t, PG(0));
    tl_kmap(t, PG(0));
    tl_kunmap(t, PG(0)); /* 3 -> 2 */
    tl_kunmap(t, PG(0)); /* 2 -> 1, but nobody waits */
    cr_assert(eq(u32, hm_nr_waiters(t->ctx), 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_WAKEUP), 0));
    cr_assert(eq(u64, t->wrap.wakes, 0));
    cr_assert(eq(u64, tl_stats(t).wakeups, 0));
    cr_assert(eq(u64, t->wrap.sleeps, 0));
}

/* Sleeping, made deterministic: the wrapper's sleep() drops kmap_lock, runs the action below
 * as "another task", re-takes the lock and returns (no thread, no blocking). */
static void sleeper_releases_b(struct tl *t, unsigned nth)
{
    cr_assert(eq(u32, nth, 1), "slept twice");
    /* §9.3: a task sleeps only after a flush and a full pass, with the cursor at S-1 */
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 3));
    cr_assert(eq(u32, hm_nr_waiters(t->ctx), 1));
    cr_assert(eq(int, t->ev[t->nev - 1].kind, HM_EV_SLEEP));
    cr_assert(eq(u64, t->ev[t->nev - 1].a, PG(9)));
    /* §9.7: 3 -> 2 wakes nobody even with a waiter; 2 -> 1 wakes */
    tl_kunmap(t, PG(1));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_WAKEUP), 0));
    cr_assert(eq(u64, t->wrap.wakes, 0));
    tl_kunmap(t, PG(1));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_WAKEUP), 1));
    cr_assert(eq(int, t->ev[t->nev - 1].kind, HM_EV_WAKEUP));
    cr_assert(eq(u64, t->ev[t->nev - 1].a, PG(1)));
    cr_assert(eq(u64, t->wrap.wakes, 1));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 2), 1));
    tl_ev_clear(t);
}

static void fill_window_of_4(struct tl *t)
{
    tl_kmap(t, PG(0)); /* slot 1 */
    tl_kmap(t, PG(1)); /* slot 2 */
    tl_kmap(t, PG(2)); /* slot 3 */
    tl_kmap(t, PG(3)); /* slot 0, cursor 0 */
}

Test(core, sleep_wake_and_flush_again_after_wakeup)
{
    struct tl *t = open_x86(4);
    fill_window_of_4(t);
    tl_kmap(t, PG(1)); /* slot 2 at count 3 */
    t->wrap.sleep_action = sleeper_releases_b;
    hm_vaddr_t v = tl_kmap(t, PG(9));
    /* after the wake-up the page is still unmapped, so the scan restarts from S-1: its first
     * step wraps, flushes (freeing slot 2), and slot 2 is the first free one */
    cr_assert(eq(u64, v, tl_pkaddr(t, 2)));
    cr_assert(eq(sz, t->nev, 5));
    expect_flush_frees_slot_2(t);
    expect_ev(t, 4, HM_EV_PTE_SET, tl_pkaddr(t, 2), PG(9));
}

static void sleeper_other_task_maps_same_page(struct tl *t, unsigned nth)
{
    hm_vaddr_t v = 0;
    cr_assert(eq(u32, nth, 1), "slept twice");
    tl_kunmap(t, PG(1)); /* slot 2 -> count 1, wakes the waiter */
    /* another task maps the very page the sleeper wants: wrap, flush, slot 2 (kmap_try
     * never sleeps; a second sleep of the waiter fails the nth == 1 check above) */
    cr_assert(eq(int, hm_kmap_try(t->ctx, PG(9), &v), HM_OK));
    cr_assert(eq(u64, v, tl_pkaddr(t, 2)));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 2), 2));
    tl_ev_clear(t);
}

Test(core, recheck_page_address_after_sleep)
{
    struct tl *t = open_x86(4);
    fill_window_of_4(t);
    t->wrap.sleep_action = sleeper_other_task_maps_same_page;
    struct hm_stats before = tl_stats(t);
    hm_vaddr_t v = tl_kmap(t, PG(9));
    /* §9.8: the sleeper finds the page mapped and takes that address: no second slot */
    cr_assert(eq(u64, v, tl_pkaddr(t, 2)));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 2), 3));
    cr_assert(eq(sz, t->nev, 0)); /* no scan, no flush, no PTE write after the wake-up */
    cr_assert(eq(u32, hm_nr_waiters(t->ctx), 0));
    struct hm_stats after = tl_stats(t);
    cr_assert(eq(u64, after.sleeps, before.sleeps + 1));
    cr_assert(eq(u64, after.wakeups, before.wakeups + 1));
    cr_assert(eq(u64, after.kmap_new, before.kmap_new + 1)); /* only the other task's */
    cr_assert(eq(u64, t->wrap.sleeps, 1));
    tl_assert_invariants(t, "recheck");
}

/* flush_cache_kmaps() runs first, before the loop, even when nothing is freed (§2.1, §9.4):
 * an x86 variant whose hook flushes every cache. */
static void cache_flush_hook(struct hm_ctx *ctx)
{
    hm_core_flush_cache_all(ctx);
}

static struct hm_arch x86_with_cache_hook;

static struct tl *open_cache_hook_arch(int need_flush)
{
    x86_with_cache_hook = hm_arch_x86;
    x86_with_cache_hook.name = "x86-cachehook";
    x86_with_cache_hook.flush_cache_kmaps = cache_flush_hook;
    struct hm_config c = tl_cfg("x86", 4, 1);
    c.arch = &x86_with_cache_hook;
    c.need_flush = need_flush;
    return tl_open(&c);
}

Test(core, flush_cache_kmaps_runs_first_even_when_nothing_freed)
{
    for (int need_flush = 0; need_flush <= 1; need_flush++) {
        struct tl *t = open_cache_hook_arch(need_flush);
        cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
        cr_assert(ge(sz, t->nev, 3));
        expect_ev(t, 0, HM_EV_FLUSH_ALL_ZERO_PKMAPS, 0, 0);
        expect_ev(t, 1, HM_EV_CACHE_FLUSH_ALL, 0, 0);
        cr_assert(eq(u64, tl_sim_stats(t).cache_flushes, 1));
        /* something to free: cache flush, then the clears, then the TLB flush */
        tl_kmap(t, PG(0));
        tl_kunmap(t, PG(0));
        tl_ev_clear(t);
        cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
        cr_assert(eq(sz, t->nev, 5));
        expect_ev(t, 0, HM_EV_FLUSH_ALL_ZERO_PKMAPS, 0, 0);
        expect_ev(t, 1, HM_EV_CACHE_FLUSH_ALL, 0, 0);
        expect_ev(t, 2, HM_EV_PTE_CLEAR, tl_pkaddr(t, 1), 0);
        expect_ev(t, 3, HM_EV_TLB_FLUSH_RANGE, tl_pkaddr(t, 0), tl_pkaddr(t, 4));
        expect_ev(t, 4, HM_EV_FLUSH_DONE, 1, 0);
        tl_close(t);
    }
}

/* ---------------------------------------------------------------------------------------
 * Through the simulated MMU.
 * ------------------------------------------------------------------------------------- */
Test(core_sim, load_sees_mapped_page_and_wrap_flush_prevents_stale_reads)
{
    struct hm_config c = tl_cfg("x86", 4, 2);
    struct tl *t = tl_open(&c);
    for (uint32_t i = 0; i < 5; i++)
        tl_mark(t, PG(i), (uint8_t)(0xa0 + i));
    hm_vaddr_t va = tl_kmap(t, PG(0));
    cr_assert(eq(u64, va, tl_pkaddr(t, 1)));
    cr_assert(eq(u8, tl_load(t, 1, va), 0xa0));
    hm_pfn_t cached = 0;
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 1, va, &cached), 1));
    cr_assert(eq(u32, cached, PG(0)));
    tl_kunmap(t, PG(0));
    cr_assert(eq(u8, tl_load(t, 1, va), 0xa0)); /* lazy: still a valid mapping */
    tl_kmap(t, PG(1));                           /* slot 2 */
    tl_kmap(t, PG(2));                           /* slot 3 */
    cr_assert(eq(u64, tl_kmap(t, PG(3)), tl_pkaddr(t, 0))); /* wrap: flush frees slot 1 */
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 1, va, NULL), 0));
    cr_assert(eq(u64, tl_kmap(t, PG(4)), va)); /* the same address, another page */
    cr_assert(eq(u8, tl_load(t, 1, va), 0xa4));
    cr_assert(eq(u8, tl_load(t, 0, va), 0xa4));
    struct hm_sim_stats st = tl_sim_stats(t);
    cr_assert(eq(u64, st.stale_pte_writes, 0));
    cr_assert(eq(u64, st.stale_tlb_hits, 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_STALE_TLB), 0));
}

/* The largest highmem_pages of each arch (documented at struct hm_config): max_pfn reaches the
 * limit of its PTEs (2^20 or 2^24 pfns) and one page more is refused. */
Test(core, highmem_pages_cover_every_pfn_the_ptes_address)
{
    static const struct {
        const char *arch;
        uint32_t pages, max_pfn;
    } want[] = {
        {"x86", 0xc8000u, 1u << 20},
        {"x86-pae", 0xfc8000u, 1u << 24},
        {"ppc", 0xd0000u, 1u << 20},
        {"sparc", 0xff4000u, 1u << 24},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct hm_config c = tl_cfg(want[i].arch, 0, 1);
        struct hm_layout l;
        c.highmem_pages = want[i].pages;
        cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK), "%s", want[i].arch);
        cr_assert(eq(u32, l.max_pfn, want[i].max_pfn), "%s", want[i].arch);
        c.highmem_pages++;
        cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL), "%s: one page more", want[i].arch);
    }
}

/* The suite runs in the mode HM_TEST_LOCKING names (.ci/run runs it with each): the fixture's
 * context really runs it (this build has the fast path: x86-64). */
Test(core, suite_runs_the_locking_mode_asked_for)
{
    const char *env = getenv("HM_TEST_LOCKING");
    struct tl *t = open_x86(4);
    int want = env && strcmp(env, "kernel") == 0 ? HM_LOCKING_KERNEL : HM_LOCKING_FAST;
    cr_assert(eq(int, hm_ctx_locking(t->ctx), want));
    cr_assert(eq(int, hm_ctx_locking(NULL), -1));
}

/* The suites run in the generation HM_TEST_KERNEL names (.ci/run runs them with 2.6.24, 2.6.30
 * and 5.11): the fixture's context really follows it, and a test that names its own keeps it. */
Test(core, suite_runs_the_generation_asked_for)
{
    const char *env = getenv("HM_TEST_KERNEL");
    int want = env && *env ? hm_kernel_find(env) : HM_KERNEL_2_6_24;
    cr_assert(ge(int, want, 0), "HM_TEST_KERNEL=%s", env);
    struct tl *t = open_x86(4);
    cr_assert(eq(int, hm_ctx_kernel(t->ctx), want));
    struct hm_config c = tl_cfg("x86", 4, 1);
    c.kernel = want == HM_KERNEL_5_11 ? HM_KERNEL_2_6_24 : HM_KERNEL_5_11;
    t = tl_open(&c);
    cr_assert(eq(int, hm_ctx_kernel(t->ctx), c.kernel));
}
