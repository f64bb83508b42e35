/* generations_test.c - Criterion tests of the kernel generations (hm_config.kernel, enum
 * hm_kernel): names and validation, what 2.6.30 changes in flush_all_zero_pkmaps, and
 * kmap_high_get (spec §10.1) where the generation and the arch have it. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/hm_internal.h"
#include "testlib.h"

/* x86: highmem starts at pfn 0x38000. */
#define HIGH0 0x38000u
#define PG(n) (HIGH0 + 0x100u + (uint32_t)(n))

TestSuite(generations, .fini = tl_fini, .timeout = 60);

/* ---------------------------------------------------------------------------------------
 * Names, validation, the context's generation.
 * ------------------------------------------------------------------------------------- */
Test(generations, names_round_trip)
{
    static const struct {
        int kernel;
        const char *name;
    } want[] = {{HM_KERNEL_2_6_24, "2.6.24"}, {HM_KERNEL_2_6_30, "2.6.30"}, {HM_KERNEL_5_11, "5.11"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cr_assert(eq(str, (char *)hm_kernel_name(want[i].kernel), (char *)want[i].name));
        cr_assert(eq(int, hm_kernel_find(want[i].name), want[i].kernel));
    }
    cr_assert(hm_kernel_name(-1) == NULL);
    cr_assert(hm_kernel_name(3) == NULL);
    cr_assert(eq(int, hm_kernel_find(NULL), -1));
    cr_assert(eq(int, hm_kernel_find(""), -1));
    cr_assert(eq(int, hm_kernel_find("2.6"), -1));
    cr_assert(eq(int, hm_kernel_find("2.6.300"), -1));
    cr_assert(eq(int, hm_kernel_find("5.11 "), -1));
}

Test(generations, unknown_kernel_is_einval)
{
    struct hm_config c = tl_cfg("x86", 4, 1);
    struct hm_layout l;
    for (int k = -2; k <= 4; k++) {
        int known = k >= HM_KERNEL_2_6_24 && k <= HM_KERNEL_5_11;
        c.kernel = k;
        cr_assert(eq(int, hm_layout_compute(&c, &l), known ? HM_OK : HM_EINVAL), "kernel %d", k);
        if (known)
            cr_assert(eq(u32, l.kernel, (uint32_t)k));
        cr_assert(eq(int, hm_ctx_size(&c) != 0, known), "hm_ctx_size, kernel %d", k);
    }
    /* hm_ctx_init refuses it before it touches the storage */
    c.kernel = 3;
    static _Alignas(64) unsigned char mem[1 << 16];
    struct hm_machine m = {0};
    struct hm_ctx *ctx = NULL;
    c.arch = hm_arch_find("generic"); /* no set_pte needed */
    cr_assert(eq(int, hm_ctx_init(mem, sizeof mem, &c, &m, NULL, &ctx), HM_EINVAL));
    cr_assert(ctx == NULL);
    c.kernel = HM_KERNEL_5_11;
    cr_assert(eq(int, hm_ctx_init(mem, sizeof mem, &c, &m, NULL, &ctx), HM_OK));
    cr_assert(eq(int, hm_ctx_kernel(ctx), HM_KERNEL_5_11));
    cr_assert(eq(int, hm_ctx_kernel(NULL), -1));
}

Test(generations, zeroed_config_is_2_6_24)
{
    struct hm_config c = tl_cfg("x86", 4, 1);
    c.kernel = 0; /* left zero, whatever generation the run's tl_cfg chose */
    struct tl *t = tl_open(&c);
    cr_assert(eq(int, hm_ctx_kernel(t->ctx), HM_KERNEL_2_6_24));
    cr_assert(eq(u32, t->layout.kernel, HM_KERNEL_2_6_24));
}

/* ---------------------------------------------------------------------------------------
 * 2.6.30 and later: flush_all_zero_pkmaps flushes the TLB only when it freed a slot, whatever
 * need_flush says; 2.6.24 flushes every time unless need_flush is set (spec §9.4, I12).
 * ------------------------------------------------------------------------------------- */
/* Fill a 4-slot window with held kmaps (slots 1, 2, 3), then kmap a fourth page: the cursor
 * wraps, the flush frees nothing, slot 0 is taken. Returns the TLB range flushes that wrap made. */
static size_t flushes_of_wrap_with_nothing_freed(int kernel, int need_flush)
{
    struct hm_config c = tl_cfg("x86", 4, 1);
    c.kernel = kernel;
    c.need_flush = need_flush;
    struct tl *t = tl_open(&c);
    for (uint32_t i = 0; i < 3; i++)
        tl_kmap(t, PG(i));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, PG(3)), tl_pkaddr(t, 0)));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 1));
    size_t n = tl_ev_count(t, HM_EV_TLB_FLUSH_RANGE);
    /* and a flush that frees a slot flushes in every generation */
    tl_kunmap(t, PG(1));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_TLB_FLUSH_RANGE), 1), "kernel %d: a freeing flush", kernel);
    tl_assert_invariants(t, "after the flushes");
    tl_close(t);
    return n;
}

