/* testlib.c - the shared test fixture: a machine opened by harness_machine_open with the checking
 * wrapper put in by its adapt hook, an event recorder, a bug recorder and state snapshots.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include "testlib.h"
#include "testenv.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <inttypes.h>
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
    cr_assert(eq(u32, va & (l->page_size - 1u), 0), "%s(0x%" PRIx64 "): not page aligned", hook, va);
    cr_assert(va >= l->pt_start && ((uint64_t)va - l->pt_start) >> l->page_shift < l->pt_pages,
              "%s(0x%" PRIx64 "): outside the page-table window", hook, va);
}

static int w_set_pte(void *m, hm_vaddr_t va, hm_pte_t pte)
{
    struct tl_wrap *w = m;
    w_check_pte_address(w, va, "set_pte");
    w->set_pte_calls++;
    if (w->on_set_pte)
        w->on_set_pte(w->owner, va, pte);
    return w->inner.set_pte(w->inner.m, va, pte);
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

static void w_flush_cache_page(void *m, uint32_t cpu, hm_vaddr_t va)
{
    struct tl_wrap *w = m;
    w->inner.flush_cache_page(w->inner.m, cpu, va);
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

/* The per-colour pair, counted with sleep and wake_all; a sleep_action is colour-blind (the
 * single-threaded "other task" runs as for sleep). */
static void w_sleep_colour(void *m, uint32_t colour)
{
    struct tl_wrap *w = m;
    if (w->sleep_action) {
        w_sleep(m);
        return;
    }
    w->sleeps++;
    w->inner.sleep_colour(w->inner.m, colour);
}

static void w_wake_colour(void *m, uint32_t colour)
{
    struct tl_wrap *w = m;
    w->wakes++;
    w->inner.wake_colour(w->inner.m, colour);
}

/* ---- open / close --------------------------------------------------------------------- */

struct hm_config tl_cfg(const char *arch, uint32_t last_pkmap, uint32_t nr_cpus)
{
    struct hm_config c;
    memset(&c, 0, sizeof c);
    c.arch = hm_arch_find(arch);
    c.last_pkmap = last_pkmap;
    c.nr_cpus = nr_cpus;
    c.kernel = test_env_kernel();
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
    hw->flush_cache_page = w_flush_cache_page;
    hw->sleep_colour = t->wrap.inner.sleep_colour ? w_sleep_colour : NULL;
    hw->wake_colour = t->wrap.inner.wake_colour ? w_wake_colour : NULL;
}

/* The suite runs in both locking modes: a config that leaves locking at its default takes
 * HM_TEST_LOCKING (fast or kernel) from the environment (.ci/run runs the suite once with each). */
static struct hm_config test_locking(const struct hm_config *cfg)
{
    struct hm_config c = *cfg;
    if (c.locking == HM_LOCKING_FAST)
        c.locking = test_env_locking();
    return c;
}

