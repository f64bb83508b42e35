/* threadlib.h - harness of the plain thread tests (no Criterion, TSan-safe): counted checks, a
 * deadline per case and a watchdog, worker phases, timeout diagnostics naming what each stuck
 * thread holds and waits for, the shared simulated machine and the runner whose last line is
 * "N passed, N failed". SPDX-License-Identifier: MIT */
#ifndef HM_THREADLIB_H
#define HM_THREADLIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/machine.h"
#include "highmem.h"
#include "tests/check.h" /* CHECK */

/* Every wait of a case ends by this deadline (TT_DEADLINE_MS in the environment overrides it);
 * the watchdog gives the main thread a grace period on top in case it is itself blocked (e.g.
 * on a kmap_lock a stuck thread holds). */
#define TT_DEADLINE_S 30
#define TT_WATCHDOG_GRACE_S 5
#define TT_MAX_THREADS 16
#define TT_MAX_SLOTS 64

/* ---- time ------------------------------------------------------------------------------ */
int64_t tt_now_ns(void);
void tt_sleep_ns(long ns);

/* ---- the runner ------------------------------------------------------------------------ */
struct tt_case {
    const char *name;
    void (*run)(const void *arg);
    const void *arg;
};

/* Name the calling thread "the main thread" for the lock checker, start the watchdog, then
 * run the cases in order (only those named in the environment variable only_env, a
 * comma-separated list, when it is set), each under its own deadline:
 * "RUN name", then "PASS name (t ms)" or "FAIL name (n failed checks)", and last
 * "N passed, N failed". Returns main's exit status (2: only_env names no case). */
int tt_main(const struct tt_case *cases, size_t n, const char *only_env);

/* ---- worker threads of the current case -------------------------------------------------- */
enum { PH_IDLE, PH_KMAP, PH_CHECK, PH_HOLD, PH_KUNMAP, PH_FLUSH, PH_WAIT, PH_DONE };

/* What a worker is doing, for the timeout report. */
struct tt_thread {
    atomic_int started;
    atomic_int phase;
    atomic_int iter;
    atomic_uint pfn;
};

/* The world of the running case: its machine (x86, opened by tt_setup) and its threads. */
struct tt_world {
    struct harness_machine hm; /* hm.ctx, hm.sim, hm.layout, hm.hw (kmap_lock etc.) */

    atomic_uint nthreads; /* spawned so far */
    pthread_t tid[TT_MAX_THREADS];
    struct tt_thread ts[TT_MAX_THREADS];

    pthread_mutex_t mu; /* guards done */
    pthread_cond_t cv;  /* CLOCK_MONOTONIC */
    unsigned done;

    atomic_uint stale_events;
    atomic_uint bug_events;
    atomic_int bugs_expected; /* set while a case provokes BUGs on purpose: not printed */
};
extern struct tt_world W;

/* Start worker W.nthreads as fn((void *)index), named "thread <index>" in the lock checker's
 * reports and descriptions; a failure ends the case as stuck. */
void tt_spawn(void *(*fn)(void *));
/* Called by worker i as its last step. */
void tt_thread_done(unsigned i);
/* Wait (bounded by the deadline) until every spawned worker called tt_thread_done, then join. */
void tt_wait_done(void);

/* Poll pred (which may take kmap_lock) until it holds, or report the timeout and exit. */
void tt_wait_for(int (*pred)(void), const char *what);
/* For workers waiting on the main thread's commands: 1 once *flag >= value; 0 only well after
 * the deadline (by then the main thread or the watchdog has reported the timeout and exited,
 * so a worker never blurs the diagnostic by carrying on). */
int tt_wait_flag(atomic_int *flag, int value);
/* Report a timeout: the threads' phases, what each thread holds or waits for on the machine's
 * locks (by name, since when, held by whom; sleeping on pkmap_map_wait; deadlock cycles), the
 * kmap state, then "N passed, N failed" and _exit(1) (stuck threads cannot be joined). The
 * watchdog (the main thread itself blocked) prints the phases and the locks likewise. */
_Noreturn void tt_stuck(const char *what);

/* ---- the machine of the current case ---------------------------------------------------- */

/* Open W's machine (x86, nr_cpus, last_pkmap) and reset the threads and counters. Returns 0,
 * or -1 after a failed check. */
int tt_setup(uint32_t nr_cpus, uint32_t last_pkmap);
/* The same for any config (arch, locking and generation as given), the sim's hooks first handed
 * to adapt (NULL: none) as harness_hooks.adapt describes. */
int tt_setup_config(const struct hm_config *cfg, void (*adapt)(void *cookie, struct hm_machine *hw));
void tt_teardown(void);

/* The k-th highmem page; PKMAP_ADDR(i); whether va is a page of the pkmap window; its slot. */
hm_pfn_t tt_hi(uint32_t k);
hm_vaddr_t tt_slot_addr(uint32_t i);
int tt_in_pkmap_window(hm_vaddr_t va);
uint32_t tt_slot_of(hm_vaddr_t va);

/* A consistent view of the kmap state. */
struct tt_snap {
    uint32_t slots;
    int count[TT_MAX_SLOTS];
    uint32_t nr_waiters, last_nr;
    struct hm_stats st;
    int inv;
    char msg[160];
};
/* Under kmap_lock (taken through the machine's own hook), so it is race-free while threads run. */
void tt_snap(struct tt_snap *sn);

/* va must be a pkmap address that maps pfn on cpu: offset 0 holds the page's signature (read
 * through the MMU); a store at off through the MMU must land in pfn (read physically). */
void tt_check_mapping(uint32_t cpu, hm_pfn_t pfn, hm_vaddr_t va, uint8_t sig, uint32_t off,
                      uint8_t val);
/* The state every case must end in, once all its threads have been joined. */
void tt_final_checks(void);

#endif /* HM_THREADLIB_H */
