/* run.c - `kmapsim run`: the workload engine (machine set-up, event counting, worker threads,
 * watchdog and progress bar, the seven workloads) and the run report (table, JSON, SVG).
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/json.h"
#include "kmapsim.h"
#include "harness/exec.h"

/* ------------------------------------------------------------------------------------- */
/* Workload names and defaults                                                            */
/* ------------------------------------------------------------------------------------- */

static const char *const workload_names[KW__COUNT] = {
    [KW_PAGECACHE_READ] = "pagecache-read", [KW_PAGECACHE_HOT] = "pagecache-hot",
    [KW_BOUNCE] = "bounce",                 [KW_PIPE] = "pipe",
    [KW_HOLD_MANY] = "hold-many",           [KW_RANDOM] = "random",
    [KW_TRACE] = "trace",
};

const char *kmapsim_workload_name(int w)
{
    return w >= 0 && w < KW__COUNT ? workload_names[w] : NULL;
}

int kmapsim_workload_find(const char *name)
{
    int w;
    for (w = 0; name && w < KW__COUNT; w++)
        if (strcmp(workload_names[w], name) == 0)
            return w;
    return -1;
}

#define DEFAULT_OPS 100000u
#define DEFAULT_QUEUE 16u
#define DEFAULT_WATCHDOG_S 60u
#define DEFAULT_ZIPF_S 1.0
#define NOHIGHMEM_WINDOW 1024u /* stands in for LAST_PKMAP when sizing runs on generic */
#define FIRST_LOWMEM_PAGE 0x1000u /* generic: workload pages start 16 MiB into lowmem */
#define BOUNCE_PAGE_BASE 0x100u   /* the per-CPU lowmem bounce buffers (below every page set) */
#define MAX_SAMPLES 2000u
#define MAX_MARKS 1000000u

static uint32_t default_threads(int w, uint32_t cpus)
{
    switch (w) {
    case KW_BOUNCE:
        return cpus ? cpus : 1;
    case KW_PIPE:
        return 2;
    case KW_HOLD_MANY:
        return 4;
    default:
        return 1;
    }
}

uint32_t kmapsim_run_default_cpus(int workload, uint32_t threads)
{
    switch (workload) {
    case KW_BOUNCE:
    case KW_PIPE:
    case KW_HOLD_MANY:
        if (threads)
            return threads < HM_MAX_CPUS ? threads : HM_MAX_CPUS;
        return workload == KW_HOLD_MANY ? 4 : 2;
    default:
        return 1;
    }
}

/* First page of the workload's page set and how many pages there are from it to max_pfn. */
static hm_pfn_t page_base(const struct hm_layout *l)
{
    if (l->last_pkmap)
        return l->highmem_start_pfn;
    return l->max_pfn > 2u * FIRST_LOWMEM_PAGE ? FIRST_LOWMEM_PAGE : l->max_pfn / 2u;
}

/* hold-many: the number of pages thread t holds at once. The holds add up to
 * window + threads - 1: more than the window (so somebody must sleep), yet with one page
 * fewer per thread they fit (so the threads can never all sleep at once: see usage.md). */
static uint32_t hold_count(uint32_t window, uint32_t threads, uint32_t t)
{
    uint64_t sum = threads > 1 ? (uint64_t)window + threads - 1 : window;
    return (uint32_t)(sum / threads + (t < sum % threads ? 1 : 0));
}

int kmapsim_run_resolve(const struct hm_config *cfg, const struct kmapsim_run_opts *o,
                        struct kmapsim_run_opts *out, char *err, size_t errlen)
{
    struct hm_layout l;
    uint64_t avail, window, per;
    uint32_t T;
    int w = o->workload;

    *out = *o;
    if (w < 0 || w >= KW__COUNT) {
        snprintf(err, errlen, "unknown workload");
        return -1;
    }
    if (hm_layout_compute(cfg, &l) != HM_OK) {
        snprintf(err, errlen, "invalid machine configuration");
        return -1;
    }
    window = l.last_pkmap ? l.last_pkmap : NOHIGHMEM_WINDOW;
    avail = l.max_pfn - page_base(&l);

    T = o->threads ? o->threads : default_threads(w, l.nr_cpus);
    if (T > KMAPSIM_RUN_MAX_THREADS) {
        snprintf(err, errlen, "--threads %" PRIu32 " is more than %u", T, KMAPSIM_RUN_MAX_THREADS);
        return -1;
    }
    if (w == KW_TRACE && T != 1) {
        snprintf(err, errlen, "the trace workload is single-threaded (got --threads %" PRIu32 ")", T);
        return -1;
    }
    if (w == KW_TRACE && !o->trace) {
        snprintf(err, errlen, "the trace workload needs a trace file");
        return -1;
    }
    if (w == KW_BOUNCE && T > l.nr_cpus) {
        snprintf(err, errlen,
                 "bounce: --threads %" PRIu32 " is more than --cpus %" PRIu32
                 " (each thread is one CPU with its own kmap_atomic slots)",
                 T, l.nr_cpus);
        return -1;
    }
    if (w == KW_PIPE) {
        if (T < 2) {
            snprintf(err, errlen, "pipe needs at least 2 threads (a writer and a reader)");
            return -1;
        }
        T &= ~1u; /* writer/reader pairs */
    }
    out->threads = T;
    if (!out->ops)
        out->ops = w == KW_TRACE ? o->trace->n : DEFAULT_OPS;
    if (!out->queue_depth)
        out->queue_depth = DEFAULT_QUEUE;
    if (!out->watchdog_s)
        out->watchdog_s = DEFAULT_WATCHDOG_S;
    if (out->zipf_s == 0)
        out->zipf_s = DEFAULT_ZIPF_S;
    if (out->zipf_s < 0)
        out->zipf_s = 0; /* uniform */

