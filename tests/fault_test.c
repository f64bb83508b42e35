/* fault_test.c - TLB-flush fault injection on every highmem backend: a dropped wrap flush makes a
 * recycled pkmap slot read the old page and trips the stale-PTE detector (spec §8 I4); dropped
 * kmap_atomic flushes do the same per arch (§7, §9.15). SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "testlib.h"

#define KM_USER0 3u
#define BYTE_A 0xa1u
#define BYTE_B 0xb2u

TestSuite(fault_pkmap, .fini = tl_fini, .timeout = 60);
TestSuite(fault_atomic, .fini = tl_fini, .timeout = 60);

/* ---------------------------------------------------------------------------------------
 * pkmap slots recycled by a wrap flush.
 * ------------------------------------------------------------------------------------- */
struct pk_case {
    char arch[12]; /* an array: Criterion hands parameters to a re-executed worker */
    uint32_t last_pkmap;
    hm_pfn_t high0; /* first highmem pfn: x86 0x38000, ppc 0x30000, sparc 0xc000, arm 0x37000 */
};

static struct pk_case pk_cases[] = {
    {"x86", 4, 0x38000u},     {"x86", 1024, 0x38000u},
    {"x86-pae", 4, 0x38000u}, {"x86-pae", 512, 0x38000u},
    {"ppc", 4, 0x30000u},     {"ppc", 1024, 0x30000u},
    {"sparc", 4, 0xc000u},    {"sparc", 1024, 0xc000u},
    {"arm", 4, 0x37000u},     {"arm", 512, 0x37000u},
    {"arm-vipt", 4, 0x37000u},
};

/* A test `name` of `suite` run once for each element of the array `cases` of `type`, which
 * it sees as c. */
#define CASE_TEST(suite, type, cases, name)                                               \
    ParameterizedTestParameters(suite, name)                                              \
    {                                                                                     \
        return cr_make_param_array(type, cases, sizeof cases / sizeof cases[0]);          \
    }                                                                                     \
    ParameterizedTest(type *c, suite, name)

#define PK_CASE(name) CASE_TEST(fault_pkmap, struct pk_case, pk_cases, name)

#define W c->arch, c->last_pkmap

/* Pages: A, B, then fillers. */
static hm_pfn_t pa(const struct pk_case *c) { return c->high0 + 0x100u; }
static hm_pfn_t pb(const struct pk_case *c) { return c->high0 + 0x101u; }
static hm_pfn_t pf(const struct pk_case *c, uint32_t n) { return c->high0 + 0x200u + n; }

/* The recycling sequence, S = LAST_PKMAP:
 *   kmap A -> slot 1; a load on cpu 1 caches A's translation; kunmap A (count 1);
 *   kmap fillers into slots 2..S-1 (held); kmap F0: the cursor wraps, flush_all_zero_pkmaps
 *   frees slot 1 and flushes the TLB range, F0 takes slot 0; kmap B: the next slot, 1 = A's.
 * Returns what cpu 1 then loads at B's address. */
static uint8_t recycle(struct tl *t, const struct pk_case *c, int fault, hm_vaddr_t *slot1)
{
    const uint32_t S = c->last_pkmap;
    hm_vaddr_t va, vb;
    tl_mark(t, pa(c), BYTE_A);
    tl_mark(t, pb(c), BYTE_B);
    hm_sim_inject(t->sim, fault);
    va = tl_kmap(t, pa(c));
    cr_assert(eq(u64, va, t->layout.pkmap_base + 4096u), "%s S=%u", W);
    cr_assert(eq(u8, tl_load(t, 1, va), BYTE_A));
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 1, va, NULL), 1));
    tl_kunmap(t, pa(c));
    for (uint32_t s = 2; s < S; s++)
        tl_kmap(t, pf(c, s));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 0));
    cr_assert(eq(u64, tl_kmap(t, pf(c, 0)), t->layout.pkmap_base), "%s S=%u: F0 in slot 0", W);
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_TLB_FLUSH_RANGE), 1));
    vb = tl_kmap(t, pb(c));
    cr_assert(eq(u64, vb, va), "%s S=%u: B must land in A's slot", W);
    cr_assert(eq(u64, hm_sim_pte(t->sim, vb), hm_mk_kmap_pte(t->ctx, pb(c))));
    tl_assert_invariants(t, "recycle");
    *slot1 = va;
    return tl_load(t, 1, vb);
}

