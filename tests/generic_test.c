/* generic_test.c - Criterion tests of the generic (!CONFIG_HIGHMEM) backend of spec §6:
 * every page is lowmem, kmap is page_address, kunmap a no-op, the atomic forms only move the
 * pagefault-disable depth. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testlib.h"

TestSuite(generic, .fini = tl_fini, .timeout = 30);

static struct tl *open_generic(uint32_t cpus)
{
    struct hm_config c = tl_cfg("generic", 0, cpus);
    return tl_open(&c);
}

Test(generic, layout_has_no_highmem)
{
    struct tl *t = open_generic(1);
    const struct hm_layout *l = hm_ctx_layout(t->ctx);
    cr_assert(not(eq(ptr, (void *)l, NULL)));
    cr_assert(eq(str, (char *)hm_arch_name(t->cfg.arch), "generic"));
    cr_assert(eq(u32, l->last_pkmap, 0));
    cr_assert(eq(u64, l->pkmap_base, 0));
    cr_assert(eq(u32, l->highmem_start_pfn, l->max_pfn));
    cr_assert(eq(u64, l->page_offset, 0xc0000000u));
    cr_assert(eq(u32, l->page_size, 4096));
    cr_assert(eq(u32, l->nr_km_types, 13));
    cr_assert(eq(u32, hm_pool_size(t->ctx), 0));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 0), -1)); /* no slot 0 */
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 0));
    /* every valid pfn is lowmem */
    cr_assert(eq(int, hm_page_is_highmem(t->ctx, 0), 0));
    cr_assert(eq(int, hm_page_is_highmem(t->ctx, l->max_pfn - 1), 0));
    cr_assert(eq(int, hm_page_is_highmem(t->ctx, l->max_pfn), -1));
}

Test(generic, kmap_is_page_address_without_events)
{
    struct tl *t = open_generic(1);
    hm_vaddr_t v = 0;
    /* PAGE_OFFSET + (pfn << 12) */
    cr_assert(eq(u64, tl_kmap(t, 0), 0xc0000000u));
    cr_assert(eq(u64, tl_kmap(t, 0x1234u), 0xc1234000u));
    cr_assert(eq(u64, tl_kmap(t, t->layout.max_pfn - 1), 0xc0000000u + ((t->layout.max_pfn - 1) << 12)));
    cr_assert(eq(int, hm_kmap_try(t->ctx, 0x1234u, &v), HM_OK));
    cr_assert(eq(u64, v, 0xc1234000u));
    cr_assert(eq(u64, tl_page_address(t, 0x1234u), 0xc1234000u));
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(u64, tl_stats(t).kmap_calls, 0));
    /* nothing to scan: the cursor never moves */
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), 0));
    tl_kmap(t, 0x1234u);
    tl_kmap(t, 0x1234u);
    cr_assert(eq(u64, tl_kmap(t, 0x1234u), 0xc1234000u));
}

Test(generic, kunmap_is_a_noop_even_repeated)
{
    struct tl *t = open_generic(1);
    for (int i = 0; i < 5; i++)
        tl_kunmap(t, 0x1234u); /* never mapped, five times: fine */
    tl_kmap(t, 0x42u);
    for (int i = 0; i < 3; i++)
        tl_kunmap(t, 0x42u);
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(sz, t->nbugs, 0));
    cr_assert(eq(u64, tl_stats(t).bugs, 0));
    /* no in_interrupt check either (the generic kunmap only evaluates its argument) */
    hm_sim_set_in_interrupt(t->sim, 1);
    tl_kunmap(t, 0x42u);
    hm_sim_set_in_interrupt(t->sim, 0);
    cr_assert(eq(sz, t->nbugs, 0));
}

Test(generic, kmap_atomic_moves_only_the_depth)
{
    struct tl *t = open_generic(2);
    hm_vaddr_t v = 0, w = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, 0x1234u, 3, &v), HM_OK));
    cr_assert(eq(u64, v, 0xc1234000u));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 1));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    /* the same type again: no slot, so no busy check */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, 0x1235u, 3, &w), HM_OK));
    cr_assert(eq(u64, w, 0xc1235000u));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 2));
    /* kmap_atomic_prot ignores prot */
    cr_assert(eq(int, hm_kmap_atomic_prot(t->ctx, 0, 0x10u, 0, 0xfffu, &w), HM_OK));
    cr_assert(eq(u64, w, 0xc0010000u));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v, 3), HM_OK));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, w, 7), HM_OK)); /* any address, any type */
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, 0, 0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(sz, t->nev, 0));
    /* at depth 0 the unmap is unbalanced */
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v, 3), HM_EINVAL));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_ATOMIC_UNBALANCED));
    cr_assert(eq(int, tl_last_bug(t)->err, HM_EINVAL));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 0));
}

Test(generic, kmap_atomic_pfn_is_kmap_atomic_of_the_page)
{
    struct tl *t = open_generic(1);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, 0x777u, 5, &v), HM_OK));
    cr_assert(eq(u64, v, 0xc0777000u));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, 5), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(sz, t->nev, 0));
}

Test(generic, kmap_atomic_to_page_is_virt_to_page)
{
    struct tl *t = open_generic(1);
    hm_pfn_t pfn = 0;
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xc1234abcu, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x1234u));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xc0000000u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, 0xc0777fffu, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x777u));
}

Test(generic, flush_unused_is_a_noop)
{
    struct tl *t = open_generic(1);
    tl_kmap(t, 0x10u);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(u64, tl_stats(t).flushes, 0));
    struct hm_sim_stats st = tl_sim_stats(t);
    cr_assert(eq(u64, st.tlb_flush_ranges + st.tlb_flush_pages + st.tlb_flush_alls, 0));
}

Test(generic, pfn_out_of_range)
{
    struct tl *t = open_generic(1);
    hm_vaddr_t v = 0x99u;
    hm_pfn_t max = t->layout.max_pfn;
    cr_assert(eq(int, hm_kmap(t->ctx, max, &v), HM_ERANGE));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_PFN_RANGE));
    cr_assert(eq(int, hm_kmap_try(t->ctx, max + 100u, &v), HM_ERANGE));
    cr_assert(eq(int, hm_kunmap(t->ctx, max), HM_ERANGE));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, max, 0, &v), HM_ERANGE));
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, 0xffffffffu, 0, &v), HM_ERANGE));
    cr_assert(eq(int, hm_page_address(t->ctx, max, &v), HM_ERANGE));
    cr_assert(eq(u64, v, 0x99u));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(u64, tl_stats(t).bug_by_kind[HM_BUG_PFN_RANGE], 6));
}
