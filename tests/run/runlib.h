/* runlib.h - shared helpers of the kmapsim run tests: build a config for an arch and run one
 * workload through the engine (//tools:kmapsim_lib), no Criterion (the TSan test uses it too).
 * SPDX-License-Identifier: MIT */
#ifndef RUN_TESTLIB_H
#define RUN_TESTLIB_H

#include <stdint.h>

#include "tools/kmapsim/run.h"

/* The built-in arches, in hm_arch_at order. */
#define RT_NARCH 8
extern const char *const rt_arches[RT_NARCH];

/* What a test asks for; zero fields take the engine's defaults. */
struct rt_case {
    const char *arch;
    int workload;
    uint64_t ops, working_set, seed;
    uint32_t threads, cpus, pkmap_entries;
    int need_flush, debug_highmem, record;
    double zipf_s;
    const struct trace_list *trace;
    int watchdog_set;     /* 1: watchdog_s as given (0 = off); 0: a 120 s watchdog */
    uint32_t watchdog_s;
    int kernel;           /* enum hm_kernel; 0: 2.6.24, or 5.11 for local-switch */
    int locking;          /* enum hm_locking; 0: the default (fast) */
    int cache;            /* enum harness_cache: HARNESS_CACHE_ON for --cache on */
    void (*adapt)(void *cookie, struct hm_machine *hw); /* kmapsim_run_opts.adapt */
    void *adapt_cookie;
};

/* The machine config and the resolved options of a case, ready for kmapsim_run_one. Returns
 * 0, or -1 with the reason in err (a config the engine refuses). */
int rt_prepare(const struct rt_case *c, struct hm_config *cfg, struct kmapsim_run_opts *ro,
               char *err, size_t errlen);

/* Resolve and run one case into *r (free with kmapsim_run_result_free). Returns 0, or -1 with
 * the reason written to err (a config the engine refuses, a machine that cannot be built). */
int rt_run(const struct rt_case *c, struct kmapsim_run_result *r, char *err, size_t errlen);

/* The first of the engine-independent consistency rules (stats vs event stream vs hardware
 * counters) that r breaks, as a message in msg; 0 when all hold. The rules are listed in
 * runlib.c. */
int rt_consistent(const struct kmapsim_run_result *r, char *msg, size_t len);

#endif /* RUN_TESTLIB_H */
