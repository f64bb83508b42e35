/* machine_fail_test.c - a machine that refuses PTE writes (set_pte returns non-zero: sim fault
 * injection FAIL_*), on every arch: kmap, kmap_try, kmap_atomic, kmap_atomic_pfn, kunmap_atomic
 * and flush_all_zero_pkmaps fail with HM_EMACHINE, report machine_fail (and no BUG), and leave
 * the state as highmem.h's machine contract says; the next call succeeds.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

#define KM_USER0 3u
#define SENTINEL 0x5eed5eedu

TestSuite(machine_fail, .fini = tl_fini, .timeout = 60);

/* Every uncoloured highmem backend, with and without CONFIG_DEBUG_HIGHMEM where it changes
 * kmap_atomic, in the run's kernel generation (xtensa's coloured refusals: xtensa_test). */
static const struct {
    const char *arch;
    int debug;
} arches[] = {{"x86", 0},   {"x86", 1}, {"x86-pae", 0},  {"ppc", 0},
              {"sparc", 0}, {"sparc", 1}, {"arm", 0}, {"arm", 1}, {"arm-vipt", 0}};
#define NARCHES (sizeof arches / sizeof arches[0])
#define FOR_EACH_ARCH(k) for (size_t k = 0; k < NARCHES; k++)

static int is_arch(const struct tl *t, const char *name)
{
    return strcmp(t->layout.arch, name) == 0;
}

static int is_sparc(const struct tl *t)
{
    return is_arch(t, "sparc");
}

/* flush_cache_kmaps() is flush_cache_all() on ppc, sparc and VIVT arm. */
static int flushes_cache_kmaps(const struct tl *t)
{
    return is_arch(t, "ppc") || is_sparc(t) || is_arch(t, "arm");
}

/* Whether kunmap_atomic clears the slot's PTE: kunmap_local always does (5.11); before, sparc
 * and arm leave it without DEBUG_HIGHMEM. */
static int unmap_clears(const struct tl *t)
{
    return tl_atomic_is_local(t) || t->cfg.debug_highmem || !(is_sparc(t) || is_arch(t, "arm") || is_arch(t, "arm-vipt"));
}

/* Where kmap_atomic(KM_USER0) on an empty CPU maps: the slot of (cpu, KM_USER0); from 5.11,
 * kmap_local's first push whatever the type (the wrapper drops it): index 0, or 1 with
 * DEBUG_KMAP_LOCAL, whose pushes step by 2 and leave a guard slot before each mapping. */
static hm_vaddr_t first_atomic_slot(const struct tl *t, uint32_t cpu)
{
    unsigned idx = tl_atomic_is_local(t) ? tl_local_pos(t->cfg.debug_highmem, 0) : KM_USER0;
    return hm_core_atomic_slot(t->ctx, cpu, idx);
}

/* The first events of flush_all_zero_pkmaps: its own, then the cache flush of flush_cache_kmaps.
 * Returns how many were written to kinds. */
static int flush_start_kinds(const struct tl *t, int *kinds)
{
    int n = 0;
    kinds[n++] = HM_EV_FLUSH_ALL_ZERO_PKMAPS;
    if (flushes_cache_kmaps(t))
        kinds[n++] = HM_EV_CACHE_FLUSH_ALL;
    return n;
}

/* What every refusal must leave: no BUG report, the statistics as before but for `fails` more
 * machine_fails, the invariants. */
struct before {
    struct hm_stats st;
    size_t nbugs, nev;
};

static struct before before(const struct tl *t)
{
    struct before b = {tl_stats(t), t->nbugs, t->nev};
    return b;
}

static void assert_after_refusal(const struct tl *t, const struct before *b, const struct hm_stats *want,
                                 uint64_t fails, const char *what)
{
    struct hm_stats st = tl_stats(t), exp = want ? *want : b->st;
    exp.machine_fails = b->st.machine_fails + fails;
    cr_assert(eq(sz, t->nbugs, b->nbugs), "%s: the bug hook was called", what);
    cr_assert(eq(sz, tl_ev_count_since(t, b->nev, HM_EV_BUG), 0), "%s: a bug event", what);
    cr_assert(eq(u64, st.machine_fails, exp.machine_fails), "%s: machine_fails", what);
    cr_assert(eq(int, memcmp(&st, &exp, sizeof st), 0), "%s: other statistics changed", what);
    tl_assert_invariants(t, what);
}

/* One case of a test over arches[k] (4 slots, 2 CPUs), named "ARCH[ debug] CALL", with what
 * the call under test must leave alone (mark). */