struct tl *tl_open_opts(const struct hm_config *cfg_in, int opts)
{
    struct tl *t = &tl_fixture;
    struct harness_hooks hooks;
    struct hm_config cfgv = test_locking(cfg_in), *cfg = &cfgv;
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
    cr_assert(eq(int, rc, HM_OK), "load cpu %u at 0x%" PRIx64 ": %s", cpu, vaddr, hm_strerror(rc));
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
    for (uint32_t c = 0; c < HM_MAX_CPUS; c++) {
        s->cpu_task[c] = hm_cpu_task(t->ctx, c);
        s->idle_idx[c] = hm_task_local_idx(t->ctx, 0, c);
    }
    for (uint32_t k = 0; k < HM_MAX_TASKS; k++)
        s->task_idx[k] = hm_task_local_idx(t->ctx, k, 0);
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
    for (uint32_t c = 0; c < HM_MAX_CPUS; c++)
        if (hm_cpu_task(t->ctx, c) != s->cpu_task[c] || hm_task_local_idx(t->ctx, 0, c) != s->idle_idx[c]) {
            snprintf(msg, len, "cpu %u: running task or its idle task's idx changed", c);
            return 1;
        }
    for (uint32_t k = 0; k < HM_MAX_TASKS; k++)
        if (hm_task_local_idx(t->ctx, k, 0) != s->task_idx[k]) {
            snprintf(msg, len, "task %u kmap_ctrl.idx %d -> %d", k, s->task_idx[k],
                     hm_task_local_idx(t->ctx, k, 0));
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
            snprintf(msg, len, "PTE at 0x%" PRIx64 " changed", va);
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

void tl_snap_assert_state_same(const struct tl *t, struct tl_snap *s, const char *what)
{
    s->nev = t->nev; /* no event counts as a change */
    tl_snap_assert_same(t, s, what);
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

void tl_assert_pte_set_ev(const struct tl *t, size_t i, hm_vaddr_t vaddr, hm_pfn_t pfn, hm_pte_t pte)
{
    cr_assert(lt(sz, i, t->nev), "event %zu missing (only %zu)", i, t->nev);
    cr_assert(eq(str, (char *)hm_event_name(t->ev[i].kind), (char *)hm_event_name(HM_EV_PTE_SET)),
              "event %zu", i);
    cr_assert(eq(u64, t->ev[i].a, vaddr), "event %zu: address", i);
    cr_assert(eq(u64, t->ev[i].b, pfn), "event %zu: pfn", i);
    cr_assert(eq(u64, t->ev[i].pte, pte), "event %zu: pte", i);
}

void tl_assert_clear_flush_page_ev(const struct tl *t, size_t from, hm_vaddr_t vaddr, uint32_t cpu,
                                   const char *what)
{
    static const int kinds[] = {HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_PAGE};
    tl_assert_ev_kinds(t, from, kinds, 2, what);
    cr_assert(eq(u64, t->ev[from].a, vaddr), "%s: pte_clear address", what);
    cr_assert(eq(u64, t->ev[from + 1].a, vaddr), "%s: tlb_flush_page address", what);
    cr_assert(eq(u32, t->ev[from + 1].cpu, cpu), "%s: tlb_flush_page cpu", what);
}

void tl_assert_flush_unused_events(struct tl *t, const int *kinds, size_t n, const char *what)
{
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK), "%s", what);
    tl_assert_ev_kinds(t, 0, kinds, n, what);
}

void tl_assert_max_pfn_limit(struct hm_config *c, hm_pfn_t high0, hm_pfn_t max_pfn)
{
    struct hm_layout l;
    c->highmem_pages = max_pfn - high0;
    cr_assert(eq(int, hm_layout_compute(c, &l), HM_OK), "max_pfn %#x", max_pfn);
    cr_assert(eq(u32, l.max_pfn, max_pfn));
    c->highmem_pages++;
    cr_assert(eq(int, hm_layout_compute(c, &l), HM_EINVAL), "max_pfn %#x + 1", max_pfn);
}

/* ---- helpers of the per-arch suites ------------------------------------------------------ */

void tl_expect_km_type_names(const struct tl *t, unsigned n)
{
    static const char *const names[15] = {
        "KM_BOUNCE_READ", "KM_SKB_SUNRPC_DATA", "KM_SKB_DATA_SOFTIRQ", "KM_USER0", "KM_USER1",
        "KM_BIO_SRC_IRQ", "KM_BIO_DST_IRQ", "KM_PTE0", "KM_PTE1", "KM_IRQ0", "KM_IRQ1",
        "KM_SOFTIRQ0", "KM_SOFTIRQ1", "KM_PPC_SYNC_PAGE", "KM_PPC_SYNC_ICACHE"};
    cr_assert(le(u32, n, 15));
    for (unsigned i = 0; i < n; i++)
        cr_expect(eq(str, (char *)t->layout.km_types[i], (char *)names[i]), "type %u", i);
}

void tl_assert_pte_every_pfn(const struct tl *t, const struct tl_arch_hand *h, uint32_t nr_pfns,
                             hm_pte_t ignored)
{
    uint32_t bad = 0, first_bad = 0;
    for (uint32_t pfn = 0; pfn < nr_pfns; pfn++) {
        hm_pte_t pte = hm_mk_kmap_pte(t->ctx, pfn);
        if (pte != h->kpte(pfn) || hm_pte_pfn(t->ctx, pte) != pfn || hm_pte_none(t->ctx, pte) != 0 ||
            hm_pte_pfn(t->ctx, pte | ignored) != pfn || hm_pte_none(t->ctx, pte | ignored) != 0) {
            if (!bad++)
                first_bad = pfn;
        }
    }
    cr_assert(eq(u32, bad, 0), "%u pfns do not round-trip, first %#x", bad, first_bad);
}

void tl_map_every_atomic_slot(struct tl *t, const struct tl_arch_hand *h, uint32_t cpus,
                              unsigned types, hm_pfn_t pfn0)
{
    hm_vaddr_t prev = h->bound;
    for (uint32_t cpu = 0; cpu < cpus; cpu++) {
        for (unsigned type = 0; type < types; type++) {
            hm_vaddr_t v = 0;
            cr_assert(eq(int, hm_kmap_atomic(t->ctx, cpu, pfn0 + type, type, &v), HM_OK));
            cr_expect(eq(u64, v, h->slot_of(cpu, type)), "cpu %u type %u", cpu, type);
            if (h->slot_dir < 0)
                cr_expect(lt(u64, v, prev), "cpu %u type %u", cpu, type);
            else
                cr_expect(gt(u64, v, prev), "cpu %u type %u", cpu, type);
            prev = v;
            cr_expect(eq(u64, hm_sim_pte(t->sim, v), h->kpte(pfn0 + type)), "cpu %u type %u", cpu, type);
        }
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, cpu), (int)types), "cpu %u", cpu);
    }
}

