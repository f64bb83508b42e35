/* run.h - `kmapsim run`: the built-in workloads (page-cache reads, bounce buffers, pipes,
 * many holders, random, a trace), their statistics, and the table / JSON / SVG reports.
 * SPDX-License-Identifier: MIT */
#ifndef KMAPSIM_RUN_H
#define KMAPSIM_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "highmem.h"
#include "host/host.h"
#include "sim/sim.h"
#include "svg.h"
#include "harness/trace.h"

/* The JSON document's "schema_version" (docs/usage.md, docs/run-schema.json). 2: a failed
 * run's "failure" is an object (kind, message, first) instead of a string. */
#define KMAPSIM_RUN_SCHEMA_VERSION 2

/* Built-in workloads (docs/usage.md describes each model). */
enum kmapsim_workload {
    KW_PAGECACHE_READ = 0, /* stream through a file larger than the window: kmap, copy, kunmap */
    KW_PAGECACHE_HOT,      /* Zipf(s)-distributed reads over the working set */
    KW_BOUNCE,             /* kmap_atomic(KM_BOUNCE_READ), copy, kunmap_atomic, one thread per CPU */
    KW_PIPE,               /* writer/reader thread pairs passing pages through a bounded queue */
    KW_HOLD_MANY,          /* threads holding many kmaps at once: the window fills, kmaps sleep */
    KW_RANDOM,             /* uniform random pages; one access in four writes the page */
    KW_TRACE,              /* a kmap trace (the replay language) as the workload */
    KW_LOCAL_SWITCH,       /* 5.11: kmap_local stacks of two tasks per CPU across context switches */
    KW__COUNT
};

/* The name of a workload ("pagecache-hot", ...), NULL for a bad value. */
const char *kmapsim_workload_name(int w);
/* The workload called name; -1 if there is none. */
int kmapsim_workload_find(const char *name);

struct kmapsim_run_result;

/* The default watchdog of a run with more than one thread (one thread never waits for
 * another, so a single-threaded run has none unless asked for). */
#define KMAPSIM_RUN_DEFAULT_WATCHDOG_S 60u

/* What to run. Zero fields take the per-workload defaults (kmapsim_run_resolve). */
struct kmapsim_run_opts {
    int workload;          /* enum kmapsim_workload */
    uint32_t threads;      /* worker threads; 0 = the workload's default */
    uint64_t ops;          /* operations; 0 = 100000 (trace: the trace, once) */
    uint64_t working_set;  /* distinct pages; 0 = the workload's default for the arch */
    uint64_t seed;         /* PRNG seed (single-threaded runs are reproducible per seed) */
    double zipf_s;         /* pagecache-hot exponent; 0 = 1.0; negative = uniform (s = 0) */
    uint32_t queue_depth;  /* pipe queue capacity; 0 = 16 */
    uint32_t watchdog_s;   /* with watchdog_set: give up (exit 1) after this many seconds,
                              0 = never */
    int watchdog_set;      /* 1: watchdog_s was given (--watchdog); 0: the default, 60 s for a
                              run with more than one thread, none for one thread. Resolved
                              options have it set (watchdog_s is then final). */
    int json;              /* the watchdog prints the JSON document (the runs in prior, then this
                              one as far as it got) on standard output before it exits */
    const struct kmapsim_run_result *prior; /* the finished runs of the same command, for the */
    size_t nprior;                          /* watchdog's JSON document (may be NULL / 0) */
    int record;            /* keep samples, marks and per-slot uses for the SVG */
    int progress;          /* draw a progress bar on standard error (caller checks isatty) */
    const char *label;     /* progress bar label (may be NULL) */
    const struct trace_list *trace; /* KW_TRACE: the parsed trace */
    int machine;           /* enum kmapsim_machine: the simulated MMU or real memory */
    int cache;             /* --cache: enum harness_cache (harness/machine.h): the sim's data
                              cache model on (HARNESS_CACHE_ON) or off (0 or OFF: the default);
                              the sim only (kmapsim_run_resolve refuses it on the host) */
    /* Tests: called with the sim's hooks before the context is built (harness_hooks.adapt), to
     * wrap or drop some of them, e.g. a cache flush, to see --cache on catch its absence. The
     * workloads' own cache maintenance (bounce's DMA) uses the sim's hooks as they were. */
    void (*adapt)(void *cookie, struct hm_machine *hw);
    void *adapt_cookie;
};

