/* threads_test.c - multi-threaded test of the blocking hm_kmap on the simulated MMU (plain C, no Criterion,
 * TSan-safe): slot exhaustion, same-page re-check, no lost wake-up, stress, concurrent BUG reports.
 * The harness (deadline, watchdog, diagnostics, the machine) is threadlib. SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "highmem.h"
#include "sim/sim.h"
#include "threadlib.h"

/* ---------------------------------------------------------------------------------------
 * Scenario 1: more threads than slots. 8 threads, 4 slots, each with its own page. Phase A
 * forces blocking: 4 threads map and hold until the other 4 are asleep on pkmap_map_wait.
 * Phase B: every thread loops kmap / check / hold briefly / kunmap.
 * ------------------------------------------------------------------------------------- */
#define S1_THREADS 8u
#define S1_SLOTS 4u
#define S1_ITERS 300

static atomic_int s1_held, s1_release;

static hm_pfn_t s1_pfn(unsigned i)
{
    return tt_hi(16 + 5 * i);
}

static uint8_t s1_sig(unsigned i)
{
    return (uint8_t)(0xa0 + i);
}

static void *s1_worker(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    hm_pfn_t pfn = s1_pfn(i);
    struct tt_thread *me = &W.ts[i];
    hm_vaddr_t va = 0;
    int rc;

    atomic_store(&me->pfn, pfn);
    atomic_store(&me->phase, PH_KMAP);
    rc = hm_kmap(W.hm.ctx, pfn, &va);
    CHECK(rc == HM_OK, "thread %u: first hm_kmap: %s", i, hm_strerror(rc));
    if (rc == HM_OK) {
        atomic_store(&me->phase, PH_CHECK);
        tt_check_mapping(i, pfn, va, s1_sig(i), 1, (uint8_t)(0x10 + i));
        atomic_fetch_add(&s1_held, 1);
        atomic_store(&me->phase, PH_HOLD);
        tt_wait_flag(&s1_release, 1);
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.hm.ctx, pfn);
        CHECK(rc == HM_OK, "thread %u: hm_kunmap: %s", i, hm_strerror(rc));
    }

    for (int it = 1; it <= S1_ITERS; it++) {
        uint32_t off = 1 + (uint32_t)it % 61u;
        uint8_t val = (uint8_t)(it * 7 + (int)i * 31);
        atomic_store(&me->iter, it);
        atomic_store(&me->phase, PH_KMAP);
        rc = hm_kmap(W.hm.ctx, pfn, &va);
        CHECK(rc == HM_OK, "thread %u iteration %d: hm_kmap: %s", i, it, hm_strerror(rc));
        if (rc != HM_OK)
            break;
        atomic_store(&me->phase, PH_CHECK);
        tt_check_mapping(i, pfn, va, s1_sig(i), off, val);
        atomic_store(&me->phase, PH_HOLD);
        if (it % 8 == 0)
            tt_sleep_ns(20000);
        else
            sched_yield();
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.hm.ctx, pfn);
        CHECK(rc == HM_OK, "thread %u iteration %d: hm_kunmap: %s", i, it, hm_strerror(rc));
    }
    tt_thread_done(i);
    return NULL;
}

static int s1_phase_a_ready(void)
{
    struct tt_snap sn;
    if ((unsigned)atomic_load(&s1_held) != S1_SLOTS)
        return 0;
    tt_snap(&sn);
    return sn.nr_waiters == S1_THREADS - S1_SLOTS;
}

