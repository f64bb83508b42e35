/* errors_test.c - Criterion tests of every error path of libhighmem: the returned code, the
 * bug hook's report (bug, err, function, arg), the HM_EV_BUG event, and that the context,
 * the page tables and the event stream are left unchanged. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define HIGH0 0x38000u
#define MAXPFN 0x40000u
#define PG(n) (HIGH0 + 0x300u + (uint32_t)(n))
#define LOWPFN 0x1234u
#define KM_USER0 3u

TestSuite(errors, .fini = tl_fini, .timeout = 30);
TestSuite(names, .timeout = 30);

/* An x86 machine (LAST_PKMAP 8, 2 CPUs) with some state: PG(0) kmapped (slot 1, count 2),
 * PG(1) kmapped and released (slot 2, count 1), PG(2) atomically mapped on cpu 0. */
static struct tl *busy_machine(int opts)
{
    struct hm_config c = tl_cfg("x86", 8, 2);
    struct tl *t = tl_open_opts(&c, opts);
    hm_vaddr_t v = 0;
    tl_kmap(t, PG(0));
    tl_kmap(t, PG(1));
    tl_kunmap(t, PG(1));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(2), KM_USER0, &v), HM_OK));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 2), 1));
    return t;
}

/* One erroring call: its code, exactly one new bug report with these fields, an HM_EV_BUG
 * event as the last event, and nothing else changed. fn NULL: do not check the name. */
