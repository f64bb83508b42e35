/* lock_check_test.c - the lock checker of the hosted machines (machine/kmap_wait.h) through the
 * sim's hooks: inversions, recursion, unlocks not held and bad sleeps reported by name; blocked
 * and sleeping threads described; a deadlock and a sleeper nobody wakes named by the threadlib
 * timeout report (in a re-executed child); the library's own locking reports nothing; the host's
 * checker off by default, on when asked. Plain program (threads; runs under TSan). MIT. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "highmem.h"
#include "host/host.h"
#include "machine/kmap_wait.h"
#include "sim/sim.h"
#include "threadlib.h"

extern char **environ;

/* The cases take lock-order inversions on purpose, which TSan's own deadlock detector would
 * end the process at; the checker under test is what must see them here. Races stay on. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "detect_deadlocks=0";
}

/* ---------------------------------------------------------------------------------------
 * The reports, recorded (the callback may run on any thread).
 * ------------------------------------------------------------------------------------- */
#define MAX_REPORTS 16

static struct {
    pthread_mutex_t mu;
    int n;
    struct hm_lock_error e[MAX_REPORTS];
    char msg[MAX_REPORTS][320];
    char thread[MAX_REPORTS][32];
} R = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void record(void *cookie, const struct hm_lock_error *e)
{
    (void)cookie;
    pthread_mutex_lock(&R.mu);
    if (R.n < MAX_REPORTS) {
        R.e[R.n] = *e;
        snprintf(R.msg[R.n], sizeof R.msg[R.n], "%s", e->msg);
        snprintf(R.thread[R.n], sizeof R.thread[R.n], "%s", e->thread ? e->thread : "");
        R.e[R.n].msg = R.msg[R.n];
        R.e[R.n].thread = R.thread[R.n];
    }
    R.n++;
    pthread_mutex_unlock(&R.mu);
}

static int reports(void)
{
    pthread_mutex_lock(&R.mu);
    int n = R.n;
    pthread_mutex_unlock(&R.mu);
    return n;
}

static void reports_clear(void)
{
    pthread_mutex_lock(&R.mu);
    R.n = 0;
    pthread_mutex_unlock(&R.mu);
}

/* Report i is of kind, with exactly the message msg. */
static void expect_report(int i, int kind, const char *msg)
{
    pthread_mutex_lock(&R.mu);
    CHECK(R.n > i, "report %d expected (\"%s\"), %d made", i, msg, R.n);
    if (R.n > i) {
        CHECK(R.e[i].kind == kind, "report %d: kind %d, want %d (%s)", i, R.e[i].kind, kind, R.msg[i]);
        CHECK(strcmp(R.msg[i], msg) == 0, "report %d:\n  got  \"%s\"\n  want \"%s\"", i, R.msg[i], msg);
    }
    pthread_mutex_unlock(&R.mu);
}

/* Open W's machine (x86, 1 CPU, 16 slots) with the reports recorded. */
static int setup(void)
{
    if (tt_setup(1, 16) != 0)
        return -1;
    reports_clear();
    hm_sim_on_lock_error(W.hm.sim, record, NULL);
    return 0;
}

static void lk(unsigned id)
{
    W.hm.hw.lock(W.hm.hw.m, id);
}

static void ul(unsigned id)
{
    W.hm.hw.unlock(W.hm.hw.m, id);
}

#define BUCKET(b) (HM_LOCK_BUCKET0 + (b))

static char g_desc[16384];

static const char *describe(void)
{
    hm_sim_describe_waits(W.hm.sim, g_desc, sizeof g_desc);
    return g_desc;
}

/* ---------------------------------------------------------------------------------------
 * Reports by name.
 * ------------------------------------------------------------------------------------- */