struct mcase {
    struct tl *t;
    char what[64];
    struct tl_snap s;
    struct before b;
};

static struct tl *open_case(struct mcase *c, size_t k, const char *call)
{
    snprintf(c->what, sizeof c->what, "%s%s%s%s", arches[k].arch, arches[k].debug ? " debug" : "",
             call ? " " : "", call ? call : "");
    c->t = tl_open_arch(arches[k].arch, 4, 2, arches[k].debug, 0);
    return c->t;
}

static void mark(struct mcase *c)
{
    tl_snap_take(c->t, &c->s);
    c->b = before(c->t);
}

/* Event i is the machine_fail of the write event i - 1 (same address), with the refused word. */
static void assert_refused_write(const struct tl *t, size_t i, hm_vaddr_t va, hm_pte_t pte, const char *what)
{
    cr_assert(lt(sz, i, t->nev), "%s: no event %zu", what, i);
    cr_assert(gt(sz, i, 0), "%s", what);
    const struct hm_event *w = &t->ev[i - 1], *f = &t->ev[i];
    cr_assert(eq(int, w->kind, pte ? HM_EV_PTE_SET : HM_EV_PTE_CLEAR), "%s: the write event", what);
    cr_assert(eq(int, f->kind, HM_EV_MACHINE_FAIL), "%s: machine_fail", what);
    cr_assert(eq(u64, w->a, va), "%s: write address", what);
    cr_assert(eq(u64, f->a, va), "%s: machine_fail a", what);
    cr_assert(eq(u64, f->pte, pte), "%s: machine_fail pte", what);
    cr_assert(eq(u64, f->cpu, HM_CPU_ALL), "%s: machine_fail cpu", what);
    cr_assert(eq(u64, f->b, 0), "%s: machine_fail b", what);
}

/* ---------------------------------------------------------------------------------------
 * kmap / kmap_try: map_new_virtual's PTE refused.
 * ------------------------------------------------------------------------------------- */
/* The first kmap chooses slot 1 (pre-incremented cursor); the machine refuses its PTE. The
 * slot stays free, nothing is hashed, no waiter, the statistics unchanged (kmap_calls too);
 * only the cursor moved. The next kmap takes slot 2. */
Test(machine_fail, kmap_refused_changes_nothing_but_the_cursor)
{
    FOR_EACH_ARCH(k)
    for (int may_sleep = 0; may_sleep <= 1; may_sleep++) {
        struct mcase c;
        struct tl *t = open_case(&c, k, may_sleep ? "kmap" : "kmap_try");
        hm_pfn_t p = t->layout.highmem_start_pfn + 5u;
        hm_vaddr_t v = SENTINEL;
        const char *what = c.what;
        mark(&c);

        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
        int rc = may_sleep ? hm_kmap(t->ctx, p, &v) : hm_kmap_try(t->ctx, p, &v);
        cr_assert(eq(str, (char *)hm_strerror(rc), "EMACHINE"), "%s", what);
        cr_assert(eq(u64, v, SENTINEL), "%s: the out address was written", what);
        static const int kinds[] = {HM_EV_PTE_SET, HM_EV_MACHINE_FAIL};
        tl_assert_ev_kinds(t, c.b.nev, kinds, 2, what);
        assert_refused_write(t, c.b.nev + 1, tl_pkaddr(t, 1), hm_mk_kmap_pte(t->ctx, p), what);
        c.s.last_nr = 1; /* the scan's cursor stays where it got to, as with EAGAIN */
        tl_snap_assert_state_same(t, &c.s, what);
        assert_after_refusal(t, &c.b, NULL, 1, what);
        cr_assert(eq(u64, tl_page_address(t, p), 0), "%s: the page got an address", what);
        cr_assert(eq(u64, t->wrap.sleeps, 0), "%s: slept", what);
        cr_assert(eq(u64, tl_sim_stats(t).pte_sets_refused, 1), "%s", what);

        /* the machine works again: the next kmap maps the page, in the next slot */
        cr_assert(eq(u64, tl_kmap(t, p), tl_pkaddr(t, 2)), "%s: the next kmap", what);
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 2), 2), "%s", what);
        tl_assert_invariants(t, what);
        tl_close(t);
    }
}

/* A refused kmap whose scan wrapped: the flush it ran has happened (slot 1 freed, counted in
 * flushes and slots_freed), as with EAGAIN; the slot it chose (0) stays free. */
