/* kmap_paths.c - benchmark of libhighmem's kmap+kunmap paths (issue 15) on a minimal pthread
 * embedder (x86, LAST_PKMAP 1024): hit, hot, churn, two threads on separate cached pages, two
 * threads holding many; HM_LOCKING_FAST, HM_LOCKING_KERNEL and the plain baseline, alternating. SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_util.h"
#include "bench/plain_kmap.h"
#include "highmem.h"
#include "machine/kmap_wait.h"

#define MAX_THREADS 2
#define MAX_RUNS 99
#define LAST_PKMAP 1024
#define HOT_PAGES 512
#define CHURN_PAGES 4096
#define WARM_MIN 5000 /* untimed pairs before each measurement, at least */

static const char usage[] =
    "usage: kmap_paths_bench [options]\n"
    "  --ops N            timed kmap+kunmap pairs per thread and measurement (default 500000)\n"
    "  --runs N           runs; each measures every workload in every variant, the variants\n"
    "                     in rotated order (default 5)\n"
    "  --workloads LIST   of hit,hot,churn,two,hold (default all)\n"
    "  --variants LIST    of fast,kernel,plain (default all)\n"
    "  --churn ORDER      uniform (default) or rr: how churn picks among its 4096 pages\n"
    "  --hold N           hold: pages each thread keeps mapped (default 256, at most 511)\n"
    "  --hold-pages N     hold: each thread's own pages, picked uniformly (default 1024)\n"
    "  --two-gap N        two: thread 1's page is mapped N slots after thread 0's (default 1)\n"
    "  --check-ops N      pairs of the same-addresses check of hit, hot and churn (default 20000)\n"
    "  --seed N           seed of the page sequences (default 1)\n"
    "  --callgrind W:V    no timing: one measurement of workload W (hit, hot or churn) in\n"
    "                     variant V, its --ops pairs in kp_measure_* (for callgrind's\n"
    "                     --toggle-collect); prints the pairs, locks and hits it saw\n"
    "  --help             this text\n"
    "Prints Markdown: ns per pair (median of the runs, min-max), lock acquisitions per pair,\n"
    "the two-thread scaling, and the check that fast, kernel and plain give the same addresses.\n";

/* ---------------------------------------------------------------------------------------
 * Variants and workloads.
 * ------------------------------------------------------------------------------------- */
enum variant { V_FAST, V_KERNEL, V_PLAIN, NVARIANTS };
static const char *const variant_names[NVARIANTS] = {"fast", "kernel", "plain"};

enum workload { W_HIT, W_HOT, W_CHURN, W_TWO, W_HOLD, NWORKLOADS };
static const char *const workload_names[NWORKLOADS] = {"hit", "hot", "churn", "two", "hold"};
static const unsigned workload_threads[NWORKLOADS] = {1, 1, 1, 2, 2};

struct opts {
    uint32_t ops, runs, seed, check_ops, hold, hold_pages, two_gap;
    unsigned workloads, variants; /* bit i: workload / variant i */
    int churn_rr;
    int cg_workload, cg_variant; /* --callgrind; -1 otherwise */
};

/* ---------------------------------------------------------------------------------------
 * The embedder: a plain PTE array from the layout's pt_start, no-op flushes, the pthread
 * locks and wait queue of machine/kmap_wait.c. The lock hook counts what this thread takes.
 * ------------------------------------------------------------------------------------- */
struct kp_machine {
    struct hm_kmap_wait q;
    _Atomic hm_pte_t *pte; /* atomic only so that no reader is a data race: plain moves on x86 */
    hm_vaddr_t pt_start;
    uint32_t page_shift;
};

static _Thread_local uint64_t kp_locks; /* lock acquisitions of this thread (lock, wake_all) */

static int m_set_pte(void *m, hm_vaddr_t vaddr, hm_pte_t pte)
{
    struct kp_machine *k = m;
    atomic_store_explicit(&k->pte[(vaddr - k->pt_start) >> k->page_shift], pte, memory_order_relaxed);
    return 0;
}

static hm_pte_t m_get_pte(void *m, hm_vaddr_t vaddr)
{
    struct kp_machine *k = m;
    return atomic_load_explicit(&k->pte[(vaddr - k->pt_start) >> k->page_shift], memory_order_relaxed);
}

static void m_flush_tlb_range(void *m, hm_vaddr_t start, hm_vaddr_t end)
{
    (void)m, (void)start, (void)end;
}

static void m_flush_tlb_page(void *m, uint32_t cpu, hm_vaddr_t vaddr)
{
    (void)m, (void)cpu, (void)vaddr;
}

static void m_flush_all(void *m)
{
    (void)m;
}

/* The lock hooks go to the mutex straight (the library only asks for ids < HM_NR_LOCKS), so that
 * the hook costs what a lean embedder's would: the call, the mutex, one thread-local increment. */
