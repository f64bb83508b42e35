/* colour_wait_test.c - the machine's per-colour wait queues (struct hm_machine sleep_colour /
 * wake_colour, machine/kmap_wait.c): a kunmap wakes only its page's colour, the one-queue default
 * without the pair, and the queues' own semantics and checks. Plain thread program, both locking
 * modes, TSan-safe. SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "highmem.h"
#include "machine/kmap_wait.h"
#include "sim/sim.h"
#include "testenv.h"
#include "threadlib.h"

/* How long a sleeper that must stay asleep is watched: a wake-up it should not have had returns
 * it from its sleep hook within microseconds; a correct queue never does, whatever the wait. */
#define GRACE_NS 200000000LL

/* ---------------------------------------------------------------------------------------
 * The case's machine: xtensa (2 colours; slots 0 and 2 of colour 0, 1 and 3 of colour 1) with
 * LAST_PKMAP 4, its sleep and wake hooks counted, the per-colour pair kept or taken away.
 * ------------------------------------------------------------------------------------- */
enum pair_mode {
    PAIR_FULL, /* the sim's hooks, all four counted */
    PAIR_ONLY, /* sleep and wake_all NULL: the pair alone must let kmap sleep */
    PAIR_NONE, /* no pair: the core's one-queue default */
    PAIR_HALF  /* sleep_colour without wake_colour: not a pair, the default again */
};

static struct {
    struct hm_machine inner; /* the sim's hooks */
    int mode;
    atomic_uint entered[2], returned[2]; /* sleep hooks (either kind) by the sleeper's colour */
    atomic_uint plain_sleeps, colour_sleeps, wake_alls, colour_wakes[2], bad_colour;
} M;
static _Thread_local int my_colour = -1; /* the colour of the page the thread is kmapping */

static void count_sleep(atomic_uint *v)
{
    if (my_colour < 0 || my_colour > 1) {
        atomic_fetch_add(&M.bad_colour, 1);
        return;
    }
    atomic_fetch_add(&v[my_colour], 1);
}
static void m_sleep(void *m)
{
    atomic_fetch_add(&M.plain_sleeps, 1);
    count_sleep(M.entered);
    M.inner.sleep(m);
    count_sleep(M.returned);
}
static void m_sleep_colour(void *m, uint32_t colour)
{
    atomic_fetch_add(&M.colour_sleeps, 1);
    if ((int)colour != my_colour)
        atomic_fetch_add(&M.bad_colour, 1);
    count_sleep(M.entered);
    M.inner.sleep_colour(m, colour);
    count_sleep(M.returned);
}
static void m_wake_all(void *m)
{
    atomic_fetch_add(&M.wake_alls, 1);
    M.inner.wake_all(m);
}
static void m_wake_colour(void *m, uint32_t colour)
{
    if (colour < 2)
        atomic_fetch_add(&M.colour_wakes[colour], 1);
    else
        atomic_fetch_add(&M.bad_colour, 1);
    M.inner.wake_colour(m, colour);
}

static void adapt(void *cookie, struct hm_machine *hw)
{
    (void)cookie;
    M.inner = *hw;
    hw->sleep = M.mode == PAIR_ONLY ? NULL : m_sleep;
    hw->wake_all = M.mode == PAIR_ONLY ? NULL : m_wake_all;
    hw->sleep_colour = M.mode == PAIR_NONE ? NULL : m_sleep_colour;
    hw->wake_colour = M.mode == PAIR_NONE || M.mode == PAIR_HALF ? NULL : m_wake_colour;
}

static hm_pfn_t g_base; /* the first highmem pfn of colour 0 */
static hm_pfn_t pg(uint32_t k) /* colour k & 1 */
{
    return g_base + k;
}
static hm_vaddr_t slot_va(uint32_t nr)
{
    return tt_slot_addr(nr);
}
static uint32_t waiters(uint32_t colour)
{
    uint32_t w = 99;
    CHECK(hm_pkmap_waiters(W.hm.ctx, colour, &w) == HM_OK, "hm_pkmap_waiters(%u)", colour);
    return w;
}