Test(machine_fail, kmap_refused_after_its_wrap_flush)
{
    FOR_EACH_ARCH(k) {
        struct mcase c;
        struct tl *t = open_case(&c, k, "kmap_try");
        hm_pfn_t p = t->layout.highmem_start_pfn;
        const char *what = c.what;
        hm_vaddr_t v = SENTINEL;
        tl_kmap(t, p);     /* slot 1 */
        tl_kunmap(t, p);   /* count 1 */
        tl_kmap(t, p + 1); /* slot 2 */
        tl_kmap(t, p + 2); /* slot 3 */
        mark(&c);
        struct hm_stats want = c.b.st;
        want.flushes++;
        want.slots_freed++;

        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
        cr_assert(eq(int, hm_kmap_try(t->ctx, p + 3, &v), HM_EMACHINE), "%s", what);
        int kinds[8], n = flush_start_kinds(t, kinds);
        kinds[n++] = HM_EV_PTE_CLEAR;
        kinds[n++] = HM_EV_TLB_FLUSH_RANGE;
        kinds[n++] = HM_EV_FLUSH_DONE;
        kinds[n++] = HM_EV_PTE_SET;
        kinds[n++] = HM_EV_MACHINE_FAIL;
        tl_assert_ev_kinds(t, c.b.nev, kinds, (size_t)n, what);
        assert_refused_write(t, t->nev - 1, tl_pkaddr(t, 0), hm_mk_kmap_pte(t->ctx, p + 3), what);
        tl_snap_free(&c.s);
        assert_after_refusal(t, &c.b, &want, 1, what);
        cr_assert(eq(u64, hm_last_pkmap_nr(t->ctx), 0), "%s", what);
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 0), 0), "%s: slot 0", what);
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 0), "%s: slot 1 (freed by the flush)", what);
        cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 0)), 0), "%s", what);
        cr_assert(eq(u64, tl_page_address(t, p), 0), "%s", what);
        cr_assert(eq(u64, tl_page_address(t, p + 3), 0), "%s", what);
        cr_assert(eq(u64, tl_kmap(t, p + 3), tl_pkaddr(t, 1)), "%s: the next kmap", what);
        tl_assert_invariants(t, what);
        tl_close(t);
    }
}

/* ---------------------------------------------------------------------------------------
 * flush_all_zero_pkmaps: a refused clear keeps its slot.
 * ------------------------------------------------------------------------------------- */
/* Two count-1 slots, the first clear refused: slot 1 is kept as it was (count 1, mapped, its
 * page hashed: a later kmap of it is a hit), slot 2 is freed, the TLB range is flushed, and
 * hm_kmap_flush_unused returns HM_EMACHINE. With need_flush and every clear refused, nothing
 * is freed and no TLB flush is made. */
Test(machine_fail, flush_keeps_the_slot_it_cannot_clear)
{
    FOR_EACH_ARCH(k)
    for (int nf = 0; nf <= 1; nf++) {
        struct tl *t = tl_open_arch(arches[k].arch, 4, 1, arches[k].debug, nf);
        hm_pfn_t p = t->layout.highmem_start_pfn;
        const char *what = arches[k].arch;
        tl_kmap(t, p);
        tl_kmap(t, p + 1);
        tl_kunmap(t, p);
        tl_kunmap(t, p + 1); /* slots 1 and 2 at count 1 */
        struct before b = before(t);
        struct hm_stats want = b.st;
        int kinds[12], n;

        hm_sim_inject(t->sim, nf ? HM_SIM_FAULT_FAIL_ALL_CLEARS : HM_SIM_FAULT_FAIL_NEXT_CLEAR);
        cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_EMACHINE), "%s", what);
        n = flush_start_kinds(t, kinds);
        kinds[n++] = HM_EV_PTE_CLEAR;
        kinds[n++] = HM_EV_MACHINE_FAIL;
        kinds[n++] = HM_EV_PTE_CLEAR;
        if (nf)
            kinds[n++] = HM_EV_MACHINE_FAIL;
        else
            kinds[n++] = HM_EV_TLB_FLUSH_RANGE; /* need_flush: no slot freed, no flush */
        kinds[n++] = HM_EV_FLUSH_DONE;
        tl_assert_ev_kinds(t, b.nev, kinds, (size_t)n, what);
        size_t first = b.nev + (flushes_cache_kmaps(t) ? 3u : 2u); /* its first machine_fail */
        assert_refused_write(t, first, tl_pkaddr(t, 1), 0, what);
        if (nf)
            assert_refused_write(t, first + 2, tl_pkaddr(t, 2), 0, what);
        cr_assert(eq(u64, t->ev[t->nev - 1].a, nf ? 0u : 1u), "%s: flush_done counts the slots freed", what);
        want.flushes++;
        want.slots_freed += nf ? 0u : 1u;
        assert_after_refusal(t, &b, &want, nf ? 2u : 1u, what);

        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 1), "%s: the kept slot", what);
        cr_assert(eq(u64, hm_sim_pte(t->sim, tl_pkaddr(t, 1)), hm_mk_kmap_pte(t->ctx, p)), "%s", what);
        cr_assert(eq(u64, tl_page_address(t, p), tl_pkaddr(t, 1)), "%s", what);
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 2), nf ? 1 : 0), "%s: slot 2", what);
        cr_assert(eq(u64, tl_page_address(t, p + 1), nf ? tl_pkaddr(t, 2) : 0u), "%s", what);

        /* the kept mapping is a cached one: a kmap of its page reuses it, writing nothing */
        hm_sim_inject(t->sim, HM_SIM_FAULT_NONE);
        size_t from = t->nev;
        cr_assert(eq(u64, tl_kmap(t, p), tl_pkaddr(t, 1)), "%s", what);
        cr_assert(eq(sz, tl_ev_hw_count(t, from), 0), "%s: the reuse wrote something", what);
        tl_kunmap(t, p);
        cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK), "%s: the next flush", what);
        cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 0), "%s", what);
        tl_assert_invariants(t, what);
        tl_close(t);
    }
}

