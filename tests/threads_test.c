/* threads_test.c - multi-threaded test of the blocking hm_kmap on the simulated MMU (plain C, no Criterion,
 * TSan-safe): slot exhaustion, same-page re-check, no lost wake-up, stress, concurrent BUG reports.
 * SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "highmem.h"
#include "sim/sim.h"

/* Every wait of a scenario ends by this deadline; the watchdog gives the main thread a grace
 * period on top in case it is itself blocked (e.g. on a kmap_lock a stuck thread holds). */
#define DEADLINE_S 30
#define WATCHDOG_GRACE_S 5
#define MAX_THREADS 16
#define MAX_SLOTS 64

/* ---------------------------------------------------------------------------------------
 * Checks. A failed check is printed and counted; the scenario carries on (so the others are
 * not left waiting) and is reported as failed at its end.
 * ------------------------------------------------------------------------------------- */
static const char *_Atomic g_scenario = "setup";
static atomic_int g_failures;
static int g_nr_scenarios, g_passed, g_failed;

static void check_failed(const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void check_failed(const char *file, int line, const char *expr, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: [%s] check failed: %s -- %s\n", file, line, atomic_load(&g_scenario), expr,
            buf);
    atomic_fetch_add(&g_failures, 1);
}

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond))                                                                       \
            check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__);                          \
    } while (0)

/* ---------------------------------------------------------------------------------------
 * Time.
 * ------------------------------------------------------------------------------------- */
