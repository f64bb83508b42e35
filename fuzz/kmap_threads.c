/* kmap_threads.c - fuzz target: balanced kmap/kunmap(/kmap_try/flush_unused/kmap_high_get) scripts on 2..4
 * real pthreads, kmap_atomic(/kmap_local/switch) scripts on per-CPU threads and an inspector of the concurrent
 * getters, in either locking mode, on every highmem arch and kernel generation, optionally with the sim's data
 * cache; then invariants, counts 0/1, balanced statistics, no waiters, no stale TLB or cache line.
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
#include "highmem_arch.h"
#include "sim/sim.h"

#define KT_MAX_WORKERS 4   /* the kmap/kunmap threads */
#define KT_MAX_CPUS 3      /* the kmap_atomic threads, one CPU each */
#define KT_MAX_THREADS (KT_MAX_WORKERS + KT_MAX_CPUS + 1) /* + the inspector */
#define KT_MAX_OPS 16      /* script bytes per thread (plus the final releases) */
#define KT_MAX_HOLD 3      /* pages a worker holds at once, at most */
#define KT_MAX_HOLD_TRY 4  /* the same for an FL_TRY worker (its extra pages never sleep) */
#define KT_MAX_PAGES 18    /* distinct highmem pages: 2 * 8 + 2 (and one lowmem page after them) */
#define KT_LANE0 8u        /* thread t's byte of every page is at KT_LANE0 + t (lane_off) */
#define KT_LANE_LINE 32u   /* with the cache model: one 32-byte cache line per lane, the first after the signature's */
#define KT_TASKS 3u        /* a switching CPU thread's tasks: its CPU's idle task and two of its own */
#define KT_TASK_DEPTH 3u   /* local mappings a task keeps across ops, at most */
#define KT_TIMEOUT_S 10

#define KT_FAIL(...) FUZZ_FAIL("kmap_threads", __VA_ARGS__)

/* The extension: bytes after the workers' scripts (none in the inputs written before it, which
 * therefore run as they always did: fast locking, workers only). First the mode byte: */
#define MD_KERNEL 0x01        /* HM_LOCKING_KERNEL (else the default HM_LOCKING_FAST) */
#define MD_CPUS(b) (((b) >> 1) & 3u) /* kmap_atomic threads, 0..3 */
#define MD_INSPECTOR 0x08     /* an inspector thread */
#define MD_DEBUG 0x10         /* CONFIG_DEBUG_HIGHMEM */
#define MD_INSPECT_FLUSH 0x20 /* the inspector also calls hm_kmap_flush_unused */
/* then one flavour byte per worker: */
#define FL_TRY 0x01    /* a kmap made while holding a page is hm_kmap_try (EAGAIN: not taken) */
#define FL_FLUSH 0x02  /* hm_kmap_flush_unused after every kunmap */
#define FL_NESTED 0x04 /* every kmap is followed by a second kmap of the page (a hit) and a kunmap */
#define FL_LOOKUP 0x08 /* page_address and kmap_to_page of the page just mapped (exact: it is held) */
/* then one script per kmap_atomic thread: per byte, bits 0-1 the call (kmap_atomic,
 * kmap_atomic_prot, kmap_atomic_pfn, or kmap_atomic with a kmap_atomic_pfn nested in it) and
 * bits 2-7 the page (the lowmem page included).
 * Then, issue 16's machine byte: only a value 0x50..0x5f (XT_MARK in the high nibble, which no
 * input committed before it has there: they end before it or hold another value, and run as
 * they always did) means something; any other value, or no byte, is the old decoding. */
#define XT_MARK 0x50
#define XT_IS_MARK(b) (((b) & 0xf0u) == XT_MARK)
#define XT_ARCH(b) ((b) & 3u)              /* 0: the arch from the back, 1 arm, 2 arm-vipt, 3 xtensa */
#define XT_KERNEL(b) ((((b) >> 2) & 3u) % 3u) /* enum hm_kernel: 2.6.24, 2.6.30, 5.11 (3: 2.6.24) */
/* and after a marked machine byte, the feature byte (ignored where the call does not exist): */
#define FT_HIGH_GET(t) (1u << (t))         /* bits 0-3: worker t also calls hm_kmap_high_get (2.6.30+ arm) */
#define FT_LOCAL(j) (1u << (4 + (j)))      /* bits 4-6: kmap_atomic thread j also uses kmap_local (5.11) */
#define FT_INSPECT_GET 0x80u               /* the inspector pins every mapped page with hm_kmap_high_get */
/* and after the feature byte, the task byte: only a value 0x40..0x7f (X2_MARK in bits 6-7, which
 * no input committed before it has there: each ends before it or holds 0xbd) means something. */
#define X2_MARK 0x40u
#define X2_IS_MARK(b) (((b) & 0xc0u) == X2_MARK)
#define X2_SWITCH(j) (1u << (j))           /* bits 0-2: kmap_atomic thread j also switches tasks (5.11) */
#define X2_CACHE 0x08u                     /* the sim's data cache model, where the arch's cache aliases */

enum { OP_KMAP, OP_KUNMAP };
enum { K_WORKER, K_CPU, K_INSPECTOR };
enum { LM_PUSHED, LM_PIN, LM_LOWMEM }; /* a kmap_local: on the task's stack, a kmap_high_get pin, the direct map */

/* A local mapping a task keeps across ops (a switching CPU thread's record of its tasks' stacks). */
struct kt_local {
    hm_vaddr_t va;
    uint8_t page, kind;
};

struct kt_task {
    unsigned n; /* entries, oldest first: the pushed ones in the order of the task's kmap_ctrl stack */
    struct kt_local m[KT_TASK_DEPTH];
};

struct kt_op {
    uint8_t kind;
    uint8_t page; /* index into the page set */
    uint8_t pair; /* OP_KUNMAP: the index of its OP_KMAP */
};

struct kt_thread {
    struct kt_op ops[KT_MAX_OPS + KT_MAX_HOLD_TRY];
    uint8_t taken[KT_MAX_OPS + KT_MAX_HOLD_TRY]; /* OP_KMAP: 1 if it got the page */
    unsigned nops;
    int kind;
    uint8_t flavour;
    uint32_t cpu;                   /* its loads and stores go through this CPU */
    uint8_t last[KT_MAX_PAGES + 1]; /* what it last stored in its lane of each page */
    uint64_t kmaps, eagain, kunmaps; /* its highmem calls, for the balance against hm_stats */
    uint64_t pins;     /* kmap_high_get pins it took (its own or kmap_atomic's), each released by a kunmap */
    int high_get;      /* a worker (or the inspector) that also calls hm_kmap_high_get */
    int local;         /* a kmap_atomic thread that also uses kmap_local */
    int sw;            /* a kmap_atomic thread that also switches tasks (hm_switch) */
    unsigned cur;      /* sw: the index of the task its CPU runs, into task[] */
    struct kt_task task[KT_TASKS]; /* sw: the local mappings each of its tasks holds */
    uint64_t switches; /* sw: hm_switch calls that switched */
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
    unsigned nthreads, npages; /* workers, highmem pages */
    unsigned ncpus, nall;      /* kmap_atomic threads; every thread */
    uint8_t mode;
    uint8_t machine, features; /* issue 16's bytes (0 when unmarked) */
    uint8_t tasks;             /* the task byte (0 when unmarked) */
    int has_high_get;          /* the context has kmap_high_get (arm from 2.6.30) */
    int has_local;             /* the context has kmap_local (5.11) */
    int km_incr;               /* KM_INCR: kmap_ctrl.idx per local mapping (2 with DEBUG_KMAP_LOCAL) */
    int cache;                 /* the sim's data cache model is on */
    struct kt_thread th[KT_MAX_THREADS];
    _Atomic hm_vaddr_t atomic_va[KT_MAX_THREADS]; /* a kmap_atomic thread's slot, once used */
    atomic_uint running;       /* workers and kmap_atomic threads not finished yet */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned done; /* guarded by mu */
    int go;        /* guarded by mu: the start gate, so the threads really overlap */
    atomic_uint bugs, stale, stale_cache;
} K;