static void scenario_exhaustion(const void *arg)
{
    struct tt_snap sn;

    (void)arg;
    if (tt_setup(S1_THREADS, S1_SLOTS))
        return;
    atomic_store(&s1_held, 0);
    atomic_store(&s1_release, 0);
    for (unsigned i = 0; i < S1_THREADS; i++)
        CHECK(hm_sim_phys_write(W.hm.sim, s1_pfn(i), 0, s1_sig(i)) == HM_OK, "phys_write");
    for (unsigned i = 0; i < S1_THREADS; i++)
        tt_spawn(s1_worker);

    /* Phase A: 4 holders, 4 sleepers; the window is exhausted. */
    tt_wait_for(s1_phase_a_ready, "4 threads holding a slot and 4 asleep on pkmap_map_wait");
    tt_snap(&sn);
    for (uint32_t i = 0; i < S1_SLOTS; i++)
        CHECK(sn.count[i] == 2, "phase A: slot %u count %d, want 2 (window full)", i, sn.count[i]);
    CHECK(sn.st.sleeps >= S1_THREADS - S1_SLOTS, "phase A: %llu sleeps", (unsigned long long)sn.st.sleeps);
    CHECK(sn.inv == 0, "phase A: %s", sn.msg);
    atomic_store(&s1_release, 1);

    tt_wait_done();
    tt_snap(&sn);
    CHECK(sn.st.sleeps >= S1_THREADS - S1_SLOTS, "sleeps %llu", (unsigned long long)sn.st.sleeps);
    CHECK(sn.st.wakeups > 0, "no wake-up recorded");
    CHECK(sn.st.kmap_calls == S1_THREADS * (S1_ITERS + 1u), "kmap_calls %llu",
          (unsigned long long)sn.st.kmap_calls);
    CHECK(sn.st.kunmap_calls == S1_THREADS * (S1_ITERS + 1u), "kunmap_calls %llu",
          (unsigned long long)sn.st.kunmap_calls);
    for (unsigned i = 0; i < S1_THREADS; i++) {
        uint8_t got = 0;
        CHECK(hm_sim_phys_read(W.hm.sim, s1_pfn(i), 0, &got) == HM_OK && got == s1_sig(i),
              "page of thread %u lost its signature (0x%02x)", i, got);
    }
    tt_final_checks();
    printf("  sleeps=%llu wakeups=%llu flushes=%llu\n", (unsigned long long)sn.st.sleeps,
           (unsigned long long)sn.st.wakeups, (unsigned long long)sn.st.flushes);
    tt_teardown();
}

/* ---------------------------------------------------------------------------------------
 * Scenario 2: 5 threads kmap the same page Q while the 4-slot window is full. One kunmap
 * (count 2 -> 1) wakes them all; the first maps Q into the freed slot, the others must find
 * it on the re-check after sleeping and take the same address (count 1 + 5, one slot only).
 * ------------------------------------------------------------------------------------- */
#define S2_SLOTS 4u
#define S2_THREADS 5u
#define S2_SIG 0x5a

static atomic_int s2_mapped, s2_release;
static _Atomic hm_vaddr_t s2_addr[S2_THREADS];

static hm_pfn_t s2_fill(unsigned j)
{
    return tt_hi(100 + j);
}

static hm_pfn_t s2_q(void)
{
    return tt_hi(200);
}

static void *s2_worker(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct tt_thread *me = &W.ts[i];
    hm_vaddr_t va = 0;
    int rc;

    atomic_store(&me->pfn, s2_q());
    atomic_store(&me->phase, PH_KMAP);
    rc = hm_kmap(W.hm.ctx, s2_q(), &va);
    CHECK(rc == HM_OK, "thread %u: hm_kmap(Q): %s", i, hm_strerror(rc));
    if (rc == HM_OK) {
        atomic_store(&s2_addr[i], va);
        atomic_store(&me->phase, PH_CHECK);
        tt_check_mapping(i, s2_q(), va, S2_SIG, 1 + i, (uint8_t)(0x60 + i));
        atomic_fetch_add(&s2_mapped, 1);
        atomic_store(&me->phase, PH_HOLD);
        tt_wait_flag(&s2_release, 1);
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.hm.ctx, s2_q());
        CHECK(rc == HM_OK, "thread %u: hm_kunmap(Q): %s", i, hm_strerror(rc));
    }
    tt_thread_done(i);
    return NULL;
}

static int s2_all_asleep(void)
{
    struct tt_snap sn;
    tt_snap(&sn);
    return sn.nr_waiters == S2_THREADS && sn.st.sleeps == S2_THREADS;
}

static int s2_all_mapped(void)
{
    return (unsigned)atomic_load(&s2_mapped) == S2_THREADS;
}