#define CHECK_BUG(t, s, call, want_rc, want_bug, fn, want_arg)                              \
    do {                                                                                     \
        size_t nb_ = (t)->nbugs; /* read before the call */                                  \
        int rc_ = (call);                                                                    \
        check_bug((t), (s), #call, nb_, rc_, (want_rc), (want_bug), (fn), (want_arg));       \
    } while (0)

static void check_bug(struct tl *t, const struct tl_snap *s, const char *what, size_t nbugs_before,
                      int rc, int want_rc, int want_bug, const char *fn, uint64_t want_arg)
{
    char msg[160];
    cr_assert(eq(str, (char *)hm_strerror(rc), (char *)hm_strerror(want_rc)), "%s", what);
    cr_assert(eq(sz, t->nbugs, nbugs_before + 1), "%s: one bug report", what);
    const struct tl_bug *b = tl_last_bug(t);
    cr_assert(eq(str, (char *)hm_bug_name(b->bug), (char *)hm_bug_name(want_bug)), "%s", what);
    cr_assert(eq(int, b->err, want_rc), "%s", what);
    cr_assert(not(eq(ptr, (void *)b->function, NULL)), "%s", what);
    if (fn)
        cr_assert(eq(str, (char *)b->function, (char *)fn), "%s", what);
    cr_assert(eq(u64, b->arg, want_arg), "%s", what);
    cr_assert(gt(sz, t->nev, 0), "%s", what);
    const struct hm_event *ev = &t->ev[t->nev - 1];
    cr_assert(eq(int, ev->kind, HM_EV_BUG), "%s: last event", what);
    cr_assert(eq(u64, ev->a, (uint32_t)want_bug), "%s", what);
    cr_assert(eq(u64, ev->b, want_arg), "%s", what);
    cr_assert(eq(int, tl_snap_diff(t, s, msg, sizeof msg), 0), "%s: %s", what, msg);
    /* the invariants of the real machine (a lying get_pte is switched off for the check) */
    int lie = t->wrap.lie_on;
    t->wrap.lie_on = 0;
    cr_assert(eq(int, hm_check_invariants(t->ctx, msg, sizeof msg), 0), "%s: %s", what, msg);
    t->wrap.lie_on = lie;
}

/* ---------------------------------------------------------------------------------------
 * Contexts that are not contexts.
 * ------------------------------------------------------------------------------------- */
static void expect_rejected(struct hm_ctx *ctx)
{
    hm_vaddr_t v = 0x5au;
    hm_pfn_t p = 0x5bu;
    cr_assert(eq(int, hm_kmap(ctx, PG(0), &v), HM_EINVAL));
    cr_assert(eq(int, hm_kmap_try(ctx, PG(0), &v), HM_EINVAL));
    cr_assert(eq(int, hm_kunmap(ctx, PG(0)), HM_EINVAL));
    cr_assert(eq(int, hm_kmap_flush_unused(ctx), HM_EINVAL));
    cr_assert(eq(int, hm_kmap_atomic(ctx, 0, PG(0), 0, &v), HM_EINVAL));
    cr_assert(eq(int, hm_kmap_atomic_prot(ctx, 0, PG(0), 0, 0x163u, &v), HM_EINVAL));
    cr_assert(eq(int, hm_kmap_atomic_pfn(ctx, 0, PG(0), 0, &v), HM_EINVAL));
    cr_assert(eq(int, hm_kunmap_atomic(ctx, 0, 0xfffb9000u, 0), HM_EINVAL));
    cr_assert(eq(int, hm_kmap_atomic_to_page(ctx, 0xc0001000u, &p), HM_EINVAL));
    cr_assert(eq(int, hm_kmap_to_page(ctx, 0xc0001000u, &p), HM_EINVAL));
    cr_assert(eq(int, hm_page_address(ctx, LOWPFN, &v), HM_EINVAL));
    cr_assert(eq(u64, v, 0x5au));
    cr_assert(eq(u32, p, 0x5bu));
    cr_assert(eq(int, hm_page_is_highmem(ctx, LOWPFN), -1));
    cr_assert(eq(int, hm_pkmap_count(ctx, 0), -1));
    cr_assert(eq(int, hm_pagefault_depth(ctx, 0), -1));
    cr_assert(eq(ptr, (void *)hm_ctx_layout(ctx), NULL));
    cr_assert(eq(u32, hm_pool_size(ctx), 0));
    cr_assert(eq(u32, hm_bucket_size(ctx, 0), 0));
    cr_assert(not(eq(int, hm_check_invariants(ctx, NULL, 0), 0)));
    struct hm_stats st;
    memset(&st, 0xff, sizeof st);
    hm_get_stats(ctx, &st); /* must not crash */
    cr_assert(eq(u64, st.bugs, 0));
}

Test(errors, null_ctx)
{
    expect_rejected(NULL);
}

Test(errors, uninitialised_storage)
{
    struct hm_config c = tl_cfg("x86", 8, 1);
    size_t size = hm_ctx_size(&c), align = hm_ctx_align();
    size_t rounded = (size + align - 1) / align * align;
    void *mem = aligned_alloc(align, rounded);
    cr_assert(not(eq(ptr, mem, NULL)));
    memset(mem, 0, rounded);
    expect_rejected((struct hm_ctx *)mem);
    memset(mem, 0xa5, rounded);
    expect_rejected((struct hm_ctx *)mem);
    free(mem);
}

/* ---------------------------------------------------------------------------------------
 * Bad arguments on a live context.
 * ------------------------------------------------------------------------------------- */
Test(errors, null_out_pointers)
{
    struct tl *t = busy_machine(0);
    struct tl_snap s;
    tl_snap_take(t, &s);
    CHECK_BUG(t, &s, hm_kmap(t->ctx, PG(3), NULL), HM_EINVAL, HM_BUG_BAD_ARG, "kmap", PG(3));
    CHECK_BUG(t, &s, hm_kmap_try(t->ctx, PG(3), NULL), HM_EINVAL, HM_BUG_BAD_ARG, "kmap", PG(3));
    CHECK_BUG(t, &s, hm_kmap(t->ctx, PG(0), NULL), HM_EINVAL, HM_BUG_BAD_ARG, "kmap", PG(0));
    CHECK_BUG(t, &s, hm_kmap_atomic(t->ctx, 1, PG(3), 0, NULL), HM_EINVAL, HM_BUG_BAD_ARG, "kmap_atomic", PG(3));
    CHECK_BUG(t, &s, hm_kmap_atomic_prot(t->ctx, 1, PG(3), 0, 0x163u, NULL), HM_EINVAL, HM_BUG_BAD_ARG, NULL, PG(3));
    CHECK_BUG(t, &s, hm_kmap_atomic_pfn(t->ctx, 1, PG(3), 0, NULL), HM_EINVAL, HM_BUG_BAD_ARG, "kmap_atomic_pfn",
              PG(3));
    CHECK_BUG(t, &s, hm_kmap_atomic_to_page(t->ctx, 0xc0001000u, NULL), HM_EINVAL, HM_BUG_BAD_ARG,
              "kmap_atomic_to_page", 0xc0001000u);
    CHECK_BUG(t, &s, hm_kmap_to_page(t->ctx, 0xc0001000u, NULL), HM_EINVAL, HM_BUG_BAD_ARG, "kmap_to_page",
              0xc0001000u);
    CHECK_BUG(t, &s, hm_page_address(t->ctx, PG(0), NULL), HM_EINVAL, HM_BUG_BAD_ARG, "page_address", PG(0));
    hm_get_stats(t->ctx, NULL); /* no crash */
    cr_assert(eq(u64, tl_stats(t).bug_by_kind[HM_BUG_BAD_ARG], 9));
    tl_snap_free(&s);
}

Test(errors, pfn_out_of_range_everywhere)
{
    struct tl *t = busy_machine(0);
    struct tl_snap s;
    hm_pfn_t bad[] = {MAXPFN, MAXPFN + 1u, 0xffffffffu};
    hm_vaddr_t v = 0x5au;
    tl_snap_take(t, &s);
    cr_assert(eq(u32, t->layout.max_pfn, MAXPFN));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hm_pfn_t p = bad[i];
        CHECK_BUG(t, &s, hm_kmap(t->ctx, p, &v), HM_ERANGE, HM_BUG_PFN_RANGE, "kmap", p);
        CHECK_BUG(t, &s, hm_kmap_try(t->ctx, p, &v), HM_ERANGE, HM_BUG_PFN_RANGE, "kmap", p);
        CHECK_BUG(t, &s, hm_kunmap(t->ctx, p), HM_ERANGE, HM_BUG_PFN_RANGE, "kunmap", p);
        CHECK_BUG(t, &s, hm_kmap_atomic(t->ctx, 1, p, 0, &v), HM_ERANGE, HM_BUG_PFN_RANGE, "kmap_atomic", p);
        CHECK_BUG(t, &s, hm_kmap_atomic_prot(t->ctx, 1, p, 0, 0x163u, &v), HM_ERANGE, HM_BUG_PFN_RANGE, NULL, p);
        CHECK_BUG(t, &s, hm_kmap_atomic_pfn(t->ctx, 1, p, 0, &v), HM_ERANGE, HM_BUG_PFN_RANGE, "kmap_atomic_pfn", p);
        CHECK_BUG(t, &s, hm_page_address(t->ctx, p, &v), HM_ERANGE, HM_BUG_PFN_RANGE, "page_address", p);
        cr_assert(eq(int, hm_page_is_highmem(t->ctx, p), -1));
    }
    cr_assert(eq(u64, v, 0x5au));
    /* the last valid pfn is fine */
    cr_assert(eq(int, hm_page_is_highmem(t->ctx, MAXPFN - 1u), 1));
    cr_assert(eq(int, hm_page_is_highmem(t->ctx, HIGH0 - 1u), 0));
    tl_snap_free(&s);
}

