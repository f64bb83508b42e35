/* replay.c - kmapsim's machine setup and `replay` subcommand: executes a parsed trace on a
 * fresh simulated machine and prints one line (text or JSON) per command.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "kmapsim.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "highmem_arch.h"
#include "json.h"

/* ------------------------------------------------------------------------------------- */
/* Event capture                                                                          */
/* ------------------------------------------------------------------------------------- */

int kmapsim_render_event(const struct hm_event *ev, char *dst, size_t dstlen)
{
    switch (ev->kind) {
    case HM_EV_PTE_SET:
        snprintf(dst, dstlen, "pte_set 0x%" PRIx32 " %" PRIu32, ev->a, ev->b);
        return 1;
    case HM_EV_PTE_CLEAR:
        snprintf(dst, dstlen, "pte_clear 0x%" PRIx32, ev->a);
        return 1;
    case HM_EV_TLB_FLUSH_RANGE: {
        /* The end is exclusive; 0 means the range runs to the top of the 4 GiB space. */
        uint64_t end = ev->b ? (uint64_t)ev->b : UINT64_C(0x100000000);
        snprintf(dst, dstlen, "tlb_flush_range 0x%" PRIx32 " 0x%" PRIx64, ev->a, end);
        return 1;
    }
    case HM_EV_TLB_FLUSH_PAGE:
        snprintf(dst, dstlen, "tlb_flush_page 0x%" PRIx32, ev->a);
        return 1;
    case HM_EV_TLB_FLUSH_ALL:
        snprintf(dst, dstlen, "tlb_flush_all");
        return 1;
    case HM_EV_CACHE_FLUSH_ALL:
        snprintf(dst, dstlen, "cache_flush_all");
        return 1;
    case HM_EV_FLUSH_ALL_ZERO_PKMAPS:
        snprintf(dst, dstlen, "flush_all_zero_pkmaps");
        return 1;
    default:
        return 0;
    }
}

static void on_event(void *cookie, const struct hm_event *ev)
{
    struct kmapsim_machine *m = cookie;
    if (ev->kind == HM_EV_STALE_TLB) {
        m->stale_tlb++;
        return;
    }
    if (m->nev == m->evcap) {
        size_t ncap = m->evcap ? m->evcap * 2 : 16;
        char(*nev)[KMAPSIM_EV_LEN] = realloc(m->ev, ncap * sizeof *nev);
        if (!nev) {
            m->oom = 1;
            return;
        }
        m->ev = nev;
        m->evcap = ncap;
    }
    if (kmapsim_render_event(ev, m->ev[m->nev], KMAPSIM_EV_LEN))
        m->nev++;
}

static void on_bug(void *cookie, const struct hm_bug_report *r)
{
    struct kmapsim_machine *m = cookie;
    m->bug = r->bug;
}

void kmapsim_machine_begin(struct kmapsim_machine *m)
{
    m->nev = 0;
    m->stale_tlb = 0;
    m->bug = HM_BUG_NONE;
}

/* ------------------------------------------------------------------------------------- */
/* Machine setup                                                                          */
/* ------------------------------------------------------------------------------------- */

