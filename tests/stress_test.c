/* stress_test.c - every kmap-family call at once on small windows (x86, x86-pae, ppc, sparc; both locking
 * modes): hits, misses, wraps, sleeps, kmap_try, flush_unused, per-CPU kmap_atomic, concurrent inspection;
 * every byte checked through the sim, invariants and balanced counts at barriers. SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/machine.h"
#include "highmem.h"
#include "sim/sim.h"
#include "testenv.h"
#include "threadlib.h"

/* ---------------------------------------------------------------------------------------
 * The cases: one machine each, every case run in both locking modes.
 * ------------------------------------------------------------------------------------- */
struct stress_cfg {
    const char *name;
    const char *arch;
    uint32_t last_pkmap;
    int need_flush, debug_highmem, locking;
};

static const struct stress_cfg configs[] = {
    {"x86_pkmap4_fast", "x86", 4, 0, 0, HM_LOCKING_FAST},
    {"x86_pkmap4_kernel", "x86", 4, 0, 0, HM_LOCKING_KERNEL},
    {"x86-pae_pkmap8_need_flush_fast", "x86-pae", 8, 1, 0, HM_LOCKING_FAST},
    {"x86-pae_pkmap8_need_flush_kernel", "x86-pae", 8, 1, 0, HM_LOCKING_KERNEL},
    {"ppc_pkmap16_fast", "ppc", 16, 0, 0, HM_LOCKING_FAST},
    {"ppc_pkmap16_kernel", "ppc", 16, 0, 0, HM_LOCKING_KERNEL},
    {"sparc_pkmap4_debug_fast", "sparc", 4, 0, 1, HM_LOCKING_FAST},
    {"sparc_pkmap4_debug_kernel", "sparc", 4, 0, 1, HM_LOCKING_KERNEL},
    {"arm_pkmap8_fast", "arm", 8, 0, 0, HM_LOCKING_FAST},
    {"arm_pkmap8_kernel", "arm", 8, 0, 0, HM_LOCKING_KERNEL},
    /* not with debug: 5.11's 33 DEBUG_KMAP_LOCAL slots x NTHREADS CPUs overflow ARM's fixmap */
    {"arm-vipt_pkmap4_need_flush_fast", "arm-vipt", 4, 1, 0, HM_LOCKING_FAST},
    {"arm-vipt_pkmap4_need_flush_kernel", "arm-vipt", 4, 1, 0, HM_LOCKING_KERNEL},
    {"xtensa_pkmap8_fast", "xtensa", 8, 0, 0, HM_LOCKING_FAST},
    {"xtensa_pkmap8_kernel", "xtensa", 8, 0, 0, HM_LOCKING_KERNEL},
};
#define NCASES (sizeof configs / sizeof configs[0])

/* The threads of a case; thread i runs on simulated CPU i (its loads and stores go through CPU
 * i's TLB). Deadlock rule of highmem.h, sum(h_t - 1) < LAST_PKMAP over the threads that may
 * sleep in hm_kmap while holding h_t - 1 slots: HOLDER holds up to hold_max <= LAST_PKMAP - 1
 * pages, PAIR 2; every other blocking hm_kmap is made holding nothing or is a hit of a page the
 * thread holds (which never sleeps); GREEDY's and TRY's extra pages come from hm_kmap_try. So
 * the sum is hold_max - 1 + 1 < LAST_PKMAP. */
enum role {
    FLUSHER,   /* hm_kmap_flush_unused every other round, then one page */
    HOLDER,    /* 1..hold_max pages at once, blocking */
    PAIR,      /* 2 pages, blocking */
    NESTED,    /* a page twice (the second kmap is a hit of its own mapping) */
    GREEDY,    /* 1 page blocking, then hm_kmap_try while it gets slots; once per case it fills
                * the whole window and holds it until some blocking kmap has slept */
    TRY,       /* hm_kmap_try only, up to 2 pages */
    INSPECTOR, /* one page, and the inspection calls while everyone runs */
    CPU_A,     /* kmap_atomic family on its own CPU (nested two deep) */
    CPU_B,
    NTHREADS
};

#define EPOCHS 8        /* barriers per case: the quiescent checks run after each */
#define ROUNDS 100      /* rounds per thread between barriers */
#define HOLD_MAX 6      /* HOLDER's pages at once (also capped at LAST_PKMAP - 1) */
#define MAX_PAGES 40    /* 2 * LAST_PKMAP + 3 highmem pages and one lowmem page */
#define MAX_HELD 16     /* the most pages one thread holds (GREEDY's filled window) */
#define LANE0 16u       /* thread i's byte of every page is at LANE0 + i */
#define FORCE_EPOCH 1   /* the epoch in which GREEDY fills the window */
#define FORCE_WAIT_NS 1000000000LL