Test(errors, bad_cpu)
{
    struct tl *t = busy_machine(0);
    struct tl_snap s;
    uint32_t bad[] = {2, HM_MAX_CPUS, 0xffffffffu};
    hm_vaddr_t v = 0;
    tl_snap_take(t, &s);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t c = bad[i];
        CHECK_BUG(t, &s, hm_kmap_atomic(t->ctx, c, PG(3), 0, &v), HM_EINVAL, HM_BUG_BAD_ARG, "kmap_atomic", c);
        CHECK_BUG(t, &s, hm_kmap_atomic_prot(t->ctx, c, PG(3), 0, 0x163u, &v), HM_EINVAL, HM_BUG_BAD_ARG, NULL, c);
        CHECK_BUG(t, &s, hm_kmap_atomic_pfn(t->ctx, c, PG(3), 0, &v), HM_EINVAL, HM_BUG_BAD_ARG, "kmap_atomic_pfn", c);
        CHECK_BUG(t, &s, hm_kunmap_atomic(t->ctx, c, 0xfffb6000u, KM_USER0), HM_EINVAL, HM_BUG_BAD_ARG,
                  "kunmap_atomic", c);
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, c), -1));
    }
    tl_snap_free(&s);
}

Test(errors, bad_type)
{
    struct tl *t = busy_machine(0);
    struct tl_snap s;
    unsigned bad[] = {13, 27, 0xffffffffu};
    hm_vaddr_t v = 0;
    tl_snap_take(t, &s);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned ty = bad[i];
        CHECK_BUG(t, &s, hm_kmap_atomic(t->ctx, 1, PG(3), ty, &v), HM_EINVAL, HM_BUG_BAD_ARG, "kmap_atomic", ty);
        CHECK_BUG(t, &s, hm_kmap_atomic_prot(t->ctx, 1, PG(3), ty, 0x163u, &v), HM_EINVAL, HM_BUG_BAD_ARG, NULL, ty);
        CHECK_BUG(t, &s, hm_kmap_atomic_pfn(t->ctx, 1, PG(3), ty, &v), HM_EINVAL, HM_BUG_BAD_ARG, "kmap_atomic_pfn",
                  ty);
        CHECK_BUG(t, &s, hm_kunmap_atomic(t->ctx, 0, 0xfffb6000u, ty), HM_EINVAL, HM_BUG_BAD_ARG, "kunmap_atomic", ty);
    }
    tl_snap_free(&s);
}

Test(errors, bad_type_with_debug_fences)
{
    /* with DEBUG_HIGHMEM KM_TYPE_NR is 27, but there are still 13 real types */
    struct hm_config c = tl_cfg("x86", 8, 1);
    c.debug_highmem = 1;
    struct tl *t = tl_open(&c);
    struct tl_snap s;
    hm_vaddr_t v = 0;
    tl_snap_take(t, &s);
    CHECK_BUG(t, &s, hm_kmap_atomic(t->ctx, 0, PG(3), 13, &v), HM_EINVAL, HM_BUG_BAD_ARG, "kmap_atomic", 13);
    CHECK_BUG(t, &s, hm_kmap_atomic(t->ctx, 0, PG(3), 26, &v), HM_EINVAL, HM_BUG_BAD_ARG, "kmap_atomic", 26);
    tl_snap_free(&s);
}

/* ---------------------------------------------------------------------------------------
 * kunmap misuse (§2.5, §3.2).
 * ------------------------------------------------------------------------------------- */
Test(errors, kunmap_of_never_mapped_page)
{
    struct tl *t = busy_machine(0);
    struct tl_snap s;
    tl_snap_take(t, &s);
    CHECK_BUG(t, &s, hm_kunmap(t->ctx, PG(5)), HM_EINVAL, HM_BUG_KUNMAP_UNMAPPED, "kunmap_high", PG(5));
    /* the atomically mapped page was never kmapped either */
    CHECK_BUG(t, &s, hm_kunmap(t->ctx, PG(2)), HM_EINVAL, HM_BUG_KUNMAP_UNMAPPED, "kunmap_high", PG(2));
    tl_snap_free(&s);
}

Test(errors, kunmap_of_count1_page)
{
    struct tl *t = busy_machine(0);
    struct tl_snap s;
    tl_snap_take(t, &s);
    CHECK_BUG(t, &s, hm_kunmap(t->ctx, PG(1)), HM_EINVAL, HM_BUG_KUNMAP_ZERO, "kunmap_high", PG(1));
    CHECK_BUG(t, &s, hm_kunmap(t->ctx, PG(1)), HM_EINVAL, HM_BUG_KUNMAP_ZERO, "kunmap_high", PG(1));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 2), 1));
    tl_snap_free(&s);
}

Test(errors, kunmap_in_interrupt_context)
{
    struct tl *t = busy_machine(0);
    struct tl_snap s;
    tl_snap_take(t, &s);
    hm_sim_set_in_interrupt(t->sim, 1);
    CHECK_BUG(t, &s, hm_kunmap(t->ctx, PG(0)), HM_EINVAL, HM_BUG_IN_INTERRUPT, "kunmap", PG(0));
    /* the in_interrupt BUG comes before the lowmem test */
    CHECK_BUG(t, &s, hm_kunmap(t->ctx, LOWPFN), HM_EINVAL, HM_BUG_IN_INTERRUPT, "kunmap", LOWPFN);
    hm_sim_set_in_interrupt(t->sim, 0);
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
    tl_kunmap(t, PG(0)); /* out of the interrupt it works */
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 1));
    tl_snap_free(&s);
}

