/* testlib.c - the shared test fixture: a machine opened by harness_machine_open with the checking
 * wrapper put in by its adapt hook, an event recorder, a bug recorder and state snapshots.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include "testlib.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct tl tl_fixture;

/* ---- recorders ------------------------------------------------------------------------ */

static void record_event(void *cookie, const struct hm_event *ev)
{
    struct tl *t = cookie;
    if (t->nev == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        struct hm_event *n = realloc(t->ev, cap * sizeof *n);
        if (!n)
            abort();
        t->ev = n;
        t->cap = cap;
    }
    t->ev[t->nev++] = *ev;
}

static void record_bug(void *cookie, const struct hm_bug_report *r)
{
    struct tl *t = cookie;
    if (t->nbugs < TL_MAX_BUGS) {
        struct tl_bug *b = &t->bugs[t->nbugs];
        b->bug = r->bug;
        b->err = r->err;
        b->function = r->function;
        b->arg = r->arg;
    }
    t->nbugs++;
}

/* ---- the wrapper machine -------------------------------------------------------------- */

/* The hook contract: page-aligned addresses inside the page-table window. */
static void w_check_pte_address(const struct tl_wrap *w, hm_vaddr_t va, const char *hook)
{
    const struct hm_layout *l = &w->owner->hm.layout; /* set before the context is */
    cr_assert(eq(u32, va & (l->page_size - 1u), 0), "%s(%#x): not page aligned", hook, va);
    cr_assert(va >= l->pt_start && ((uint64_t)va - l->pt_start) >> l->page_shift < l->pt_pages,
              "%s(%#x): outside the page-table window", hook, va);
}

static void w_set_pte(void *m, hm_vaddr_t va, hm_pte_t pte)
{
    struct tl_wrap *w = m;
    w_check_pte_address(w, va, "set_pte");
    w->set_pte_calls++;
    if (w->on_set_pte)
        w->on_set_pte(w->owner, va, pte);
    w->inner.set_pte(w->inner.m, va, pte);
}

static hm_pte_t w_get_pte(void *m, hm_vaddr_t va)
{
    struct tl_wrap *w = m;
    w_check_pte_address(w, va, "get_pte");
    w->get_pte_calls++;
    if (w->lie_on && va == w->lie_vaddr)
        return w->lie_pte;
    return w->inner.get_pte(w->inner.m, va);
}

static void w_flush_tlb_range(void *m, hm_vaddr_t s, hm_vaddr_t e)
{
    struct tl_wrap *w = m;
    w->inner.flush_tlb_range(w->inner.m, s, e);
}

static void w_flush_tlb_page(void *m, uint32_t cpu, hm_vaddr_t va)
{
    struct tl_wrap *w = m;
    w->inner.flush_tlb_page(w->inner.m, cpu, va);
}

static void w_flush_tlb_all(void *m)
{
    struct tl_wrap *w = m;
    w->inner.flush_tlb_all(w->inner.m);
}

static void w_flush_cache_all(void *m)
{
    struct tl_wrap *w = m;
    w->inner.flush_cache_all(w->inner.m);
}

static void w_lock(void *m, unsigned id)
{
    struct tl_wrap *w = m;
    w->inner.lock(w->inner.m, id);
}

static void w_unlock(void *m, unsigned id)
{
    struct tl_wrap *w = m;
    w->inner.unlock(w->inner.m, id);
}

static void w_sleep(void *m)
{
    struct tl_wrap *w = m;
    w->sleeps++;
    if (!w->sleep_action) {
        w->inner.sleep(w->inner.m);
        return;
    }
    cr_assert(le(u64, w->sleeps, w->sleep_limit ? w->sleep_limit : 8u), "too many sleeps");
    w->inner.unlock(w->inner.m, HM_LOCK_KMAP);
    w->sleep_action(w->owner, (unsigned)w->sleeps);
    w->inner.lock(w->inner.m, HM_LOCK_KMAP);
}

static void w_wake_all(void *m)
{
    struct tl_wrap *w = m;
    w->wakes++;
    w->inner.wake_all(w->inner.m);
}

static int w_in_interrupt(void *m)
{
    struct tl_wrap *w = m;
    return w->inner.in_interrupt(w->inner.m);
}

/* ---- open / close --------------------------------------------------------------------- */