    if (w == KW_TRACE) {
        out->working_set = 0;
        return 0;
    }
    if (!o->working_set) {
        switch (w) {
        case KW_RANDOM:
        case KW_PIPE:
            out->working_set = 2 * window;
            break;
        case KW_BOUNCE:
            out->working_set = 1024;
            break;
        default:
            out->working_set = 4 * window;
            break;
        }
        if (w == KW_PIPE && out->working_set < (uint64_t)(T / 2) * (out->queue_depth + 2u))
            out->working_set = (uint64_t)(T / 2) * (out->queue_depth + 2u);
        if (out->working_set > avail)
            out->working_set = avail;
    } else if (o->working_set > avail) {
        snprintf(err, errlen,
                 "--working-set %" PRIu64 " is more than the %" PRIu64
                 " pages available on %s (see --highmem-pages)",
                 o->working_set, avail, l.arch);
        return -1;
    }
    if (out->working_set < T) {
        snprintf(err, errlen, "--working-set %" PRIu64 " is smaller than --threads %" PRIu32,
                 out->working_set, T);
        return -1;
    }
    per = out->working_set / T;
    if (w == KW_PIPE && per * 2 < (uint64_t)out->queue_depth + 2u) {
        snprintf(err, errlen,
                 "pipe: each writer/reader pair needs at least --queue + 2 = %" PRIu32
                 " pages (--working-set %" PRIu64 " gives %" PRIu64 ")",
                 out->queue_depth + 2u, out->working_set, per * 2);
        return -1;
    }
    if (w == KW_HOLD_MANY && per < hold_count((uint32_t)window, T, 0)) {
        snprintf(err, errlen,
                 "hold-many: each of the %" PRIu32 " threads holds up to %" PRIu32
                 " pages at once, so --working-set must be at least %" PRIu64,
                 T, hold_count((uint32_t)window, T, 0),
                 (uint64_t)hold_count((uint32_t)window, T, 0) * T);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------- */
/* PRNG (splitmix64) and the Zipf sampler                                                 */
/* ------------------------------------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rnd_next(uint64_t *s)
{
    *s += UINT64_C(0x9e3779b97f4a7c15);
    return mix64(*s);
}

/* Uniform in [0, n): the high 32 bits scaled (n < 2^32 here; bias below 2^-32 per draw). */
static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (n <= UINT32_MAX)
        return ((rnd_next(s) >> 32) * n) >> 32;
    return rnd_next(s) % n;
}

/* Uniform in [0, 1) with 53 bits. */
static double rnd_unit(uint64_t *s)
{
    return (double)(rnd_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Zipf(s) over ranks 0..n-1: P(rank k) proportional to 1 / (k + 1)^s. cdf[k] is the
 * probability of a rank <= k; sampling draws u in [0, 1) and returns the first rank whose
 * cdf exceeds u (binary search). */
struct zipf {
    double *cdf;
    uint64_t n;
};

static int zipf_init(struct zipf *z, uint64_t n, double s)
{
    uint64_t k;
    double sum = 0;
    z->n = n;
    z->cdf = malloc((size_t)(n ? n : 1) * sizeof *z->cdf);
    if (!z->cdf)
        return -1;
    for (k = 0; k < n; k++) {
        sum += pow((double)(k + 1), -s);
        z->cdf[k] = sum;
    }
    for (k = 0; k < n; k++)
        z->cdf[k] /= sum;
    if (n)
        z->cdf[n - 1] = 1.0;
    return 0;
}

static uint64_t zipf_sample(const struct zipf *z, uint64_t *rng)
{
    double u = rnd_unit(rng);
    uint64_t lo = 0, hi = z->n - 1; /* answer in [lo, hi] */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (z->cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ------------------------------------------------------------------------------------- */
/* The run's shared state                                                                 */
/* ------------------------------------------------------------------------------------- */

typedef _Atomic uint64_t au64;

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

struct run {
    struct kmapsim_run_opts o;
    struct hm_config cfg;
    struct hm_layout layout;
    struct hm_sim *sim;
    void *ctx_mem;
    struct hm_ctx *ctx;

    hm_pfn_t base;          /* page index i is pfn base + i */
    uint64_t W;             /* working set (pages) */
    uint32_t L;             /* LAST_PKMAP, 0 without highmem */
    uint64_t win_lo, win_hi;/* the pkmap window [lo, hi) */
    uint32_t pshift, psize;
    uint32_t *ver;          /* per page index: version of its contents, 0 = never written */
    _Atomic uint32_t *holds;/* per slot: holders between their kmap and kunmap */
    au64 in_use, in_use_sum, peak, mapped, mapped_sum, mapped_peak, ops_done;
    au64 ev[HM_EV_BUG + 1], ev_pte_set_pkmap, ev_pte_clear_pkmap, ev_flush_page_all;
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

    /* first failure */
    pthread_mutex_t fail_lock;
    char failure[192];

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

/* One worker thread's own counters (merged after the join). */
struct worker {
    struct run *R;
    uint32_t id, cpu;
    uint64_t rng;
    uint64_t nops; /* operations this worker does */
    uint64_t kmaps, kunmaps, atomics, errors, bytes, wrong;
    uint64_t sleep_ns, sleep_longest;
};

static _Thread_local uint64_t tls_sleeps; /* HM_EV_SLEEP events of this thread */

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void nap_us(long us)
{
    struct timespec t = {0, us * 1000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static int in_window(const struct run *R, hm_vaddr_t v)
{
    return R->L && v >= R->win_lo && v < R->win_hi;
}

static uint32_t slot_of(const struct run *R, hm_vaddr_t v)
{
    return (uint32_t)((v - R->win_lo) >> R->pshift);
}

static void record_failure(struct run *R, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void record_failure(struct run *R, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&R->fail_lock);
    if (!R->failure[0]) {
        va_start(ap, fmt);
        vsnprintf(R->failure, sizeof R->failure, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&R->fail_lock);
}

static void add_mark(struct run *R, int kind)
{
    uint64_t op = atomic_load_explicit(&R->ops_done, memory_order_relaxed) + 1;
    pthread_mutex_lock(&R->rec_lock);
    if (R->nmarks == R->marks_cap) {
        size_t ncap = R->marks_cap ? R->marks_cap * 2 : 256;
        struct kmapsim_svg_mark *nm = NULL;
        if (ncap <= MAX_MARKS)
            nm = realloc(R->marks, ncap * sizeof *nm);
        if (!nm) {
            R->marks_dropped++;
            pthread_mutex_unlock(&R->rec_lock);
            return;
        }
        R->marks = nm;
        R->marks_cap = ncap;
    }
    R->marks[R->nmarks].op = op;
    R->marks[R->nmarks].kind = kind;
    R->nmarks++;
    pthread_mutex_unlock(&R->rec_lock);
}

/* The on_event hook of the library and of the sim: counts every kind, tracks which window
 * slots have a present PTE, and records the marks of the picture. Runs on any thread, often
 * with kmap_lock held: it only touches atomics and the leaf rec_lock. */
static void on_event(void *cookie, const struct hm_event *ev)
{
    struct run *R = cookie;
    if (ev->kind > 0 && ev->kind <= HM_EV_BUG)
        atomic_fetch_add_explicit(&R->ev[ev->kind], 1, memory_order_relaxed);
    switch (ev->kind) {
    case HM_EV_PTE_SET:
        if (in_window(R, ev->a)) {
            atomic_fetch_add_explicit(&R->ev_pte_set_pkmap, 1, memory_order_relaxed);
            {
                uint64_t m = atomic_fetch_add_explicit(&R->mapped, 1, memory_order_relaxed) + 1;
                uint64_t p = atomic_load_explicit(&R->mapped_peak, memory_order_relaxed);
                while (m > p && !atomic_compare_exchange_weak_explicit(
                                    &R->mapped_peak, &p, m, memory_order_relaxed, memory_order_relaxed))
                    ;
            }
            if (R->slot_uses)
                atomic_fetch_add_explicit(&R->slot_uses[slot_of(R, ev->a)], 1,
                                          memory_order_relaxed);
        }
        break;
    case HM_EV_PTE_CLEAR:
        if (in_window(R, ev->a)) {
            atomic_fetch_add_explicit(&R->ev_pte_clear_pkmap, 1, memory_order_relaxed);
            atomic_fetch_sub_explicit(&R->mapped, 1, memory_order_relaxed);
        }
        break;
    case HM_EV_TLB_FLUSH_PAGE:
        if (ev->cpu == HM_CPU_ALL)
            atomic_fetch_add_explicit(&R->ev_flush_page_all, 1, memory_order_relaxed);
        break;
    case HM_EV_FLUSH_ALL_ZERO_PKMAPS:
        if (R->o.record)
            add_mark(R, KMAPSIM_MARK_FLUSH);
        break;
    case HM_EV_SLEEP:
        tls_sleeps++;
        if (R->o.record)
            add_mark(R, KMAPSIM_MARK_SLEEP);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------------------------- */
/* Operations                                                                             */
/* ------------------------------------------------------------------------------------- */

/* One operation done (called while the operation still holds its kmap, if it has one):
 * progress, the in-use average, and every sample_every-th op a sample of the window. */
static void op_done(struct run *R)
{
    uint64_t n = atomic_fetch_add_explicit(&R->ops_done, 1, memory_order_relaxed) + 1;
    uint64_t iu = atomic_load_explicit(&R->in_use, memory_order_relaxed);
    atomic_fetch_add_explicit(&R->in_use_sum, iu, memory_order_relaxed);
    atomic_fetch_add_explicit(&R->mapped_sum, atomic_load_explicit(&R->mapped, memory_order_relaxed),
                              memory_order_relaxed);
    if (R->o.record && R->L && n % R->sample_every == 0) {
        uint64_t mapped = atomic_load_explicit(&R->mapped, memory_order_relaxed);
        pthread_mutex_lock(&R->rec_lock);
        if (R->nsamples < R->samples_cap) {
            struct kmapsim_svg_sample *s = &R->samples[R->nsamples++];
            s->op = n;
            s->in_use = (uint32_t)(iu < R->L ? iu : R->L);
            s->count1 = mapped > iu ? (uint32_t)(mapped - iu) : 0;
            if (s->in_use + s->count1 > R->L)
                s->count1 = R->L - s->in_use;
            s->free = R->L - s->in_use - s->count1;
        }
        pthread_mutex_unlock(&R->rec_lock);
    }
}

static void hold_slot(struct run *R, hm_vaddr_t v)
{
    uint64_t n, p;
    if (!in_window(R, v))
        return;
    if (atomic_fetch_add_explicit(&R->holds[slot_of(R, v)], 1, memory_order_relaxed) != 0)
        return;
    n = atomic_fetch_add_explicit(&R->in_use, 1, memory_order_relaxed) + 1;
    p = atomic_load_explicit(&R->peak, memory_order_relaxed);
    while (n > p && !atomic_compare_exchange_weak_explicit(&R->peak, &p, n, memory_order_relaxed,
                                                           memory_order_relaxed))
        ;
}

static void release_slot(struct run *R, hm_vaddr_t v)
{
    if (!in_window(R, v))
        return;
    if (atomic_fetch_sub_explicit(&R->holds[slot_of(R, v)], 1, memory_order_relaxed) == 1)
        atomic_fetch_sub_explicit(&R->in_use, 1, memory_order_relaxed);
}

/* kmap (sleeping allowed): times the call when it slept, tracks the slot held. */
static int do_kmap(struct worker *w, hm_pfn_t pfn, hm_vaddr_t *v)
{
    struct run *R = w->R;
    uint64_t slept = tls_sleeps;
    int64_t t0 = now_ns();
    int rc = hm_kmap(R->ctx, pfn, v);
    w->kmaps++;
    if (tls_sleeps != slept) {
        uint64_t dt = (uint64_t)(now_ns() - t0);
        w->sleep_ns += dt;
        if (dt > w->sleep_longest)
            w->sleep_longest = dt;
    }
    if (rc != HM_OK) {
        w->errors++;
        record_failure(R, "kmap of pfn %" PRIu32 " failed: %s", pfn, hm_strerror(rc));
        return rc;
    }
    hold_slot(R, *v);
    return HM_OK;
}

/* kunmap: the slot stops counting as held before the library may recycle it. */
static void do_kunmap(struct worker *w, hm_pfn_t pfn, hm_vaddr_t v)
{
    int rc;
    release_slot(w->R, v);
    rc = hm_kunmap(w->R->ctx, pfn);
    w->kunmaps++;
    if (rc != HM_OK) {
        w->errors++;
        record_failure(w->R, "kunmap of pfn %" PRIu32 " failed: %s", pfn, hm_strerror(rc));
    }
}

#define NOFF 5
/* The bytes of a page an operation touches: first, last, and three at quarter strides
 * shifted per page. */
static uint32_t page_off(const struct run *R, hm_pfn_t pfn, int j)
{
    if (j == 0)
        return 0;
    if (j == NOFF - 1)
        return R->psize - 1;
    return (uint32_t)j * (R->psize / 4) + (pfn * 13u) % 64u;
}

/* What byte off of page pfn holds at version ver (version 0: never written, zero). */
static uint8_t pattern(hm_pfn_t pfn, uint32_t ver, uint32_t off)
{
    if (ver == 0)
        return 0;
    return (uint8_t)mix64(((uint64_t)pfn << 32) ^ ((uint64_t)ver << 12) ^ off);
}

/* Read the page's sampled bytes through cpu's MMU at v and compare them with version ver. */
static void check_page(struct worker *w, hm_vaddr_t v, hm_pfn_t pfn, uint32_t ver)
{
    struct run *R = w->R;
    int j;
    for (j = 0; j < NOFF; j++) {
        uint32_t off = page_off(R, pfn, j);
        uint8_t got = 0, want = pattern(pfn, ver, off);
        int rc = hm_sim_load(R->sim, w->cpu, v + off, &got);
        if (rc != HM_OK) {
            w->errors++;
            record_failure(R, "load at 0x%08" PRIx32 " (pfn %" PRIu32 ") failed: %s", v + off,
                           pfn, hm_strerror(rc));
            return;
        }
        w->bytes++;
        if (got != want) {
            w->wrong++;
            record_failure(R,
                           "wrong byte: cpu %" PRIu32 " read 0x%02x at 0x%08" PRIx32
                           " (pfn %" PRIu32 " offset %" PRIu32 "), the page holds 0x%02x",
                           w->cpu, got, v + off, pfn, off, want);
        }
    }
}

/* Write version ver of the page's sampled bytes through cpu's MMU at v. */
static void fill_page(struct worker *w, hm_vaddr_t v, hm_pfn_t pfn, uint32_t ver)
{
    struct run *R = w->R;
    int j;
    for (j = 0; j < NOFF; j++) {
        uint32_t off = page_off(R, pfn, j);
        int rc = hm_sim_store(R->sim, w->cpu, v + off, pattern(pfn, ver, off));
        if (rc != HM_OK) {
            w->errors++;
            record_failure(R, "store at 0x%08" PRIx32 " (pfn %" PRIu32 ") failed: %s", v + off,
                           pfn, hm_strerror(rc));
            return;
        }
    }
}

/* The page-cache access: kmap, fill the page on its first use (read from "disk"), copy the
 * bytes out and check them, optionally write a new version, kunmap. */
static void page_access(struct worker *w, uint64_t idx, int write)
{
    struct run *R = w->R;
    hm_pfn_t pfn = R->base + (hm_pfn_t)idx;
    hm_vaddr_t v;
    if (do_kmap(w, pfn, &v) == HM_OK) {
        if (R->ver[idx] == 0) {
            R->ver[idx] = 1;
            fill_page(w, v, pfn, 1);
        }
        check_page(w, v, pfn, R->ver[idx]);
        if (write) {
            R->ver[idx]++;
            fill_page(w, v, pfn, R->ver[idx]);
        }
        op_done(R); /* counted while the mapping is held: the in-use figures see it */
        do_kunmap(w, pfn, v);
        return;
    }
    op_done(R);
}

/* Pages of thread t: indices t, t + T, t + 2T, ... below W (disjoint between threads). */
static uint64_t thread_pages(const struct run *R, uint32_t t)
{
    uint64_t T = R->o.threads;
    return (R->W - t + T - 1) / T;
}

static uint64_t thread_index(const struct run *R, uint32_t t, uint64_t k)
{
    return t + k * R->o.threads;
}

/* ------------------------------------------------------------------------------------- */
/* Workloads                                                                              */
/* ------------------------------------------------------------------------------------- */

static void wl_pagecache_read(struct worker *w)
{
    uint64_t n = thread_pages(w->R, w->id), k;
    for (k = 0; k < w->nops; k++)
        page_access(w, thread_index(w->R, w->id, k % n), 0);
}

static void wl_pagecache_hot(struct worker *w)
{
    uint64_t n = thread_pages(w->R, w->id), k;
    for (k = 0; k < w->nops; k++) {
        uint64_t rank = zipf_sample(&w->R->zipf, &w->rng);
        if (rank >= n)
            rank = n - 1; /* the cdf covers the smallest per-thread set */
        page_access(w, thread_index(w->R, w->id, rank), 0);
    }
}

static void wl_random(struct worker *w)
{
    uint64_t n = thread_pages(w->R, w->id), k;
    for (k = 0; k < w->nops; k++) {
        uint64_t idx = thread_index(w->R, w->id, rnd_below(&w->rng, n));
        int write = rnd_below(&w->rng, 4) == 0;
        page_access(w, idx, write);
    }
}

/* bounce: the device has DMA'd the next version of a highmem page into this CPU's lowmem
 * bounce buffer; copy it into the page through kmap_atomic(KM_BOUNCE_READ), checking the
 * page's old bytes through the same mapping first. */
static void wl_bounce(struct worker *w)
{
    struct run *R = w->R;
    const struct hm_layout *l = &R->layout;
    hm_pfn_t bpfn = BOUNCE_PAGE_BASE + w->cpu;
    hm_vaddr_t bvaddr = l->page_offset + (bpfn << R->pshift);
    uint64_t n = thread_pages(R, w->id), k;
    int j;

    for (k = 0; k < w->nops; k++) {
        uint64_t idx = thread_index(R, w->id, rnd_below(&w->rng, n));
        hm_pfn_t pfn = R->base + (hm_pfn_t)idx;
        uint32_t next = R->ver[idx] + 1;
        hm_vaddr_t v;
        int rc;

        for (j = 0; j < NOFF; j++) {
            uint32_t off = page_off(R, pfn, j);
            if (hm_sim_phys_write(R->sim, bpfn, off, pattern(pfn, next, off)) != HM_OK) {
                w->errors++;
                record_failure(R, "DMA into the bounce buffer (pfn %" PRIu32 ") failed", bpfn);
            }
        }
        rc = hm_kmap_atomic(R->ctx, w->cpu, pfn, R->bounce_type, &v);
        w->atomics++;
        if (rc != HM_OK) {
            w->errors++;
            record_failure(R, "kmap_atomic of pfn %" PRIu32 " on cpu %" PRIu32 " failed: %s", pfn,
                           w->cpu, hm_strerror(rc));
            op_done(R);
            continue;
        }
        check_page(w, v, pfn, R->ver[idx]);
        for (j = 0; j < NOFF; j++) {
            uint32_t off = page_off(R, pfn, j);
            uint8_t byte = 0;
            if (hm_sim_load(R->sim, w->cpu, bvaddr + off, &byte) != HM_OK) {
                w->errors++;
                record_failure(R, "load from the bounce buffer at 0x%08" PRIx32 " failed",
                               bvaddr + off);
                break;
            }
            w->bytes++;
            if (byte != pattern(pfn, next, off)) {
                w->wrong++;
                record_failure(R, "wrong byte in the bounce buffer at 0x%08" PRIx32, bvaddr + off);
            }
            if (hm_sim_store(R->sim, w->cpu, v + off, byte) != HM_OK) {
                w->errors++;
                record_failure(R, "store at 0x%08" PRIx32 " failed", v + off);
                break;
            }
        }
        R->ver[idx] = next;
        rc = hm_kunmap_atomic(R->ctx, w->cpu, v, R->bounce_type);
        if (rc != HM_OK) {
            w->errors++;
            record_failure(R, "kunmap_atomic on cpu %" PRIu32 " failed: %s", w->cpu,
                           hm_strerror(rc));
        }
        op_done(R);
    }
}

/* pipe: thread 2p writes pages of pair p and queues them, thread 2p + 1 reads them back.
 * The pair's pages are indices p, p + P, p + 2P, ... (P pairs), used in turn; there are at
 * least queue + 2 of them, so a page is never rewritten before its reader is done with it. */
static void wl_pipe(struct worker *w)
{
    struct run *R = w->R;
    uint32_t P = R->o.threads / 2, p = w->id / 2;
    struct pipe_queue *q = &R->queues[p];
    uint64_t n = (R->W - p + P - 1) / P, i;
    hm_vaddr_t v;

    for (i = 0; i < w->nops; i++) {
        struct pipe_item it;
        hm_pfn_t pfn;
        if ((w->id & 1) == 0) { /* writer */
            it.idx = (uint32_t)(p + (i % n) * P);
            pfn = R->base + it.idx;
            if (do_kmap(w, pfn, &v) == HM_OK) {
                check_page(w, v, pfn, R->ver[it.idx]);
                R->ver[it.idx]++;
                fill_page(w, v, pfn, R->ver[it.idx]);
                op_done(R);
                do_kunmap(w, pfn, v);
            } else {
                op_done(R);
            }
            it.ver = R->ver[it.idx];
            pthread_mutex_lock(&q->m);
            while (q->n == q->cap)
                pthread_cond_wait(&q->nonfull, &q->m);
            q->buf[(q->head + q->n) % q->cap] = it;
            q->n++;
            pthread_cond_signal(&q->nonempty);
            pthread_mutex_unlock(&q->m);
        } else { /* reader */
            pthread_mutex_lock(&q->m);
            while (q->n == 0)
                pthread_cond_wait(&q->nonempty, &q->m);
            it = q->buf[q->head];
            q->head = (q->head + 1) % q->cap;
            q->n--;
            pthread_cond_signal(&q->nonfull);
            pthread_mutex_unlock(&q->m);
            pfn = R->base + it.idx;
            if (do_kmap(w, pfn, &v) == HM_OK) {
                check_page(w, v, pfn, it.ver);
                op_done(R);
                do_kunmap(w, pfn, v);
            } else {
                op_done(R);
            }
        }
    }
}

/* hold-many: in rounds, every thread kmaps its share of window + threads - 1 pages, holds
 * them until the round's first sleep (or until everybody has all of theirs, which only
 * happens without highmem), checks them again and releases them all. */
static void wl_hold_many(struct worker *w)
{
    struct run *R = w->R;
    uint32_t T = R->o.threads;
    uint32_t window = R->L ? R->L : NOHIGHMEM_WINDOW;
    uint32_t h = hold_count(window, T, w->id), j;
    uint64_t n = thread_pages(R, w->id), r, rounds = w->nops;
    hm_pfn_t *pfns = calloc(h ? h : 1, sizeof *pfns);
    hm_vaddr_t *vs = calloc(h ? h : 1, sizeof *vs);
    unsigned char *ok = calloc(h ? h : 1, 1);

    if (!pfns || !vs || !ok) {
        record_failure(R, "out of memory");
        w->errors++;
    }
    for (r = 0; r < rounds; r++) {
        int rc = pthread_barrier_wait(&R->bar);
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD) {
            R->round_sleep_base = atomic_load(&R->ev[HM_EV_SLEEP]);
            atomic_store(&R->acquired, 0);
        }
        pthread_barrier_wait(&R->bar);
        if (!pfns || !vs || !ok) {
            atomic_fetch_add(&R->acquired, 1);
            continue;
        }
        for (j = 0; j < h; j++) {
            uint64_t idx = thread_index(R, w->id, (r * h + j) % n);
            pfns[j] = R->base + (hm_pfn_t)idx;
            ok[j] = do_kmap(w, pfns[j], &vs[j]) == HM_OK;
            if (ok[j]) {
                check_page(w, vs[j], pfns[j], R->ver[idx]);
                R->ver[idx]++;
                fill_page(w, vs[j], pfns[j], R->ver[idx]);
            }
            op_done(R);
        }
        atomic_fetch_add(&R->acquired, 1);
        /* Hold until somebody sleeps (or everybody got everything). */
        while (atomic_load(&R->acquired) < T &&
               atomic_load(&R->ev[HM_EV_SLEEP]) == R->round_sleep_base)
            nap_us(20);
        for (j = 0; j < h; j++) {
            if (!ok[j])
                continue;
            check_page(w, vs[j], pfns[j], R->ver[pfns[j] - R->base]);
            do_kunmap(w, pfns[j], vs[j]);
        }
    }
    free(pfns);
    free(vs);
    free(ok);
}

/* Execute one trace command (the replay semantics: kmap never sleeps); HM_OK or the error. */
static int trace_cmd(struct worker *w, const struct trace_cmd *c, hm_vaddr_t *atomic_va)
{
    struct run *R = w->R;
    const struct hm_layout *l = &R->layout;
    const uint64_t *a = c->arg;
    hm_vaddr_t v = 0;
    hm_pfn_t pfn;
    uint8_t byte;
    long type;
    int rc;

    switch (c->op) {
    case KOP_KMAP:
        if (a[0] > UINT32_MAX)
            return HM_ERANGE;
        w->kmaps++;
        rc = hm_kmap_try(R->ctx, (hm_pfn_t)a[0], &v);
        if (rc == HM_OK)
            hold_slot(R, v);
        return rc;
    case KOP_KUNMAP:
        if (a[0] > UINT32_MAX)
            return HM_ERANGE;
        if (hm_page_address(R->ctx, (hm_pfn_t)a[0], &v) != HM_OK)
            v = 0;
        w->kunmaps++;
        rc = hm_kunmap(R->ctx, (hm_pfn_t)a[0]);
        if (rc == HM_OK && in_window(R, v) && atomic_load(&R->holds[slot_of(R, v)]) > 0)
            release_slot(R, v);
        return rc;
    case KOP_FLUSH:
        return hm_kmap_flush_unused(R->ctx);
    case KOP_KMAP_ATOMIC:
    case KOP_KMAP_ATOMIC_PFN:
    case KOP_KUNMAP_ATOMIC:
        type = harness_resolve_type(l, &c->type);
        if (a[0] >= l->nr_cpus || type < 0)
            return HM_EINVAL;
        if (c->op == KOP_KUNMAP_ATOMIC) {
            size_t k = (size_t)a[0] * l->nr_km_types + (size_t)type;
            if (c->nargs >= 2)
                v = a[1] > UINT32_MAX ? 0 : (hm_vaddr_t)a[1];
            else
                v = atomic_va[k];
            return hm_kunmap_atomic(R->ctx, (uint32_t)a[0], v, (unsigned)type);
        }
        if (a[1] > UINT32_MAX)
            return HM_ERANGE;
        w->atomics++;
        if (c->op == KOP_KMAP_ATOMIC)
            rc = hm_kmap_atomic(R->ctx, (uint32_t)a[0], (hm_pfn_t)a[1], (unsigned)type, &v);
        else
            rc = hm_kmap_atomic_pfn(R->ctx, (uint32_t)a[0], (hm_pfn_t)a[1], (unsigned)type, &v);
        if (rc == HM_OK)
            atomic_va[(size_t)a[0] * l->nr_km_types + (size_t)type] = v;
        return rc;
    case KOP_LOAD:
    case KOP_STORE:
        if (a[0] >= l->nr_cpus)
            return HM_EINVAL;
        if (a[1] > UINT32_MAX)
            return HM_ERANGE;
        if (c->op == KOP_STORE)
            return a[2] > 255 ? HM_EINVAL
                              : hm_sim_store(R->sim, (uint32_t)a[0], (hm_vaddr_t)a[1], (uint8_t)a[2]);
        return hm_sim_load(R->sim, (uint32_t)a[0], (hm_vaddr_t)a[1], &byte);
    case KOP_KMAP_TO_PAGE:
        return a[0] > UINT32_MAX ? HM_ERANGE : hm_kmap_to_page(R->ctx, (hm_vaddr_t)a[0], &pfn);
    case KOP_KMAP_ATOMIC_TO_PAGE:
        return a[0] > UINT32_MAX ? HM_ERANGE
                                 : hm_kmap_atomic_to_page(R->ctx, (hm_vaddr_t)a[0], &pfn);
    case KOP_PAGE_ADDRESS:
        return a[0] > UINT32_MAX ? HM_ERANGE : hm_page_address(R->ctx, (hm_pfn_t)a[0], &v);
    case KOP_INJECT:
        if (a[0] == KINJ_NONE)
            hm_sim_inject(R->sim, HM_SIM_FAULT_NONE);
        else if (a[0] == KINJ_DROP_NEXT_FLUSH)
            hm_sim_inject(R->sim, HM_SIM_FAULT_DROP_NEXT_FLUSH);
        else if (a[0] == KINJ_DROP_ALL_FLUSHES)
            hm_sim_inject(R->sim, HM_SIM_FAULT_DROP_ALL_FLUSHES);
        else
            return HM_EINVAL;
        return HM_OK;
    default:
        return HM_EINVAL;
    }
}

/* trace: the commands in order, cycling through the trace until ops commands have run.
 * Failed commands are counted (op_errors), as replay reports them, and the run goes on. */
static void wl_trace(struct worker *w)
{
    struct run *R = w->R;
    const struct trace_list *t = R->o.trace;
    size_t nslots = (size_t)R->layout.nr_cpus * (R->layout.nr_km_types ? R->layout.nr_km_types : 1);
    hm_vaddr_t *atomic_va = calloc(nslots, sizeof *atomic_va);
    uint64_t i;

    if (!atomic_va) {
        record_failure(R, "out of memory");
        w->errors++;
        return;
    }
    for (i = 0; t->n && i < w->nops; i++) {
        const struct trace_cmd *c = &t->cmds[i % t->n];
        int rc = trace_cmd(w, c, atomic_va);
        if (rc != HM_OK) {
            w->errors++;
            record_failure(R, "trace line %lu (%s) failed: %s", c->line, trace_op_name(c->op),
                           hm_strerror(rc));
        }
        op_done(R);
    }
    free(atomic_va);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    switch (w->R->o.workload) {
    case KW_PAGECACHE_READ:
        wl_pagecache_read(w);
        break;
    case KW_PAGECACHE_HOT:
        wl_pagecache_hot(w);
        break;
    case KW_BOUNCE:
        wl_bounce(w);
        break;
    case KW_PIPE:
        wl_pipe(w);
        break;
    case KW_HOLD_MANY:
        wl_hold_many(w);
        break;
    case KW_RANDOM:
        wl_random(w);
        break;
    case KW_TRACE:
        wl_trace(w);
        break;
    default:
        break;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------- */
/* Monitor: watchdog and progress bar                                                     */
/* ------------------------------------------------------------------------------------- */

static void *monitor_main(void *arg)
{
    struct run *R = arg;
    int drawn = 0;
    uint64_t total = R->o.ops; /* the operations the workers will do */

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
        el = now_ns() - R->t0;
        if (el > (int64_t)R->o.watchdog_s * 1000000000LL) {
            uint64_t done = atomic_load(&R->ops_done);
            fprintf(stderr,
                    "%skmapsim: watchdog: the %s run on %s did not finish within %" PRIu32
                    " s (%" PRIu64 " of %" PRIu64 " operations done, %" PRIu64
                    " sleeps, %" PRIu64 " wake-ups so far); giving up\n",
                    drawn ? "\r\033[K" : "", kmapsim_workload_name(R->o.workload),
                    R->layout.arch, R->o.watchdog_s, done, total,
                    (uint64_t)atomic_load(&R->ev[HM_EV_SLEEP]),
                    (uint64_t)atomic_load(&R->ev[HM_EV_WAKEUP]));
            fflush(stderr);
            _exit(1);
        }
        if (R->o.progress && el > 500000000LL && total) {
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

/* ------------------------------------------------------------------------------------- */
/* Running                                                                                */
/* ------------------------------------------------------------------------------------- */

/* Operations per worker: hold-many counts rounds (each of window + threads - 1 kmaps). */
static void split_ops(const struct run *R, struct worker *ws)
{
    uint32_t T = R->o.threads, t;
    uint64_t ops = R->o.ops;
    if (R->o.workload == KW_HOLD_MANY) {
        uint32_t window = R->L ? R->L : NOHIGHMEM_WINDOW;
        uint64_t per_round = 0, rounds;
        for (t = 0; t < T; t++)
            per_round += hold_count(window, T, t);
        rounds = per_round ? ops / per_round : 0;
        if (rounds == 0)
            rounds = 1;
        for (t = 0; t < T; t++)
            ws[t].nops = rounds;
        return;
    }
    if (R->o.workload == KW_PIPE) {
        uint32_t P = T / 2;
        uint64_t items = ops / 2;
        for (t = 0; t < T; t++) {
            uint32_t p = t / 2;
            ws[t].nops = items / P + (p < items % P ? 1 : 0);
        }
        return;
    }
    for (t = 0; t < T; t++)
        ws[t].nops = ops / T + (t < ops % T ? 1 : 0);
}

static int cmp_sample(const void *a, const void *b)
{
    const struct kmapsim_svg_sample *x = a, *y = b;
    return x->op < y->op ? -1 : x->op > y->op;
}

static int cmp_mark(const void *a, const void *b)
{
    const struct kmapsim_svg_mark *x = a, *y = b;
    return x->op < y->op ? -1 : x->op > y->op;
}

static void run_free(struct run *R)
{
    uint32_t i;
    free(R->ctx_mem);
    if (R->sim)
        hm_sim_free(R->sim);
    free(R->ver);
    free((void *)R->holds);
    free(R->zipf.cdf);
    free(R->samples);
    free(R->marks);
    free((void *)R->slot_uses);
    for (i = 0; i < R->nqueues; i++) {
        pthread_mutex_destroy(&R->queues[i].m);
        pthread_cond_destroy(&R->queues[i].nonempty);
        pthread_cond_destroy(&R->queues[i].nonfull);
        free(R->queues[i].buf);
    }
    free(R->queues);
    if (R->bar_init)
        pthread_barrier_destroy(&R->bar);
    pthread_mutex_destroy(&R->rec_lock);
    pthread_mutex_destroy(&R->fail_lock);
    pthread_mutex_destroy(&R->mon_lock);
    pthread_cond_destroy(&R->mon_cond);
    free(R);
}

/* Build the machine and the run's tables. Returns 0 or -1 with err. */
static int run_setup(struct run *R, char *err, size_t errlen)
{
    struct hm_machine machine;
    struct hm_hooks hooks;
    size_t size, align;
    uint32_t i;
    int rc;

    rc = hm_layout_compute(&R->cfg, &R->layout);
    if (rc != HM_OK) {
        snprintf(err, errlen, "invalid machine configuration (%s)", hm_strerror(rc));
        return -1;
    }
    R->L = R->layout.last_pkmap;
    R->pshift = R->layout.page_shift;
    R->psize = R->layout.page_size;
    R->win_lo = R->layout.pkmap_base;
    R->win_hi = (uint64_t)R->layout.pkmap_base + (uint64_t)R->L * R->psize;
    R->base = page_base(&R->layout);
    R->W = R->o.working_set;

    R->sim = hm_sim_new(&R->layout, R->cfg.arch, on_event, R);
    if (!R->sim) {
        snprintf(err, errlen, "cannot create the simulated machine");
        return -1;
    }
    hm_sim_machine(R->sim, &machine);
    size = hm_ctx_size(&R->cfg);
    align = hm_ctx_align();
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (size == 0 || (align & (align - 1)) != 0 || posix_memalign(&R->ctx_mem, align, size) != 0) {
        R->ctx_mem = NULL;
        snprintf(err, errlen, "cannot allocate the context");
        return -1;
    }
    memset(R->ctx_mem, 0, size);
    memset(&hooks, 0, sizeof hooks);
    hooks.on_event = on_event;
    hooks.event_cookie = R;
    rc = hm_ctx_init(R->ctx_mem, size, &R->cfg, &machine, &hooks, &R->ctx);
    if (rc != HM_OK) {
        snprintf(err, errlen, "cannot initialise the context (%s)", hm_strerror(rc));
        return -1;
    }

    R->ver = calloc((size_t)(R->W ? R->W : 1), sizeof *R->ver);
    R->holds = calloc(R->L ? R->L : 1, sizeof *R->holds);
    if (!R->ver || !R->holds) {
        snprintf(err, errlen, "out of memory (working set %" PRIu64 ")", R->W);
        return -1;
    }
    if (R->o.workload == KW_PAGECACHE_HOT) {
        uint64_t per = R->W / R->o.threads; /* the smallest per-thread page set */
        if (zipf_init(&R->zipf, per ? per : 1, R->o.zipf_s) != 0) {
            snprintf(err, errlen, "out of memory (Zipf table)");
            return -1;
        }
    }
    if (R->o.workload == KW_BOUNCE) {
        long t = -1;
        for (i = 0; i < R->layout.nr_km_types; i++)
            if (R->layout.km_types && strcmp(R->layout.km_types[i], "KM_BOUNCE_READ") == 0)
                t = (long)i;
        if (t < 0) {
            snprintf(err, errlen, "the %s layout has no KM_BOUNCE_READ slot", R->layout.arch);
            return -1;
        }
        R->bounce_type = (unsigned)t;
    }
    if (R->o.workload == KW_PIPE) {
        R->nqueues = R->o.threads / 2;
        R->queues = calloc(R->nqueues, sizeof *R->queues);
        if (!R->queues) {
            R->nqueues = 0;
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (i = 0; i < R->nqueues; i++) {
            struct pipe_queue *q = &R->queues[i];
            pthread_mutex_init(&q->m, NULL);
            pthread_cond_init(&q->nonempty, NULL);
            pthread_cond_init(&q->nonfull, NULL);
            q->cap = R->o.queue_depth;
            q->buf = calloc(q->cap, sizeof *q->buf);
            if (!q->buf) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    if (R->o.workload == KW_HOLD_MANY) {
        if (pthread_barrier_init(&R->bar, NULL, R->o.threads) != 0) {
            snprintf(err, errlen, "cannot create a barrier");
            return -1;
        }
        R->bar_init = 1;
    }
    if (R->o.record) {
        R->sample_every = R->o.ops / MAX_SAMPLES + 1;
        R->samples_cap = (size_t)(R->o.ops / R->sample_every) + 2;
        R->samples = calloc(R->samples_cap, sizeof *R->samples);
        R->slot_uses = calloc(R->L ? R->L : 1, sizeof *R->slot_uses);
        if (!R->samples || !R->slot_uses) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int kmapsim_run_one(const struct hm_config *cfg, const struct kmapsim_run_opts *o,
                    struct kmapsim_run_result *r, char *err, size_t errlen)
{
    struct run *R = calloc(1, sizeof *R);
    struct worker ws[KMAPSIM_RUN_MAX_THREADS];
    pthread_t th[KMAPSIM_RUN_MAX_THREADS], mon;
    uint32_t T, t, k;
    uint64_t total = 0;
    int mon_ok;

    memset(r, 0, sizeof *r);
    if (!R) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&R->rec_lock, NULL);
    pthread_mutex_init(&R->fail_lock, NULL);
    pthread_mutex_init(&R->mon_lock, NULL);
    pthread_cond_init(&R->mon_cond, NULL);
    R->o = *o;
    R->cfg = *cfg;
    T = o->threads;
    if (T == 0 || T > KMAPSIM_RUN_MAX_THREADS || o->workload < 0 || o->workload >= KW__COUNT ||
        (o->workload == KW_TRACE && !o->trace)) {
        snprintf(err, errlen, "run options not resolved");
        run_free(R);
        return -1;
    }
    memset(ws, 0, sizeof ws);
    for (t = 0; t < T; t++) {
        ws[t].R = R;
        ws[t].id = t;
        ws[t].rng = mix64(o->seed ^ (UINT64_C(0x51ed270b27a1f3) * (t + 1)));
    }
    if (hm_layout_compute(cfg, &R->layout) != HM_OK) {
        snprintf(err, errlen, "invalid machine configuration");
        run_free(R);
        return -1;
    }
    R->L = R->layout.last_pkmap;
    split_ops(R, ws);
    for (t = 0; t < T; t++) {
        if (o->workload == KW_HOLD_MANY) /* nops counts rounds there */
            total += ws[t].nops *
                     hold_count(R->L ? R->L : NOHIGHMEM_WINDOW, T, t);
        else
            total += ws[t].nops;
    }
    R->o.ops = total; /* what the progress bar and the sampling count towards */
    if (run_setup(R, err, errlen) != 0) {
        run_free(R);
        return -1;
    }
    for (t = 0; t < T; t++)
        ws[t].cpu = t % R->layout.nr_cpus;

    R->t0 = now_ns();
    mon_ok = pthread_create(&mon, NULL, monitor_main, R) == 0;
    if (T == 1) {
        worker_main(&ws[0]); /* single-threaded runs stay on this thread */
    } else {
        for (t = 0; t < T; t++) {
            if (pthread_create(&th[t], NULL, worker_main, &ws[t]) != 0) {
                /* Threads already started may wait on the others at a barrier: give up. */
                fprintf(stderr, "kmapsim: cannot create worker thread %" PRIu32 "\n", t);
                fflush(stderr);
                _exit(2);
            }
        }
        for (t = 0; t < T; t++)
            pthread_join(th[t], NULL);
    }
    r->wall_ns = (uint64_t)(now_ns() - R->t0);
    pthread_mutex_lock(&R->mon_lock);
    R->done = 1;
    pthread_cond_signal(&R->mon_cond);
    pthread_mutex_unlock(&R->mon_lock);
    if (mon_ok)
        pthread_join(mon, NULL);

    /* Collect. */
    snprintf(r->arch, sizeof r->arch, "%s", R->layout.arch);
    r->workload = o->workload;
    r->last_pkmap = R->L;
    r->threads = T;
    r->cpus = R->layout.nr_cpus;
    r->working_set = R->W;
    r->seed = o->seed;
    r->ops = atomic_load(&R->ops_done);
    for (t = 0; t < T; t++) {
        r->kmaps += ws[t].kmaps;
        r->kunmaps += ws[t].kunmaps;
        r->kmap_atomics += ws[t].atomics;
        r->op_errors += ws[t].errors;
        r->bytes_checked += ws[t].bytes;
        r->wrong_bytes += ws[t].wrong;
        r->sleep_ns_total += ws[t].sleep_ns;
        if (ws[t].sleep_ns > r->sleep_ns_max_thread)
            r->sleep_ns_max_thread = ws[t].sleep_ns;
        if (ws[t].sleep_longest > r->sleep_ns_longest)
            r->sleep_ns_longest = ws[t].sleep_longest;
    }
    hm_get_stats(R->ctx, &r->hm);
    hm_sim_get_stats(R->sim, &r->sim);
    for (k = 0; k <= HM_EV_BUG; k++)
        r->ev[k] = atomic_load(&R->ev[k]);
    r->ev_pte_set_pkmap = atomic_load(&R->ev_pte_set_pkmap);
    r->ev_pte_clear_pkmap = atomic_load(&R->ev_pte_clear_pkmap);
    r->ev_tlb_flush_page_all_cpus = atomic_load(&R->ev_flush_page_all);
    r->stale = r->ev[HM_EV_STALE_TLB];
    r->peak_in_use = atomic_load(&R->peak);
    r->mean_in_use = r->ops ? (double)atomic_load(&R->in_use_sum) / (double)r->ops : 0.0;
    r->peak_mapped = atomic_load(&R->mapped_peak);
    r->mean_mapped = r->ops ? (double)atomic_load(&R->mapped_sum) / (double)r->ops : 0.0;
    r->invariants = hm_check_invariants(R->ctx, r->invariant_msg, sizeof r->invariant_msg);
    r->end_in_use = atomic_load(&R->in_use);
    r->end_mapped = atomic_load(&R->mapped);
    for (k = 0; k < R->L; k++) {
        int c = hm_pkmap_count(R->ctx, k);
        if (c >= 2)
            r->end_count_ge2++;
        else if (c == 1)
            r->end_count1++;
    }
    snprintf(r->failure, sizeof r->failure, "%s", R->failure);

    if (o->record) {
        if (R->nsamples > 1) /* threads may record out of order */
            qsort(R->samples, R->nsamples, sizeof *R->samples, cmp_sample);
        if (R->nmarks > 1)
            qsort(R->marks, R->nmarks, sizeof *R->marks, cmp_mark);
        r->samples = R->samples;
        r->nsamples = R->nsamples;
        r->marks = R->marks;
        r->nmarks = R->nmarks;
        r->marks_dropped = R->marks_dropped;
        r->slot_uses = calloc(R->L ? R->L : 1, sizeof *r->slot_uses);
        if (r->slot_uses)
            for (k = 0; k < R->L; k++)
                r->slot_uses[k] = atomic_load(&R->slot_uses[k]);
        R->samples = NULL;
        R->marks = NULL;
    }
    run_free(R);
    return 0;
}

void kmapsim_run_result_free(struct kmapsim_run_result *r)
{
    if (!r)
        return;
    free(r->samples);
    free(r->marks);
    free(r->slot_uses);
    memset(r, 0, sizeof *r);
}

int kmapsim_run_failed(const struct kmapsim_run_result *r)
{
    if (r->stale || r->wrong_bytes || r->invariants)
        return 1;
    return r->workload != KW_TRACE && r->op_errors != 0;
}

/* ------------------------------------------------------------------------------------- */
/* Report                                                                                 */
/* ------------------------------------------------------------------------------------- */

enum { MF_U64, MF_DBL };

struct metric {
    const char *label; /* table row */
    const char *key;   /* JSON key */
    int fmt;
};

/* The rows of the table and the keys of a JSON run object, in one order. */
enum {
    M_OPS, M_KMAP_CALLS, M_KMAP_HITS, M_REUSE1, M_NEW, M_KUNMAP, M_ATOMIC, M_FLUSHES,
    M_FREED, M_TLB_GLOBAL, M_TLB_RANGE, M_TLB_ALL, M_TLB_PAGE, M_CACHE, M_TLB_HITS,
    M_TLB_MISSES, M_SLEEPS, M_WAKEUPS, M_SLEEP_TOTAL, M_SLEEP_MAX, M_SLEEP_LONGEST, M_PEAK,
    M_MEAN, M_PEAK_MAPPED, M_MEAN_MAPPED, M_BYTES, M_STALE, M_WRONG, M_ERRORS, M_WALL, M_NS_OP, M__COUNT
};

static const struct metric metrics[M__COUNT] = {
    [M_OPS] = {"operations", "ops", MF_U64},
    [M_KMAP_CALLS] = {"kmap calls (highmem pages)", "kmap_calls", MF_U64},
    [M_KMAP_HITS] = {"  found the page mapped", "kmap_hits", MF_U64},
    [M_REUSE1] = {"    of which count-1 reuses", "kmap_reuse_count1", MF_U64},
    [M_NEW] = {"  new mappings", "kmap_new", MF_U64},
    [M_KUNMAP] = {"kunmap calls (highmem pages)", "kunmap_calls", MF_U64},
    [M_ATOMIC] = {"kmap_atomic calls", "kmap_atomic_calls", MF_U64},
    [M_FLUSHES] = {"flush_all_zero_pkmaps calls", "flush_all_zero_pkmaps", MF_U64},
    [M_FREED] = {"  slots freed by them", "slots_freed", MF_U64},
    [M_TLB_GLOBAL] = {"global TLB flushes", "tlb_flushes_global", MF_U64},
    [M_TLB_RANGE] = {"  range (every CPU)", "tlb_flush_ranges", MF_U64},
    [M_TLB_ALL] = {"  whole TLB", "tlb_flush_alls", MF_U64},
    [M_TLB_PAGE] = {"per-page TLB flushes", "tlb_flushes_page", MF_U64},
    [M_CACHE] = {"cache flushes", "cache_flushes", MF_U64},
    [M_TLB_HITS] = {"TLB hits", "tlb_hits", MF_U64},
    [M_TLB_MISSES] = {"TLB misses", "tlb_misses", MF_U64},
    [M_SLEEPS] = {"sleeps (window full)", "sleeps", MF_U64},
    [M_WAKEUPS] = {"wake-ups", "wakeups", MF_U64},
    [M_SLEEP_TOTAL] = {"time asleep, all threads (ms)", "sleep_ms_total", MF_DBL},
    [M_SLEEP_MAX] = {"time asleep, most of a thread (ms)", "sleep_ms_max_thread", MF_DBL},
    [M_SLEEP_LONGEST] = {"longest single sleep (ms)", "sleep_ms_longest", MF_DBL},
    [M_PEAK] = {"peak slots in use", "slots_in_use_peak", MF_U64},
    [M_MEAN] = {"mean slots in use", "slots_in_use_mean", MF_DBL},
    [M_PEAK_MAPPED] = {"peak slots mapped (count >= 1)", "slots_mapped_peak", MF_U64},
    [M_MEAN_MAPPED] = {"mean slots mapped (count >= 1)", "slots_mapped_mean", MF_DBL},
    [M_BYTES] = {"bytes checked through the MMU", "bytes_checked", MF_U64},
    [M_STALE] = {"stale translations (must be 0)", "stale_translations", MF_U64},
    [M_WRONG] = {"wrong bytes read (must be 0)", "wrong_bytes", MF_U64},
    [M_ERRORS] = {"failed calls", "failed_calls", MF_U64},
    [M_WALL] = {"wall time (ms)", "wall_ms", MF_DBL},
    [M_NS_OP] = {"wall time per operation (ns)", "ns_per_op", MF_DBL},
};

union mval {
    uint64_t u;
    double d;
};

static void metric_values(const struct kmapsim_run_result *r, union mval *v)
{
    v[M_OPS].u = r->ops;
    v[M_KMAP_CALLS].u = r->hm.kmap_calls;
    v[M_KMAP_HITS].u = r->hm.kmap_hits;
    v[M_REUSE1].u = r->hm.kmap_reuse_count1;
    v[M_NEW].u = r->hm.kmap_new;
    v[M_KUNMAP].u = r->hm.kunmap_calls;
    v[M_ATOMIC].u = r->kmap_atomics;
    v[M_FLUSHES].u = r->hm.flushes;
    v[M_FREED].u = r->hm.slots_freed;
    v[M_TLB_GLOBAL].u = r->sim.tlb_flush_ranges + r->sim.tlb_flush_alls;
    v[M_TLB_RANGE].u = r->sim.tlb_flush_ranges;
    v[M_TLB_ALL].u = r->sim.tlb_flush_alls;
    v[M_TLB_PAGE].u = r->sim.tlb_flush_pages;
    v[M_CACHE].u = r->sim.cache_flushes;
    v[M_TLB_HITS].u = r->sim.tlb_hits;
    v[M_TLB_MISSES].u = r->sim.tlb_misses;
    v[M_SLEEPS].u = r->hm.sleeps;
    v[M_WAKEUPS].u = r->hm.wakeups;
    v[M_SLEEP_TOTAL].d = (double)r->sleep_ns_total / 1e6;
    v[M_SLEEP_MAX].d = (double)r->sleep_ns_max_thread / 1e6;
    v[M_SLEEP_LONGEST].d = (double)r->sleep_ns_longest / 1e6;
    v[M_PEAK].u = r->peak_in_use;
    v[M_MEAN].d = r->mean_in_use;
    v[M_PEAK_MAPPED].u = r->peak_mapped;
    v[M_MEAN_MAPPED].d = r->mean_mapped;
    v[M_BYTES].u = r->bytes_checked;
    v[M_STALE].u = r->stale;
    v[M_WRONG].u = r->wrong_bytes;
    v[M_ERRORS].u = r->op_errors;
    v[M_WALL].d = (double)r->wall_ns / 1e6;
    v[M_NS_OP].d = r->ops ? (double)r->wall_ns / (double)r->ops : 0.0;
}

static void fmt_value(char *dst, size_t len, int fmt, union mval v)
{
    if (fmt == MF_U64)
        snprintf(dst, len, "%" PRIu64, v.u);
    else
        snprintf(dst, len, "%.3f", v.d);
}

#define LABEL_W 36
#define COL_W 14

void kmapsim_run_print_table(FILE *out, const struct kmapsim_run_result *rs, size_t n)
{
    size_t i, m;
    union mval(*vals)[M__COUNT];
    char cell[64];

    if (n == 0)
        return;
    vals = calloc(n, sizeof *vals);
    if (!vals)
        return;
    for (i = 0; i < n; i++)
        metric_values(&rs[i], vals[i]);
    fprintf(out, "kmapsim run %s: %" PRIu64 " operations, seed %" PRIu64 "\n",
            kmapsim_workload_name(rs[0].workload), rs[0].ops, rs[0].seed);
    fprintf(out, "%-*s", LABEL_W, "arch");
    for (i = 0; i < n; i++)
        fprintf(out, "%*s", COL_W, rs[i].arch);
    fputc('\n', out);
#define HEADER_ROW(label, expr)                                                            \
    do {                                                                                   \
        fprintf(out, "%-*s", LABEL_W, label);                                              \
        for (i = 0; i < n; i++)                                                            \
            fprintf(out, "%*" PRIu64, COL_W, (uint64_t)(expr));                            \
        fputc('\n', out);                                                                  \
    } while (0)
    HEADER_ROW("LAST_PKMAP (slots)", rs[i].last_pkmap);
    HEADER_ROW("threads", rs[i].threads);
    HEADER_ROW("CPUs", rs[i].cpus);
    HEADER_ROW("working set (pages)", rs[i].working_set);
#undef HEADER_ROW
    for (m = 0; m < LABEL_W + COL_W * n; m++)
        fputc('-', out);
    fputc('\n', out);
    for (m = 0; m < M__COUNT; m++) {
        fprintf(out, "%-*s", LABEL_W, metrics[m].label);
        for (i = 0; i < n; i++) {
            fmt_value(cell, sizeof cell, metrics[m].fmt, vals[i][m]);
            fprintf(out, "%*s", COL_W, cell);
        }
        fputc('\n', out);
    }
    for (i = 0; i < n; i++) {
        if (rs[i].invariants)
            fprintf(out, "%s: invariants broken after the run: %s\n", rs[i].arch,
                    rs[i].invariant_msg);
        if (rs[i].failure[0])
            fprintf(out, "%s: first failure: %s\n", rs[i].arch, rs[i].failure);
    }
    free(vals);
}

void kmapsim_run_print_json(FILE *out, const struct kmapsim_run_opts *o,
                            const struct kmapsim_run_result *rs, size_t n)
{
    struct kbuf b = {0};
    size_t i, m;
    int k;
    char cell[64];

    kbuf_printf(&b, "{\"schema_version\":%d,\"tool\":\"kmapsim run\",\"workload\":",
                KMAPSIM_RUN_SCHEMA_VERSION);
    kbuf_json_str(&b, kmapsim_workload_name(o->workload));
    kbuf_printf(&b, ",\"seed\":%" PRIu64 ",\"runs\":[", o->seed);
    for (i = 0; i < n; i++) {
        const struct kmapsim_run_result *r = &rs[i];
        union mval v[M__COUNT];
        metric_values(r, v);
        kbuf_add(&b, i ? ",{\"arch\":" : "{\"arch\":", i ? 9 : 8);
        kbuf_json_str(&b, r->arch);
        kbuf_printf(&b,
                    ",\"last_pkmap\":%" PRIu32 ",\"threads\":%" PRIu32 ",\"cpus\":%" PRIu32
                    ",\"working_set\":%" PRIu64,
                    r->last_pkmap, r->threads, r->cpus, r->working_set);
        for (m = 0; m < M__COUNT; m++) {
            fmt_value(cell, sizeof cell, metrics[m].fmt, v[m]);
            kbuf_printf(&b, ",\"%s\":%s", metrics[m].key, cell);
        }
        kbuf_add(&b, ",\"events\":{", 11);
        for (k = HM_EV_PTE_SET; k <= HM_EV_BUG; k++)
            kbuf_printf(&b, "%s\"%s\":%" PRIu64, k == HM_EV_PTE_SET ? "" : ",", hm_event_name(k),
                        r->ev[k]);
        kbuf_printf(&b, "},\"pte_set_pkmap\":%" PRIu64 ",\"pte_clear_pkmap\":%" PRIu64,
                    r->ev_pte_set_pkmap, r->ev_pte_clear_pkmap);
        kbuf_printf(&b, ",\"invariants_ok\":%s,\"ok\":%s,\"failure\":",
                    r->invariants ? "false" : "true", kmapsim_run_failed(r) ? "false" : "true");
        if (r->failure[0])
            kbuf_json_str(&b, r->failure);
        else
            kbuf_add(&b, "null", 4);
        kbuf_add(&b, "}", 1);
    }
    kbuf_add(&b, "]}\n", 3);
    fwrite(kbuf_str(&b), 1, b.n, out);
    kbuf_free(&b);
}

int kmapsim_run_write_svg(const char *path, const struct kmapsim_run_result *rs, size_t n)
{
    struct kmapsim_svg_run *runs = calloc(n ? n : 1, sizeof *runs);
    FILE *f;
    size_t i;
    int rc;

    if (!runs) {
        fputs("kmapsim: out of memory\n", stderr);
        return -1;
    }
    for (i = 0; i < n; i++) {
        runs[i].arch = rs[i].arch;
        runs[i].workload = kmapsim_workload_name(rs[i].workload);
        runs[i].nr_slots = rs[i].slot_uses ? rs[i].last_pkmap : 0;
        runs[i].total_ops = rs[i].ops;
        runs[i].samples = rs[i].samples;
        runs[i].nsamples = rs[i].nsamples;
        runs[i].marks = rs[i].marks;
        runs[i].nmarks = rs[i].nmarks;
        runs[i].slot_uses = rs[i].slot_uses;
    }
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "kmapsim: cannot write '%s': %s\n", path, strerror(errno));
        free(runs);
        return -1;
    }
    rc = kmapsim_svg_write(f, runs, n);
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "kmapsim: error writing '%s'\n", path);
    free(runs);
    return rc;
}