static void case_inversion_named(const void *arg)
{
    (void)arg;
    if (setup() != 0)
        return;
    /* learned: bucket inside pool */
    lk(HM_LOCK_POOL);
    lk(BUCKET(5));
    ul(BUCKET(5));
    ul(HM_LOCK_POOL);
    CHECK(reports() == 0, "a first nesting is learned, not reported (%d reports)", reports());
    /* the reverse, by another bucket of the class too */
    lk(BUCKET(5));
    lk(HM_LOCK_POOL);
    expect_report(0, HM_LOCK_ERR_INVERSION, "lock order inversion: pool_lock taken while holding "
                  "bucket[5]; earlier bucket[5] was taken while holding pool_lock");
    CHECK(R.e[0].id == HM_LOCK_POOL && R.e[0].other == BUCKET(5) && R.e[0].earlier_id == BUCKET(5) &&
          R.e[0].earlier_other == HM_LOCK_POOL, "report ids %u %u %u %u", R.e[0].id, R.e[0].other,
          R.e[0].earlier_id, R.e[0].earlier_other);
    CHECK(strcmp(R.thread[0], "the main thread") == 0, "reported by \"%s\"", R.thread[0]);
    /* the callback returned: the lock was taken as asked, and is held */
    CHECK(strstr(describe(), "the main thread: holds bucket[5], pool_lock\n") != NULL, "describe: %s",
          g_desc);
    ul(HM_LOCK_POOL);
    ul(BUCKET(5));
    lk(BUCKET(9));
    lk(HM_LOCK_POOL);
    ul(HM_LOCK_POOL);
    ul(BUCKET(9));
    expect_report(1, HM_LOCK_ERR_INVERSION, "lock order inversion: pool_lock taken while holding "
                  "bucket[9]; earlier bucket[5] was taken while holding pool_lock");
    CHECK(reports() == 2, "%d reports, want 2", reports());
    CHECK(describe()[0] == '\0', "nothing held at the end, describe says: %s", g_desc);
    tt_teardown();
}

/* kmap_lock -> pool and kmap_lock -> bucket are known before they are ever seen. */
static void case_documented_order(const void *arg)
{
    (void)arg;
    if (setup() != 0)
        return;
    lk(HM_LOCK_KMAP);
    lk(HM_LOCK_POOL);
    ul(HM_LOCK_POOL);
    lk(BUCKET(3));
    ul(BUCKET(3));
    ul(HM_LOCK_KMAP);
    CHECK(reports() == 0, "the documented order reported (%d)", reports());
    lk(BUCKET(3));
    lk(HM_LOCK_KMAP);
    ul(HM_LOCK_KMAP);
    ul(BUCKET(3));
    expect_report(0, HM_LOCK_ERR_INVERSION, "lock order inversion: kmap_lock taken while holding "
                  "bucket[3]; the documented order takes bucket locks inside kmap_lock");
    CHECK(R.e[0].earlier_id == HM_NR_LOCKS && R.e[0].earlier_other == HM_NR_LOCKS,
          "documented witness ids %u %u", R.e[0].earlier_id, R.e[0].earlier_other);
    /* the reverse is taken even on a fresh machine, where nothing was learned */
    tt_teardown();
    if (setup() != 0)
        return;
    lk(HM_LOCK_POOL);
    lk(HM_LOCK_KMAP);
    ul(HM_LOCK_KMAP);
    ul(HM_LOCK_POOL);
    expect_report(0, HM_LOCK_ERR_INVERSION, "lock order inversion: kmap_lock taken while holding "
                  "pool_lock; the documented order takes pool_lock inside kmap_lock");
    CHECK(reports() == 1, "%d reports, want 1", reports());
    tt_teardown();
}