static int verbose;
/* The inspector calls the getters without locks (highmem.h's inspection contract) where the
 * library has the fast path (harness_fast_locking_built); else under kmap_lock (ppc32), and no
 * other CPU's pagefault depth. */
static int unlocked_inspect = -1;

static uint8_t signature(unsigned page)
{
    return (uint8_t)(0xa5u ^ (page * 37u + 11u));
}

/* Where thread t's byte of every page is: KT_LANE0 + t, or with the cache model a cache line of
 * its own (each line has one writer; docs: fuzz/README.md, The data cache). */
static uint32_t lane_off(unsigned t)
{
    return K.cache ? KT_LANE_LINE * (t + 1u) : KT_LANE0 + t;
}

/* va is a page of the pkmap window. */
static int in_window(hm_vaddr_t va)
{
    return va >= K.lay->pkmap_base && va < K.lay->pkmap_base + ((hm_vaddr_t)K.lay->last_pkmap << K.lay->page_shift) &&
           (va & (K.lay->page_size - 1u)) == 0;
}

/* va lies in the kmap_atomic (5.11: kmap_local) slots: the fixmap where the layout has one
 * (above high_memory on x86 and sparc, above it too on arm, below PAGE_OFFSET on xtensa), else
 * (ppc) the KM_TYPE_NR-per-CPU window from kmap_atomic_base in kmap_atomic_dir. */
static int in_slots(hm_vaddr_t va)
{
    hm_vaddr_t lo, hi, n = (hm_vaddr_t)K.lay->km_type_nr * K.lay->config_nr_cpus << K.lay->page_shift;
    if (K.lay->fixaddr_top > K.lay->fixaddr_start) {
        lo = K.lay->fixaddr_start;
        hi = K.lay->fixaddr_top;
    } else if (K.lay->kmap_atomic_dir > 0) {
        lo = K.lay->kmap_atomic_base;
        hi = lo + n;
    } else {
        hi = K.lay->kmap_atomic_base + K.lay->page_size;
        lo = hi - n;
    }
    return va >= lo && va < hi && (va & (K.lay->page_size - 1u)) == 0;
}

/* Page index -> pfn: the highmem pages, then the last lowmem page. */
static hm_pfn_t page_pfn(unsigned page)
{
    return page < K.npages ? K.lay->highmem_start_pfn + page : K.lay->highmem_start_pfn - 1;
}

static void on_bug(void *cookie, const struct hm_bug_report *r)
{
    (void)cookie;
    atomic_fetch_add(&K.bugs, 1);
    fprintf(stderr, "kmap_threads: BUG %s in %s (arg 0x%" PRIx64 ") -> %s\n", hm_bug_name(r->bug),
            r->function ? r->function : "?", r->arg, hm_strerror(r->err));
}

/* Every library and sim event; only the sim's stale translations and stale cache lines matter. */
static void on_event(void *cookie, const struct hm_event *ev)
{
    (void)cookie;
    if (ev->kind == HM_EV_STALE_TLB) {
        atomic_fetch_add(&K.stale, 1);
        fprintf(stderr, "kmap_threads: stale translation on cpu %u at 0x%08" PRIx64 " (TLB pfn 0x%" PRIx64 ")\n",
                ev->cpu, ev->a, ev->b);
    } else if (ev->kind == HM_EV_STALE_CACHE) {
        atomic_fetch_add(&K.stale_cache, 1);
        fprintf(stderr, "kmap_threads: stale cache line read on cpu %u at 0x%08" PRIx64 " (line of pfn 0x%" PRIx64
                ")\n", ev->cpu, ev->a, ev->b);
    }
}

/* With the cache model, the callers' discipline on an aliasing cache, before page is used
 * through va: its other mappings that this CPU may hold lines of are written back and
 * invalidated here (the machine's flush_cache_page, no library call): its kernel address,
 * page_address (the kernel's flush_dcache_page flushes a page's kernel mapping: the direct map
 * of the lowmem page, which arm's kmap_atomic_pfn also maps at a slot, or a highmem page's pkmap
 * address, which kmap_atomic_pfn bypasses and whose lines stay after a pin's kunmap) and each
 * other address at which the running task keeps it (two kmap_local of one page). The arch's own flushes (kunmap_atomic,
 * flush_cache_kmaps, a switch's sched-out) are left to the library: a missing one still leaves a
 * line at an address that now maps another page (fuzz/README.md, The data cache). */
static void alias_flush(struct kt_thread *t, unsigned page, hm_vaddr_t va)
{
    hm_vaddr_t pa = 0;
    if (hm_page_address(K.ctx, page_pfn(page), &pa) == HM_OK && pa != 0 && pa != va)
        K.m.hw.flush_cache_page(K.m.hw.m, t->cpu, pa);
    if (t->sw)
        for (unsigned e = 0; e < t->task[t->cur].n; e++)
            if (t->task[t->cur].m[e].page == page && t->task[t->cur].m[e].va != va)
                K.m.hw.flush_cache_page(K.m.hw.m, t->cpu, t->task[t->cur].m[e].va);
}

/* Through va, which maps page: the signature is there, and a value stored in the thread's
 * lane reads back and lands in the page (with the cache model: reads back through va; memory
 * gets it when the line is written back, checked at the end). */
static void check_bytes(struct kt_thread *t, unsigned i, unsigned page, hm_vaddr_t va)
{
    hm_pfn_t pfn = page_pfn(page);
    uint32_t lane = lane_off((unsigned)(t - K.th));
    uint8_t got = 0, val = (uint8_t)(pfn * 7u + i * 13u + 1u);
    int rc;

    if (K.cache)
        alias_flush(t, page, va);
    rc = hm_sim_load(K.sim, t->cpu, va, &got);
    if (rc != HM_OK || got != signature(page))
        KT_FAIL("cpu %u op %u: pfn 0x%x at 0x%08" PRIx64 " reads 0x%02x (rc %s), want 0x%02x", t->cpu, i, pfn, va,
                got, hm_strerror(rc), signature(page));
    rc = hm_sim_load(K.sim, t->cpu, va + lane, &got);
    if (rc != HM_OK || got != t->last[page])
        KT_FAIL("cpu %u op %u: pfn 0x%x at 0x%08" PRIx64 ": own byte 0x%02x (rc %s), stored 0x%02x", t->cpu, i,
                pfn, va, got, hm_strerror(rc), t->last[page]);
    if (hm_sim_store(K.sim, t->cpu, va + lane, val) != HM_OK ||
        (K.cache ? hm_sim_load(K.sim, t->cpu, va + lane, &got) : hm_sim_phys_read(K.sim, pfn, lane, &got)) != HM_OK ||
        got != val)
        KT_FAIL("cpu %u op %u: a store through 0x%08" PRIx64 " did not reach pfn 0x%x (0x%02x, want 0x%02x)", t->cpu,
                i, va, pfn, got, val);
    t->last[page] = val;
}

/* ---------------------------------------------------------------------------------------
 * The workers: kmap (or kmap_try) / kunmap scripts.
 * ------------------------------------------------------------------------------------- */
/* kmap_high_get of a page: pins it (its pkmap address, HM_OK) only if it is mapped, else 0 and
 * nothing changed; never sleeps. A pin's bytes are checked and it is released by hm_kunmap.
 * Returns the address (0: not mapped). */
