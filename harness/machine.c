/* machine.c - open/close one simulated machine (machine.h): hm_layout_compute, the sim,
 * aligned context storage, the hooks chain and the per-command event capture.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "machine.h"

#include "highmem_arch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void capture(struct harness_machine *m, const struct hm_event *ev)
{
    if (ev->kind == HM_EV_STALE_TLB) {
        m->stale_tlb++;
        return;
    }
    if (ev->kind == HM_EV_STALE_CACHE) {
        m->stale_cache++;
        return;
    }
    if (m->nev == m->evcap) {
        size_t ncap = m->evcap ? m->evcap * 2 : 16;
        struct hm_event *nev = realloc(m->ev, ncap * sizeof *nev);
        if (!nev) {
            m->oom = 1;
            return;
        }
        m->ev = nev;
        m->evcap = ncap;
    }
    m->ev[m->nev++] = *ev;
}

static void on_event(void *cookie, const struct hm_event *ev)
{
    struct harness_machine *m = cookie;
    if (m->hooks.capture)
        capture(m, ev);
    if (m->hooks.on_event)
        m->hooks.on_event(m->hooks.event_cookie, ev);
}

static void on_bug(void *cookie, const struct hm_bug_report *r)
{
    struct harness_machine *m = cookie;
    if (m->hooks.capture)
        m->bug = r->bug;
    if (m->hooks.on_bug)
        m->hooks.on_bug(m->hooks.bug_cookie, r);
}

void harness_machine_begin(struct harness_machine *m)
{
    m->nev = 0;
    m->stale_tlb = 0;
    m->stale_cache = 0;
    m->bug = HM_BUG_NONE;
}

/* Context storage of at least size bytes at the library's alignment, reused when large enough. */
static int ctx_storage(struct harness_machine *m, size_t size)
{
    size_t align = hm_ctx_align();
    if (align < sizeof(void *))
        align = sizeof(void *);
    if ((align & (align - 1)) != 0)
        return -1;
    if (m->ctx_mem && m->ctx_cap >= size)
        return 0;
    free(m->ctx_mem);
    m->ctx_mem = NULL;
    m->ctx_cap = 0;
    if (posix_memalign(&m->ctx_mem, align, size) != 0) {
        m->ctx_mem = NULL;
        return -1;
    }
    m->ctx_cap = size;
    return 0;
}

int harness_machine_open(struct harness_machine *m, const struct hm_config *cfg,
                         const struct harness_hooks *hooks, char *err, size_t errlen)
{
    struct hm_hooks lib = {0};
    size_t size;
    int rc;

    m->ctx = NULL;
    m->cfg = *cfg;
    if (hooks)
        m->hooks = *hooks;
    else
        memset(&m->hooks, 0, sizeof m->hooks);
    harness_machine_begin(m);
    m->oom = 0;
    rc = hm_layout_compute(&m->cfg, &m->layout);
    if (rc != HM_OK) {
        snprintf(err, errlen, "invalid machine configuration (%s)", hm_strerror(rc));
        return -1;
    }
    if (m->sim)
        rc = hm_sim_reset(m->sim, &m->layout, m->cfg.arch, on_event, m);
    else if ((m->sim = hm_sim_new(&m->layout, m->cfg.arch, on_event, m)) == NULL)
        rc = HM_ENOSPC;
    if (rc != HM_OK) {
        snprintf(err, errlen, "cannot create the simulated machine (%s)", hm_strerror(rc));
        return -1;
    }
    m->cache_on = m->hooks.cache == HARNESS_CACHE_ON;
    if (m->cache_on && (rc = hm_sim_set_cache(m->sim, 1)) != HM_OK) {
        snprintf(err, errlen, "cannot model the data cache (%s)", hm_strerror(rc));
        return -1;
    }
    hm_sim_machine(m->sim, &m->hw);
    if (m->hooks.adapt)
        m->hooks.adapt(m->hooks.adapt_cookie, &m->hw);

    size = hm_ctx_size(&m->cfg);
    if (size == 0 || ctx_storage(m, size) != 0) {
        snprintf(err, errlen, "cannot allocate the context (%zu bytes)", size);
        return -1;
    }
    lib.on_event = on_event;
    lib.event_cookie = m;
    lib.on_bug = on_bug;
    lib.bug_cookie = m;
    rc = hm_ctx_init(m->ctx_mem, m->ctx_cap, &m->cfg, &m->hw, &lib, &m->ctx);
    if (rc != HM_OK) {
        m->ctx = NULL;
        snprintf(err, errlen, "cannot initialise the context (%s)", hm_strerror(rc));
        return -1;
    }
    return 0;
}

void harness_machine_close(struct harness_machine *m)
{
    free(m->ctx_mem);
    if (m->sim)
        hm_sim_free(m->sim);
    free(m->ev);
    memset(m, 0, sizeof *m);
}

int harness_fast_locking_built(void)
{
    struct harness_machine m;
    struct hm_config cfg;
    char err[160];
    int fast;

    memset(&m, 0, sizeof m);
    memset(&cfg, 0, sizeof cfg);
    cfg.arch = hm_arch_find("x86");
    cfg.locking = HM_LOCKING_FAST;
    fast = harness_machine_open(&m, &cfg, NULL, err, sizeof err) == 0 &&
           hm_ctx_locking(m.ctx) == HM_LOCKING_FAST;
    harness_machine_close(&m);
    return fast;
}
