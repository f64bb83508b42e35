/* scenarios_test.c - the core pkmap scenarios (spec §2, §9) on every highmem backend with every
 * window size in {2, 4, 16, the arch's own}, as one parameterised suite, in the run's kernel
 * generation (HM_TEST_KERNEL); plus the generic backend's kmap over every pfn. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* One (arch, LAST_PKMAP) case, with the values the spec and the arch files document, worked
 * out by hand below. */
struct arch_case {
    char arch[12];         /* the backend's name: an array, since Criterion hands parameters to
                            * a re-executed worker where the parent's pointers mean nothing */
    uint32_t last_pkmap;   /* S */
    hm_vaddr_t pkmap_base; /* PKMAP_BASE for this S */
    hm_pfn_t high0;        /* first highmem pfn (lowmem size) */
    uint32_t pte_shift;    /* where mk_pte puts the pfn */
    hm_pte_t prot;         /* kmap_prot bits */
    int cache_flush_kmaps; /* flush_cache_kmaps() = flush_cache_all() */
    uint32_t colours;      /* PKMAP colours (spec §10.3): the scenarios run on colour 0's slots */
};

/* x86 (non-PAE): FIXADDR_BOOT_START = 0xfffff000 - 197*4K = 0xfff3a000 (x86_test.c), PMD 4 MiB:
 *   S=2:    (0xfff3a000 - 3*4K    = 0xfff37000) & 0xffc00000 = 0xffc00000
 *   S=4:    (0xfff3a000 - 5*4K    = 0xfff35000) & 0xffc00000 = 0xffc00000
 *   S=16:   (0xfff3a000 - 17*4K   = 0xfff29000) & 0xffc00000 = 0xffc00000
 *   S=1024: (0xfff3a000 - 1025*4K = 0xffb39000) & 0xffc00000 = 0xff800000
 * x86-pae: the same fixmap, PMD 2 MiB (mask 0xffe00000):
 *   S=2, 4, 16: 0xfff37000, 0xfff35000, 0xfff29000 -> 0xffe00000
 *   S=512:  (0xfff3a000 - 513*4K  = 0xffd39000) & 0xffe00000 = 0xffc00000
 * ppc: PKMAP_BASE = CONFIG_HIGHMEM_START = 0xfe000000 for every S.
 * sparc: PMD_ALIGN(0xfc000000 + 1280*4K = 0xfc500000) to 4 MiB = 0xfc800000 for every S.
 * PTEs: x86 pfn<<12 | 0x163; PAE pfn<<12 | bit 63 | 0x163; ppc pfn<<12 | 0x591;
 * sparc pfn<<8 | 0x9e. Lowmem: x86 896 MiB (0x38000), ppc 768 MiB (0x30000), sparc 192 MiB
 * (0xc000). flush_cache_kmaps: a no-op on x86, flush_cache_all on ppc and sparc.
 * arm, arm-vipt: PKMAP_BASE = PAGE_OFFSET 0xc0000000 - PMD_SIZE 2 MiB = 0xbfe00000 for every S
 * (at most 512); PTE pfn<<12 | PAGE_KERNEL 0x2cf (PRESENT 0x1, YOUNG 0x2, write-back 0xc, DIRTY
 * 0x40, WRITE 0x80, EXEC 0x200); 880 MiB of lowmem (0x37000); flush_cache_kmaps is
 * flush_cache_all on the VIVT cache, nothing on VIPT.
 * xtensa: 2 colours; the fixmap of 13 (5.11: 16) slots x 4 CPUs x 2 colours ends at 0xbffff000,
 * so FIXADDR_START = (0xbffff000 - 104 or 128 pages) & 4 MiB = 0xbfc00000 either way, and
 * PKMAP_BASE = (0xbfc00000 - (S + 1) pages) & 4 MiB: 0xbf800000 for S = 4 and 16, 0xbf000000 for
 * 2048; PTE pfn<<12 | 0x107 (CA_WB 0x4, ACCESSED 0x100, HW_WRITE 0x2, HW_EXEC 0x1); 128 MiB of
 * lowmem (0x8000); flush_cache_all. With 2 colours S = 2 leaves colour 0 one slot, which has no
 * "slot 1" to start at, so xtensa's smallest window is 4. */
