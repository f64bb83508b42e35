/* host_window.c - benchmark of host/window.c: one Zipf access pattern over a memory 16x the
 * window, served by libhighmem on the host machine (hm_kmap/hm_kunmap; coalesced+strict and
 * lazy windows), a refcounted stand-in window (each unmapping policy), mmap+munmap,
 * pread/pwrite and one whole mapping; ns and system calls per access, medians of alternating runs. SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "host/host.h"
#include "host/window.h"

#define MAX_THREADS 8
#define MAX_LIST 8
#define MAX_RUNS 99
#define CAL_MIN 50000 /* accesses of each hit-rate calibration step, at least */

static const char usage[] =
    "usage: host_window [options]\n"
    "  --slots N        window slots, a power of two (default 1024: x86 LAST_PKMAP)\n"
    "  --ratio R        memory = R x the window (default 16)\n"
    "  --accesses N     timed accesses per thread and run (default 200000)\n"
    "  --runs N         runs; each runs every method once, in rotated order (default 5)\n"
    "  --threads LIST   thread counts, comma-separated (default 1,2)\n"
    "  --hit LIST       target hit rates of the refcounted window, in %% (default 50,90,99)\n"
    "  --methods LIST   of libhighmem,libhighmem-lazy,window-eager,window-coalesced,window-lazy,\n"
    "                   mmap,pread,whole (default all)\n"
    "  --seed N         seed of the access pattern (default 1)\n"
    "  --help           this text\n"
    "Prints Markdown: per thread count, one row per method, ns and system calls per access\n"
    "(medians over the runs; ns with half the runs' range) at each hit rate.\n"
    "ns/access = wall time / accesses per thread.\n";

/* ---------------------------------------------------------------------------------------
 * Options.
 * ------------------------------------------------------------------------------------- */
struct opts {
    uint32_t slots, ratio, accesses, runs, seed;
    unsigned nthreads, threads[MAX_LIST];
    unsigned nhits, hits[MAX_LIST];
    unsigned methods; /* bit i: method i */
};

/* ---------------------------------------------------------------------------------------
 * The access pattern: Zipf(s) over the pages, ranks scattered by a permutation.
 * ------------------------------------------------------------------------------------- */
struct pattern {
    uint32_t pages;
    uint32_t *perm; /* rank -> page */
    double *cdf;    /* cdf[k] = P(rank <= k) */
};

static void pattern_set(struct pattern *pt, double s)
{
    double sum = 0;
    for (uint32_t k = 0; k < pt->pages; k++)
        pt->cdf[k] = sum += pow((double)k + 1.0, -s);
    for (uint32_t k = 0; k < pt->pages; k++)
        pt->cdf[k] /= sum;
}

static void pattern_fill(const struct pattern *pt, uint64_t seed, uint32_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double u = (double)(bench_rng_next(&seed) >> 11) * 0x1.0p-53;
        uint32_t lo = 0, hi = pt->pages - 1;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (pt->cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        out[i] = pt->perm[lo];
    }
}

/* ---------------------------------------------------------------------------------------
 * The refcounted window: a stand-in for the pkmap core until it runs on the host. Its slot
 * choice is kmap_high's: a cursor over the slots; on a wrap, every slot mapped but unused is
 * cleared and the window flushed once (flush_all_zero_pkmaps); count 0 = free, 1 = mapped and
 * unused, n + 1 = n users. A plain hash maps pages to slots.
 * ------------------------------------------------------------------------------------- */
struct refwin {
    struct hm_window *w; /* NULL: bookkeeping only (the hit-rate calibration) */
    pthread_mutex_t lock;
    pthread_cond_t wait;
    uint32_t slots, last, waiters;
    uint32_t *count;
    uint64_t *page_of;
    uint64_t *hkey; /* open addressing, linear probing; key page + 1, 0 = empty */
    uint32_t *hval, hmask;
    uint64_t hits, misses, failures;
};

static uint32_t hash_at(const struct refwin *r, uint64_t page)
{
    return (uint32_t)((page * 0x9e3779b97f4a7c15ull) >> 40) & r->hmask;
}