static int open_xtensa(int locking, int mode)
{
    struct hm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memset(&M, 0, sizeof M);
    M.mode = mode;
    cfg.arch = hm_arch_find("xtensa");
    cfg.last_pkmap = 4;
    cfg.nr_cpus = 1;
    cfg.locking = locking;
    cfg.kernel = test_env_kernel();
    if (!cfg.arch || tt_setup_config(&cfg, adapt) != 0) {
        CHECK(0, "cannot open xtensa");
        return -1;
    }
    CHECK(hm_ctx_locking(W.hm.ctx) == locking, "the context runs locking %d, want %d", hm_ctx_locking(W.hm.ctx),
          locking);
    CHECK(hm_pkmap_colours(W.hm.ctx) == 2, "xtensa has 2 colours (%u)", hm_pkmap_colours(W.hm.ctx));
    g_base = (W.hm.layout.highmem_start_pfn + 1u) & ~1u;
    for (uint32_t k = 0; k < 6; k++)
        CHECK(hm_pkmap_colour(W.hm.ctx, pg(k)) == (int)(k & 1u), "pfn 0x%x of colour %u", pg(k), k & 1u);
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Workers: kmap one page (a new one, on a full colour: the kmap sleeps).
 * ------------------------------------------------------------------------------------- */
static struct {
    hm_pfn_t pfn[TT_MAX_THREADS];
    hm_vaddr_t va[TT_MAX_THREADS];
    int rc[TT_MAX_THREADS];
} K;

static void *kmapper(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    my_colour = hm_pkmap_colour(W.hm.ctx, K.pfn[i]);
    atomic_store(&W.ts[i].pfn, K.pfn[i]);
    atomic_store(&W.ts[i].phase, PH_KMAP);
    K.rc[i] = hm_kmap(W.hm.ctx, K.pfn[i], &K.va[i]);
    tt_thread_done(i);
    return NULL;
}

/* Worker i runs kmap(pfn): returns i. */
static unsigned spawn_kmap(hm_pfn_t pfn)
{
    unsigned i = atomic_load(&W.nthreads);
    K.pfn[i] = pfn;
    K.va[i] = 0;
    K.rc[i] = -1;
    tt_spawn(kmapper);
    return i;
}

/* What tt_wait_for polls: worker g_who finished; colour g_col has g_n sleep-hook entries and
 * (when g_waiting) one task counted on its queue. */
static unsigned g_who, g_n;
static uint32_t g_col;
static int g_waiting;
static int worker_done(void)
{
    return atomic_load(&W.ts[g_who].phase) == PH_DONE;
}
static int colour_entered(void)
{
    return atomic_load(&M.entered[g_col]) == g_n && (!g_waiting || waiters(g_col) == 1);
}
static void wait_worker(unsigned i, const char *what)
{
    g_who = i;
    tt_wait_for(worker_done, what);
}
static void wait_entered(uint32_t colour, unsigned n, int waiting, const char *what)
{
    g_col = colour;
    g_n = n;
    g_waiting = waiting;
    tt_wait_for(colour_entered, what);
}

/* For GRACE_NS, or until it moves: 1 when *v stayed at want. */
static int stays(atomic_uint *v, unsigned want)
{
    int64_t end = tt_now_ns() + GRACE_NS;
    while (tt_now_ns() < end) {
        if (atomic_load(v) != want)
            return 0;
        tt_sleep_ns(1000000);
    }
    return atomic_load(v) == want;
}

static void kmap_ok(hm_pfn_t pfn, uint32_t want_slot)
{
    hm_vaddr_t va = 0;
    int rc = hm_kmap(W.hm.ctx, pfn, &va);
    CHECK(rc == HM_OK && va == slot_va(want_slot), "kmap 0x%x: %s at 0x%08" PRIx64 ", want slot %u", pfn,
          hm_strerror(rc), va, want_slot);
}
static void kunmap_ok(hm_pfn_t pfn)
{
    int rc = hm_kunmap(W.hm.ctx, pfn);
    CHECK(rc == HM_OK, "kunmap 0x%x: %s", pfn, hm_strerror(rc));
}

/* Every slot held once: pg(0) slot 2, pg(1) slot 3, pg(2) slot 0, pg(3) slot 1 (each colour's
 * scan starts one step past its first slot and wraps to it). Then thread 0 kmaps pg(5) (colour
 * 1) and thread 1 pg(4) (colour 0): both sleep, each counted on its own colour's queue. */
static void fill_and_sleep_both(void)
{
    kmap_ok(pg(0), 2);
    kmap_ok(pg(1), 3);
    kmap_ok(pg(2), 0);
    kmap_ok(pg(3), 1);
    spawn_kmap(pg(5));
    wait_entered(1, 1, 1, "the colour-1 kmap asleep");
    spawn_kmap(pg(4));
    wait_entered(0, 1, 1, "the colour-0 kmap asleep");
}

/* Release what is still held (pg(0) and pg(1) were freed by the wraps that remapped their
 * slots), then the state every case ends in. */
static void release_and_check(void)
{
    struct hm_stats st;
    kunmap_ok(pg(2));
    kunmap_ok(pg(3));
    kunmap_ok(pg(4));
    kunmap_ok(pg(5));
    hm_get_stats(W.hm.ctx, &st);
    CHECK(st.sleeps == atomic_load(&M.entered[0]) + atomic_load(&M.entered[1]),
          "hm_stats counts %" PRIu64 " sleeps, the hooks were entered %u times", st.sleeps,
          atomic_load(&M.entered[0]) + atomic_load(&M.entered[1]));
    CHECK(atomic_load(&M.bad_colour) == 0, "a sleep or wake of a colour other than its page's (%u)",
          atomic_load(&M.bad_colour));
    tt_final_checks();
    tt_teardown();
}

/* ---------------------------------------------------------------------------------------
 * Through the library.
 * ------------------------------------------------------------------------------------- */

/* With a queue per colour: a kmap of colour 1 and one of colour 0 sleep; a kunmap of colour 0
 * (count 2 -> 1) calls wake_colour(0) and nothing else, which wakes the colour-0 sleeper (it maps
 * its page in the slot that kunmap freed) and leaves the colour-1 sleeper asleep: its sleep hook
 * does not return. A kunmap of colour 1 then wakes it. mode PAIR_ONLY: the same with sleep and
 * wake_all NULL (the pair alone lets kmap sleep). */
static void kunmap_wakes_only_its_colour(int locking, int mode)
{
    struct hm_stats st;
    if (open_xtensa(locking, mode) != 0)
        return;
    fill_and_sleep_both(); /* thread 0: colour 1; thread 1: colour 0 */
    kunmap_ok(pg(0));      /* colour 0, slot 2: 2 -> 1 */
    wait_worker(1, "the colour-0 sleeper woken by the colour-0 kunmap");
    CHECK(K.rc[1] == HM_OK && K.va[1] == slot_va(2), "colour-0 kmap: %s at 0x%08" PRIx64 ", want slot 2",
          hm_strerror(K.rc[1]), K.va[1]);
    CHECK(atomic_load(&M.colour_wakes[0]) == 1 && atomic_load(&M.colour_wakes[1]) == 0 &&
              atomic_load(&M.wake_alls) == 0,
          "the colour-0 kunmap woke colour 0 only: wake_colour(0) %u, wake_colour(1) %u, wake_all %u",
          atomic_load(&M.colour_wakes[0]), atomic_load(&M.colour_wakes[1]), atomic_load(&M.wake_alls));
    CHECK(stays(&M.returned[1], 0), "the colour-0 kunmap woke the colour-1 sleeper (its sleep returned %u times)",
          atomic_load(&M.returned[1]));
    CHECK(atomic_load(&M.entered[1]) == 1 && waiters(1) == 1, "the colour-1 kmap still sleeps its first sleep "
          "(entered %u, waiters %u)", atomic_load(&M.entered[1]), waiters(1));
    kunmap_ok(pg(1)); /* colour 1, slot 3: 2 -> 1 */
    tt_wait_done();
    CHECK(K.rc[0] == HM_OK && K.va[0] == slot_va(3), "colour-1 kmap: %s at 0x%08" PRIx64 ", want slot 3",
          hm_strerror(K.rc[0]), K.va[0]);
    CHECK(atomic_load(&M.colour_wakes[1]) == 1 && atomic_load(&M.returned[1]) == 1 &&
              atomic_load(&M.entered[1]) == 1,
          "the colour-1 kunmap woke the colour-1 sleeper once (wake_colour(1) %u, returned %u, slept %u)",
          atomic_load(&M.colour_wakes[1]), atomic_load(&M.returned[1]), atomic_load(&M.entered[1]));
    CHECK(atomic_load(&M.plain_sleeps) == 0 && atomic_load(&M.wake_alls) == 0,
          "sleep / wake_all called beside the pair (%u, %u)", atomic_load(&M.plain_sleeps),
          atomic_load(&M.wake_alls));
    hm_get_stats(W.hm.ctx, &st);
    CHECK(st.sleeps == 2 && st.wakeups == 2, "sleeps %" PRIu64 ", wakeups %" PRIu64 ", want 2 and 2", st.sleeps,
          st.wakeups);
    release_and_check();
}

/* Without the pair (PAIR_NONE), or with half of it (PAIR_HALF: sleep_colour alone is no pair),
 * the core sleeps and wakes through the one queue: the colour-0 kunmap's wake_all returns the
 * colour-1 sleeper too, which rescans its colour, finds nothing and sleeps again; the colour-1
 * kunmap then wakes it for good. This is the default every machine without the pair keeps, and
 * it shows that a wrong wake-up is seen by the case above. */
static void one_queue_wakes_every_colour(int locking, int mode)
{
    struct hm_stats st;
    if (open_xtensa(locking, mode) != 0)
        return;
    fill_and_sleep_both();
    kunmap_ok(pg(0));
    wait_worker(1, "the colour-0 sleeper woken by the colour-0 kunmap");
    wait_entered(1, 2, 0, "the colour-1 sleeper woken too, asleep again after its rescan");
    CHECK(K.rc[1] == HM_OK && K.va[1] == slot_va(2), "colour-0 kmap: %s at 0x%08" PRIx64 ", want slot 2",
          hm_strerror(K.rc[1]), K.va[1]);
    CHECK(atomic_load(&M.wake_alls) == 1 && atomic_load(&M.colour_wakes[0]) == 0 &&
              atomic_load(&M.colour_wakes[1]) == 0 && atomic_load(&M.colour_sleeps) == 0,
          "one wake_all and no colour hook (wake_all %u, wake_colour %u %u, sleep_colour %u)",
          atomic_load(&M.wake_alls), atomic_load(&M.colour_wakes[0]), atomic_load(&M.colour_wakes[1]),
          atomic_load(&M.colour_sleeps));
    kunmap_ok(pg(1));
    tt_wait_done();
    CHECK(K.rc[0] == HM_OK && K.va[0] == slot_va(3), "colour-1 kmap: %s at 0x%08" PRIx64 ", want slot 3",
          hm_strerror(K.rc[0]), K.va[0]);
    CHECK(atomic_load(&M.entered[1]) == 2 && atomic_load(&M.returned[1]) == 2 && atomic_load(&M.wake_alls) == 2,
          "the colour-1 kmap slept twice (entered %u, returned %u, wake_all %u)", atomic_load(&M.entered[1]),
          atomic_load(&M.returned[1]), atomic_load(&M.wake_alls));
    hm_get_stats(W.hm.ctx, &st);
    CHECK(st.sleeps == 3 && st.wakeups == 2, "sleeps %" PRIu64 ", wakeups %" PRIu64 ", want 3 and 2", st.sleeps,
          st.wakeups);
    release_and_check();
}

static void pair_fast(const void *a)
{
    kunmap_wakes_only_its_colour(HM_LOCKING_FAST, (int)(intptr_t)a);
}
static void pair_kernel(const void *a)
{
    kunmap_wakes_only_its_colour(HM_LOCKING_KERNEL, (int)(intptr_t)a);
}
static void one_queue_fast(const void *a)
{
    one_queue_wakes_every_colour(HM_LOCKING_FAST, (int)(intptr_t)a);
}
static void one_queue_kernel(const void *a)
{
    one_queue_wakes_every_colour(HM_LOCKING_KERNEL, (int)(intptr_t)a);
}

/* ---------------------------------------------------------------------------------------
 * The queues themselves (machine/kmap_wait.c through the sim's hooks, no library call).
 * ------------------------------------------------------------------------------------- */
static struct {
    int plain;       /* the sleeper uses sleep, else sleep_colour(colour) */
    uint32_t colour;
    atomic_int returned;
} Q;

static void *queue_sleeper(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    const struct hm_machine *hw = &W.hm.hw;
    atomic_store(&W.ts[i].phase, PH_WAIT);
    hw->lock(hw->m, HM_LOCK_KMAP);
    if (Q.plain)
        hw->sleep(hw->m);
    else
        hw->sleep_colour(hw->m, Q.colour);
    atomic_store(&Q.returned, 1);
    hw->unlock(hw->m, HM_LOCK_KMAP);
    tt_thread_done(i);
    return NULL;
}

static char g_desc[2048], g_needle[64];
static int described_asleep(void)
{
    hm_sim_describe_waits(W.hm.sim, g_desc, sizeof g_desc);
    return strstr(g_desc, g_needle) != NULL;
}

/* Start a sleeper (plain, or on colour) and wait until the checker shows it asleep on the
 * queue describe names (the name is checked: "pkmap_map_wait" or "pkmap_map_wait[c]"). From
 * then on every wake is one that began after its sleep (the waker takes the mutex it sleeps on). */
static unsigned start_sleeper(int plain, uint32_t colour)
{
    unsigned i = atomic_load(&W.nthreads);
    Q.plain = plain;
    Q.colour = colour;
    atomic_store(&Q.returned, 0);
    if (plain || colour == 0)
        snprintf(g_needle, sizeof g_needle, "thread %u: sleeping on pkmap_map_wait for ", i);
    else
        snprintf(g_needle, sizeof g_needle, "thread %u: sleeping on pkmap_map_wait[%u] for ", i, colour);
    tt_spawn(queue_sleeper);
    tt_wait_for(described_asleep, g_needle);
    return i;
}

static int g_q_returned(void)
{
    return atomic_load(&Q.returned) == 1;
}
/* The wake the sleeper must ignore (nothing, or wake_colour(other)) and the one that returns it. */
static void expect_stays_then_wakes(const char *what, int (*ignored)(void), void (*wake)(void))
{
    if (ignored) {
        ignored();
        int64_t end = tt_now_ns() + GRACE_NS;
        while (tt_now_ns() < end && !atomic_load(&Q.returned))
            tt_sleep_ns(1000000);
        CHECK(!atomic_load(&Q.returned), "%s: the sleeper returned from a wake-up not meant for it", what);
    }
    wake();
    tt_wait_for(g_q_returned, what);
}

static uint32_t g_wake_colour;
static void wake_colour(void)
{
    W.hm.hw.wake_colour(W.hm.hw.m, g_wake_colour);
}
static void wake_all(void)
{
    W.hm.hw.wake_all(W.hm.hw.m);
}
static int wake_colour_0(void)
{
    W.hm.hw.wake_colour(W.hm.hw.m, 0);
    return 0;
}
static int wake_colour_2(void)
{
    W.hm.hw.wake_colour(W.hm.hw.m, 2);
    return 0;
}
static int wake_colour_1(void)
{
    W.hm.hw.wake_colour(W.hm.hw.m, 1);
    return 0;
}
static int nothing(void)
{
    return 0;
}

/* sleep_colour(c) returns on wake_colour(c) and on wake_all, not on wake_colour of another
 * queue, nor on a wake issued before it slept; the one queue (sleep) returns on a wake_colour of
 * any colour; colours past HM_KW_COLOUR_QUEUES share queue c % HM_KW_COLOUR_QUEUES; describe
 * names each sleep's queue; the sim counts the pair with sleeps and wakes. */
static void queue_semantics(const void *arg)
{
    struct hm_sim_stats a, b;
    (void)arg;
    if (tt_setup(1, 4) != 0)
        return;
    CHECK(W.hm.hw.sleep_colour && W.hm.hw.wake_colour, "the sim has the per-colour pair");
    hm_sim_get_stats(W.hm.sim, &a);

    start_sleeper(0, 1);
    g_wake_colour = 1;
    expect_stays_then_wakes("sleep_colour(1), wake_colour(0) then (1)", wake_colour_0, wake_colour);

    start_sleeper(0, 0);
    expect_stays_then_wakes("sleep_colour(0), wake_colour(1) then wake_all", wake_colour_1, wake_all);

    start_sleeper(1, 0);
    g_wake_colour = 3;
    expect_stays_then_wakes("sleep, wake_colour(3)", NULL, wake_colour);

    start_sleeper(0, HM_KW_COLOUR_QUEUES + 1u);
    g_wake_colour = HM_KW_COLOUR_QUEUES + 1u;
    expect_stays_then_wakes("sleep_colour(65), wake_colour(2) then (65)", wake_colour_2, wake_colour);

    /* a wake-up before the sleep is not remembered */
    W.hm.hw.wake_colour(W.hm.hw.m, 1);
    start_sleeper(0, 1);
    g_wake_colour = 1;
    expect_stays_then_wakes("wake_colour(1) before sleep_colour(1), then again", nothing, wake_colour);

    tt_wait_done();
    hm_sim_get_stats(W.hm.sim, &b);
    CHECK(b.sleeps - a.sleeps == 5, "%" PRIu64 " sleeps counted, want 5", b.sleeps - a.sleeps);
    CHECK(b.wakes - a.wakes == 9, "%" PRIu64 " wakes counted, want 9", b.wakes - a.wakes);
    tt_teardown();
}

/* The checker treats the pair as sleep and wake_all: sleep_colour without kmap_lock (or with
 * another lock) is reported and returns at once; wake_colour holding kmap_lock is a recursion
 * report naming wake_colour, and its wake-up is still delivered. */
static struct {
    int n, kind[4];
    char msg[4][200];
} R;
static void on_lock_error(void *cookie, const struct hm_lock_error *e)
{
    (void)cookie;
    if (R.n < 4) {
        R.kind[R.n] = e->kind;
        snprintf(R.msg[R.n], sizeof R.msg[R.n], "%s", e->msg);
    }
    R.n++;
}
static void checked_like_sleep_and_wake_all(const void *arg)
{
    const struct hm_machine *hw = &W.hm.hw;
    (void)arg;
    if (tt_setup(1, 4) != 0)
        return;
    memset(&R, 0, sizeof R);
    hm_sim_on_lock_error(W.hm.sim, on_lock_error, NULL);
    hw->sleep_colour(hw->m, 1); /* returns at once */
    CHECK(R.n == 1 && R.kind[0] == HM_LOCK_ERR_SLEEP_UNLOCKED &&
              strcmp(R.msg[0], "sleep without kmap_lock: pkmap_map_wait entered by a thread that does not "
                               "hold kmap_lock") == 0,
          "report %d: %s", R.n, R.msg[0]);
    hw->lock(hw->m, HM_LOCK_KMAP);
    hw->lock(hw->m, HM_LOCK_POOL);
    hw->sleep_colour(hw->m, 1);
    hw->unlock(hw->m, HM_LOCK_POOL);
    CHECK(R.n == 2 && R.kind[1] == HM_LOCK_ERR_SLEEP_HOLDING, "report %d: %s", R.n, R.msg[1]);
    hw->wake_colour(hw->m, 1);
    CHECK(R.n == 3 && R.kind[2] == HM_LOCK_ERR_RECURSION &&
              strcmp(R.msg[2], "recursive locking: wake_colour called while holding kmap_lock (it takes "
                               "kmap_lock itself and is called without locks)") == 0,
          "report %d: %s", R.n, R.msg[2]);
    hw->unlock(hw->m, HM_LOCK_KMAP);
    hm_sim_describe_waits(W.hm.sim, g_desc, sizeof g_desc);
    CHECK(g_desc[0] == '\0', "nothing held or asleep: %s", g_desc);
    /* the delivered wake-up of a recursion report reaches a sleeper of that colour */
    start_sleeper(0, 1);
    hw->lock(hw->m, HM_LOCK_KMAP);
    hw->wake_colour(hw->m, 1);
    hw->unlock(hw->m, HM_LOCK_KMAP);
    tt_wait_for(g_q_returned, "the sleeper woken by the reported wake_colour");
    tt_wait_done();
    CHECK(R.n == 4 && R.kind[3] == HM_LOCK_ERR_RECURSION, "report %d", R.n);
    tt_teardown();
}

#define MODES(fn, mode) {#fn "_" #mode, fn, (const void *)(intptr_t)mode}

int main(void)
{
    static const struct tt_case cases[] = {
        MODES(pair_fast, PAIR_FULL),
        MODES(pair_kernel, PAIR_FULL),
        MODES(pair_fast, PAIR_ONLY),
        MODES(pair_kernel, PAIR_ONLY),
        MODES(one_queue_fast, PAIR_NONE),
        MODES(one_queue_kernel, PAIR_NONE),
        MODES(one_queue_fast, PAIR_HALF),
        MODES(one_queue_kernel, PAIR_HALF),
        {"queue_semantics", queue_semantics, NULL},
        {"checked_like_sleep_and_wake_all", checked_like_sleep_and_wake_all, NULL},
    };
    return tt_main(cases, sizeof cases / sizeof cases[0], "COLOUR_WAIT_TEST_ONLY");
}
