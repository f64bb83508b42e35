/* threadlib.c - the thread-test harness (threadlib.h): checks, deadline and watchdog, workers,
 * timeout diagnostics (phases, what each thread holds or waits for by name, a kmap snapshot taken
 * off the main thread), the machine opened through harness_machine_open, and the case runner.
 * SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "threadlib.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "machine/kmap_wait.h"
#include "sim/sim.h"
#include "testenv.h"

struct tt_world W;

/* ---------------------------------------------------------------------------------------
 * The run's tally.
 * ------------------------------------------------------------------------------------- */
static int g_nr_cases, g_passed, g_failed;

/* The closing line when the run ends early: the cases not reached count as failed. */
static void print_early_summary(void)
{
    fflush(stderr);
    printf("%d passed, %d failed\n", g_passed, g_nr_cases - g_passed);
    fflush(stdout);
}

/* ---------------------------------------------------------------------------------------
 * Time and the deadline.
 * ------------------------------------------------------------------------------------- */
int64_t tt_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void tt_sleep_ns(long ns)
{
    struct timespec t = {ns / 1000000000L, ns % 1000000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static atomic_llong g_deadline_ns; /* monotonic; 0 = no case running */
static int64_t g_deadline_len_ns = (int64_t)TT_DEADLINE_S * 1000000000LL; /* per case */

static int past_deadline(void)
{
    int64_t d = atomic_load(&g_deadline_ns);
    return d != 0 && tt_now_ns() > d;
}

/* ---------------------------------------------------------------------------------------
 * The machine of a case: x86, every BUG and stale translation reported.
 * ------------------------------------------------------------------------------------- */
static void on_event(void *cookie, const struct hm_event *ev)
{
    (void)cookie;
    if (ev->kind == HM_EV_STALE_TLB) {
        unsigned n = atomic_fetch_add(&W.stale_events, 1);
        if (n < 8)
            fprintf(stderr, "[%s] sim: stale translation on cpu %u at 0x%08" PRIx64 " (TLB pfn 0x%" PRIx64 ", pte 0x%llx)\n",
                    tc_case_name(), ev->cpu, ev->a, ev->b, (unsigned long long)ev->pte);
    }
}

static void on_bug(void *cookie, const struct hm_bug_report *r)
{
    (void)cookie;
    atomic_fetch_add(&W.bug_events, 1);
    if (atomic_load(&W.bugs_expected))
        return;
    fprintf(stderr, "[%s] unexpected BUG %s in %s (arg 0x%" PRIx64 ") -> %s\n", tc_case_name(),
            hm_bug_name(r->bug), r->function, r->arg, hm_strerror(r->err));
}

int tt_setup(uint32_t nr_cpus, uint32_t last_pkmap)
{
    struct hm_config cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.arch = hm_arch_find("x86");
    cfg.nr_cpus = nr_cpus;
    cfg.last_pkmap = last_pkmap;
    cfg.kernel = test_env_kernel();
    if (!cfg.arch) {
        CHECK(0, "no x86 backend");
        return -1;
    }
    return tt_setup_config(&cfg, NULL);
}

int tt_setup_config(const struct hm_config *cfg, void (*adapt)(void *cookie, struct hm_machine *hw))
{
    struct harness_hooks hooks = {.on_event = on_event, .on_bug = on_bug, .adapt = adapt};
    char err[160];

    if (harness_machine_open(&W.hm, cfg, &hooks, err, sizeof err) != 0) {
        CHECK(0, "harness_machine_open: %s", err);
        harness_machine_close(&W.hm);
        return -1;
    }
    atomic_store(&W.nthreads, 0);
    W.done = 0;
    atomic_store(&W.stale_events, 0);
    atomic_store(&W.bug_events, 0);
    atomic_store(&W.bugs_expected, 0);
    for (unsigned i = 0; i < TT_MAX_THREADS; i++) {
        atomic_store(&W.ts[i].started, 0);
        atomic_store(&W.ts[i].phase, PH_IDLE);
        atomic_store(&W.ts[i].iter, 0);
        atomic_store(&W.ts[i].pfn, 0);
    }
    return 0;
}

void tt_teardown(void)
{
    harness_machine_close(&W.hm);
}

hm_pfn_t tt_hi(uint32_t k)
{
    return W.hm.layout.highmem_start_pfn + k;
}

hm_vaddr_t tt_slot_addr(uint32_t i)
{
    return W.hm.layout.pkmap_base + (i << W.hm.layout.page_shift);
}

int tt_in_pkmap_window(hm_vaddr_t va)
{
    const struct hm_layout *l = &W.hm.layout;
    return va >= l->pkmap_base && va < tt_slot_addr(l->last_pkmap) && (va & (l->page_size - 1u)) == 0;
}

uint32_t tt_slot_of(hm_vaddr_t va) /* va in the window: a slot number */
{
    return (uint32_t)((va - W.hm.layout.pkmap_base) >> W.hm.layout.page_shift);
}

/* ---------------------------------------------------------------------------------------
 * Snapshots of the kmap state.
 * ------------------------------------------------------------------------------------- */
static void read_snap(struct tt_snap *sn, int with_invariants)
{
    struct hm_ctx *ctx = W.hm.ctx;
    sn->slots = W.hm.layout.last_pkmap < TT_MAX_SLOTS ? W.hm.layout.last_pkmap : TT_MAX_SLOTS;
    for (uint32_t i = 0; i < sn->slots; i++)
        sn->count[i] = hm_pkmap_count(ctx, i);
    sn->nr_waiters = hm_nr_waiters(ctx);
    sn->last_nr = hm_last_pkmap_nr(ctx);
    hm_get_stats(ctx, &sn->st);
    sn->msg[0] = '\0';
    sn->inv = with_invariants ? hm_check_invariants(ctx, sn->msg, sizeof sn->msg) : 0;
}

void tt_snap(struct tt_snap *sn)
{
    W.hm.hw.lock(W.hm.hw.m, HM_LOCK_KMAP);
    read_snap(sn, 1);
    W.hm.hw.unlock(W.hm.hw.m, HM_LOCK_KMAP);
}

static void print_snap(const struct tt_snap *sn)
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
 * Timeouts: print which threads are stuck and the kmap state, then _exit(1).
 * ------------------------------------------------------------------------------------- */
static const char *const phase_names[] = {"not started", "in hm_kmap", "checking mapping",
                                          "holding (waiting for release)", "in hm_kunmap",
                                          "in hm_kmap_flush_unused", "waiting for a command",
                                          "done"};

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

static struct tt_snap g_diag_snap;
static atomic_int g_diag_ok;

static void *diag_fn(void *arg)
{
    (void)arg;
    hm_kmap_wait_thread_name("the diagnostics thread");
    tt_snap(&g_diag_snap);
    atomic_store(&g_diag_ok, 1);
    return NULL;
}

/* What every thread holds, waits for (a lock by name, since when, held by whom) or sleeps on,
 * and the cycles of threads waiting for each other (hm_sim_describe_waits: lock-free, so it
 * cannot hang on what the stuck threads hold). */
static void dump_waits(void)
{
    static char buf[16384];
    size_t len;

    if (!W.hm.sim)
        return;
    len = hm_sim_describe_waits(W.hm.sim, buf, sizeof buf);
    if (len == 0) {
        fprintf(stderr, "  machine locks: none held, none waited for, nobody asleep\n");
        return;
    }
    fprintf(stderr, "  machine locks:\n");
    for (char *line = buf; *line;) {
        char *end = strchr(line, '\n');
        size_t k = end ? (size_t)(end - line) : strlen(line);
        fprintf(stderr, "    %.*s\n", (int)k, line);
        line += k + (end != NULL);
    }
    if (len >= sizeof buf)
        fprintf(stderr, "    (truncated)\n");
}

/* The kmap state of the open machine: taken under kmap_lock from a helper thread, so a lock
 * held by a stuck thread cannot hang the report; unlocked if that does not finish in 2 s. */
static void dump_machine(void)
{
    pthread_t t;
    int64_t until;

    if (!W.hm.ctx)
        return;
    atomic_store(&g_diag_ok, 0);
    if (pthread_create(&t, NULL, diag_fn, NULL) != 0)
        return;
    pthread_detach(t);
    until = tt_now_ns() + 2000000000LL;
    while (!atomic_load(&g_diag_ok) && tt_now_ns() < until)
        tt_sleep_ns(1000000);
    if (atomic_load(&g_diag_ok)) {
        print_snap(&g_diag_snap);
    } else {
        struct tt_snap sn;
        fprintf(stderr, "  kmap_lock could not be taken within 2 s (held by a stuck thread?); "
                        "unlocked read follows\n");
        fflush(stderr);
        read_snap(&sn, 0);
        print_snap(&sn);
    }
}

_Noreturn void tt_stuck(const char *what)
{
    fprintf(stderr, "\n[%s] TIMEOUT (%.1f s) waiting for: %s\n", tc_case_name(),
            (double)g_deadline_len_ns / 1e9, what);
    dump_threads();
    dump_waits();
    dump_machine();
    print_early_summary();
    _exit(1);
}

/* The watchdog: only fires if the main thread itself cannot reach its own timed waits. */
static void *watchdog_fn(void *arg)
{
    (void)arg;
    for (;;) {
        int64_t d = atomic_load(&g_deadline_ns);
        if (d != 0 && tt_now_ns() > d + (int64_t)TT_WATCHDOG_GRACE_S * 1000000000LL) {
            fprintf(stderr, "\n[%s] WATCHDOG: the main thread is blocked past the deadline\n",
                    tc_case_name());
            dump_threads();
            dump_waits();
            print_early_summary();
            _exit(1);
        }
        tt_sleep_ns(100000000);
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Waiting, workers.
 * ------------------------------------------------------------------------------------- */
void tt_wait_for(int (*pred)(void), const char *what)
{
    while (!pred()) {
        if (past_deadline())
            tt_stuck(what);
        tt_sleep_ns(200000);
    }
}

int tt_wait_flag(atomic_int *flag, int value)
{
    while (atomic_load(flag) < value) {
        int64_t d = atomic_load(&g_deadline_ns);
        if (d != 0 && tt_now_ns() > d + 3LL * TT_WATCHDOG_GRACE_S * 1000000000LL)
            return 0;
        tt_sleep_ns(100000);
    }
    return 1;
}

/* Worker i's start: named "thread i" in the lock checker's reports, then fn((void *)i). */
static struct {
    void *(*fn)(void *);
    char name[16];
} g_start[TT_MAX_THREADS];

static void *worker_start(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    hm_kmap_wait_thread_name(g_start[i].name);
    return g_start[i].fn(arg);
}

void tt_spawn(void *(*fn)(void *))
{
    unsigned i = atomic_load(&W.nthreads);
    if (i < TT_MAX_THREADS) {
        g_start[i].fn = fn;
        snprintf(g_start[i].name, sizeof g_start[i].name, "thread %u", i);
    }
    if (i >= TT_MAX_THREADS || pthread_create(&W.tid[i], NULL, worker_start, (void *)(uintptr_t)i) != 0) {
        CHECK(0, "cannot start thread %u", i);
        tt_stuck("thread creation");
    }
    atomic_store(&W.ts[i].started, 1);
    atomic_store(&W.nthreads, i + 1);
}

void tt_thread_done(unsigned i)
{
    atomic_store(&W.ts[i].phase, PH_DONE);
    pthread_mutex_lock(&W.mu);
    W.done++;
    pthread_cond_broadcast(&W.cv);
    pthread_mutex_unlock(&W.mu);
}

void tt_wait_done(void)
{
    unsigned n = atomic_load(&W.nthreads);
    int64_t d = atomic_load(&g_deadline_ns);
    struct timespec ts = {(time_t)(d / 1000000000LL), (long)(d % 1000000000LL)};

    pthread_mutex_lock(&W.mu);
    while (W.done < n) {
        int rc = pthread_cond_timedwait(&W.cv, &W.mu, &ts);
        if (rc == ETIMEDOUT && W.done < n) {
            pthread_mutex_unlock(&W.mu);
            tt_stuck("every thread to finish");
        }
    }
    pthread_mutex_unlock(&W.mu);
    for (unsigned i = 0; i < n; i++)
        pthread_join(W.tid[i], NULL);
}

/* ---------------------------------------------------------------------------------------
 * Checks shared by the cases.
 * ------------------------------------------------------------------------------------- */
void tt_check_mapping(uint32_t cpu, hm_pfn_t pfn, hm_vaddr_t va, uint8_t sig, uint32_t off,
                      uint8_t val)
{
    struct hm_sim *sim = W.hm.sim;
    uint8_t got = 0;
    int rc;

    CHECK(tt_in_pkmap_window(va), "cpu %u pfn 0x%x: address 0x%08" PRIx64 " outside the pkmap window", cpu,
          pfn, va);
    rc = hm_sim_load(sim, cpu, va, &got);
    CHECK(rc == HM_OK && got == sig, "cpu %u pfn 0x%x at 0x%08" PRIx64 ": load rc %s, signature 0x%02x, want 0x%02x",
          cpu, pfn, va, hm_strerror(rc), got, sig);
    rc = hm_sim_store(sim, cpu, va + off, val);
    CHECK(rc == HM_OK, "cpu %u: store at 0x%08" PRIx64 ": %s", cpu, va + off, hm_strerror(rc));
    got = 0;
    rc = hm_sim_load(sim, cpu, va + off, &got);
    CHECK(rc == HM_OK && got == val, "cpu %u: load back at 0x%08" PRIx64 ": rc %s, 0x%02x want 0x%02x", cpu,
          va + off, hm_strerror(rc), got, val);
    got = 0;
    rc = hm_sim_phys_read(sim, pfn, off, &got);
    CHECK(rc == HM_OK && got == val, "cpu %u: the store through 0x%08" PRIx64 " did not reach pfn 0x%x offset %u "
          "(0x%02x, want 0x%02x)", cpu, va, pfn, off, got, val);
}

void tt_final_checks(void)
{
    struct tt_snap sn;
    struct hm_sim_stats ss;

    tt_snap(&sn);
    CHECK(sn.inv == 0, "hm_check_invariants: %s", sn.msg);
    for (uint32_t i = 0; i < sn.slots; i++)
        CHECK(sn.count[i] == 0 || sn.count[i] == 1, "slot %u ends with count %d", i, sn.count[i]);
    CHECK(sn.nr_waiters == 0, "%u waiters left", sn.nr_waiters);
    CHECK(sn.st.bugs == 0 && atomic_load(&W.bug_events) == 0, "%llu BUGs", (unsigned long long)sn.st.bugs);
    hm_sim_get_stats(W.hm.sim, &ss);
    CHECK(ss.stale_pte_writes == 0, "%llu stale PTE writes", (unsigned long long)ss.stale_pte_writes);
    CHECK(ss.stale_tlb_hits == 0, "%llu stale TLB hits", (unsigned long long)ss.stale_tlb_hits);
    CHECK(atomic_load(&W.stale_events) == 0, "%u stale-translation events", atomic_load(&W.stale_events));
    if (tc_failures())
        print_snap(&sn);
}

/* ---------------------------------------------------------------------------------------
 * The runner.
 * ------------------------------------------------------------------------------------- */

int tt_main(const struct tt_case *cases, size_t n, const char *only_env)
{
    pthread_condattr_t ca;
    pthread_t wd;
    const char *only = only_env ? getenv(only_env) : NULL;
    const char *deadline_ms = getenv("TT_DEADLINE_MS");

    setvbuf(stdout, NULL, _IOLBF, 0);
    hm_kmap_wait_thread_name("the main thread");
    if (deadline_ms && atol(deadline_ms) > 0)
        g_deadline_len_ns = (int64_t)atol(deadline_ms) * 1000000LL;
    pthread_mutex_init(&W.mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&W.cv, &ca);
    pthread_condattr_destroy(&ca);
    g_nr_cases = (int)n;
    if (only && *only) {
        g_nr_cases = 0;
        for (size_t c = 0; c < n; c++)
            g_nr_cases += tc_selected(only, cases[c].name);
        if (g_nr_cases == 0) {
            fprintf(stderr, "%s=%s: no such case\n", only_env, only);
            return 2;
        }
    }
    if (pthread_create(&wd, NULL, watchdog_fn, NULL) != 0) {
        fprintf(stderr, "cannot start the watchdog\n");
        return 1;
    }
    pthread_detach(wd);

    for (size_t c = 0; c < n; c++) {
        int64_t t0 = tt_now_ns();
        if (only && *only && !tc_selected(only, cases[c].name))
            continue;
        tc_case_begin(cases[c].name);
        atomic_store(&g_deadline_ns, t0 + g_deadline_len_ns);
        printf("RUN  %s\n", cases[c].name);
        cases[c].run(cases[c].arg);
        atomic_store(&g_deadline_ns, 0);
        if (tc_failures() == 0) {
            g_passed++;
            printf("PASS %s (%.1f ms)\n", cases[c].name, (double)(tt_now_ns() - t0) / 1e6);
        } else {
            g_failed++;
            printf("FAIL %s (%d failed checks)\n", cases[c].name, tc_failures());
        }
    }
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed != 0;
}
