/* generations_test.c - Criterion tests of the kernel generations (hm_config.kernel, enum
 * hm_kernel): names and validation, what 2.6.30 changes in flush_all_zero_pkmaps, and
 * kmap_high_get (spec §10.1) where the generation and the arch have it. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

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