static void scenario_same_page(const void *arg)
{
    hm_vaddr_t fill_va[S2_SLOTS], va = 0, q_va;
    struct tt_snap sn;
    unsigned q_slots = 0;
    int rc;

    (void)arg;
    if (tt_setup(S2_THREADS, S2_SLOTS))
        return;
    atomic_store(&s2_mapped, 0);
    atomic_store(&s2_release, 0);
    /* Fill the window from the main thread (hm_kmap_try: the main thread never blocks). */
    for (unsigned j = 0; j < S2_SLOTS; j++) {
        rc = hm_kmap_try(W.hm.ctx, s2_fill(j), &fill_va[j]);
        CHECK(rc == HM_OK, "filling slot %u: %s", j, hm_strerror(rc));
        if (rc != HM_OK)
            goto out;
    }
    rc = hm_kmap_try(W.hm.ctx, s2_q(), &va);
    CHECK(rc == HM_EAGAIN, "the window should be full: hm_kmap_try(Q) gave %s", hm_strerror(rc));
    CHECK(hm_sim_phys_write(W.hm.sim, s2_q(), 0, S2_SIG) == HM_OK, "phys_write");

    for (unsigned i = 0; i < S2_THREADS; i++)
        tt_spawn(s2_worker);
    tt_wait_for(s2_all_asleep, "5 threads asleep on pkmap_map_wait for page Q");
    tt_snap(&sn);
    CHECK(atomic_load(&s2_mapped) == 0, "a thread got Q while the window was full");
    CHECK(sn.st.wakeups == 0, "wakeups %llu before any kunmap", (unsigned long long)sn.st.wakeups);

    /* One kunmap of a fill page: count 2 -> 1 with waiters: one wake-up for all of them. */
    rc = hm_kunmap(W.hm.ctx, s2_fill(0));
    CHECK(rc == HM_OK, "hm_kunmap(fill 0): %s", hm_strerror(rc));
    tt_wait_for(s2_all_mapped, "all 5 threads to get page Q after the wake-up");

    tt_snap(&sn);
    q_va = atomic_load(&s2_addr[0]);
    for (unsigned i = 1; i < S2_THREADS; i++)
        CHECK(atomic_load(&s2_addr[i]) == q_va, "thread %u got 0x%08" PRIx64 ", thread 0 got 0x%08" PRIx64 " (second slot "
              "for one page?)", i, atomic_load(&s2_addr[i]), q_va);
    CHECK(q_va == fill_va[0], "Q at 0x%08" PRIx64 ", not in the one slot freed (0x%08" PRIx64 ")", q_va, fill_va[0]);
    if (tt_in_pkmap_window(q_va))
        CHECK(sn.count[tt_slot_of(q_va)] == (int)S2_THREADS + 1, "Q's slot count %d, want %u",
              sn.count[tt_slot_of(q_va)], S2_THREADS + 1);
    for (uint32_t s = 0; s < S2_SLOTS; s++) {
        hm_pte_t pte = hm_sim_pte(W.hm.sim, tt_slot_addr(s));
        if (!hm_pte_none(W.hm.ctx, pte) && hm_pte_pfn(W.hm.ctx, pte) == s2_q())
            q_slots++;
        if (tt_slot_addr(s) != q_va)
            CHECK(sn.count[s] == 2, "slot %u count %d, want 2", s, sn.count[s]);
    }
    CHECK(q_slots == 1, "%u slots map Q", q_slots);
    CHECK(sn.inv == 0, "invariants (I5): %s", sn.msg);
    CHECK(sn.nr_waiters == 0, "%u waiters", sn.nr_waiters);
    CHECK(sn.st.sleeps == S2_THREADS, "sleeps %llu, want %u", (unsigned long long)sn.st.sleeps, S2_THREADS);
    CHECK(sn.st.wakeups == 1, "wakeups %llu, want 1", (unsigned long long)sn.st.wakeups);
    CHECK(sn.st.kmap_new == S2_SLOTS + 1, "kmap_new %llu, want %u (one new mapping for Q)",
          (unsigned long long)sn.st.kmap_new, S2_SLOTS + 1);
    CHECK(sn.st.kmap_hits == S2_THREADS - 1, "kmap_hits %llu, want %u (the re-check after sleeping)",
          (unsigned long long)sn.st.kmap_hits, S2_THREADS - 1);
    va = 0;
    CHECK(hm_page_address(W.hm.ctx, s2_q(), &va) == HM_OK && va == q_va, "page_address(Q) 0x%08" PRIx64, va);
    for (unsigned i = 0; i < S2_THREADS; i++) {
        uint8_t got = 0;
        CHECK(hm_sim_phys_read(W.hm.sim, s2_q(), 1 + i, &got) == HM_OK && got == 0x60 + i,
              "Q offset %u: 0x%02x (thread %u's store went elsewhere)", 1 + i, got, i);
    }

    atomic_store(&s2_release, 1);
    tt_wait_done();
    tt_snap(&sn);
    if (tt_in_pkmap_window(q_va))
        CHECK(sn.count[tt_slot_of(q_va)] == 1, "Q's slot count %d after all kunmaps, want 1",
              sn.count[tt_slot_of(q_va)]);
    for (unsigned j = 1; j < S2_SLOTS; j++)
        CHECK(hm_kunmap(W.hm.ctx, s2_fill(j)) == HM_OK, "kunmap fill %u", j);
    tt_final_checks();
out:
    tt_teardown();
}