static hm_vaddr_t high_get(struct kt_thread *t, unsigned i, unsigned page, int check)
{
    hm_pfn_t pfn = page_pfn(page);
    hm_vaddr_t va = 1;
    int rc = hm_kmap_high_get(K.ctx, pfn, &va);
    if (rc != HM_OK || (va != 0 && !in_window(va)))
        KT_FAIL("cpu %u op %u: kmap_high_get(pfn 0x%x): %s, 0x%08" PRIx64, t->cpu, i, pfn, hm_strerror(rc), va);
    if (va == 0)
        return 0;
    t->pins++;
    if (check)
        check_bytes(t, i, page, va);
    if ((rc = hm_kunmap(K.ctx, pfn)) != HM_OK)
        KT_FAIL("cpu %u op %u: kunmap of a kmap_high_get pin (pfn 0x%x): %s", t->cpu, i, pfn, hm_strerror(rc));
    return va;
}

/* The kmap_high_get worker, holding page at va: a pin of it must give va; a pin of another page
 * may or may not be taken, whatever the other threads do. */
static void worker_high_get(struct kt_thread *t, unsigned i, unsigned page, hm_vaddr_t va)
{
    hm_vaddr_t got = high_get(t, i, page, 1);
    if (got != va)
        KT_FAIL("cpu %u op %u: kmap_high_get(pfn 0x%x) = 0x%08" PRIx64 " while it is held at 0x%08" PRIx64, t->cpu, i,
                page_pfn(page), got, va);
    (void)high_get(t, i, (page + 1 + i) % K.npages, 1);
}

static void worker_kmap(struct kt_thread *t, unsigned i, unsigned nheld)
{
    unsigned page = t->ops[i].page;
    hm_pfn_t pfn = page_pfn(page), back = 0;
    hm_vaddr_t va = 0, va2 = 0, pa = 0;
    int try_only = (t->flavour & FL_TRY) && nheld > 0;
    int rc;

    atomic_store(&t->inkmap, 1);
    rc = try_only ? hm_kmap_try(K.ctx, pfn, &va) : hm_kmap(K.ctx, pfn, &va);
    atomic_store(&t->inkmap, 0);
    t->kmaps++;
    if (try_only && rc == HM_EAGAIN) {
        t->eagain++;
        return;
    }
    if (rc != HM_OK)
        KT_FAIL("cpu %u op %u: %s(pfn 0x%x): %s", t->cpu, i, try_only ? "hm_kmap_try" : "hm_kmap", pfn,
                hm_strerror(rc));
    if (!in_window(va))
        KT_FAIL("cpu %u op %u: pfn 0x%x mapped at 0x%08" PRIx64 ", outside the pkmap window", t->cpu, i, pfn, va);
    t->taken[i] = 1;
    check_bytes(t, i, page, va);
    if (t->flavour & FL_LOOKUP) {
        if (hm_page_address(K.ctx, pfn, &pa) != HM_OK || pa != va)
            KT_FAIL("cpu %u op %u: page_address(pfn 0x%x) = 0x%08" PRIx64 " while it is mapped at 0x%08" PRIx64, t->cpu,
                    i, pfn, pa, va);
        if (hm_kmap_to_page(K.ctx, va, &back) != HM_OK || back != pfn)
            KT_FAIL("cpu %u op %u: kmap_to_page(0x%08" PRIx64 ") = pfn 0x%x, want 0x%x", t->cpu, i, va, back, pfn);
    }
    if (t->flavour & FL_NESTED) { /* the page is held: a hit, which never sleeps */
        rc = hm_kmap(K.ctx, pfn, &va2);
        t->kmaps++;
        if (rc != HM_OK || va2 != va)
            KT_FAIL("cpu %u op %u: nested kmap(pfn 0x%x): %s, 0x%08" PRIx64 " vs 0x%08" PRIx64, t->cpu, i, pfn,
                    hm_strerror(rc), va2, va);
        if ((rc = hm_kunmap(K.ctx, pfn)) != HM_OK)
            KT_FAIL("cpu %u op %u: nested kunmap(pfn 0x%x): %s", t->cpu, i, pfn, hm_strerror(rc));
        t->kunmaps++;
    }
    if (t->high_get)
        worker_high_get(t, i, page, va);
    sched_yield(); /* hold the page a little: the others run into full slots */
}

static void run_worker(struct kt_thread *t)
{
    unsigned nheld = 0;
    for (unsigned i = 0; i < t->nops; i++) {
        struct kt_op *op = &t->ops[i];
        int rc;
        if (op->kind == OP_KMAP) {
            t->taken[i] = 0;
            worker_kmap(t, i, nheld);
            nheld += t->taken[i];
        } else if (t->taken[op->pair]) {
            rc = hm_kunmap(K.ctx, page_pfn(op->page));
            if (rc != HM_OK)
                KT_FAIL("cpu %u op %u: hm_kunmap(pfn 0x%x): %s", t->cpu, i, page_pfn(op->page), hm_strerror(rc));
            t->kunmaps++;
            nheld--;
            if ((t->flavour & FL_FLUSH) && (rc = hm_kmap_flush_unused(K.ctx)) != HM_OK)
                KT_FAIL("cpu %u op %u: hm_kmap_flush_unused: %s", t->cpu, i, hm_strerror(rc));
        }
        atomic_store(&t->pos, i + 1);
    }
}

/* ---------------------------------------------------------------------------------------
 * The kmap_atomic threads: their own CPU's slots only.
 * ------------------------------------------------------------------------------------- */
/* Where a kmap_atomic or kmap_local call put page (va): a lowmem page's direct-map address, a
 * slot of the kmap fixmap (whose PTE maps it), or where pins_ok, its pkmap address (a pin taken
 * by kmap_high_get, released by the unmap: counted in pins). Then its bytes. */
static void check_local_va(struct kt_thread *t, unsigned i, unsigned page, hm_vaddr_t va, int pins_ok, const char *call)
{
    hm_pfn_t pfn = page_pfn(page), back = 0;
    hm_vaddr_t pa = 0;

    if (page == K.npages && va == K.lay->page_offset + ((hm_vaddr_t)pfn << K.lay->page_shift) &&
        va < K.lay->high_memory) {
        /* a lowmem page through the direct map */
    } else if (in_slots(va)) {
        if (atomic_load(&K.atomic_va[t - K.th]) == 0)
            atomic_store(&K.atomic_va[t - K.th], va);
        if (hm_kmap_atomic_to_page(K.ctx, va, &back) != HM_OK || back != pfn)
            KT_FAIL("cpu %u op %u: kmap_atomic_to_page(0x%08" PRIx64 ") = pfn 0x%x, want 0x%x", t->cpu, i, va, back,
                    pfn);
        back = 0;
        if (hm_kmap_to_page(K.ctx, va, &back) != HM_OK || back != pfn)
            KT_FAIL("cpu %u op %u: kmap_to_page(0x%08" PRIx64 ") = pfn 0x%x, want 0x%x", t->cpu, i, va, back, pfn);
    } else if (pins_ok && page < K.npages && in_window(va)) {
        t->pins++; /* the page is pinned: its address is exact */
        if (hm_page_address(K.ctx, pfn, &pa) != HM_OK || pa != va)
            KT_FAIL("cpu %u op %u: page_address(pfn 0x%x) = 0x%08" PRIx64 " while %s pins it at 0x%08" PRIx64, t->cpu,
                    i, pfn, pa, call, va);
        if (hm_kmap_to_page(K.ctx, va, &back) != HM_OK || back != pfn)
            KT_FAIL("cpu %u op %u: kmap_to_page(0x%08" PRIx64 ") = pfn 0x%x, want 0x%x", t->cpu, i, va, back, pfn);
    } else {
        KT_FAIL("cpu %u op %u: %s(pfn 0x%x) gave 0x%08" PRIx64, t->cpu, i, call, pfn, va);
    }
    check_bytes(t, i, page, va);
}