static void m_lock(void *m, unsigned id)
{
    pthread_mutex_lock(&((struct kp_machine *)m)->q.locks[id]);
    kp_locks++;
}

static void m_unlock(void *m, unsigned id)
{
    pthread_mutex_unlock(&((struct kp_machine *)m)->q.locks[id]);
}

static void m_sleep(void *m)
{
    hm_kmap_wait_sleep(&((struct kp_machine *)m)->q);
}

static void m_wake_all(void *m)
{
    kp_locks++; /* it takes kmap_lock's mutex */
    hm_kmap_wait_wake_all(&((struct kp_machine *)m)->q);
}

/* What every measurement shares: the options, the machine's config and layout, the sequences. */
struct bench {
    struct opts o;
    struct hm_config cfg;
    struct hm_layout l;
    hm_pte_t prot; /* x86 kmap_prot: hm_mk_kmap_pte(ctx, 0) */
    size_t warm;   /* untimed pairs before each measurement */
    hm_pfn_t *seq[NWORKLOADS][MAX_THREADS]; /* warm + ops pages per thread */
};

/* One variant's machine: libhighmem on the embedder above, or the plain baseline. */
struct env {
    enum variant v;
    struct kp_machine mach;
    struct hm_ctx *ctx;
    void *ctx_mem;
    struct plain_kmap plain;
};

static int env_open(struct env *e, const struct bench *b, enum variant v)
{
    struct hm_machine machine = {
        .m = &e->mach, .set_pte = m_set_pte, .get_pte = m_get_pte,
        .flush_tlb_range = m_flush_tlb_range, .flush_tlb_page = m_flush_tlb_page,
        .flush_tlb_all = m_flush_all, .flush_cache_all = m_flush_all,
        .lock = m_lock, .unlock = m_unlock, .sleep = m_sleep, .wake_all = m_wake_all};
    struct hm_config cfg = b->cfg;
    size_t size, align;

    memset(e, 0, sizeof *e);
    e->v = v;
    if (v == V_PLAIN) {
        if (plain_kmap_init(&e->plain, &b->l, b->prot, m_flush_tlb_range, NULL) == 0)
            return 0;
        fprintf(stderr, "kmap_paths: out of memory\n");
        return -1;
    }
    cfg.locking = v == V_FAST ? HM_LOCKING_FAST : HM_LOCKING_KERNEL;
    e->mach.pt_start = b->l.pt_start;
    e->mach.page_shift = b->l.page_shift;
    e->mach.pte = calloc(b->l.pt_pages, sizeof *e->mach.pte);
    size = hm_ctx_size(&cfg), align = hm_ctx_align();
    e->ctx_mem = aligned_alloc(align, (size + align - 1) / align * align);
    hm_kmap_wait_init(&e->mach.q);
    if (!e->mach.pte || !e->ctx_mem ||
        hm_ctx_init(e->ctx_mem, size, &cfg, &machine, NULL, &e->ctx) != HM_OK) {
        fprintf(stderr, "kmap_paths: hm_ctx_init (%s) failed\n", variant_names[v]);
        hm_kmap_wait_destroy(&e->mach.q);
        free(e->mach.pte);
        free(e->ctx_mem);
        return -1;
    }
    return 0;
}

static void env_close(struct env *e)
{
    if (e->v == V_PLAIN) {
        plain_kmap_destroy(&e->plain);
        return;
    }
    hm_kmap_wait_destroy(&e->mach.q);
    free(e->mach.pte);
    free(e->ctx_mem);
}

/* The PTE of pkmap slot i. */
static hm_pte_t env_slot_pte(const struct env *e, const struct bench *b, uint32_t i)
{
    if (e->v == V_PLAIN)
        return e->plain.pte[i];
    return atomic_load_explicit(&e->mach.pte[((b->l.pkmap_base - b->l.pt_start) >> b->l.page_shift) + i],
                                memory_order_relaxed);
}

/* What a variant has counted so far: kmaps that found their page mapped, new mappings, flushes,
 * slots they freed, kmaps (lock acquisitions are counted apart: see thread_main). */
struct counts {
    uint64_t hits, news, flushes, freed, kmaps;
};

static void env_counts(const struct env *e, struct counts *c)
{
    struct hm_stats s;
    if (e->v == V_PLAIN) {
        *c = (struct counts){e->plain.hits, e->plain.news, e->plain.flushes, e->plain.freed,
                             e->plain.hits + e->plain.news};
        return;
    }
    hm_get_stats(e->ctx, &s);
    *c = (struct counts){s.kmap_hits, s.kmap_new, s.flushes, s.slots_freed, s.kmap_calls};
}