static int64_t hash_find(const struct refwin *r, uint64_t page)
{
    for (uint32_t i = hash_at(r, page);; i = (i + 1) & r->hmask) {
        if (r->hkey[i] == 0)
            return -1;
        if (r->hkey[i] == page + 1)
            return r->hval[i];
    }
}

static void hash_insert(struct refwin *r, uint64_t page, uint32_t slot)
{
    uint32_t i = hash_at(r, page);
    while (r->hkey[i] != 0)
        i = (i + 1) & r->hmask;
    r->hkey[i] = page + 1;
    r->hval[i] = slot;
}

/* Remove page; the entries after it in its probe run move back (no tombstones). */
static void hash_remove(struct refwin *r, uint64_t page)
{
    uint32_t i = hash_at(r, page), j, home;
    while (r->hkey[i] != page + 1)
        i = (i + 1) & r->hmask;
    for (j = (i + 1) & r->hmask; r->hkey[j] != 0; j = (j + 1) & r->hmask) {
        home = hash_at(r, r->hkey[j] - 1);
        if (((j - home) & r->hmask) >= ((j - i) & r->hmask)) {
            r->hkey[i] = r->hkey[j];
            r->hval[i] = r->hval[j];
            i = j;
        }
    }
    r->hkey[i] = 0;
}

static int refwin_init(struct refwin *r, struct hm_window *w, uint32_t slots)
{
    memset(r, 0, sizeof *r);
    r->w = w;
    r->slots = slots;
    r->hmask = 4 * slots - 1;
    r->count = calloc(slots, sizeof *r->count);
    r->page_of = calloc(slots, sizeof *r->page_of);
    r->hkey = calloc(4 * (size_t)slots, sizeof *r->hkey);
    r->hval = calloc(4 * (size_t)slots, sizeof *r->hval);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wait, NULL);
    return r->count && r->page_of && r->hkey && r->hval ? 0 : -1;
}

static void refwin_free(struct refwin *r)
{
    free(r->count);
    free(r->page_of);
    free(r->hkey);
    free(r->hval);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wait);
}

static void refwin_flush_unused(struct refwin *r)
{
    for (uint32_t i = 0; i < r->slots; i++) {
        if (r->count[i] != 1)
            continue;
        r->count[i] = 0;
        hash_remove(r, r->page_of[i]);
        if (r->w && hm_window_unmap(r->w, i) != HM_WINDOW_OK)
            r->failures++;
    }
    if (r->w && hm_window_flush(r->w, 0, r->slots) != HM_WINDOW_OK)
        r->failures++;
}

/* map_new_virtual's scan: the next free slot after the cursor, flushing on a wrap; -1 if a
 * whole pass after a flush finds none. */
static int64_t refwin_scan(struct refwin *r)
{
    for (uint32_t budget = r->slots;;) {
        r->last = (r->last + 1) & (r->slots - 1);
        if (r->last == 0) {
            refwin_flush_unused(r);
            budget = r->slots;
        }
        if (r->count[r->last] == 0)
            return r->last;
        if (--budget == 0)
            return -1;
    }
}