/* ---------------------------------------------------------------------------------------
 * Scenario 3: no lost wake-up. A holder thread fills all 8 slots (page H0 twice: count 3);
 * 6 sleepers, each with its own page, go to sleep. The holder then releases one reference at
 * a time: the 3 -> 2 kunmap wakes nobody; each 2 -> 1 kunmap is a single wake-up that lets
 * exactly one sleeper through (it flushes the freed slot and takes it) while the others go
 * back to sleep. Sleeper counts are exact: M + (M-1) + ... + 1.
 * ------------------------------------------------------------------------------------- */
#define S3_SLOTS 8u
#define S3_SLEEPERS 6u

static atomic_int s3_filled, s3_cmd, s3_ack, s3_granted, s3_release;
static unsigned s3_round; /* main thread only */

static hm_pfn_t s3_hpage(unsigned j)
{
    return tt_hi(300 + j);
}

static hm_pfn_t s3_gpage(unsigned i)
{
    return tt_hi(400 + 3 * i);
}

static uint8_t s3_sig(unsigned i)
{
    return (uint8_t)(0xc0 + i);
}

static void *s3_holder(void *arg)
{
    unsigned me_i = (unsigned)(uintptr_t)arg;
    struct tt_thread *me = &W.ts[me_i];
    hm_vaddr_t va[S3_SLOTS], again = 0;
    int rc, ok = 1;

    for (unsigned j = 0; j < S3_SLOTS; j++) {
        atomic_store(&me->pfn, s3_hpage(j));
        atomic_store(&me->phase, PH_KMAP);
        rc = hm_kmap(W.hm.ctx, s3_hpage(j), &va[j]);
        CHECK(rc == HM_OK, "holder: hm_kmap(H%u): %s", j, hm_strerror(rc));
        ok &= rc == HM_OK;
    }
    rc = hm_kmap(W.hm.ctx, s3_hpage(0), &again);
    CHECK(rc == HM_OK && again == va[0], "holder: second hm_kmap(H0): %s, 0x%08" PRIx64 " vs 0x%08" PRIx64,
          hm_strerror(rc), again, va[0]);
    atomic_store(&s3_filled, ok ? 1 : -1);

    /* step 0: the extra reference of H0 (3 -> 2); steps 1..S: H0..H(S-1) (2 -> 1) */
    for (unsigned r = 0; r <= S3_SLOTS; r++) {
        hm_pfn_t p = r == 0 ? s3_hpage(0) : s3_hpage(r - 1);
        atomic_store(&me->iter, (int)r);
        atomic_store(&me->phase, PH_WAIT);
        if (!tt_wait_flag(&s3_cmd, (int)r + 1))
            break;
        atomic_store(&me->pfn, p);
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.hm.ctx, p);
        CHECK(rc == HM_OK, "holder: hm_kunmap step %u: %s", r, hm_strerror(rc));
        atomic_store(&s3_ack, (int)r + 1);
    }
    tt_thread_done(me_i);
    return NULL;
}

static void *s3_sleeper(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct tt_thread *me = &W.ts[i];
    hm_pfn_t pfn = s3_gpage(i);
    hm_vaddr_t va = 0;
    int rc;

    atomic_store(&me->pfn, pfn);
    atomic_store(&me->phase, PH_KMAP);
    rc = hm_kmap(W.hm.ctx, pfn, &va);
    CHECK(rc == HM_OK, "sleeper %u: hm_kmap: %s", i, hm_strerror(rc));
    if (rc == HM_OK) {
        atomic_store(&me->phase, PH_CHECK);
        tt_check_mapping(i, pfn, va, s3_sig(i), 2, (uint8_t)(0x70 + i));
        atomic_fetch_add(&s3_granted, 1);
        atomic_store(&me->phase, PH_HOLD);
        tt_wait_flag(&s3_release, 1);
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.hm.ctx, pfn);
        CHECK(rc == HM_OK, "sleeper %u: hm_kunmap: %s", i, hm_strerror(rc));
    }
    tt_thread_done(i);
    return NULL;
}

/* Total sleeps once round r (0-based, r < M) has settled: the first M, then M-1-k per round k. */
static uint64_t s3_expected_sleeps(unsigned r)
{
    uint64_t n = S3_SLEEPERS;
    for (unsigned k = 0; k <= r; k++)
        n += S3_SLEEPERS - k - 1;
    return n;
}

static int s3_holder_filled(void)
{
    return atomic_load(&s3_filled) != 0;
}

