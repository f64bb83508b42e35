/* monitor.c - the thread that watches a `kmapsim run`: the progress bar on standard error,
 * and the watchdog, which reports how far the run got (with --json the document so far, read
 * under kmap_lock) and ends the process. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "run_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIBRARY_WAIT_S 1 /* how long the watchdog waits for kmap_lock */

/* What only the library can say, read under kmap_lock by a thread of its own: a hung run may
 * hold kmap_lock forever, and the watchdog must still end the process. */
struct library_read {
    struct run *R;
    struct kmapsim_run_result lib; /* run_collect_library's fields */
    pthread_mutex_t m;
    pthread_cond_t c;
    int done;
};

static void *library_read_main(void *arg)
{
    struct library_read *q = arg;
    const struct hm_machine *hw = &q->R->m.hw;

    if (hw->lock)
        hw->lock(hw->m, HM_LOCK_KMAP);
    run_collect_library(q->R, &q->lib);
    if (hw->unlock)
        hw->unlock(hw->m, HM_LOCK_KMAP);
    pthread_mutex_lock(&q->m);
    q->done = 1;
    pthread_cond_signal(&q->c);
    pthread_mutex_unlock(&q->m);
    return NULL;
}

/* Read the library's side of r, waiting at most LIBRARY_WAIT_S for kmap_lock. Returns 0, or
 * -1 when the lock was not released in time (r's library fields stay zero). The reader is
 * left behind (it ends with the process): q is never freed. */
static int read_library(struct run *R, struct kmapsim_run_result *r)
{
    struct library_read *q = calloc(1, sizeof *q);
    struct timespec ts;
    pthread_t th;
    int done;

    if (!q)
        return -1;
    q->R = R;
    pthread_mutex_init(&q->m, NULL);
    pthread_cond_init(&q->c, NULL);
    if (pthread_create(&th, NULL, library_read_main, q) != 0)
        return -1;
    pthread_detach(th);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += LIBRARY_WAIT_S;
    pthread_mutex_lock(&q->m);
    while (!q->done && pthread_cond_timedwait(&q->c, &q->m, &ts) == 0)
        ;
    done = q->done;
    pthread_mutex_unlock(&q->m);
    if (!done)
        return -1;
    r->hm = q->lib.hm;
    r->invariants = q->lib.invariants;
    memcpy(r->invariant_msg, q->lib.invariant_msg, sizeof r->invariant_msg);
    r->end_count_ge2 = q->lib.end_count_ge2;
    r->end_count1 = q->lib.end_count1;
    return 0;
}

/* The JSON document of the command so far: the finished runs (o.prior), then this one as far
 * as it got (how far: progress), failed by the watchdog. */
static void print_json_so_far(struct run *R, int64_t elapsed_ns, const char *progress)
{
    size_t n = R->o.nprior;
    struct kmapsim_run_result *rs = calloc(n + 1, sizeof *rs);
    struct kmapsim_run_result *r;

    if (!rs)
        return;
    if (n)
        memcpy(rs, R->o.prior, n * sizeof *rs);
    r = &rs[n];
    run_collect(R, r);
    r->wall_ns = (uint64_t)elapsed_ns;
    r->watchdog = R->o.watchdog_s;
    if (read_library(R, r) == 0)
        snprintf(r->first[KMAPSIM_FAIL_WATCHDOG], sizeof r->first[0], "%s", progress);
    else
        snprintf(r->first[KMAPSIM_FAIL_WATCHDOG], sizeof r->first[0],
                 "%s; the library was not read (kmap_lock held for %d s)", progress,
                 LIBRARY_WAIT_S);
    kmapsim_run_print_json(stdout, &R->o, rs, n + 1);
    fflush(stdout);
}

/* The run did not finish in time: say so, and end the process (a hung kmap cannot be
 * cancelled). */
static void watchdog_fire(struct run *R, int drawn, int64_t elapsed_ns)
{
    char progress[128];
    snprintf(progress, sizeof progress,
             "%" PRIu64 " of %" PRIu64 " operations done, %" PRIu64 " sleeps, %" PRIu64
             " wake-ups so far",
             (uint64_t)atomic_load(&R->ops_done), R->o.ops,
             (uint64_t)atomic_load(&R->ev[HM_EV_SLEEP]),
             (uint64_t)atomic_load(&R->ev[HM_EV_WAKEUP]));
    fprintf(stderr,
            "%skmapsim: watchdog: the %s run on %s did not finish within %" PRIu32
            " s (%s); giving up\n",
            drawn ? "\r\033[K" : "", kmapsim_workload_name(R->o.workload), R->m.layout.arch,
            R->o.watchdog_s, progress);
    fflush(stderr);
    if (R->o.json)
        print_json_so_far(R, elapsed_ns, progress);
    _exit(1);
}

static void draw_progress(const struct run *R)
{
    uint64_t total = R->o.ops; /* the operations the workers will do */
    uint64_t done = atomic_load(&R->ops_done);
    unsigned width = 30, fill = (unsigned)(done >= total ? width : done * width / total);
    char bar[32];
    memset(bar, '#', fill);
    memset(bar + fill, '.', width - fill);
    bar[width] = 0;
    fprintf(stderr, "\r%s [%s] %3u%% %" PRIu64 "/%" PRIu64 " ops",
            R->o.label ? R->o.label : "run", bar,
            (unsigned)(done >= total ? 100 : done * 100 / total), done, total);
    fflush(stderr);
}

void *run_monitor_main(void *arg)
{
    struct run *R = arg;
    int drawn = 0;

    pthread_mutex_lock(&R->mon_lock);
    while (!R->done) {
        struct timespec ts;
        int64_t el;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&R->mon_cond, &R->mon_lock, &ts);
        if (R->done)
            break;
        el = run_now_ns() - R->t0;
        if (R->o.watchdog_s && el > (int64_t)R->o.watchdog_s * 1000000000LL)
            watchdog_fire(R, drawn, el);
        if (R->o.progress && el > 500000000LL && R->o.ops) {
            draw_progress(R);
            drawn = 1;
        }
    }
    pthread_mutex_unlock(&R->mon_lock);
    if (drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    return NULL;
}
