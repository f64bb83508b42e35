/* kmapsim.h - internal interfaces of the kmapsim tool: the simulated machine it drives, the
 * replay and layout subcommands (called by main.c after option parsing).
 * SPDX-License-Identifier: MIT */
#ifndef KMAPSIM_H
#define KMAPSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "highmem.h"
#include "sim/sim.h"
#include "trace.h"

#define KMAPSIM_EV_LEN 64 /* longest event string: "tlb_flush_range 0xffffffff 0x100000000" */

/* One simulated machine: layout, sim, library context, and what the current command caused. */
struct kmapsim_machine {
    struct hm_config cfg;
    struct hm_layout layout;
    struct hm_sim *sim;
    void *ctx_mem;
    struct hm_ctx *ctx;
    /* Capture of the current command (reset by kmapsim_machine_begin). */
    char (*ev)[KMAPSIM_EV_LEN]; /* rendered event strings */
    size_t nev, evcap;
    unsigned long stale_tlb;    /* HM_EV_STALE_TLB events seen */
    int bug;                    /* last enum hm_bug reported, HM_BUG_NONE if none */
    int oom;                    /* an event could not be stored */
};

/* The config of one arch from the machine options in opts (opts->arch is ignored):
 * LAST_PKMAP overrides are dropped for arches without highmem. */
void kmapsim_config_for(const struct hm_config *opts, const struct hm_arch *arch,
                        struct hm_config *out);

/* Compute cfg's layout into out. Returns 0, or -1 with a one-line reason in msg saying which
 * option does not fit the arch's layout, e.g. "--pkmap-entries 4096 does not fit the ppc
 * layout: ...". */
int kmapsim_config_check(const struct hm_config *cfg, struct hm_layout *out, char *msg,
                         size_t len);

/* Build a fresh machine for cfg. Returns 0, or -1 with a message in err. */
int kmapsim_machine_init(struct kmapsim_machine *m, const struct hm_config *cfg, char *err,
                         size_t errlen);
/* Release everything (safe on a zeroed or half-built machine). */
void kmapsim_machine_free(struct kmapsim_machine *m);
/* Start capturing the events of a new command. */
void kmapsim_machine_begin(struct kmapsim_machine *m);

/* Render one library/sim event as its trace string into dst; returns 0 when the event kind
 * is not one that goes into `events` (sleep, wakeup, bug, stale_tlb, flush_done). */
int kmapsim_render_event(const struct hm_event *ev, char *dst, size_t dstlen);

/* A trace command's TYPE argument (a km_type name or index) as an index of l->km_types;
 * -1 when the layout has no such type. */
long kmapsim_resolve_type(const struct hm_layout *l, const struct kmapsim_type *t);

/* Output formats of replay. */
enum { KMAPSIM_FMT_TEXT = 0, KMAPSIM_FMT_JSONL = 1 };

/* Run a parsed trace on a fresh machine, printing to out. Returns the exit status:
 * 0 every command succeeded, 1 some failed, 2 the machine could not be built. */
int kmapsim_replay(const struct hm_config *cfg, const struct kmapsim_trace *t, int format,
                   FILE *out);

/* Print the layout of cfg (JSON object or the boot-log table). Returns the exit status:
 * 0, or 2 (message on standard error) when the config does not fit the arch. */
int kmapsim_layout(const struct hm_config *cfg, int json, FILE *out);

/* Print every built-in arch (hm_arch_at order) with the machine options of opts: one
 * comparison table, or (json) a JSON array of the per-arch objects. An arch the options do
 * not fit shows "invalid config" (JSON: {"arch", "error", "message"}). Returns 0, or 2 when
 * the output could not be written. */
int kmapsim_layout_all(const struct hm_config *opts, int json, FILE *out);

#endif /* KMAPSIM_H */