struct worker {
    unsigned id;
    uint32_t rnd;
    unsigned round;
    uint8_t last[MAX_PAGES]; /* what this thread last stored in its lane of each page */
    /* its highmem calls, for the balance against hm_stats at the barriers */
    uint64_t kmaps, eagain, kunmaps, atomics, inspections;
    unsigned nheld;
    unsigned held[MAX_HELD];
    hm_vaddr_t held_va[MAX_HELD];
    uint64_t prev_stats[10]; /* INSPECTOR: the counters it last read (they never go down) */
};

static struct {
    const struct stress_cfg *cfg;
    struct hm_ctx *ctx;
    struct hm_sim *sim;
    const struct hm_layout *lay;
    uint32_t slots, npages, hold_max, max_count;
    pthread_barrier_t bar;
    struct worker w[NTHREADS];
    _Atomic hm_vaddr_t atomic_va[NTHREADS]; /* a CPU thread's first atomic slot, once used */
    atomic_int forced_sleep;
    unsigned epochs_checked;
    int high_get; /* arm from 2.6.30: kmap_atomic may pin a kmapped page's pkmap address */
} S;

/* How the inspector calls the getters (inspect_counters): 1 = without any lock, as highmem.h's
 * inspection contract allows; 0 = under kmap_lock, on a core without the fast path
 * (harness_fast_locking_built); STRESS_TEST_INSPECT=unlocked|locked overrides it. */
static int g_unlocked_inspect;

/* ---------------------------------------------------------------------------------------
 * Pages: 2 * LAST_PKMAP + 3 highmem pages (more than slots: misses, wraps, sleeps) and the last
 * lowmem page. Bytes 0 and page_size - 1 hold a pattern of the pfn, set once; byte LANE0 + i
 * is thread i's, which stores a value derived from the pfn there on every visit.
 * ------------------------------------------------------------------------------------- */
static hm_pfn_t page_pfn(unsigned k)
{
    return k < S.npages ? S.lay->highmem_start_pfn + 5 + 3 * k : S.lay->highmem_start_pfn - 1;
}

static int page_high(unsigned k)
{
    return k < S.npages;
}

static uint8_t sig_first(hm_pfn_t pfn)
{
    return (uint8_t)(pfn * 0x9du + 0x35u);
}

static uint8_t sig_last(hm_pfn_t pfn)
{
    return (uint8_t)(pfn * 0x3bu + 0xc1u);
}

static uint32_t next_rnd(struct worker *w)
{
    w->rnd ^= w->rnd << 13;
    w->rnd ^= w->rnd >> 17;
    w->rnd ^= w->rnd << 5;
    return w->rnd;
}

/* A page of the set: the lowmem page one time in 16. */
static unsigned pick_page(struct worker *w)
{
    uint32_t r = next_rnd(w);
    return (r & 15u) == 0 ? S.npages : (r >> 4) % S.npages;
}

static void set_phase(struct worker *w, int phase, unsigned k)
{
    atomic_store(&W.ts[w->id].phase, phase);
    atomic_store(&W.ts[w->id].pfn, page_pfn(k));
}

/* Through va, which maps page k (a pkmap slot, an atomic slot or the direct map): this thread's
 * lane still holds what it stored last (whichever mapping it used then), the pattern bytes are
 * the page's, and a new lane value stored through va lands in the page. A stale TLB entry or a
 * wrong PTE reads another page's bytes. */
static void touch(struct worker *w, unsigned k, hm_vaddr_t va)
{
    hm_pfn_t pfn = page_pfn(k);
    uint32_t cpu = w->id, lane = LANE0 + w->id;
    uint8_t val = (uint8_t)(pfn * 7u + w->round * 13u + w->id), got = 0;
    int rc;

    set_phase(w, PH_CHECK, k);
    rc = hm_sim_load(S.sim, cpu, va + lane, &got);
    CHECK(rc == HM_OK && got == w->last[k], "cpu %u pfn 0x%x at 0x%08" PRIx64 ": own byte 0x%02x (rc %s), "
          "stored 0x%02x", cpu, pfn, va, got, hm_strerror(rc), w->last[k]);
    got = 0;
    rc = hm_sim_load(S.sim, cpu, va + S.lay->page_size - 1, &got);
    CHECK(rc == HM_OK && got == sig_last(pfn), "cpu %u pfn 0x%x at 0x%08" PRIx64 ": last byte 0x%02x (rc %s), "
          "want 0x%02x", cpu, pfn, va, got, hm_strerror(rc), sig_last(pfn));
    if (tt_in_pkmap_window(va)) {
        tt_check_mapping(cpu, pfn, va, sig_first(pfn), lane, val);
    } else { /* tt_check_mapping's steps for an address outside the pkmap window */
        got = 0;
        rc = hm_sim_load(S.sim, cpu, va, &got);
        CHECK(rc == HM_OK && got == sig_first(pfn), "cpu %u pfn 0x%x at 0x%08" PRIx64 ": first byte 0x%02x "
              "(rc %s), want 0x%02x", cpu, pfn, va, got, hm_strerror(rc), sig_first(pfn));
        rc = hm_sim_store(S.sim, cpu, va + lane, val);
        CHECK(rc == HM_OK, "cpu %u: store at 0x%08" PRIx64 ": %s", cpu, va + lane, hm_strerror(rc));
        got = 0;
        rc = hm_sim_phys_read(S.sim, pfn, lane, &got);
        CHECK(rc == HM_OK && got == val, "cpu %u: the store through 0x%08" PRIx64 " did not reach pfn 0x%x "
              "(0x%02x, want 0x%02x)", cpu, va, pfn, got, val);
    }
    w->last[k] = val;
}