PK_CASE(dropped_wrap_flush_reads_the_old_page)
{
    struct tl *t = tl_open_arch(c->arch, c->last_pkmap, 2, 0, 0);
    hm_vaddr_t v = 0;
    uint8_t got = recycle(t, c, HM_SIM_FAULT_DROP_ALL_FLUSHES, &v);
    struct hm_sim_stats st = tl_sim_stats(t);
    /* the detector at PTE-write time: cpu 1 still caches A where B is being written */
    cr_assert(gt(u64, st.stale_pte_writes, 0), "%s S=%u", W);
    cr_assert(eq(u64, st.stale_pte_writes, 1), "%s S=%u: only cpu 1 cached slot 1", W);
    size_t n = 0;
    for (size_t i = 0; i < t->nev; i++) {
        if (t->ev[i].kind != HM_EV_STALE_TLB)
            continue;
        if (!n++) {
            cr_assert(eq(u32, t->ev[i].cpu, 1));
            cr_assert(eq(u64, t->ev[i].a, v));
            cr_assert(eq(u64, t->ev[i].b, pa(c))); /* the stale entry still points at A */
        }
    }
    cr_assert(ge(sz, n, 1), "%s S=%u: no stale_tlb event", W);
    /* ... and the load through B's address returns A's byte */
    cr_assert(eq(u8, got, BYTE_A), "%s S=%u", W);
    st = tl_sim_stats(t);
    cr_assert(gt(u64, st.stale_tlb_hits, 0), "%s S=%u", W);
    cr_assert(eq(u64, st.tlb_flushes_dropped, 1)); /* the one wrap flush of the sequence */
    cr_assert(eq(u64, st.tlb_flush_ranges, 1));    /* still counted */
}

PK_CASE(working_wrap_flush_reads_the_new_page)
{
    struct tl *t = tl_open_arch(c->arch, c->last_pkmap, 2, 0, 0);
    hm_vaddr_t v = 0;
    uint8_t got = recycle(t, c, HM_SIM_FAULT_NONE, &v);
    struct hm_sim_stats st = tl_sim_stats(t);
    cr_assert(eq(u8, got, BYTE_B), "%s S=%u", W);
    cr_assert(eq(u64, st.stale_pte_writes, 0), "%s S=%u", W);
    cr_assert(eq(u64, st.stale_tlb_hits, 0), "%s S=%u", W);
    cr_assert(eq(u64, st.tlb_flushes_dropped, 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_STALE_TLB), 0));
}

PK_CASE(drop_next_flush_drops_exactly_one)
{
    const uint32_t S = c->last_pkmap;
    struct tl *t = tl_open_arch(c->arch, c->last_pkmap, 2, 0, 0);
    hm_vaddr_t v = 0, vc, vd;
    cr_assert(eq(u8, recycle(t, c, HM_SIM_FAULT_DROP_NEXT_FLUSH, &v), BYTE_A), "%s S=%u", W);
    struct hm_sim_stats st = tl_sim_stats(t);
    cr_assert(eq(u64, st.tlb_flushes_dropped, 1));
    cr_assert(eq(u64, st.stale_pte_writes, 1));
    /* release everything; the next kmap scans 2..S-1, wraps and flushes again (this flush
     * works), takes slot 0; the one after takes slot 1 again */
    tl_kunmap(t, pb(c));
    tl_kunmap(t, pf(c, 0));
    for (uint32_t s = 2; s < S; s++)
        tl_kunmap(t, pf(c, s));
    const hm_pfn_t pc = c->high0 + 0x1000u, pd = c->high0 + 0x1001u; /* beyond every filler */
    tl_mark(t, pc, 0xc3);
    tl_mark(t, pd, 0xd4);
    vc = tl_kmap(t, pc);
    cr_assert(eq(u64, vc, t->layout.pkmap_base));
    vd = tl_kmap(t, pd);
    cr_assert(eq(u64, vd, v));
    uint64_t hits_before = tl_sim_stats(t).stale_tlb_hits;
    cr_assert(eq(u8, tl_load(t, 1, vd), 0xd4), "%s S=%u: the second flush must work", W);
    st = tl_sim_stats(t);
    cr_assert(eq(u64, st.tlb_flushes_dropped, 1));
    cr_assert(eq(u64, st.tlb_flush_ranges, 2));
    cr_assert(eq(u64, st.stale_pte_writes, 1)); /* no new stale write */
    cr_assert(eq(u64, st.stale_tlb_hits, hits_before));
    tl_assert_invariants(t, "after the second flush");
}