static void no_sleep_allowed(struct tl *t, unsigned nth)
{
    (void)t;
    cr_assert(eq(u64, nth, 0), "kmap slept (sleep %u) although no kunmap can free the slots it kept", nth);
}

/* Every slot at count 1 and every clear refused: the wrap's flush keeps them all and no slot
 * is free. hm_kmap returns HM_EMACHINE instead of sleeping (no kunmap would ever wake it), and
 * hm_kmap_try HM_EMACHINE instead of HM_EAGAIN. With clears working again the next wrap frees
 * every slot. */
Test(machine_fail, kmap_does_not_sleep_on_slots_it_cannot_clear)
{
    FOR_EACH_ARCH(k) {
        struct mcase c;
        struct tl *t = open_case(&c, k, "kmap");
        hm_pfn_t p = t->layout.highmem_start_pfn;
        hm_vaddr_t v = SENTINEL;
        for (uint32_t i = 0; i < 4; i++)
            tl_kmap(t, p + i); /* slots 1, 2, 3, 0 */
        for (uint32_t i = 0; i < 4; i++)
            tl_kunmap(t, p + i);
        t->wrap.sleep_action = no_sleep_allowed;
        mark(&c);
        tl_snap_free(&c.s); /* the counts stay; checked one by one below */
        struct hm_stats want = c.b.st;
        const char *what = c.what;
        want.flushes += 2;

        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_ALL_CLEARS);
        cr_assert(eq(int, hm_kmap(t->ctx, p + 9, &v), HM_EMACHINE), "%s: kmap", what);
        cr_assert(eq(u64, hm_last_pkmap_nr(t->ctx), 3), "%s: cursor", what);
        cr_assert(eq(int, hm_kmap_try(t->ctx, p + 9, &v), HM_EMACHINE), "%s: kmap_try", what);
        cr_assert(eq(u64, v, SENTINEL), "%s", what);
        cr_assert(eq(sz, tl_ev_count_since(t, c.b.nev, HM_EV_MACHINE_FAIL), 8), "%s", what);
        cr_assert(eq(sz, tl_ev_count_since(t, c.b.nev, HM_EV_SLEEP), 0), "%s", what);
        assert_after_refusal(t, &c.b, &want, 8, what); /* kmap_eagain, sleeps: unchanged */
        for (uint32_t i = 0; i < 4; i++)
            cr_assert(eq(int, hm_pkmap_count(t->ctx, i), 1), "%s: slot %u", what, i);

        hm_sim_inject(t->sim, HM_SIM_FAULT_NONE);
        cr_assert(eq(int, hm_kmap(t->ctx, p + 9, &v), HM_OK), "%s: the next kmap", what);
        cr_assert(eq(u64, v, tl_pkaddr(t, 0)), "%s", what);
        cr_assert(eq(u64, hm_pool_size(t->ctx), 3), "%s: the other three were freed", what);
        tl_assert_invariants(t, what);
        tl_close(t);
    }
}