/* Nothing held any more: every count at most 1; libhighmem's invariants hold. */
static int env_quiescent_ok(const struct env *e, const char *what)
{
    char msg[200] = "";
    for (uint32_t i = 0; i < LAST_PKMAP; i++) {
        int c = e->v == V_PLAIN ? e->plain.count[i] : hm_pkmap_count(e->ctx, i);
        if (c < 0 || c > 1) {
            fprintf(stderr, "kmap_paths: %s, %s: slot %u has count %d after the run\n", what,
                    variant_names[e->v], i, c);
            return 0;
        }
    }
    if (e->v != V_PLAIN && hm_check_invariants(e->ctx, msg, sizeof msg) != 0) {
        fprintf(stderr, "kmap_paths: %s, %s: invariant broken: %s\n", what, variant_names[e->v], msg);
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * The loops. kp_measure_* are the measured pair loops, out of line so that callgrind collects
 * exactly them (--toggle-collect='kp_measure_*'); they return 0, or -1 at the first failure.
 * ------------------------------------------------------------------------------------- */
__attribute__((noinline)) static int kp_measure_hm(struct hm_ctx *ctx, const hm_pfn_t *seq, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hm_vaddr_t v;
        if (hm_kmap(ctx, seq[i], &v) != HM_OK || hm_kunmap(ctx, seq[i]) != HM_OK)
            return -1;
    }
    return 0;
}

__attribute__((noinline)) static int kp_measure_plain(struct plain_kmap *p, const hm_pfn_t *seq, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (plain_kmap(p, seq[i]) == 0 || plain_kunmap(p, seq[i]) != 0)
            return -1;
    return 0;
}

static int env_kmap(struct env *e, hm_pfn_t pfn, hm_vaddr_t *v)
{
    if (e->v == V_PLAIN)
        return (*v = plain_kmap(&e->plain, pfn)) != 0 ? 0 : -1;
    return hm_kmap(e->ctx, pfn, v) == HM_OK ? 0 : -1;
}

static int env_kunmap(struct env *e, hm_pfn_t pfn)
{
    if (e->v == V_PLAIN)
        return plain_kunmap(&e->plain, pfn);
    return hm_kunmap(e->ctx, pfn) == HM_OK ? 0 : -1;
}

/* Untimed pairs (warm-up, the check); each kmap's address goes to addr[i] when addr is set. */
static int env_pairs(struct env *e, const hm_pfn_t *seq, size_t n, hm_vaddr_t *addr)
{
    for (size_t i = 0; i < n; i++) {
        hm_vaddr_t v;
        if (env_kmap(e, seq[i], &v) != 0 || env_kunmap(e, seq[i]) != 0)
            return -1;
        if (addr)
            addr[i] = v;
    }
    return 0;
}

/* The hold loop of one thread: kmap seq[i] and keep it; once `hold` are kept, kunmap the page
 * kmapped `hold` pairs earlier (ring[*pos % hold]). */
struct ring {
    hm_pfn_t *page;
    uint32_t hold;
    size_t pos; /* kmaps so far */
};

static int hold_loop(struct env *e, struct ring *r, const hm_pfn_t *seq, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hm_vaddr_t v;
        size_t k = r->pos % r->hold;
        if (env_kmap(e, seq[i], &v) != 0 || (r->pos >= r->hold && env_kunmap(e, r->page[k]) != 0))
            return -1;
        r->page[k] = seq[i];
        r->pos++;
    }
    return 0;
}

/* Release what a ring still holds. */
static int hold_release(struct env *e, struct ring *r)
{
    size_t held = r->pos < r->hold ? r->pos : r->hold;
    for (size_t k = 0; k < held; k++)
        if (env_kunmap(e, r->page[k]) != 0)
            return -1;
    r->pos = 0;
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * The page sequences (highmem pfns), the same for every variant and run.
 * ------------------------------------------------------------------------------------- */
static void fill_seq(const struct bench *b, enum workload w, unsigned t, hm_pfn_t *out, size_t n)
{
    const struct opts *o = &b->o;
    hm_pfn_t hs = b->l.highmem_start_pfn;
    uint64_t x = (uint64_t)o->seed * 1000003u + w * 7919u + t;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = bench_rng_next(&x);
        switch (w) {
        case W_HIT:
            out[i] = hs;
            break;
        case W_HOT:
            out[i] = hs + (hm_pfn_t)(r % HOT_PAGES);
            break;
        case W_CHURN:
            out[i] = hs + (hm_pfn_t)(o->churn_rr ? i % CHURN_PAGES : r % CHURN_PAGES);
            break;
        case W_TWO: /* thread 1: two_gap - 1 other pages first, then its own (warm-up) */
            out[i] = t == 0 ? hs : i + 1 < o->two_gap ? hs + 2 + (hm_pfn_t)i : hs + 1;
            break;
        default: /* W_HOLD: the thread's own range */
            out[i] = hs + t * o->hold_pages + (hm_pfn_t)(r % o->hold_pages);
            break;
        }
    }
}

/* ---------------------------------------------------------------------------------------
 * One measurement: workload w in variant v, its threads started together.
 * ------------------------------------------------------------------------------------- */
