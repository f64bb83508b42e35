/* runlib.c - shared helpers of the kmapsim run tests (see runlib.h): one-call runs and the
 * consistency rules between the library's statistics, the event stream and the sim's counters.
 * SPDX-License-Identifier: MIT */
#include "runlib.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/kmapsim/kmapsim.h"

const char *const rt_arches[RT_NARCH] = {"x86", "x86-pae", "ppc", "sparc", "generic", "arm", "arm-vipt", "xtensa"};

int rt_prepare(const struct rt_case *c, struct hm_config *cfg, struct kmapsim_run_opts *ro,
               char *err, size_t errlen)
{
    struct hm_config opts;
    struct hm_layout l;
    struct kmapsim_run_opts o;
    const struct hm_arch *arch = hm_arch_find(c->arch);

    if (!arch) {
        snprintf(err, errlen, "no arch %s", c->arch);
        return -1;
    }
    memset(&opts, 0, sizeof opts);
    opts.nr_cpus = c->cpus ? c->cpus : kmapsim_run_default_cpus(c->workload, c->threads);
    opts.last_pkmap = c->pkmap_entries;
    opts.need_flush = c->need_flush;
    opts.debug_highmem = c->debug_highmem;
    opts.kernel = c->kernel ? c->kernel : c->workload == KW_LOCAL_SWITCH ? HM_KERNEL_5_11 : 0;
    opts.locking = c->locking;
    kmapsim_config_for(&opts, arch, cfg);
    if (kmapsim_config_check(cfg, &l, err, errlen) != 0)
        return -1;
    memset(&o, 0, sizeof o);
    o.workload = c->workload;
    o.threads = c->threads;
    o.ops = c->ops;
    o.working_set = c->working_set;
    o.seed = c->seed;
    o.zipf_s = c->zipf_s;
    o.record = c->record;
    o.trace = c->trace;
    o.cache = c->cache;
    o.adapt = c->adapt;
    o.adapt_cookie = c->adapt_cookie;
    o.watchdog_set = 1;
    o.watchdog_s = c->watchdog_set ? c->watchdog_s : 120;
    return kmapsim_run_resolve(cfg, &o, ro, err, errlen);
}

int rt_run(const struct rt_case *c, struct kmapsim_run_result *r, char *err, size_t errlen)
{
    struct hm_config cfg;
    struct kmapsim_run_opts ro;

    memset(r, 0, sizeof *r);
    if (rt_prepare(c, &cfg, &ro, err, errlen) != 0)
        return -1;
    return kmapsim_run_one(&cfg, &ro, r, err, errlen);
}

#define RULE(cond, ...)                                                                    \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            int n_ = snprintf(msg, len, "%s %s: %s -- ", r->arch,                          \
                              kmapsim_workload_name(r->workload), #cond);                  \
            if (n_ >= 0 && (size_t)n_ < len)                                               \
                snprintf(msg + n_, len - (size_t)n_, __VA_ARGS__);                         \
            return 1;                                                                      \
        }                                                                                  \
    } while (0)