Test(generations, from_2_6_30_the_flush_needs_a_freed_slot)
{
    cr_assert(eq(sz, flushes_of_wrap_with_nothing_freed(HM_KERNEL_2_6_24, 0), 1));
    cr_assert(eq(sz, flushes_of_wrap_with_nothing_freed(HM_KERNEL_2_6_24, 1), 0));
    cr_assert(eq(sz, flushes_of_wrap_with_nothing_freed(HM_KERNEL_2_6_30, 0), 0));
    cr_assert(eq(sz, flushes_of_wrap_with_nothing_freed(HM_KERNEL_2_6_30, 1), 0));
    cr_assert(eq(sz, flushes_of_wrap_with_nothing_freed(HM_KERNEL_5_11, 0), 0));
}

/* ---------------------------------------------------------------------------------------
 * kmap_high_get (spec §10.1): only on arm from 2.6.30; pins a kmapped page, else address 0.
 * ------------------------------------------------------------------------------------- */
/* arm: highmem starts at pfn 0x37000 */
#define ARM_HIGH0 0x37000u
#define APG(n) (ARM_HIGH0 + 0x40u + (uint32_t)(n))

static struct tl *open_gen(const char *arch, int kernel, uint32_t last_pkmap)
{
    struct hm_config c = tl_cfg(arch, last_pkmap, 1);
    c.kernel = kernel;
    return tl_open(&c);
}

/* A call the generation or arch does not have: EINVAL, UNAVAILABLE, nothing changed. */
static void assert_unavailable(const char *arch, int kernel, hm_pfn_t pfn)
{
    struct tl *t = open_gen(arch, kernel, 8);
    hm_vaddr_t v = 0x77u;
    struct tl_snap s;
    tl_kmap(t, pfn);
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kmap_high_get(t->ctx, pfn, &v), HM_EINVAL), "%s %s", arch, hm_kernel_name(kernel));
    tl_assert_last_bug(t, HM_BUG_UNAVAILABLE, HM_EINVAL, "kmap_high_get");
    s.nev = t->nev; /* the BUG event */
    tl_snap_assert_same(t, &s, "kmap_high_get unavailable");
    cr_assert(eq(u64, v, 0x77u));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
    tl_close(t);
}

Test(generations, kmap_high_get_only_where_the_kernel_has_it)
{
    for (int k = HM_KERNEL_2_6_24; k <= HM_KERNEL_5_11; k++) {
        assert_unavailable("x86", k, PG(0));
        assert_unavailable("sparc", k, 0xc000u + 5u);
    }
    assert_unavailable("arm", HM_KERNEL_2_6_24, APG(0));
    assert_unavailable("arm-vipt", HM_KERNEL_2_6_24, APG(0));
}

Test(generations, kmap_high_get_pins_a_mapped_page_only)
{
    for (int k = HM_KERNEL_2_6_30; k <= HM_KERNEL_5_11; k++) {
        struct tl *t = open_gen("arm", k, 4);
        hm_vaddr_t v = 0x77u;
        struct tl_snap s;
        /* not mapped: OK, address 0, nothing changed, no event */
        tl_snap_take(t, &s);
        cr_assert(eq(int, hm_kmap_high_get(t->ctx, APG(0), &v), HM_OK));
        cr_assert(eq(u64, v, 0));
        tl_snap_assert_same(t, &s, "kmap_high_get of an unmapped page");
        /* mapped and held: one more reference at its address */
        hm_vaddr_t pv = tl_kmap(t, APG(0));
        cr_assert(eq(int, hm_kmap_high_get(t->ctx, APG(0), &v), HM_OK));
        cr_assert(eq(u64, v, pv));
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 3));
        tl_kunmap(t, APG(0));
        tl_kunmap(t, APG(0));
        /* count 1 (cached, unused): pinned to 2, so the next flush keeps it */
        tl_ev_clear(t);
        cr_assert(eq(int, hm_kmap_high_get(t->ctx, APG(0), &v), HM_OK));
        cr_assert(eq(u64, v, pv));
        cr_assert(eq(sz, tl_ev_hw_count(t, 0), 0), "a pin writes no PTE and flushes nothing");
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
        cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
        cr_assert(eq(u64, tl_page_address(t, APG(0)), pv));
        /* the pin's release, then the flush frees the slot */
        tl_kunmap(t, APG(0));
        cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 0));
        cr_assert(eq(int, hm_kmap_high_get(t->ctx, APG(0), &v), HM_OK));
        cr_assert(eq(u64, v, 0));
        tl_assert_invariants(t, hm_kernel_name(k));
        tl_close(t);
    }
}