static void case_recursion(const void *arg)
{
    struct hm_sim_stats a, b;
    (void)arg;
    if (setup() != 0)
        return;
    hm_sim_get_stats(W.hm.sim, &a);
    lk(HM_LOCK_KMAP);
    lk(HM_LOCK_KMAP); /* a plain mutex would hang here */
    expect_report(0, HM_LOCK_ERR_RECURSION,
                  "recursive locking: kmap_lock taken while this thread already holds it");
    hm_sim_get_stats(W.hm.sim, &b);
    CHECK(b.lock_acquires - a.lock_acquires == 1, "%llu acquisitions counted, want 1",
          (unsigned long long)(b.lock_acquires - a.lock_acquires));
    W.hm.hw.wake_all(W.hm.hw.m); /* takes kmap_lock itself */
    expect_report(1, HM_LOCK_ERR_RECURSION, "recursive locking: wake_all called while holding "
                  "kmap_lock (it takes kmap_lock itself and is called without locks)");
    ul(HM_LOCK_KMAP);
    CHECK(describe()[0] == '\0', "one unlock released the one acquisition: %s", g_desc);
    /* two locks of the bucket class */
    lk(BUCKET(5));
    lk(BUCKET(7));
    expect_report(2, HM_LOCK_ERR_SAME_CLASS, "nested locks of one class: bucket[7] taken while "
                  "holding bucket[5] (never two bucket locks at once)");
    ul(BUCKET(5)); /* out of order is no error */
    ul(BUCKET(7));
    lk(HM_LOCK_KMAP);
    ul(HM_LOCK_KMAP);
    CHECK(reports() == 3, "%d reports, want 3", reports());
    tt_teardown();
}

static atomic_int g_step;

/* Worker: releases kmap_lock, which the main thread holds. */
static void *foreign_unlock(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    atomic_store(&W.ts[i].phase, PH_KUNMAP);
    ul(HM_LOCK_KMAP);
    tt_thread_done(i);
    return NULL;
}

static void case_unlock_not_held(const void *arg)
{
    (void)arg;
    if (setup() != 0)
        return;
    ul(HM_LOCK_POOL);
    expect_report(0, HM_LOCK_ERR_NOT_HELD,
                  "unlock of a lock not held: pool_lock released by a thread that does not hold it");
    lk(HM_LOCK_POOL); /* the mutex was left alone: it still works */
    ul(HM_LOCK_POOL);
    CHECK(reports() == 1, "%d reports, want 1", reports());

    lk(HM_LOCK_KMAP);
    tt_spawn(foreign_unlock);
    tt_wait_done();
    expect_report(1, HM_LOCK_ERR_NOT_HELD,
                  "unlock of a lock not held: kmap_lock released by a thread that does not hold it");
    CHECK(strcmp(R.thread[1], "thread 0") == 0, "reported by \"%s\"", R.thread[1]);
    CHECK(strcmp(describe(), "the main thread: holds kmap_lock\n") == 0, "describe: %s", g_desc);
    ul(HM_LOCK_KMAP);
    CHECK(reports() == 2, "%d reports, want 2", reports());
    tt_teardown();
}

static void case_sleep_errors(const void *arg)
{
    (void)arg;
    if (setup() != 0)
        return;
    W.hm.hw.sleep(W.hm.hw.m); /* returns at once: nobody will ever wake it */
    expect_report(0, HM_LOCK_ERR_SLEEP_UNLOCKED, "sleep without kmap_lock: pkmap_map_wait entered "
                  "by a thread that does not hold kmap_lock");
    lk(HM_LOCK_POOL);
    W.hm.hw.sleep(W.hm.hw.m);
    expect_report(1, HM_LOCK_ERR_SLEEP_UNLOCKED, "sleep without kmap_lock: pkmap_map_wait entered "
                  "by a thread that does not hold kmap_lock");
    ul(HM_LOCK_POOL);
    lk(HM_LOCK_KMAP);
    lk(BUCKET(4));
    W.hm.hw.sleep(W.hm.hw.m);
    expect_report(2, HM_LOCK_ERR_SLEEP_HOLDING, "sleep while holding bucket[4]: pkmap_map_wait "
                  "must be entered holding kmap_lock and nothing else");
    CHECK(R.e[2].other == BUCKET(4), "other %u", R.e[2].other);
    ul(BUCKET(4));
    ul(HM_LOCK_KMAP);
    CHECK(reports() == 3, "%d reports, want 3", reports());
    tt_teardown();
}