int kmapsim_machine_init(struct kmapsim_machine *m, const struct hm_config *cfg, char *err,
                         size_t errlen)
{
    struct hm_machine machine;
    struct hm_hooks hooks;
    size_t size, align;
    int rc;

    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    rc = hm_layout_compute(&m->cfg, &m->layout);
    if (rc != HM_OK) {
        snprintf(err, errlen, "invalid machine configuration (%s)", hm_strerror(rc));
        return -1;
    }
    m->sim = hm_sim_new(&m->layout, m->cfg.arch, on_event, m);
    if (!m->sim) {
        snprintf(err, errlen, "cannot create the simulated machine");
        return -1;
    }
    hm_sim_machine(m->sim, &machine);

    size = hm_ctx_size(&m->cfg);
    align = hm_ctx_align();
    if (size == 0) {
        snprintf(err, errlen, "invalid machine configuration (context size 0)");
        kmapsim_machine_free(m);
        return -1;
    }
    if (align < sizeof(void *))
        align = sizeof(void *);
    if ((align & (align - 1)) != 0 || posix_memalign(&m->ctx_mem, align, size) != 0) {
        m->ctx_mem = NULL;
        snprintf(err, errlen, "cannot allocate the context (%zu bytes, alignment %zu)", size,
                 align);
        kmapsim_machine_free(m);
        return -1;
    }
    memset(m->ctx_mem, 0, size);
    memset(&hooks, 0, sizeof hooks);
    hooks.on_bug = on_bug;
    hooks.bug_cookie = m;
    hooks.on_event = on_event;
    hooks.event_cookie = m;
    rc = hm_ctx_init(m->ctx_mem, size, &m->cfg, &machine, &hooks, &m->ctx);
    if (rc != HM_OK) {
        snprintf(err, errlen, "cannot initialise the context (%s)", hm_strerror(rc));
        kmapsim_machine_free(m);
        return -1;
    }
    return 0;
}

void kmapsim_machine_free(struct kmapsim_machine *m)
{
    /* The context lives in ctx_mem and owns nothing else. */
    free(m->ctx_mem);
    m->ctx_mem = NULL;
    m->ctx = NULL;
    if (m->sim)
        hm_sim_free(m->sim);
    m->sim = NULL;
    free(m->ev);
    m->ev = NULL;
    m->nev = m->evcap = 0;
}

/* ------------------------------------------------------------------------------------- */
/* Execution                                                                              */
/* ------------------------------------------------------------------------------------- */

struct result {
    int err;                 /* enum hm_err */
    int has_vaddr, has_value, has_pfn;
    hm_vaddr_t vaddr;
    unsigned value;
    hm_pfn_t pfn;
};

/* Remembered kmap_atomic addresses, per (cpu, type). */
struct slots {
    uint32_t nr_types;
    unsigned char *valid;
    hm_vaddr_t *vaddr;
};

long kmapsim_resolve_type(const struct hm_layout *l, const struct kmapsim_type *t)
{
    uint32_t i;
    if (!t->is_name)
        return t->index < l->nr_km_types ? (long)t->index : -1;
    for (i = 0; i < l->nr_km_types; i++)
        if (l->km_types && l->km_types[i] && strcmp(l->km_types[i], t->name) == 0)
            return (long)i;
    return -1;
}

/* An argument the tool rejects itself, before any library call (it cannot be passed, or names
 * nothing): the command fails with err, reported with the matching bug name like the library's
 * own checks. */
static void reject(struct kmapsim_machine *m, struct result *r, int err, int bug)
{
    r->err = err;
    m->bug = bug;
}

static void exec_cmd(struct kmapsim_machine *m, struct slots *sl, const struct kmapsim_cmd *c,
                     struct result *r)
{
    const struct hm_layout *l = &m->layout;
    const uint64_t *a = c->arg;
    long type = -1;
    uint8_t byte = 0;