/* ---------------------------------------------------------------------------------------
 * The kmap_atomic family.
 * ------------------------------------------------------------------------------------- */
/* The events of a refused kmap_atomic: sparc flushes the whole cache first (it happened, and
 * changes nothing), and VIVT arm flushes the page's dcache before a clear; no arch makes the TLB
 * flush that follows the write (ppc flush_tlb_page, sparc flush_tlb_all, arm's local page flush). */
static size_t atomic_refusal_kinds(const struct tl *t, int *kinds, int clear)
{
    size_t n = 0;
    if (is_sparc(t))
        kinds[n++] = HM_EV_CACHE_FLUSH_ALL;
    if (clear && is_arch(t, "arm"))
        kinds[n++] = HM_EV_CACHE_FLUSH_PAGE;
    kinds[n++] = clear ? HM_EV_PTE_CLEAR : HM_EV_PTE_SET;
    kinds[n++] = HM_EV_MACHINE_FAIL;
    return n;
}

/* kmap_atomic (pfn = 0) or kmap_atomic_pfn (pfn = 1) refused on a free slot of CPU 1: the
 * depth is back at 0, the PTE still none, the out address untouched; the next call maps it. */
static void atomic_refused(int use_pfn)
{
    FOR_EACH_ARCH(k) {
        struct mcase c;
        struct tl *t = open_case(&c, k, use_pfn ? "kmap_atomic_pfn" : "kmap_atomic");
        hm_pfn_t p = t->layout.highmem_start_pfn + 7u;
        hm_vaddr_t v = SENTINEL, slot = first_atomic_slot(t, 1);
        const char *what = c.what;
        int kinds[4];
        mark(&c);

        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
        int rc = use_pfn ? hm_kmap_atomic_pfn(t->ctx, 1, p, KM_USER0, &v)
                         : hm_kmap_atomic(t->ctx, 1, p, KM_USER0, &v);
        cr_assert(eq(int, rc, HM_EMACHINE), "%s", what);
        cr_assert(eq(u64, v, SENTINEL), "%s: the out address was written", what);
        tl_assert_ev_kinds(t, c.b.nev, kinds, atomic_refusal_kinds(t, kinds, 0), what);
        assert_refused_write(t, t->nev - 1, slot, hm_mk_kmap_pte(t->ctx, p), what);
        tl_snap_assert_state_same(t, &c.s, what); /* depth 0, PTE none */
        assert_after_refusal(t, &c.b, NULL, 1, what);
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, slot, KM_USER0), HM_EINVAL),
                  "%s: a kunmap_atomic now is unbalanced", what);

        v = 0;
        rc = use_pfn ? hm_kmap_atomic_pfn(t->ctx, 1, p, KM_USER0, &v)
                     : hm_kmap_atomic(t->ctx, 1, p, KM_USER0, &v);
        cr_assert(eq(int, rc, HM_OK), "%s: the next call", what);
        cr_assert(eq(u64, v, slot), "%s", what);
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 1), "%s", what);
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v, KM_USER0), HM_OK), "%s", what);
        tl_assert_invariants(t, what);
        tl_close(t);
    }
}

Test(machine_fail, kmap_atomic_refused)
{
    atomic_refused(0);
}

Test(machine_fail, kmap_atomic_pfn_refused)
{
    atomic_refused(1);
}

/* A refused map over a present PTE leaves the old mapping: x86 kmap_atomic_pfn (no busy
 * check) over a mapped slot, sparc without DEBUG_HIGHMEM after a kunmap_atomic that left its
 * PTE. Loads through the slot still reach the old page; the depth is as it was. */