/* ---------------------------------------------------------------------------------------
 * Persistent kmaps: take, hold, release.
 * ------------------------------------------------------------------------------------- */

/* hm_kmap (blocking) or hm_kmap_try of page k; on success the page is held and touched.
 * Returns 1 when held, 0 on HM_EAGAIN (try only). */
static int take(struct worker *w, unsigned k, int try_only)
{
    hm_pfn_t pfn = page_pfn(k);
    hm_vaddr_t va = 0;
    int rc;

    if (w->nheld == MAX_HELD)
        return 0;
    set_phase(w, PH_KMAP, k);
    rc = try_only ? hm_kmap_try(S.ctx, pfn, &va) : hm_kmap(S.ctx, pfn, &va);
    if (page_high(k)) {
        w->kmaps++;
        w->eagain += rc == HM_EAGAIN;
    }
    if (try_only && rc == HM_EAGAIN)
        return 0;
    CHECK(rc == HM_OK, "thread %u: %s(pfn 0x%x): %s", w->id, try_only ? "hm_kmap_try" : "hm_kmap", pfn,
          hm_strerror(rc));
    if (rc != HM_OK)
        return 0;
    if (page_high(k))
        CHECK(tt_in_pkmap_window(va), "thread %u: pfn 0x%x at 0x%08" PRIx64 ", outside the pkmap window",
              w->id, pfn, va);
    else
        CHECK(va == S.lay->page_offset + ((hm_vaddr_t)pfn << S.lay->page_shift),
              "thread %u: lowmem pfn 0x%x at 0x%08" PRIx64, w->id, pfn, va);
    w->held[w->nheld] = k;
    w->held_va[w->nheld++] = va;
    touch(w, k, va);
    return 1;
}

/* Hold what was taken a little: mostly a yield, sometimes a real sleep. */
static void hold(struct worker *w)
{
    atomic_store(&W.ts[w->id].phase, PH_HOLD);
    if (next_rnd(w) % 8 == 0)
        tt_sleep_ns(20000);
    else
        sched_yield();
}

/* kunmap everything held, starting at a random one. */
static void release_all(struct worker *w)
{
    unsigned n = w->nheld, start = n ? next_rnd(w) % n : 0;
    for (unsigned j = 0; j < n; j++) {
        unsigned k = w->held[(start + j) % n];
        int rc;
        set_phase(w, PH_KUNMAP, k);
        rc = hm_kunmap(S.ctx, page_pfn(k));
        CHECK(rc == HM_OK, "thread %u: hm_kunmap(pfn 0x%x): %s", w->id, page_pfn(k), hm_strerror(rc));
        w->kunmaps += page_high(k);
    }
    w->nheld = 0;
}

static void flush_unused(struct worker *w)
{
    int rc;
    atomic_store(&W.ts[w->id].phase, PH_FLUSH);
    rc = hm_kmap_flush_unused(S.ctx);
    CHECK(rc == HM_OK, "thread %u: hm_kmap_flush_unused: %s", w->id, hm_strerror(rc));
}

/* GREEDY, once per case: take slots with hm_kmap_try until none is left, and keep the window
 * full (taking again what others release) until the sim has seen a sleep or a second passed.
 * Every blocking miss meanwhile has to sleep, so each case sleeps whatever the timing. */
static void fill_window(struct worker *w)
{
    struct hm_sim_stats st;
    uint64_t sleeps0;
    int64_t until = tt_now_ns() + FORCE_WAIT_NS;
    unsigned k = next_rnd(w) % S.npages;

    hm_sim_get_stats(S.sim, &st);
    sleeps0 = st.sleeps;
    for (;;) {
        /* one pass over the pages it does not hold yet, until hm_kmap_try says the window is full */
        for (unsigned n = 0; n < S.npages && w->nheld < MAX_HELD; n++, k = (k + 1) % S.npages) {
            int mine = 0;
            for (unsigned j = 0; j < w->nheld; j++)
                mine |= w->held[j] == k;
            if (!mine && !take(w, k, 1))
                break;
        }
        hm_sim_get_stats(S.sim, &st);
        if (st.sleeps > sleeps0) {
            atomic_store(&S.forced_sleep, 1);
            break;
        }
        if (tt_now_ns() > until)
            break;
        atomic_store(&W.ts[w->id].phase, PH_HOLD);
        tt_sleep_ns(50000);
    }
    release_all(w);
}