static int s3_all_asleep(void)
{
    struct tt_snap sn;
    tt_snap(&sn);
    return sn.nr_waiters == S3_SLEEPERS && sn.st.sleeps == S3_SLEEPERS;
}

static int s3_step_acked(void)
{
    return (unsigned)atomic_load(&s3_ack) == s3_round + 1;
}

/* After release round r: one more sleeper through, the rest asleep again. */
static int s3_round_settled(void)
{
    struct tt_snap sn;
    unsigned r = s3_round - 1; /* s3_round counts holder steps; step 0 released no slot */
    if ((unsigned)atomic_load(&s3_ack) != s3_round + 1 || (unsigned)atomic_load(&s3_granted) != r + 1)
        return 0;
    tt_snap(&sn);
    return sn.nr_waiters == S3_SLEEPERS - r - 1 && sn.st.sleeps == s3_expected_sleeps(r);
}

static void scenario_no_lost_wakeup(const void *arg)
{
    struct tt_snap sn;

    (void)arg;
    if (tt_setup(S3_SLEEPERS + 1, S3_SLOTS))
        return;
    atomic_store(&s3_filled, 0);
    atomic_store(&s3_cmd, 0);
    atomic_store(&s3_ack, 0);
    atomic_store(&s3_granted, 0);
    atomic_store(&s3_release, 0);
    s3_round = 0;

    tt_spawn(s3_holder); /* thread 0, cpu 0; the sleepers are threads/cpus 1..M */
    tt_wait_for(s3_holder_filled, "the holder to fill the window");
    tt_snap(&sn);
    CHECK(atomic_load(&s3_filled) == 1, "holder could not fill the window");
    CHECK(sn.st.sleeps == 0, "the holder slept while filling an empty window");
    for (uint32_t s = 0; s < S3_SLOTS; s++)
        CHECK(sn.count[s] >= 2, "slot %u count %d: window not full", s, sn.count[s]);
    for (unsigned i = 1; i <= S3_SLEEPERS; i++)
        CHECK(hm_sim_phys_write(W.hm.sim, s3_gpage(i), 0, s3_sig(i)) == HM_OK, "phys_write");
    for (unsigned i = 1; i <= S3_SLEEPERS; i++)
        tt_spawn(s3_sleeper);
    tt_wait_for(s3_all_asleep, "6 sleepers asleep on pkmap_map_wait");

    /* Step 0: H0 3 -> 2. No wake-up, nobody moves. */
    s3_round = 0;
    atomic_store(&s3_cmd, 1);
    tt_wait_for(s3_step_acked, "the holder's 3 -> 2 kunmap");
    tt_sleep_ns(20000000);
    tt_snap(&sn);
    CHECK(sn.st.wakeups == 0, "a 3 -> 2 kunmap woke the waiters (wakeups %llu)", (unsigned long long)sn.st.wakeups);
    CHECK(sn.nr_waiters == S3_SLEEPERS && sn.st.sleeps == S3_SLEEPERS && atomic_load(&s3_granted) == 0,
          "after a 3 -> 2 kunmap: %u waiters, %llu sleeps, %d granted", sn.nr_waiters,
          (unsigned long long)sn.st.sleeps, atomic_load(&s3_granted));

    /* Steps 1..M: each 2 -> 1 kunmap lets exactly one sleeper through. */
    for (unsigned r = 0; r < S3_SLEEPERS; r++) {
        char what[128];
        s3_round = r + 1;
        atomic_store(&s3_cmd, (int)r + 2);
        snprintf(what, sizeof what, "release %u: one sleeper through, %u back asleep, %llu sleeps in all", r,
                 S3_SLEEPERS - r - 1, (unsigned long long)s3_expected_sleeps(r));
        tt_wait_for(s3_round_settled, what);
        tt_snap(&sn);
        CHECK(sn.st.wakeups == r + 1, "release %u: wakeups %llu", r, (unsigned long long)sn.st.wakeups);
        CHECK(sn.inv == 0, "release %u: %s", r, sn.msg);
    }
    /* The holder's last references: no waiters, so no wake-up. */
    for (unsigned r = S3_SLEEPERS; r < S3_SLOTS; r++) {
        s3_round = r + 1;
        atomic_store(&s3_cmd, (int)r + 2);
        tt_wait_for(s3_step_acked, "the holder's remaining kunmaps");
    }
    tt_snap(&sn);
    CHECK(sn.st.wakeups == S3_SLEEPERS, "wakeups %llu, want %u", (unsigned long long)sn.st.wakeups, S3_SLEEPERS);

    atomic_store(&s3_release, 1);
    tt_wait_done();
    tt_snap(&sn);
    CHECK(sn.st.sleeps == s3_expected_sleeps(S3_SLEEPERS - 1), "sleeps %llu, want %llu",
          (unsigned long long)sn.st.sleeps, (unsigned long long)s3_expected_sleeps(S3_SLEEPERS - 1));
    CHECK(sn.st.wakeups == S3_SLEEPERS, "wakeups %llu", (unsigned long long)sn.st.wakeups);
    tt_final_checks();
    tt_teardown();
}

