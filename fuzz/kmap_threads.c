/* kmap_threads.c - fuzz target: balanced kmap/kunmap scripts on 2..4 real pthreads with the
 * blocking hm_kmap (sleep/wake/re-check), then invariants, counts 0/1, no waiters, no stale TLB.
 * SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz/fail.h"
#include "fuzz/fuzz_input.h"
#include "harness/machine.h"
#include "highmem.h"
#include "sim/sim.h"

#define KT_MAX_THREADS 4
#define KT_MAX_OPS 16      /* script bytes per thread (plus the final releases) */
#define KT_MAX_HOLD 3      /* pages a thread holds at once, at most */
#define KT_MAX_PAGES 18    /* distinct highmem pages: 2 * 8 + 2 */
#define KT_TIMEOUT_S 10

#define KT_FAIL(...) FUZZ_FAIL("kmap_threads", __VA_ARGS__)

enum { OP_KMAP, OP_KUNMAP };

struct kt_op {
    uint8_t kind;
    uint8_t page; /* index into the page set */
};

struct kt_thread {
    struct kt_op ops[2 * KT_MAX_OPS + KT_MAX_HOLD];
    unsigned nops;
    uint32_t cpu;
    atomic_uint pos;   /* ops done so far (diagnostics) */
    atomic_int inkmap; /* 1 while inside hm_kmap (diagnostics) */
    pthread_t tid;
    int started;
};

