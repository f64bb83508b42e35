/* monitor.c - the thread that watches a `kmapsim run`: the progress bar on standard error,
 * and the watchdog, which reports how far the run got and ends the process.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "run_internal.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The run did not finish in time: say so, and end the process (a hung kmap cannot be
 * cancelled). */
static void watchdog_fire(struct run *R, int drawn)
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
        if (el > (int64_t)R->o.watchdog_s * 1000000000LL)
            watchdog_fire(R, drawn);
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