#define X86(s, base) {"x86", s, base, 0x38000u, 12, 0x163u, 0, 1}
#define PAE(s, base) {"x86-pae", s, base, 0x38000u, 12, (1ull << 63) | 0x163u, 0, 1}
#define PPC(s) {"ppc", s, 0xfe000000u, 0x30000u, 12, 0x591u, 1, 1}
#define SPARC(s) {"sparc", s, 0xfc800000u, 0xc000u, 8, 0x9eu, 1, 1}
#define ARM(name, s, vivt) {name, s, 0xbfe00000u, 0x37000u, 12, 0x2cfu, vivt, 1}
#define XTENSA(s, base) {"xtensa", s, base, 0x8000u, 12, 0x107u, 1, 2}

static struct arch_case cases[] = {
    X86(2, 0xffc00000u), X86(4, 0xffc00000u), X86(16, 0xffc00000u), X86(1024, 0xff800000u),
    PAE(2, 0xffe00000u), PAE(4, 0xffe00000u), PAE(16, 0xffe00000u), PAE(512, 0xffc00000u),
    PPC(2), PPC(4), PPC(16), PPC(1024),
    SPARC(2), SPARC(4), SPARC(16), SPARC(1024),
    ARM("arm", 2, 1), ARM("arm", 4, 1), ARM("arm", 16, 1), ARM("arm", 512, 1),
    ARM("arm-vipt", 2, 0), ARM("arm-vipt", 4, 0), ARM("arm-vipt", 16, 0), ARM("arm-vipt", 512, 0),
    XTENSA(4, 0xbf800000u), XTENSA(16, 0xbf800000u), XTENSA(2048, 0xbf000000u),
};

#define NCASES (sizeof cases / sizeof cases[0])

/* One ParameterizedTest over the whole table. */
#define SCENARIO(name)                                                                    \
    ParameterizedTestParameters(scenarios, name)                                          \
    {                                                                                     \
        return cr_make_param_array(struct arch_case, cases, NCASES);                      \
    }                                                                                     \
    ParameterizedTest(struct arch_case *c, scenarios, name)

TestSuite(scenarios, .fini = tl_fini, .timeout = 60);
TestSuite(scenarios_generic, .fini = tl_fini, .timeout = 60);

/* "x86-pae S=16" for messages */
#define W c->arch, c->last_pkmap

/* The scenarios speak of "slot n" of a window of S slots. On a coloured arch they use colour
 * 0's pages and slots only: its n-th slot is slot n * colours of the window, and it has
 * last_pkmap / colours of them (S below); its cursor is hm_last_pkmap_nr's. */
static uint32_t nslots(const struct arch_case *c)
{
    return c->last_pkmap / c->colours;
}

static uint32_t slot(const struct arch_case *c, uint32_t n)
{
    return n * c->colours;
}

/* A highmem page of the case (distinct for distinct n), of colour 0. */
static hm_pfn_t pg(const struct arch_case *c, uint32_t n)
{
    return c->high0 + 0x40u + n * c->colours;
}

/* PKMAP_ADDR of slot n */
static hm_vaddr_t pkaddr(const struct arch_case *c, uint32_t n)
{
    return c->pkmap_base + slot(c, n) * 4096u;
}

/* pkmap_count of slot n */
static int count(const struct tl *t, const struct arch_case *c, uint32_t n)
{
    return hm_pkmap_count(t->ctx, slot(c, n));
}

/* The records the slots of the other colours leave in the page_address pool. */
static uint32_t other_colours_records(const struct arch_case *c)
{
    return c->last_pkmap - nslots(c);
}

/* The flush's TLB range covers the whole window, every colour's slots. */
static void assert_window_range(const struct tl *t, const struct arch_case *c, size_t r)
{
    cr_assert(eq(u64, t->ev[r].a, c->pkmap_base), "%s S=%u", W);
    cr_assert(eq(u64, t->ev[r].b, c->pkmap_base + c->last_pkmap * 4096u), "%s S=%u", W);
}