Test(errors, address_errors)
{
    struct tl *t = busy_machine(0);
    struct tl_snap s;
    hm_pfn_t p = 0x5bu;
    tl_snap_take(t, &s);
    CHECK_BUG(t, &s, hm_kmap_atomic_to_page(t->ctx, 0xfffff000u, &p), HM_EINVAL, HM_BUG_VIRT_TO_FIX, NULL,
              0xfffff000u);
    CHECK_BUG(t, &s, hm_kmap_atomic_to_page(t->ctx, 0x1000u, &p), HM_ERANGE, HM_BUG_BAD_ADDR,
              "kmap_atomic_to_page", 0x1000u);
    CHECK_BUG(t, &s, hm_kmap_to_page(t->ctx, 0xf9000000u, &p), HM_ERANGE, HM_BUG_BAD_ADDR, "kmap_to_page",
              0xf9000000u);
    CHECK_BUG(t, &s, hm_kmap_to_page(t->ctx, t->layout.pkmap_base + 5u * 4096u, &p), HM_EFAULT,
              HM_BUG_NOT_MAPPED, "kmap_to_page", t->layout.pkmap_base + 5u * 4096u);
    CHECK_BUG(t, &s, hm_kunmap_atomic(t->ctx, 1, 0xfffa9000u, KM_USER0), HM_EINVAL, HM_BUG_ATOMIC_UNBALANCED,
              "kunmap_atomic", 1);
    cr_assert(eq(u32, p, 0x5bu));
    tl_snap_free(&s);
}

/* ---------------------------------------------------------------------------------------
 * Addresses past the machine's space. hm_vaddr_t is 64 bits wide; every modelled arch has a
 * 32-bit space (va_bits 32), so each call taking an address refuses one at or above 2^32 as
 * BAD_ADDR (ERANGE) before looking at it: no mask or subtraction may alias it onto the
 * window address in its low half, and nothing changes.
 * ------------------------------------------------------------------------------------- */
#define VA_TOP (UINT64_C(1) << 32)

/* On every arch, with and without DEBUG_HIGHMEM: a page kmapped, another kmap_atomic'ed on
 * cpu 0 (a lowmem page on generic), then each address-taking call with wide addresses, among
 * them 2^32 plus each of those two valid addresses. */
Test(errors, addresses_past_the_space)
{
    for (unsigned i = 0; hm_arch_at(i); i++)
        for (int debug = 0; debug <= 1; debug++) {
            const char *arch = hm_arch_name(hm_arch_at(i));
            struct tl *t = tl_open_arch(arch, 8, 2, debug, 0);
            const struct hm_layout *l = &t->layout;
            hm_pfn_t hp = l->last_pkmap ? l->highmem_start_pfn + 3u : LOWPFN;
            hm_vaddr_t pv = tl_kmap(t, hp), av = 0;
            hm_pfn_t p = 0x5bu;
            struct tl_snap s;

            cr_assert(eq(u32, l->va_bits, 32), "%s", arch);
            cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, hp + 1u, KM_USER0, &av), HM_OK), "%s", arch);
            const hm_vaddr_t wide[] = {VA_TOP, VA_TOP + pv, VA_TOP + av, VA_TOP + l->page_offset,
                                       VA_TOP + (av | 0xfffu), (UINT64_C(1) << 33) + av,
                                       (UINT64_C(1) << 63) | av, UINT64_MAX - 0xfffu, UINT64_MAX};
            tl_snap_take(t, &s);
            for (size_t k = 0; k < sizeof wide / sizeof wide[0]; k++) {
                hm_vaddr_t a = wide[k];
                CHECK_BUG(t, &s, hm_kunmap_atomic(t->ctx, 0, a, KM_USER0), HM_ERANGE, HM_BUG_BAD_ADDR,
                          "kunmap_atomic", a);
                CHECK_BUG(t, &s, hm_kmap_to_page(t->ctx, a, &p), HM_ERANGE, HM_BUG_BAD_ADDR, "kmap_to_page", a);
                CHECK_BUG(t, &s, hm_kmap_atomic_to_page(t->ctx, a, &p), HM_ERANGE, HM_BUG_BAD_ADDR,
                          "kmap_atomic_to_page", a);
                /* the cpu and type are checked first, as the interpreter always did */
                CHECK_BUG(t, &s, hm_kunmap_atomic(t->ctx, 2, a, KM_USER0), HM_EINVAL, HM_BUG_BAD_ARG, NULL, 2);
                CHECK_BUG(t, &s, hm_kunmap_atomic(t->ctx, 0, a, 99), HM_EINVAL, HM_BUG_BAD_ARG, NULL, 99);
            }
            cr_assert(eq(u32, p, 0x5bu), "%s: pfn written", arch);
            cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1), "%s", arch);
            tl_snap_free(&s);
            /* the same addresses without the high bits still work */
            cr_assert(eq(int, hm_kmap_to_page(t->ctx, pv, &p), HM_OK), "%s", arch);
            cr_assert(eq(u32, p, hp), "%s", arch);
            cr_assert(eq(int, hm_kmap_to_page(t->ctx, av, &p), HM_OK), "%s", arch);
            cr_assert(eq(u32, p, hp + 1u), "%s", arch);
            cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, av, KM_USER0), HM_OK), "%s", arch);
            cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0), "%s", arch);
            tl_assert_invariants(t, arch);
            tl_close(t);
        }
}

