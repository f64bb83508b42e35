/* run_internal.h - what the parts of `kmapsim run` share: the run's state (struct run), one
 * worker's (struct worker), and the functions run.c, workloads.c and monitor.c call across
 * files. Not an interface: run.h is. SPDX-License-Identifier: MIT */
#ifndef KMAPSIM_RUN_INTERNAL_H
#define KMAPSIM_RUN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "harness/machine.h"
#include "rng.h"
#include "run.h"

#define NOHIGHMEM_WINDOW 1024u /* stands in for LAST_PKMAP when sizing runs on generic */

typedef _Atomic uint64_t au64;

/* A counter with one writer (its worker) that another thread may read at any time (the
 * watchdog's report): a relaxed load and store, no read-modify-write. */
static inline void bump(au64 *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

struct pipe_item {
    uint32_t idx, ver;
};

/* A bounded queue between one writer and one reader. */
struct pipe_queue {
    pthread_mutex_t m;
    pthread_cond_t nonempty, nonfull;
    struct pipe_item *buf;
    uint32_t cap, head, n;
};

struct worker;

struct run {
    struct kmapsim_run_opts o;
    struct harness_machine m; /* the machine: layout, sim (NULL on the host), context */
    struct hm_host *host;     /* --machine host: the host machine, NULL on the sim */
    struct hm_machine sim_hw; /* the sim's own hooks (R->m.hw may be adapted: o.adapt) */
    struct worker *ws;        /* the o.threads workers */

    hm_pfn_t base;          /* page index i is pfn base + i */
    uint64_t W;             /* working set (pages) */
    uint32_t L;             /* LAST_PKMAP, 0 without highmem */
    uint32_t colours;       /* pkmap colours (spec §10.3): 1 uncoloured, 1 without highmem */
    uint32_t hold_window;   /* hold-many's window: the slots of one colour (L / colours), or
                             * NOHIGHMEM_WINDOW without highmem */
    uint64_t win_lo, win_hi;/* the pkmap window [lo, hi) */
    uint32_t pshift, psize;
    uint32_t *ver;          /* per page index: version of its contents, 0 = never written */
    _Atomic uint32_t *holds;/* per slot: holders between their kmap and kunmap */
    au64 in_use, in_use_sum, peak, mapped, mapped_sum, mapped_peak, ops_done;
    au64 ev[HM_EV_MACHINE_FAIL + 1], ev_pte_set_pkmap, ev_pte_clear_pkmap, ev_flush_page_all;
    au64 ev_stale_cache;    /* HM_EV_STALE_CACHE (the sim's cache model, --cache on) */
    au64 ev_cache_flush_page; /* HM_EV_CACHE_FLUSH_PAGE: the arch's flush_cache_page calls */
    struct zipf zipf;
    unsigned bounce_type;

    /* recording for --svg */
    pthread_mutex_t rec_lock;
    uint64_t sample_every;
    struct kmapsim_svg_sample *samples;
    size_t nsamples, samples_cap;
    struct kmapsim_svg_mark *marks;
    size_t nmarks, marks_cap;
    uint64_t marks_dropped;
    au64 *slot_uses;

    /* first failures: of a wrong byte or failed call (failure), and of each kind (first) */
    pthread_mutex_t fail_lock;
    char failure[KMAPSIM_RUN_MSG];
    char first[KMAPSIM_FAIL__COUNT][KMAPSIM_RUN_MSG];

    /* hold-many rounds */
    pthread_barrier_t bar;
    int bar_init;
    _Atomic uint32_t acquired;
    uint64_t round_sleep_base; /* written by the barrier's serial thread between barriers */

    /* pipe */
    struct pipe_queue *queues;
    uint32_t nqueues;

    /* monitor (watchdog + progress) */
    pthread_mutex_t mon_lock;
    pthread_cond_t mon_cond;
    int done;
    int64_t t0;
};

/* One worker thread's own counters (written by the worker only; summed by run_collect). */
struct worker {
    struct run *R;
    uint32_t id, cpu;
    uint64_t rng;
    uint64_t nops; /* operations this worker does */
    au64 kmaps, kunmaps, atomics, errors, bytes, wrong;
    au64 dma_flushes;  /* bounce, --cache on: the buffer's lines flushed before each DMA */
    au64 sleep_ns, sleep_longest;
};

/* HM_EV_SLEEP events seen on the calling thread (counted by the run's on_event hook). */
extern _Thread_local uint64_t run_tls_sleeps;

static inline int in_window(const struct run *R, hm_vaddr_t v)
{
    return R->L && v >= R->win_lo && v < R->win_hi;
}

static inline uint32_t slot_of(const struct run *R, hm_vaddr_t v)
{
    return (uint32_t)((v - R->win_lo) >> R->pshift);
}

/* local-switch: the tasks of each CPU besides its idle task (CPU c runs tasks
 * 1 + RUN_LOCAL_TASKS * c, ...), and the most mappings a task holds at once (below KM_MAX_IDX). */
#define RUN_LOCAL_TASKS 2u
#define RUN_LOCAL_DEPTH 8u

/* run.c */
int64_t run_now_ns(void);
/* hold-many: the number of pages thread t of threads holds at once (see run.c). */
uint32_t run_hold_count(uint32_t window, uint32_t threads, uint32_t t);
/* hold-many's window of a layout: the slots one colour has, LAST_PKMAP / pkmap_colours (all of
 * LAST_PKMAP uncoloured), or NOHIGHMEM_WINDOW without highmem. */
uint32_t run_hold_window(const struct hm_layout *l);
/* Keep the first failure of kind (enum kmapsim_run_failure); a wrong byte or failed call is
 * also the run's first failure (R->failure) if it has none yet. Any thread. */
void run_record_failure(struct run *R, int kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* What the run counted itself (atomics and the workers' counters, the sim's statistics; safe
 * while workers run) into r: everything but run_collect_library's fields and the recording. */
void run_collect(struct run *R, struct kmapsim_run_result *r);
/* What only the library can say (its statistics, hm_check_invariants, the pkmap counts): call
 * when no kmap runs, or with kmap_lock held. */
void run_collect_library(struct run *R, struct kmapsim_run_result *r);

/* workloads.c: one worker thread (struct worker *) runs its share of the workload. */
void *run_worker_main(void *arg);

/* monitor.c: the progress bar and the watchdog (struct run *), until R->done. */
void *run_monitor_main(void *arg);

#endif /* KMAPSIM_RUN_INTERNAL_H */