static hm_vaddr_t atomic_map(struct kt_thread *t, unsigned i, unsigned page, unsigned type, unsigned how, int depth)
{
    hm_pfn_t pfn = page_pfn(page);
    hm_vaddr_t va = 0;
    int rc;

    if (how == 0)
        rc = hm_kmap_atomic(K.ctx, t->cpu, pfn, type, &va);
    else if (how == 1)
        rc = hm_kmap_atomic_prot(K.ctx, t->cpu, pfn, type, hm_mk_kmap_pte(K.ctx, 0), &va);
    else
        rc = hm_kmap_atomic_pfn(K.ctx, t->cpu, pfn, type, &va);
    if (rc != HM_OK)
        KT_FAIL("cpu %u op %u: kmap_atomic call %u (pfn 0x%x, type %u): %s", t->cpu, i, how, pfn, type,
                hm_strerror(rc));
    if (hm_pagefault_depth(K.ctx, t->cpu) != depth)
        KT_FAIL("cpu %u op %u: pagefault depth %d, want %d", t->cpu, i, hm_pagefault_depth(K.ctx, t->cpu), depth);
    /* a pkmap address: arm from 2.6.30 pins a kmapped page (kmap_high_get), never for _pfn */
    check_local_va(t, i, page, va, how != 2 && K.has_high_get, "kmap_atomic");
    return va;
}

static void atomic_unmap(struct kt_thread *t, unsigned i, hm_vaddr_t va, unsigned type, int depth)
{
    int rc = hm_kunmap_atomic(K.ctx, t->cpu, va, type);
    if (rc != HM_OK)
        KT_FAIL("cpu %u op %u: kunmap_atomic(0x%08" PRIx64 ", type %u): %s", t->cpu, i, va, type, hm_strerror(rc));
    if (hm_pagefault_depth(K.ctx, t->cpu) != depth)
        KT_FAIL("cpu %u op %u: pagefault depth %d after kunmap_atomic, want %d", t->cpu, i,
                hm_pagefault_depth(K.ctx, t->cpu), depth);
}

/* kmap_local_page (5.11) of page on the thread's CPU, which runs its idle task throughout: the
 * pagefault depth stays as it was (depth). On arm a kmapped page may come back pinned at its
 * pkmap address (arch_kmap_local_high_get; kunmap_local releases it through kunmap_high). */
static hm_vaddr_t local_map(struct kt_thread *t, unsigned i, unsigned page, int depth)
{
    hm_vaddr_t va = 0;
    int rc = hm_kmap_local_page(K.ctx, t->cpu, page_pfn(page), &va);
    if (rc != HM_OK)
        KT_FAIL("cpu %u op %u: kmap_local_page(pfn 0x%x): %s", t->cpu, i, page_pfn(page), hm_strerror(rc));
    if (hm_pagefault_depth(K.ctx, t->cpu) != depth)
        KT_FAIL("cpu %u op %u: pagefault depth %d after kmap_local_page, want %d", t->cpu, i,
                hm_pagefault_depth(K.ctx, t->cpu), depth);
    check_local_va(t, i, page, va, K.has_high_get, "kmap_local_page"); /* arm: arch_kmap_local_high_get */
    return va;
}

static void local_unmap(struct kt_thread *t, unsigned i, hm_vaddr_t va)
{
    int rc = hm_kunmap_local(K.ctx, t->cpu, va);
    if (rc != HM_OK)
        KT_FAIL("cpu %u op %u: kunmap_local(0x%08" PRIx64 "): %s", t->cpu, i, va, hm_strerror(rc));
}

/* ---------------------------------------------------------------------------------------
 * Context switches (5.11): a switching CPU thread runs three tasks on its CPU, its idle task
 * and two of its own (no other CPU ever runs them: no TASK_RUNNING, no LOCAL_MIGRATE), each
 * keeping up to KT_TASK_DEPTH local mappings across ops and switches (struct kt_task).
 * ------------------------------------------------------------------------------------- */
/* The task number of task[k] of CPU thread t: 0 (its CPU's idle task), then 1 + 2j, 2 + 2j for
 * the j-th kmap_atomic thread (within nr_cpus + 2 tasks: j < 3 and 2 workers at least). */
static uint32_t task_nr(const struct kt_thread *t, unsigned k)
{
    return k == 0 ? 0 : 1u + 2u * (uint32_t)(t - K.th - K.nthreads) + (k - 1u);
}

/* What a kmap_local_page at va (checked by check_local_va) is. */
static uint8_t local_kind(unsigned page, hm_vaddr_t va)
{
    return in_slots(va) ? LM_PUSHED : page < K.npages && in_window(va) ? LM_PIN : LM_LOWMEM;
}

static unsigned pushed(const struct kt_task *k)
{
    unsigned n = 0;
    for (unsigned e = 0; e < k->n; e++)
        n += k->m[e].kind == LM_PUSHED;
    return n;
}

/* A kmap_local_page of page kept by the running task. */
static void task_push(struct kt_thread *t, unsigned i, unsigned page)
{
    struct kt_task *k = &t->task[t->cur];
    hm_vaddr_t va = local_map(t, i, page, 0);
    k->m[k->n++] = (struct kt_local){va, (uint8_t)page, local_kind(page, va)};
}

/* The running task's newest mapping: still the page's bytes, then kunmap_local. */
static void task_pop(struct kt_thread *t, unsigned i)
{
    struct kt_task *k = &t->task[t->cur];
    struct kt_local *e = &k->m[--k->n];
    check_bytes(t, i, e->page, e->va);
    local_unmap(t, i, e->va);
}

/* Switch t's CPU to task[to]. Then: the CPU runs it, both tasks' kmap_ctrl.idx are what their
 * mappings say, none of the outgoing task's stack slots is readable through this CPU's MMU
 * unless the incoming task maps that same slot (I13: no foreign local PTE is live), and each of
 * the incoming task's mappings reads its page's bytes again (kmap_to_page of its slots too). */