/* Every layout of every arch lies in its 32-bit space, its windows ending at or below 2^32. */
Test(errors, layouts_fit_32_bits)
{
    static const uint32_t windows[] = {0, 2, 16, 512, 1024, 4096};
    static const uint32_t cpus[] = {1, 9, 64};
    for (unsigned i = 0; hm_arch_at(i); i++)
        for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++)
            for (size_t c = 0; c < sizeof cpus / sizeof cpus[0]; c++)
                for (int debug = 0; debug <= 1; debug++) {
                    struct hm_config cfg = tl_cfg(hm_arch_name(hm_arch_at(i)), windows[w], cpus[c]);
                    struct hm_layout l;
                    cfg.debug_highmem = debug;
                    if (hm_layout_compute(&cfg, &l) != HM_OK)
                        continue; /* a window the arch has no room for */
                    cr_assert(eq(u32, l.va_bits, 32), "%s", l.arch);
                    cr_assert(le(u64, l.high_memory, VA_TOP), "%s", l.arch);
                    cr_assert(le(u64, l.fixaddr_top, VA_TOP), "%s", l.arch);
                    cr_assert(lt(u64, l.kmap_atomic_base, VA_TOP), "%s", l.arch);
                    cr_assert(le(u64, l.pkmap_base + ((uint64_t)l.last_pkmap << l.page_shift), VA_TOP), "%s",
                              l.arch);
                    cr_assert(le(u64, l.pt_start + ((uint64_t)l.pt_pages << l.page_shift), VA_TOP), "%s",
                              l.arch);
                }
}

/* ---------------------------------------------------------------------------------------
 * FLUSH_PTE_NONE: a count-1 slot whose PTE reads as none (§2.1 step 2.3).
 * ------------------------------------------------------------------------------------- */
Test(errors, flush_pte_none_via_flush_unused)
{
    struct tl *t = busy_machine(0); /* slot 2: PG(1) at count 1 */
    struct tl_snap s;
    struct hm_stats before;
    t->wrap.lie_on = 1;
    t->wrap.lie_vaddr = tl_pkaddr(t, 2);
    t->wrap.lie_pte = 0;
    tl_snap_take(t, &s); /* the sim's real PTEs */
    before = tl_stats(t);
    CHECK_BUG(t, &s, hm_kmap_flush_unused(t->ctx), HM_EFAULT, HM_BUG_FLUSH_PTE_NONE, "flush_all_zero_pkmaps", 0);
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_DONE), 0));
    cr_assert(eq(u64, tl_stats(t).flushes, before.flushes));
    cr_assert(eq(u64, tl_page_address(t, PG(1)), tl_pkaddr(t, 2)));
    cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 2)), hm_mk_kmap_pte(t->ctx, PG(1))));
    /* the lie gone, the same flush works */
    t->wrap.lie_on = 0;
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 2), 0));
    tl_snap_free(&s);
}

Test(errors, flush_pte_none_via_wrap)
{
    struct hm_config c = tl_cfg("x86", 4, 1);
    struct tl *t = tl_open(&c);
    hm_vaddr_t v = 0x5au;
    tl_kmap(t, PG(0)); /* slot 1 */
    tl_kunmap(t, PG(0));
    tl_kmap(t, PG(1)); /* slot 2 */
    tl_kmap(t, PG(2)); /* slot 3, cursor 3 */
    t->wrap.lie_on = 1;
    t->wrap.lie_vaddr = tl_pkaddr(t, 1);
    t->wrap.lie_pte = 0;
    struct tl_snap s;
    char msg[128];
    tl_snap_take(t, &s);
    size_t nb = t->nbugs;
    int rc = hm_kmap(t->ctx, PG(3), &v);
    cr_assert(eq(int, rc, HM_EFAULT));
    cr_assert(eq(sz, t->nbugs, nb + 1));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_FLUSH_PTE_NONE));
    cr_assert(eq(int, tl_last_bug(t)->err, HM_EFAULT));
    cr_assert(eq(str, (char *)tl_last_bug(t)->function, "flush_all_zero_pkmaps"));
    cr_assert(eq(u64, v, 0x5au));
    /* The cursor may have moved (the kernel's scan advanced before its BUG); nothing else. */
    uint32_t nr = hm_last_pkmap_nr(t->ctx);
    cr_assert(any(eq(u32, nr, 3), eq(u32, nr, 0)), "cursor %u", nr);
    s.last_nr = nr;
    cr_assert(eq(int, tl_snap_diff(t, &s, msg, sizeof msg), 0), "%s", msg);
    cr_assert(eq(u64, tl_page_address(t, PG(3)), 0));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 1));
    tl_snap_free(&s);
}

/* ---------------------------------------------------------------------------------------
 * hm_ctx_init and hm_layout_compute.
 * ------------------------------------------------------------------------------------- */
static void *alloc_ctx_mem(const struct hm_config *c, size_t extra, size_t *size)
{
    size_t align = hm_ctx_align();
    *size = hm_ctx_size(c);
    cr_assert(gt(sz, *size, 0));
    size_t rounded = (*size + extra + align - 1) / align * align;
    void *mem = aligned_alloc(align, rounded);
    cr_assert(not(eq(ptr, mem, NULL)));
    memset(mem, 0, rounded);
    return mem;
}