/* One thread holding the locks of two machines at once: each machine tracks its own. */
static void case_two_machines(const void *arg)
{
    struct hm_machine m2;
    char d2[512];
    (void)arg;
    if (setup() != 0)
        return;
    struct hm_sim *s2 = hm_sim_new(&W.hm.layout, hm_arch_find("x86"), NULL, NULL);
    CHECK(s2 != NULL, "hm_sim_new");
    if (!s2) {
        tt_teardown();
        return;
    }
    hm_sim_on_lock_error(s2, record, NULL);
    hm_sim_machine(s2, &m2);
    lk(HM_LOCK_KMAP);
    m2.lock(m2.m, HM_LOCK_POOL);
    m2.lock(m2.m, BUCKET(1)); /* learned in s2 only */
    lk(BUCKET(1));            /* kmap_lock -> bucket in W's machine: no report */
    hm_sim_describe_waits(s2, d2, sizeof d2);
    CHECK(strcmp(d2, "the main thread: holds pool_lock, bucket[1]\n") == 0, "second machine: %s", d2);
    CHECK(strcmp(describe(), "the main thread: holds kmap_lock, bucket[1]\n") == 0, "first: %s", g_desc);
    ul(BUCKET(1));
    ul(HM_LOCK_KMAP);
    m2.unlock(m2.m, BUCKET(1));
    CHECK(describe()[0] == '\0', "first machine, all released: %s", g_desc);
    hm_sim_describe_waits(s2, d2, sizeof d2);
    CHECK(strcmp(d2, "the main thread: holds pool_lock\n") == 0, "second machine: %s", d2);
    m2.unlock(m2.m, HM_LOCK_POOL);
    /* the order learned in s2 is s2's: the reverse in W's machine is a first sighting there */
    lk(BUCKET(1));
    lk(HM_LOCK_POOL);
    ul(HM_LOCK_POOL);
    ul(BUCKET(1));
    CHECK(reports() == 0, "%d reports, the first: %s", reports(), reports() ? R.msg[0] : "");
    m2.lock(m2.m, BUCKET(1));
    m2.lock(m2.m, HM_LOCK_POOL);
    m2.unlock(m2.m, HM_LOCK_POOL);
    m2.unlock(m2.m, BUCKET(1));
    expect_report(0, HM_LOCK_ERR_INVERSION, "lock order inversion: pool_lock taken while holding "
                  "bucket[1]; earlier bucket[1] was taken while holding pool_lock");
    hm_sim_describe_waits(s2, d2, sizeof d2);
    CHECK(d2[0] == '\0', "second machine, all released: %s", d2);
    hm_sim_free(s2);
    tt_teardown();
}

/* ---------------------------------------------------------------------------------------
 * What a blocked or sleeping thread waits for.
 * ------------------------------------------------------------------------------------- */
static unsigned g_want; /* the lock the waiter takes (after kmap_lock when g_with_kmap) */
static int g_with_kmap;

static void *waiter(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    atomic_store(&W.ts[i].phase, PH_KMAP);
    if (g_with_kmap)
        lk(HM_LOCK_KMAP);
    lk(g_want);
    ul(g_want);
    if (g_with_kmap)
        ul(HM_LOCK_KMAP);
    tt_thread_done(i);
    return NULL;
}

static const char *g_needle;

static int desc_has_needle(void)
{
    return strstr(describe(), g_needle) != NULL;
}

/* The main thread holds `id`; a worker blocks on it and is described by name. */
static void blocked_on(unsigned id, int with_kmap, const char *waiting, const char *holding)
{
    g_want = id;
    g_with_kmap = with_kmap;
    lk(id);
    tt_spawn(waiter);
    g_needle = waiting;
    tt_wait_for(desc_has_needle, waiting);
    tt_sleep_ns(20 * 1000000L);
    describe();
    CHECK(strstr(g_desc, holding) != NULL, "want \"%s\" in:\n%s", holding, g_desc);
    CHECK(strstr(g_desc, "the main thread: holds ") != NULL, "the holder described: %s", g_desc);
    CHECK(strstr(g_desc, "deadlock") == NULL, "no cycle here: %s", g_desc);
    ul(id);
    tt_wait_done();
    CHECK(describe()[0] == '\0', "nothing held or waited for at the end: %s", g_desc);
}