struct hm_config tl_cfg(const char *arch, uint32_t last_pkmap, uint32_t nr_cpus)
{
    struct hm_config c;
    memset(&c, 0, sizeof c);
    c.arch = hm_arch_find(arch);
    c.last_pkmap = last_pkmap;
    c.nr_cpus = nr_cpus;
    return c;
}

/* The adapt hook: keep the sim's hooks, and unless TL_SIM_MACHINE give the context the wrapper. */
static void adapt(void *cookie, struct hm_machine *hw)
{
    struct tl *t = cookie;
    t->sim_machine = *hw;
    memset(&t->wrap, 0, sizeof t->wrap);
    t->wrap.inner = *hw;
    t->wrap.owner = t;
    if (t->opts & TL_SIM_MACHINE)
        return;
    memset(hw, 0, sizeof *hw);
    hw->m = &t->wrap;
    hw->set_pte = w_set_pte;
    hw->get_pte = w_get_pte;
    hw->flush_tlb_range = w_flush_tlb_range;
    hw->flush_tlb_page = w_flush_tlb_page;
    hw->flush_tlb_all = w_flush_tlb_all;
    hw->flush_cache_all = w_flush_cache_all;
    hw->lock = w_lock;
    hw->unlock = w_unlock;
    hw->sleep = w_sleep;
    hw->wake_all = w_wake_all;
    hw->in_interrupt = w_in_interrupt;
}

struct tl *tl_open_opts(const struct hm_config *cfg, int opts)
{
    struct tl *t = &tl_fixture;
    struct harness_hooks hooks;
    char err[160];

    if (t->open)
        tl_close(t);
    memset(t, 0, sizeof *t);
    cr_assert(not(eq(ptr, (void *)cfg->arch, NULL)), "unknown arch");
    cr_assert(gt(sz, hm_ctx_size(cfg), 0));
    cr_assert(gt(sz, hm_ctx_align(), 0));
    t->opts = opts;

    memset(&hooks, 0, sizeof hooks);
    hooks.on_event = record_event; /* the context's events and the sim's */
    hooks.event_cookie = t;
    hooks.on_bug = record_bug;
    hooks.bug_cookie = t;
    hooks.adapt = adapt;
    hooks.adapt_cookie = t;
    /* Twice: the second open initialises the context in the storage of the first (the harness
     * reuses it), filled with garbage in between: hm_ctx_init must not rely on zeroed storage. */
    for (int pass = 0; pass < 2; pass++) {
        int rc = harness_machine_open(&t->hm, cfg, &hooks, err, sizeof err);
        cr_assert(eq(int, rc, 0), "harness_machine_open: %s", err);
        if (pass == 0)
            memset(t->hm.ctx_mem, 0xa5, t->hm.ctx_cap);
    }
    t->nev = 0;
    t->nbugs = 0;
    t->cfg = t->hm.cfg;
    t->layout = t->hm.layout;
    t->sim = t->hm.sim;
    t->ctx = t->hm.ctx;
    t->open = 1;
    return t;
}

struct tl *tl_open(const struct hm_config *cfg)
{
    return tl_open_opts(cfg, 0);
}

void tl_close(struct tl *t)
{
    if (!t || !t->open)
        return;
    harness_machine_close(&t->hm);
    free(t->ev);
    memset(t, 0, sizeof *t);
}

void tl_fini(void)
{
    tl_close(&tl_fixture);
}

/* ---- events and bugs ------------------------------------------------------------------ */

void tl_ev_clear(struct tl *t)
{
    t->nev = 0;
}

size_t tl_ev_count(const struct tl *t, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nev; i++)
        n += t->ev[i].kind == kind;
    return n;
}

size_t tl_ev_hw_count(const struct tl *t, size_t from)
{
    size_t n = 0;
    for (size_t i = from; i < t->nev; i++) {
        switch (t->ev[i].kind) {
        case HM_EV_PTE_SET:
        case HM_EV_PTE_CLEAR:
        case HM_EV_TLB_FLUSH_RANGE:
        case HM_EV_TLB_FLUSH_PAGE:
        case HM_EV_TLB_FLUSH_ALL:
        case HM_EV_CACHE_FLUSH_ALL:
            n++;
            break;
        default:
            break;
        }
    }
    return n;
}

void tl_bugs_clear(struct tl *t)
{
    t->nbugs = 0;
}