Test(errors, ctx_init_rejects_bad_input)
{
    struct hm_config c = tl_cfg("x86", 8, 1);
    struct tl *t = tl_open(&c); /* for a working sim machine */
    struct hm_ctx *sentinel = (struct hm_ctx *)(uintptr_t)0x1234u, *out = sentinel;
    size_t size;
    unsigned char *mem = alloc_ctx_mem(&c, 64, &size);

    /* misaligned storage */
    cr_assert(gt(sz, hm_ctx_align(), 1));
    cr_assert(eq(int, hm_ctx_init(mem + 1, size + 32, &c, &t->sim_machine, NULL, &out), HM_EINVAL));
    /* too small */
    cr_assert(eq(int, hm_ctx_init(mem, size - 1, &c, &t->sim_machine, NULL, &out), HM_ENOSPC));
    cr_assert(eq(int, hm_ctx_init(mem, 0, &c, &t->sim_machine, NULL, &out), HM_ENOSPC));
    /* NULLs */
    cr_assert(eq(int, hm_ctx_init(NULL, size, &c, &t->sim_machine, NULL, &out), HM_EINVAL));
    cr_assert(eq(int, hm_ctx_init(mem, size, NULL, &t->sim_machine, NULL, &out), HM_EINVAL));
    cr_assert(eq(int, hm_ctx_init(mem, size, &c, NULL, NULL, &out), HM_EINVAL));
    cr_assert(eq(int, hm_ctx_init(mem, size, &c, &t->sim_machine, NULL, NULL), HM_EINVAL));
    /* bad configs */
    uint32_t bad_pkmap[] = {3, 1, 6, 8192, 4097};
    for (size_t i = 0; i < sizeof bad_pkmap / sizeof bad_pkmap[0]; i++) {
        struct hm_config b = c;
        b.last_pkmap = bad_pkmap[i];
        cr_expect(eq(int, hm_ctx_init(mem, size, &b, &t->sim_machine, NULL, &out), HM_EINVAL), "last_pkmap %u",
                  bad_pkmap[i]);
        cr_expect(eq(sz, hm_ctx_size(&b), 0), "last_pkmap %u", bad_pkmap[i]);
    }
    struct hm_config b = c;
    b.nr_cpus = HM_MAX_CPUS + 1u;
    cr_assert(eq(int, hm_ctx_init(mem, size, &b, &t->sim_machine, NULL, &out), HM_EINVAL));
    b = c;
    b.arch = NULL;
    cr_assert(eq(int, hm_ctx_init(mem, size, &b, &t->sim_machine, NULL, &out), HM_EINVAL));
    /* a highmem arch needs set_pte and get_pte */
    struct hm_machine m = t->sim_machine;
    m.set_pte = NULL;
    cr_assert(eq(int, hm_ctx_init(mem, size, &c, &m, NULL, &out), HM_EINVAL));
    m = t->sim_machine;
    m.get_pte = NULL;
    cr_assert(eq(int, hm_ctx_init(mem, size, &c, &m, NULL, &out), HM_EINVAL));
    cr_assert(eq(ptr, (void *)out, (void *)sentinel));
    /* the storage was never made a context */
    cr_assert(eq(int, hm_kmap_flush_unused((struct hm_ctx *)(void *)mem), HM_EINVAL));
    /* and the exact size works */
    cr_assert(eq(int, hm_ctx_init(mem, size, &c, &t->sim_machine, NULL, &out), HM_OK));
    cr_assert(eq(ptr, (void *)out, (void *)mem));
    free(mem);
}

Test(errors, ctx_init_minimal_machines)
{
    /* generic: no page tables at all, so an all-NULL machine is enough */
    struct hm_config g = tl_cfg("generic", 0, 1);
    struct hm_machine none;
    struct hm_ctx *ctx = NULL;
    size_t size;
    hm_vaddr_t v = 0;
    memset(&none, 0, sizeof none);
    void *mem = alloc_ctx_mem(&g, 0, &size);
    cr_assert(eq(int, hm_ctx_init(mem, size, &g, &none, NULL, &ctx), HM_OK));
    cr_assert(eq(int, hm_kmap(ctx, LOWPFN, &v), HM_OK));
    cr_assert(eq(u64, v, 0xc1234000u));
    cr_assert(eq(int, hm_kunmap(ctx, LOWPFN), HM_OK));
    cr_assert(eq(int, hm_kmap_flush_unused(ctx), HM_OK));
    free(mem);

    /* x86 with only set_pte/get_pte: NULL hooks are no-ops, and without sleep() hm_kmap
     * behaves as hm_kmap_try (EAGAIN instead of sleeping) */
    struct hm_config c = tl_cfg("x86", 4, 1);
    struct tl *t = tl_open(&c);
    struct hm_machine m;
    memset(&m, 0, sizeof m);
    m.m = t->sim_machine.m;
    m.set_pte = t->sim_machine.set_pte;
    m.get_pte = t->sim_machine.get_pte;
    mem = alloc_ctx_mem(&c, 0, &size);
    cr_assert(eq(int, hm_ctx_init(mem, size, &c, &m, NULL, &ctx), HM_OK));
    for (uint32_t i = 0; i < 4; i++) {
        cr_assert(eq(int, hm_kmap(ctx, PG(i), &v), HM_OK));
        cr_assert(eq(u64, v, t->layout.pkmap_base + ((i + 1) & 3u) * 4096u));
    }
    cr_assert(eq(int, hm_kmap(ctx, PG(9), &v), HM_EAGAIN));
    cr_assert(eq(u32, hm_last_pkmap_nr(ctx), 3));
    cr_assert(eq(int, hm_kunmap(ctx, PG(0)), HM_OK));
    cr_assert(eq(int, hm_kmap(ctx, PG(9), &v), HM_OK));
    cr_assert(eq(u64, v, t->layout.pkmap_base + 4096u));
    cr_assert(eq(int, hm_check_invariants(ctx, NULL, 0), 0));
    free(mem);
}