static void case_describe_blocked(const void *arg)
{
    (void)arg;
    if (setup() != 0)
        return;
    CHECK(describe()[0] == '\0', "an idle machine describes nothing: %s", g_desc);
    blocked_on(HM_LOCK_KMAP, 0, "thread 0: waiting for kmap_lock for ",
               " ms (held by the main thread)\n");
    tt_teardown();
    if (setup() != 0)
        return;
    blocked_on(BUCKET(9), 1, "thread 0: waiting for bucket[9] for ",
               " ms (held by the main thread); holds kmap_lock\n");
    CHECK(reports() == 0, "%d reports", reports());
    tt_teardown();
}

static void *sleeper(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    atomic_store(&W.ts[i].phase, PH_WAIT);
    lk(HM_LOCK_KMAP);
    W.hm.hw.sleep(W.hm.hw.m);
    ul(HM_LOCK_KMAP);
    tt_thread_done(i);
    return NULL;
}

static void case_describe_sleeping(const void *arg)
{
    (void)arg;
    if (setup() != 0)
        return;
    tt_spawn(sleeper);
    g_needle = "thread 0: sleeping on pkmap_map_wait for ";
    tt_wait_for(desc_has_needle, "the sleeper described");
    CHECK(strstr(g_desc, " ms (kmap_lock released while asleep)\n") != NULL, "%s", g_desc);
    CHECK(strstr(g_desc, "holds") == NULL, "a sleeper holds nothing: %s", g_desc);
    /* kmap_lock is free while it sleeps: another thread takes it undescribed as blocked */
    lk(HM_LOCK_KMAP);
    CHECK(strstr(describe(), "the main thread: holds kmap_lock\n") != NULL, "%s", g_desc);
    ul(HM_LOCK_KMAP);
    W.hm.hw.wake_all(W.hm.hw.m);
    tt_wait_done();
    CHECK(describe()[0] == '\0', "%s", g_desc);
    CHECK(reports() == 0, "%d reports", reports());
    tt_teardown();
}

/* ---------------------------------------------------------------------------------------
 * The library's own locking: nothing to report.
 * ------------------------------------------------------------------------------------- */
#define LIB_THREADS 6u
#define LIB_ITERS 150

static void *lib_worker(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct hm_ctx *ctx = W.hm.ctx;
    for (int it = 0; it < LIB_ITERS; it++) {
        hm_pfn_t pfn = tt_hi(1 + i * 3u + (unsigned)it % 3u);
        hm_vaddr_t va = 0, va2 = 0;
        int rc;
        atomic_store(&W.ts[i].iter, it);
        atomic_store(&W.ts[i].pfn, pfn);
        atomic_store(&W.ts[i].phase, PH_KMAP);
        rc = it % 4 == 1 ? hm_kmap_try(ctx, pfn, &va) : hm_kmap(ctx, pfn, &va);
        CHECK(rc == HM_OK || (it % 4 == 1 && rc == HM_EAGAIN), "thread %u: kmap: %s", i, hm_strerror(rc));
        if (rc == HM_OK) {
            CHECK(hm_page_address(ctx, pfn, &va2) == HM_OK && va2 == va, "page_address");
            atomic_store(&W.ts[i].phase, PH_KUNMAP);
            CHECK(hm_kunmap(ctx, pfn) == HM_OK, "thread %u: kunmap", i);
        }
        if (it % 16 == 5) {
            atomic_store(&W.ts[i].phase, PH_FLUSH);
            CHECK(hm_kmap_flush_unused(ctx) == HM_OK, "flush_unused");
        }
    }
    tt_thread_done(i);
    return NULL;
}