static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sleep_ns(long ns)
{
    struct timespec t = {ns / 1000000000L, ns % 1000000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static atomic_llong g_deadline_ns; /* monotonic; 0 = no scenario running */

static int past_deadline(void)
{
    int64_t d = atomic_load(&g_deadline_ns);
    return d != 0 && now_ns() > d;
}

/* ---------------------------------------------------------------------------------------
 * The world of one scenario: a machine (sim), a context on it, the threads.
 * ------------------------------------------------------------------------------------- */
enum { PH_IDLE, PH_KMAP, PH_CHECK, PH_HOLD, PH_KUNMAP, PH_FLUSH, PH_WAIT, PH_DONE };
static const char *const phase_names[] = {"not started", "in hm_kmap", "checking mapping",
                                          "holding (waiting for release)", "in hm_kunmap",
                                          "in hm_kmap_flush_unused", "waiting for a command",
                                          "done"};

struct tstate {
    atomic_int started;
    atomic_int phase;
    atomic_int iter;
    atomic_uint pfn;
};

static struct {
    struct hm_config cfg;
    struct hm_layout lay;
    struct hm_sim *sim;
    struct hm_machine mach;
    struct hm_ctx *ctx;
    void *mem;

    atomic_uint nthreads; /* spawned so far */
    pthread_t tid[MAX_THREADS];
    struct tstate ts[MAX_THREADS];

    pthread_mutex_t mu; /* guards done */
    pthread_cond_t cv;  /* CLOCK_MONOTONIC */
    unsigned done;

    atomic_uint stale_events;
    atomic_uint bug_events;
} W;

static void on_sim_event(void *cookie, const struct hm_event *ev)
{
    (void)cookie;
    if (ev->kind == HM_EV_STALE_TLB) {
        unsigned n = atomic_fetch_add(&W.stale_events, 1);
        if (n < 8)
            fprintf(stderr, "[%s] sim: stale translation on cpu %u at 0x%08x (TLB pfn 0x%x, pte 0x%llx)\n",
                    atomic_load(&g_scenario), ev->cpu, ev->a, ev->b, (unsigned long long)ev->pte);
    }
}

static atomic_int g_bugs_expected; /* scenario 5 provokes BUGs on purpose */

static void on_bug(void *cookie, const struct hm_bug_report *r)
{
    (void)cookie;
    atomic_fetch_add(&W.bug_events, 1);
    if (atomic_load(&g_bugs_expected))
        return;
    fprintf(stderr, "[%s] unexpected BUG %s in %s (arg 0x%x) -> %s\n", atomic_load(&g_scenario),
            hm_bug_name(r->bug), r->function, r->arg, hm_strerror(r->err));
}

static int setup(uint32_t nr_cpus, uint32_t last_pkmap)
{
    struct hm_hooks hooks = {.on_bug = on_bug};
    size_t size, align;
    int rc;

    memset(&W.cfg, 0, sizeof W.cfg);
    W.cfg.arch = hm_arch_find("x86");
    W.cfg.nr_cpus = nr_cpus;
    W.cfg.last_pkmap = last_pkmap;
    if (!W.cfg.arch) {
        CHECK(0, "no x86 backend");
        return -1;
    }
    rc = hm_layout_compute(&W.cfg, &W.lay);
    CHECK(rc == HM_OK, "hm_layout_compute: %s", hm_strerror(rc));
    if (rc != HM_OK)
        return -1;
    W.sim = hm_sim_new(&W.lay, W.cfg.arch, on_sim_event, NULL);
    CHECK(W.sim != NULL, "hm_sim_new");
    if (!W.sim)
        return -1;
    hm_sim_machine(W.sim, &W.mach);
    size = hm_ctx_size(&W.cfg);
    align = hm_ctx_align();
    size = (size + align - 1) / align * align;
    W.mem = aligned_alloc(align, size);
    CHECK(W.mem != NULL, "aligned_alloc(%zu)", size);
    if (!W.mem)
        return -1;
    rc = hm_ctx_init(W.mem, size, &W.cfg, &W.mach, &hooks, &W.ctx);
    CHECK(rc == HM_OK, "hm_ctx_init: %s", hm_strerror(rc));
    if (rc != HM_OK)
        return -1;
    atomic_store(&W.nthreads, 0);
    W.done = 0;
    atomic_store(&W.stale_events, 0);
    atomic_store(&W.bug_events, 0);
    for (unsigned i = 0; i < MAX_THREADS; i++) {
        atomic_store(&W.ts[i].started, 0);
        atomic_store(&W.ts[i].phase, PH_IDLE);
        atomic_store(&W.ts[i].iter, 0);
        atomic_store(&W.ts[i].pfn, 0);
    }
    return 0;
}

static void teardown(void)
{
    hm_sim_free(W.sim);
    free(W.mem);
    W.sim = NULL;
    W.mem = NULL;
    W.ctx = NULL;
}

static hm_pfn_t hi(uint32_t k)
{
    return W.lay.highmem_start_pfn + k;
}

static hm_vaddr_t slot_addr(uint32_t i)
{
    return W.lay.pkmap_base + (i << W.lay.page_shift);
}

static int in_pkmap_window(hm_vaddr_t va)
{
    return va >= W.lay.pkmap_base && va < slot_addr(W.lay.last_pkmap) && (va & (W.lay.page_size - 1u)) == 0;
}

static uint32_t slot_of(hm_vaddr_t va)
{
    return (va - W.lay.pkmap_base) >> W.lay.page_shift;
}

/* A consistent view of the kmap state. */
struct snap {
    uint32_t slots;
    int count[MAX_SLOTS];
    uint32_t nr_waiters, last_nr;
    struct hm_stats st;
    int inv;
    char msg[160];
};

static void read_snap(struct snap *sn, int with_invariants)
{
    sn->slots = W.lay.last_pkmap < MAX_SLOTS ? W.lay.last_pkmap : MAX_SLOTS;
    for (uint32_t i = 0; i < sn->slots; i++)
        sn->count[i] = hm_pkmap_count(W.ctx, i);
    sn->nr_waiters = hm_nr_waiters(W.ctx);
    sn->last_nr = hm_last_pkmap_nr(W.ctx);
    hm_get_stats(W.ctx, &sn->st);
    sn->msg[0] = '\0';
    sn->inv = with_invariants ? hm_check_invariants(W.ctx, sn->msg, sizeof sn->msg) : 0;
}

/* Under kmap_lock (taken through the machine's own hook), so it is race-free while threads run. */
static void snap(struct snap *sn)
{
    W.mach.lock(W.mach.m, HM_LOCK_KMAP);
    read_snap(sn, 1);
    W.mach.unlock(W.mach.m, HM_LOCK_KMAP);
}

static void print_snap(const struct snap *sn)
{
    fprintf(stderr, "  nr_waiters=%u last_pkmap_nr=%u counts:", sn->nr_waiters, sn->last_nr);
    for (uint32_t i = 0; i < sn->slots; i++)
        fprintf(stderr, " %d", sn->count[i]);
    fprintf(stderr, "\n  stats: kmap_calls=%llu hits=%llu new=%llu kunmap_calls=%llu flushes=%llu "
                    "freed=%llu sleeps=%llu wakeups=%llu bugs=%llu\n",
            (unsigned long long)sn->st.kmap_calls, (unsigned long long)sn->st.kmap_hits,
            (unsigned long long)sn->st.kmap_new, (unsigned long long)sn->st.kunmap_calls,
            (unsigned long long)sn->st.flushes, (unsigned long long)sn->st.slots_freed,
            (unsigned long long)sn->st.sleeps, (unsigned long long)sn->st.wakeups,
            (unsigned long long)sn->st.bugs);
    if (sn->inv)
        fprintf(stderr, "  invariants: %s\n", sn->msg);
}

/* ---------------------------------------------------------------------------------------
 * Timeouts: print which threads are stuck and the kmap state, then _exit(1) (stuck threads
 * cannot be joined).
 * ------------------------------------------------------------------------------------- */
static void dump_threads(void)
{
    unsigned n = atomic_load(&W.nthreads);
    for (unsigned i = 0; i < n; i++) {
        int ph = atomic_load(&W.ts[i].phase);
        fprintf(stderr, "  thread %u (cpu %u): %s, iteration %d, pfn 0x%x%s\n", i, i,
                ph >= 0 && ph <= PH_DONE ? phase_names[ph] : "?", atomic_load(&W.ts[i].iter),
                atomic_load(&W.ts[i].pfn), ph == PH_DONE ? "" : "  <-- not finished");
    }
}

static struct snap g_diag_snap;
static atomic_int g_diag_ok;

static void *diag_fn(void *arg)
{
    (void)arg;
    snap(&g_diag_snap);
    atomic_store(&g_diag_ok, 1);
    return NULL;
}

static _Noreturn void stuck(const char *what)
{
    pthread_t t;
    int64_t until;

    fprintf(stderr, "\n[%s] TIMEOUT (%d s) waiting for: %s\n", atomic_load(&g_scenario), DEADLINE_S, what);
    dump_threads();
    /* take kmap_lock from a helper thread, so a lock held by a stuck thread cannot hang us */
    atomic_store(&g_diag_ok, 0);
    if (W.ctx && pthread_create(&t, NULL, diag_fn, NULL) == 0) {
        pthread_detach(t);
        until = now_ns() + 2000000000LL;
        while (!atomic_load(&g_diag_ok) && now_ns() < until)
            sleep_ns(1000000);
        if (atomic_load(&g_diag_ok)) {
            print_snap(&g_diag_snap);
        } else {
            struct snap sn;
            fprintf(stderr, "  kmap_lock could not be taken within 2 s (held by a stuck thread?); "
                            "unlocked read follows\n");
            fflush(stderr);
            read_snap(&sn, 0);
            print_snap(&sn);
        }
    }
    fflush(stderr);
    printf("%d passed, %d failed\n", g_passed, g_nr_scenarios - g_passed);
    fflush(stdout);
    _exit(1);
}

/* The watchdog: only fires if the main thread itself cannot reach its own timed waits. */
static void *watchdog_fn(void *arg)
{
    (void)arg;
    for (;;) {
        int64_t d = atomic_load(&g_deadline_ns);
        if (d != 0 && now_ns() > d + (int64_t)WATCHDOG_GRACE_S * 1000000000LL) {
            fprintf(stderr, "\n[%s] WATCHDOG: the main thread is blocked past the deadline\n",
                    atomic_load(&g_scenario));
            dump_threads();
            fflush(stderr);
            printf("%d passed, %d failed\n", g_passed, g_nr_scenarios - g_passed);
            fflush(stdout);
            _exit(1);
        }
        sleep_ns(100000000);
    }
    return NULL;
}

/* Poll pred (which may take kmap_lock) until it holds, or time out. */
static void wait_for(int (*pred)(void), const char *what)
{
    while (!pred()) {
        if (past_deadline())
            stuck(what);
        sleep_ns(200000);
    }
}

/* Workers wait on main's commands with this. They must not give up before the main thread
 * (or the watchdog) has reported the timeout and exited, or a worker that goes on to kunmap
 * would unblock the others and blur the diagnostic: they wait until well past both. */
static int wait_flag(atomic_int *flag, int value)
{
    while (atomic_load(flag) < value) {
        int64_t d = atomic_load(&g_deadline_ns);
        if (d != 0 && now_ns() > d + 3LL * WATCHDOG_GRACE_S * 1000000000LL)
            return 0;
        sleep_ns(100000);
    }
    return 1;
}

static void spawn(void *(*fn)(void *))
{
    unsigned i = atomic_load(&W.nthreads);
    if (i >= MAX_THREADS || pthread_create(&W.tid[i], NULL, fn, (void *)(uintptr_t)i) != 0) {
        CHECK(0, "cannot start thread %u", i);
        stuck("thread creation");
    }
    atomic_store(&W.ts[i].started, 1);
    atomic_store(&W.nthreads, i + 1);
}

static void thread_done(unsigned i)
{
    atomic_store(&W.ts[i].phase, PH_DONE);
    pthread_mutex_lock(&W.mu);
    W.done++;
    pthread_cond_broadcast(&W.cv);
    pthread_mutex_unlock(&W.mu);
}

/* Wait (bounded) until every spawned thread called thread_done, then join them. */
static void wait_done(void)
{
    unsigned n = atomic_load(&W.nthreads);
    int64_t d = atomic_load(&g_deadline_ns);
    struct timespec ts = {(time_t)(d / 1000000000LL), (long)(d % 1000000000LL)};

    pthread_mutex_lock(&W.mu);
    while (W.done < n) {
        int rc = pthread_cond_timedwait(&W.cv, &W.mu, &ts);
        if (rc == ETIMEDOUT && W.done < n) {
            pthread_mutex_unlock(&W.mu);
            stuck("every thread to finish");
        }
    }
    pthread_mutex_unlock(&W.mu);
    for (unsigned i = 0; i < n; i++)
        pthread_join(W.tid[i], NULL);
}

/* ---------------------------------------------------------------------------------------
 * Mapping checks, done by a thread on its own CPU.
 * ------------------------------------------------------------------------------------- */

/* va must be a pkmap address that maps pfn on cpu: offset 0 holds the page's signature (read
 * through the MMU); a store at off through the MMU must land in pfn (read physically). */
static void check_mapping(uint32_t cpu, hm_pfn_t pfn, hm_vaddr_t va, uint8_t sig, uint32_t off, uint8_t val)
{
    uint8_t got = 0;
    int rc;

    CHECK(in_pkmap_window(va), "cpu %u pfn 0x%x: address 0x%08x outside the pkmap window", cpu, pfn, va);
    rc = hm_sim_load(W.sim, cpu, va, &got);
    CHECK(rc == HM_OK && got == sig, "cpu %u pfn 0x%x at 0x%08x: load rc %s, signature 0x%02x, want 0x%02x",
          cpu, pfn, va, hm_strerror(rc), got, sig);
    rc = hm_sim_store(W.sim, cpu, va + off, val);
    CHECK(rc == HM_OK, "cpu %u: store at 0x%08x: %s", cpu, va + off, hm_strerror(rc));
    got = 0;
    rc = hm_sim_load(W.sim, cpu, va + off, &got);
    CHECK(rc == HM_OK && got == val, "cpu %u: load back at 0x%08x: rc %s, 0x%02x want 0x%02x", cpu,
          va + off, hm_strerror(rc), got, val);
    got = 0;
    rc = hm_sim_phys_read(W.sim, pfn, off, &got);
    CHECK(rc == HM_OK && got == val, "cpu %u: the store through 0x%08x did not reach pfn 0x%x offset %u "
          "(0x%02x, want 0x%02x)", cpu, va, pfn, off, got, val);
}

/* The state every scenario must end in, once all its threads have been joined. */
static void final_checks(void)
{
    struct snap sn;
    struct hm_sim_stats ss;

    snap(&sn);
    CHECK(sn.inv == 0, "hm_check_invariants: %s", sn.msg);
    for (uint32_t i = 0; i < sn.slots; i++)
        CHECK(sn.count[i] == 0 || sn.count[i] == 1, "slot %u ends with count %d", i, sn.count[i]);
    CHECK(sn.nr_waiters == 0, "%u waiters left", sn.nr_waiters);
    CHECK(sn.st.bugs == 0 && atomic_load(&W.bug_events) == 0, "%llu BUGs", (unsigned long long)sn.st.bugs);
    hm_sim_get_stats(W.sim, &ss);
    CHECK(ss.stale_pte_writes == 0, "%llu stale PTE writes", (unsigned long long)ss.stale_pte_writes);
    CHECK(ss.stale_tlb_hits == 0, "%llu stale TLB hits", (unsigned long long)ss.stale_tlb_hits);
    CHECK(atomic_load(&W.stale_events) == 0, "%u stale-translation events", atomic_load(&W.stale_events));
    if (atomic_load(&g_failures))
        print_snap(&sn);
}

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
    return hi(16 + 5 * i);
}

static uint8_t s1_sig(unsigned i)
{
    return (uint8_t)(0xa0 + i);
}

static void *s1_worker(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    hm_pfn_t pfn = s1_pfn(i);
    struct tstate *me = &W.ts[i];
    hm_vaddr_t va = 0;
    int rc;

    atomic_store(&me->pfn, pfn);
    atomic_store(&me->phase, PH_KMAP);
    rc = hm_kmap(W.ctx, pfn, &va);
    CHECK(rc == HM_OK, "thread %u: first hm_kmap: %s", i, hm_strerror(rc));
    if (rc == HM_OK) {
        atomic_store(&me->phase, PH_CHECK);
        check_mapping(i, pfn, va, s1_sig(i), 1, (uint8_t)(0x10 + i));
        atomic_fetch_add(&s1_held, 1);
        atomic_store(&me->phase, PH_HOLD);
        wait_flag(&s1_release, 1);
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.ctx, pfn);
        CHECK(rc == HM_OK, "thread %u: hm_kunmap: %s", i, hm_strerror(rc));
    }

    for (int it = 1; it <= S1_ITERS; it++) {
        uint32_t off = 1 + (uint32_t)it % 61u;
        uint8_t val = (uint8_t)(it * 7 + (int)i * 31);
        atomic_store(&me->iter, it);
        atomic_store(&me->phase, PH_KMAP);
        rc = hm_kmap(W.ctx, pfn, &va);
        CHECK(rc == HM_OK, "thread %u iteration %d: hm_kmap: %s", i, it, hm_strerror(rc));
        if (rc != HM_OK)
            break;
        atomic_store(&me->phase, PH_CHECK);
        check_mapping(i, pfn, va, s1_sig(i), off, val);
        atomic_store(&me->phase, PH_HOLD);
        if (it % 8 == 0)
            sleep_ns(20000);
        else
            sched_yield();
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.ctx, pfn);
        CHECK(rc == HM_OK, "thread %u iteration %d: hm_kunmap: %s", i, it, hm_strerror(rc));
    }
    thread_done(i);
    return NULL;
}