Test(errors, layout_compute_rejects_bad_configs)
{
    struct hm_config c = tl_cfg("x86", 0, 1);
    struct hm_layout l, pristine;
    memset(&pristine, 0xa5, sizeof pristine);
    cr_assert(eq(int, hm_layout_compute(NULL, &l), HM_EINVAL));
    cr_assert(eq(int, hm_layout_compute(&c, NULL), HM_EINVAL));

    uint32_t bad_pkmap[] = {1, 3, 6, 12, 4097, 8192, 0x80000000u};
    for (size_t i = 0; i < sizeof bad_pkmap / sizeof bad_pkmap[0]; i++) {
        struct hm_config b = c;
        b.last_pkmap = bad_pkmap[i];
        l = pristine;
        cr_expect(eq(int, hm_layout_compute(&b, &l), HM_EINVAL), "last_pkmap %u", bad_pkmap[i]);
        cr_expect(eq(int, memcmp(&l, &pristine, sizeof l), 0), "out written for last_pkmap %u", bad_pkmap[i]);
    }
    uint32_t good_pkmap[] = {2, 4, 512, 1024, 4096};
    for (size_t i = 0; i < sizeof good_pkmap / sizeof good_pkmap[0]; i++) {
        struct hm_config b = c;
        b.last_pkmap = good_pkmap[i];
        cr_expect(eq(int, hm_layout_compute(&b, &l), HM_OK), "last_pkmap %u", good_pkmap[i]);
        cr_expect(eq(u32, l.last_pkmap, good_pkmap[i]));
    }
    struct hm_config b = c;
    b.nr_cpus = HM_MAX_CPUS + 1u;
    cr_assert(eq(int, hm_layout_compute(&b, &l), HM_EINVAL));
    b.nr_cpus = HM_MAX_CPUS;
    cr_assert(eq(int, hm_layout_compute(&b, &l), HM_OK));
    b.nr_cpus = 0; /* 0 means 1 */
    cr_assert(eq(int, hm_layout_compute(&b, &l), HM_OK));
    cr_assert(eq(u32, l.nr_cpus, 1));
    b = c;
    b.arch = NULL;
    cr_assert(eq(int, hm_layout_compute(&b, &l), HM_EINVAL));
    /* non-PAE x86 addresses 4 GiB: max_pfn 0x38000 + 0x100000 is past 2^20 frames */
    b = c;
    b.highmem_pages = 0x100000u;
    cr_assert(eq(int, hm_layout_compute(&b, &l), HM_EINVAL));
    /* a backend of another ABI version is refused */
    struct hm_arch other = *hm_arch_find("x86");
    other.abi_version = HM_ARCH_ABI_VERSION + 1u;
    b = c;
    b.arch = &other;
    cr_assert(eq(int, hm_layout_compute(&b, &l), HM_EINVAL));
    cr_assert(eq(sz, hm_ctx_size(&b), 0));
}

Test(errors, arch_registry_lookups)
{
    cr_assert(eq(ptr, (void *)hm_arch_find("x86"), (void *)&hm_arch_x86));
    cr_assert(eq(ptr, (void *)hm_arch_find("generic"), (void *)&hm_arch_generic));
    cr_assert(eq(ptr, (void *)hm_arch_find("nope"), NULL));
    cr_assert(eq(ptr, (void *)hm_arch_find("x8"), NULL));
    cr_assert(eq(ptr, (void *)hm_arch_find("x866"), NULL));
    cr_assert(eq(ptr, (void *)hm_arch_find(""), NULL));
    cr_assert(eq(ptr, (void *)hm_arch_find(NULL), NULL));
    cr_assert(eq(ptr, (void *)hm_arch_name(NULL), NULL));
    unsigned n = 0;
    while (hm_arch_at(n))
        n++;
    cr_assert(ge(u32, n, 2));
    cr_assert(eq(ptr, (void *)hm_arch_at(n), NULL));
    cr_assert(eq(ptr, (void *)hm_arch_at(100000), NULL));
}

/* ---------------------------------------------------------------------------------------
 * The embedder's hooks.
 * ------------------------------------------------------------------------------------- */
struct counter {
    unsigned n;
    int last_bug;
};

static void count_bug(void *cookie, const struct hm_bug_report *r)
{
    struct counter *c = cookie;
    c->n++;
    c->last_bug = r->bug;
}

Test(errors, counting_bug_hook)
{
    struct hm_config c = tl_cfg("x86", 8, 1);
    struct tl *t = tl_open(&c);
    struct counter cnt = {0, 0};
    struct hm_hooks hooks = {count_bug, &cnt, NULL, NULL};
    struct hm_ctx *ctx = NULL;
    size_t size;
    hm_vaddr_t v = 0;
    void *mem = alloc_ctx_mem(&c, 0, &size);
    cr_assert(eq(int, hm_ctx_init(mem, size, &c, &t->sim_machine, &hooks, &ctx), HM_OK));
    cr_assert(eq(int, hm_kunmap(ctx, PG(0)), HM_EINVAL));       /* KUNMAP_UNMAPPED */
    cr_assert(eq(int, hm_kmap(ctx, MAXPFN, &v), HM_ERANGE));    /* PFN_RANGE */
    cr_assert(eq(int, hm_kmap(ctx, PG(0), NULL), HM_EINVAL));   /* BAD_ARG */
    cr_assert(eq(int, hm_kunmap_atomic(ctx, 0, 0, 0), HM_EINVAL)); /* ATOMIC_UNBALANCED */
    cr_assert(eq(u32, cnt.n, 4));
    cr_assert(eq(int, cnt.last_bug, HM_BUG_ATOMIC_UNBALANCED));
    struct hm_stats st;
    hm_get_stats(ctx, &st);
    cr_assert(eq(u64, st.bugs, 4));
    cr_assert(eq(u64, st.bug_by_kind[HM_BUG_KUNMAP_UNMAPPED], 1));
    cr_assert(eq(u64, st.bug_by_kind[HM_BUG_PFN_RANGE], 1));
    cr_assert(eq(u64, st.bug_by_kind[HM_BUG_BAD_ARG], 1));
    cr_assert(eq(u64, st.bug_by_kind[HM_BUG_ATOMIC_UNBALANCED], 1));
    /* successful calls do not call it */
    cr_assert(eq(int, hm_kmap(ctx, PG(0), &v), HM_OK));
    cr_assert(eq(int, hm_kunmap(ctx, PG(0)), HM_OK));
    cr_assert(eq(u32, cnt.n, 4));
    free(mem);
}