/* mk_pte(pfn, kmap_prot) */
static hm_pte_t kpte(const struct arch_case *c, hm_pfn_t pfn)
{
    return ((hm_pte_t)pfn << c->pte_shift) | c->prot;
}

static struct tl *open_case(const struct arch_case *c, uint32_t cpus, int need_flush)
{
    struct tl *t = tl_open_arch(c->arch, c->last_pkmap, cpus, 0, need_flush);
    cr_assert(eq(u32, t->layout.last_pkmap, c->last_pkmap), "%s S=%u", W);
    cr_assert(eq(u64, t->layout.pkmap_base, c->pkmap_base), "%s S=%u", W);
    cr_assert(eq(u32, t->layout.highmem_start_pfn, c->high0), "%s S=%u", W);
    tl_assert_invariants(t, "open");
    return t;
}

/* Expected kinds of a flush_all_zero_pkmaps run that frees `freed` slots, followed by the PTE
 * write of the kmap that triggered it: enter, [cache flush], freed clears, [TLB range], done,
 * pte_set. Returns the number written into k. */
static size_t wrap_kinds(const struct arch_case *c, uint32_t freed, int tlb_flush, int *k)
{
    size_t n = 0;
    k[n++] = HM_EV_FLUSH_ALL_ZERO_PKMAPS;
    if (c->cache_flush_kmaps)
        k[n++] = HM_EV_CACHE_FLUSH_ALL;
    for (uint32_t i = 0; i < freed; i++)
        k[n++] = HM_EV_PTE_CLEAR;
    if (tlb_flush)
        k[n++] = HM_EV_TLB_FLUSH_RANGE;
    k[n++] = HM_EV_FLUSH_DONE;
    k[n++] = HM_EV_PTE_SET;
    return n;
}

/* The index of the first event of a kind at or after `from` (asserts there is one). */
static size_t find_ev(const struct tl *t, size_t from, int kind)
{
    for (size_t i = from; i < t->nev; i++)
        if (t->ev[i].kind == kind)
            return i;
    cr_assert(0, "no %s event", hm_event_name(kind));
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * §9.1: the first kmap uses slot 1.
 * ------------------------------------------------------------------------------------- */
SCENARIO(first_kmap_uses_slot_1)
{
    struct tl *t = open_case(c, 1, 0);
    static const int want[] = {HM_EV_PTE_SET};
    hm_vaddr_t v = tl_kmap(t, pg(c, 0));
    cr_assert(eq(u64, v, pkaddr(c, 1)), "%s S=%u", W);
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), slot(c, 1)));
    cr_assert(eq(int, count(t, c, 1), 2));
    cr_assert(eq(int, count(t, c, 0), 0));
    tl_assert_ev_kinds(t, 0, want, 1, "first kmap");
    cr_assert(eq(u64, t->ev[0].a, pkaddr(c, 1)));
    cr_assert(eq(u64, t->ev[0].b, pg(c, 0)));
    cr_assert(eq(u64, t->ev[0].pte, kpte(c, pg(c, 0))), "%s S=%u", W);
    cr_assert(eq(u64, hm_sim_pte(t->sim, pkaddr(c, 1)), kpte(c, pg(c, 0))));
    cr_assert(eq(u64, hm_sim_pte(t->sim, pkaddr(c, 0)), 0));
    cr_assert(eq(u64, tl_page_address(t, pg(c, 0)), pkaddr(c, 1)));
    tl_assert_invariants(t, "first kmap");
}

/* ---------------------------------------------------------------------------------------
 * §2.3 / §9.2: S-1 kmaps take slots 1..S-1 without a flush; the next wraps, flushes (the
 * 2.6.24 TLB flush is unconditional, §9.4; from 2.6.30 it needs a freed slot) and takes slot 0.
 * ------------------------------------------------------------------------------------- */