struct thr {
    struct env *e;
    enum workload w;
    const hm_pfn_t *seq;
    size_t n;
    struct ring ring;
    pthread_barrier_t *start;
    int64_t t0, t1;
    uint64_t locks;
    int failed;
};

static void *thread_main(void *arg)
{
    struct thr *t = arg;
    uint64_t locks0;
    pthread_barrier_wait(t->start);
    locks0 = kp_locks;
    t->t0 = bench_now_ns();
    if (t->w == W_HOLD)
        t->failed = hold_loop(t->e, &t->ring, t->seq, t->n);
    else if (t->e->v == V_PLAIN)
        t->failed = kp_measure_plain(&t->e->plain, t->seq, t->n);
    else
        t->failed = kp_measure_hm(t->e->ctx, t->seq, t->n);
    t->t1 = bench_now_ns();
    t->locks = kp_locks - locks0;
    return NULL;
}

struct result {
    double ns;    /* wall time / pairs per thread */
    double locks; /* lock acquisitions per pair */
    double hit;   /* kmaps that found their page mapped, % */
};

static int run_one(const struct bench *b, enum workload w, enum variant v, struct result *res)
{
    unsigned nt = workload_threads[w];
    struct thr t[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    pthread_barrier_t start;
    hm_pfn_t ring_page[MAX_THREADS][512];
    struct counts c0, c1;
    uint64_t plain_locks0, locks = 0;
    int64_t t0, t1;
    int failed = 0;
    struct env e;

    if (env_open(&e, b, v) != 0)
        return -1;
    for (unsigned i = 0; i < nt; i++) { /* warm-up, thread by thread (two: page 0 mapped first) */
        t[i] = (struct thr){.e = &e, .w = w, .seq = b->seq[w][i] + b->warm, .n = b->o.ops,
                            .ring = {ring_page[i], b->o.hold, 0}, .start = &start};
        if (w == W_HOLD)
            failed |= hold_loop(&e, &t[i].ring, b->seq[w][i], b->warm);
        else
            failed |= env_pairs(&e, b->seq[w][i], b->warm, NULL);
    }
    env_counts(&e, &c0);
    plain_locks0 = e.plain.locks;
    pthread_barrier_init(&start, NULL, nt + 1);
    for (unsigned i = 0; i < nt; i++) {
        if (pthread_create(&tid[i], NULL, thread_main, &t[i]) != 0) {
            fprintf(stderr, "kmap_paths: pthread_create failed\n");
            exit(1);
        }
    }
    pthread_barrier_wait(&start);
    for (unsigned i = 0; i < nt; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&start);
    env_counts(&e, &c1);
    t0 = t[0].t0, t1 = t[0].t1;
    for (unsigned i = 0; i < nt; i++) {
        t0 = t[i].t0 < t0 ? t[i].t0 : t0;
        t1 = t[i].t1 > t1 ? t[i].t1 : t1;
        locks += t[i].locks;
        failed |= t[i].failed;
        if (w == W_HOLD)
            failed |= hold_release(&e, &t[i].ring);
    }
    if (v == V_PLAIN)
        locks = e.plain.locks - plain_locks0;
    if (failed)
        fprintf(stderr, "kmap_paths: %s, %s: a kmap or kunmap failed\n", workload_names[w], variant_names[v]);
    else if (!env_quiescent_ok(&e, workload_names[w]))
        failed = 1;
    env_close(&e);
    if (failed)
        return -1;
    res->ns = (double)(t1 - t0) / (double)b->o.ops;
    res->locks = (double)locks / ((double)b->o.ops * nt);
    res->hit = 100.0 * (double)(c1.hits - c0.hits) / (double)(c1.kmaps - c0.kmaps);
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * The same-addresses check: on hit, hot and churn (one thread), fast, kernel and plain must
 * give the same address at every kmap and end with the same PTEs in the window (so the same
 * slots in use); kernel must count the same hits, new mappings, flushes and freed slots as
 * plain (fast's statistics are compared too, a difference only noted: how the fast path keeps
 * its statistics is its own business); the bucket of every highmem page must be libhighmem's.
 * Prints what it checked; -1 (said) if anything else differs.
 * ------------------------------------------------------------------------------------- */
static int check_same(const struct bench *b)
{
    size_t n = b->o.check_ops;
    hm_pfn_t *seq = malloc(n * sizeof *seq);
    hm_vaddr_t *addr[NVARIANTS] = {NULL};
    hm_pte_t *pte[NVARIANTS] = {NULL};
    struct counts c[NVARIANTS];
    uint64_t churn_flushes = 0;
    int ok = seq != NULL, fast_stats_same = 1;
    struct env e;

    for (unsigned v = 0; v < NVARIANTS; v++) {
        ok = ok && (addr[v] = malloc(n * sizeof *addr[v])) && (pte[v] = malloc(LAST_PKMAP * sizeof *pte[v]));
    }
    if (!ok)
        fprintf(stderr, "kmap_paths: out of memory\n");
    if (ok && env_open(&e, b, V_FAST) == 0) { /* the bucket function of the baseline */
        struct plain_kmap p = {.mem_map = (uint32_t)b->l.mem_map, .struct_page_size = b->l.struct_page_size};
        for (hm_pfn_t pfn = b->l.highmem_start_pfn; ok && pfn < b->l.max_pfn; pfn++) {
            if (plain_kmap_bucket(&p, pfn) != hm_page_bucket(e.ctx, pfn)) {
                fprintf(stderr, "kmap_paths: the baseline hashes pfn %u to bucket %u, libhighmem to %u\n",
                        pfn, plain_kmap_bucket(&p, pfn), hm_page_bucket(e.ctx, pfn));
                ok = 0;
            }
        }
        env_close(&e);
    } else {
        ok = 0;
    }
    for (unsigned w = W_HIT; ok && w <= W_CHURN; w++) {
        fill_seq(b, w, 0, seq, n);
        for (unsigned v = 0; ok && v < NVARIANTS; v++) {
            if (env_open(&e, b, v) != 0) {
                ok = 0;
                break;
            }
            if (env_pairs(&e, seq, n, addr[v]) != 0) {
                fprintf(stderr, "kmap_paths: check, %s, %s: a kmap or kunmap failed\n",
                        workload_names[w], variant_names[v]);
                ok = 0;
            }
            ok = ok && env_quiescent_ok(&e, "check");
            for (uint32_t i = 0; i < LAST_PKMAP; i++)
                pte[v][i] = env_slot_pte(&e, b, i);
            env_counts(&e, &c[v]);
            env_close(&e);
        }
        for (unsigned v = 0; ok && v < V_PLAIN; v++) {
            const char *vn = variant_names[v], *wn = workload_names[w];
            for (size_t i = 0; ok && i < n; i++) {
                if (addr[v][i] != addr[V_PLAIN][i]) {
                    fprintf(stderr, "kmap_paths: check, %s: pair %zu (pfn %u): %s mapped 0x%llx, "
                            "plain 0x%llx\n", wn, i, seq[i], vn, (unsigned long long)addr[v][i],
                            (unsigned long long)addr[V_PLAIN][i]);
                    ok = 0;
                }
            }
            for (uint32_t i = 0; ok && i < LAST_PKMAP; i++) {
                if (pte[v][i] != pte[V_PLAIN][i]) {
                    fprintf(stderr, "kmap_paths: check, %s: slot %u's PTE: %s 0x%llx, plain 0x%llx\n",
                            wn, i, vn, (unsigned long long)pte[v][i], (unsigned long long)pte[V_PLAIN][i]);
                    ok = 0;
                }
            }
            if (ok && memcmp(&c[v], &c[V_PLAIN], sizeof c[v]) != 0) {
                fprintf(stderr, "kmap_paths: check, %s: hits/new/flushes/freed/kmaps %s "
                        "%llu/%llu/%llu/%llu/%llu, plain %llu/%llu/%llu/%llu/%llu%s\n", wn, vn,
                        (unsigned long long)c[v].hits, (unsigned long long)c[v].news,
                        (unsigned long long)c[v].flushes, (unsigned long long)c[v].freed,
                        (unsigned long long)c[v].kmaps, (unsigned long long)c[V_PLAIN].hits,
                        (unsigned long long)c[V_PLAIN].news, (unsigned long long)c[V_PLAIN].flushes,
                        (unsigned long long)c[V_PLAIN].freed, (unsigned long long)c[V_PLAIN].kmaps,
                        v == V_FAST ? " (noted, not an error)" : "");
                if (v == V_FAST)
                    fast_stats_same = 0;
                else
                    ok = 0;
            }
        }
        if (w == W_CHURN)
            churn_flushes = c[V_PLAIN].flushes;
    }
    if (ok)
        printf("Same addresses: on hit, hot and churn (%zu pairs each, one thread; churn ran %llu "
               "wraps), fast, kernel and plain gave the same address at every kmap and ended with "
               "the same PTEs in the window; %s counted the same hits, new mappings, flushes and "
               "freed slots as plain; the baseline's bucket is libhighmem's for every highmem "
               "page.\n\n", n, (unsigned long long)churn_flushes,
               fast_stats_same ? "fast and kernel" : "kernel (fast's statistics differ)");
    for (unsigned v = 0; v < NVARIANTS; v++) {
        free(addr[v]);
        free(pte[v]);
    }
    free(seq);
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------------------------------------
 * The callgrind mode: one measurement, no timing; only kp_measure_* is to be collected.
 * ------------------------------------------------------------------------------------- */
static int callgrind_one(const struct bench *b)
{
    enum workload w = (enum workload)b->o.cg_workload;
    enum variant v = (enum variant)b->o.cg_variant;
    const hm_pfn_t *seq = b->seq[w][0];
    uint64_t locks0, locks;
    struct counts c0, c1;
    struct env e;
    int failed;

    if (env_open(&e, b, v) != 0)
        return -1;
    failed = env_pairs(&e, seq, b->warm, NULL);
    env_counts(&e, &c0);
    locks0 = v == V_PLAIN ? e.plain.locks : kp_locks;
    if (!failed)
        failed = v == V_PLAIN ? kp_measure_plain(&e.plain, seq + b->warm, b->o.ops)
                              : kp_measure_hm(e.ctx, seq + b->warm, b->o.ops);
    locks = (v == V_PLAIN ? e.plain.locks : kp_locks) - locks0;
    env_counts(&e, &c1);
    failed = failed || !env_quiescent_ok(&e, workload_names[w]);
    env_close(&e);
    if (failed) {
        fprintf(stderr, "kmap_paths: %s, %s: a kmap or kunmap failed\n", workload_names[w], variant_names[v]);
        return -1;
    }
    printf("callgrind %s %s: pairs %u locks %llu hits %llu new %llu flushes %llu\n", workload_names[w],
           variant_names[v], b->o.ops, (unsigned long long)locks, (unsigned long long)(c1.hits - c0.hits),
           (unsigned long long)(c1.news - c0.news), (unsigned long long)(c1.flushes - c0.flushes));
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Runs and the report.
 * ------------------------------------------------------------------------------------- */
struct figures {
    struct result r[NWORKLOADS][NVARIANTS][MAX_RUNS];
};

/* Every run measures every selected workload in every selected variant; in run r the variants
 * start at the r-th, so that none is always first after another's measurement. */
static int measure(const struct bench *b, struct figures *f)
{
    const struct opts *o = &b->o;
    for (unsigned r = 0; r < o->runs; r++) {
        for (unsigned w = 0; w < NWORKLOADS; w++) {
            if (!(o->workloads & (1u << w)))
                continue;
            for (unsigned k = 0; k < NVARIANTS; k++) {
                unsigned v = (k + r) % NVARIANTS;
                if ((o->variants & (1u << v)) && run_one(b, w, v, &f->r[w][v][r]) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* The median of one figure over the runs, and its range. */
struct stat3 {
    double med, lo, hi;
};

static struct stat3 stat_of(const struct figures *f, const struct opts *o, unsigned w, unsigned v,
                            size_t off)
{
    double x[MAX_RUNS];
    struct stat3 s;
    for (unsigned r = 0; r < o->runs; r++)
        x[r] = *(const double *)((const char *)&f->r[w][v][r] + off);
    s.med = bench_median(x, o->runs);
    s.lo = x[0], s.hi = x[o->runs - 1];
    return s;
}

static const char *workload_title(const struct bench *b, unsigned w, char *buf, size_t len)
{
    const struct opts *o = &b->o;
    switch (w) {
    case W_HIT:
        return "hit: one cached page, 1 thread";
    case W_HOT:
        return "hot: 512 pages, uniform, 1 thread";
    case W_CHURN:
        snprintf(buf, len, "churn: 4096 pages over %u slots, %s, 1 thread", LAST_PKMAP,
                 o->churn_rr ? "round robin" : "uniform");
        return buf;
    case W_TWO:
        snprintf(buf, len, "two: 2 threads, each on its own cached page (slots %u apart)", o->two_gap);
        return buf;
    default:
        snprintf(buf, len, "hold: 2 threads, each holding %u of its own %u pages (uniform)",
                 o->hold, o->hold_pages);
        return buf;
    }
}

static void print_figures(const struct bench *b, struct figures *f)
{
    const struct opts *o = &b->o;
    char buf[160];
    int all = (o->variants & 7u) == 7u;
    unsigned ref;

    printf("ns per kmap+kunmap pair (wall time / pairs per thread): median of %u run%s (min-max)%s\n\n"
           "| workload |", o->runs, o->runs > 1 ? "s" : "", all ? "; fast / plain and kernel / plain: ratios of the medians" : "");
    for (unsigned v = 0; v < NVARIANTS; v++)
        if (o->variants & (1u << v))
            printf(" %s |", variant_names[v]);
    printf("%s\n|---|", all ? " fast / plain | kernel / plain |" : "");
    for (unsigned v = 0; v < NVARIANTS; v++)
        if (o->variants & (1u << v))
            printf("---:|");
    printf("%s\n", all ? "---:|---:|" : "");
    for (unsigned w = 0; w < NWORKLOADS; w++) {
        double med[NVARIANTS];
        if (!(o->workloads & (1u << w)))
            continue;
        printf("| %s |", workload_title(b, w, buf, sizeof buf));
        for (unsigned v = 0; v < NVARIANTS; v++) {
            struct stat3 s;
            if (!(o->variants & (1u << v)))
                continue;
            s = stat_of(f, o, w, v, offsetof(struct result, ns));
            med[v] = s.med;
            printf(" %.1f (%.1f-%.1f) |", s.med, s.lo, s.hi);
        }
        if (all)
            printf(" %.2f× | %.2f× |", med[V_FAST] / med[V_PLAIN], med[V_KERNEL] / med[V_PLAIN]);
        printf("\n");
    }

    /* the hit rate of the baseline when it ran (it always counts), else libhighmem's */
    ref = o->variants & (1u << V_PLAIN) ? V_PLAIN : o->variants & (1u << V_KERNEL) ? V_KERNEL : V_FAST;
    printf("\nLock acquisitions per pair (libhighmem: the embedder's lock hook and wake_all; plain: "
           "its mutex), medians of the runs; hit rate = kmaps that found their page mapped (%s's)\n\n"
           "| workload |", variant_names[ref]);
    for (unsigned v = 0; v < NVARIANTS; v++)
        if (o->variants & (1u << v))
            printf(" %s |", variant_names[v]);
    printf(" hit rate |\n|---|");
    for (unsigned v = 0; v < NVARIANTS; v++)
        if (o->variants & (1u << v))
            printf("---:|");
    printf("---:|\n");
    for (unsigned w = 0; w < NWORKLOADS; w++) {
        if (!(o->workloads & (1u << w)))
            continue;
        printf("| %s |", workload_names[w]);
        for (unsigned v = 0; v < NVARIANTS; v++)
            if (o->variants & (1u << v))
                printf(" %.2f |", stat_of(f, o, w, v, offsetof(struct result, locks)).med);
        printf(" %.1f %% |\n", stat_of(f, o, w, ref, offsetof(struct result, hit)).med);
    }

    if ((o->workloads & (1u << W_HIT)) && (o->workloads & (1u << W_TWO))) {
        double fast_med = 0, fast_lo = 0, fast_hi = 0;
        printf("\nTwo threads on separate cached pages: throughput relative to one thread on one "
               "page, 2 × ns(hit) / ns(two) of the same run; median of the runs (min-max)\n\n");
        for (unsigned v = 0; v < NVARIANTS; v++) {
            double x[MAX_RUNS];
            if (!(o->variants & (1u << v)))
                continue;
            for (unsigned r = 0; r < o->runs; r++)
                x[r] = 2 * f->r[W_HIT][v][r].ns / f->r[W_TWO][v][r].ns;
            printf("- %s: %.2f× (%.2f-%.2f)\n", variant_names[v], bench_median(x, o->runs), x[0],
                   x[o->runs - 1]);
            if (v == V_FAST)
                fast_med = bench_median(x, o->runs), fast_lo = x[0], fast_hi = x[o->runs - 1];
        }
        if (o->variants & (1u << V_FAST))
            printf("\ngoal: | two threads on separate cached pages ≥ 1.8× the throughput of one "
                   "(fast) | %.2f× (%.2f-%.2f) | %s |\n", fast_med, fast_lo, fast_hi,
                   fast_med >= 1.8 ? "met" : "missed");
    }
}

/* ---------------------------------------------------------------------------------------
 * Options.
 * ------------------------------------------------------------------------------------- */
/* "a,b" of names[0..n) into a bit mask; 0 on an error. */
static unsigned parse_names(const char *s, const char *const *names, unsigned n)
{
    char buf[128], *save = NULL;
    unsigned mask = 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        unsigned k = 0;
        while (k < n && strcmp(tok, names[k]) != 0)
            k++;
        if (k == n)
            return 0;
        mask |= 1u << k;
    }
    return mask;
}

static int find_name(const char *s, size_t len, const char *const *names, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        if (strlen(names[k]) == len && strncmp(s, names[k], len) == 0)
            return (int)k;
    return -1;
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
        } else if (strcmp(a, "--ops") == 0) {
            ok = bench_parse_u32(v, &o->ops, 1, 100000000);
        } else if (strcmp(a, "--runs") == 0) {
            ok = bench_parse_u32(v, &o->runs, 1, MAX_RUNS);
        } else if (strcmp(a, "--seed") == 0) {
            ok = bench_parse_u32(v, &o->seed, 0, UINT32_MAX);
        } else if (strcmp(a, "--check-ops") == 0) {
            ok = bench_parse_u32(v, &o->check_ops, 1, 100000000);
        } else if (strcmp(a, "--hold") == 0) {
            ok = bench_parse_u32(v, &o->hold, 1, LAST_PKMAP / 2 - 1); /* 2 x hold < LAST_PKMAP */
        } else if (strcmp(a, "--hold-pages") == 0) {
            ok = bench_parse_u32(v, &o->hold_pages, 1, 8192);
        } else if (strcmp(a, "--two-gap") == 0) {
            ok = bench_parse_u32(v, &o->two_gap, 1, LAST_PKMAP / 2);
        } else if (strcmp(a, "--workloads") == 0) {
            ok = (o->workloads = parse_names(v, workload_names, NWORKLOADS)) != 0;
        } else if (strcmp(a, "--variants") == 0) {
            ok = (o->variants = parse_names(v, variant_names, NVARIANTS)) != 0;
        } else if (strcmp(a, "--churn") == 0) {
            ok = strcmp(v, "uniform") == 0 || strcmp(v, "rr") == 0;
            o->churn_rr = strcmp(v, "rr") == 0;
        } else if (strcmp(a, "--callgrind") == 0) {
            const char *colon = strchr(v, ':');
            ok = colon != NULL;
            if (ok) {
                o->cg_workload = find_name(v, (size_t)(colon - v), workload_names, W_CHURN + 1);
                o->cg_variant = find_name(colon + 1, strlen(colon + 1), variant_names, NVARIANTS);
                ok = o->cg_workload >= 0 && o->cg_variant >= 0;
            }
        } else {
            fprintf(stderr, "kmap_paths: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "kmap_paths: bad value '%s' for %s (see --help)\n", v, a);
            return 2;
        }
    }
    return 0;
}

/* The machine's config and layout, the PTE protection, every sequence. Returns 0, -1 (said). */
static int bench_init(struct bench *b)
{
    size_t len;
    struct env e;
    b->cfg = (struct hm_config){.arch = hm_arch_find("x86"), .nr_cpus = MAX_THREADS,
                                .last_pkmap = LAST_PKMAP};
    if (!b->cfg.arch || hm_layout_compute(&b->cfg, &b->l) != HM_OK) {
        fprintf(stderr, "kmap_paths: no x86 layout\n");
        return -1;
    }
    if (b->l.max_pfn - b->l.highmem_start_pfn < 2 * b->o.hold_pages ||
        b->l.max_pfn - b->l.highmem_start_pfn < CHURN_PAGES + LAST_PKMAP) {
        fprintf(stderr, "kmap_paths: the machine has too few highmem pages\n");
        return -1;
    }
    if (env_open(&e, b, V_FAST) != 0)
        return -1;
    b->prot = hm_mk_kmap_pte(e.ctx, 0);
    env_close(&e);
    b->warm = b->o.ops / 10 < WARM_MIN ? WARM_MIN : b->o.ops / 10;
    len = b->warm + b->o.ops;
    for (unsigned w = 0; w < NWORKLOADS; w++) {
        for (unsigned t = 0; t < workload_threads[w]; t++) {
            if (!(b->seq[w][t] = malloc(len * sizeof *b->seq[w][t]))) {
                fprintf(stderr, "kmap_paths: out of memory\n");
                return -1;
            }
            fill_seq(b, w, t, b->seq[w][t], len);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct bench b;
    static struct figures f;
    int rc;

    b.o = (struct opts){.ops = 500000, .runs = 5, .seed = 1, .check_ops = 20000, .hold = 256,
                        .hold_pages = 1024, .two_gap = 1, .workloads = (1u << NWORKLOADS) - 1,
                        .variants = (1u << NVARIANTS) - 1, .cg_workload = -1, .cg_variant = -1};
    if ((rc = parse_args(argc, argv, &b.o)) != 0)
        return rc == 1 ? 0 : rc;
    rc = 1;
    if (bench_init(&b) != 0)
        goto out;
    if (b.o.cg_workload >= 0) {
        rc = callgrind_one(&b) == 0 ? 0 : 1;
        goto out;
    }
    {
        struct env e;
        int lk[2] = {-1, -1};
        for (unsigned v = 0; v < 2 && env_open(&e, &b, v) == 0; v++) {
            lk[v] = hm_ctx_locking(e.ctx);
            env_close(&e);
        }
        printf("x86, LAST_PKMAP %u, %u highmem pages, a pthread embedder (PTE array, no-op flushes, "
               "machine/kmap_wait locks); %u timed pairs per thread and measurement after %zu "
               "untimed, %u run%s, seed %u; hm_ctx_locking: fast context %d, kernel context %d "
               "(HM_LOCKING_FAST = %d, HM_LOCKING_KERNEL = %d)\n\n",
               LAST_PKMAP, b.l.max_pfn - b.l.highmem_start_pfn, b.o.ops, b.warm, b.o.runs,
               b.o.runs > 1 ? "s" : "", b.o.seed, lk[0], lk[1], HM_LOCKING_FAST, HM_LOCKING_KERNEL);
    }
    if (check_same(&b) != 0) {
        fprintf(stderr, "kmap_paths: the baseline and libhighmem differ: no comparison\n");
        goto out;
    }
    if (measure(&b, &f) != 0)
        goto out;
    print_figures(&b, &f);
    rc = 0;
out:
    for (unsigned w = 0; w < NWORKLOADS; w++)
        for (unsigned t = 0; t < MAX_THREADS; t++)
            free(b.seq[w][t]);
    return rc;
}