static int s1_phase_a_ready(void)
{
    struct snap sn;
    if ((unsigned)atomic_load(&s1_held) != S1_SLOTS)
        return 0;
    snap(&sn);
    return sn.nr_waiters == S1_THREADS - S1_SLOTS;
}

static void scenario_exhaustion(void)
{
    struct snap sn;

    if (setup(S1_THREADS, S1_SLOTS))
        return;
    atomic_store(&s1_held, 0);
    atomic_store(&s1_release, 0);
    for (unsigned i = 0; i < S1_THREADS; i++)
        CHECK(hm_sim_phys_write(W.sim, s1_pfn(i), 0, s1_sig(i)) == HM_OK, "phys_write");
    for (unsigned i = 0; i < S1_THREADS; i++)
        spawn(s1_worker);

    /* Phase A: 4 holders, 4 sleepers; the window is exhausted. */
    wait_for(s1_phase_a_ready, "4 threads holding a slot and 4 asleep on pkmap_map_wait");
    snap(&sn);
    for (uint32_t i = 0; i < S1_SLOTS; i++)
        CHECK(sn.count[i] == 2, "phase A: slot %u count %d, want 2 (window full)", i, sn.count[i]);
    CHECK(sn.st.sleeps >= S1_THREADS - S1_SLOTS, "phase A: %llu sleeps", (unsigned long long)sn.st.sleeps);
    CHECK(sn.inv == 0, "phase A: %s", sn.msg);
    atomic_store(&s1_release, 1);

    wait_done();
    snap(&sn);
    CHECK(sn.st.sleeps >= S1_THREADS - S1_SLOTS, "sleeps %llu", (unsigned long long)sn.st.sleeps);
    CHECK(sn.st.wakeups > 0, "no wake-up recorded");
    CHECK(sn.st.kmap_calls == S1_THREADS * (S1_ITERS + 1u), "kmap_calls %llu",
          (unsigned long long)sn.st.kmap_calls);
    CHECK(sn.st.kunmap_calls == S1_THREADS * (S1_ITERS + 1u), "kunmap_calls %llu",
          (unsigned long long)sn.st.kunmap_calls);
    for (unsigned i = 0; i < S1_THREADS; i++) {
        uint8_t got = 0;
        CHECK(hm_sim_phys_read(W.sim, s1_pfn(i), 0, &got) == HM_OK && got == s1_sig(i),
              "page of thread %u lost its signature (0x%02x)", i, got);
    }
    final_checks();
    printf("  sleeps=%llu wakeups=%llu flushes=%llu\n", (unsigned long long)sn.st.sleeps,
           (unsigned long long)sn.st.wakeups, (unsigned long long)sn.st.flushes);
    teardown();
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
static atomic_uint s2_addr[S2_THREADS];

static hm_pfn_t s2_fill(unsigned j)
{
    return hi(100 + j);
}

static hm_pfn_t s2_q(void)
{
    return hi(200);
}

static void *s2_worker(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct tstate *me = &W.ts[i];
    hm_vaddr_t va = 0;
    int rc;

    atomic_store(&me->pfn, s2_q());
    atomic_store(&me->phase, PH_KMAP);
    rc = hm_kmap(W.ctx, s2_q(), &va);
    CHECK(rc == HM_OK, "thread %u: hm_kmap(Q): %s", i, hm_strerror(rc));
    if (rc == HM_OK) {
        atomic_store(&s2_addr[i], va);
        atomic_store(&me->phase, PH_CHECK);
        check_mapping(i, s2_q(), va, S2_SIG, 1 + i, (uint8_t)(0x60 + i));
        atomic_fetch_add(&s2_mapped, 1);
        atomic_store(&me->phase, PH_HOLD);
        wait_flag(&s2_release, 1);
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.ctx, s2_q());
        CHECK(rc == HM_OK, "thread %u: hm_kunmap(Q): %s", i, hm_strerror(rc));
    }
    thread_done(i);
    return NULL;
}