SCENARIO(fill_window_then_slot_0_after_flush)
{
    struct tl *t = open_case(c, 1, 0);
    const uint32_t S = nslots(c);
    int k[8];
    for (uint32_t i = 0; i + 1 < S; i++) {
        cr_assert(eq(u64, tl_kmap(t, pg(c, i)), pkaddr(c, i + 1)), "%s S=%u kmap %u", W, i);
        cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), slot(c, i + 1)));
        tl_assert_invariants(t, "fill");
    }
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 0), "%s S=%u", W);
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_PTE_SET), S - 1));
    cr_assert(eq(int, count(t, c, 0), 0));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, pg(c, S)), pkaddr(c, 0)), "%s S=%u", W);
    int flushed = !tl_flush_only_when_freed(t); /* 2.6.24: always (spec §9.4) */
    size_t n = wrap_kinds(c, 0, flushed, k);
    tl_assert_ev_kinds(t, 0, k, n, "wrap of a full window");
    if (flushed)
        assert_window_range(t, c, find_ev(t, 0, HM_EV_TLB_FLUSH_RANGE));
    cr_assert(eq(u64, t->ev[n - 1].a, pkaddr(c, 0)));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), slot(c, 0)));
    for (uint32_t s = 0; s < S; s++)
        cr_expect(eq(int, count(t, c, s), 2), "%s S=%u slot %u", W, s);
    cr_assert(eq(u32, hm_pool_size(t->ctx), other_colours_records(c)));
    tl_assert_invariants(t, "full window");
}

/* ---------------------------------------------------------------------------------------
 * §9.5: kunmap is lazy; a re-kmap of a count-1 page reuses its address with no PTE write.
 * ------------------------------------------------------------------------------------- */
SCENARIO(rekmap_of_count1_page_reuses_address)
{
    struct tl *t = open_case(c, 1, 0);
    const uint32_t S = nslots(c);
    /* map slots 1..S-1; release the first and the last */
    for (uint32_t i = 0; i + 1 < S; i++)
        tl_kmap(t, pg(c, i));
    tl_kunmap(t, pg(c, 0));
    if (S > 2) /* with S = 2 the first is the last */
        tl_kunmap(t, pg(c, S - 2));
    tl_assert_invariants(t, "kunmap");
    cr_assert(eq(int, count(t, c, 1), 1));
    cr_assert(eq(int, count(t, c, S - 1), 1));
    cr_assert(eq(u64, hm_sim_pte(t->sim, pkaddr(c, 1)), kpte(c, pg(c, 0))), "%s S=%u lazy", W);
    cr_assert(eq(u64, tl_page_address(t, pg(c, 0)), pkaddr(c, 1)));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, pg(c, 0)), pkaddr(c, 1)), "%s S=%u", W);
    if (S > 2)
        cr_assert(eq(u64, tl_kmap(t, pg(c, S - 2)), pkaddr(c, S - 1)), "%s S=%u", W);
    cr_assert(eq(sz, t->nev, 0), "%s S=%u: no event at all", W);
    cr_assert(eq(int, count(t, c, 1), 2));
    cr_assert(eq(int, count(t, c, S - 1), 2));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), slot(c, S - 1))); /* no scan */
    cr_assert(eq(u64, tl_stats(t).kmap_reuse_count1, S > 2 ? 2u : 1u));
    tl_assert_invariants(t, "re-kmap");
}

/* ---------------------------------------------------------------------------------------
 * §2.1: the wrap flush frees exactly the count-1 slots, in ascending order, then flushes the
 * TLB once over [PKMAP_ADDR(0), PKMAP_ADDR(S)).
 * ------------------------------------------------------------------------------------- */
