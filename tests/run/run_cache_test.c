/* run_cache_test.c - kmapsim run with the sim's data cache model (--cache on): every workload on
 * every arch and generation reads no stale byte, a missing arch flush is caught, the report and
 * JSON carry the cache counters. Criterion; runs the engine in-process.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/machine.h"
#include "highmem_arch.h"
#include "runlib.h"

#define OPS 3000u /* hold-many: two rounds of LAST_PKMAP + threads - 1 kmaps */

/* Parameters are handed to re-executed workers: plain integers only. */
struct cache_case {
    int workload, arch, kernel;
    uint32_t cpus; /* 0: the workload's default */
};

static const int kernels[] = {HM_KERNEL_2_6_24, HM_KERNEL_2_6_30, HM_KERNEL_5_11};

/* Every built-in workload but trace, on every arch, in every generation it runs in (local-switch:
 * 5.11); bounce and local-switch, whose buffers and slots are per CPU, on 1, 2 and 3 CPUs. */
ParameterizedTestParameters(run_cache, coherent)
{
    static struct cache_case cases[KW__COUNT * RT_NARCH * 3 * 3];
    size_t n = 0;
    for (int w = 0; w < KW__COUNT; w++)
        for (int a = 0; a < RT_NARCH; a++)
            for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
                int per_cpu = w == KW_BOUNCE || w == KW_LOCAL_SWITCH;
                if (w == KW_TRACE || (w == KW_LOCAL_SWITCH && kernels[k] < HM_KERNEL_5_11))
                    continue;
                for (uint32_t c = per_cpu ? 1 : 0; c <= (per_cpu ? 3u : 0u); c++)
                    cases[n++] = (struct cache_case){w, a, kernels[k], c};
            }
    return cr_make_param_array(struct cache_case, cases, n);
}

/* A kernel caller's use of kmaps on a machine with the arch's data cache, whose flushes are the
 * arch's own (and bounce's DMA maintenance): no load reads a stale copy, no byte is wrong, and
 * the counters agree (rt_consistent). In the default fast locking too: flush_all_zero_pkmaps
 * claims its slots before flush_cache_kmaps, so a kunmap without kmap_lock that drops a count to
 * 1 after that flush never has its slot freed with dirty lines (docs/arches.md, "Data caches"). */
ParameterizedTest(struct cache_case *p, run_cache, coherent, .timeout = 120)
{
    const char *arch = rt_arches[p->arch];
    struct rt_case c = {.arch = arch, .workload = p->workload, .ops = OPS, .seed = 3,
                        .kernel = p->kernel, .cpus = p->cpus, .threads = p->cpus,
                        .cache = HARNESS_CACHE_ON, .locking = HM_LOCKING_FAST};
    struct kmapsim_run_result r;
    char err[256], msg[512];

    cr_assert_eq(rt_run(&c, &r, err, sizeof err), 0, "%s %s: %s", arch,
                 kmapsim_workload_name(p->workload), err);
    cr_assert_eq(r.cache_on, 1, "%s: the model is on", arch);
    cr_assert_gt(r.sim.cache_hits + r.sim.cache_misses, 0, "%s: loads and stores went through it", arch);
    cr_assert_eq(rt_consistent(&r, msg, sizeof msg), 0, "%s (kernel %s, %" PRIu32 " CPUs): %s", arch,
                 hm_kernel_name(p->kernel), r.cpus, msg);
    cr_assert_eq(kmapsim_run_failure(&r), KMAPSIM_FAIL_NONE, "%s: %s", arch, r.first[KMAPSIM_FAIL_STALE_CACHE]);
    if (p->workload == KW_BOUNCE) /* the driver's maintenance of the buffer before each DMA */
        cr_assert_eq(r.dma_flushes, r.ops, "%s: %" PRIu64 " DMA flushes, %" PRIu64 " ops", arch,
                     r.dma_flushes, r.ops);
    else
        cr_assert_eq(r.dma_flushes, 0);
    kmapsim_run_result_free(&r);
}