/* ---------------------------------------------------------------------------------------
 * kmap_atomic on the thread's own CPU: kmap_atomic, kmap_atomic_prot or kmap_atomic_pfn, one
 * or two deep, with kmap_atomic_to_page and kmap_to_page of the slot and the CPU's depth.
 * ------------------------------------------------------------------------------------- */
static hm_vaddr_t atomic_take(struct worker *w, unsigned k, unsigned type, unsigned how)
{
    hm_pfn_t pfn = page_pfn(k), got = 0;
    hm_vaddr_t va = 0;
    int rc;

    set_phase(w, PH_KMAP, k);
    if (how == 0)
        rc = hm_kmap_atomic(S.ctx, w->id, pfn, type, &va);
    else if (how == 1)
        rc = hm_kmap_atomic_prot(S.ctx, w->id, pfn, type, hm_mk_kmap_pte(S.ctx, 0), &va);
    else
        rc = hm_kmap_atomic_pfn(S.ctx, w->id, pfn, type, &va);
    CHECK(rc == HM_OK, "cpu %u: kmap_atomic variant %u (pfn 0x%x, type %u): %s", w->id, how, pfn, type,
          hm_strerror(rc));
    if (rc != HM_OK)
        return 0;
    w->atomics++;
    if (va >= S.lay->page_offset && va < S.lay->high_memory) { /* the direct map */
        CHECK(!page_high(k) && va == S.lay->page_offset + ((hm_vaddr_t)pfn << S.lay->page_shift),
              "cpu %u: kmap_atomic of pfn 0x%x gave 0x%08" PRIx64, w->id, pfn, va);
    } else if (tt_in_pkmap_window(va)) { /* arm from 2.6.30: kmap_high_get pinned its kmap */
        hm_vaddr_t pa = 0;
        rc = hm_page_address(S.ctx, pfn, &pa);
        CHECK(S.high_get && page_high(k) && rc == HM_OK && pa == va,
              "cpu %u: kmap_atomic of pfn 0x%x gave the pkmap address 0x%08" PRIx64 " (page_address 0x%08" PRIx64 ")",
              w->id, pfn, va, pa);
    } else { /* an atomic slot: above the direct map, or below it on xtensa */
        if (atomic_load(&S.atomic_va[w->id]) == 0)
            atomic_store(&S.atomic_va[w->id], va);
        rc = hm_kmap_atomic_to_page(S.ctx, va, &got);
        CHECK(rc == HM_OK && got == pfn, "cpu %u: kmap_atomic_to_page(0x%08" PRIx64 "): %s, pfn 0x%x, want 0x%x",
              w->id, va, hm_strerror(rc), got, pfn);
        got = 0;
        rc = hm_kmap_to_page(S.ctx, va, &got);
        CHECK(rc == HM_OK && got == pfn, "cpu %u: kmap_to_page(0x%08" PRIx64 "): %s, pfn 0x%x, want 0x%x", w->id,
              va, hm_strerror(rc), got, pfn);
    }
    touch(w, k, va);
    return va;
}

static void atomic_release(struct worker *w, hm_vaddr_t va, unsigned type, int depth_after)
{
    int rc;
    atomic_store(&W.ts[w->id].phase, PH_KUNMAP);
    rc = hm_kunmap_atomic(S.ctx, w->id, va, type);
    CHECK(rc == HM_OK, "cpu %u: hm_kunmap_atomic(0x%08" PRIx64 ", type %u): %s", w->id, va, type, hm_strerror(rc));
    w->kunmaps += tt_in_pkmap_window(va); /* a pin's release is a kunmap_high */
    CHECK(hm_pagefault_depth(S.ctx, w->id) == depth_after, "cpu %u: pagefault depth %d, want %d", w->id,
          hm_pagefault_depth(S.ctx, w->id), depth_after);
}

static void cpu_round(struct worker *w)
{
    uint32_t r = next_rnd(w), ntypes = S.lay->nr_km_types;
    unsigned t1 = r % ntypes, t2 = (t1 + 1 + (r >> 8) % (ntypes - 1)) % ntypes;
    hm_vaddr_t va1, va2;

    va1 = atomic_take(w, pick_page(w), t1, (r >> 16) % 3);
    if (!va1)
        return;
    CHECK(hm_pagefault_depth(S.ctx, w->id) == 1, "cpu %u: depth %d after one kmap_atomic", w->id,
          hm_pagefault_depth(S.ctx, w->id));
    if ((r >> 20) % 3 == 0) {
        va2 = atomic_take(w, pick_page(w), t2, (r >> 24) % 3);
        if (va2) {
            CHECK(hm_pagefault_depth(S.ctx, w->id) == 2, "cpu %u: depth %d nested", w->id,
                  hm_pagefault_depth(S.ctx, w->id));
            atomic_release(w, va2, t2, 1);
        }
    }
    if (r % 4 == 0)
        sched_yield();
    atomic_release(w, va1, t1, 0);
}