static int s2_all_asleep(void)
{
    struct snap sn;
    snap(&sn);
    return sn.nr_waiters == S2_THREADS && sn.st.sleeps == S2_THREADS;
}

static int s2_all_mapped(void)
{
    return (unsigned)atomic_load(&s2_mapped) == S2_THREADS;
}

static void scenario_same_page(void)
{
    hm_vaddr_t fill_va[S2_SLOTS], va = 0, q_va;
    struct snap sn;
    unsigned q_slots = 0;
    int rc;

    if (setup(S2_THREADS, S2_SLOTS))
        return;
    atomic_store(&s2_mapped, 0);
    atomic_store(&s2_release, 0);
    /* Fill the window from the main thread (hm_kmap_try: the main thread never blocks). */
    for (unsigned j = 0; j < S2_SLOTS; j++) {
        rc = hm_kmap_try(W.ctx, s2_fill(j), &fill_va[j]);
        CHECK(rc == HM_OK, "filling slot %u: %s", j, hm_strerror(rc));
        if (rc != HM_OK)
            goto out;
    }
    rc = hm_kmap_try(W.ctx, s2_q(), &va);
    CHECK(rc == HM_EAGAIN, "the window should be full: hm_kmap_try(Q) gave %s", hm_strerror(rc));
    CHECK(hm_sim_phys_write(W.sim, s2_q(), 0, S2_SIG) == HM_OK, "phys_write");

    for (unsigned i = 0; i < S2_THREADS; i++)
        spawn(s2_worker);
    wait_for(s2_all_asleep, "5 threads asleep on pkmap_map_wait for page Q");
    snap(&sn);
    CHECK(atomic_load(&s2_mapped) == 0, "a thread got Q while the window was full");
    CHECK(sn.st.wakeups == 0, "wakeups %llu before any kunmap", (unsigned long long)sn.st.wakeups);

    /* One kunmap of a fill page: count 2 -> 1 with waiters: one wake-up for all of them. */
    rc = hm_kunmap(W.ctx, s2_fill(0));
    CHECK(rc == HM_OK, "hm_kunmap(fill 0): %s", hm_strerror(rc));
    wait_for(s2_all_mapped, "all 5 threads to get page Q after the wake-up");

    snap(&sn);
    q_va = atomic_load(&s2_addr[0]);
    for (unsigned i = 1; i < S2_THREADS; i++)
        CHECK(atomic_load(&s2_addr[i]) == q_va, "thread %u got 0x%08x, thread 0 got 0x%08x (second slot "
              "for one page?)", i, atomic_load(&s2_addr[i]), q_va);
    CHECK(q_va == fill_va[0], "Q at 0x%08x, not in the one slot freed (0x%08x)", q_va, fill_va[0]);
    if (in_pkmap_window(q_va))
        CHECK(sn.count[slot_of(q_va)] == (int)S2_THREADS + 1, "Q's slot count %d, want %u",
              sn.count[slot_of(q_va)], S2_THREADS + 1);
    for (uint32_t s = 0; s < S2_SLOTS; s++) {
        hm_pte_t pte = hm_sim_pte(W.sim, slot_addr(s));
        if (!hm_pte_none(W.ctx, pte) && hm_pte_pfn(W.ctx, pte) == s2_q())
            q_slots++;
        if (slot_addr(s) != q_va)
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
    CHECK(hm_page_address(W.ctx, s2_q(), &va) == HM_OK && va == q_va, "page_address(Q) 0x%08x", va);
    for (unsigned i = 0; i < S2_THREADS; i++) {
        uint8_t got = 0;
        CHECK(hm_sim_phys_read(W.sim, s2_q(), 1 + i, &got) == HM_OK && got == 0x60 + i,
              "Q offset %u: 0x%02x (thread %u's store went elsewhere)", 1 + i, got, i);
    }

    atomic_store(&s2_release, 1);
    wait_done();
    snap(&sn);
    if (in_pkmap_window(q_va))
        CHECK(sn.count[slot_of(q_va)] == 1, "Q's slot count %d after all kunmaps, want 1",
              sn.count[slot_of(q_va)]);
    for (unsigned j = 1; j < S2_SLOTS; j++)
        CHECK(hm_kunmap(W.ctx, s2_fill(j)) == HM_OK, "kunmap fill %u", j);
    final_checks();
out:
    teardown();
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
    return hi(300 + j);
}

static hm_pfn_t s3_gpage(unsigned i)
{
    return hi(400 + 3 * i);
}

static uint8_t s3_sig(unsigned i)
{
    return (uint8_t)(0xc0 + i);
}

static void *s3_holder(void *arg)
{
    unsigned me_i = (unsigned)(uintptr_t)arg;
    struct tstate *me = &W.ts[me_i];
    hm_vaddr_t va[S3_SLOTS], again = 0;
    int rc, ok = 1;

    for (unsigned j = 0; j < S3_SLOTS; j++) {
        atomic_store(&me->pfn, s3_hpage(j));
        atomic_store(&me->phase, PH_KMAP);
        rc = hm_kmap(W.ctx, s3_hpage(j), &va[j]);
        CHECK(rc == HM_OK, "holder: hm_kmap(H%u): %s", j, hm_strerror(rc));
        ok &= rc == HM_OK;
    }
    rc = hm_kmap(W.ctx, s3_hpage(0), &again);
    CHECK(rc == HM_OK && again == va[0], "holder: second hm_kmap(H0): %s, 0x%08x vs 0x%08x",
          hm_strerror(rc), again, va[0]);
    atomic_store(&s3_filled, ok ? 1 : -1);

    /* step 0: the extra reference of H0 (3 -> 2); steps 1..S: H0..H(S-1) (2 -> 1) */
    for (unsigned r = 0; r <= S3_SLOTS; r++) {
        hm_pfn_t p = r == 0 ? s3_hpage(0) : s3_hpage(r - 1);
        atomic_store(&me->iter, (int)r);
        atomic_store(&me->phase, PH_WAIT);
        if (!wait_flag(&s3_cmd, (int)r + 1))
            break;
        atomic_store(&me->pfn, p);
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.ctx, p);
        CHECK(rc == HM_OK, "holder: hm_kunmap step %u: %s", r, hm_strerror(rc));
        atomic_store(&s3_ack, (int)r + 1);
    }
    thread_done(me_i);
    return NULL;
}