SCENARIO(wrap_flush_frees_exactly_the_count1_slots)
{
    struct tl *t = open_case(c, 1, 0);
    const uint32_t S = nslots(c);
    uint32_t freed = 0;
    int *k = malloc((S + 8) * sizeof *k);
    cr_assert(not(eq(ptr, k, NULL)));
    /* page i in slot i+1; release the pages in odd slots; the page in slot 2 (if any) gets a
     * second reference and drops it again: count 3 -> 2, still in use */
    for (uint32_t i = 0; i + 1 < S; i++)
        tl_kmap(t, pg(c, i));
    for (uint32_t s = 1; s < S; s += 2) {
        tl_kunmap(t, pg(c, s - 1));
        freed++;
    }
    if (S > 2) {
        tl_kmap(t, pg(c, 1));
        cr_assert(eq(int, count(t, c, 2), 3));
        tl_kunmap(t, pg(c, 1));
    }
    tl_assert_invariants(t, "before wrap");
    /* S/2 odd slots in 1..S-1 */
    cr_assert(eq(u32, freed, S / 2));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, pg(c, S)), pkaddr(c, 0)), "%s S=%u", W);
    size_t n = wrap_kinds(c, freed, 1, k);
    tl_assert_ev_kinds(t, 0, k, n, "wrap flush");
    size_t first_clear = c->cache_flush_kmaps ? 2 : 1;
    for (uint32_t j = 0; j < freed; j++)
        cr_expect(eq(u64, t->ev[first_clear + j].a, pkaddr(c, 2 * j + 1)), "%s S=%u clear %u", W, j);
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_TLB_FLUSH_RANGE), 1));
    size_t r = find_ev(t, 0, HM_EV_TLB_FLUSH_RANGE);
    assert_window_range(t, c, r);
    cr_assert(eq(u64, t->ev[r + 1].a, freed)); /* flush_done: slots freed */
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flush_ranges, 1));
    for (uint32_t s = 1; s < S; s++) {
        if (s % 2) {
            cr_expect(eq(int, count(t, c, s), 0), "%s S=%u slot %u", W, s);
            cr_expect(eq(u64, hm_sim_pte(t->sim, pkaddr(c, s)), 0), "%s S=%u slot %u", W, s);
            cr_expect(eq(u64, tl_page_address(t, pg(c, s - 1)), 0), "%s S=%u slot %u", W, s);
        } else {
            cr_expect(eq(int, count(t, c, s), 2), "%s S=%u slot %u", W, s);
            cr_expect(eq(u64, hm_sim_pte(t->sim, pkaddr(c, s)), kpte(c, pg(c, s - 1))), "%s S=%u slot %u", W, s);
        }
    }
    cr_assert(eq(u32, hm_pool_size(t->ctx), freed + other_colours_records(c)));
    cr_assert(eq(u64, tl_stats(t).slots_freed, freed));
    tl_assert_invariants(t, "wrap flush");
    free(k);
}

/* ---------------------------------------------------------------------------------------
 * §9.3: with every slot in use, kmap_try scans up to the wrap, flushes, makes a full pass and
 * gives up (where kmap would sleep) with last_pkmap_nr == S-1.
 * ------------------------------------------------------------------------------------- */
SCENARIO(kmap_try_with_every_slot_in_use_is_eagain)
{
    struct tl *t = open_case(c, 1, 0);
    const uint32_t S = nslots(c);
    hm_vaddr_t v = 0x1234u;
    for (uint32_t i = 0; i < S; i++)
        tl_kmap(t, pg(c, i));
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), slot(c, 0)));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_try(t->ctx, pg(c, S), &v), HM_EAGAIN), "%s S=%u", W);
    cr_assert(eq(u32, hm_last_pkmap_nr(t->ctx), slot(c, S - 1)), "%s S=%u", W);
    cr_assert(eq(u64, v, 0x1234u));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 1));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_PTE_SET), 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_PTE_CLEAR), 0));
    cr_assert(eq(u64, tl_page_address(t, pg(c, S)), 0));
    cr_assert(eq(u64, tl_stats(t).kmap_eagain, 1));
    for (uint32_t s = 0; s < S; s++)
        cr_expect(eq(int, count(t, c, s), 2), "%s S=%u slot %u", W, s);
    tl_assert_invariants(t, "EAGAIN");
    /* a page that is already mapped still works (page_address is checked first) */
    cr_assert(eq(int, hm_kmap_try(t->ctx, pg(c, 0), &v), HM_OK));
    cr_assert(eq(u64, v, S > 1 ? pkaddr(c, 1) : pkaddr(c, 0)));
}

/* ---------------------------------------------------------------------------------------
 * §9.6 / §9.14: a second kunmap would take the count to 0: KUNMAP_ZERO, nothing changes.
 * ------------------------------------------------------------------------------------- */