Test(machine_fail, refused_map_over_a_present_pte_keeps_the_old_one)
{
    static const struct {
        const char *arch;
        int unmap_first; /* sparc, arm: map, unmap (the PTE stays), then the refused map */
    } cases[] = {{"x86", 0}, {"x86-pae", 0}, {"sparc", 1}, {"arm", 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        /* Up to 2.6.30 only (the 5.11 run tests 2.6.30): kmap_local pushes each mapping on a
         * slot the last pop cleared, so no map ever lands on a present PTE there. */
        struct hm_config cfg = tl_cfg(cases[k].arch, 4, 1);
        if (cfg.kernel > HM_KERNEL_2_6_30)
            cfg.kernel = HM_KERNEL_2_6_30;
        struct tl *t = tl_open(&cfg);
        hm_pfn_t p = t->layout.highmem_start_pfn + 1u, q = p + 1u;
        hm_vaddr_t v = 0, w = SENTINEL;
        const char *what = cases[k].arch;
        tl_mark(t, p, 0x71);
        cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, p, KM_USER0, &v), HM_OK), "%s", what);
        cr_assert(eq(u8, tl_load(t, 0, v), 0x71), "%s", what);
        if (cases[k].unmap_first)
            cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK), "%s", what);
        struct tl_snap s;
        tl_snap_take(t, &s);
        struct before b = before(t);

        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
        cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, q, KM_USER0, &w), HM_EMACHINE), "%s", what);
        cr_assert(eq(u64, w, SENTINEL), "%s", what);
        assert_refused_write(t, t->nev - 1, v, hm_mk_kmap_pte(t->ctx, q), what);
        cr_assert(eq(sz, tl_ev_count_since(t, b.nev, HM_EV_TLB_FLUSH_ALL), 0), "%s: flushed", what);
        tl_snap_assert_state_same(t, &s, what);
        assert_after_refusal(t, &b, NULL, 1, what);
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), hm_mk_kmap_pte(t->ctx, p)), "%s: the old PTE", what);
        cr_assert(eq(u8, tl_load(t, 0, v), 0x71), "%s: the old page", what);
        cr_assert(eq(sz, tl_ev_count_since(t, b.nev, HM_EV_STALE_TLB), 0), "%s", what);
        tl_close(t);
    }
}

/* kunmap_atomic whose clear is refused changes nothing: the slot stays mapped (no TLB flush),
 * the depth stays 1; the call can be repeated. sparc without DEBUG_HIGHMEM never clears: the
 * refusal does not arise, kunmap_atomic succeeds. */
Test(machine_fail, kunmap_atomic_refused_changes_nothing)
{
    FOR_EACH_ARCH(k) {
        struct mcase c;
        struct tl *t = open_case(&c, k, NULL);
        hm_pfn_t p = t->layout.highmem_start_pfn + 3u;
        hm_vaddr_t v = 0;
        const char *what = c.what;
        int kinds[4];
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, p, KM_USER0, &v), HM_OK), "%s", what);
        cr_assert(eq(int, hm_sim_store(t->sim, 1, v + 9, 0x5a), HM_OK), "%s", what);
        mark(&c);

        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_CLEAR);
        int rc = hm_kunmap_atomic(t->ctx, 1, v, KM_USER0);
        if (!unmap_clears(t)) {
            cr_assert(eq(int, rc, HM_OK), "%s: no clear to refuse", what);
            /* VIVT arm still flushes the page's dcache */
            kinds[0] = HM_EV_CACHE_FLUSH_PAGE;
            tl_assert_ev_kinds(t, c.b.nev, kinds, is_arch(t, "arm") ? 1u : 0u, what);
            hm_sim_inject(t->sim, HM_SIM_FAULT_NONE);
            tl_snap_free(&c.s);
            tl_close(t);
            continue;
        }
        cr_assert(eq(int, rc, HM_EMACHINE), "%s", what);
        tl_assert_ev_kinds(t, c.b.nev, kinds, atomic_refusal_kinds(t, kinds, 1), what);
        assert_refused_write(t, t->nev - 1, v, 0, what);
        tl_snap_assert_state_same(t, &c.s, what); /* depth 1, PTE present */
        assert_after_refusal(t, &c.b, NULL, 1, what);
        uint8_t byte = 0;
        cr_assert(eq(int, tl_try_load(t, 1, v + 9, &byte), HM_OK), "%s: still mapped", what);
        cr_assert(eq(u8, byte, 0x5a), "%s", what);

        size_t from = t->nev;
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v, KM_USER0), HM_OK), "%s: repeated", what);
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0), "%s", what);
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0), "%s", what);
        cr_assert(eq(sz, tl_ev_count_since(t, from, HM_EV_MACHINE_FAIL), 0), "%s", what);
        tl_assert_invariants(t, what);
        tl_close(t);
    }
}

/* ---------------------------------------------------------------------------------------
 * Without highmem nothing is ever written: nothing to refuse.
 * ------------------------------------------------------------------------------------- */
Test(machine_fail, generic_writes_nothing)
{
    struct tl *t = tl_open_arch("generic", 0, 1, 0, 0);
    hm_vaddr_t v = 0;
    hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_ALL_MAPS);
    cr_assert(eq(int, hm_kmap(t->ctx, 5, &v), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, 5, KM_USER0, &v), HM_OK));
    hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_ALL_CLEARS);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(u64, tl_stats(t).machine_fails, 0));
}