static void case_library_reports_nothing(const void *arg)
{
    struct tt_snap sn;
    (void)arg;
    if (tt_setup(1, 4) != 0) /* 4 slots, 6 threads: kmaps sleep */
        return;
    reports_clear();
    hm_sim_on_lock_error(W.hm.sim, record, NULL);
    for (unsigned i = 0; i < LIB_THREADS; i++)
        tt_spawn(lib_worker);
    tt_wait_done();
    tt_snap(&sn);
    CHECK(sn.st.kmap_calls > 0, "no kmap ran");
    CHECK(reports() == 0, "%d reports, the first: %s", reports(), reports() ? R.msg[0] : "");
    CHECK(describe()[0] == '\0', "something left held: %s", g_desc);
    tt_final_checks();
    tt_teardown();
}

/* ---------------------------------------------------------------------------------------
 * The timeout report names a deadlock and a sleeper nobody wakes (children of this program,
 * run with LOCK_CHECK_CHILD=deadlock|asleep and a 1 s deadline: they end in tt_stuck).
 * ------------------------------------------------------------------------------------- */
static void print_report(void *cookie, const struct hm_lock_error *e)
{
    (void)cookie;
    fprintf(stderr, "lock checker (%s): %s\n", e->thread ? e->thread : "?", e->msg);
}

static int thread0_waits_for_bucket5(void)
{
    return strstr(describe(), "thread 0: waiting for bucket[5]") != NULL;
}

static void *abba(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    atomic_store(&W.ts[i].phase, PH_KMAP);
    if (i == 0) {
        lk(HM_LOCK_POOL);
        atomic_fetch_add(&g_step, 1);
        tt_wait_flag(&g_step, 2);
        lk(BUCKET(5)); /* learns pool -> bucket, then blocks: thread 1 holds bucket[5] */
    } else {
        lk(BUCKET(5));
        tt_wait_flag(&g_step, 1);
        atomic_fetch_add(&g_step, 1);
        while (!thread0_waits_for_bucket5())
            tt_sleep_ns(100000);
        lk(HM_LOCK_POOL); /* reported, then blocks: thread 0 holds pool_lock */
    }
    tt_thread_done(i);
    return NULL;
}

static void child_deadlock(const void *arg)
{
    (void)arg;
    if (tt_setup(1, 16) != 0)
        return;
    hm_sim_on_lock_error(W.hm.sim, print_report, NULL);
    atomic_store(&g_step, 0);
    tt_spawn(abba);
    tt_spawn(abba);
    tt_wait_done(); /* never: tt_stuck reports at the deadline */
}

static atomic_int g_holding;

static void *holder(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    hm_pfn_t pfn = tt_hi(10 + i);
    hm_vaddr_t va;
    atomic_store(&W.ts[i].pfn, pfn);
    atomic_store(&W.ts[i].phase, PH_KMAP);
    if (hm_kmap(W.hm.ctx, pfn, &va) == HM_OK) {
        atomic_fetch_add(&g_holding, 1);
        atomic_store(&W.ts[i].phase, PH_HOLD);
        tt_wait_flag(&g_step, 1); /* never set: the slots are never given back */
    }
    tt_thread_done(i);
    return NULL;
}

static int two_holding(void)
{
    return atomic_load(&g_holding) == 2;
}

static void child_asleep(const void *arg)
{
    (void)arg;
    if (tt_setup(1, 2) != 0) /* 2 slots: slot 0 is skipped until the first wrap */
        return;
    atomic_store(&g_step, 0);
    tt_spawn(holder);
    tt_spawn(holder);
    tt_wait_for(two_holding, "two pages held");
    tt_spawn(holder); /* no free slot: sleeps on pkmap_map_wait */
    tt_wait_done();
}

/* Run this program again as child `which`; its output (stdout and stderr) into out. Returns
 * its wait status, or -1. */