Test(errors, null_hooks_still_count)
{
    struct tl *t;
    struct hm_config c = tl_cfg("x86", 8, 1);
    t = tl_open(&c);
    /* The harness hooks every context it opens: initialise this one again, in the fixture's
     * storage and on its machine, without hooks (the sim's own events are still recorded). */
    cr_assert(eq(int, hm_ctx_init(t->hm.ctx_mem, t->hm.ctx_cap, &c, &t->hm.hw, NULL, &t->ctx), HM_OK));
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kunmap(t->ctx, PG(0)), HM_EINVAL));
    cr_assert(eq(int, hm_kmap(t->ctx, 0xffffffffu, &v), HM_ERANGE));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, 0, 0), HM_EINVAL));
    struct hm_stats st = tl_stats(t);
    cr_assert(eq(u64, st.bugs, 3));
    cr_assert(eq(u64, st.bug_by_kind[HM_BUG_KUNMAP_UNMAPPED], 1));
    cr_assert(eq(u64, st.bug_by_kind[HM_BUG_PFN_RANGE], 1));
    cr_assert(eq(u64, st.bug_by_kind[HM_BUG_ATOMIC_UNBALANCED], 1));
    cr_assert(eq(sz, t->nbugs, 0));
    cr_assert(eq(sz, t->nev, 0));
    /* and the machinery works without any hook */
    cr_assert(eq(u64, tl_kmap(t, PG(0)), tl_pkaddr(t, 1)));
    cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 1)), hm_mk_kmap_pte(t->ctx, PG(0))));
}

/* ---------------------------------------------------------------------------------------
 * Names of errors, bugs and events.
 * ------------------------------------------------------------------------------------- */
Test(names, strerror_every_value)
{
    static const char *const want[] = {"OK",    "EINVAL", "ERANGE", "EAGAIN",
                                       "EBUSY", "EFAULT", "ENOSPC", "EMACHINE"};
    cr_assert(eq(int, HM_ENOSPC, 6));
    cr_assert(eq(int, HM_EMACHINE, 7));
    for (int e = 0; e <= HM_EMACHINE; e++)
        cr_expect(eq(str, (char *)hm_strerror(e), (char *)want[e]), "err %d", e);
    int bad[] = {-1, 8, 100, -2147483647 - 1, 2147483647};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect(eq(str, (char *)hm_strerror(bad[i]), "EUNKNOWN"), "err %d", bad[i]);
}

Test(names, bug_names_every_value)
{
    static const char *const want[HM_BUG__COUNT] = {
        "NONE", "PFN_RANGE", "BAD_ARG", "KUNMAP_UNMAPPED", "KUNMAP_ZERO", "KMAP_COUNT",
        "POOL_EMPTY", "SET_ADDR_LOWMEM", "FLUSH_PTE_NONE", "IN_INTERRUPT", "ATOMIC_BUSY",
        "ATOMIC_UNBALANCED", "ATOMIC_BAD_ADDR", "VIRT_TO_FIX", "BAD_ADDR", "NOT_MAPPED",
        "UNAVAILABLE", "KMAP_HIGH_GET_COUNT", "COLOUR_RANGE", "LOCAL_OVERFLOW", "LOCAL_BUSY",
        "LOCAL_NOT_TOP", "LOCAL_BAD_ADDR", "LOCAL_MIGRATE", "LOCAL_CORRUPT", "TASK_RUNNING",
        "SWITCH_ATOMIC"};
    cr_assert(eq(int, HM_BUG__COUNT, 27));
    for (int b = 0; b < HM_BUG__COUNT; b++)
        cr_expect(eq(str, (char *)hm_bug_name(b), (char *)want[b]), "bug %d", b);
    int bad[] = {-1, HM_BUG__COUNT, 1000, -2147483647 - 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *n = hm_bug_name(bad[i]);
        cr_assert(not(eq(ptr, (void *)n, NULL)), "bug %d", bad[i]);
        for (int b = 0; b < HM_BUG__COUNT; b++)
            cr_expect(not(eq(str, (char *)n, (char *)want[b])), "bug %d named like %d", bad[i], b);
    }
}

Test(names, event_names_every_value)
{
    static const char *const want[] = {
        NULL, "pte_set", "pte_clear", "tlb_flush_range", "tlb_flush_page", "tlb_flush_all",
        "cache_flush_all", "flush_all_zero_pkmaps", "flush_done", "sleep", "wakeup", "stale_tlb", "bug",
        "machine_fail", "cache_flush_page", "stale_cache", "local_save", "local_restore"};
    cr_assert(eq(int, HM_EV_BUG, 12)); /* the new kinds are appended: no value moved */
    cr_assert(eq(int, HM_EV_MACHINE_FAIL, 13));
    cr_assert(eq(int, HM_EV_LOCAL_RESTORE, 17));
    for (int k = HM_EV_PTE_SET; k <= HM_EV_LOCAL_RESTORE; k++)
        cr_expect(eq(str, (char *)hm_event_name(k), (char *)want[k]), "event %d", k);
    int bad[] = {0, -1, HM_EV_LOCAL_RESTORE + 1, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *n = hm_event_name(bad[i]);
        cr_assert(not(eq(ptr, (void *)n, NULL)), "event %d", bad[i]);
        for (int k = HM_EV_PTE_SET; k <= HM_EV_LOCAL_RESTORE; k++)
            cr_expect(not(eq(str, (char *)n, (char *)want[k])), "event %d named like %d", bad[i], k);
    }
}