static void *s3_sleeper(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct tstate *me = &W.ts[i];
    hm_pfn_t pfn = s3_gpage(i);
    hm_vaddr_t va = 0;
    int rc;

    atomic_store(&me->pfn, pfn);
    atomic_store(&me->phase, PH_KMAP);
    rc = hm_kmap(W.ctx, pfn, &va);
    CHECK(rc == HM_OK, "sleeper %u: hm_kmap: %s", i, hm_strerror(rc));
    if (rc == HM_OK) {
        atomic_store(&me->phase, PH_CHECK);
        check_mapping(i, pfn, va, s3_sig(i), 2, (uint8_t)(0x70 + i));
        atomic_fetch_add(&s3_granted, 1);
        atomic_store(&me->phase, PH_HOLD);
        wait_flag(&s3_release, 1);
        atomic_store(&me->phase, PH_KUNMAP);
        rc = hm_kunmap(W.ctx, pfn);
        CHECK(rc == HM_OK, "sleeper %u: hm_kunmap: %s", i, hm_strerror(rc));
    }
    thread_done(i);
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
    struct snap sn;
    snap(&sn);
    return sn.nr_waiters == S3_SLEEPERS && sn.st.sleeps == S3_SLEEPERS;
}

static int s3_step_acked(void)
{
    return (unsigned)atomic_load(&s3_ack) == s3_round + 1;
}