/* ---------------------------------------------------------------------------------------
 * The inspector: the calls the contract lets run beside the kmap family, each checked for a
 * value in range (counts, cursor, waiters, depths) or, for what it holds itself, exact.
 * ------------------------------------------------------------------------------------- */
static void inspect_counters(struct worker *w)
{
    struct hm_stats st;
    uint64_t now[10];
    uint32_t last_nr, waiters;
    int counts[TT_MAX_SLOTS];

    if (!g_unlocked_inspect)
        W.hm.hw.lock(W.hm.hw.m, HM_LOCK_KMAP);
    hm_get_stats(S.ctx, &st);
    for (uint32_t s = 0; s < S.slots; s++)
        counts[s] = hm_pkmap_count(S.ctx, s);
    last_nr = hm_last_pkmap_nr(S.ctx);
    waiters = hm_nr_waiters(S.ctx);
    if (!g_unlocked_inspect)
        W.hm.hw.unlock(W.hm.hw.m, HM_LOCK_KMAP);

    now[0] = st.kmap_calls, now[1] = st.kmap_hits, now[2] = st.kmap_reuse_count1, now[3] = st.kmap_new;
    now[4] = st.kmap_eagain, now[5] = st.kunmap_calls, now[6] = st.flushes, now[7] = st.slots_freed;
    now[8] = st.sleeps, now[9] = st.wakeups;
    for (unsigned i = 0; i < 10; i++) {
        CHECK(now[i] >= w->prev_stats[i], "hm_get_stats counter %u went down: %" PRIu64 " after %" PRIu64, i,
              now[i], w->prev_stats[i]);
        w->prev_stats[i] = now[i];
    }
    CHECK(st.bugs == 0 && st.machine_fails == 0, "hm_get_stats: %" PRIu64 " bugs, %" PRIu64 " machine fails",
          st.bugs, st.machine_fails);
    for (uint32_t s = 0; s < S.slots; s++)
        CHECK(counts[s] >= 0 && (uint32_t)counts[s] <= S.max_count, "hm_pkmap_count(%u) = %d, not in 0..%u", s,
              counts[s], S.max_count);
    CHECK(hm_pkmap_count(S.ctx, S.slots) == -1, "hm_pkmap_count(LAST_PKMAP) = %d", hm_pkmap_count(S.ctx, S.slots));
    CHECK(last_nr < S.slots, "hm_last_pkmap_nr = %u, LAST_PKMAP %u", last_nr, S.slots);
    CHECK(waiters <= NTHREADS, "hm_nr_waiters = %u", waiters);
    CHECK(hm_pagefault_depth(S.ctx, NTHREADS) == -1, "hm_pagefault_depth(bad cpu)");
    if (g_unlocked_inspect) /* the CPU threads' depths: no lock guards them, so only without locks */
        for (unsigned c = CPU_A; c <= CPU_B; c++) {
            int d = hm_pagefault_depth(S.ctx, c);
            CHECK(d >= 0 && d <= 2, "hm_pagefault_depth(%u) = %d, not in 0..2", c, d);
        }
}

static void inspector_round(struct worker *w)
{
    unsigned k = pick_page(w), other = pick_page(w);
    hm_pfn_t pfn = page_pfn(k), got = 0;
    hm_vaddr_t va, pa = 1;
    int rc;

    if (w->round % 8 == 0)
        flush_unused(w);
    if (!take(w, k, 0))
        return;
    va = w->held_va[0];
    /* what it holds cannot move: page_address and kmap_to_page are exact */
    rc = hm_page_address(S.ctx, pfn, &pa);
    CHECK(rc == HM_OK && pa == va, "hm_page_address(held pfn 0x%x): %s, 0x%08" PRIx64 ", mapped at 0x%08" PRIx64,
          pfn, hm_strerror(rc), pa, va);
    rc = hm_kmap_to_page(S.ctx, va, &got);
    CHECK(rc == HM_OK && got == pfn, "hm_kmap_to_page(0x%08" PRIx64 "): %s, pfn 0x%x, want 0x%x", va,
          hm_strerror(rc), got, pfn);
    if (!page_high(k)) {
        got = 0;
        rc = hm_kmap_atomic_to_page(S.ctx, va, &got);
        CHECK(rc == HM_OK && got == pfn, "hm_kmap_atomic_to_page(direct 0x%08" PRIx64 "): %s, pfn 0x%x", va,
              hm_strerror(rc), got);
    }
    /* what others map may change at any time: only the range is checked */
    pa = 1;
    rc = hm_page_address(S.ctx, page_pfn(other), &pa);
    CHECK(rc == HM_OK && (pa == 0 || !page_high(other) || tt_in_pkmap_window(pa)),
          "hm_page_address(pfn 0x%x): %s, 0x%08" PRIx64, page_pfn(other), hm_strerror(rc), pa);
    for (unsigned c = CPU_A; c <= CPU_B; c++) {
        hm_vaddr_t slot = atomic_load(&S.atomic_va[c]);
        int ok = 0;
        if (!slot)
            continue;
        got = 0;
        rc = hm_kmap_atomic_to_page(S.ctx, slot, &got); /* a none PTE reads as pfn 0 */
        for (unsigned j = 0; j <= S.npages && !ok; j++)
            ok = got == page_pfn(j);
        CHECK(rc == HM_OK && (got == 0 || ok), "hm_kmap_atomic_to_page(cpu %u's slot 0x%08" PRIx64 "): %s, pfn 0x%x",
              c, slot, hm_strerror(rc), got);
    }
    inspect_counters(w);
    w->inspections++;
    release_all(w);
}