/* --machine: what the workload runs on. */
enum kmapsim_machine {
    KMAPSIM_MACHINE_SIM = 0, /* sim/: the simulated MMU, TLBs and stale-translation detector */
    KMAPSIM_MACHINE_HOST = 1 /* host/: a memfd through a window of this process (real pointers,
                              * coalesced + strict); not for bounce and trace */
};

/* Number of simulated CPUs a workload uses when --cpus is not given. */
uint32_t kmapsim_run_default_cpus(int workload, uint32_t threads);

#define KMAPSIM_RUN_MAX_THREADS 64u

/* Why a run failed, in the order they are reported (the first that applies). */
enum kmapsim_run_failure {
    KMAPSIM_FAIL_NONE = 0,
    KMAPSIM_FAIL_WATCHDOG,    /* "watchdog": the run did not finish in time (cut short) */
    KMAPSIM_FAIL_STALE,       /* "stale_translation": the sim's detector fired */
    KMAPSIM_FAIL_WRONG_BYTES, /* "wrong_bytes": a byte read differed from the page's */
    KMAPSIM_FAIL_INVARIANTS,  /* "invariants": hm_check_invariants failed after the run */
    KMAPSIM_FAIL_CALLS,       /* "failed_calls": a library call failed (built-in workloads) */
    KMAPSIM_FAIL_STALE_CACHE, /* "stale_cache": with --cache on, a load read a stale copy of a
                               * byte through an alias (reported right after "stale_translation") */
    KMAPSIM_FAIL__COUNT
};

#define KMAPSIM_RUN_MSG 192 /* bytes of a failure message kept */

/* Everything one run measured. Counters of the library (hm_get_stats), of the simulated
 * hardware (hm_sim_get_stats) and of the event stream are kept apart so they can be compared. */
struct kmapsim_run_result {
    char arch[16];
    int workload;
    int kernel;                   /* enum hm_kernel: the generation the machine followed */
    uint32_t last_pkmap;          /* 0 without highmem (generic) */
    uint32_t threads, cpus;
    uint64_t working_set, seed;
    uint64_t ops;                 /* operations done */
    uint64_t kmaps, kunmaps;      /* hm_kmap / hm_kunmap calls the workload made (any page) */
    uint64_t kmap_atomics;        /* hm_kmap_atomic calls */
    uint64_t op_errors;           /* library calls that failed (trace commands included) */
    struct hm_stats hm;           /* the library's statistics after the run */
    struct hm_sim_stats sim;      /* the simulated hardware's (zero on the host machine) */
    int host;                     /* 1: run on the host machine (--machine host) */
    struct hm_host_stats host_stats; /* its system calls and slot operations (host only) */
    uint64_t ev[HM_EV_MACHINE_FAIL + 1]; /* events seen by the on_event hook, by enum hm_event_kind */
    uint64_t ev_pte_set_pkmap;    /* HM_EV_PTE_SET inside the pkmap window */
    uint64_t ev_pte_clear_pkmap;  /* HM_EV_PTE_CLEAR inside the pkmap window */
    uint64_t ev_tlb_flush_page_all_cpus; /* HM_EV_TLB_FLUSH_PAGE with cpu == HM_CPU_ALL */
    uint64_t peak_in_use;         /* most slots held (pkmap_count >= 2) at once */
    double mean_in_use;           /* slots held, averaged over the operations */
    uint64_t peak_mapped;         /* most slots mapped (pkmap_count >= 1: held or kept) */
    double mean_mapped;           /* slots mapped, averaged over the operations */
    uint64_t bytes_checked;       /* bytes loaded through the MMU and compared */
    uint64_t wrong_bytes;         /* of those, bytes that differed from what the page holds */
    uint64_t stale;               /* HM_EV_STALE_TLB events (the sim's detector) */
    uint64_t sleep_ns_total;      /* wall time spent in kmaps that slept, all threads */
    uint64_t sleep_ns_max_thread; /* the largest per-thread total */
    uint64_t sleep_ns_longest;    /* the longest single kmap that slept */
    uint64_t wall_ns;             /* the run's wall time */
    int invariants;               /* hm_check_invariants after the run (0 = hold) */
    char invariant_msg[128];
    char failure[KMAPSIM_RUN_MSG]; /* the first wrong byte or failed call, "" if none */
    /* The first occurrence of each kind of failure (stale translation, wrong byte, failed
     * call; "" if none and for the other kinds), for the JSON failure object. */
    char first[KMAPSIM_FAIL__COUNT][KMAPSIM_RUN_MSG];
    uint32_t watchdog;            /* non-zero: the watchdog fired after this many seconds and
                                     the run was cut short (only in the watchdog's report) */
    /* Machine state after the run (single-threaded runs track it exactly). */
    uint64_t end_in_use, end_mapped;     /* tracked: held slots, slots with a present PTE */
    uint64_t end_count_ge2, end_count1;  /* from hm_pkmap_count over the window */
    /* --svg recording (opts.record): owned by the result. */
    struct kmapsim_svg_sample *samples;
    size_t nsamples;
    struct kmapsim_svg_mark *marks;
    size_t nmarks;
    uint64_t marks_dropped;
    uint64_t *slot_uses;          /* last_pkmap entries: new mappings made in each slot */
    /* --cache on: the sim's data cache model was on (its counters are in sim.cache_*). */
    int cache_on;
    uint64_t stale_cache;         /* HM_EV_STALE_CACHE events (= sim.stale_cache_reads) */
    uint64_t ev_cache_flush_page; /* HM_EV_CACHE_FLUSH_PAGE events: the arch's flush_cache_page */
    uint64_t dma_flushes;         /* bounce, --cache on: the flush_cache_page calls the workload
                                     made on its bounce buffers before each DMA (the driver's
                                     DMA mapping); sim.cache_page_flushes is both together */
};