/* After release round r: one more sleeper through, the rest asleep again. */
static int s3_round_settled(void)
{
    struct snap sn;
    unsigned r = s3_round - 1; /* s3_round counts holder steps; step 0 released no slot */
    if ((unsigned)atomic_load(&s3_ack) != s3_round + 1 || (unsigned)atomic_load(&s3_granted) != r + 1)
        return 0;
    snap(&sn);
    return sn.nr_waiters == S3_SLEEPERS - r - 1 && sn.st.sleeps == s3_expected_sleeps(r);
}

static void scenario_no_lost_wakeup(void)
{
    struct snap sn;

    if (setup(S3_SLEEPERS + 1, S3_SLOTS))
        return;
    atomic_store(&s3_filled, 0);
    atomic_store(&s3_cmd, 0);
    atomic_store(&s3_ack, 0);
    atomic_store(&s3_granted, 0);
    atomic_store(&s3_release, 0);
    s3_round = 0;

    spawn(s3_holder); /* thread 0, cpu 0; the sleepers are threads/cpus 1..M */
    wait_for(s3_holder_filled, "the holder to fill the window");
    snap(&sn);
    CHECK(atomic_load(&s3_filled) == 1, "holder could not fill the window");
    CHECK(sn.st.sleeps == 0, "the holder slept while filling an empty window");
    for (uint32_t s = 0; s < S3_SLOTS; s++)
        CHECK(sn.count[s] >= 2, "slot %u count %d: window not full", s, sn.count[s]);
    for (unsigned i = 1; i <= S3_SLEEPERS; i++)
        CHECK(hm_sim_phys_write(W.sim, s3_gpage(i), 0, s3_sig(i)) == HM_OK, "phys_write");
    for (unsigned i = 1; i <= S3_SLEEPERS; i++)
        spawn(s3_sleeper);
    wait_for(s3_all_asleep, "6 sleepers asleep on pkmap_map_wait");

    /* Step 0: H0 3 -> 2. No wake-up, nobody moves. */
    s3_round = 0;
    atomic_store(&s3_cmd, 1);
    wait_for(s3_step_acked, "the holder's 3 -> 2 kunmap");
    sleep_ns(20000000);
    snap(&sn);
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
        wait_for(s3_round_settled, what);
        snap(&sn);
        CHECK(sn.st.wakeups == r + 1, "release %u: wakeups %llu", r, (unsigned long long)sn.st.wakeups);
        CHECK(sn.inv == 0, "release %u: %s", r, sn.msg);
    }
    /* The holder's last references: no waiters, so no wake-up. */
    for (unsigned r = S3_SLEEPERS; r < S3_SLOTS; r++) {
        s3_round = r + 1;
        atomic_store(&s3_cmd, (int)r + 2);
        wait_for(s3_step_acked, "the holder's remaining kunmaps");
    }
    snap(&sn);
    CHECK(sn.st.wakeups == S3_SLEEPERS, "wakeups %llu, want %u", (unsigned long long)sn.st.wakeups, S3_SLEEPERS);

    atomic_store(&s3_release, 1);
    wait_done();
    snap(&sn);
    CHECK(sn.st.sleeps == s3_expected_sleeps(S3_SLEEPERS - 1), "sleeps %llu, want %llu",
          (unsigned long long)sn.st.sleeps, (unsigned long long)s3_expected_sleeps(S3_SLEEPERS - 1));
    CHECK(sn.st.wakeups == S3_SLEEPERS, "wakeups %llu", (unsigned long long)sn.st.wakeups);
    final_checks();
    teardown();
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
    return hi(600 + 7 * k);
}