/* ---------------------------------------------------------------------------------------
 * One round of each role; every role holds nothing at the end of its round.
 * ------------------------------------------------------------------------------------- */
static void round_of(struct worker *w, unsigned epoch, unsigned r)
{
    switch (w->id) {
    case FLUSHER:
        if (r % 2 == 0)
            flush_unused(w);
        take(w, pick_page(w), 0);
        hold(w);
        break;
    case HOLDER: {
        unsigned n = 1 + next_rnd(w) % S.hold_max;
        for (unsigned j = 0; j < n; j++)
            take(w, pick_page(w), 0);
        hold(w);
        break;
    }
    case PAIR:
        take(w, pick_page(w), 0);
        take(w, pick_page(w), 0);
        hold(w);
        break;
    case NESTED: {
        unsigned k = pick_page(w);
        if (take(w, k, 0) && take(w, k, 0))
            CHECK(w->held_va[0] == w->held_va[1], "nested kmap of pfn 0x%x: 0x%08" PRIx64 " then 0x%08" PRIx64,
                  page_pfn(k), w->held_va[0], w->held_va[1]);
        hold(w);
        break;
    }
    case GREEDY:
        if (epoch == FORCE_EPOCH && r == 0) {
            fill_window(w);
            return;
        }
        if (take(w, pick_page(w), 0))
            for (unsigned j = 0; j < S.slots / 2 && take(w, pick_page(w), 1); j++)
                ;
        hold(w);
        break;
    case TRY:
        if (take(w, pick_page(w), 1))
            take(w, pick_page(w), 1);
        if (r % 5 == 0)
            flush_unused(w);
        hold(w);
        break;
    case INSPECTOR:
        inspector_round(w);
        break;
    default:
        cpu_round(w);
        return;
    }
    release_all(w);
}

/* ---------------------------------------------------------------------------------------
 * The quiescent checks: run by one thread while the others wait at the barrier, every one of
 * them having released everything.
 * ------------------------------------------------------------------------------------- */