/* ---------------------------------------------------------------------------------------
 * Scenario 4: stress with shared pages. 6 threads, 4 slots, a pool of 6 pages every thread
 * picks from at random (counts above 2, 3 -> 2 kunmaps that wake nobody, nested kmaps of the
 * held page, kmap_flush_unused from one thread). Each thread owns one byte per page and checks
 * that it survives every remapping.
 * ------------------------------------------------------------------------------------- */
#define S4_THREADS 6u
#define S4_SLOTS 4u
#define S4_PAGES 6u
#define S4_ITERS 300

static atomic_ullong s4_kmaps, s4_kunmaps;

static hm_pfn_t s4_page(unsigned k)
{
    return tt_hi(600 + 7 * k);
}

static uint8_t s4_sig(unsigned k)
{
    return (uint8_t)(0xe0 + k);
}

static void *s4_worker(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct tt_thread *me = &W.ts[i];
    uint32_t rnd = 0x9e3779b9u * (i + 1);
    uint8_t mine[S4_PAGES] = {0};
    uint32_t off = 8 + i;
    int rc;

    for (int it = 1; it <= S4_ITERS; it++) {
        unsigned k, nested;
        hm_pfn_t pfn;
        hm_vaddr_t va = 0, va2 = 0;
        uint8_t got = 0;

        rnd ^= rnd << 13;
        rnd ^= rnd >> 17;
        rnd ^= rnd << 5;
        k = rnd % S4_PAGES;
        nested = (rnd >> 8) % 4 == 0;
        pfn = s4_page(k);
        atomic_store(&me->iter, it);
        atomic_store(&me->pfn, pfn);

        if (i == 0 && it % 16 == 0) {
            atomic_store(&me->phase, PH_FLUSH);
            rc = hm_kmap_flush_unused(W.hm.ctx);
            CHECK(rc == HM_OK, "kmap_flush_unused: %s", hm_strerror(rc));
        }
        atomic_store(&me->phase, PH_KMAP);
        rc = hm_kmap(W.hm.ctx, pfn, &va);
        CHECK(rc == HM_OK, "thread %u iteration %d: hm_kmap: %s", i, it, hm_strerror(rc));
        if (rc != HM_OK)
            break;
        atomic_fetch_add(&s4_kmaps, 1);
        if (nested) { /* the page is held: this kmap cannot sleep, and must give the same address */
            rc = hm_kmap(W.hm.ctx, pfn, &va2);
            CHECK(rc == HM_OK && va2 == va, "thread %u: nested kmap: %s, 0x%08" PRIx64 " vs 0x%08" PRIx64, i,
                  hm_strerror(rc), va2, va);
            if (rc == HM_OK)
                atomic_fetch_add(&s4_kmaps, 1);
            else
                nested = 0;
        }
        atomic_store(&me->phase, PH_CHECK);
        rc = hm_sim_load(W.hm.sim, i, va + off, &got);
        CHECK(rc == HM_OK && got == mine[k], "thread %u page %u: own byte 0x%02x, want 0x%02x (rc %s)", i, k,
              got, mine[k], hm_strerror(rc));
        mine[k] = (uint8_t)(it + (int)i * 16);
        tt_check_mapping(i, pfn, va, s4_sig(k), off, mine[k]);
        atomic_store(&me->phase, PH_HOLD);
        if (it % 5 == 0)
            tt_sleep_ns(10000);
        else
            sched_yield();
        atomic_store(&me->phase, PH_KUNMAP);
        if (nested) {
            rc = hm_kunmap(W.hm.ctx, pfn);
            CHECK(rc == HM_OK, "thread %u: nested kunmap: %s", i, hm_strerror(rc));
            atomic_fetch_add(&s4_kunmaps, 1);
        }
        rc = hm_kunmap(W.hm.ctx, pfn);
        CHECK(rc == HM_OK, "thread %u iteration %d: hm_kunmap: %s", i, it, hm_strerror(rc));
        atomic_fetch_add(&s4_kunmaps, 1);
    }
    for (unsigned k = 0; k < S4_PAGES; k++) {
        uint8_t got = 0;
        CHECK(hm_sim_phys_read(W.hm.sim, s4_page(k), off, &got) == HM_OK && got == mine[k],
              "thread %u page %u: final byte 0x%02x, want 0x%02x", i, k, got, mine[k]);
    }
    tt_thread_done(i);
    return NULL;
}