/* A machine whose cache flush hooks do nothing: the arch asks for its flushes (the events are
 * still emitted) and the data stays where it was. */
static void no_flush_all(void *m)
{
    (void)m;
}
static void no_flush_page(void *m, uint32_t cpu, hm_vaddr_t vaddr)
{
    (void)m;
    (void)cpu;
    (void)vaddr;
}
static void drop_flush_all(void *cookie, struct hm_machine *hw)
{
    (void)cookie;
    hw->flush_cache_all = no_flush_all;
}
static void drop_flush_page(void *cookie, struct hm_machine *hw)
{
    (void)cookie;
    hw->flush_cache_page = no_flush_page;
}

/* Run c with the cache model as asked; the result in *r. */
static void run_case(struct rt_case *c, int cache, struct kmapsim_run_result *r)
{
    char err[256];
    c->cache = cache;
    cr_assert_eq(rt_run(c, r, err, sizeof err), 0, "%s: %s", c->arch, err);
}

/* The arch's flush is what keeps the run coherent: without it --cache on reports stale reads
 * (and fails the run with the stale_cache kind); without the model nothing shows. */
static void expect_caught(struct rt_case c, const char *what)
{
    struct kmapsim_run_result r;

    run_case(&c, HARNESS_CACHE_ON, &r);
    cr_assert_gt(r.stale_cache, 0, "%s: no stale read", what);
    cr_assert_eq(r.stale_cache, r.sim.stale_cache_reads, "%s", what);
    cr_assert_eq(kmapsim_run_failure(&r), KMAPSIM_FAIL_STALE_CACHE, "%s: failure %d", what,
                 kmapsim_run_failure(&r));
    cr_assert_str_eq(kmapsim_run_failure_name(KMAPSIM_FAIL_STALE_CACHE), "stale_cache");
    cr_assert(strncmp(r.first[KMAPSIM_FAIL_STALE_CACHE], "stale cache read: cpu ", 22) == 0, "%s: %s",
              what, r.first[KMAPSIM_FAIL_STALE_CACHE]);
    kmapsim_run_result_free(&r);

    run_case(&c, HARNESS_CACHE_OFF, &r);
    cr_assert_eq(r.cache_on, 0, "%s", what);
    cr_assert_eq(r.stale_cache + r.sim.cache_hits + r.sim.cache_misses, 0, "%s: model off", what);
    cr_assert_eq(kmapsim_run_failure(&r), KMAPSIM_FAIL_NONE, "%s: without the model: %s", what, r.failure);
    kmapsim_run_result_free(&r);
}

Test(run_cache, catches_sparc_kmap_atomic_without_flush_cache_all)
{
    /* 2.6.24 sparc kmap_atomic: flush_cache_all before the slot's PTE is written */
    expect_caught((struct rt_case){.arch = "sparc", .workload = KW_BOUNCE, .ops = OPS,
                                   .adapt = drop_flush_all},
                  "sparc bounce without flush_cache_all");
}

Test(run_cache, catches_sparc_flush_cache_kmaps_missing)
{
    /* flush_all_zero_pkmaps' flush_cache_kmaps() = flush_cache_all(): a count-1 slot reused for
     * another page while its lines hold the old one */
    expect_caught((struct rt_case){.arch = "sparc", .workload = KW_PAGECACHE_HOT, .ops = 20000,
                                   .adapt = drop_flush_all},
                  "sparc pagecache-hot without flush_cache_kmaps");
}

Test(run_cache, catches_arm_kunmap_atomic_without_page_flush)
{
    /* VIVT arm kunmap_atomic: __cpuc_flush_dcache_area of the slot's page */
    expect_caught((struct rt_case){.arch = "arm", .workload = KW_BOUNCE, .ops = OPS,
                                   .kernel = HM_KERNEL_2_6_30, .adapt = drop_flush_page},
                  "arm bounce without kunmap_atomic's page flush");
}