SCENARIO(double_kunmap_is_kunmap_zero_and_changes_nothing)
{
    struct tl *t = open_case(c, 1, 0);
    struct tl_snap s;
    hm_vaddr_t v = tl_kmap(t, pg(c, 0));
    tl_kunmap(t, pg(c, 0));
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kunmap(t->ctx, pg(c, 0)), HM_EINVAL), "%s S=%u", W);
    tl_assert_last_bug(t, HM_BUG_KUNMAP_ZERO, HM_EINVAL, "kunmap_high");
    cr_assert(eq(u64, tl_last_bug(t)->arg, pg(c, 0)));
    tl_snap_assert_same(t, &s, "double kunmap");
    cr_assert(eq(int, count(t, c, 1), 1));
    cr_assert(eq(u64, tl_page_address(t, pg(c, 0)), v));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_WAKEUP), 0));
    /* a page that was never mapped: KUNMAP_UNMAPPED */
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kunmap(t->ctx, pg(c, 1)), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_KUNMAP_UNMAPPED, HM_EINVAL, "kunmap_high");
    tl_snap_assert_same(t, &s, "kunmap of an unmapped page");
    tl_assert_invariants(t, "double kunmap");
}

/* ---------------------------------------------------------------------------------------
 * §9.4 need_flush (2.6.30): no TLB flush when the run freed nothing; one when it freed some.
 * The cache hook still runs first on ppc and sparc.
 * ------------------------------------------------------------------------------------- */
SCENARIO(need_flush_mode)
{
    struct tl *t = open_case(c, 1, 1);
    const uint32_t S = nslots(c);
    int k[8];
    for (uint32_t i = 0; i + 1 < S; i++)
        tl_kmap(t, pg(c, i));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, pg(c, S)), pkaddr(c, 0)), "%s S=%u", W);
    size_t n = wrap_kinds(c, 0, 0, k);
    tl_assert_ev_kinds(t, 0, k, n, "need_flush wrap, nothing freed");
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flush_ranges, 0), "%s S=%u", W);
    cr_assert(eq(u64, tl_stats(t).flushes, 1));
    tl_assert_invariants(t, "need_flush wrap");

    /* free slot 1: the next kmap scans 1 (count 1), 2..S-1 (busy), wraps, frees slot 1 with one
     * TLB flush, tests 0 (busy) and takes 1 */
    tl_kunmap(t, pg(c, 0));
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, pg(c, S + 1)), pkaddr(c, 1)), "%s S=%u", W);
    n = wrap_kinds(c, 1, 1, k);
    tl_assert_ev_kinds(t, 0, k, n, "need_flush wrap, one freed");
    size_t r = find_ev(t, 0, HM_EV_TLB_FLUSH_RANGE);
    assert_window_range(t, c, r);
    cr_assert(eq(u64, tl_sim_stats(t).tlb_flush_ranges, 1), "%s S=%u", W);
    tl_assert_invariants(t, "need_flush second wrap");

    /* kmap_flush_unused with nothing at count 1: no TLB flush either */
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_TLB_FLUSH_RANGE), 0));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_CACHE_FLUSH_ALL), c->cache_flush_kmaps ? 1u : 0u));
}

/* ---------------------------------------------------------------------------------------
 * Loads through the pkmap window on two CPUs read the right page before and after the slots
 * are recycled, and the stale-translation detectors never fire (§8 I4).
 * ------------------------------------------------------------------------------------- */
