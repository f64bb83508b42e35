/* exec.c - the trace interpreter (exec.h): argument checks the library cannot make (numbers
 * wider than its types, names of nothing), then one library or sim call per command.
 * SPDX-License-Identifier: MIT */
#include "exec.h"

#include <stdlib.h>
#include <string.h>

int harness_exec_init(struct harness_exec *x, struct harness_machine *m, int may_sleep)
{
    memset(x, 0, sizeof *x);
    x->m = m;
    x->may_sleep = may_sleep;
    x->nr_types = m->layout.nr_km_types;
    x->nslots = (size_t)m->layout.nr_cpus * x->nr_types;
    x->valid = calloc(x->nslots ? x->nslots : 1, 1);
    x->vaddr = calloc(x->nslots ? x->nslots : 1, sizeof *x->vaddr);
    if (!x->valid || !x->vaddr) {
        harness_exec_free(x);
        return -1;
    }
    return 0;
}

void harness_exec_free(struct harness_exec *x)
{
    free(x->valid);
    free(x->vaddr);
    memset(x, 0, sizeof *x);
}

long harness_resolve_type(const struct hm_layout *l, const struct trace_type *t)
{
    uint32_t i;
    if (!t->is_name)
        return t->index < l->nr_km_types ? (long)t->index : -1;
    if (t->name_len > TRACE_NAME_MAX)
        return -1;
    for (i = 0; i < l->nr_km_types; i++)
        if (l->km_types && l->km_types[i] && strcmp(l->km_types[i], t->name) == 0)
            return (long)i;
    return -1;
}

/* An argument the interpreter rejects itself, before any library call (it cannot be passed,
 * or names nothing): the command fails with err, reported with the matching bug name like
 * the library's own checks. */
static void reject(struct harness_result *r, int err, int bug)
{
    r->err = err;
    r->bug = bug;
}

static void exec_atomic(struct harness_exec *x, const struct trace_cmd *c, long type,
                        struct harness_result *r)
{
    struct hm_ctx *ctx = x->m->ctx;
    const uint64_t *a = c->arg;
    size_t k = (size_t)a[0] * x->nr_types + (size_t)type;
    hm_vaddr_t v;

    if (c->op != KOP_KUNMAP_ATOMIC) {
        if (a[1] > UINT32_MAX) {
            reject(r, HM_ERANGE, HM_BUG_PFN_RANGE);
            return;
        }
        if (c->op == KOP_KMAP_ATOMIC)
            r->err = hm_kmap_atomic(ctx, (uint32_t)a[0], (hm_pfn_t)a[1], (unsigned)type, &r->vaddr);
        else
            r->err = hm_kmap_atomic_pfn(ctx, (uint32_t)a[0], (hm_pfn_t)a[1], (unsigned)type,
                                        &r->vaddr);
        if (r->err == HM_OK) {
            r->has_vaddr = 1;
            x->valid[k] = 1;
            x->vaddr[k] = r->vaddr;
        }
        return;
    }
    if (c->nargs >= 2) {
        v = a[1]; /* any 64-bit number: the library refuses one outside the machine's space */
    } else {
        if (!x->valid[k]) {
            reject(r, HM_EINVAL, HM_BUG_ATOMIC_UNBALANCED);
            return;
        }
        v = x->vaddr[k];
    }
    r->err = hm_kunmap_atomic(ctx, (uint32_t)a[0], v, (unsigned)type);
}

static void exec_sim(struct harness_exec *x, const struct trace_cmd *c, struct harness_result *r)
{
    const struct hm_layout *l = &x->m->layout;
    const uint64_t *a = c->arg;
    uint8_t byte = 0;

    if (c->op == KOP_INJECT) {
        /* Nothing happens now (no events); later TLB flushes still produce their events but
         * may leave the TLBs as they were, later PTE writes may be refused (machine_fail). */
        static const int fault[KINJ__COUNT] = {
            [KINJ_NONE] = HM_SIM_FAULT_NONE,
            [KINJ_DROP_NEXT_FLUSH] = HM_SIM_FAULT_DROP_NEXT_FLUSH,
            [KINJ_DROP_ALL_FLUSHES] = HM_SIM_FAULT_DROP_ALL_FLUSHES,
            [KINJ_FAIL_NEXT_MAP] = HM_SIM_FAULT_FAIL_NEXT_MAP,
            [KINJ_FAIL_ALL_MAPS] = HM_SIM_FAULT_FAIL_ALL_MAPS,
            [KINJ_FAIL_NEXT_CLEAR] = HM_SIM_FAULT_FAIL_NEXT_CLEAR,
            [KINJ_FAIL_ALL_CLEARS] = HM_SIM_FAULT_FAIL_ALL_CLEARS,
        };
        if (a[0] >= KINJ__COUNT) {
            reject(r, HM_EINVAL, HM_BUG_NONE);
            return;
        }
        hm_sim_inject(x->m->sim, fault[a[0]]);
        r->err = HM_OK;
        return;
    }
    /* load CPU VADDR / store CPU VADDR VALUE: the same cpu and address checks */
    if (a[0] >= l->nr_cpus) {
        reject(r, HM_EINVAL, HM_BUG_NONE);
        return;
    }
    /* the address is any 64-bit number: the sim refuses one outside its space (ERANGE) */
    if (c->op == KOP_STORE) {
        if (a[2] > 255) {
            reject(r, HM_EINVAL, HM_BUG_NONE);
            return;
        }
        r->err = hm_sim_store(x->m->sim, (uint32_t)a[0], a[1], (uint8_t)a[2]);
        return;
    }
    r->err = hm_sim_load(x->m->sim, (uint32_t)a[0], a[1], &byte);
    if (r->err == HM_OK) {
        r->has_value = 1;
        r->value = byte;
    }
}