/* Fill in the defaults of o for the machine cfg (threads, ops, working set, queue, zipf s,
 * watchdog: see watchdog_set) into out. Returns 0, or -1 with a one-line reason in err when
 * the options do not fit (e.g. a working set larger than the arch's highmem, bounce with
 * more threads than CPUs, hold-many with a working set too small for its holders, trace
 * without a trace). */
int kmapsim_run_resolve(const struct hm_config *cfg, const struct kmapsim_run_opts *o,
                        struct kmapsim_run_opts *out, char *err, size_t errlen);

/* Run one workload on a fresh machine built from cfg (arch set; cfg->nr_cpus as wanted).
 * Pre: o already resolved (kmapsim_run_resolve) for this cfg. Blocks until every thread is
 * done; if the watchdog fires first it prints a message on standard error, with o->json the
 * JSON document (o->prior, then this run as far as it got, failure "watchdog") on standard
 * output, and ends the process with exit status 1 (a hung kmap cannot be cancelled).
 * Post: *r filled (free with kmapsim_run_result_free). Returns 0, or -1 with a message in
 * err when the machine could not be built or memory ran out (r is then empty). */
int kmapsim_run_one(const struct hm_config *cfg, const struct kmapsim_run_opts *o,
                    struct kmapsim_run_result *r, char *err, size_t errlen);

/* Release the recording of a result (NULL-safe); leaves it zeroed. */
void kmapsim_run_result_free(struct kmapsim_run_result *r);

/* Whether a run failed its own checks: its watchdog fired, a stale translation, a stale cache
 * read (--cache on), a wrong byte, broken invariants, or (built-in workloads only) a library call
 * that failed. */
int kmapsim_run_failed(const struct kmapsim_run_result *r);
/* Why: the first enum kmapsim_run_failure that applies (in the order of kmapsim_run_failed's
 * list), KMAPSIM_FAIL_NONE for a run that did not fail. */
int kmapsim_run_failure(const struct kmapsim_run_result *r);
/* The JSON name of a failure kind ("stale_translation", ...); NULL for NONE or a bad value. */
const char *kmapsim_run_failure_name(int kind);
/* What failed, in one line ("stale translations detected (3)", "invariants broken after the
 * run: I3: ...", ...); "" for a run that did not fail. */
void kmapsim_run_failure_message(const struct kmapsim_run_result *r, char *dst, size_t len);

/* The report: one table with a column per result (aligned name/value columns). */
void kmapsim_run_print_table(FILE *out, const struct kmapsim_run_result *rs, size_t n);
/* The report as one JSON document (schema in docs/usage.md), newline-terminated. */
void kmapsim_run_print_json(FILE *out, const struct kmapsim_run_opts *o,
                            const struct kmapsim_run_result *rs, size_t n);
/* Draw the recorded runs as one SVG document into f, opened for writing before the run (so a
 * path that cannot be written fails before anything runs); path names it in messages. f is
 * flushed, not closed: the caller closes it (and checks fclose). Returns 0, or -1 (message
 * on stderr). */
int kmapsim_run_write_svg(FILE *f, const char *path, const struct kmapsim_run_result *rs,
                          size_t n);

#endif /* KMAPSIM_RUN_H */