static int run_child(const char *which, char *out, size_t n)
{
    char env_child[64], env_deadline[] = "TT_DEADLINE_MS=1000";
    char path[4096];
    char **envp;
    size_t ne = 0, k = 0, len = 0;
    posix_spawn_file_actions_t fa;
    int fds[2], st = -1;
    pid_t pid;
    ssize_t r;

    ssize_t pl = readlink("/proc/self/exe", path, sizeof path - 1);
    if (pl <= 0)
        return -1;
    path[pl] = '\0';
    snprintf(env_child, sizeof env_child, "LOCK_CHECK_CHILD=%s", which);
    while (environ[ne])
        ne++;
    envp = calloc(ne + 3, sizeof *envp);
    if (!envp)
        return -1;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "LOCK_CHECK_", 11) != 0 && strncmp(environ[i], "TT_DEADLINE_MS=", 15) != 0)
            envp[k++] = environ[i];
    envp[k++] = env_child;
    envp[k++] = env_deadline;
    if (pipe(fds) != 0) {
        free(envp);
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {path, NULL};
    fflush(NULL);
    int err = posix_spawn(&pid, path, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        return -1;
    }
    for (;;) { /* to the end, so the child never blocks on a full pipe; what fits is kept */
        char sink[4096];
        int full = len >= n - 1;
        r = read(fds[0], full ? sink : out + len, full ? sizeof sink : n - 1 - len);
        if (r > 0 && !full)
            len += (size_t)r;
        else if (r == 0 || (r < 0 && errno != EINTR))
            break;
    }
    out[len] = '\0';
    close(fds[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return st;
}

static void expect_in(const char *out, const char *s)
{
    CHECK(strstr(out, s) != NULL, "child output lacks \"%s\"", s);
}

static void case_timeout_names_deadlock(const void *arg)
{
    static char out[65536];
    (void)arg;
    int64_t t0 = tt_now_ns();
    int st = run_child("deadlock", out, sizeof out);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "child status 0x%x (want exit 1)", st);
    expect_in(out, "lock checker (thread 1): lock order inversion: pool_lock taken while holding "
                   "bucket[5]; earlier bucket[5] was taken while holding pool_lock\n");
    expect_in(out, "TIMEOUT (1.0 s) waiting for: every thread to finish");
    expect_in(out, "  machine locks:\n");
    expect_in(out, "    thread 0: waiting for bucket[5] for ");
    expect_in(out, " ms (held by thread 1); holds pool_lock\n");
    expect_in(out, "    thread 1: waiting for pool_lock for ");
    expect_in(out, " ms (held by thread 0); holds bucket[5]\n");
    /* (the cycle starts from the thread that blocked first: thread 1 waits for that) */
    expect_in(out, "    deadlock: thread 0 waits for bucket[5] held by thread 1, which waits for "
                   "pool_lock held by thread 0\n");
    CHECK(tt_now_ns() - t0 < 20000000000LL, "the child took %.1f s", (double)(tt_now_ns() - t0) / 1e9);
    if (tc_failures())
        fprintf(stderr, "--- child output ---\n%s--- end ---\n", out);
}

static void case_timeout_names_sleeper(const void *arg)
{
    static char out[65536];
    (void)arg;
    int st = run_child("asleep", out, sizeof out);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "child status 0x%x (want exit 1)", st);
    expect_in(out, "TIMEOUT (1.0 s) waiting for: every thread to finish");
    expect_in(out, "    thread 2: sleeping on pkmap_map_wait for ");
    expect_in(out, " ms (kmap_lock released while asleep)\n");
    expect_in(out, "nr_waiters=1");
    CHECK(strstr(out, "lock checker") == NULL, "the library's locking was reported");
    CHECK(strstr(out, "deadlock") == NULL, "a sleeper is no lock cycle");
    if (tc_failures())
        fprintf(stderr, "--- child output ---\n%s--- end ---\n", out);
}

/* ---------------------------------------------------------------------------------------
 * The host: the checker is off unless asked for.
 * ------------------------------------------------------------------------------------- */
static void host_inversion(struct hm_host *h)
{
    struct hm_machine m;
    hm_host_machine(h, &m);
    m.lock(m.m, HM_LOCK_POOL);
    m.lock(m.m, BUCKET(2));
    m.unlock(m.m, BUCKET(2));
    m.unlock(m.m, HM_LOCK_POOL);
    m.lock(m.m, BUCKET(2));
    m.lock(m.m, HM_LOCK_POOL);
    m.unlock(m.m, HM_LOCK_POOL);
    m.unlock(m.m, BUCKET(2));
}

