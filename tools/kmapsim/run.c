/* run.c - `kmapsim run`: the workload names and defaults (kmapsim_run_resolve), the run's
 * machine and tables, its event hook, and running it (worker threads, the monitor, collecting
 * the result). The workloads are in workloads.c, the monitor in monitor.c, the report in
 * report.c. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "run_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------- */
/* Workload names and defaults                                                            */
/* ------------------------------------------------------------------------------------- */

static const char *const workload_names[KW__COUNT] = {
    [KW_PAGECACHE_READ] = "pagecache-read", [KW_PAGECACHE_HOT] = "pagecache-hot",
    [KW_BOUNCE] = "bounce",                 [KW_PIPE] = "pipe",
    [KW_HOLD_MANY] = "hold-many",           [KW_RANDOM] = "random",
    [KW_TRACE] = "trace",                   [KW_LOCAL_SWITCH] = "local-switch",
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
#define DEFAULT_ZIPF_S 1.0
#define FIRST_LOWMEM_PAGE 0x1000u /* generic: workload pages start 16 MiB into lowmem */
#define MAX_SAMPLES 2000u
#define MAX_MARKS 1000000u

static uint32_t default_threads(int w, uint32_t cpus)
{
    switch (w) {
    case KW_BOUNCE:
    case KW_LOCAL_SWITCH:
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
    case KW_LOCAL_SWITCH:
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
uint32_t run_hold_count(uint32_t window, uint32_t threads, uint32_t t)
{
    uint64_t sum = threads > 1 ? (uint64_t)window + threads - 1 : window;
    return (uint32_t)(sum / threads + (t < sum % threads ? 1 : 0));
}

uint32_t run_hold_window(const struct hm_layout *l)
{
    return l->last_pkmap ? l->last_pkmap / (l->pkmap_colours ? l->pkmap_colours : 1u) : NOHIGHMEM_WINDOW;
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
    window = run_hold_window(&l);
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
    if (w == KW_LOCAL_SWITCH && l.kernel < HM_KERNEL_5_11) {
        snprintf(err, errlen, "local-switch needs kmap_local: --kernel 5.11");
        return -1;
    }
    if (o->machine == KMAPSIM_MACHINE_HOST &&
        (w == KW_TRACE || w == KW_BOUNCE || w == KW_LOCAL_SWITCH)) {
        snprintf(err, errlen, "--machine host runs pagecache-read, pagecache-hot, random, pipe "
                 "and hold-many, not %s", kmapsim_workload_name(w));
        return -1;
    }
    if (o->machine == KMAPSIM_MACHINE_HOST && o->cache == HARNESS_CACHE_ON) {
        snprintf(err, errlen, "--cache on models the sim's data caches: not with --machine host");
        return -1;
    }
    if (w == KW_TRACE && !o->trace) {
        snprintf(err, errlen, "the trace workload needs a trace file");
        return -1;
    }
    if ((w == KW_BOUNCE || w == KW_LOCAL_SWITCH) && T > l.nr_cpus) {
        snprintf(err, errlen,
                 "%s: --threads %" PRIu32 " is more than --cpus %" PRIu32
                 " (each thread is one CPU with its own kmap_atomic slots)",
                 kmapsim_workload_name(w), T, l.nr_cpus);
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
    if (!o->watchdog_set) /* one thread never waits for another: nothing to guard */
        out->watchdog_s = T > 1 ? KMAPSIM_RUN_DEFAULT_WATCHDOG_S : 0;
    out->watchdog_set = 1;
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
        case KW_LOCAL_SWITCH:
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
    /* a coloured window: each round's pages are of one colour, a thread's share of its pages */
    if (w == KW_HOLD_MANY && l.last_pkmap && l.pkmap_colours > 1u)
        per /= l.pkmap_colours;
    if (w == KW_HOLD_MANY && per < run_hold_count((uint32_t)window, T, 0)) {
        snprintf(err, errlen,
                 "hold-many: each of the %" PRIu32 " threads holds up to %" PRIu32
                 " pages at once, so --working-set must be at least %" PRIu64,
                 T, run_hold_count((uint32_t)window, T, 0),
                 (uint64_t)run_hold_count((uint32_t)window, T, 0) * T);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------- */
/* The run's state: failures, marks, events                                               */
/* ------------------------------------------------------------------------------------- */

_Thread_local uint64_t run_tls_sleeps;

int64_t run_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void run_record_failure(struct run *R, int kind, const char *fmt, ...)
{
    char *first = R->first[kind];
    va_list ap;
    pthread_mutex_lock(&R->fail_lock);
    if (!first[0]) {
        va_start(ap, fmt);
        vsnprintf(first, KMAPSIM_RUN_MSG, fmt, ap);
        va_end(ap);
    }
    if (!R->failure[0] && (kind == KMAPSIM_FAIL_WRONG_BYTES || kind == KMAPSIM_FAIL_CALLS)) {
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
 * slots have a present PTE, records the marks of the picture and the first stale
 * translation. Runs on any thread, often with kmap_lock held: it only touches atomics and the
 * leaf locks rec_lock and fail_lock. */
static void on_event(void *cookie, const struct hm_event *ev)
{
    struct run *R = cookie;
    if (ev->kind > 0 && ev->kind <= HM_EV_MACHINE_FAIL)
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
    case HM_EV_MACHINE_FAIL:
        /* The pte_set / pte_clear just counted was refused (a trace's inject fail-...): take
         * it back, so that the window counts only writes the machine carried out. (The peak
         * of present PTEs may have counted a refused map for that instant.) */
        if (in_window(R, ev->a)) {
            if (ev->pte) {
                atomic_fetch_sub_explicit(&R->ev_pte_set_pkmap, 1, memory_order_relaxed);
                atomic_fetch_sub_explicit(&R->mapped, 1, memory_order_relaxed);
                if (R->slot_uses)
                    atomic_fetch_sub_explicit(&R->slot_uses[slot_of(R, ev->a)], 1,
                                              memory_order_relaxed);
            } else {
                atomic_fetch_sub_explicit(&R->ev_pte_clear_pkmap, 1, memory_order_relaxed);
                atomic_fetch_add_explicit(&R->mapped, 1, memory_order_relaxed);
            }
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
        run_tls_sleeps++;
        if (R->o.record)
            add_mark(R, KMAPSIM_MARK_SLEEP);
        break;
    case HM_EV_STALE_TLB:
        run_record_failure(R, KMAPSIM_FAIL_STALE,
                           "stale translation: cpu %" PRIu32 "'s TLB maps 0x%08" PRIx64
                           " to pfn %" PRIu64 ", the PTE is 0x%" PRIx64,
                           ev->cpu, ev->a, ev->b, (uint64_t)ev->pte);
        break;
    case HM_EV_CACHE_FLUSH_PAGE:
        atomic_fetch_add_explicit(&R->ev_cache_flush_page, 1, memory_order_relaxed);
        break;
    case HM_EV_STALE_CACHE:
        atomic_fetch_add_explicit(&R->ev_stale_cache, 1, memory_order_relaxed);
        run_record_failure(R, KMAPSIM_FAIL_STALE_CACHE,
                           "stale cache read: cpu %" PRIu32 " loaded 0x%08" PRIx64
                           " from a stale line of its data cache (the line holds pfn %" PRIu64 ")",
                           ev->cpu, ev->a, ev->b);
        break;
    default:
        break;
    }
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
        uint64_t per_round = 0, rounds;
        for (t = 0; t < T; t++)
            per_round += run_hold_count(R->hold_window, T, t);
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
    harness_machine_close(&R->m);
    if (R->host) /* a forced close: slots the run left mapped go too */
        (void)hm_host_close(R->host, HM_HOST_CLOSE_FORCE);
    free(R->ver);
    free((void *)R->holds);
    zipf_free(&R->zipf);
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

/* --machine host: a host machine over a memfd of the working set (no lowmem: pfn i is page
 * index i), LAST_PKMAP and CPUs as cfg asks, its context in R->m (sim NULL). Returns 0 or -1
 * with err. */
static int run_open_host(struct run *R, const struct hm_config *cfg, char *err, size_t errlen)
{
    struct hm_host_config hc = {.fd = -1, .nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : 1};
    struct hm_hooks hooks = {.on_event = on_event, .event_cookie = R};
    size_t size, align = hm_ctx_align();
    int rc;

    struct hm_layout l;

    hc.mem_size = (R->o.working_set + 1u) * (uint64_t)sysconf(_SC_PAGESIZE);
    hc.last_pkmap = hm_layout_compute(cfg, &l) == HM_OK ? l.last_pkmap : 0; /* the arch's LAST_PKMAP */
    if (hc.last_pkmap == 0) {
        snprintf(err, errlen, "--machine host needs an arch with highmem (its LAST_PKMAP)");
        return -1;
    }
    if ((rc = hm_host_open(&hc, &R->host)) != 0) {
        snprintf(err, errlen, "host machine: %s (%s)", hm_window_strerror(rc), strerror(errno));
        return -1;
    }
    hm_host_config_of(R->host, &R->m.cfg);
    hm_host_machine(R->host, &R->m.hw);
    size = hm_ctx_size(&R->m.cfg);
    R->m.ctx_mem = size ? aligned_alloc(align, (size + align - 1u) / align * align) : NULL;
    if (!R->m.ctx_mem ||
        (rc = hm_ctx_init(R->m.ctx_mem, size, &R->m.cfg, &R->m.hw, &hooks, &R->m.ctx)) != HM_OK) {
        snprintf(err, errlen, "host machine: no context (%s)", R->m.ctx_mem ? hm_strerror(rc) : "out of memory");
        return -1;
    }
    R->m.layout = *hm_ctx_layout(R->m.ctx);
    return 0;
}

/* Open the machine (every event comes to on_event) and take the window's geometry from its
 * layout. Returns 0 or -1 with err. */
static int run_open(struct run *R, const struct hm_config *cfg_in, char *err, size_t errlen)
{
    struct harness_hooks hooks;
    struct hm_config c = *cfg_in;
    const struct hm_config *cfg = &c;
    uint32_t cpus = c.nr_cpus ? c.nr_cpus : 1;

    /* local-switch: each CPU's idle task and RUN_LOCAL_TASKS tasks of its own */
    if (R->o.workload == KW_LOCAL_SWITCH && c.nr_tasks < 1u + RUN_LOCAL_TASKS * cpus)
        c.nr_tasks = 1u + RUN_LOCAL_TASKS * cpus;
    memset(&hooks, 0, sizeof hooks);
    hooks.on_event = on_event;
    hooks.event_cookie = R;
    hooks.cache = R->o.cache;
    hooks.adapt = R->o.adapt;
    hooks.adapt_cookie = R->o.adapt_cookie;
    if (R->o.machine == KMAPSIM_MACHINE_HOST) {
        if (run_open_host(R, cfg, err, errlen) != 0)
            return -1;
    } else if (harness_machine_open(&R->m, cfg, &hooks, err, errlen) != 0) {
        return -1;
    } else {
        hm_sim_machine(R->m.sim, &R->sim_hw); /* the hooks before any adapt */
    }
    R->L = R->m.layout.last_pkmap;
    R->colours = R->L && R->m.layout.pkmap_colours > 1u ? R->m.layout.pkmap_colours : 1u;
    R->hold_window = run_hold_window(&R->m.layout);
    R->pshift = R->m.layout.page_shift;
    R->psize = R->m.layout.page_size;
    R->win_lo = R->m.layout.pkmap_base;
    R->win_hi = (uint64_t)R->m.layout.pkmap_base + (uint64_t)R->L * R->psize;
    R->base = page_base(&R->m.layout);
    R->W = R->o.working_set;
    return 0;
}

/* Build the run's tables. Returns 0 or -1 with err. */
static int run_setup(struct run *R, char *err, size_t errlen)
{
    const struct hm_layout *l = &R->m.layout;
    uint32_t i;

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
        for (i = 0; i < l->nr_km_types; i++)
            if (l->km_types && strcmp(l->km_types[i], "KM_BOUNCE_READ") == 0)
                t = (long)i;
        if (t < 0) {
            snprintf(err, errlen, "the %s layout has no KM_BOUNCE_READ slot", l->arch);
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

void run_collect(struct run *R, struct kmapsim_run_result *r)
{
    uint32_t T = R->o.threads, t, k;

    snprintf(r->arch, sizeof r->arch, "%s", R->m.layout.arch);
    r->workload = R->o.workload;
    r->kernel = (int)R->m.layout.kernel;
    r->last_pkmap = R->L;
    r->threads = T;
    r->cpus = R->m.layout.nr_cpus;
    r->working_set = R->W;
    r->seed = R->o.seed;
    r->ops = atomic_load(&R->ops_done);
    for (t = 0; t < T; t++) {
        struct worker *w = &R->ws[t];
        uint64_t sleep_ns = atomic_load_explicit(&w->sleep_ns, memory_order_relaxed);
        uint64_t longest = atomic_load_explicit(&w->sleep_longest, memory_order_relaxed);
        r->kmaps += atomic_load_explicit(&w->kmaps, memory_order_relaxed);
        r->kunmaps += atomic_load_explicit(&w->kunmaps, memory_order_relaxed);
        r->kmap_atomics += atomic_load_explicit(&w->atomics, memory_order_relaxed);
        r->op_errors += atomic_load_explicit(&w->errors, memory_order_relaxed);
        r->bytes_checked += atomic_load_explicit(&w->bytes, memory_order_relaxed);
        r->wrong_bytes += atomic_load_explicit(&w->wrong, memory_order_relaxed);
        r->dma_flushes += atomic_load_explicit(&w->dma_flushes, memory_order_relaxed);
        r->sleep_ns_total += sleep_ns;
        if (sleep_ns > r->sleep_ns_max_thread)
            r->sleep_ns_max_thread = sleep_ns;
        if (longest > r->sleep_ns_longest)
            r->sleep_ns_longest = longest;
    }
    if (R->m.sim)
        hm_sim_get_stats(R->m.sim, &r->sim);
    r->host = R->host != NULL;
    if (R->host)
        hm_host_stats(R->host, &r->host_stats);
    for (k = 0; k <= HM_EV_MACHINE_FAIL; k++)
        r->ev[k] = atomic_load(&R->ev[k]);
    r->ev_pte_set_pkmap = atomic_load(&R->ev_pte_set_pkmap);
    r->ev_pte_clear_pkmap = atomic_load(&R->ev_pte_clear_pkmap);
    r->ev_tlb_flush_page_all_cpus = atomic_load(&R->ev_flush_page_all);
    r->stale = r->ev[HM_EV_STALE_TLB];
    r->cache_on = R->m.cache_on;
    r->stale_cache = atomic_load(&R->ev_stale_cache);
    r->ev_cache_flush_page = atomic_load(&R->ev_cache_flush_page);
    r->peak_in_use = atomic_load(&R->peak);
    r->mean_in_use = r->ops ? (double)atomic_load(&R->in_use_sum) / (double)r->ops : 0.0;
    r->peak_mapped = atomic_load(&R->mapped_peak);
    r->mean_mapped = r->ops ? (double)atomic_load(&R->mapped_sum) / (double)r->ops : 0.0;
    r->end_in_use = atomic_load(&R->in_use);
    r->end_mapped = atomic_load(&R->mapped);
    pthread_mutex_lock(&R->fail_lock);
    snprintf(r->failure, sizeof r->failure, "%s", R->failure);
    memcpy(r->first, R->first, sizeof r->first);
    pthread_mutex_unlock(&R->fail_lock);
}

void run_collect_library(struct run *R, struct kmapsim_run_result *r)
{
    uint32_t k;

    hm_get_stats(R->m.ctx, &r->hm);
    r->invariants = hm_check_invariants(R->m.ctx, r->invariant_msg, sizeof r->invariant_msg);
    r->end_count_ge2 = r->end_count1 = 0;
    for (k = 0; k < R->L; k++) {
        int c = hm_pkmap_count(R->m.ctx, k);
        if (c >= 2)
            r->end_count_ge2++;
        else if (c == 1)
            r->end_count1++;
    }
}

/* Hand the recording over to the result (samples and marks sorted: threads record out of
 * order). */
static void take_recording(struct run *R, struct kmapsim_run_result *r)
{
    uint32_t k;

    if (R->nsamples > 1)
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

int kmapsim_run_one(const struct hm_config *cfg, const struct kmapsim_run_opts *o,
                    struct kmapsim_run_result *r, char *err, size_t errlen)
{
    struct run *R = calloc(1, sizeof *R);
    struct worker ws[KMAPSIM_RUN_MAX_THREADS];
    pthread_t th[KMAPSIM_RUN_MAX_THREADS], mon;
    uint32_t T, t;
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
    R->ws = ws;
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
        ws[t].rng = rng_mix64(o->seed ^ (UINT64_C(0x51ed270b27a1f3) * (t + 1)));
    }
    if (run_open(R, cfg, err, errlen) != 0) {
        run_free(R);
        return -1;
    }
    split_ops(R, ws);
    for (t = 0; t < T; t++) {
        if (o->workload == KW_HOLD_MANY) /* nops counts rounds there */
            total += ws[t].nops * run_hold_count(R->hold_window, T, t);
        else
            total += ws[t].nops;
    }
    R->o.ops = total; /* what the progress bar and the sampling count towards */
    if (run_setup(R, err, errlen) != 0) {
        run_free(R);
        return -1;
    }
    for (t = 0; t < T; t++)
        ws[t].cpu = t % R->m.layout.nr_cpus;

    R->t0 = run_now_ns();
    mon_ok = pthread_create(&mon, NULL, run_monitor_main, R) == 0;
    if (T == 1) {
        run_worker_main(&ws[0]); /* single-threaded runs stay on this thread */
    } else {
        for (t = 0; t < T; t++) {
            if (pthread_create(&th[t], NULL, run_worker_main, &ws[t]) != 0) {
                /* Threads already started may wait on the others at a barrier: give up. */
                fprintf(stderr, "kmapsim: cannot create worker thread %" PRIu32 "\n", t);
                fflush(stderr);
                _exit(2);
            }
        }
        for (t = 0; t < T; t++)
            pthread_join(th[t], NULL);
    }
    r->wall_ns = (uint64_t)(run_now_ns() - R->t0);
    pthread_mutex_lock(&R->mon_lock);
    R->done = 1;
    pthread_cond_signal(&R->mon_cond);
    pthread_mutex_unlock(&R->mon_lock);
    if (mon_ok)
        pthread_join(mon, NULL);

    run_collect(R, r);
    run_collect_library(R, r);
    if (o->record)
        take_recording(R, r);
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