static uint8_t s4_sig(unsigned k)
{
    return (uint8_t)(0xe0 + k);
}

static void *s4_worker(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct tstate *me = &W.ts[i];
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
            rc = hm_kmap_flush_unused(W.ctx);
            CHECK(rc == HM_OK, "kmap_flush_unused: %s", hm_strerror(rc));
        }
        atomic_store(&me->phase, PH_KMAP);
        rc = hm_kmap(W.ctx, pfn, &va);
        CHECK(rc == HM_OK, "thread %u iteration %d: hm_kmap: %s", i, it, hm_strerror(rc));
        if (rc != HM_OK)
            break;
        atomic_fetch_add(&s4_kmaps, 1);
        if (nested) { /* the page is held: this kmap cannot sleep, and must give the same address */
            rc = hm_kmap(W.ctx, pfn, &va2);
            CHECK(rc == HM_OK && va2 == va, "thread %u: nested kmap: %s, 0x%08x vs 0x%08x", i,
                  hm_strerror(rc), va2, va);
            if (rc == HM_OK)
                atomic_fetch_add(&s4_kmaps, 1);
            else
                nested = 0;
        }
        atomic_store(&me->phase, PH_CHECK);
        rc = hm_sim_load(W.sim, i, va + off, &got);
        CHECK(rc == HM_OK && got == mine[k], "thread %u page %u: own byte 0x%02x, want 0x%02x (rc %s)", i, k,
              got, mine[k], hm_strerror(rc));
        mine[k] = (uint8_t)(it + (int)i * 16);
        check_mapping(i, pfn, va, s4_sig(k), off, mine[k]);
        atomic_store(&me->phase, PH_HOLD);
        if (it % 5 == 0)
            sleep_ns(10000);
        else
            sched_yield();
        atomic_store(&me->phase, PH_KUNMAP);
        if (nested) {
            rc = hm_kunmap(W.ctx, pfn);
            CHECK(rc == HM_OK, "thread %u: nested kunmap: %s", i, hm_strerror(rc));
            atomic_fetch_add(&s4_kunmaps, 1);
        }
        rc = hm_kunmap(W.ctx, pfn);
        CHECK(rc == HM_OK, "thread %u iteration %d: hm_kunmap: %s", i, it, hm_strerror(rc));
        atomic_fetch_add(&s4_kunmaps, 1);
    }
    for (unsigned k = 0; k < S4_PAGES; k++) {
        uint8_t got = 0;
        CHECK(hm_sim_phys_read(W.sim, s4_page(k), off, &got) == HM_OK && got == mine[k],
              "thread %u page %u: final byte 0x%02x, want 0x%02x", i, k, got, mine[k]);
    }
    thread_done(i);
    return NULL;
}

static void scenario_stress(void)
{
    struct snap sn;

    if (setup(S4_THREADS, S4_SLOTS))
        return;
    atomic_store(&s4_kmaps, 0);
    atomic_store(&s4_kunmaps, 0);
    for (unsigned k = 0; k < S4_PAGES; k++)
        CHECK(hm_sim_phys_write(W.sim, s4_page(k), 0, s4_sig(k)) == HM_OK, "phys_write");
    for (unsigned i = 0; i < S4_THREADS; i++)
        spawn(s4_worker);
    wait_done();
    snap(&sn);
    CHECK(sn.st.kmap_calls == atomic_load(&s4_kmaps), "kmap_calls %llu, threads made %llu",
          (unsigned long long)sn.st.kmap_calls, (unsigned long long)atomic_load(&s4_kmaps));
    CHECK(sn.st.kunmap_calls == atomic_load(&s4_kunmaps), "kunmap_calls %llu, threads made %llu",
          (unsigned long long)sn.st.kunmap_calls, (unsigned long long)atomic_load(&s4_kunmaps));
    CHECK(sn.st.kmap_eagain == 0, "kmap_eagain %llu from blocking kmaps", (unsigned long long)sn.st.kmap_eagain);
    for (unsigned k = 0; k < S4_PAGES; k++) {
        uint8_t got = 0;
        CHECK(hm_sim_phys_read(W.sim, s4_page(k), 0, &got) == HM_OK && got == s4_sig(k),
              "page %u lost its signature (0x%02x)", k, got);
    }
    final_checks();
    printf("  kmaps=%llu sleeps=%llu wakeups=%llu flushes=%llu\n", (unsigned long long)sn.st.kmap_calls,
           (unsigned long long)sn.st.sleeps, (unsigned long long)sn.st.wakeups,
           (unsigned long long)sn.st.flushes);
    teardown();
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
    return hi(800 + 2 * i);
}