const struct tl_bug *tl_last_bug(const struct tl *t)
{
    cr_assert(gt(sz, t->nbugs, 0), "no bug was reported");
    cr_assert(le(sz, t->nbugs, TL_MAX_BUGS));
    return &t->bugs[t->nbugs - 1];
}

/* ---- small helpers -------------------------------------------------------------------- */

hm_vaddr_t tl_pkaddr(const struct tl *t, uint32_t n)
{
    return t->layout.pkmap_base + n * TL_PAGE;
}

uint32_t tl_records(const struct tl *t)
{
    uint32_t n = hm_pool_size(t->ctx);
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        n += hm_bucket_size(t->ctx, b);
    return n;
}

hm_vaddr_t tl_kmap(struct tl *t, hm_pfn_t pfn)
{
    hm_vaddr_t v = 0;
    int rc = hm_kmap(t->ctx, pfn, &v);
    cr_assert(eq(int, rc, HM_OK), "kmap(%#x): %s", pfn, hm_strerror(rc));
    return v;
}

void tl_kunmap(struct tl *t, hm_pfn_t pfn)
{
    int rc = hm_kunmap(t->ctx, pfn);
    cr_assert(eq(int, rc, HM_OK), "kunmap(%#x): %s", pfn, hm_strerror(rc));
}

hm_vaddr_t tl_page_address(struct tl *t, hm_pfn_t pfn)
{
    hm_vaddr_t v = 0xdeadbeefu;
    int rc = hm_page_address(t->ctx, pfn, &v);
    cr_assert(eq(int, rc, HM_OK), "page_address(%#x): %s", pfn, hm_strerror(rc));
    return v;
}

uint8_t tl_load(struct tl *t, uint32_t cpu, hm_vaddr_t vaddr)
{
    uint8_t v = 0;
    int rc = hm_sim_load(t->sim, cpu, vaddr, &v);
    cr_assert(eq(int, rc, HM_OK), "load cpu %u at %#x: %s", cpu, vaddr, hm_strerror(rc));
    return v;
}

void tl_mark(struct tl *t, hm_pfn_t pfn, uint8_t value)
{
    cr_assert(eq(int, hm_sim_phys_write(t->sim, pfn, 0, value), HM_OK));
}

struct hm_stats tl_stats(const struct tl *t)
{
    struct hm_stats s;
    hm_get_stats(t->ctx, &s);
    return s;
}

struct hm_sim_stats tl_sim_stats(const struct tl *t)
{
    struct hm_sim_stats s;
    hm_sim_get_stats(t->sim, &s);
    return s;
}

/* ---- snapshots ------------------------------------------------------------------------ */

void tl_snap_take(const struct tl *t, struct tl_snap *s)
{
    uint32_t n = t->layout.last_pkmap, np = t->layout.pt_pages;
    memset(s, 0, sizeof *s);
    s->last_nr = hm_last_pkmap_nr(t->ctx);
    s->pool = hm_pool_size(t->ctx);
    s->waiters = hm_nr_waiters(t->ctx);
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        s->buckets[b] = hm_bucket_size(t->ctx, b);
    for (uint32_t c = 0; c < HM_MAX_CPUS; c++)
        s->depths[c] = hm_pagefault_depth(t->ctx, c);
    s->counts = calloc(n ? n : 1, sizeof *s->counts);
    s->ptes = calloc(np ? np : 1, sizeof *s->ptes);
    cr_assert(not(eq(ptr, s->counts, NULL)));
    cr_assert(not(eq(ptr, s->ptes, NULL)));
    for (uint32_t i = 0; i < n; i++)
        s->counts[i] = hm_pkmap_count(t->ctx, i);
    for (uint32_t i = 0; i < np; i++)
        s->ptes[i] = hm_sim_pte(t->sim, t->layout.pt_start + i * TL_PAGE);
    s->nev = t->nev;
}