SCENARIO(loads_on_two_cpus_before_and_after_recycling)
{
    struct tl *t = open_case(c, 2, 0);
    const uint32_t S = nslots(c);
    /* round 0: pages pg(i) with byte i & 0x7f; round 1: pages pg(S + i) with 0x80 | (i & 0x7f),
     * so a slot's old and new page never hold the same byte */
    for (uint32_t i = 0; i < S; i++) {
        tl_mark(t, pg(c, i), (uint8_t)(i & 0x7fu));
        tl_mark(t, pg(c, S + i), (uint8_t)(0x80u | (i & 0x7fu)));
    }
    /* round 0: page i in slot i+1, the last one in slot 0 after the wrap */
    for (uint32_t i = 0; i < S; i++) {
        hm_vaddr_t v = tl_kmap(t, pg(c, i));
        cr_assert(eq(u64, v, pkaddr(c, (i + 1) % S)), "%s S=%u", W);
        for (uint32_t cpu = 0; cpu < 2; cpu++)
            cr_expect(eq(u8, tl_load(t, cpu, v), (uint8_t)(i & 0x7fu)), "%s S=%u page %u cpu %u", W, i, cpu);
    }
    tl_assert_invariants(t, "round 0");
    /* the wrap before the last kmap flushed the TLBs: load every page again on both CPUs, so
     * that every slot is cached everywhere when the slots are recycled */
    for (uint32_t i = 0; i < S; i++)
        for (uint32_t cpu = 0; cpu < 2; cpu++)
            cr_expect(eq(u8, tl_load(t, cpu, pkaddr(c, (i + 1) % S)), (uint8_t)(i & 0x7fu)));
    for (uint32_t s = 0; s < S; s++)
        for (uint32_t cpu = 0; cpu < 2; cpu++)
            cr_expect(eq(int, hm_sim_tlb_lookup(t->sim, cpu, pkaddr(c, s), NULL), 1), "%s S=%u slot %u", W, s);
    for (uint32_t i = 0; i < S; i++)
        tl_kunmap(t, pg(c, i));
    /* count-1 slots still read their page */
    for (uint32_t i = 0; i < S; i++)
        cr_expect(eq(u8, tl_load(t, 1, pkaddr(c, (i + 1) % S)), (uint8_t)(i & 0x7fu)));
    tl_assert_invariants(t, "released");
    /* round 1: the first kmap scans 1..S-1 (count 1), wraps, frees every slot and takes 0;
     * then 1, 2, ... S-1: every slot is recycled for another page */
    for (uint32_t i = 0; i < S; i++) {
        hm_vaddr_t v = tl_kmap(t, pg(c, S + i));
        cr_assert(eq(u64, v, pkaddr(c, i)), "%s S=%u", W);
        for (uint32_t cpu = 0; cpu < 2; cpu++)
            cr_expect(eq(u8, tl_load(t, cpu, v), (uint8_t)(0x80u | (i & 0x7fu))), "%s S=%u page %u cpu %u",
                      W, S + i, cpu);
        tl_assert_invariants(t, "round 1");
    }
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_FLUSH_ALL_ZERO_PKMAPS), 2)); /* one per round */
    struct hm_sim_stats st = tl_sim_stats(t);
    cr_assert(eq(u64, st.stale_tlb_hits, 0), "%s S=%u", W);
    cr_assert(eq(u64, st.stale_pte_writes, 0), "%s S=%u", W);
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_STALE_TLB), 0));
    cr_assert(eq(u64, st.tlb_flushes_dropped, 0));
}

/* ---------------------------------------------------------------------------------------
 * generic (!CONFIG_HIGHMEM): kmap is PAGE_OFFSET + (pfn << 12) for every pfn.
 * ------------------------------------------------------------------------------------- */
Test(scenarios_generic, kmap_is_page_offset_plus_pfn_for_every_pfn)
{
    struct tl *t = tl_open_arch("generic", 0, 1, 0, 0);
    uint32_t bad = 0, first_bad = 0;
    /* 896 MiB: pfns 0 .. 0x37fff */
    cr_assert(eq(u32, t->layout.max_pfn, 0x38000u));
    for (hm_pfn_t pfn = 0; pfn < 0x38000u; pfn++) {
        hm_vaddr_t v = 0;
        if (hm_kmap(t->ctx, pfn, &v) != HM_OK || v != 0xc0000000u + (pfn << 12) ||
            hm_kunmap(t->ctx, pfn) != HM_OK) {
            if (!bad++)
                first_bad = pfn;
        }
    }
    cr_assert(eq(u32, bad, 0), "%u pfns wrong, first %#x", bad, first_bad);
    cr_assert(eq(u64, tl_kmap(t, 0x37fffu), 0xf7fff000u));
    cr_assert(eq(sz, t->nev, 0));
    tl_assert_invariants(t, "generic");
}
