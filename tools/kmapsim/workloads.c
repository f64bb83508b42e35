/* workloads.c - what `kmapsim run`'s worker threads do: the page operations the workloads
 * share (kmap/kunmap with the run's bookkeeping, checked copies through the MMU) and the
 * eight workloads. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "run_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/exec.h"

#define BOUNCE_PAGE_BASE 0x100u   /* the per-CPU lowmem bounce buffers (below every page set) */

static void nap_us(long us)
{
    struct timespec t = {0, us * 1000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
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

/* A failed call of the worker: counted, and kept if it is the run's first. */
#define CALL_FAILED(w, ...)                                                                \
    do {                                                                                   \
        bump(&(w)->errors, 1);                                                             \
        run_record_failure((w)->R, KMAPSIM_FAIL_CALLS, __VA_ARGS__);                       \
    } while (0)

/* kmap (sleeping allowed): times the call when it slept, tracks the slot held. */
static int do_kmap(struct worker *w, hm_pfn_t pfn, hm_vaddr_t *v)
{
    struct run *R = w->R;
    uint64_t slept = run_tls_sleeps;
    int64_t t0 = run_now_ns();
    int rc = hm_kmap(R->m.ctx, pfn, v);
    bump(&w->kmaps, 1);
    if (run_tls_sleeps != slept) {
        uint64_t dt = (uint64_t)(run_now_ns() - t0);
        bump(&w->sleep_ns, dt);
        if (dt > atomic_load_explicit(&w->sleep_longest, memory_order_relaxed))
            atomic_store_explicit(&w->sleep_longest, dt, memory_order_relaxed);
    }
    if (rc != HM_OK) {
        CALL_FAILED(w, "kmap of pfn %" PRIu32 " failed: %s", pfn, hm_strerror(rc));
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
    rc = hm_kunmap(w->R->m.ctx, pfn);
    bump(&w->kunmaps, 1);
    if (rc != HM_OK)
        CALL_FAILED(w, "kunmap of pfn %" PRIu32 " failed: %s", pfn, hm_strerror(rc));
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
    return (uint8_t)rng_mix64(((uint64_t)pfn << 32) ^ ((uint64_t)ver << 12) ^ off);
}

/* A byte read that differs from what it should be: counted, and kept if it is the first. */
#define WRONG_BYTE(w, ...)                                                                 \
    do {                                                                                   \
        bump(&(w)->wrong, 1);                                                              \
        run_record_failure((w)->R, KMAPSIM_FAIL_WRONG_BYTES, __VA_ARGS__);                 \
    } while (0)

/* One byte through cpu's MMU: the sim's, or on the host machine a real pointer (a stale
 * use of an unmapped slot faults there: strict mode). */
static int mem_load(struct worker *w, hm_vaddr_t a, uint8_t *got)
{
    if (w->R->host) {
        *got = *(volatile const uint8_t *)hm_host_ptr(a);
        return HM_OK;
    }
    return hm_sim_load(w->R->m.sim, w->cpu, a, got);
}

static int mem_store(struct worker *w, hm_vaddr_t a, uint8_t byte)
{
    if (w->R->host) {
        *(volatile uint8_t *)hm_host_ptr(a) = byte;
        return HM_OK;
    }
    return hm_sim_store(w->R->m.sim, w->cpu, a, byte);
}

/* Read the page's sampled bytes through cpu's MMU at v and compare them with version ver. */
static void check_page(struct worker *w, hm_vaddr_t v, hm_pfn_t pfn, uint32_t ver)
{
    struct run *R = w->R;
    int j;
    for (j = 0; j < NOFF; j++) {
        uint32_t off = page_off(R, pfn, j);
        uint8_t got = 0, want = pattern(pfn, ver, off);
        int rc = mem_load(w, v + off, &got);
        if (rc != HM_OK) {
            CALL_FAILED(w, "load at 0x%08" PRIx64 " (pfn %" PRIu32 ") failed: %s", v + off, pfn,
                        hm_strerror(rc));
            return;
        }
        bump(&w->bytes, 1);
        if (got != want)
            WRONG_BYTE(w,
                       "wrong byte: cpu %" PRIu32 " read 0x%02x at 0x%08" PRIx64
                       " (pfn %" PRIu32 " offset %" PRIu32 "), the page holds 0x%02x",
                       w->cpu, got, v + off, pfn, off, want);
    }
}

/* Write version ver of the page's sampled bytes through cpu's MMU at v. */
static void fill_page(struct worker *w, hm_vaddr_t v, hm_pfn_t pfn, uint32_t ver)
{
    struct run *R = w->R;
    int j;
    for (j = 0; j < NOFF; j++) {
        uint32_t off = page_off(R, pfn, j);
        int rc = mem_store(w, v + off, pattern(pfn, ver, off));
        if (rc != HM_OK) {
            CALL_FAILED(w, "store at 0x%08" PRIx64 " (pfn %" PRIu32 ") failed: %s", v + off,
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
        uint64_t idx = thread_index(w->R, w->id, rng_below(&w->rng, n));
        int write = rng_below(&w->rng, 4) == 0;
        page_access(w, idx, write);
    }
}

/* The bounce buffer at bvaddr before the device writes it behind the CPUs' caches
 * (hm_sim_phys_write): with the cache model on, no CPU may keep a copy of it, or the copy
 * would be read instead of the new data. A coherent machine's bus snoops those copies away, a
 * non-coherent one's driver writes them back and invalidates them when it maps the buffer for
 * the device (dma_map_page, DMA_FROM_DEVICE); here, the machine's flush_cache_page hook on every
 * CPU (the sim's own, even when a test has adapted the library's). That is the driver's
 * maintenance, not the arch's kmap flushes, so it is counted apart (dma_flushes). Without the
 * model there is nothing to maintain. */
static void dma_map_for_device(struct worker *w, hm_vaddr_t bvaddr)
{
    const struct hm_machine *hw = &w->R->sim_hw;
    if (!w->R->m.cache_on)
        return;
    hw->flush_cache_page(hw->m, HM_CPU_ALL, bvaddr);
    bump(&w->dma_flushes, 1);
}

/* bounce: the device has DMA'd the next version of a highmem page into this CPU's lowmem
 * bounce buffer; copy it into the page through kmap_atomic(KM_BOUNCE_READ), checking the
 * page's old bytes through the same mapping first. */
static void wl_bounce(struct worker *w)
{
    struct run *R = w->R;
    const struct hm_layout *l = &R->m.layout;
    hm_pfn_t bpfn = BOUNCE_PAGE_BASE + w->cpu;
    hm_vaddr_t bvaddr = l->page_offset + ((hm_vaddr_t)bpfn << R->pshift);
    uint64_t n = thread_pages(R, w->id), k;
    int j;

    for (k = 0; k < w->nops; k++) {
        uint64_t idx = thread_index(R, w->id, rng_below(&w->rng, n));
        hm_pfn_t pfn = R->base + (hm_pfn_t)idx;
        uint32_t next = R->ver[idx] + 1;
        hm_vaddr_t v;
        int rc;

        dma_map_for_device(w, bvaddr);
        for (j = 0; j < NOFF; j++) {
            uint32_t off = page_off(R, pfn, j);
            if (hm_sim_phys_write(R->m.sim, bpfn, off, pattern(pfn, next, off)) != HM_OK)
                CALL_FAILED(w, "DMA into the bounce buffer (pfn %" PRIu32 ") failed", bpfn);
        }
        rc = hm_kmap_atomic(R->m.ctx, w->cpu, pfn, R->bounce_type, &v);
        bump(&w->atomics, 1);
        if (rc != HM_OK) {
            CALL_FAILED(w, "kmap_atomic of pfn %" PRIu32 " on cpu %" PRIu32 " failed: %s", pfn,
                        w->cpu, hm_strerror(rc));
            op_done(R);
            continue;
        }
        check_page(w, v, pfn, R->ver[idx]);
        for (j = 0; j < NOFF; j++) {
            uint32_t off = page_off(R, pfn, j);
            uint8_t byte = 0;
            if (mem_load(w, bvaddr + off, &byte) != HM_OK) {
                CALL_FAILED(w, "load from the bounce buffer at 0x%08" PRIx64 " failed",
                            bvaddr + off);
                break;
            }
            bump(&w->bytes, 1);
            if (byte != pattern(pfn, next, off))
                WRONG_BYTE(w, "wrong byte in the bounce buffer at 0x%08" PRIx64, bvaddr + off);
            if (mem_store(w, v + off, byte) != HM_OK) {
                CALL_FAILED(w, "store at 0x%08" PRIx64 " failed", v + off);
                break;
            }
        }
        R->ver[idx] = next;
        rc = hm_kunmap_atomic(R->m.ctx, w->cpu, v, R->bounce_type);
        if (rc != HM_OK)
            CALL_FAILED(w, "kunmap_atomic on cpu %" PRIu32 " failed: %s", w->cpu,
                        hm_strerror(rc));
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

/* hold-many's k-th page of colour c for thread t on a coloured window (spec §10.3): the page
 * indices of colour c, (c - base) mod n + n * i, dealt out to the threads as thread_index does.
 * *count is how many such pages the thread has below W. */
static uint64_t colour_index(const struct run *R, uint32_t t, uint32_t c, uint64_t k, uint64_t *count)
{
    uint64_t n = R->colours, first = (c + n - R->base % n) % n, T = R->o.threads;
    uint64_t of_colour = R->W > first ? (R->W - first + n - 1) / n : 0;
    *count = of_colour > t ? (of_colour - t + T - 1) / T : 0;
    return first + n * (t + k * T);
}

/* hold-many: in rounds, every thread kmaps its share of window + threads - 1 pages, holds
 * them until the round's first sleep (or until everybody has all of theirs, which only
 * happens without highmem), checks them again and releases them all. On a coloured window the
 * window is one colour's slots and round r's pages are all of colour r mod colours: the bound
 * that keeps the threads from deadlocking (include/highmem.h) holds per colour, and a thread
 * never waits for a slot of a colour whose every slot it holds itself. */
static void wl_hold_many(struct worker *w)
{
    struct run *R = w->R;
    uint32_t T = R->o.threads;
    uint32_t h = run_hold_count(R->hold_window, T, w->id), j;
    uint64_t n = thread_pages(R, w->id), r, rounds = w->nops;
    hm_pfn_t *pfns = calloc(h ? h : 1, sizeof *pfns);
    hm_vaddr_t *vs = calloc(h ? h : 1, sizeof *vs);
    unsigned char *ok = calloc(h ? h : 1, 1);

    if (!pfns || !vs || !ok)
        CALL_FAILED(w, "out of memory");
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
            uint64_t idx = thread_index(R, w->id, (r * h + j) % n), mine = 0;
            if (R->colours > 1u) {
                (void)colour_index(R, w->id, (uint32_t)(r % R->colours), 0, &mine);
                idx = colour_index(R, w->id, (uint32_t)(r % R->colours), (r * h + j) % (mine ? mine : 1u), &mine);
            }
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

/* local-switch (5.11): the thread is one CPU running its idle task and RUN_LOCAL_TASKS tasks of
 * its own; each operation switches to another of them, or has the running task push a page of
 * the thread's set with kmap_local (checking it, writing one in four), or pop its top (checking
 * it first). A task switched back in checks every page it holds through its re-installed
 * mappings: a sched-out or sched-in that left a stale translation reads a wrong byte. At the
 * end every task pops everything and the CPU runs its idle task again. */
struct local_map {
    uint64_t idx; /* the page's index in the set */
    hm_vaddr_t v;
};
struct local_task {
    uint32_t n;
    struct local_map m[RUN_LOCAL_DEPTH];
};

static uint32_t local_task_no(const struct worker *w, uint32_t k)
{
    return k ? 1u + RUN_LOCAL_TASKS * w->cpu + (k - 1u) : 0u; /* 0: this CPU's idle task */
}

static void local_check(struct worker *w, const struct local_map *m)
{
    check_page(w, m->v, w->R->base + (hm_pfn_t)m->idx, w->R->ver[m->idx]);
}

static int local_switch(struct worker *w, struct local_task *tasks, uint32_t *cur, uint32_t next)
{
    int rc = hm_switch(w->R->m.ctx, w->cpu, local_task_no(w, next));
    if (rc != HM_OK) {
        CALL_FAILED(w, "switch of cpu %" PRIu32 " to task %" PRIu32 " failed: %s", w->cpu,
                    local_task_no(w, next), hm_strerror(rc));
        return rc;
    }
    *cur = next;
    for (uint32_t j = 0; j < tasks[next].n; j++)
        local_check(w, &tasks[next].m[j]);
    return HM_OK;
}

static void local_pop(struct worker *w, struct local_task *t)
{
    const struct local_map *top = &t->m[t->n - 1u];
    int rc;
    local_check(w, top);
    rc = hm_kunmap_local(w->R->m.ctx, w->cpu, top->v);
    if (rc != HM_OK) {
        CALL_FAILED(w, "kunmap_local of 0x%08" PRIx64 " on cpu %" PRIu32 " failed: %s", top->v,
                    w->cpu, hm_strerror(rc));
        return;
    }
    t->n--;
}

static int local_holds(const struct local_task *t, uint64_t idx)
{
    for (uint32_t j = 0; j < t->n; j++)
        if (t->m[j].idx == idx)
            return 1;
    return 0;
}

/* Push a page of the thread's share. With the cache model on, a page the task holds already is
 * not mapped a second time: writing through one of two local mappings of a page and reading
 * through the other needs a flush no kernel primitive makes (on a VIVT cache only
 * kunmap_local writes the first back), so kernel code does not do it; the next page the task
 * does not hold is taken instead. Returns 0 when the task holds every page of the share (no
 * push), else 1. */
static int local_push(struct worker *w, struct local_task *t)
{
    struct run *R = w->R;
    uint64_t n = thread_pages(R, w->id), k = rng_below(&w->rng, n), tries = 0;
    uint64_t idx = thread_index(R, w->id, k);
    hm_pfn_t pfn;
    hm_vaddr_t v;
    int rc;

    while (R->m.cache_on && local_holds(t, idx)) {
        if (++tries == n)
            return 0;
        k = (k + 1u) % n;
        idx = thread_index(R, w->id, k);
    }
    pfn = R->base + (hm_pfn_t)idx;
    rc = hm_kmap_local_page(R->m.ctx, w->cpu, pfn, &v);
    if (rc != HM_OK) {
        CALL_FAILED(w, "kmap_local of pfn %" PRIu32 " on cpu %" PRIu32 " failed: %s", pfn, w->cpu,
                    hm_strerror(rc));
        return 1;
    }
    if (R->ver[idx] == 0) {
        R->ver[idx] = 1;
        fill_page(w, v, pfn, 1);
    }
    check_page(w, v, pfn, R->ver[idx]);
    if (rng_below(&w->rng, 4) == 0) {
        R->ver[idx]++;
        fill_page(w, v, pfn, R->ver[idx]);
    }
    t->m[t->n].idx = idx;
    t->m[t->n].v = v;
    t->n++;
    return 1;
}

static void wl_local_switch(struct worker *w)
{
    struct local_task tasks[RUN_LOCAL_TASKS + 1u];
    uint32_t cur = 0, k;
    uint64_t i;

    memset(tasks, 0, sizeof tasks);
    for (i = 0; i < w->nops; i++) {
        uint64_t pick = rng_below(&w->rng, 8);
        struct local_task *t = &tasks[cur];
        if (pick < 2)
            (void)local_switch(w, tasks, &cur,
                               (cur + 1u + (uint32_t)rng_below(&w->rng, RUN_LOCAL_TASKS)) %
                                   (RUN_LOCAL_TASKS + 1u));
        else if (pick < 5 && t->n < RUN_LOCAL_DEPTH && local_push(w, t))
            ;
        else if (t->n > 0)
            local_pop(w, t);
        op_done(w->R);
    }
    for (k = 0; k <= RUN_LOCAL_TASKS; k++) {
        uint32_t n;
        if (local_switch(w, tasks, &cur, k) != HM_OK)
            return;
        for (n = tasks[k].n; n > 0 && tasks[k].n == n; n--)
            local_pop(w, &tasks[k]);
    }
    (void)local_switch(w, tasks, &cur, 0);
}

/* One trace command through the harness interpreter (the replay semantics: kmap never
 * sleeps), with the run's bookkeeping around it: the slot a kmap returned is held, the slot a
 * kunmap releases is looked up before the call. Returns HM_OK or the command's error. */
static int trace_step(struct worker *w, struct harness_exec *x, const struct trace_cmd *c)
{
    struct run *R = w->R;
    struct harness_result res, pa;
    struct trace_cmd lookup;
    hm_vaddr_t v = 0;

    if (c->op == KOP_KUNMAP) {
        lookup = *c;
        lookup.op = KOP_PAGE_ADDRESS;
        harness_exec(x, &lookup, &pa);
        if (pa.err == HM_OK)
            v = pa.vaddr;
    }
    harness_exec(x, c, &res);
    /* With capture off, a bug in the result means the interpreter refused an argument
     * itself: no library call was made, so none is counted. */
    if (res.bug == HM_BUG_NONE) {
        switch (c->op) {
        case KOP_KMAP:
            bump(&w->kmaps, 1);
            break;
        case KOP_KUNMAP:
            bump(&w->kunmaps, 1);
            break;
        case KOP_KMAP_ATOMIC:
        case KOP_KMAP_ATOMIC_PFN:
            bump(&w->atomics, 1);
            break;
        default:
            break;
        }
    }
    if (res.err != HM_OK)
        return res.err;
    if (c->op == KOP_KMAP || (c->op == KOP_KMAP_HIGH_GET && res.has_vaddr)) /* a pin holds too */
        hold_slot(R, res.vaddr);
    else if (c->op == KOP_KUNMAP && in_window(R, v) && atomic_load(&R->holds[slot_of(R, v)]) > 0)
        release_slot(R, v);
    return HM_OK;
}

/* trace: the commands in order, cycling through the trace until ops commands have run.
 * Failed commands are counted (op_errors), as replay reports them, and the run goes on. */
static void wl_trace(struct worker *w)
{
    struct run *R = w->R;
    const struct trace_list *t = R->o.trace;
    struct harness_exec x;
    uint64_t i;

    if (harness_exec_init(&x, &R->m, 0) != 0) {
        CALL_FAILED(w, "out of memory");
        return;
    }
    for (i = 0; t->n && i < w->nops; i++) {
        const struct trace_cmd *c = &t->cmds[i % t->n];
        int rc = trace_step(w, &x, c);
        if (rc != HM_OK)
            CALL_FAILED(w, "trace line %lu (%s) failed: %s", c->line, trace_op_name(c->op),
                        hm_strerror(rc));
        op_done(R);
    }
    harness_exec_free(&x);
}

void *run_worker_main(void *arg)
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
    case KW_LOCAL_SWITCH:
        wl_local_switch(w);
        break;
    default:
        break;
    }
    return NULL;
}