static void scenario_stress(const void *arg)
{
    struct tt_snap sn;

    (void)arg;
    if (tt_setup(S4_THREADS, S4_SLOTS))
        return;
    atomic_store(&s4_kmaps, 0);
    atomic_store(&s4_kunmaps, 0);
    for (unsigned k = 0; k < S4_PAGES; k++)
        CHECK(hm_sim_phys_write(W.hm.sim, s4_page(k), 0, s4_sig(k)) == HM_OK, "phys_write");
    for (unsigned i = 0; i < S4_THREADS; i++)
        tt_spawn(s4_worker);
    tt_wait_done();
    tt_snap(&sn);
    CHECK(sn.st.kmap_calls == atomic_load(&s4_kmaps), "kmap_calls %llu, threads made %llu",
          (unsigned long long)sn.st.kmap_calls, (unsigned long long)atomic_load(&s4_kmaps));
    CHECK(sn.st.kunmap_calls == atomic_load(&s4_kunmaps), "kunmap_calls %llu, threads made %llu",
          (unsigned long long)sn.st.kunmap_calls, (unsigned long long)atomic_load(&s4_kunmaps));
    CHECK(sn.st.kmap_eagain == 0, "kmap_eagain %llu from blocking kmaps", (unsigned long long)sn.st.kmap_eagain);
    for (unsigned k = 0; k < S4_PAGES; k++) {
        uint8_t got = 0;
        CHECK(hm_sim_phys_read(W.hm.sim, s4_page(k), 0, &got) == HM_OK && got == s4_sig(k),
              "page %u lost its signature (0x%02x)", k, got);
    }
    tt_final_checks();
    printf("  kmaps=%llu sleeps=%llu wakeups=%llu flushes=%llu\n", (unsigned long long)sn.st.kmap_calls,
           (unsigned long long)sn.st.sleeps, (unsigned long long)sn.st.wakeups,
           (unsigned long long)sn.st.flushes);
    tt_teardown();
}

/* ---------------------------------------------------------------------------------------
 * Scenario 5: BUG reports from several threads at once. Misuse the kernel would BUG on
 * (kunmap of a page with no mapping, kunmap that would bring a count to 0) turns into an
 * error, a hook call and a count in hm_stats. Each thread provokes both kinds on its own
 * pages, all at the same time; no BUG may change the kmap state and none may be lost from the
 * statistics. (Known: hm_core_bug counts outside any lock, so concurrent reports race on
 * stats.bugs / bug_by_kind -- TSan reports it, and plain builds can lose increments.)
 * ------------------------------------------------------------------------------------- */
#define S5_THREADS 4u
#define S5_SLOTS 8u
#define S5_ITERS 4000

static atomic_int s5_go;

static hm_pfn_t s5_page(unsigned i)
{
    return tt_hi(800 + 2 * i);
}

static hm_pfn_t s5_unmapped(unsigned i)
{
    return tt_hi(900 + 2 * i);
}

static void *s5_worker(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct tt_thread *me = &W.ts[i];
    hm_vaddr_t va = 0;
    int rc;

    atomic_store(&me->pfn, s5_page(i));
    atomic_store(&me->phase, PH_KMAP);
    rc = hm_kmap(W.hm.ctx, s5_page(i), &va); /* the window has a slot for every thread */
    CHECK(rc == HM_OK, "thread %u: hm_kmap: %s", i, hm_strerror(rc));
    if (rc == HM_OK)
        rc = hm_kunmap(W.hm.ctx, s5_page(i)); /* count 2 -> 1: mapped, unused */
    CHECK(rc == HM_OK, "thread %u: hm_kunmap: %s", i, hm_strerror(rc));
    atomic_store(&me->phase, PH_WAIT);
    tt_wait_flag(&s5_go, 1);
    atomic_store(&me->phase, PH_KUNMAP);
    for (int it = 1; it <= S5_ITERS && rc == HM_OK; it++) {
        atomic_store(&me->iter, it);
        rc = hm_kunmap(W.hm.ctx, s5_unmapped(i)); /* page_address == NULL: BUG */
        CHECK(rc == HM_EINVAL, "thread %u: kunmap of an unmapped page: %s", i, hm_strerror(rc));
        rc = hm_kunmap(W.hm.ctx, s5_page(i)); /* count 1 would reach 0: BUG */
        CHECK(rc == HM_EINVAL, "thread %u: kunmap at count 1: %s", i, hm_strerror(rc));
        rc = HM_OK;
    }
    tt_thread_done(i);
    return NULL;
}

