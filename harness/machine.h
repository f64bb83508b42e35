/* machine.h - open and close one simulated machine from a config: layout, sim, context
 * storage, hooks, and a capture of what each command causes. Every driver of a simulated
 * machine (kmapsim, the fuzzers, the tests) opens it here. SPDX-License-Identifier: MIT */
#ifndef HARNESS_MACHINE_H
#define HARNESS_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "highmem.h"
#include "sim/sim.h"

/* What the opener adds to the machine. Every field may be zero. */
struct harness_hooks {
    hm_event_fn on_event; /* every library event and every sim event (HM_EV_STALE_TLB) */
    void *event_cookie;
    hm_bug_fn on_bug;     /* every BUG report */
    void *bug_cookie;
    /* Called with the sim's hooks before hm_ctx_init: may wrap or replace some of them (a
     * test's checking machine, a fuzzer's no-sleep machine). */
    void (*adapt)(void *cookie, struct hm_machine *hw);
    void *adapt_cookie;
    int capture;          /* keep the events of the current command (harness_machine_begin) */
    int cache;            /* the sim's data cache model (enum harness_cache) */
};

/* Whether harness_machine_open turns the sim's cache model on (hm_sim_set_cache). */
enum harness_cache {
    HARNESS_CACHE_DEFAULT = 0, /* off: the examples, corpora and the fuzz model were recorded
                                * without a cache (docs/arches.md, "Data caches") */
    HARNESS_CACHE_OFF = 1,
    HARNESS_CACHE_ON = 2
};


/* One machine. Zero it before its first open; after that it may be opened again (the sim's
 * and the context's allocations are reused) until it is closed. */
struct harness_machine {
    struct hm_config cfg;
    struct hm_layout layout;
    struct hm_sim *sim;
    struct hm_machine hw;  /* the hooks the context was given */
    struct hm_ctx *ctx;
    void *ctx_mem;
    size_t ctx_cap;
    struct harness_hooks hooks;
    int cache_on;          /* the sim's cache model is on (hooks.cache == HARNESS_CACHE_ON) */
    /* The capture of the current command (hooks.capture only; reset by harness_machine_begin). */
    struct hm_event *ev;   /* the library's events, in order (stale_tlb not included) */
    size_t nev, evcap;
    unsigned long stale_tlb; /* HM_EV_STALE_TLB events */
    unsigned long stale_cache; /* HM_EV_STALE_CACHE events (the cache model only) */
    int bug;               /* the last enum hm_bug reported, HM_BUG_NONE if none */
    int oom;               /* an event could not be stored */
};

/* Open m (zeroed, or opened before) for cfg with hooks (may be NULL). The machine is fresh:
 * zero-filled memory, every PTE none, empty TLBs and caches, a new context; the sim's cache
 * model is on as hooks->cache says.
 * Returns 0, or -1 with a one-line reason in err (invalid configuration, out of memory,
 * hm_ctx_init refused); m may then be opened again or closed. */
int harness_machine_open(struct harness_machine *m, const struct hm_config *cfg,
                         const struct harness_hooks *hooks, char *err, size_t errlen);

/* Release everything; m is zeroed (safe on a zeroed or failed machine). */
void harness_machine_close(struct harness_machine *m);

/* Start the capture of a new command. */
void harness_machine_begin(struct harness_machine *m);

/* Whether this build of the library runs HM_LOCKING_FAST when asked (lock-free 64-bit atomics,
 * HM_FAST_KMAP in core/hm_atomic.h). Only then may the inspection calls run beside kmaps
 * without kmap_lock (include/highmem.h); a core without it (ppc32) needs the lock around them. */
int harness_fast_locking_built(void);

#endif /* HARNESS_MACHINE_H */