int rt_consistent(const struct kmapsim_run_result *r, char *msg, size_t len)
{
    const struct hm_stats *h = &r->hm;
    const struct hm_sim_stats *s = &r->sim;
    const uint64_t *ev = r->ev;

    /* Every hardware action the library reports reached the machine, and only those. */
    RULE(ev[HM_EV_PTE_SET] == s->pte_sets + s->pte_sets_refused,
         "%" PRIu64 " vs %" PRIu64 " + %" PRIu64, ev[HM_EV_PTE_SET], s->pte_sets,
         s->pte_sets_refused);
    RULE(ev[HM_EV_PTE_CLEAR] == s->pte_clears + s->pte_clears_refused,
         "%" PRIu64 " vs %" PRIu64 " + %" PRIu64, ev[HM_EV_PTE_CLEAR], s->pte_clears,
         s->pte_clears_refused);
    /* ... and every write the machine refused was reported and counted (trace workloads with
     * inject fail-...). */
    RULE(ev[HM_EV_MACHINE_FAIL] == s->pte_sets_refused + s->pte_clears_refused,
         "%" PRIu64 " vs %" PRIu64 " + %" PRIu64, ev[HM_EV_MACHINE_FAIL], s->pte_sets_refused,
         s->pte_clears_refused);
    RULE(ev[HM_EV_MACHINE_FAIL] == h->machine_fails, "%" PRIu64 " vs %" PRIu64,
         ev[HM_EV_MACHINE_FAIL], h->machine_fails);
    RULE(ev[HM_EV_TLB_FLUSH_RANGE] == s->tlb_flush_ranges, "%" PRIu64 " vs %" PRIu64,
         ev[HM_EV_TLB_FLUSH_RANGE], s->tlb_flush_ranges);
    RULE(ev[HM_EV_TLB_FLUSH_PAGE] == s->tlb_flush_pages, "%" PRIu64 " vs %" PRIu64,
         ev[HM_EV_TLB_FLUSH_PAGE], s->tlb_flush_pages);
    RULE(ev[HM_EV_TLB_FLUSH_ALL] == s->tlb_flush_alls, "%" PRIu64 " vs %" PRIu64,
         ev[HM_EV_TLB_FLUSH_ALL], s->tlb_flush_alls);
    RULE(ev[HM_EV_CACHE_FLUSH_ALL] == s->cache_flushes, "%" PRIu64 " vs %" PRIu64,
         ev[HM_EV_CACHE_FLUSH_ALL], s->cache_flushes);
    RULE(ev[HM_EV_SLEEP] == s->sleeps, "%" PRIu64 " vs %" PRIu64, ev[HM_EV_SLEEP], s->sleeps);
    RULE(ev[HM_EV_WAKEUP] == s->wakes, "%" PRIu64 " vs %" PRIu64, ev[HM_EV_WAKEUP], s->wakes);

    /* The library's statistics agree with its own event stream. */
    RULE(r->ev_pte_set_pkmap == h->kmap_new, "pte_set in the window %" PRIu64 ", new %" PRIu64,
         r->ev_pte_set_pkmap, h->kmap_new);
    RULE(r->ev_pte_clear_pkmap == h->slots_freed, "%" PRIu64 " vs %" PRIu64,
         r->ev_pte_clear_pkmap, h->slots_freed);
    RULE(ev[HM_EV_FLUSH_ALL_ZERO_PKMAPS] == h->flushes, "%" PRIu64 " vs %" PRIu64,
         ev[HM_EV_FLUSH_ALL_ZERO_PKMAPS], h->flushes);
    RULE(ev[HM_EV_FLUSH_DONE] == h->flushes, "%" PRIu64 " vs %" PRIu64, ev[HM_EV_FLUSH_DONE],
         h->flushes);
    RULE(ev[HM_EV_SLEEP] == h->sleeps, "%" PRIu64 " vs %" PRIu64, ev[HM_EV_SLEEP], h->sleeps);
    RULE(ev[HM_EV_WAKEUP] == h->wakeups, "%" PRIu64 " vs %" PRIu64, ev[HM_EV_WAKEUP],
         h->wakeups);
    RULE(ev[HM_EV_BUG] == h->bugs, "%" PRIu64 " vs %" PRIu64, ev[HM_EV_BUG], h->bugs);
    RULE(ev[HM_EV_STALE_TLB] == s->stale_pte_writes + s->stale_tlb_hits,
         "%" PRIu64 " vs %" PRIu64 " + %" PRIu64, ev[HM_EV_STALE_TLB], s->stale_pte_writes,
         s->stale_tlb_hits);
    /* The data cache (--cache on): the arch's page flushes and the workload's DMA maintenance
     * are every flush_cache_page the machine saw; every stale read was reported. */
    RULE(r->ev_cache_flush_page + r->dma_flushes == s->cache_page_flushes,
         "%" PRIu64 " + %" PRIu64 " vs %" PRIu64, r->ev_cache_flush_page, r->dma_flushes,
         s->cache_page_flushes);
    RULE(r->stale_cache == s->stale_cache_reads, "%" PRIu64 " vs %" PRIu64, r->stale_cache,
         s->stale_cache_reads);
    RULE(r->cache_on || (s->cache_hits == 0 && s->cache_misses == 0 && r->dma_flushes == 0),
         "model off: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64 " DMA flushes", s->cache_hits,
         s->cache_misses, r->dma_flushes);

    /* Every kmap either found the page, made a mapping, or (never sleeping) gave up. */
    RULE(h->kmap_hits + h->kmap_new + h->kmap_eagain == h->kmap_calls,
         "%" PRIu64 " + %" PRIu64 " + %" PRIu64 " vs %" PRIu64, h->kmap_hits, h->kmap_new,
         h->kmap_eagain, h->kmap_calls);
    RULE(h->kmap_reuse_count1 <= h->kmap_hits, "%" PRIu64 " > %" PRIu64, h->kmap_reuse_count1,
         h->kmap_hits);
    RULE(h->slots_freed <= h->kmap_new, "%" PRIu64 " > %" PRIu64, h->slots_freed, h->kmap_new);
    RULE(h->sleeps == 0 || h->wakeups > 0, "%" PRIu64 " sleeps, no wake-up", h->sleeps);

    /* The window. */
    RULE(r->peak_in_use <= r->last_pkmap, "%" PRIu64 " > %" PRIu32, r->peak_in_use,
         r->last_pkmap);
    RULE(r->mean_in_use <= (double)r->peak_in_use, "%f > %" PRIu64, r->mean_in_use,
         r->peak_in_use);
    RULE(r->peak_mapped <= r->last_pkmap && r->peak_mapped >= r->peak_in_use,
         "peak mapped %" PRIu64 ", in use %" PRIu64 ", slots %" PRIu32, r->peak_mapped,
         r->peak_in_use, r->last_pkmap);
    RULE(r->mean_mapped <= (double)r->peak_mapped && r->mean_mapped >= r->mean_in_use,
         "mean mapped %f, peak %" PRIu64 ", mean in use %f", r->mean_mapped, r->peak_mapped,
         r->mean_in_use);
    RULE(r->end_mapped == r->end_count_ge2 + r->end_count1,
         "tracked %" PRIu64 " present PTEs, library %" PRIu64 " + %" PRIu64, r->end_mapped,
         r->end_count_ge2, r->end_count1);
    RULE(r->end_in_use == r->end_count_ge2, "tracked %" PRIu64 ", library %" PRIu64,
         r->end_in_use, r->end_count_ge2);
    RULE(r->invariants == 0, "%s", r->invariant_msg);

    /* Nothing stale, nothing wrong. */
    RULE(r->stale == 0, "%" PRIu64, r->stale);
    RULE(r->stale_cache == 0, "%s", r->first[KMAPSIM_FAIL_STALE_CACHE]);
    RULE(r->wrong_bytes == 0, "%s", r->failure);

    if (r->last_pkmap == 0) { /* generic: kmap is page_address, no pkmap machinery at all */
        RULE(h->kmap_calls == 0 && h->kmap_new == 0 && h->flushes == 0 && h->sleeps == 0 &&
                 r->ev_pte_set_pkmap == 0 && r->peak_in_use == 0,
             "calls %" PRIu64 " new %" PRIu64 " flushes %" PRIu64, h->kmap_calls, h->kmap_new,
             h->flushes);
    }
    if (r->workload != KW_TRACE) {
        /* Built-in workloads only touch pages of their page set, balanced and without error. */
        RULE(r->op_errors == 0, "%s", r->failure);
        RULE(r->kmaps == r->kunmaps, "%" PRIu64 " vs %" PRIu64, r->kmaps, r->kunmaps);
        RULE(h->kunmap_calls == h->kmap_calls, "%" PRIu64 " vs %" PRIu64, h->kunmap_calls,
             h->kmap_calls);
        if (r->last_pkmap)
            RULE(h->kmap_calls == r->kmaps, "%" PRIu64 " vs %" PRIu64, h->kmap_calls, r->kmaps);
        RULE(r->end_in_use == 0, "%" PRIu64, r->end_in_use);
        RULE(r->bytes_checked > 0, "%" PRIu64, r->bytes_checked);
    }
    return 0;
}