    memset(r, 0, sizeof *r);
    switch (c->op) {
    case KOP_KMAP:
        if (a[0] > UINT32_MAX) {
            reject(m, r, HM_ERANGE, HM_BUG_PFN_RANGE);
            return;
        }
        r->err = hm_kmap_try(m->ctx, (hm_pfn_t)a[0], &r->vaddr);
        r->has_vaddr = r->err == HM_OK;
        return;
    case KOP_KUNMAP:
        if (a[0] > UINT32_MAX) {
            reject(m, r, HM_ERANGE, HM_BUG_PFN_RANGE);
            return;
        }
        r->err = hm_kunmap(m->ctx, (hm_pfn_t)a[0]);
        return;
    case KOP_FLUSH:
        r->err = hm_kmap_flush_unused(m->ctx);
        return;
    case KOP_KMAP_ATOMIC:
    case KOP_KMAP_ATOMIC_PFN:
        type = kmapsim_resolve_type(l, &c->type);
        if (a[0] >= l->nr_cpus || type < 0) {
            reject(m, r, HM_EINVAL, HM_BUG_BAD_ARG);
            return;
        }
        if (a[1] > UINT32_MAX) {
            reject(m, r, HM_ERANGE, HM_BUG_PFN_RANGE);
            return;
        }
        if (c->op == KOP_KMAP_ATOMIC)
            r->err = hm_kmap_atomic(m->ctx, (uint32_t)a[0], (hm_pfn_t)a[1], (unsigned)type,
                                    &r->vaddr);
        else
            r->err = hm_kmap_atomic_pfn(m->ctx, (uint32_t)a[0], (hm_pfn_t)a[1], (unsigned)type,
                                        &r->vaddr);
        if (r->err == HM_OK) {
            size_t k = (size_t)a[0] * sl->nr_types + (size_t)type;
            r->has_vaddr = 1;
            sl->valid[k] = 1;
            sl->vaddr[k] = r->vaddr;
        }
        return;
    case KOP_KUNMAP_ATOMIC: {
        hm_vaddr_t v;
        type = kmapsim_resolve_type(l, &c->type);
        if (a[0] >= l->nr_cpus || type < 0) {
            reject(m, r, HM_EINVAL, HM_BUG_BAD_ARG);
            return;
        }
        if (c->nargs >= 2) {
            if (a[1] > UINT32_MAX) {
                reject(m, r, HM_ERANGE, HM_BUG_BAD_ADDR);
                return;
            }
            v = (hm_vaddr_t)a[1];
        } else {
            size_t k = (size_t)a[0] * sl->nr_types + (size_t)type;
            if (!sl->valid[k]) {
                reject(m, r, HM_EINVAL, HM_BUG_ATOMIC_UNBALANCED);
                return;
            }
            v = sl->vaddr[k];
        }
        r->err = hm_kunmap_atomic(m->ctx, (uint32_t)a[0], v, (unsigned)type);
        return;
    }
    case KOP_LOAD:
    case KOP_STORE:
        /* load CPU VADDR / store CPU VADDR VALUE: the same cpu and address checks */
        if (a[0] >= l->nr_cpus) {
            reject(m, r, HM_EINVAL, HM_BUG_NONE);
            return;
        }
        if (a[1] > UINT32_MAX) {
            reject(m, r, HM_ERANGE, HM_BUG_NONE);
            return;
        }
        if (c->op == KOP_STORE) {
            if (a[2] > 255) {
                reject(m, r, HM_EINVAL, HM_BUG_NONE);
                return;
            }
            r->err = hm_sim_store(m->sim, (uint32_t)a[0], (hm_vaddr_t)a[1], (uint8_t)a[2]);
            return;
        }
        r->err = hm_sim_load(m->sim, (uint32_t)a[0], (hm_vaddr_t)a[1], &byte);
        if (r->err == HM_OK) {
            r->has_value = 1;
            r->value = byte;
        }
        return;
    case KOP_KMAP_TO_PAGE:
    case KOP_KMAP_ATOMIC_TO_PAGE:
        if (a[0] > UINT32_MAX) {
            reject(m, r, HM_ERANGE, HM_BUG_BAD_ADDR);
            return;
        }
        if (c->op == KOP_KMAP_TO_PAGE)
            r->err = hm_kmap_to_page(m->ctx, (hm_vaddr_t)a[0], &r->pfn);
        else
            r->err = hm_kmap_atomic_to_page(m->ctx, (hm_vaddr_t)a[0], &r->pfn);
        r->has_pfn = r->err == HM_OK;
        return;
    case KOP_PAGE_ADDRESS:
        if (a[0] > UINT32_MAX) {
            reject(m, r, HM_ERANGE, HM_BUG_PFN_RANGE);
            return;
        }
        r->err = hm_page_address(m->ctx, (hm_pfn_t)a[0], &r->vaddr);
        r->has_vaddr = r->err == HM_OK;
        return;
    case KOP_INJECT: {
        /* Fault injection into the simulated MMU: nothing happens now (no events); later TLB
         * flushes still produce their events but may leave the TLBs as they were. */
        static const int fault[KINJ__COUNT] = {
            [KINJ_NONE] = HM_SIM_FAULT_NONE,
            [KINJ_DROP_NEXT_FLUSH] = HM_SIM_FAULT_DROP_NEXT_FLUSH,
            [KINJ_DROP_ALL_FLUSHES] = HM_SIM_FAULT_DROP_ALL_FLUSHES,
        };
        if (a[0] >= KINJ__COUNT) {
            reject(m, r, HM_EINVAL, HM_BUG_NONE);
            return;
        }
        hm_sim_inject(m->sim, fault[a[0]]);
        r->err = HM_OK;
        return;
    }
    default:
        reject(m, r, HM_EINVAL, HM_BUG_BAD_ARG);
        return;
    }
}