static void task_switch(struct kt_thread *t, unsigned i, unsigned to)
{
    const struct kt_task *from = &t->task[t->cur], *k = &t->task[to];
    uint32_t prev = task_nr(t, t->cur), next = task_nr(t, to);
    int rc;

    if (to == t->cur)
        return;
    if ((rc = hm_switch(K.ctx, t->cpu, next)) != HM_OK)
        KT_FAIL("cpu %u op %u: switch from task %u (%u mappings) to task %u (%u): %s", t->cpu, i, prev, from->n,
                next, k->n, hm_strerror(rc));
    t->cur = to;
    t->switches++;
    if (hm_cpu_task(K.ctx, t->cpu) != (int)next)
        KT_FAIL("cpu %u op %u: runs task %d after the switch to task %u", t->cpu, i, hm_cpu_task(K.ctx, t->cpu), next);
    if (hm_task_local_idx(K.ctx, prev, t->cpu) != (int)pushed(from) * K.km_incr ||
        hm_task_local_idx(K.ctx, next, t->cpu) != (int)pushed(k) * K.km_incr)
        KT_FAIL("cpu %u op %u: after the switch from task %u to %u, kmap_ctrl.idx %d and %d, want %u and %u", t->cpu,
                i, prev, next, hm_task_local_idx(K.ctx, prev, t->cpu), hm_task_local_idx(K.ctx, next, t->cpu),
                pushed(from) * (unsigned)K.km_incr, pushed(k) * (unsigned)K.km_incr);
    for (unsigned e = 0; e < from->n; e++) {
        const struct kt_local *x = &from->m[e];
        unsigned same = 0;
        uint8_t got = 0;
        if (x->kind != LM_PUSHED)
            continue; /* a pin or the direct map: no slot of the stack */
        for (unsigned f = 0; f < k->n; f++)
            same |= k->m[f].kind == LM_PUSHED && k->m[f].va == x->va;
        if (!same && (rc = hm_sim_load(K.sim, t->cpu, x->va, &got)) != HM_EFAULT)
            KT_FAIL("cpu %u op %u: switched from task %u to %u, but task %u's local slot 0x%08" PRIx64 " (pfn 0x%x) "
                    "still reads 0x%02x (%s)", t->cpu, i, prev, next, prev, x->va, page_pfn(x->page), got,
                    hm_strerror(rc));
    }
    for (unsigned e = 0; e < k->n; e++) {
        const struct kt_local *x = &k->m[e];
        hm_pfn_t back = 0;
        if (x->kind == LM_PUSHED && (hm_kmap_to_page(K.ctx, x->va, &back) != HM_OK || back != page_pfn(x->page)))
            KT_FAIL("cpu %u op %u: back in task %u, kmap_to_page(0x%08" PRIx64 ") = pfn 0x%x, want 0x%x", t->cpu, i,
                    next, x->va, back, page_pfn(x->page));
        check_bytes(t, i, x->page, x->va);
    }
}

/* One switch step at the end of op i (no kmap_atomic held): unless bit 3 of b, the running task
 * keeps one more mapping; the CPU switches to one of the other two tasks (bit 0), which drops
 * its newest mapping (bit 1), and with bit 2 switches back. */
static void switch_step(struct kt_thread *t, unsigned i, unsigned page)
{
    unsigned b = page + i, home = t->cur, to = (home + 1u + (b & 1u)) % KT_TASKS;
    if (t->task[home].n < KT_TASK_DEPTH && !(b & 8u))
        task_push(t, i, (page + 3u) % (K.npages + 1u));
    task_switch(t, i, to);
    if (t->task[to].n && (b & 2u))
        task_pop(t, i);
    if (b & 4u)
        task_switch(t, i, home);
}

/* The end of a switching thread's script: every kmap_high_get pin (and direct-map address) its
 * tasks hold is released, so that no worker waits for it; the stacked mappings stay for the
 * quiescent check after the join (unwind_tasks). */
static void release_pins(struct kt_thread *t)
{
    for (unsigned k = 0; k < KT_TASKS; k++) {
        struct kt_task *x = &t->task[k];
        unsigned n = 0;
        for (unsigned e = 0; e < x->n; e++) {
            if (x->m[e].kind == LM_PUSHED)
                x->m[n++] = x->m[e];
            else
                local_unmap(t, t->nops, x->m[e].va); /* kunmap_high of a pin, nothing for lowmem */
        }
        x->n = n;
    }
}

/* After the join: each task holding mappings runs again on its CPU (task_switch checks them),
 * drops them newest first, and the CPU goes back to its idle task. */
static void unwind_tasks(struct kt_thread *t)
{
    for (unsigned k = 0; k < KT_TASKS; k++) {
        if (!t->task[k].n)
            continue;
        task_switch(t, t->nops, k);
        while (t->task[k].n)
            task_pop(t, t->nops);
    }
    task_switch(t, t->nops, 0);
    for (unsigned k = 0; k < KT_TASKS; k++)
        if (hm_task_local_idx(K.ctx, task_nr(t, k), t->cpu) != 0)
            KT_FAIL("cpu %u: task %u keeps kmap_ctrl.idx %d after its last kunmap_local", t->cpu, task_nr(t, k),
                    hm_task_local_idx(K.ctx, task_nr(t, k), t->cpu));
}

/* Per op: the kmap_atomic call (and the nested kmap_atomic_pfn), and with kmap_local a
 * kmap_local_page of another page around it (odd ops) or inside it (even ops): LIFO on the CPU;
 * a switching thread then makes its switch step. */
static void run_cpu(struct kt_thread *t)
{
    uint32_t ntypes = K.lay->nr_km_types;
    for (unsigned i = 0; i < t->nops; i++) {
        unsigned how = t->ops[i].kind, page = t->ops[i].page;
        unsigned t1 = i % ntypes, t2 = (t1 + 1) % ntypes, lpage = (page + 2) % (K.npages + 1);
        hm_vaddr_t va, lva = 0;
        if (t->local && (i & 1))
            lva = local_map(t, i, lpage, 0);
        va = atomic_map(t, i, page, t1, how == 3 ? 0 : how, 1);
        if (how == 3)
            atomic_unmap(t, i, atomic_map(t, i, (page + 1) % (K.npages + 1), t2, 2, 2), t2, 1);
        if (t->local && !(i & 1))
            local_unmap(t, i, local_map(t, i, lpage, 1));
        if (i & 1)
            sched_yield();
        atomic_unmap(t, i, va, t1, 0);
        if (lva)
            local_unmap(t, i, lva);
        if (t->sw)
            switch_step(t, i, page);
        atomic_store(&t->pos, i + 1);
    }
    if (t->sw)
        release_pins(t);
}

/* ---------------------------------------------------------------------------------------
 * The inspector: the getters the contract lets run beside the kmap family, while they run;
 * each value must be in range.
 * ------------------------------------------------------------------------------------- */
static void inspect_once(void)
{
    struct hm_stats st;
    uint32_t last_nr, waiters;
    int counts[8], rc;
    hm_vaddr_t va;
    hm_pfn_t pfn;

    if (!unlocked_inspect)
        K.m.hw.lock(K.m.hw.m, HM_LOCK_KMAP);
    hm_get_stats(K.ctx, &st);
    for (uint32_t s = 0; s < K.lay->last_pkmap; s++)
        counts[s] = hm_pkmap_count(K.ctx, s);
    last_nr = hm_last_pkmap_nr(K.ctx);
    waiters = hm_nr_waiters(K.ctx);
    if (!unlocked_inspect)
        K.m.hw.unlock(K.m.hw.m, HM_LOCK_KMAP);

    /* (one counter against another is not compared: without locks, each may be read at a
     * different moment) */
    if (st.bugs != 0 || st.machine_fails != 0)
        KT_FAIL("inspector: hm_get_stats: %" PRIu64 " bugs, %" PRIu64 " machine fails", st.bugs, st.machine_fails);
    for (uint32_t s = 0; s < K.lay->last_pkmap; s++)
        if (counts[s] < 0 || counts[s] > 1 + KT_MAX_WORKERS * (KT_MAX_HOLD_TRY + 1) + KT_MAX_THREADS)
            KT_FAIL("inspector: hm_pkmap_count(%u) = %d", s, counts[s]);
    if (last_nr >= K.lay->last_pkmap || waiters > K.nthreads)
        KT_FAIL("inspector: last_pkmap_nr %u, %u waiters", last_nr, waiters);
    for (unsigned c = 0; c < K.nall && unlocked_inspect; c++) {
        int d = hm_pagefault_depth(K.ctx, K.th[c].cpu);
        if (K.th[c].kind == K_CPU ? d < 0 || d > 2 : d != 0)
            KT_FAIL("inspector: hm_pagefault_depth(%u) = %d", K.th[c].cpu, d);
    }
    for (unsigned p = 0; p <= K.npages; p++) {
        va = 1;
        rc = hm_page_address(K.ctx, page_pfn(p), &va);
        if (rc != HM_OK || (p < K.npages && va != 0 && !in_window(va)))
            KT_FAIL("inspector: page_address(pfn 0x%x): %s, 0x%08" PRIx64, page_pfn(p), hm_strerror(rc), va);
    }
    for (unsigned c = 0; c < K.nall; c++) {
        hm_vaddr_t slot = atomic_load(&K.atomic_va[c]);
        int ok;
        if (!slot)
            continue;
        pfn = 0;
        rc = hm_kmap_atomic_to_page(K.ctx, slot, &pfn); /* a none PTE reads as pfn 0 */
        ok = rc == HM_OK && (pfn == 0 || pfn == page_pfn(K.npages) ||
                             (pfn >= K.lay->highmem_start_pfn && pfn < K.lay->highmem_start_pfn + K.npages));
        if (!ok)
            KT_FAIL("inspector: kmap_atomic_to_page(cpu %u's slot 0x%08" PRIx64 "): %s, pfn 0x%x", K.th[c].cpu, slot,
                    hm_strerror(rc), pfn);
    }
    if (K.has_high_get && (K.features & FT_INSPECT_GET)) /* its lanes unchecked: it never stores */
        for (unsigned p = 0; p < K.npages; p++)
            (void)high_get(&K.th[K.nall - 1], 0, p, 0);
    if ((K.mode & MD_INSPECT_FLUSH) && (rc = hm_kmap_flush_unused(K.ctx)) != HM_OK)
        KT_FAIL("inspector: hm_kmap_flush_unused: %s", hm_strerror(rc));
}