/* kmap_local CPU PFN, kunmap_local CPU VADDR, switch CPU TASK: a CPU or TASK wider than 32 bits
 * names none (the library's own BAD_ARG), a PFN wider than hm_pfn_t is out of range, a VADDR is
 * any 64-bit number (the library refuses one outside the machine's space). */
static void exec_local(struct harness_exec *x, const struct trace_cmd *c, struct harness_result *r)
{
    struct hm_ctx *ctx = x->m->ctx;
    const uint64_t *a = c->arg;

    if (a[0] > UINT32_MAX || (c->op == KOP_SWITCH && a[1] > UINT32_MAX)) {
        reject(r, HM_EINVAL, HM_BUG_BAD_ARG);
        return;
    }
    if (c->op == KOP_KMAP_LOCAL) {
        if (a[1] > UINT32_MAX) {
            reject(r, HM_ERANGE, HM_BUG_PFN_RANGE);
            return;
        }
        r->err = hm_kmap_local_page(ctx, (uint32_t)a[0], (hm_pfn_t)a[1], &r->vaddr);
        r->has_vaddr = r->err == HM_OK;
    } else if (c->op == KOP_KUNMAP_LOCAL) {
        r->err = hm_kunmap_local(ctx, (uint32_t)a[0], a[1]);
    } else {
        r->err = hm_switch(ctx, (uint32_t)a[0], (uint32_t)a[1]);
    }
}

void harness_exec(struct harness_exec *x, const struct trace_cmd *c, struct harness_result *r)
{
    struct hm_ctx *ctx = x->m->ctx;
    const uint64_t *a = c->arg;
    long type;

    memset(r, 0, sizeof *r);
    switch (c->op) {
    case KOP_KMAP:
    case KOP_KUNMAP:
    case KOP_PAGE_ADDRESS:
    case KOP_KMAP_HIGH_GET:
        if (a[0] > UINT32_MAX) { /* wider than hm_pfn_t */
            reject(r, HM_ERANGE, HM_BUG_PFN_RANGE);
            return;
        }
        break;
    case KOP_KMAP_TO_PAGE:
    case KOP_KMAP_ATOMIC_TO_PAGE: /* an address: the library checks it against its space */
        break;
    case KOP_KMAP_ATOMIC:
    case KOP_KMAP_ATOMIC_PFN:
    case KOP_KUNMAP_ATOMIC:
        type = harness_resolve_type(&x->m->layout, &c->type);
        if (a[0] >= x->m->layout.nr_cpus || type < 0) {
            reject(r, HM_EINVAL, HM_BUG_BAD_ARG);
            return;
        }
        exec_atomic(x, c, type, r);
        goto done;
    case KOP_LOAD:
    case KOP_STORE:
    case KOP_INJECT:
        exec_sim(x, c, r);
        return;
    case KOP_FLUSH:
        break;
    case KOP_KMAP_LOCAL:
    case KOP_KUNMAP_LOCAL:
    case KOP_SWITCH:
        exec_local(x, c, r);
        goto done;
    default: {
        reject(r, HM_EINVAL, HM_BUG_BAD_ARG);
        return;
    }
    }

    switch (c->op) {
    case KOP_KMAP:
        r->err = x->may_sleep ? hm_kmap(ctx, (hm_pfn_t)a[0], &r->vaddr)
                              : hm_kmap_try(ctx, (hm_pfn_t)a[0], &r->vaddr);
        r->has_vaddr = r->err == HM_OK;
        break;
    case KOP_KUNMAP:
        r->err = hm_kunmap(ctx, (hm_pfn_t)a[0]);
        break;
    case KOP_FLUSH:
        r->err = hm_kmap_flush_unused(ctx);
        break;
    case KOP_PAGE_ADDRESS:
        r->err = hm_page_address(ctx, (hm_pfn_t)a[0], &r->vaddr);
        r->has_vaddr = r->err == HM_OK;
        break;
    case KOP_KMAP_TO_PAGE:
        r->err = hm_kmap_to_page(ctx, a[0], &r->pfn);
        r->has_pfn = r->err == HM_OK;
        break;
    case KOP_KMAP_HIGH_GET: /* a page that is not kmapped: ok, no vaddr (the contract) */
        r->err = hm_kmap_high_get(ctx, (hm_pfn_t)a[0], &r->vaddr);
        r->has_vaddr = r->err == HM_OK && r->vaddr != 0;
        break;
    default: /* KOP_KMAP_ATOMIC_TO_PAGE */
        r->err = hm_kmap_atomic_to_page(ctx, a[0], &r->pfn);
        r->has_pfn = r->err == HM_OK;
        break;
    }
done:
    if (x->m->hooks.capture && r->bug == HM_BUG_NONE)
        r->bug = x->m->bug;
}