Test(run_cache, catches_arm_kmap_local_without_pre_unmap_flush)
{
    /* 5.11 VIVT arm arch_kmap_local_pre_unmap: the page's lines before its local PTE goes, also
     * on a context switch (__kmap_local_sched_out) */
    expect_caught((struct rt_case){.arch = "arm", .workload = KW_LOCAL_SWITCH, .ops = OPS,
                                   .kernel = HM_KERNEL_5_11, .adapt = drop_flush_page},
                  "arm local-switch without the pre-unmap flush");
}

/* The report: the table's cache rows and the JSON cache object only with the model on. */
static char *report(const struct kmapsim_run_result *r, int json)
{
    struct kmapsim_run_opts o = {.workload = r->workload, .seed = r->seed};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    if (json)
        kmapsim_run_print_json(f, &o, r, 1);
    else
        kmapsim_run_print_table(f, r, 1);
    cr_assert_eq(fclose(f), 0);
    return buf;
}

Test(run_cache, report_and_json)
{
    struct rt_case c = {.arch = "arm", .workload = KW_RANDOM, .ops = 500};
    struct kmapsim_run_result r;
    char want[256], *table, *json;

    run_case(&c, HARNESS_CACHE_ON, &r);
    table = report(&r, 0);
    json = report(&r, 1);
    cr_assert_not_null(strstr(table, "\nstale cache reads (must be 0)"), "%s", table);
    snprintf(want, sizeof want, "\n  misses%*" PRIu64 "\n", 36 - 8 + 14, r.sim.cache_misses);
    cr_assert_not_null(strstr(table, want), "%s", table);
    snprintf(want, sizeof want,
             ",\"cache\":{\"hits\":%" PRIu64 ",\"misses\":%" PRIu64 ",\"writebacks\":%" PRIu64
             ",\"page_flushes\":%" PRIu64 ",\"stale_cache\":0},\"invariants_ok\":true",
             r.sim.cache_hits, r.sim.cache_misses, r.sim.cache_writebacks, r.sim.cache_page_flushes);
    cr_assert_not_null(strstr(json, want), "%s\nwant %s", json, want);
    cr_assert_gt(r.sim.cache_misses, 0);
    free(table);
    free(json);
    kmapsim_run_result_free(&r);

    run_case(&c, 0, &r); /* the default: off */
    table = report(&r, 0);
    json = report(&r, 1);
    cr_assert_null(strstr(table, "stale cache reads"), "%s", table);
    cr_assert_null(strstr(json, "\"cache\":"), "%s", json);
    free(table);
    free(json);
    kmapsim_run_result_free(&r);

    /* a run with stale reads: the failure object names them */
    c = (struct rt_case){.arch = "sparc", .workload = KW_BOUNCE, .ops = 200, .adapt = drop_flush_all};
    run_case(&c, HARNESS_CACHE_ON, &r);
    json = report(&r, 1);
    snprintf(want, sizeof want, "\"stale_cache\":%" PRIu64 "},\"invariants_ok\":true,\"ok\":false,"
             "\"failure\":{\"kind\":\"stale_cache\",\"message\":\"stale cache reads (%" PRIu64 ")\"",
             r.stale_cache, r.stale_cache);
    cr_assert_not_null(strstr(json, want), "%s\nwant %s", json, want);
    free(json);
    kmapsim_run_result_free(&r);
}

Test(run_cache, not_on_the_host_machine)
{
    struct hm_config cfg = {.arch = hm_arch_find("x86"), .nr_cpus = 1};
    struct kmapsim_run_opts o = {.workload = KW_RANDOM, .machine = KMAPSIM_MACHINE_HOST,
                                 .cache = HARNESS_CACHE_ON},
                            out;
    char err[256];
    cr_assert_eq(kmapsim_run_resolve(&cfg, &o, &out, err, sizeof err), -1);
    cr_assert_str_eq(err, "--cache on models the sim's data caches: not with --machine host");
    o.cache = HARNESS_CACHE_OFF;
    cr_assert_eq(kmapsim_run_resolve(&cfg, &o, &out, err, sizeof err), 0, "%s", err);
}