/* ------------------------------------------------------------------------------------- */
/* Output                                                                                 */
/* ------------------------------------------------------------------------------------- */

static void emit_jsonl(struct kbuf *b, const struct kmapsim_machine *m,
                       const struct kmapsim_cmd *c, const struct result *r)
{
    size_t i;
    kbuf_printf(b, "{\"op\":\"%s\",\"ok\":%s", kmapsim_op_name(c->op),
                r->err == HM_OK ? "true" : "false");
    if (r->err != HM_OK) {
        kbuf_add(b, ",\"error\":", 9);
        kbuf_json_str(b, hm_strerror(r->err));
    } else {
        if (r->has_vaddr)
            kbuf_printf(b, ",\"vaddr\":\"0x%" PRIx32 "\"", r->vaddr);
        if (r->has_value)
            kbuf_printf(b, ",\"value\":%u", r->value);
        if (r->has_pfn)
            kbuf_printf(b, ",\"pfn\":%" PRIu32, r->pfn);
    }
    kbuf_add(b, ",\"events\":[", 11);
    for (i = 0; i < m->nev; i++) {
        if (i)
            kbuf_add(b, ",", 1);
        kbuf_json_str(b, m->ev[i]);
    }
    kbuf_add(b, "]", 1);
    if (m->bug != HM_BUG_NONE) {
        kbuf_add(b, ",\"bug\":", 7);
        kbuf_json_str(b, hm_bug_name(m->bug));
    }
    if (m->stale_tlb)
        kbuf_printf(b, ",\"stale_tlb\":%lu", m->stale_tlb);
    kbuf_add(b, "}\n", 2);
}

/* The command as it would be written back (numbers normalised: pfn/cpu/value decimal,
 * addresses hex). */
static void echo_cmd(struct kbuf *b, const struct kmapsim_cmd *c)
{
    const uint64_t *a = c->arg;
    kbuf_printf(b, "%s", kmapsim_op_name(c->op));
    switch (c->op) {
    case KOP_KMAP:
    case KOP_KUNMAP:
    case KOP_PAGE_ADDRESS:
        kbuf_printf(b, " %" PRIu64, a[0]);
        break;
    case KOP_KMAP_TO_PAGE:
    case KOP_KMAP_ATOMIC_TO_PAGE:
        kbuf_printf(b, " 0x%" PRIx64, a[0]);
        break;
    case KOP_KMAP_ATOMIC:
    case KOP_KMAP_ATOMIC_PFN:
    case KOP_KUNMAP_ATOMIC:
        kbuf_printf(b, " %" PRIu64 " ", a[0]);
        if (c->type.is_name) {
            /* Names may hold any bytes: show only printable ASCII. */
            const unsigned char *s = (const unsigned char *)c->type.name;
            for (; *s; s++)
                kbuf_printf(b, (*s >= 0x20 && *s < 0x7f) ? "%c" : "\\x%02x", *s);
        } else {
            kbuf_printf(b, "%" PRIu64, c->type.index);
        }
        if (c->op == KOP_KUNMAP_ATOMIC) {
            if (c->nargs >= 2)
                kbuf_printf(b, " 0x%" PRIx64, a[1]);
        } else {
            kbuf_printf(b, " %" PRIu64, a[1]);
        }
        break;
    case KOP_LOAD:
        kbuf_printf(b, " %" PRIu64 " 0x%" PRIx64, a[0], a[1]);
        break;
    case KOP_STORE:
        kbuf_printf(b, " %" PRIu64 " 0x%" PRIx64 " %" PRIu64, a[0], a[1], a[2]);
        break;
    case KOP_INJECT:
        kbuf_printf(b, " %s", kmapsim_inject_name((int)a[0]));
        break;
    default:
        break;
    }
}