/* kmap: the slot now holding page (count raised), -1 if the window could not map it. */
static int64_t refwin_get(struct refwin *r, uint64_t page)
{
    int64_t s;
    pthread_mutex_lock(&r->lock);
    while ((s = hash_find(r, page)) < 0 && (s = refwin_scan(r)) < 0) {
        r->waiters++;
        pthread_cond_wait(&r->wait, &r->lock);
        r->waiters--;
    }
    if (r->count[s] > 0) {
        r->hits++;
        r->count[s]++;
    } else if (r->w && hm_window_map(r->w, (uint32_t)s, page, HM_WINDOW_READ | HM_WINDOW_WRITE)) {
        r->failures++;
        s = -1;
    } else {
        r->misses++;
        r->count[s] = 2;
        r->page_of[s] = page;
        hash_insert(r, page, (uint32_t)s);
    }
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* kunmap: drop one user; wake the waiters when the slot became reusable. */
static void refwin_put(struct refwin *r, uint32_t slot)
{
    pthread_mutex_lock(&r->lock);
    if (--r->count[slot] == 1 && r->waiters)
        pthread_cond_broadcast(&r->wait);
    pthread_mutex_unlock(&r->lock);
}

/* The stand-in's hit rate on pattern s (bookkeeping only, one thread, after a warm-up). */
static double refwin_hit_rate(struct pattern *pt, uint32_t slots, double s, uint32_t *seq, size_t n)
{
    struct refwin r;
    double rate;
    pattern_set(pt, s);
    pattern_fill(pt, 12345, seq, n);
    if (refwin_init(&r, NULL, slots) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (i == n / 5)
            r.hits = r.misses = 0;
        refwin_put(&r, (uint32_t)refwin_get(&r, seq[i]));
    }
    rate = (double)r.hits / (double)(r.hits + r.misses);
    refwin_free(&r);
    return rate;
}

/* The Zipf exponent giving the stand-in hit rate target (bisection; the rate grows with s). */
static double calibrate(struct pattern *pt, uint32_t slots, double target, uint32_t *seq, size_t n)
{
    double lo = 0, hi = 4;
    for (int i = 0; i < 30; i++) {
        double mid = (lo + hi) / 2;
        if (refwin_hit_rate(pt, slots, mid, seq, n) < target)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

/* ---------------------------------------------------------------------------------------
 * The access methods. get returns the page's bytes (and may leave a cookie in the thread's
 * context for put); put releases them. libhighmem: the pkmap core on a host machine over the
 * same memfd, get = hm_kmap, put = hm_kunmap.
 * ------------------------------------------------------------------------------------- */
struct bench;
struct thr {
    struct bench *b;
    unsigned t;
    const uint32_t *seq;
    size_t n;
    uint64_t syscalls; /* made by the method itself (mmap, pread); the window counts its own */
    int64_t cookie;
    int64_t t0, t1;     /* the timed loop's start and end */
    unsigned char *buf; /* pread: one page */
    int failed;
};

struct method {
    const char *name;
    int policy; /* window and libhighmem methods: enum hm_window_policy; else -1 */
    int (*setup)(struct bench *b);
    void (*teardown)(struct bench *b);
    unsigned char *(*get)(struct thr *t, uint64_t page);
    void (*put)(struct thr *t, uint64_t page, unsigned char *p);
};

struct bench {
    const struct method *m;
    int fd;
    size_t ps;
    uint32_t slots, pages;
    struct hm_window *w; /* the stand-in's window */
    struct refwin r;
    struct hm_host *host; /* libhighmem: the host machine and the context on it */
    struct hm_ctx *ctx;
    void *ctx_mem;
    unsigned char *whole;
    pthread_barrier_t start;
};

static int window_setup(struct bench *b)
{
    struct hm_window_config cfg = {.fd = b->fd, .mem_size = (uint64_t)b->pages * b->ps,
                                   .slots = b->slots, .policy = b->m->policy,
                                   .strict = b->m->policy != HM_WINDOW_LAZY};
    int err = hm_window_open(&cfg, &b->w);
    if (err != HM_WINDOW_OK) {
        fprintf(stderr, "host_window: hm_window_open: %s (%s)\n", hm_window_strerror(err),
                strerror(errno));
        return -1;
    }
    if (refwin_init(&b->r, b->w, b->slots) != 0) {
        fprintf(stderr, "host_window: out of memory\n");
        refwin_free(&b->r);
        hm_window_close(b->w, 0);
        return -1;
    }
    return 0;
}

static void window_teardown(struct bench *b)
{
    int err;
    refwin_flush_unused(&b->r);
    if (b->r.failures)
        fprintf(stderr, "host_window: %llu window calls failed\n", (unsigned long long)b->r.failures);
    refwin_free(&b->r);
    if ((err = hm_window_close(b->w, 0)) != HM_WINDOW_OK)
        fprintf(stderr, "host_window: close: %s\n", hm_window_strerror(err));
    b->w = NULL;
}

static unsigned char *window_get(struct thr *t, uint64_t page)
{
    t->cookie = refwin_get(&t->b->r, page);
    return t->cookie < 0 ? NULL : hm_window_addr(t->b->w, (uint32_t)t->cookie);
}

static void window_put(struct thr *t, uint64_t page, unsigned char *p)
{
    (void)page, (void)p;
    refwin_put(&t->b->r, (uint32_t)t->cookie);
}

/* libhighmem on a host machine over the bench's memfd, every page highmem, LAST_PKMAP = slots;
 * coalesced + strict is the host's default window, lazy a custom one. */
static int hm_setup(struct bench *b)
{
    struct hm_host_config hc = {.fd = b->fd, .mem_size = (uint64_t)b->pages * b->ps,
                                .last_pkmap = b->slots, .nr_cpus = 1,
                                .custom_window = b->m->policy != HM_WINDOW_COALESCED,
                                .policy = b->m->policy, .strict = b->m->policy != HM_WINDOW_LAZY};
    struct hm_config cfg;
    struct hm_machine mach;
    size_t size, align;
    int err = hm_host_open(&hc, &b->host);
    if (err != 0) {
        fprintf(stderr, "host_window: hm_host_open: %s (%s)\n", hm_window_strerror(err),
                strerror(errno));
        return -1;
    }
    hm_host_config_of(b->host, &cfg);
    hm_host_machine(b->host, &mach);
    size = hm_ctx_size(&cfg), align = hm_ctx_align();
    b->ctx_mem = aligned_alloc(align, (size + align - 1) / align * align);
    if (!b->ctx_mem || hm_ctx_init(b->ctx_mem, size, &cfg, &mach, NULL, &b->ctx) != HM_OK) {
        fprintf(stderr, "host_window: hm_ctx_init failed\n");
        free(b->ctx_mem);
        hm_host_close(b->host, HM_HOST_CLOSE_FORCE);
        b->host = NULL;
        return -1;
    }
    return 0;
}

static void hm_teardown(struct bench *b)
{
    int err;
    if (hm_kmap_flush_unused(b->ctx) != HM_OK)
        fprintf(stderr, "host_window: hm_kmap_flush_unused failed\n");
    if ((err = hm_host_close(b->host, 0)) != 0)
        fprintf(stderr, "host_window: hm_host_close: %s\n", hm_window_strerror(err));
    free(b->ctx_mem);
    b->host = NULL, b->ctx = NULL, b->ctx_mem = NULL;
}

static unsigned char *hm_get(struct thr *t, uint64_t page)
{
    hm_vaddr_t v;
    return hm_kmap(t->b->ctx, (hm_pfn_t)page, &v) == HM_OK ? hm_host_ptr(v) : NULL;
}

static void hm_put(struct thr *t, uint64_t page, unsigned char *p)
{
    (void)p;
    if (hm_kunmap(t->b->ctx, (hm_pfn_t)page) != HM_OK)
        t->failed = 1;
}

static unsigned char *mmap_get(struct thr *t, uint64_t page)
{
    void *p = mmap(NULL, t->b->ps, PROT_READ | PROT_WRITE, MAP_SHARED, t->b->fd,
                   (off_t)(page * t->b->ps));
    t->syscalls++;
    return p == MAP_FAILED ? NULL : p;
}

static void mmap_put(struct thr *t, uint64_t page, unsigned char *p)
{
    (void)page;
    munmap(p, t->b->ps);
    t->syscalls++;
}

static unsigned char *pread_get(struct thr *t, uint64_t page)
{
    t->syscalls++;
    return pread(t->b->fd, t->buf, t->b->ps, (off_t)(page * t->b->ps)) == (ssize_t)t->b->ps
               ? t->buf
               : NULL;
}

static void pread_put(struct thr *t, uint64_t page, unsigned char *p)
{
    t->syscalls++;
    if (pwrite(t->b->fd, p, t->b->ps, (off_t)(page * t->b->ps)) != (ssize_t)t->b->ps)
        t->failed = 1;
}

static int whole_setup(struct bench *b)
{
    void *p = mmap(NULL, (size_t)b->pages * b->ps, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, b->fd, 0);
    if (p == MAP_FAILED) {
        perror("host_window: mmap of the whole memory");
        return -1;
    }
    b->whole = p;
    return 0;
}

static void whole_teardown(struct bench *b)
{
    munmap(b->whole, (size_t)b->pages * b->ps);
}

static unsigned char *whole_get(struct thr *t, uint64_t page)
{
    return t->b->whole + page * t->b->ps;
}

static void nothing_put(struct thr *t, uint64_t page, unsigned char *p)
{
    (void)t, (void)page, (void)p;
}

static int nothing_setup(struct bench *b)
{
    (void)b;
    return 0;
}

static void nothing_teardown(struct bench *b)
{
    (void)b;
}

static const struct method methods[] = {
    {"libhighmem", HM_WINDOW_COALESCED, hm_setup, hm_teardown, hm_get, hm_put},
    {"libhighmem-lazy", HM_WINDOW_LAZY, hm_setup, hm_teardown, hm_get, hm_put},
    {"window-eager", HM_WINDOW_EAGER, window_setup, window_teardown, window_get, window_put},
    {"window-coalesced", HM_WINDOW_COALESCED, window_setup, window_teardown, window_get, window_put},
    {"window-lazy", HM_WINDOW_LAZY, window_setup, window_teardown, window_get, window_put},
    {"mmap", -1, nothing_setup, nothing_teardown, mmap_get, mmap_put},
    {"pread", -1, nothing_setup, nothing_teardown, pread_get, pread_put},
    {"whole", -1, whole_setup, whole_teardown, whole_get, nothing_put},
};
#define NMETHODS (sizeof methods / sizeof methods[0])

/* ---------------------------------------------------------------------------------------
 * Runs.
 * ------------------------------------------------------------------------------------- */
/* One access: thread t increments word t of the page (threads never write the same word). */
static void access_loop(struct thr *t, const uint32_t *seq, size_t n)
{
    const struct method *m = t->b->m;
    for (size_t i = 0; i < n && !t->failed; i++) {
        unsigned char *p = m->get(t, seq[i]);
        if (!p) {
            t->failed = 1;
            break;
        }
        ((volatile uint64_t *)p)[t->t] += 1;
        m->put(t, seq[i], p);
    }
}

/* Each thread times itself from the common start: the run's wall time is the first start to
 * the last end (the main thread may be scheduled after short runs are over). */
static void *thread_main(void *arg)
{
    struct thr *t = arg;
    pthread_barrier_wait(&t->b->start);
    t->t0 = bench_now_ns();
    access_loop(t, t->seq, t->n);
    t->t1 = bench_now_ns();
    return NULL;
}

/* The sum of the first nthreads words of every page, read through the fd. */
static uint64_t memory_sum(const struct bench *b, unsigned nthreads)
{
    uint64_t sum = 0, w[MAX_THREADS];
    for (uint32_t p = 0; p < b->pages; p++) {
        if (pread(b->fd, w, nthreads * sizeof w[0], (off_t)((uint64_t)p * b->ps)) < 0)
            return 0;
        for (unsigned i = 0; i < nthreads; i++)
            sum += w[i];
    }
    return sum;
}

struct result {
    double ns, syscalls, hit;
};

/* One method, one run: warm up on the first tenth of each thread's sequence (untimed), then
 * time the whole sequence; checks that every access reached memory. */
static int run_one(struct bench *b, const struct method *m, unsigned nthreads, uint32_t *const *seq,
                   size_t n, struct result *res)
{
    struct thr t[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    struct hm_window_stats s0, s1;
    struct hm_host_stats hs;
    struct hm_stats ks0, ks1;
    uint64_t sum0, sum1, want, hits0 = 0, miss0 = 0, sc = 0;
    int64_t t0, t1;
    int failed = 0;

    b->m = m;
    if (m->setup(b) != 0)
        return -1;
    sum0 = memory_sum(b, nthreads);
    for (unsigned i = 0; i < nthreads; i++) {
        t[i] = (struct thr){.b = b, .t = i, .seq = seq[i], .n = n, .buf = malloc(b->ps)};
        access_loop(&t[i], seq[i], n / 10);
    }
    if (b->w) {
        hm_window_stats(b->w, &s0);
        hits0 = b->r.hits, miss0 = b->r.misses;
    } else if (b->host) {
        hm_host_stats(b->host, &hs);
        s0 = hs.window;
        hm_get_stats(b->ctx, &ks0);
    }
    for (unsigned i = 0; i < nthreads; i++)
        t[i].syscalls = 0;
    pthread_barrier_init(&b->start, NULL, nthreads + 1);
    for (unsigned i = 0; i < nthreads; i++)
        pthread_create(&tid[i], NULL, thread_main, &t[i]);
    pthread_barrier_wait(&b->start);
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&b->start);
    t0 = t[0].t0, t1 = t[0].t1;
    for (unsigned i = 0; i < nthreads; i++) {
        t0 = t[i].t0 < t0 ? t[i].t0 : t0;
        t1 = t[i].t1 > t1 ? t[i].t1 : t1;
        sc += t[i].syscalls;
        failed |= t[i].failed;
        free(t[i].buf);
    }
    res->hit = -1;
    if (b->w) {
        hm_window_stats(b->w, &s1);
        sc += s1.map_syscalls + s1.unmap_syscalls - s0.map_syscalls - s0.unmap_syscalls;
        res->hit = 100.0 * (double)(b->r.hits - hits0) /
                   (double)(b->r.hits - hits0 + b->r.misses - miss0);
    } else if (b->host) {
        hm_host_stats(b->host, &hs);
        s1 = hs.window;
        sc += s1.map_syscalls + s1.unmap_syscalls - s0.map_syscalls - s0.unmap_syscalls;
        hm_get_stats(b->ctx, &ks1);
        res->hit = 100.0 * (double)(ks1.kmap_hits - ks0.kmap_hits) /
                   (double)(ks1.kmap_calls - ks0.kmap_calls);
    }
    m->teardown(b);
    sum1 = memory_sum(b, nthreads);
    want = (uint64_t)nthreads * (n + n / 10);
    /* pread/pwrite of whole pages from two threads may lose the other's update: at most. */
    if (failed || sum1 - sum0 > want || (sum1 - sum0 < want && (m->get != pread_get || nthreads == 1))) {
        fprintf(stderr, "host_window: %s, %u threads: %llu of %llu accesses reached memory%s\n",
                m->name, nthreads, (unsigned long long)(sum1 - sum0), (unsigned long long)want,
                failed ? " (a call failed)" : "");
        return -1;
    }
    res->ns = (double)(t1 - t0) / (double)n;
    res->syscalls = (double)sc / ((double)n * nthreads);
    return 0;
}

/* Parse the command line into o. Returns 0, 1 for --help (printed), 2 on an error (said). */
static int parse_args(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i += 2) { /* every option but --help takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        int ok = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        } else if (strcmp(a, "--slots") == 0) {
            ok = bench_parse_u32(v, &o->slots, 2, 1u << 20) && !(o->slots & (o->slots - 1));
        } else if (strcmp(a, "--ratio") == 0) {
            ok = bench_parse_u32(v, &o->ratio, 1, 1024);
        } else if (strcmp(a, "--accesses") == 0) {
            ok = bench_parse_u32(v, &o->accesses, 10, 100000000);
        } else if (strcmp(a, "--runs") == 0) {
            ok = bench_parse_u32(v, &o->runs, 1, MAX_RUNS);
        } else if (strcmp(a, "--seed") == 0) {
            ok = bench_parse_u32(v, &o->seed, 0, UINT32_MAX);
        } else if (strcmp(a, "--threads") == 0) {
            ok = (o->nthreads = bench_parse_list(v, o->threads, MAX_LIST, 1, MAX_THREADS)) != 0;
        } else if (strcmp(a, "--hit") == 0) {
            ok = (o->nhits = bench_parse_list(v, o->hits, MAX_LIST, 1, 99)) != 0;
        } else if (strcmp(a, "--methods") == 0) {
            char buf[256], *save = NULL;
            snprintf(buf, sizeof buf, "%s", v);
            o->methods = 0;
            for (char *tok = strtok_r(buf, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
                unsigned k = 0;
                while (k < NMETHODS && strcmp(tok, methods[k].name) != 0)
                    k++;
                ok = k < NMETHODS;
                o->methods |= 1u << k;
            }
            ok = ok && o->methods;
        } else {
            fprintf(stderr, "host_window: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "host_window: bad value '%s' for %s (see --help)\n", v, a);
            return 2;
        }
    }
    return 0;
}

/* The memory (a memfd, every page allocated before any timing) and the pattern's permutation
 * of ranks to pages. Returns 0, -1 on an error (said). */
static int memory_init(struct bench *b, struct pattern *pt, uint32_t seed)
{
    uint64_t x = seed, zero = 0;
    b->fd = memfd_create("host_window_bench", MFD_CLOEXEC);
    if (b->fd < 0 || ftruncate(b->fd, (off_t)((uint64_t)b->pages * b->ps)) != 0) {
        perror("host_window: memfd");
        return -1;
    }
    for (uint32_t p = 0; p < b->pages; p++) {
        if (pwrite(b->fd, &zero, sizeof zero, (off_t)((uint64_t)p * b->ps)) != sizeof zero) {
            perror("host_window: pwrite");
            return -1;
        }
    }
    pt->pages = b->pages;
    for (uint32_t k = 0; k < b->pages; k++)
        pt->perm[k] = k;
    for (uint32_t k = b->pages - 1; k > 0; k--) {
        uint32_t j = (uint32_t)(bench_rng_next(&x) % (k + 1)), tmp = pt->perm[k];
        pt->perm[k] = pt->perm[j];
        pt->perm[j] = tmp;
    }
    return 0;
}

/* Per hit rate h, thread count ti, method k and run r. */
struct figures {
    double ns[MAX_LIST][MAX_LIST][NMETHODS][MAX_RUNS];
    double calls[MAX_LIST][MAX_LIST][NMETHODS][MAX_RUNS];
    double hit[MAX_LIST][MAX_LIST][NMETHODS][MAX_RUNS];
    double zipf_s[MAX_LIST];
};

/* Every hit rate, thread count and run; in run r the methods start at the r-th. */
static int measure(const struct opts *o, struct bench *b, struct pattern *pt, uint32_t **seq,
                   uint32_t *cal, size_t n_cal, struct figures *f)
{
    for (unsigned h = 0; h < o->nhits; h++) {
        f->zipf_s[h] = calibrate(pt, o->slots, o->hits[h] / 100.0, cal, n_cal);
        pattern_set(pt, f->zipf_s[h]);
        for (unsigned i = 0; i < MAX_THREADS; i++)
            pattern_fill(pt, (uint64_t)o->seed * 1000003u + i * 7919u + h, seq[i], o->accesses);
        for (unsigned ti = 0; ti < o->nthreads; ti++) {
            for (unsigned r = 0; r < o->runs; r++) {
                for (unsigned k0 = 0; k0 < NMETHODS; k0++) {
                    unsigned k = (k0 + r) % NMETHODS;
                    struct result res;
                    if (!(o->methods & (1u << k)))
                        continue;
                    if (run_one(b, &methods[k], o->threads[ti], seq, o->accesses, &res) != 0)
                        return -1;
                    f->ns[h][ti][k][r] = res.ns;
                    f->calls[h][ti][k][r] = res.syscalls;
                    f->hit[h][ti][k][r] = res.hit;
                }
            }
        }
    }
    return 0;
}

static void print_figures(const struct opts *o, struct figures *f)
{
    for (unsigned ti = 0; ti < o->nthreads; ti++) {
        printf("%u thread%s: ns per access (wall time / accesses per thread; ± half the "
               "runs' range, in %% of the median) and system calls per access, medians of %u "
               "runs\n\n| method |",
               o->threads[ti], o->threads[ti] > 1 ? "s" : "", o->runs);
        for (unsigned h = 0; h < o->nhits; h++)
            printf(" %u %% ns | %u %% calls |", o->hits[h], o->hits[h]);
        printf("\n|---|");
        for (unsigned h = 0; h < o->nhits; h++)
            printf("---:|---:|");
        printf("\n");
        for (unsigned k = 0; k < NMETHODS; k++) {
            if (!(o->methods & (1u << k)))
                continue;
            printf("| %s |", methods[k].name);
            for (unsigned h = 0; h < o->nhits; h++) {
                double *v = f->ns[h][ti][k], med = bench_median(v, o->runs); /* v now sorted */
                if (med >= 10)
                    printf(" %.0f ±%.0f%% |", med, 50.0 * (v[o->runs - 1] - v[0]) / med);
                else /* a few ns: the range says nothing more */
                    printf(" %.1f (%.1f-%.1f) |", med, v[0], v[o->runs - 1]);
                printf(" %.3f |", bench_median(f->calls[h][ti][k], o->runs));
            }
            printf("\n");
        }
        printf("\n");
    }
    printf("Zipf exponent s per target hit rate, and the measured hit rates (medians of the "
           "runs) per thread count: the stand-in window's (window-*) and libhighmem's "
           "(kmap_hits / kmap_calls):\n\n");
    for (unsigned h = 0; h < o->nhits; h++) {
        printf("- %u %%: s = %.3f; measured", o->hits[h], f->zipf_s[h]);
        for (unsigned g = 0; g < 2; g++) { /* g 0: methods 2..4 (window-*); 1: 0..1 */
            unsigned k0 = g ? 0 : 2, k1 = g ? 2 : 5;
            printf("%s", g ? "; libhighmem" : " window");
            for (unsigned ti = 0; ti < o->nthreads; ti++) {
                double v[3 * MAX_RUNS];
                unsigned nv = 0;
                for (unsigned k = k0; k < k1; k++)
                    for (unsigned r = 0; (o->methods & (1u << k)) && r < o->runs; r++)
                        v[nv++] = f->hit[h][ti][k][r];
                if (nv)
                    printf(" %.1f %% (%u thread%s)", bench_median(v, nv), o->threads[ti],
                           o->threads[ti] > 1 ? "s" : "");
            }
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    struct opts o = {.slots = 1024, .ratio = 16, .accesses = 200000, .runs = 5, .seed = 1,
                     .nthreads = 2, .threads = {1, 2}, .nhits = 3, .hits = {50, 90, 99},
                     .methods = (1u << NMETHODS) - 1};
    static struct figures f;
    struct bench b = {.fd = -1};
    struct pattern pt;
    uint32_t *seq[MAX_THREADS] = {NULL}, *cal;
    size_t n_cal;
    int rc = parse_args(argc, argv, &o), ok = 1;

    if (rc != 0)
        return rc == 1 ? 0 : rc;
    rc = 1;
    b.ps = (size_t)sysconf(_SC_PAGESIZE);
    b.slots = o.slots;
    b.pages = o.slots * o.ratio;
    n_cal = o.accesses < CAL_MIN ? CAL_MIN : o.accesses;
    pt.perm = malloc(b.pages * sizeof *pt.perm);
    pt.cdf = malloc(b.pages * sizeof *pt.cdf);
    cal = malloc(n_cal * sizeof *cal);
    for (unsigned i = 0; i < MAX_THREADS; i++)
        ok = ok && (seq[i] = malloc(o.accesses * sizeof *seq[i]));
    if (!pt.perm || !pt.cdf || !cal || !ok)
        fprintf(stderr, "host_window: out of memory\n");
    else if (memory_init(&b, &pt, o.seed) == 0) {
        printf("memory %u pages of %zu bytes (%u x a window of %u slots), %u timed accesses "
               "per thread and run, %u runs, seed %u\n\n",
               b.pages, b.ps, o.ratio, o.slots, o.accesses, o.runs, o.seed);
        if (measure(&o, &b, &pt, seq, cal, n_cal, &f) == 0) {
            print_figures(&o, &f);
            rc = 0;
        }
    }
    if (b.fd >= 0)
        close(b.fd);
    for (unsigned i = 0; i < MAX_THREADS; i++)
        free(seq[i]);
    free(cal);
    free(pt.cdf);
    free(pt.perm);
    return rc;
}