/* Never sleeps, never takes a slot: with every slot held, an unmapped page is address 0 at
 * once, without the scan (the cursor does not move); in interrupt context as well. */
Test(generations, kmap_high_get_never_sleeps_nor_maps)
{
    struct tl *t = open_gen("arm-vipt", HM_KERNEL_2_6_30, 4);
    hm_vaddr_t v = 0x77u;
    for (uint32_t i = 0; i < 4; i++)
        tl_kmap(t, APG(i));
    uint32_t cursor = hm_last_pkmap_nr(t->ctx);
    hm_sim_set_in_interrupt(t->sim, 1);
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_high_get(t->ctx, APG(9), &v), HM_OK));
    cr_assert(eq(u64, v, 0));
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), cursor));
    cr_assert(eq(u64, tl_stats(t).sleeps, 0));
    cr_assert(eq(int, hm_kmap_high_get(t->ctx, APG(2), &v), HM_OK));
    cr_assert(eq(u64, v, tl_page_address(t, APG(2))));
    cr_assert(eq(int, hm_kunmap(t->ctx, APG(2)), HM_OK)); /* the release, in interrupt context */
    hm_sim_set_in_interrupt(t->sim, 0);
    cr_assert(eq(sz, t->nbugs, 0));
}

Test(generations, kmap_high_get_bad_arguments)
{
    struct tl *t = open_gen("arm", HM_KERNEL_2_6_30, 4);
    hm_vaddr_t v = 0x77u;
    struct tl_snap s;
    tl_kmap(t, APG(0));
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kmap_high_get(t->ctx, APG(0), NULL), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_BAD_ARG, HM_EINVAL, "kmap_high_get");
    cr_assert(eq(int, hm_kmap_high_get(t->ctx, 0x1234u, &v), HM_EINVAL)); /* lowmem */
    tl_assert_last_bug(t, HM_BUG_BAD_ARG, HM_EINVAL, "kmap_high_get");
    cr_assert(eq(int, hm_kmap_high_get(t->ctx, t->layout.max_pfn, &v), HM_ERANGE));
    tl_assert_last_bug(t, HM_BUG_PFN_RANGE, HM_ERANGE, "kmap_high_get");
    cr_assert(eq(int, hm_kmap_high_get(NULL, APG(0), &v), HM_EINVAL));
    s.nev = t->nev; /* the three BUG events */
    tl_snap_assert_same(t, &s, "kmap_high_get with bad arguments");
    cr_assert(eq(u64, v, 0x77u));
}

/* The BUG: the page is hashed but its slot's count is below 1 before the increment (only a
 * corrupted context gets there: the flush that zeroes a count unhashes the page under the same
 * lock). EINVAL, KMAP_HIGH_GET_COUNT, nothing changed; in both locking modes (the fast one
 * then falls back to the locked path, whose check this is). */
Test(generations, kmap_high_get_count_below_1_bugs)
{
    struct tl *t = open_gen("arm", HM_KERNEL_2_6_30, 4);
    hm_vaddr_t v = 0x77u;
    struct tl_snap s;
    tl_kmap(t, APG(0)); /* slot 1 */
    struct hm_slot *sl = hm_slot(t->ctx, 1);
    sl->word = HM_WORD(hm_word_page(sl->word), 0);
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kmap_high_get(t->ctx, APG(0), &v), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_KMAP_HIGH_GET_COUNT, HM_EINVAL, "kmap_high_get");
    cr_assert(eq(u64, tl_last_bug(t)->arg, APG(0)));
    s.nev = t->nev;
    tl_snap_assert_same(t, &s, "kmap_high_get of a count-0 slot");
    cr_assert(eq(u64, v, 0x77u));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 0));
    sl->word = HM_WORD(hm_word_page(sl->word), 2); /* repaired, for the fixture's close */
}