/* Switching back to HM_SIM_FAULT_NONE stops the dropping (and clears a pending drop). */
PK_CASE(fault_none_resets_injection)
{
    struct tl *t = tl_open_arch(c->arch, c->last_pkmap, 2, 0, 0);
    hm_sim_inject(t->sim, HM_SIM_FAULT_DROP_NEXT_FLUSH);
    hm_sim_inject(t->sim, HM_SIM_FAULT_NONE);
    hm_vaddr_t v = 0;
    cr_assert(eq(u8, recycle(t, c, HM_SIM_FAULT_NONE, &v), BYTE_B), "%s S=%u", W);
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flushes_dropped, 0));
}

/* ---------------------------------------------------------------------------------------
 * Atomic slots: kmap_atomic(A) / load / kunmap_atomic / kmap_atomic(B), same cpu and type (and,
 * on xtensa, the same colour: B is A + 2). Which flushes the sequence has is per arch (§7 table,
 * no DEBUG_HIGHMEM) and, from 5.11, per kmap_local's arch hooks (docs/generations.md):
 *   up to 2.6.30 (kmap_atomic):
 *   x86, x86-pae: map: none; unmap: pte_clear + local flush_tlb_page      -> 1 flush
 *   ppc:          map: flush_tlb_page; unmap: pte_clear + flush_tlb_page -> 3 flushes
 *   sparc:        map: flush_tlb_all; unmap: nothing                      -> 2 flushes
 *   arm:          map: local flush_tlb_kernel_page; unmap: nothing        -> 2 flushes
 *   xtensa:       map: none; unmap: pte_clear + local flush_tlb_page      -> 1 flush
 *   5.11 (kmap_local, every unmap clears the PTE):
 *   x86, x86-pae, xtensa: map: none; unmap: flush_tlb_page after the clear -> 1 flush
 *   ppc:          map and unmap: flush_tlb_page after the PTE write       -> 3 flushes
 *   sparc:        map and unmap: flush_tlb_all after the PTE write        -> 3 flushes
 *   arm:          map and unmap: local flush_tlb_kernel_page after it     -> 3 flushes
 * Dropping only the next flush right before kunmap_atomic loses the unmap's flush where it has
 * one, else the map-B flush: A's entry survives where the unmap has the only flush (x86,
 * xtensa) or none at all (sparc, arm up to 2.6.30); where map B flushes after an unmap that
 * flushed (ppc, and every 5.11 arch that flushes on map) B is read. Dropping it right before the
 * second kmap_atomic hurts only an arch whose unmap leaves A's entry behind (sparc and arm up to
 * 2.6.30).
 * ------------------------------------------------------------------------------------- */
struct at_expect {
    uint32_t flushes;             /* TLB flushes in the sequence */
    int stale_drop_before_unmap;  /* DROP_NEXT_FLUSH injected just before kunmap_atomic */
    int stale_drop_before_map_b;  /* DROP_NEXT_FLUSH injected just before kmap_atomic(B) */
    int map_flushes;              /* kmap_atomic flushes the TLB */
};

struct at_case {
    char arch[12];
    hm_pfn_t high0;
    struct at_expect gen[2]; /* [0]: kmap_atomic (2.6.24, 2.6.30); [1]: 5.11's kmap_local */
};

static struct at_case at_cases[] = {
    {"x86", 0x38000u, {{1, 1, 0, 0}, {1, 1, 0, 0}}},
    {"x86-pae", 0x38000u, {{1, 1, 0, 0}, {1, 1, 0, 0}}},
    {"ppc", 0x30000u, {{3, 0, 0, 1}, {3, 0, 0, 1}}},
    {"sparc", 0xc000u, {{2, 1, 1, 1}, {3, 0, 0, 1}}},
    {"arm", 0x37000u, {{2, 1, 1, 1}, {3, 0, 0, 1}}},
    {"arm-vipt", 0x37000u, {{2, 1, 1, 1}, {3, 0, 0, 1}}},
    {"xtensa", 0x8000u, {{1, 1, 0, 0}, {1, 1, 0, 0}}},
};

/* The case's figures in the fixture's generation. */
static const struct at_expect *at_want(const struct tl *t, const struct at_case *c)
{
    return &c->gen[tl_atomic_is_local(t)];
}

#define AT_CASE(name) CASE_TEST(fault_atomic, struct at_case, at_cases, name)

enum { AT_FROM_START, AT_BEFORE_UNMAP, AT_BEFORE_MAP_B };

/* Runs the sequence with `fault` injected at point `when`; returns what cpu 0 loads through
 * the slot after B was mapped. */