static struct {
    struct harness_machine m; /* reopened for every input: the sim and context storage are reused */
    struct hm_ctx *ctx;
    struct hm_sim *sim;
    const struct hm_layout *lay;
    unsigned nthreads, npages;
    struct kt_thread th[KT_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned done; /* guarded by mu */
    int go;        /* guarded by mu: the start gate, so the threads really overlap */
    atomic_uint bugs, stale;
} K;

static int verbose;

static uint8_t signature(unsigned page)
{
    return (uint8_t)(0xa5u ^ (page * 37u + 11u));
}

static void on_bug(void *cookie, const struct hm_bug_report *r)
{
    (void)cookie;
    atomic_fetch_add(&K.bugs, 1);
    fprintf(stderr, "kmap_threads: BUG %s in %s (arg 0x%" PRIx64 ") -> %s\n", hm_bug_name(r->bug),
            r->function ? r->function : "?", r->arg, hm_strerror(r->err));
}

/* Every library and sim event; only the sim's stale translations matter. */
static void on_event(void *cookie, const struct hm_event *ev)
{
    (void)cookie;
    if (ev->kind == HM_EV_STALE_TLB) {
        atomic_fetch_add(&K.stale, 1);
        fprintf(stderr, "kmap_threads: stale translation on cpu %u at 0x%08" PRIx64 " (TLB pfn 0x%" PRIx64 ")\n",
                ev->cpu, ev->a, ev->b);
    }
}

static void *run_thread(void *arg)
{
    struct kt_thread *t = arg;
    pthread_mutex_lock(&K.mu);
    while (!K.go)
        pthread_cond_wait(&K.cv, &K.mu);
    pthread_mutex_unlock(&K.mu);
    for (unsigned i = 0; i < t->nops; i++) {
        hm_pfn_t pfn = K.lay->highmem_start_pfn + t->ops[i].page;
        hm_vaddr_t va = 0;
        uint8_t got = 0;
        int rc;
        if (t->ops[i].kind == OP_KMAP) {
            atomic_store(&t->inkmap, 1);
            rc = hm_kmap(K.ctx, pfn, &va);
            atomic_store(&t->inkmap, 0);
            if (rc != HM_OK)
                KT_FAIL("cpu %u op %u: hm_kmap(pfn 0x%x): %s", t->cpu, i, pfn, hm_strerror(rc));
            if (va < K.lay->pkmap_base ||
                va >= K.lay->pkmap_base + ((hm_vaddr_t)K.lay->last_pkmap << K.lay->page_shift) ||
                (va & (K.lay->page_size - 1u)) != 0)
                KT_FAIL("cpu %u op %u: pfn 0x%x mapped at 0x%08" PRIx64 ", outside the pkmap window", t->cpu,
                        i, pfn, va);
            rc = hm_sim_load(K.sim, t->cpu, va, &got);
            if (rc != HM_OK || got != signature(t->ops[i].page))
                KT_FAIL("cpu %u op %u: pfn 0x%x at 0x%08" PRIx64 " reads 0x%02x (rc %s), want 0x%02x",
                        t->cpu, i, pfn, va, got, hm_strerror(rc), signature(t->ops[i].page));
            sched_yield(); /* hold the page a little: the others run into full slots */
        } else {
            rc = hm_kunmap(K.ctx, pfn);
            if (rc != HM_OK)
                KT_FAIL("cpu %u op %u: hm_kunmap(pfn 0x%x): %s", t->cpu, i, pfn, hm_strerror(rc));
        }
        atomic_store(&t->pos, i + 1);
    }
    pthread_mutex_lock(&K.mu);
    K.done++;
    pthread_cond_broadcast(&K.cv);
    pthread_mutex_unlock(&K.mu);
    return NULL;
}

/* Scripts balanced by construction: a thread holds at most `hold` pages, releases them in the
 * order it took them, and releases whatever it still holds at the end. */
static void make_scripts(struct fz_input *in, unsigned nops, unsigned hold)
{
    for (unsigned t = 0; t < K.nthreads; t++) {
        struct kt_thread *th = &K.th[t];
        uint8_t held[KT_MAX_HOLD];
        unsigned nheld = 0, n = 0;
        th->nops = 0;
        th->cpu = t;
        for (unsigned i = 0; i < nops; i++) {
            uint8_t b = fz_front_byte(in);
            if (nheld < hold && (nheld == 0 || (b & 1))) {
                uint8_t page = (uint8_t)((b >> 1) % K.npages);
                held[nheld++] = page;
                th->ops[n++] = (struct kt_op){OP_KMAP, page};
            } else {
                th->ops[n++] = (struct kt_op){OP_KUNMAP, held[0]};
                memmove(held, held + 1, --nheld);
            }
        }
        for (unsigned i = 0; i < nheld; i++)
            th->ops[n++] = (struct kt_op){OP_KUNMAP, held[i]};
        th->nops = n;
    }
}

static void diagnose_timeout(unsigned done)
{
    fprintf(stderr, "kmap_threads: timeout after %d s: %u of %u threads done, %u waiters on "
            "pkmap_map_wait\n", KT_TIMEOUT_S, done, K.nthreads, hm_nr_waiters(K.ctx));
    for (unsigned t = 0; t < K.nthreads; t++) {
        struct kt_thread *th = &K.th[t];
        unsigned p = atomic_load(&th->pos);
        fprintf(stderr, "  thread %u (cpu %u): %u/%u ops done%s", t, th->cpu, p, th->nops,
                atomic_load(&th->inkmap) ? ", blocked in hm_kmap" : "");
        if (p < th->nops)
            fprintf(stderr, ", next %s page %u", th->ops[p].kind == OP_KMAP ? "kmap" : "kunmap",
                    th->ops[p].page);
        fputc('\n', stderr);
    }
    for (uint32_t s = 0; s < K.lay->last_pkmap; s++)
        fprintf(stderr, "  slot %u count %d\n", s, hm_pkmap_count(K.ctx, s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct hm_arch *arches[8];
    unsigned narch = 0, hold, nops;
    struct hm_config cfg;
    struct harness_hooks hooks = {.on_bug = on_bug, .on_event = on_event};
    struct fz_input in;
    struct hm_sim_stats ss;
    struct hm_stats st;
    pthread_condattr_t ca;
    struct timespec dl;
    char msg[256];
    int rc;

    verbose = getenv("HM_FUZZ_VERBOSE") != NULL;
    fz_init(&in, data, size);

    /* the highmem arches, found through the registry */
    memset(&cfg, 0, sizeof cfg);
    for (unsigned i = 0; hm_arch_at(i) && narch < 8; i++) {
        struct hm_layout l;
        cfg.arch = hm_arch_at(i);
        if (hm_layout_compute(&cfg, &l) == HM_OK && l.last_pkmap > 0)
            arches[narch++] = cfg.arch;
    }
    if (narch == 0)
        KT_FAIL("no highmem arch in the registry");

    /* configuration from the back */
    memset(&cfg, 0, sizeof cfg);
    cfg.arch = arches[fz_back_range(&in, 0, narch - 1)];
    cfg.last_pkmap = 2u << fz_back_range(&in, 0, 2); /* 2, 4, 8 */
    K.nthreads = fz_back_range(&in, 2, KT_MAX_THREADS);
    cfg.nr_cpus = K.nthreads;
    cfg.need_flush = (int)fz_back_range(&in, 0, 1);
    K.npages = cfg.last_pkmap + 1 + fz_back_range(&in, 0, cfg.last_pkmap + 1);
    nops = fz_back_range(&in, 1, KT_MAX_OPS);
    /* deadlock freedom: with every thread waiting while holding hold-1 pages, a slot is free */
    hold = 1 + (cfg.last_pkmap - 1) / K.nthreads;
    if (hold > KT_MAX_HOLD)
        hold = KT_MAX_HOLD;
    make_scripts(&in, nops, hold);

    if (harness_machine_open(&K.m, &cfg, &hooks, msg, sizeof msg) != 0)
        KT_FAIL("%s (last_pkmap %u): %s", hm_arch_name(cfg.arch), cfg.last_pkmap, msg);
    K.ctx = K.m.ctx;
    K.sim = K.m.sim;
    K.lay = &K.m.layout;
    if (K.lay->max_pfn - K.lay->highmem_start_pfn < K.npages)
        KT_FAIL("%s: only %u highmem pages", hm_arch_name(cfg.arch),
                K.lay->max_pfn - K.lay->highmem_start_pfn);
    if (verbose)
        fprintf(stderr, "kmap_threads: %s last_pkmap %u need_flush %d threads %u pages %u hold %u\n",
                hm_arch_name(cfg.arch), cfg.last_pkmap, cfg.need_flush, K.nthreads, K.npages, hold);

    for (unsigned p = 0; p < K.npages; p++)
        if (hm_sim_phys_write(K.sim, K.lay->highmem_start_pfn + p, 0, signature(p)) != HM_OK)
            KT_FAIL("hm_sim_phys_write failed");
    atomic_store(&K.bugs, 0);
    atomic_store(&K.stale, 0);

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&K.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&K.mu, NULL);
    K.done = 0;
    K.go = 0;

    for (unsigned t = 0; t < K.nthreads; t++) {
        if (verbose) {
            fprintf(stderr, "  thread %u:", t);
            for (unsigned i = 0; i < K.th[t].nops; i++)
                fprintf(stderr, " %s%u", K.th[t].ops[i].kind == OP_KMAP ? "+" : "-",
                        K.th[t].ops[i].page);
            fputc('\n', stderr);
        }
        atomic_store(&K.th[t].pos, 0);
        atomic_store(&K.th[t].inkmap, 0);
        K.th[t].started = pthread_create(&K.th[t].tid, NULL, run_thread, &K.th[t]) == 0;
        if (!K.th[t].started)
            KT_FAIL("pthread_create failed");
    }

    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += KT_TIMEOUT_S;
    pthread_mutex_lock(&K.mu);
    K.go = 1;
    pthread_cond_broadcast(&K.cv);
    while (K.done < K.nthreads) {
        rc = pthread_cond_timedwait(&K.cv, &K.mu, &dl);
        if (rc == ETIMEDOUT && K.done < K.nthreads) {
            diagnose_timeout(K.done);
            abort();
        }
    }
    pthread_mutex_unlock(&K.mu);
    for (unsigned t = 0; t < K.nthreads; t++)
        pthread_join(K.th[t].tid, NULL);
    pthread_cond_destroy(&K.cv);
    pthread_mutex_destroy(&K.mu);

    /* the final state */
    rc = hm_check_invariants(K.ctx, msg, sizeof msg);
    if (rc != 0)
        KT_FAIL("invariant I%d broken: %s", rc, msg);
    for (uint32_t s = 0; s < K.lay->last_pkmap; s++) {
        int c = hm_pkmap_count(K.ctx, s);
        if (c != 0 && c != 1)
            KT_FAIL("slot %u count %d after every thread released everything", s, c);
    }
    if (hm_nr_waiters(K.ctx) != 0)
        KT_FAIL("%u waiters left on pkmap_map_wait", hm_nr_waiters(K.ctx));
    hm_get_stats(K.ctx, &st);
    if (st.bugs != 0 || atomic_load(&K.bugs) != 0)
        KT_FAIL("%llu BUG conditions reported", (unsigned long long)st.bugs);
    hm_sim_get_stats(K.sim, &ss);
    if (ss.stale_pte_writes != 0 || ss.stale_tlb_hits != 0 || atomic_load(&K.stale) != 0)
        KT_FAIL("stale translations: %llu stale PTE writes, %llu stale TLB hits",
                (unsigned long long)ss.stale_pte_writes, (unsigned long long)ss.stale_tlb_hits);
    if (verbose)
        fprintf(stderr, "kmap_threads: ok, %llu sleeps, %llu wakeups, %llu flushes\n",
                (unsigned long long)st.sleeps, (unsigned long long)st.wakeups,
                (unsigned long long)st.flushes);

    K.sim = NULL;
    K.ctx = NULL;
    return 0;
}