void tl_assert_kmap_atomic_busy(struct tl *t, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                                const char *function, const char *what)
{
    const hm_vaddr_t untouched = 0x5au;
    hm_vaddr_t v = untouched;
    struct tl_snap s;
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, cpu, pfn, type, &v), HM_EBUSY), "%s", what);
    tl_assert_last_bug(t, HM_BUG_ATOMIC_BUSY, HM_EBUSY, function);
    tl_snap_assert_same(t, &s, what);
    cr_assert(eq(u64, v, untouched), "%s: address out", what);
}

void tl_assert_kunmap_atomic_bug(struct tl *t, uint32_t cpu, hm_vaddr_t vaddr, unsigned type, int bug,
                                 const char *what)
{
    tl_assert_kunmap_atomic_refused(t, cpu, vaddr, type, bug, "kunmap_atomic", what);
}

void tl_assert_pkmap_atomic_to_page_quirk(struct tl *t, hm_vaddr_t pv, hm_pfn_t pfn, hm_pfn_t garbage,
                                          uint32_t off)
{
    hm_pfn_t got = 0;
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, pv, &got), HM_OK));
    cr_assert(eq(u32, got, garbage));
    cr_assert(not(eq(u32, got, pfn)));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, pv + off, &got), HM_OK));
    cr_assert(eq(u32, got, pfn));
}

void tl_assert_kunmap_in_interrupt_bugs(struct tl *t, hm_pfn_t pfn, uint32_t slot)
{
    struct tl_snap s;
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kunmap(t->ctx, pfn), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_IN_INTERRUPT, HM_EINVAL, NULL);
    tl_snap_assert_same(t, &s, "kunmap in interrupt");
    cr_assert(eq(int, hm_pkmap_count(t->ctx, slot), 2));
    hm_sim_set_in_interrupt(t->sim, 0);
    tl_kunmap(t, pfn);
    cr_assert(eq(int, hm_pkmap_count(t->ctx, slot), 1));
}

/* ---- helpers of the per-arch suites across the generations --------------------------------- */

int tl_atomic_is_local(const struct tl *t)
{
    return t->cfg.kernel >= HM_KERNEL_5_11;
}

const struct tl_arch_hand *tl_arch_hand_of(const struct tl *t, const struct tl_arch_hand *per_type,
                                           const struct tl_arch_hand *local)
{
    return tl_atomic_is_local(t) ? local : per_type;
}

uint32_t tl_local_pos(int debug, uint32_t n)
{
    return debug ? 2u * n + 1u : n;
}

int tl_flush_only_when_freed(const struct tl *t)
{
    return t->cfg.kernel >= HM_KERNEL_2_6_30 || t->cfg.need_flush;
}

void tl_assert_kunmap_atomic_refused(struct tl *t, uint32_t cpu, hm_vaddr_t vaddr, unsigned type, int bug,
                                     const char *function, const char *what)
{
    struct tl_snap s;
    tl_snap_take(t, &s);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, cpu, vaddr, type), HM_EINVAL), "%s", what);
    tl_assert_last_bug(t, bug, HM_EINVAL, function);
    tl_snap_assert_same(t, &s, what);
}

void tl_expect_x86_default_fixmap(const struct hm_layout *l)
{
    if (l->kernel >= HM_KERNEL_5_11) {
        /* KM_MAX_IDX 16 slots per CPU: __end_of_permanent_fixed_addresses = 70 + 16*8 + 6 = 204,
         * __end_of_fixed_addresses = 204 + 16 + 1 = 221;
         * FIXADDR_START      = 0xfffff000 - 204*4K (0xcc000) = 0xfff33000;
         * FIXADDR_BOOT_START = 0xfffff000 - 221*4K (0xdd000) = 0xfff22000 */
        cr_assert(eq(u32, l->km_type_nr, 16));
        cr_assert(eq(u32, l->km_max_idx, 16));
        cr_assert(eq(u32, l->nr_fixmap, 221));
        cr_assert(eq(u32, l->fixaddr_start, 0xfff33000u));
        cr_assert(eq(u32, l->fixaddr_boot_start, 0xfff22000u));
    } else {
        /* KM_TYPE_NR 13: 70 + 13*8 + 6 = 180, 180 + 16 + 1 = 197;
         * FIXADDR_START      = 0xfffff000 - 180*4K (0xb4000) = 0xfff4b000;
         * FIXADDR_BOOT_START = 0xfffff000 - 197*4K (0xc5000) = 0xfff3a000 */
        cr_assert(eq(u32, l->km_type_nr, 13));
        cr_assert(eq(u32, l->km_max_idx, 0));
        cr_assert(eq(u32, l->nr_fixmap, 197));
        cr_assert(eq(u32, l->fixaddr_start, 0xfff4b000u));
        cr_assert(eq(u32, l->fixaddr_boot_start, 0xfff3a000u));
    }
}