int tl_snap_diff(const struct tl *t, const struct tl_snap *s, char *msg, size_t len)
{
    uint32_t n = t->layout.last_pkmap, np = t->layout.pt_pages;
    msg[0] = '\0';
    if (hm_last_pkmap_nr(t->ctx) != s->last_nr) {
        snprintf(msg, len, "last_pkmap_nr %u -> %u", s->last_nr, hm_last_pkmap_nr(t->ctx));
        return 1;
    }
    if (hm_pool_size(t->ctx) != s->pool) {
        snprintf(msg, len, "pool size %u -> %u", s->pool, hm_pool_size(t->ctx));
        return 1;
    }
    if (hm_nr_waiters(t->ctx) != s->waiters) {
        snprintf(msg, len, "waiters changed");
        return 1;
    }
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        if (hm_bucket_size(t->ctx, b) != s->buckets[b]) {
            snprintf(msg, len, "bucket %u size %u -> %u", b, s->buckets[b], hm_bucket_size(t->ctx, b));
            return 1;
        }
    for (uint32_t c = 0; c < HM_MAX_CPUS; c++)
        if (hm_pagefault_depth(t->ctx, c) != s->depths[c]) {
            snprintf(msg, len, "cpu %u pagefault depth %d -> %d", c, s->depths[c], hm_pagefault_depth(t->ctx, c));
            return 1;
        }
    for (uint32_t i = 0; i < n; i++)
        if (hm_pkmap_count(t->ctx, i) != s->counts[i]) {
            snprintf(msg, len, "pkmap_count[%u] %d -> %d", i, s->counts[i], hm_pkmap_count(t->ctx, i));
            return 1;
        }
    for (uint32_t i = 0; i < np; i++) {
        hm_vaddr_t va = t->layout.pt_start + i * TL_PAGE;
        if (hm_sim_pte(t->sim, va) != s->ptes[i]) {
            snprintf(msg, len, "PTE at %#x changed", va);
            return 1;
        }
    }
    if (tl_ev_hw_count(t, s->nev) != 0) {
        snprintf(msg, len, "%zu hardware events since the snapshot", tl_ev_hw_count(t, s->nev));
        return 1;
    }
    return 0;
}

void tl_snap_free(struct tl_snap *s)
{
    free(s->counts);
    free(s->ptes);
    s->counts = NULL;
    s->ptes = NULL;
}

/* ---- helpers of the per-arch, scenario and fault suites -------------------------------- */

struct tl *tl_open_arch(const char *arch, uint32_t last_pkmap, uint32_t nr_cpus, int debug,
                        int need_flush)
{
    struct hm_config c = tl_cfg(arch, last_pkmap, nr_cpus);
    c.debug_highmem = debug;
    c.need_flush = need_flush;
    return tl_open(&c);
}

void tl_assert_invariants(const struct tl *t, const char *where)
{
    char msg[160];
    int rc = hm_check_invariants(t->ctx, msg, sizeof msg);
    cr_assert(eq(int, rc, 0), "invariants broken after %s: %s", where, msg);
    cr_assert(eq(u32, tl_records(t), t->layout.last_pkmap), "records not conserved after %s", where);
}

size_t tl_ev_count_since(const struct tl *t, size_t from, int kind)
{
    size_t n = 0;
    for (size_t i = from; i < t->nev; i++)
        n += t->ev[i].kind == kind;
    return n;
}

void tl_assert_ev_kinds(const struct tl *t, size_t from, const int *kinds, size_t n,
                        const char *what)
{
    size_t got = t->nev >= from ? t->nev - from : 0;
    for (size_t i = 0; i < n && i < got; i++)
        cr_expect(eq(str, (char *)hm_event_name(t->ev[from + i].kind), (char *)hm_event_name(kinds[i])),
                  "%s: event %zu", what, i);
    cr_assert(eq(sz, got, n), "%s: number of events", what);
    for (size_t i = 0; i < n; i++)
        cr_assert(eq(int, t->ev[from + i].kind, kinds[i]), "%s: event %zu", what, i);
}

void tl_snap_assert_same(const struct tl *t, struct tl_snap *s, const char *what)
{
    char msg[160];
    int rc = tl_snap_diff(t, s, msg, sizeof msg);
    tl_snap_free(s);
    cr_assert(eq(int, rc, 0), "%s changed the state: %s", what, msg);
}

void tl_assert_last_bug(const struct tl *t, int bug, int err, const char *function)
{
    const struct tl_bug *b = tl_last_bug(t);
    cr_assert(eq(str, (char *)hm_bug_name(b->bug), (char *)hm_bug_name(bug)));
    cr_assert(eq(int, b->err, err));
    if (function)
        cr_assert(eq(str, (char *)b->function, (char *)function));
}

int tl_try_load(struct tl *t, uint32_t cpu, hm_vaddr_t vaddr, uint8_t *value)
{
    return hm_sim_load(t->sim, cpu, vaddr, value);
}