static void *run_thread(void *arg)
{
    struct kt_thread *t = arg;
    pthread_mutex_lock(&K.mu);
    while (!K.go)
        pthread_cond_wait(&K.cv, &K.mu);
    pthread_mutex_unlock(&K.mu);
    if (t->kind == K_WORKER)
        run_worker(t);
    else if (t->kind == K_CPU)
        run_cpu(t);
    if (t->kind != K_INSPECTOR) {
        atomic_fetch_sub(&K.running, 1);
    } else {
        do {
            inspect_once();
            atomic_fetch_add(&t->pos, 1);
            sched_yield();
        } while (atomic_load(&K.running) > 0);
    }
    pthread_mutex_lock(&K.mu);
    K.done++;
    pthread_cond_broadcast(&K.cv);
    pthread_mutex_unlock(&K.mu);
    return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Decoding.
 * ------------------------------------------------------------------------------------- */

/* Worker scripts, balanced by construction: a worker holds at most `hold` pages (`hold_try`
 * with FL_TRY), releases them in the order it took them, and releases whatever it still holds
 * at the end. */
static void make_scripts(struct fz_input *in, unsigned nops, unsigned hold, unsigned hold_try)
{
    for (unsigned t = 0; t < K.nthreads; t++) {
        struct kt_thread *th = &K.th[t];
        uint8_t held[KT_MAX_HOLD_TRY], at[KT_MAX_HOLD_TRY];
        unsigned nheld = 0, n = 0, most = th->flavour & FL_TRY ? hold_try : hold;
        for (unsigned i = 0; i < nops; i++) {
            uint8_t b = fz_front_byte(in);
            if (nheld < most && (nheld == 0 || (b & 1))) {
                uint8_t page = (uint8_t)((b >> 1) % K.npages);
                held[nheld] = page;
                at[nheld++] = (uint8_t)n;
                th->ops[n++] = (struct kt_op){OP_KMAP, page, 0};
            } else {
                th->ops[n++] = (struct kt_op){OP_KUNMAP, held[0], at[0]};
                memmove(held, held + 1, --nheld);
                memmove(at, at + 1, nheld);
            }
        }
        for (unsigned i = 0; i < nheld; i++)
            th->ops[n++] = (struct kt_op){OP_KUNMAP, held[i], at[i]};
        th->nops = n;
    }
}

/* The extension after the workers' scripts (zeros when absent): the mode, the workers'
 * flavours, the kmap_atomic threads' scripts, the machine byte (and after a marked one the
 * feature byte and the task byte). Read first, from a copy of in: every script byte
 * is one op, so the extension starts nthreads * nops bytes on. */
static void read_extension(struct fz_input in_copy, unsigned nops)
{
    struct fz_input *in = &in_copy;
    for (unsigned i = 0; i < K.nthreads * nops; i++)
        (void)fz_front_byte(in);
    K.mode = fz_front_byte(in);
    K.ncpus = MD_CPUS(K.mode);
    for (unsigned t = 0; t < K.nthreads; t++)
        K.th[t].flavour = fz_front_byte(in);
    for (unsigned j = 0; j < K.ncpus; j++) {
        struct kt_thread *th = &K.th[K.nthreads + j];
        th->kind = K_CPU;
        th->cpu = K.nthreads + j;
        th->flavour = 0;
        for (unsigned i = 0; i < nops; i++) {
            uint8_t b = fz_front_byte(in);
            th->ops[i] = (struct kt_op){(uint8_t)(b & 3u), (uint8_t)((b >> 2) % (K.npages + 1)), 0};
        }
        th->nops = nops;
    }
    K.nall = K.nthreads + K.ncpus;
    K.machine = fz_front_byte(in);
    K.features = 0;
    K.tasks = 0;
    if (XT_IS_MARK(K.machine)) {
        K.features = fz_front_byte(in);
        K.tasks = fz_front_byte(in);
        if (!X2_IS_MARK(K.tasks))
            K.tasks = 0;
    } else {
        K.machine = 0;
    }
    if (K.mode & MD_INSPECTOR) {
        struct kt_thread *th = &K.th[K.nall++];
        th->kind = K_INSPECTOR;
        th->cpu = 0;
        th->nops = 0;
        th->flavour = 0;
    }
}

static void print_threads(void)
{
    static const char *const how[] = {"atomic", "prot", "pfn", "nested"};
    fprintf(stderr, "  mode 0x%02x: %s locking, %u kmap_atomic threads%s%s\n", K.mode,
            K.mode & MD_KERNEL ? "kernel" : "fast", K.ncpus, K.mode & MD_INSPECTOR ? ", an inspector" : "",
            K.mode & MD_INSPECT_FLUSH ? " (flushing)" : "");
    for (unsigned t = 0; t < K.nall; t++) {
        struct kt_thread *th = &K.th[t];
        fprintf(stderr, "  thread %u (cpu %u)%s", t, th->cpu,
                th->kind == K_INSPECTOR ? ": inspector" : th->kind == K_CPU ? ": kmap_atomic" : "");
        if (th->kind == K_WORKER && th->flavour)
            fprintf(stderr, " flavour 0x%02x", th->flavour);
        if (th->high_get)
            fprintf(stderr, " kmap_high_get");
        if (th->local)
            fprintf(stderr, " kmap_local");
        if (th->sw)
            fprintf(stderr, " switch (tasks 0, %u, %u)", task_nr(th, 1), task_nr(th, 2));
        fputc(':', stderr);
        for (unsigned i = 0; i < th->nops; i++) {
            if (th->kind == K_CPU)
                fprintf(stderr, " %s%u", how[th->ops[i].kind], th->ops[i].page);
            else
                fprintf(stderr, " %s%u", th->ops[i].kind == OP_KMAP ? "+" : "-", th->ops[i].page);
        }
        fputc('\n', stderr);
    }
}

static void diagnose_timeout(unsigned done)
{
    fprintf(stderr, "kmap_threads: timeout after %d s: %u of %u threads done, %u waiters on "
            "pkmap_map_wait\n", KT_TIMEOUT_S, done, K.nall, hm_nr_waiters(K.ctx));
    for (unsigned t = 0; t < K.nall; t++) {
        struct kt_thread *th = &K.th[t];
        unsigned p = atomic_load(&th->pos);
        fprintf(stderr, "  thread %u (cpu %u): %u/%u ops done%s", t, th->cpu, p, th->nops,
                atomic_load(&th->inkmap) ? ", blocked in hm_kmap" : "");
        if (th->kind == K_WORKER && p < th->nops)
            fprintf(stderr, ", next %s page %u", th->ops[p].kind == OP_KMAP ? "kmap" : "kunmap",
                    th->ops[p].page);
        fputc('\n', stderr);
    }
    for (uint32_t s = 0; s < K.lay->last_pkmap; s++)
        fprintf(stderr, "  slot %u count %d\n", s, hm_pkmap_count(K.ctx, s));
}

/* ---------------------------------------------------------------------------------------
 * One input.
 * ------------------------------------------------------------------------------------- */

/* The state every input must end in, once every thread has been joined. */
static void final_checks(void)
{
    struct hm_sim_stats ss;
    struct hm_stats st;
    uint64_t kmaps = 0, eagain = 0, kunmaps = 0, pins = 0;
    uint32_t in_use = 0, hashed = 0;
    char msg[256];
    int rc;

    rc = hm_check_invariants(K.ctx, msg, sizeof msg);
    if (rc != 0)
        KT_FAIL("invariant I%d broken: %s", rc, msg);
    for (uint32_t s = 0; s < K.lay->last_pkmap; s++) {
        int c = hm_pkmap_count(K.ctx, s);
        if (c != 0 && c != 1)
            KT_FAIL("slot %u count %d after every thread released everything", s, c);
        in_use += c == 1;
    }
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        hashed += hm_bucket_size(K.ctx, b);
    if (hashed != in_use || hm_pool_size(K.ctx) != K.lay->last_pkmap - in_use)
        KT_FAIL("%u slots in use, %u records hashed, %u in the pool", in_use, hashed, hm_pool_size(K.ctx));
    if (hm_nr_waiters(K.ctx) != 0)
        KT_FAIL("%u waiters left on pkmap_map_wait", hm_nr_waiters(K.ctx));
    for (uint32_t c = 0; c < K.lay->nr_cpus; c++)
        if (hm_pagefault_depth(K.ctx, c) != 0)
            KT_FAIL("cpu %u ends with pagefault depth %d", c, hm_pagefault_depth(K.ctx, c));
    hm_get_stats(K.ctx, &st);
    if (st.bugs != 0 || atomic_load(&K.bugs) != 0 || st.machine_fails != 0)
        KT_FAIL("%" PRIu64 " BUG conditions reported, %" PRIu64 " machine fails", st.bugs, st.machine_fails);
    for (unsigned t = 0; t < K.nall; t++) {
        kmaps += K.th[t].kmaps;
        eagain += K.th[t].eagain;
        kunmaps += K.th[t].kunmaps;
        pins += K.th[t].pins;
    }
    /* a kmap_high_get pin is no kmap call; its release is a kunmap (kunmap_high) */
    if (st.kmap_calls != kmaps || st.kmap_eagain != eagain || st.kunmap_calls != kunmaps + pins ||
        st.kmap_hits + st.kmap_new + st.kmap_eagain != st.kmap_calls)
        KT_FAIL("hm_stats: kmap_calls %" PRIu64 " (hits %" PRIu64 " new %" PRIu64 " eagain %" PRIu64 ") kunmap_calls %"
                PRIu64 "; the threads made %" PRIu64 " kmaps, %" PRIu64 " EAGAIN, %" PRIu64 " kunmaps, %" PRIu64 " pins",
                st.kmap_calls, st.kmap_hits, st.kmap_new, st.kmap_eagain, st.kunmap_calls, kmaps, eagain, kunmaps, pins);
    if (K.cache && hm_sim_set_cache(K.sim, 0) != HM_OK) /* every dirty line back to memory */
        KT_FAIL("hm_sim_set_cache(0) failed");
    hm_sim_get_stats(K.sim, &ss);
    if (ss.stale_pte_writes != 0 || ss.stale_tlb_hits != 0 || atomic_load(&K.stale) != 0)
        KT_FAIL("stale translations: %" PRIu64 " stale PTE writes, %" PRIu64 " stale TLB hits", ss.stale_pte_writes,
                ss.stale_tlb_hits);
    if (ss.stale_cache_reads != 0 || atomic_load(&K.stale_cache) != 0)
        KT_FAIL("%" PRIu64 " loads read a stale cache line", ss.stale_cache_reads);
    if (st.sleeps != ss.sleeps)
        KT_FAIL("hm_stats counts %" PRIu64 " sleeps, the machine slept %" PRIu64 " times", st.sleeps, ss.sleeps);
    /* every page, read physically: its signature and the last byte each thread stored in it */
    for (unsigned p = 0; p <= K.npages; p++) {
        uint8_t v = 0;
        hm_sim_phys_read(K.sim, page_pfn(p), 0, &v);
        if (v != signature(p))
            KT_FAIL("pfn 0x%x lost its signature (0x%02x)", page_pfn(p), v);
        for (unsigned t = 0; t < K.nall; t++) {
            hm_sim_phys_read(K.sim, page_pfn(p), lane_off(t), &v);
            if (v != K.th[t].last[p])
                KT_FAIL("pfn 0x%x: thread %u's byte is 0x%02x, it stored 0x%02x", page_pfn(p), t, v, K.th[t].last[p]);
        }
    }
    if (verbose) {
        uint64_t switches = 0;
        for (unsigned t = 0; t < K.nall; t++)
            switches += K.th[t].switches;
        fprintf(stderr, "kmap_threads: ok, %" PRIu64 " kmaps (%" PRIu64 " EAGAIN), %" PRIu64 " kmap_high_get pins, %"
                PRIu64 " sleeps, %" PRIu64 " wakeups, %" PRIu64 " flushes\n", st.kmap_calls, st.kmap_eagain, pins,
                st.sleeps, st.wakeups, st.flushes);
        if (switches || K.cache)
            fprintf(stderr, "kmap_threads: %" PRIu64 " task switches; cache model %s: %" PRIu64 " hits, %" PRIu64
                    " misses, %" PRIu64 " write-backs, %" PRIu64 " page flushes, %" PRIu64 " whole flushes\n", switches,
                    K.cache ? "on" : "off", ss.cache_hits, ss.cache_misses, ss.cache_writebacks, ss.cache_page_flushes,
                    ss.cache_flushes);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct hm_arch *arches[8];
    unsigned narch = 0, hold, nops, blocking = 0;
    struct hm_config cfg;
    struct harness_hooks hooks = {.on_bug = on_bug, .on_event = on_event};
    struct fz_input in;
    int switched = 0;
    pthread_condattr_t ca;
    struct timespec dl;
    char msg[256];
    int rc;

    verbose = getenv("HM_FUZZ_VERBOSE") != NULL;
    if (unlocked_inspect < 0)
        unlocked_inspect = harness_fast_locking_built();
    fz_init(&in, data, size);

    /* the highmem arches among the registry's first five (x86, x86-pae, ppc, sparc, generic), so
     * that an input picks the same arch from the back whatever else the registry holds; arm,
     * arm-vipt and xtensa (and the generations) come by name from the marked machine byte */
    memset(&cfg, 0, sizeof cfg);
    for (unsigned i = 0; i < 5u && hm_arch_at(i) && narch < 8; i++) {
        struct hm_layout l;
        cfg.arch = hm_arch_at(i);
        if (hm_layout_compute(&cfg, &l) == HM_OK && l.last_pkmap > 0)
            arches[narch++] = cfg.arch;
    }
    if (narch == 0)
        KT_FAIL("no highmem arch in the registry");

    /* configuration from the back */
    memset(&cfg, 0, sizeof cfg);
    memset(K.th, 0, sizeof K.th);
    cfg.arch = arches[fz_back_range(&in, 0, narch - 1)];
    cfg.last_pkmap = 2u << fz_back_range(&in, 0, 2); /* 2, 4, 8 */
    K.nthreads = fz_back_range(&in, 2, KT_MAX_WORKERS);
    cfg.need_flush = (int)fz_back_range(&in, 0, 1);
    K.npages = cfg.last_pkmap + 1 + fz_back_range(&in, 0, cfg.last_pkmap + 1);
    nops = fz_back_range(&in, 1, KT_MAX_OPS);
    for (unsigned t = 0; t < K.nthreads; t++) {
        K.th[t].kind = K_WORKER;
        K.th[t].cpu = t;
    }
    read_extension(in, nops);
    if (K.machine) {
        static const char *const names[] = {NULL, "arm", "arm-vipt", "xtensa"};
        if (XT_ARCH(K.machine) && !(cfg.arch = hm_arch_find(names[XT_ARCH(K.machine)])))
            KT_FAIL("no arch %s in the registry", names[XT_ARCH(K.machine)]);
        cfg.kernel = (int)XT_KERNEL(K.machine);
    }
    K.has_high_get = cfg.arch->needs_kmap_high_get && cfg.kernel >= HM_KERNEL_2_6_30;
    K.has_local = cfg.kernel >= HM_KERNEL_5_11;
    for (unsigned t = 0; t < K.nall; t++) {
        K.th[t].high_get = K.has_high_get && K.th[t].kind == K_WORKER && (K.features & FT_HIGH_GET(t));
        K.th[t].local = K.has_local && K.th[t].kind == K_CPU && (K.features & FT_LOCAL(t - K.nthreads));
        K.th[t].sw = K.has_local && K.th[t].kind == K_CPU && (K.tasks & X2_SWITCH(t - K.nthreads));
    }
    /* deadlock freedom: with every blocking worker waiting while holding hold-1 pages, a slot
     * is free, of the colour it waits for on a coloured pkmap (xtensa: a page takes only a slot
     * of its colour, so all hold-1 pages of every worker may be of that colour). An FL_TRY
     * worker sleeps only holding nothing (its other kmaps are kmap_try), a nested kmap is a hit
     * and a kmap_high_get pin never sleeps and is released at once: none of them counts. */
    for (unsigned t = 0; t < K.nthreads; t++)
        blocking += !(K.th[t].flavour & FL_TRY);
    cfg.nr_cpus = K.nthreads + K.ncpus;
    cfg.locking = K.mode & MD_KERNEL ? HM_LOCKING_KERNEL : HM_LOCKING_FAST;
    cfg.debug_highmem = (K.mode & MD_DEBUG) != 0;
    {
        struct hm_layout l;
        /* the one marked machine the layout refuses: arm's 224-page fixmap holds 5.11's 33
         * debug slots (KM_MAX_IDX with DEBUG_KMAP_LOCAL) for 6 CPUs only; it runs without
         * debug_highmem */
        if (K.machine && hm_layout_compute(&cfg, &l) == HM_EINVAL)
            cfg.debug_highmem = 0;
        if (hm_layout_compute(&cfg, &l) != HM_OK || l.pkmap_colours == 0)
            KT_FAIL("%s (last_pkmap %u, kernel %d): no layout", hm_arch_name(cfg.arch), cfg.last_pkmap, cfg.kernel);
        hold = 1 + (cfg.last_pkmap / l.pkmap_colours - 1) / (blocking ? blocking : 1);
        /* the cache model where the arch's data cache aliases (sparc and arm VIVT, xtensa VIPT) */
        K.cache = (K.tasks & X2_CACHE) && l.cache_kind != HM_CACHE_PIPT;
        K.km_incr = cfg.debug_highmem ? 2 : 1; /* DEBUG_KMAP_LOCAL's guard slots */
        if (K.has_local && l.nr_tasks < 2u * K.ncpus + 1u)
            KT_FAIL("%u tasks for %u kmap_atomic threads", l.nr_tasks, K.ncpus);
    }
    if (hold > KT_MAX_HOLD)
        hold = KT_MAX_HOLD;
    make_scripts(&in, nops, hold, KT_MAX_HOLD_TRY);

    hooks.cache = K.cache ? HARNESS_CACHE_ON : HARNESS_CACHE_DEFAULT;
    if (harness_machine_open(&K.m, &cfg, &hooks, msg, sizeof msg) != 0)
        KT_FAIL("%s (last_pkmap %u, kernel %s, %u cpus, debug %d): %s", hm_arch_name(cfg.arch), cfg.last_pkmap,
                hm_kernel_name(cfg.kernel), cfg.nr_cpus, cfg.debug_highmem, msg);
    K.ctx = K.m.ctx;
    K.sim = K.m.sim;
    K.lay = &K.m.layout;
    if (K.lay->max_pfn - K.lay->highmem_start_pfn < K.npages)
        KT_FAIL("%s: only %u highmem pages", hm_arch_name(cfg.arch),
                K.lay->max_pfn - K.lay->highmem_start_pfn);
    if (verbose) {
        fprintf(stderr, "kmap_threads: %s kernel %s last_pkmap %u need_flush %d debug %d threads %u pages %u hold %u "
                "inspection %s machine 0x%02x features 0x%02x\n", hm_arch_name(cfg.arch), hm_kernel_name(cfg.kernel),
                cfg.last_pkmap, cfg.need_flush, cfg.debug_highmem, K.nthreads, K.npages, hold,
                unlocked_inspect ? "unlocked" : "under kmap_lock", K.machine, K.features);
        if (K.tasks)
            fprintf(stderr, "  task byte 0x%02x: %s\n", K.tasks, K.cache ? "data cache model on" : "no cache model");
        print_threads();
    }

    for (unsigned p = 0; p <= K.npages; p++)
        if (hm_sim_phys_write(K.sim, page_pfn(p), 0, signature(p)) != HM_OK)
            KT_FAIL("hm_sim_phys_write failed");
    atomic_store(&K.bugs, 0);
    atomic_store(&K.stale, 0);
    atomic_store(&K.stale_cache, 0);
    atomic_store(&K.running, K.nthreads + K.ncpus);
    for (unsigned t = 0; t < KT_MAX_THREADS; t++)
        atomic_store(&K.atomic_va[t], 0);

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&K.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&K.mu, NULL);
    K.done = 0;
    K.go = 0;

    for (unsigned t = 0; t < K.nall; t++) {
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
    while (K.done < K.nall) {
        rc = pthread_cond_timedwait(&K.cv, &K.mu, &dl);
        if (rc == ETIMEDOUT && K.done < K.nall) {
            diagnose_timeout(K.done);
            abort();
        }
    }
    pthread_mutex_unlock(&K.mu);
    for (unsigned t = 0; t < K.nall; t++)
        pthread_join(K.th[t].tid, NULL);
    pthread_cond_destroy(&K.cv);
    pthread_mutex_destroy(&K.mu);

    /* a quiescent point with local mappings on the stacks of running and switched-out tasks:
     * I13 (no switched-out task's PTE live, each CPU's slots what its task's stack says) */
    for (unsigned t = 0; t < K.nall; t++)
        switched |= K.th[t].sw;
    if (switched && (rc = hm_check_invariants(K.ctx, msg, sizeof msg)) != 0)
        KT_FAIL("invariant I%d broken with the tasks' local mappings held: %s", rc, msg);
    for (unsigned t = 0; t < K.nall; t++)
        if (K.th[t].sw)
            unwind_tasks(&K.th[t]);
    final_checks();
    K.sim = NULL;
    K.ctx = NULL;
    return 0;
}