static hm_pfn_t s5_unmapped(unsigned i)
{
    return hi(900 + 2 * i);
}

static void *s5_worker(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct tstate *me = &W.ts[i];
    hm_vaddr_t va = 0;
    int rc;

    atomic_store(&me->pfn, s5_page(i));
    atomic_store(&me->phase, PH_KMAP);
    rc = hm_kmap(W.ctx, s5_page(i), &va); /* the window has a slot for every thread */
    CHECK(rc == HM_OK, "thread %u: hm_kmap: %s", i, hm_strerror(rc));
    if (rc == HM_OK)
        rc = hm_kunmap(W.ctx, s5_page(i)); /* count 2 -> 1: mapped, unused */
    CHECK(rc == HM_OK, "thread %u: hm_kunmap: %s", i, hm_strerror(rc));
    atomic_store(&me->phase, PH_WAIT);
    wait_flag(&s5_go, 1);
    atomic_store(&me->phase, PH_KUNMAP);
    for (int it = 1; it <= S5_ITERS && rc == HM_OK; it++) {
        atomic_store(&me->iter, it);
        rc = hm_kunmap(W.ctx, s5_unmapped(i)); /* page_address == NULL: BUG */
        CHECK(rc == HM_EINVAL, "thread %u: kunmap of an unmapped page: %s", i, hm_strerror(rc));
        rc = hm_kunmap(W.ctx, s5_page(i)); /* count 1 would reach 0: BUG */
        CHECK(rc == HM_EINVAL, "thread %u: kunmap at count 1: %s", i, hm_strerror(rc));
        rc = HM_OK;
    }
    thread_done(i);
    return NULL;
}

static void scenario_concurrent_bugs(void)
{
    struct snap sn;
    uint64_t want = (uint64_t)S5_THREADS * S5_ITERS;
    struct hm_sim_stats ss;

    if (setup(S5_THREADS, S5_SLOTS))
        return;
    atomic_store(&s5_go, 0);
    atomic_store(&g_bugs_expected, 1);
    for (unsigned i = 0; i < S5_THREADS; i++)
        spawn(s5_worker);
    atomic_store(&s5_go, 1);
    wait_done();
    atomic_store(&g_bugs_expected, 0);

    snap(&sn);
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
        CHECK(hm_page_address(W.ctx, s5_page(i), &va) == HM_OK && in_pkmap_window(va) &&
              sn.count[slot_of(va)] == 1, "thread %u's page: address 0x%08x, count %d", i, va,
              in_pkmap_window(va) ? sn.count[slot_of(va)] : -1);
        va = 1;
        CHECK(hm_page_address(W.ctx, s5_unmapped(i), &va) == HM_OK && va == 0, "unmapped page got 0x%08x", va);
    }
    CHECK(sn.inv == 0, "hm_check_invariants: %s", sn.msg);
    CHECK(sn.nr_waiters == 0, "%u waiters", sn.nr_waiters);
    hm_sim_get_stats(W.sim, &ss);
    CHECK(ss.stale_pte_writes == 0 && ss.stale_tlb_hits == 0 && atomic_load(&W.stale_events) == 0,
          "stale translations: %llu PTE writes, %llu TLB hits", (unsigned long long)ss.stale_pte_writes,
          (unsigned long long)ss.stale_tlb_hits);
    teardown();
}

/* ---------------------------------------------------------------------------------------
 * Runner.
 * ------------------------------------------------------------------------------------- */
static const struct {
    const char *name;
    void (*run)(void);
} scenarios[] = {
    {"more_threads_than_slots", scenario_exhaustion},
    {"same_page_while_full", scenario_same_page},
    {"no_lost_wakeup", scenario_no_lost_wakeup},
    {"stress_shared_pages", scenario_stress},
    {"concurrent_bug_reports", scenario_concurrent_bugs},
};

/* Whether name is one of the comma-separated names in list. */
static int selected(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

int main(void)
{
    pthread_condattr_t ca;
    pthread_t wd;
    const char *only;

    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_mutex_init(&W.mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&W.cv, &ca);
    pthread_condattr_destroy(&ca);
    g_nr_scenarios = (int)(sizeof scenarios / sizeof scenarios[0]);
    if (pthread_create(&wd, NULL, watchdog_fn, NULL) != 0) {
        fprintf(stderr, "cannot start the watchdog\n");
        return 1;
    }
    pthread_detach(wd);

    /* THREADS_TEST_ONLY=name[,name...] runs just those scenarios (debugging) */
    only = getenv("THREADS_TEST_ONLY");
    if (only && *only) {
        g_nr_scenarios = 0;
        for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++)
            g_nr_scenarios += selected(only, scenarios[s].name);
        if (g_nr_scenarios == 0) {
            fprintf(stderr, "THREADS_TEST_ONLY=%s: no such scenario\n", only);
            return 2;
        }
    }
    for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++) {
        int64_t t0 = now_ns();
        if (only && *only && !selected(only, scenarios[s].name))
            continue;
        atomic_store(&g_scenario, scenarios[s].name);
        atomic_store(&g_failures, 0);
        atomic_store(&g_deadline_ns, t0 + (int64_t)DEADLINE_S * 1000000000LL);
        printf("RUN  %s\n", scenarios[s].name);
        scenarios[s].run();
        atomic_store(&g_deadline_ns, 0);
        if (atomic_load(&g_failures) == 0) {
            g_passed++;
            printf("PASS %s (%.1f ms)\n", scenarios[s].name, (double)(now_ns() - t0) / 1e6);
        } else {
            g_failed++;
            printf("FAIL %s (%d failed checks)\n", scenarios[s].name, atomic_load(&g_failures));
        }
    }
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed != 0;
}