static void quiescent_checks(unsigned epoch)
{
    struct tt_snap sn;
    struct hm_sim_stats ss;
    uint64_t kmaps = 0, eagain = 0, kunmaps = 0;
    uint32_t in_use = 0, hashed = 0;

    tt_snap(&sn);
    CHECK(sn.inv == 0, "epoch %u: hm_check_invariants: %s", epoch, sn.msg);
    for (uint32_t s = 0; s < sn.slots; s++) {
        CHECK(sn.count[s] == 0 || sn.count[s] == 1, "epoch %u: slot %u count %d with nothing held", epoch, s,
              sn.count[s]);
        in_use += sn.count[s] == 1;
    }
    CHECK(sn.nr_waiters == 0, "epoch %u: %u waiters", epoch, sn.nr_waiters);
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        hashed += hm_bucket_size(S.ctx, b);
    CHECK(hashed == in_use && hm_pool_size(S.ctx) == S.slots - in_use,
          "epoch %u: %u slots in use, %u records hashed, %u in the pool", epoch, in_use, hashed,
          hm_pool_size(S.ctx));
    for (uint32_t c = 0; c < NTHREADS; c++)
        CHECK(hm_pagefault_depth(S.ctx, c) == 0, "epoch %u: cpu %u depth %d", epoch, c,
              hm_pagefault_depth(S.ctx, c));

    /* the statistics balance against what the threads did */
    for (unsigned i = 0; i < NTHREADS; i++) {
        kmaps += S.w[i].kmaps;
        eagain += S.w[i].eagain;
        kunmaps += S.w[i].kunmaps;
    }
    hm_sim_get_stats(S.sim, &ss);
    CHECK(sn.st.kmap_calls == kmaps && sn.st.kmap_eagain == eagain && sn.st.kunmap_calls == kunmaps,
          "epoch %u: hm_stats kmap_calls %" PRIu64 " eagain %" PRIu64 " kunmap_calls %" PRIu64 ", the threads made "
          "%" PRIu64 ", %" PRIu64 ", %" PRIu64, epoch, sn.st.kmap_calls, sn.st.kmap_eagain, sn.st.kunmap_calls,
          kmaps, eagain, kunmaps);
    CHECK(sn.st.kmap_hits + sn.st.kmap_new + sn.st.kmap_eagain == sn.st.kmap_calls,
          "epoch %u: hits %" PRIu64 " + new %" PRIu64 " + eagain %" PRIu64 " != kmap_calls %" PRIu64, epoch,
          sn.st.kmap_hits, sn.st.kmap_new, sn.st.kmap_eagain, sn.st.kmap_calls);
    CHECK(sn.st.sleeps == ss.sleeps, "epoch %u: hm_stats sleeps %" PRIu64 ", the machine slept %" PRIu64, epoch,
          sn.st.sleeps, ss.sleeps);
    CHECK(sn.st.machine_fails == 0, "epoch %u: %" PRIu64 " machine fails", epoch, sn.st.machine_fails);

    /* every page: its pattern and every thread's last lane value, read physically; where it
     * is still mapped, the slot maps it */
    for (unsigned k = 0; k <= S.npages; k++) {
        hm_pfn_t pfn = page_pfn(k), back = 0;
        hm_vaddr_t va = 0;
        uint8_t a = 0, z = 0;
        hm_sim_phys_read(S.sim, pfn, 0, &a);
        hm_sim_phys_read(S.sim, pfn, S.lay->page_size - 1, &z);
        CHECK(a == sig_first(pfn) && z == sig_last(pfn), "epoch %u: pfn 0x%x pattern 0x%02x..0x%02x", epoch, pfn,
              a, z);
        for (unsigned i = 0; i < NTHREADS; i++) {
            uint8_t v = 0;
            hm_sim_phys_read(S.sim, pfn, LANE0 + i, &v);
            CHECK(v == S.w[i].last[k], "epoch %u: pfn 0x%x byte of thread %u is 0x%02x, it stored 0x%02x", epoch,
                  pfn, i, v, S.w[i].last[k]);
        }
        if (page_high(k) && hm_page_address(S.ctx, pfn, &va) == HM_OK && va != 0) {
            CHECK(tt_in_pkmap_window(va) && sn.count[tt_slot_of(va)] == 1,
                  "epoch %u: pfn 0x%x cached at 0x%08" PRIx64 " (slot count %d)", epoch, pfn, va,
                  tt_in_pkmap_window(va) ? sn.count[tt_slot_of(va)] : -9);
            CHECK(hm_kmap_to_page(S.ctx, va, &back) == HM_OK && back == pfn,
                  "epoch %u: slot 0x%08" PRIx64 " maps pfn 0x%x, page_address says pfn 0x%x", epoch, va, back, pfn);
        }
    }
    CHECK(ss.stale_pte_writes == 0 && ss.stale_tlb_hits == 0, "epoch %u: %" PRIu64 " stale PTE writes, %" PRIu64
          " stale TLB hits", epoch, ss.stale_pte_writes, ss.stale_tlb_hits);
    S.epochs_checked++;
}

static void *worker_main(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct worker *w = &S.w[i];

    for (unsigned epoch = 0; epoch < EPOCHS; epoch++) {
        for (unsigned r = 0; r < ROUNDS; r++) {
            w->round++;
            atomic_store(&W.ts[i].iter, (int)w->round);
            round_of(w, epoch, r);
        }
        atomic_store(&W.ts[i].phase, PH_WAIT);
        if (pthread_barrier_wait(&S.bar) == PTHREAD_BARRIER_SERIAL_THREAD)
            quiescent_checks(epoch);
        pthread_barrier_wait(&S.bar);
    }
    tt_thread_done(i);
    return NULL;
}

/* ---------------------------------------------------------------------------------------
 * A case: the machine, the pages, the threads, the final checks.
 * ------------------------------------------------------------------------------------- */

/* tt_setup opens an x86 machine with threadlib's hooks and resets the world; the machine is
 * then opened again (harness_machine_open reuses it) with the case's arch, flags and locking,
 * keeping those hooks. */
static int stress_setup(const struct stress_cfg *c)
{
    struct hm_config cfg;
    struct harness_hooks hooks;
    char err[160];

    if (tt_setup(NTHREADS, c->last_pkmap))
        return -1;
    hooks = W.hm.hooks;
    memset(&cfg, 0, sizeof cfg);
    cfg.arch = hm_arch_find(c->arch);
    cfg.nr_cpus = NTHREADS;
    cfg.last_pkmap = c->last_pkmap;
    cfg.need_flush = c->need_flush;
    cfg.debug_highmem = c->debug_highmem;
    cfg.locking = c->locking;
    cfg.kernel = test_env_kernel();
    if (!cfg.arch || harness_machine_open(&W.hm, &cfg, &hooks, err, sizeof err) != 0) {
        CHECK(0, "%s: %s", c->arch, cfg.arch ? err : "no such arch");
        tt_teardown();
        return -1;
    }
    CHECK(hm_ctx_locking(W.hm.ctx) == c->locking || c->locking == HM_LOCKING_FAST,
          "hm_ctx_locking %d, configured %d", hm_ctx_locking(W.hm.ctx), c->locking);
    return 0;
}