static uint8_t atomic_sequence(struct tl *t, const struct at_case *c, int fault, int when)
{
    const hm_pfn_t a = c->high0 + 0x10u, b = a + hm_pkmap_colours(t->ctx);
    hm_vaddr_t va = 0, vb = 0;
    tl_mark(t, a, BYTE_A);
    tl_mark(t, b, BYTE_B);
    if (when == AT_FROM_START)
        hm_sim_inject(t->sim, fault);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, a, KM_USER0, &va), HM_OK));
    cr_assert(eq(u8, tl_load(t, 0, va), BYTE_A), "%s", c->arch);
    if (when == AT_BEFORE_UNMAP)
        hm_sim_inject(t->sim, fault);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, va, KM_USER0), HM_OK));
    if (when == AT_BEFORE_MAP_B)
        hm_sim_inject(t->sim, fault);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, b, KM_USER0, &vb), HM_OK));
    cr_assert(eq(u64, vb, va), "%s: same cpu and type, same slot", c->arch);
    cr_assert(eq(u64, hm_sim_pte(t->sim, vb), hm_mk_kmap_pte(t->ctx, b)));
    return tl_load(t, 0, vb);
}

AT_CASE(every_flush_dropped_reads_the_old_page)
{
    struct tl *t = tl_open_arch(c->arch, 0, 1, 0, 0);
    uint8_t got = atomic_sequence(t, c, HM_SIM_FAULT_DROP_ALL_FLUSHES, AT_FROM_START);
    struct hm_sim_stats st = tl_sim_stats(t);
    cr_assert(eq(u8, got, BYTE_A), "%s", c->arch);
    cr_assert(eq(u64, st.stale_tlb_hits, 1), "%s", c->arch);
    cr_assert(eq(u64, st.tlb_flushes_dropped, at_want(t, c)->flushes), "%s", c->arch);
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_STALE_TLB), 1));
}

AT_CASE(no_fault_reads_the_new_page)
{
    struct tl *t = tl_open_arch(c->arch, 0, 1, 0, 0);
    uint8_t got = atomic_sequence(t, c, HM_SIM_FAULT_NONE, AT_FROM_START);
    struct hm_sim_stats st = tl_sim_stats(t);
    cr_assert(eq(u8, got, BYTE_B), "%s", c->arch);
    cr_assert(eq(u64, st.stale_tlb_hits, 0));
    cr_assert(eq(u64, st.tlb_flushes_dropped, 0));
    /* the flushes of the sequence, counted by kind */
    cr_assert(eq(u64, st.tlb_flush_pages + st.tlb_flush_alls + st.tlb_flush_ranges, at_want(t, c)->flushes),
              "%s", c->arch);
}

AT_CASE(one_flush_dropped_before_kunmap_atomic)
{
    struct tl *t = tl_open_arch(c->arch, 0, 1, 0, 0);
    uint8_t got = atomic_sequence(t, c, HM_SIM_FAULT_DROP_NEXT_FLUSH, AT_BEFORE_UNMAP);
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flushes_dropped, 1), "%s", c->arch);
    cr_assert(eq(u8, got, at_want(t, c)->stale_drop_before_unmap ? BYTE_A : BYTE_B), "%s", c->arch);
    cr_assert(eq(u64, tl_sim_stats(t).stale_tlb_hits, at_want(t, c)->stale_drop_before_unmap ? 1u : 0u));
}

AT_CASE(one_flush_dropped_before_the_second_kmap_atomic)
{
    struct tl *t = tl_open_arch(c->arch, 0, 1, 0, 0);
    uint8_t got = atomic_sequence(t, c, HM_SIM_FAULT_DROP_NEXT_FLUSH, AT_BEFORE_MAP_B);
    /* on x86 no flush follows, so the drop stays pending */
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flushes_dropped, at_want(t, c)->map_flushes ? 1u : 0u), "%s", c->arch);
    cr_assert(eq(u8, got, at_want(t, c)->stale_drop_before_map_b ? BYTE_A : BYTE_B), "%s", c->arch);
}

/* An unknown fault value is ignored: the mode in force stays. */
Test(fault_atomic, unknown_fault_value_is_ignored)
{
    static struct at_case x86 = {"x86", 0x38000u, {{1, 1, 0, 0}, {1, 1, 0, 0}}};
    struct tl *t = tl_open_arch("x86", 0, 1, 0, 0);
    hm_sim_inject(t->sim, HM_SIM_FAULT_DROP_ALL_FLUSHES);
    hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_ALL_CLEARS + 1); /* past the last mode */
    hm_sim_inject(t->sim, -1);
    cr_assert(eq(u8, atomic_sequence(t, &x86, HM_SIM_FAULT_DROP_ALL_FLUSHES, AT_BEFORE_UNMAP), BYTE_A));
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flushes_dropped, 1));
}