static void case_host_optional(const void *arg)
{
    struct hm_host_config hc;
    struct hm_host *h = NULL;
    long ps = sysconf(_SC_PAGESIZE);
    (void)arg;
    memset(&hc, 0, sizeof hc);
    hc.fd = -1;
    hc.mem_size = (uint64_t)ps * 64u;
    hc.last_pkmap = 4;
    reports_clear();

    int err = hm_host_open(&hc, &h);
    CHECK(err == 0, "hm_host_open: %s", hm_window_strerror(err));
    if (err)
        return;
    host_inversion(h); /* off: unchecked */
    CHECK(reports() == 0, "the host checked without being asked (%d reports)", reports());
    CHECK(hm_host_close(h, 0) == 0, "close");

    err = hm_host_open(&hc, &h);
    CHECK(err == 0, "hm_host_open: %s", hm_window_strerror(err));
    if (err)
        return;
    hm_host_check_locks(h, record, NULL);
    /* the library's locking on the host: kmaps wrapping 4 slots, nothing reported */
    {
        struct hm_config cfg;
        struct hm_machine m;
        struct hm_ctx *ctx = NULL;
        size_t size;
        void *mem;
        hm_host_config_of(h, &cfg);
        hm_host_machine(h, &m);
        size = hm_ctx_size(&cfg);
        mem = aligned_alloc(hm_ctx_align(), (size + hm_ctx_align() - 1) / hm_ctx_align() * hm_ctx_align());
        CHECK(mem && hm_ctx_init(mem, size, &cfg, &m, NULL, &ctx) == HM_OK, "hm_ctx_init");
        for (unsigned k = 0; ctx && k < 40; k++) {
            hm_vaddr_t va;
            hm_pfn_t pfn = 8u + k % 13u;
            CHECK(hm_kmap(ctx, pfn, &va) == HM_OK, "host kmap %u", k);
            CHECK(hm_kunmap(ctx, pfn) == HM_OK, "host kunmap %u", k);
        }
        if (ctx)
            CHECK(hm_kmap_flush_unused(ctx) == HM_OK, "flush_unused");
        CHECK(reports() == 0, "%d reports on the library's own locking", reports());
        free(mem);
    }
    host_inversion(h);
    expect_report(0, HM_LOCK_ERR_INVERSION, "lock order inversion: pool_lock taken while holding "
                  "bucket[2]; earlier bucket[2] was taken while holding pool_lock");
    CHECK(reports() == 1, "%d reports, want 1", reports());
    CHECK(hm_host_close(h, 0) == 0, "close");
}

static const struct tt_case cases[] = {
    {"inversion_named", case_inversion_named, NULL},
    {"documented_order", case_documented_order, NULL},
    {"recursion", case_recursion, NULL},
    {"unlock_not_held", case_unlock_not_held, NULL},
    {"sleep_errors", case_sleep_errors, NULL},
    {"two_machines", case_two_machines, NULL},
    {"describe_blocked", case_describe_blocked, NULL},
    {"describe_sleeping", case_describe_sleeping, NULL},
    {"library_reports_nothing", case_library_reports_nothing, NULL},
    {"timeout_names_deadlock", case_timeout_names_deadlock, NULL},
    {"timeout_names_sleeper", case_timeout_names_sleeper, NULL},
    {"host_optional", case_host_optional, NULL},
};

static const struct tt_case child_cases[] = {
    {"deadlock", child_deadlock, NULL},
    {"asleep", child_asleep, NULL},
};

/* LOCK_CHECK_TEST_ONLY=name[,name...] runs just those cases; LOCK_CHECK_CHILD=deadlock|asleep
 * is the child the timeout cases start. */
int main(void)
{
    const char *child = getenv("LOCK_CHECK_CHILD");
    if (child && *child)
        return tt_main(child_cases, sizeof child_cases / sizeof child_cases[0], "LOCK_CHECK_CHILD");
    return tt_main(cases, sizeof cases / sizeof cases[0], "LOCK_CHECK_TEST_ONLY");
}
