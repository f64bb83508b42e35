/* exec.h - the one interpreter of the trace language: a command -> the library or sim call
 * -> its result. It keeps only what the language itself defines (the address each
 * kmap_atomic slot last returned); workloads keep their own state. SPDX-License-Identifier: MIT */
#ifndef HARNESS_EXEC_H
#define HARNESS_EXEC_H

#include "machine.h"
#include "trace.h"

/* The result of one command. */
struct harness_result {
    int err;                 /* enum hm_err */
    int bug;                 /* enum hm_bug: an argument the interpreter refused itself, or
                                (capture on) the last BUG the library reported */
    int has_vaddr, has_value, has_pfn;
    hm_vaddr_t vaddr;        /* kmap, kmap_atomic(_pfn), page_address */
    unsigned value;          /* load */
    hm_pfn_t pfn;            /* kmap_to_page, kmap_atomic_to_page */
};

struct harness_exec {
    struct harness_machine *m;
    int may_sleep;           /* kmap sleeps when the window is full (else EAGAIN, as replay) */
    uint32_t nr_types;
    size_t nslots;           /* nr_cpus x nr_types */
    unsigned char *valid;    /* [nslots]: a kmap_atomic of that (cpu, type) succeeded */
    hm_vaddr_t *vaddr;       /* [nslots]: what it returned */
};

/* Start interpreting on an open machine. Returns 0, or -1 when out of memory. */
int harness_exec_init(struct harness_exec *x, struct harness_machine *m, int may_sleep);
void harness_exec_free(struct harness_exec *x);

/* Execute one command and fill *r. Thread-safe for different harness_exec on one machine
 * when capture is off. */
void harness_exec(struct harness_exec *x, const struct trace_cmd *c, struct harness_result *r);

/* A TYPE argument (a km_type name or index) as an index of l->km_types; -1 when the layout
 * has no such type. */
long harness_resolve_type(const struct hm_layout *l, const struct trace_type *t);

#endif /* HARNESS_EXEC_H */