static void run_case(const void *arg)
{
    const struct stress_cfg *c = arg;
    struct tt_snap sn;
    uint64_t atomics = 0, inspections = 0;

    if (stress_setup(c))
        return;
    memset(&S, 0, sizeof S);
    S.cfg = c;
    S.ctx = W.hm.ctx;
    S.sim = W.hm.sim;
    S.lay = &W.hm.layout;
    S.slots = S.lay->last_pkmap;
    S.npages = 2 * S.slots + 3;
    /* the deadlock rule holds per colour: a colour has LAST_PKMAP / colours slots */
    uint32_t colour_slots = S.slots / hm_pkmap_colours(S.ctx);
    S.hold_max = colour_slots - 1 < HOLD_MAX ? colour_slots - 1 : HOLD_MAX;
    S.high_get = strncmp(S.lay->arch, "arm", 3) == 0 && hm_ctx_kernel(S.ctx) >= HM_KERNEL_2_6_30;
    /* every thread holding the same page at its most, plus the count-1 base */
    S.max_count = 1 + 1 + S.hold_max + 2 + 2 + MAX_HELD + 2 + 1;
    if (S.npages > MAX_PAGES - 1 || S.slots > TT_MAX_SLOTS) {
        CHECK(0, "window of %u slots too large for the test", S.slots);
        tt_teardown();
        return;
    }
    for (unsigned k = 0; k <= S.npages; k++) {
        hm_pfn_t pfn = page_pfn(k);
        CHECK(hm_sim_phys_write(S.sim, pfn, 0, sig_first(pfn)) == HM_OK &&
              hm_sim_phys_write(S.sim, pfn, S.lay->page_size - 1, sig_last(pfn)) == HM_OK, "phys_write");
    }
    for (unsigned i = 0; i < NTHREADS; i++) {
        S.w[i].id = i;
        S.w[i].rnd = (0x9e3779b9u * (i + 1) ^ (uint32_t)(c - configs) * 0x85ebca6bu) | 1u;
    }
    pthread_barrier_init(&S.bar, NULL, NTHREADS);
    for (unsigned i = 0; i < NTHREADS; i++)
        tt_spawn(worker_main);
    tt_wait_done();
    pthread_barrier_destroy(&S.bar);

    tt_snap(&sn);
    for (unsigned i = 0; i < NTHREADS; i++) {
        atomics += S.w[i].atomics;
        inspections += S.w[i].inspections;
    }
    CHECK(S.epochs_checked == EPOCHS, "%u quiescent checks, want %u", S.epochs_checked, EPOCHS);
    /* what the case must have gone through */
    CHECK(sn.st.kmap_hits > 0 && sn.st.kmap_reuse_count1 > 0, "hits %" PRIu64 ", of count-1 slots %" PRIu64,
          sn.st.kmap_hits, sn.st.kmap_reuse_count1);
    CHECK(sn.st.kmap_new > S.slots && sn.st.slots_freed > 0, "new mappings %" PRIu64 ", slots freed %" PRIu64,
          sn.st.kmap_new, sn.st.slots_freed);
    CHECK(sn.st.kmap_eagain > 0, "no hm_kmap_try found the window full");
    CHECK(atomic_load(&S.forced_sleep) && sn.st.sleeps > 0 && sn.st.wakeups > 0,
          "sleeps %" PRIu64 ", wakeups %" PRIu64 " (no blocking kmap slept while the window was full)",
          sn.st.sleeps, sn.st.wakeups);
    CHECK(atomics > 0 && inspections > 0, "%" PRIu64 " kmap_atomics, %" PRIu64 " inspections", atomics,
          inspections);
    tt_final_checks();
    printf("  %s locking %s: kmaps=%" PRIu64 " hits=%" PRIu64 " new=%" PRIu64 " eagain=%" PRIu64 " flushes=%" PRIu64
           " freed=%" PRIu64 " sleeps=%" PRIu64 " wakeups=%" PRIu64 " atomics=%" PRIu64 " inspections=%" PRIu64 "\n",
           c->arch, hm_ctx_locking(S.ctx) == HM_LOCKING_KERNEL ? "kernel" : "fast", sn.st.kmap_calls,
           sn.st.kmap_hits, sn.st.kmap_new, sn.st.kmap_eagain, sn.st.flushes, sn.st.slots_freed, sn.st.sleeps,
           sn.st.wakeups, atomics, inspections);
    tt_teardown();
}

/* STRESS_TEST_ONLY=name[,name...] runs just those cases (debugging). */
int main(void)
{
    static struct tt_case cases[NCASES];
    const char *mode = getenv("STRESS_TEST_INSPECT");

    g_unlocked_inspect = mode && *mode ? strcmp(mode, "unlocked") == 0 : harness_fast_locking_built();
    printf("inspection calls: %s\n", g_unlocked_inspect ? "without locks (the concurrency contract)"
                                                        : "under kmap_lock (this library has no fast path)");
    for (size_t i = 0; i < NCASES; i++)
        cases[i] = (struct tt_case){configs[i].name, run_case, &configs[i]};
    return tt_main(cases, NCASES, "STRESS_TEST_ONLY");
}