static void scenario_concurrent_bugs(const void *arg)
{
    struct tt_snap sn;
    uint64_t want = (uint64_t)S5_THREADS * S5_ITERS;
    struct hm_sim_stats ss;

    (void)arg;
    if (tt_setup(S5_THREADS, S5_SLOTS))
        return;
    atomic_store(&s5_go, 0);
    atomic_store(&W.bugs_expected, 1);
    for (unsigned i = 0; i < S5_THREADS; i++)
        tt_spawn(s5_worker);
    atomic_store(&s5_go, 1);
    tt_wait_done();
    atomic_store(&W.bugs_expected, 0);

    tt_snap(&sn);
    CHECK(sn.st.bug_by_kind[HM_BUG_KUNMAP_UNMAPPED] == want, "bug_by_kind[KUNMAP_UNMAPPED] %llu, want %llu "
          "(reports lost: hm_core_bug counts without a lock)",
          (unsigned long long)sn.st.bug_by_kind[HM_BUG_KUNMAP_UNMAPPED], (unsigned long long)want);
    CHECK(sn.st.bug_by_kind[HM_BUG_KUNMAP_ZERO] == want, "bug_by_kind[KUNMAP_ZERO] %llu, want %llu "
          "(reports lost: hm_core_bug counts without a lock)",
          (unsigned long long)sn.st.bug_by_kind[HM_BUG_KUNMAP_ZERO], (unsigned long long)want);
    CHECK(sn.st.bugs == 2 * want, "stats.bugs %llu, want %llu (reports lost: hm_core_bug counts without a lock)",
          (unsigned long long)sn.st.bugs, (unsigned long long)(2 * want));
    CHECK(atomic_load(&W.bug_events) == 2 * want, "%u bug hook calls, want %llu", atomic_load(&W.bug_events),
          (unsigned long long)(2 * want));
    CHECK(sn.st.kunmap_calls == S5_THREADS, "kunmap_calls %llu: a BUG was counted as a kunmap",
          (unsigned long long)sn.st.kunmap_calls);
    /* the BUGs changed nothing: every thread's page is still mapped at count 1 */
    for (unsigned i = 0; i < S5_THREADS; i++) {
        hm_vaddr_t va = 0;
        CHECK(hm_page_address(W.hm.ctx, s5_page(i), &va) == HM_OK && tt_in_pkmap_window(va) &&
              sn.count[tt_slot_of(va)] == 1, "thread %u's page: address 0x%08" PRIx64 ", count %d", i, va,
              tt_in_pkmap_window(va) ? sn.count[tt_slot_of(va)] : -1);
        va = 1;
        CHECK(hm_page_address(W.hm.ctx, s5_unmapped(i), &va) == HM_OK && va == 0, "unmapped page got 0x%08" PRIx64, va);
    }
    CHECK(sn.inv == 0, "hm_check_invariants: %s", sn.msg);
    CHECK(sn.nr_waiters == 0, "%u waiters", sn.nr_waiters);
    hm_sim_get_stats(W.hm.sim, &ss);
    CHECK(ss.stale_pte_writes == 0 && ss.stale_tlb_hits == 0 && atomic_load(&W.stale_events) == 0,
          "stale translations: %llu PTE writes, %llu TLB hits", (unsigned long long)ss.stale_pte_writes,
          (unsigned long long)ss.stale_tlb_hits);
    tt_teardown();
}

static const struct tt_case scenarios[] = {
    {"more_threads_than_slots", scenario_exhaustion, NULL},
    {"same_page_while_full", scenario_same_page, NULL},
    {"no_lost_wakeup", scenario_no_lost_wakeup, NULL},
    {"stress_shared_pages", scenario_stress, NULL},
    {"concurrent_bug_reports", scenario_concurrent_bugs, NULL},
};

/* THREADS_TEST_ONLY=name[,name...] runs just those scenarios (debugging). */
int main(void)
{
    return tt_main(scenarios, sizeof scenarios / sizeof scenarios[0], "THREADS_TEST_ONLY");
}