static void emit_text(struct kbuf *b, const struct kmapsim_machine *m,
                      const struct kmapsim_cmd *c, const struct result *r)
{
    size_t i;
    kbuf_printf(b, "%4lu ", c->line);
    echo_cmd(b, c);
    kbuf_add(b, " -> ", 4);
    if (r->err != HM_OK) {
        kbuf_printf(b, "%s", hm_strerror(r->err));
        if (m->bug != HM_BUG_NONE)
            kbuf_printf(b, " (%s)", hm_bug_name(m->bug));
    } else if (r->has_vaddr) {
        kbuf_printf(b, "0x%" PRIx32, r->vaddr);
    } else if (r->has_value) {
        kbuf_printf(b, "%u", r->value);
    } else if (r->has_pfn) {
        kbuf_printf(b, "pfn %" PRIu32, r->pfn);
    } else {
        kbuf_add(b, "ok", 2);
    }
    if (r->err == HM_OK && m->bug != HM_BUG_NONE)
        kbuf_printf(b, " (bug %s)", hm_bug_name(m->bug));
    if (m->nev) {
        kbuf_add(b, "  [", 3);
        for (i = 0; i < m->nev; i++) {
            if (i)
                kbuf_add(b, ", ", 2);
            kbuf_printf(b, "%s", m->ev[i]);
        }
        kbuf_add(b, "]", 1);
    }
    if (m->stale_tlb)
        kbuf_printf(b, "  stale_tlb=%lu", m->stale_tlb);
    kbuf_add(b, "\n", 1);
}

int kmapsim_replay(const struct hm_config *cfg, const struct kmapsim_trace *t, int format,
                   FILE *out)
{
    struct kmapsim_machine m;
    struct slots sl;
    struct kbuf line = {0};
    char err[256];
    size_t i, nslots;
    int status = 0;

    if (kmapsim_machine_init(&m, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "kmapsim: %s\n", err);
        return 2;
    }
    sl.nr_types = m.layout.nr_km_types;
    nslots = (size_t)m.layout.nr_cpus * sl.nr_types;
    sl.valid = calloc(nslots ? nslots : 1, 1);
    sl.vaddr = calloc(nslots ? nslots : 1, sizeof *sl.vaddr);
    if (!sl.valid || !sl.vaddr) {
        fputs("kmapsim: out of memory\n", stderr);
        free(sl.valid);
        free(sl.vaddr);
        kmapsim_machine_free(&m);
        return 2;
    }

    for (i = 0; i < t->n; i++) {
        struct result r;
        kmapsim_machine_begin(&m);
        exec_cmd(&m, &sl, &t->cmds[i], &r);
        if (m.oom) {
            fputs("kmapsim: out of memory while recording events\n", stderr);
            status = 2;
            break;
        }
        if (r.err != HM_OK)
            status = 1;
        kbuf_reset(&line);
        if (format == KMAPSIM_FMT_JSONL)
            emit_jsonl(&line, &m, &t->cmds[i], &r);
        else
            emit_text(&line, &m, &t->cmds[i], &r);
        fwrite(line.p, 1, line.n, out);
    }
    if (fflush(out) != 0 && status != 2) {
        fputs("kmapsim: error writing the output\n", stderr);
        status = 2;
    }
    kbuf_free(&line);
    free(sl.valid);
    free(sl.vaddr);
    kmapsim_machine_free(&m);
    return status;
}
