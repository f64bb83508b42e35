/* kmap_ops.c - the main fuzz target (LLVMFuzzerTestOneInput): decodes a machine and up to 256
 * kmap-family ops, runs them on libhighmem + sim and on model.c, aborts with a trace on any difference.
 * SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strnlen */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/kmap_ops.h"
#include "fuzz/model.h"
#include "highmem.h"
#include "highmem_arch.h" /* struct hm_arch: broken descriptors for the config probe */
#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECENT 8u

static const char *const op_names[KOP__COUNT] = {
    "kmap", "kunmap", "flush", "kmap_atomic", "kunmap_atomic", "kmap_atomic_pfn",
    "load", "store", "kmap_to_page", "kmap_atomic_to_page", "page_address", "irq", "probe", "config", "poke"};

/* One decoded operation and what the library did. */
struct op_rec {
    int op;
    uint32_t cpu, type, pfn, vaddr;
    uint64_t pte; /* KOP_POKE: the word written */
    uint8_t value;
    int err, bug;
    uint32_t val;
};

/* Everything one input needs; reset per input up to `ev`. */
struct run {
    struct hm_config cfg;
    struct hm_layout L;
    struct hm_sim *sim;
    void *mem;
    struct hm_ctx *ctx;
    int model_ok;
    uint32_t S, ncpus, ntypes;
    /* what the hooks saw during the current operation (events in ev[], below) */
    uint32_t nev, capev;
    int ev_overflow;
    uint32_t nbugs;
    int bug, bug_err;
    uint32_t all_bugs, bugs_by_kind[HM_BUG__COUNT]; /* every bug report of the input */
    uint32_t stale_events;         /* stale-translation events of the current operation */
    uint32_t exp_stale_hits, exp_stale_writes; /* the model's stale counts since the set-up */
    struct hm_sim_stats st;        /* the sim's counters at the set-up */
    /* decoder state: recently returned addresses, the last kmap_atomic address of each slot */
    uint32_t recent[RECENT];
    uint32_t nrecent;
    uint32_t remembered[4u * 16u]; /* [cpu * ntypes + type]: vaddr, 0 = none (4 CPUs, 15 types) */
    uint32_t nlog;
    int verbose;
    uint32_t since_full;           /* ops since the last full check */
    /* not cleared between inputs (written before they are read): */
    struct hm_event ev[HM_MAX_PKMAP + 64u];
    struct op_rec log[KOP_MAX_OPS]; /* the sequence so far */
    /* kept from one input to the next and rebuilt in place (model_init, hm_sim_reset): the
     * allocations are reused, so an input costs no malloc and touches no fresh memory */
    struct model model;
    struct hm_sim *sim_store;
};

static struct run R;

/* ---------------------------------------------------------------------------------------
 * Printing: the machine as kmapsim options, each op in the kmap-trace language
 * (docs/trace-format.md) with its result as a comment.
 * ------------------------------------------------------------------------------------- */
static void print_config(FILE *f, const struct run *r)
{
    fprintf(f, "# kmapsim replay --arch %s --cpus %u", hm_arch_name(r->cfg.arch), r->cfg.nr_cpus);
    if (r->cfg.last_pkmap)
        fprintf(f, " --pkmap-entries %u", r->cfg.last_pkmap);
    if (r->cfg.highmem_pages)
        fprintf(f, " --highmem-pages %u", r->cfg.highmem_pages);
    if (r->cfg.debug_highmem)
        fprintf(f, " --debug-highmem");
    if (r->cfg.need_flush)
        fprintf(f, " --need-flush");
    fprintf(f, " -\n# layout: highmem pfns 0x%x..0x%x (max_pfn 0x%x), PKMAP_BASE 0x%08x, LAST_PKMAP %u,"
               " atomic slot idx 0 at 0x%08x (%s), KM_TYPE_NR %u, %u km_types\n",
            r->L.highmem_start_pfn, r->L.max_pfn ? r->L.max_pfn - 1u : 0, r->L.max_pfn, r->L.pkmap_base,
            r->L.last_pkmap, r->L.kmap_atomic_base, r->L.kmap_atomic_dir > 0 ? "ascending" : "descending",
            r->L.km_type_nr, r->L.nr_km_types);
}

static void print_op(FILE *f, const struct op_rec *o)
{
    const char *name = op_names[o->op];
    switch (o->op) {
    case KOP_KMAP:
    case KOP_KUNMAP:
    case KOP_PAGE_ADDRESS:
        fprintf(f, "%s 0x%x", name, o->pfn);
        break;
    case KOP_FLUSH:
        fprintf(f, "%s", name);
        break;
    case KOP_KMAP_ATOMIC:
    case KOP_KMAP_ATOMIC_PFN:
        fprintf(f, "%s %u %u 0x%x", name, o->cpu, o->type, o->pfn);
        break;
    case KOP_KUNMAP_ATOMIC:
        fprintf(f, "%s %u %u 0x%08x", name, o->cpu, o->type, o->vaddr);
        break;
    case KOP_LOAD:
        fprintf(f, "%s %u 0x%08x", name, o->cpu, o->vaddr);
        break;
    case KOP_STORE:
        fprintf(f, "%s %u 0x%08x %u", name, o->cpu, o->vaddr, o->value);
        break;
    case KOP_POKE:
        fprintf(f, "# poke: the embedder writes PTE 0x%llx (pfn 0x%x) at 0x%08x (not replayable)\n",
                (unsigned long long)o->pte, o->pfn, o->vaddr);
        return;
    case KOP_PROBE:
    case KOP_CONFIG: /* no kmap-trace command either */
        fprintf(f, "# %s %u %u 0x%x    # %s\n", name, o->type, o->value, o->val, hm_strerror(o->err));
        return;
    case KOP_IRQ: /* no kmap-trace command: a comment, so the trace still parses */
        fprintf(f, "# in_interrupt %s (not replayable: later kunmap/sparc kmap results differ)\n",
                o->value ? "on" : "off");
        return;
    default:
        fprintf(f, "%s 0x%08x", name, o->vaddr);
        break;
    }
    fprintf(f, "    # %s", hm_strerror(o->err));
    if (o->bug)
        fprintf(f, " (%s)", hm_bug_name(o->bug));
    if (o->err == HM_OK) {
        switch (o->op) {
        case KOP_KMAP:
        case KOP_KMAP_ATOMIC:
        case KOP_KMAP_ATOMIC_PFN:
        case KOP_PAGE_ADDRESS:
            fprintf(f, " 0x%08x", o->val);
            break;
        case KOP_LOAD:
            fprintf(f, " value %u", o->val);
            break;
        case KOP_KMAP_TO_PAGE:
        case KOP_KMAP_ATOMIC_TO_PAGE:
            fprintf(f, " pfn 0x%x", o->val);
            break;
        default:
            break;
        }
    }
    fputc('\n', f);
}

static void print_event(FILE *f, const char *who, uint32_t i, int kind, uint32_t cpu, uint32_t a,
                        uint32_t b, uint64_t pte)
{
    fprintf(f, "#   %s[%u] %s cpu=%s%u a=0x%x b=0x%x pte=0x%llx\n", who, i, hm_event_name(kind),
            cpu == HM_CPU_ALL ? "all/" : "", cpu == HM_CPU_ALL ? 0u : cpu, a, b, (unsigned long long)pte);
}

/* A disagreement: the machine, the whole sequence so far, what differed; then abort(). */
static void fail(struct run *r, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "\n==== kmap_ops: library and model disagree ====\n");
    print_config(stderr, r);
    for (uint32_t i = 0; i < r->nlog; i++)
        print_op(stderr, &r->log[i]);
    fprintf(stderr, "# ^^^ the last op above (#%u) is the one that failed:\n# ", r->nlog ? r->nlog - 1u : 0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    for (uint32_t i = 0; i < r->nev; i++)
        print_event(stderr, "library", i, r->ev[i].kind, r->ev[i].cpu, r->ev[i].a, r->ev[i].b, r->ev[i].pte);
    if (r->model_ok)
        for (uint32_t i = 0; i < r->model.nev; i++)
            print_event(stderr, "model", i, r->model.ev[i].kind, r->model.ev[i].cpu, r->model.ev[i].a,
                        r->model.ev[i].b, r->model.ev[i].pte);
    fflush(stderr);
    abort();
}

/* ---------------------------------------------------------------------------------------
 * Hooks.
 * ------------------------------------------------------------------------------------- */
static void on_event(void *cookie, const struct hm_event *ev)
{
    struct run *r = cookie;
    if (r->nev == r->capev) {
        r->ev_overflow = 1;
        return;
    }
    r->ev[r->nev++] = *ev;
}

static void on_bug(void *cookie, const struct hm_bug_report *rep)
{
    struct run *r = cookie;
    r->nbugs++;
    r->bug = rep->bug;
    r->bug_err = rep->err;
    r->all_bugs++;
    if (rep->bug >= 0 && rep->bug < HM_BUG__COUNT)
        r->bugs_by_kind[rep->bug]++;
}

static void on_sim_event(void *cookie, const struct hm_event *ev)
{
    struct run *r = cookie;
    if (ev->kind == HM_EV_STALE_TLB)
        r->stale_events++;
}

/* ---------------------------------------------------------------------------------------
 * Decoding the operands (kmap_ops.h).
 * ------------------------------------------------------------------------------------- */
static uint32_t pkmap_addr(const struct run *r, uint32_t i)
{
    return r->L.pkmap_base + (i << 12);
}

static uint32_t slot_addr(const struct run *r, uint32_t cpu, uint32_t type)
{
    if (!r->S) /* generic: no atomic slots */
        return r->L.page_offset;
    return model_slot_addr(&r->model, cpu, type);
}

static uint32_t decode_pfn(const struct run *r, uint8_t b)
{
    uint32_t hs = r->L.highmem_start_pfn, mx = r->L.max_pfn, hp = mx - hs;
    if (b < KPFN_TOP)
        return hs - 2u + b % ((hp < KPFN_NEAR ? hp : KPFN_NEAR) + 4u);
    if (b < KPFN_SPECIAL)
        return mx - 8u + (uint32_t)(b - KPFN_TOP);
    {
        const uint32_t special[16] = {0, 1, hs / 2u, hs - 1u, hs, hs + 1u, mx - 1u, mx, mx + 1u,
                                      0x100000u, 0xfffffu, 0x1000000u, 0x7fffffffu, 0xffffffffu,
                                      hs + hp / 2u, 2};
        return special[b - KPFN_SPECIAL];
    }
}

static uint32_t decode_cpu(const struct run *r, uint8_t b)
{
    const uint32_t n = r->ncpus;
    const uint32_t bad[8] = {n, n + 1u, 4, 7, 63, 64, 1000, 0xffffffffu};
    return b < KCPU_BAD ? b % n : bad[b - KCPU_BAD];
}

static uint32_t decode_type(const struct run *r, uint8_t b)
{
    if (b < KTYPE_USER)
        return 3u + (b & 1u);
    if (b < KTYPE_BAD)
        return b % r->ntypes;
    return r->ntypes + (uint32_t)(b - KTYPE_BAD);
}

static uint32_t special_addr(const struct run *r, uint32_t i)
{
    const struct hm_layout *L = &r->L;
    int32_t dir = L->kmap_atomic_dir ? L->kmap_atomic_dir : -1;
    uint32_t base = L->kmap_atomic_base;
    switch (i % KADDR_NR_SPECIAL) {
    case 0: return 0;
    case 1: return L->page_offset;
    case 2: return L->high_memory - 1u;
    case 3: return L->high_memory;
    case 4: return L->last_pkmap ? L->pkmap_base - 1u : L->page_offset - 1u;
    case 5: return L->pkmap_base + (L->last_pkmap << 12);
    case 6: return base;
    case 7: return dir > 0 ? base - 1u : L->fixaddr_start;
    case 8: return L->fixaddr_top;
    case 9: return L->fixaddr_top - 1u;
    case 10: return 0xffffffffu;
    case 11: return 0xfc000000u;
    case 12: return base - (uint32_t)(dir * 4096);
    case 13: return base + (uint32_t)dir * (L->km_type_nr * L->nr_cpus << 12);
    case 14: return base + (uint32_t)dir * (6u << 12);
    default: return L->pt_pages ? L->pt_start + ((L->pt_pages - 1u) << 12) : L->page_offset;
    }
}

static uint32_t recent_addr(const struct run *r, uint32_t k)
{
    if (k < r->nrecent && k < RECENT)
        return r->recent[(r->nrecent - 1u - k) % RECENT];
    return r->S ? pkmap_addr(r, k % r->S) : r->L.page_offset + (k << 12);
}

static void remember_recent(struct run *r, uint32_t vaddr)
{
    r->recent[r->nrecent % RECENT] = vaddr;
    r->nrecent++;
}

static uint32_t decode_addr(const struct run *r, uint8_t s, uint8_t o)
{
    if (s < KADDR_PKMAP)
        return recent_addr(r, s % RECENT) + o;
    if (s < KADDR_SLOT)
        return r->S ? pkmap_addr(r, (uint32_t)(s - KADDR_PKMAP) % (r->S + 1u)) + o
                    : r->L.page_offset + ((uint32_t)(s - KADDR_PKMAP) << 12) + o;
    if (s < KADDR_DIRECT) {
        uint32_t x = (uint32_t)(s - KADDR_SLOT);
        return slot_addr(r, (x & 3u) % r->ncpus, kop_small_type(x >> 2) % r->ntypes) + o;
    }
    if (s < KADDR_SPECIAL)
        return r->L.page_offset + (decode_pfn(r, o) << 12) + (uint32_t)(s - KADDR_DIRECT) * 16u;
    if (s < KADDR_SCATTER) {
        uint32_t x = (uint32_t)(s - KADDR_SPECIAL);
        return special_addr(r, x) + (x >= KADDR_NR_SPECIAL ? o : 0u);
    }
    return 0xc0000000u + (uint32_t)(s - KADDR_SCATTER) * 0x01555000u + ((uint32_t)o << 12);
}

static uint32_t decode_kunmap_addr(const struct run *r, uint32_t cpu, uint32_t type, uint8_t a)
{
    uint32_t c = cpu < r->ncpus ? cpu : 0, t = type < r->ntypes ? type : 0;
    if (a < KUA_OTHER) {
        uint32_t v = r->remembered[c * r->ntypes + t];
        return (v ? v : slot_addr(r, c, t)) + ((a & 7u) << 9);
    }
    if (a < KUA_LOWMEM)
        return (a & 1u) ? slot_addr(r, c, (t ^ 1u) % r->ntypes) : slot_addr(r, (c + 1u) % r->ncpus, t);
    if (a < KUA_PKMAP)
        return r->L.page_offset + ((uint32_t)(a - KUA_LOWMEM) << 12);
    if (a < KUA_SPECIAL)
        return r->S ? pkmap_addr(r, (uint32_t)(a - KUA_PKMAP) % r->S) : r->L.page_offset;
    return special_addr(r, (uint32_t)(a - KUA_SPECIAL));
}

/* ---------------------------------------------------------------------------------------
 * Checks after every operation.
 * ------------------------------------------------------------------------------------- */
static int op_has_value(int op)
{
    return op == KOP_KMAP || op == KOP_KMAP_ATOMIC || op == KOP_KMAP_ATOMIC_PFN || op == KOP_LOAD ||
           op == KOP_KMAP_TO_PAGE || op == KOP_KMAP_ATOMIC_TO_PAGE || op == KOP_PAGE_ADDRESS;
}

static void check_events(struct run *r)
{
    const struct model *m = &r->model;
    if (r->ev_overflow || m->overflow)
        fail(r, "event buffer overflow (library %d, model %d)", r->ev_overflow, m->overflow);
    for (uint32_t i = 0; i < r->nev || i < m->nev; i++) {
        const struct hm_event *e;
        const struct model_event *x;
        if (i >= r->nev)
            fail(r, "event %u: the library emitted nothing, the model expects %s", i,
                 hm_event_name(m->ev[i].kind));
        if (i >= m->nev)
            fail(r, "event %u: the library emitted %s, the model expects nothing", i,
                 hm_event_name(r->ev[i].kind));
        e = &r->ev[i];
        x = &m->ev[i];
        if (e->kind != x->kind || e->cpu != x->cpu || e->a != x->a ||
            (e->kind != HM_EV_BUG && e->b != x->b) || (e->kind == HM_EV_PTE_SET && e->pte != x->pte))
            fail(r, "event %u differs: library %s, model %s", i, hm_event_name(e->kind),
                 hm_event_name(x->kind));
    }
}

static void check_pte(struct run *r, uint32_t vaddr, const char *what)
{
    uint64_t lib = hm_sim_pte(r->sim, vaddr & ~0xfffu), exp = model_pte_at(&r->model, vaddr);
    if (lib != exp)
        fail(r, "%s: PTE at 0x%08x is 0x%llx, the model expects 0x%llx", what, vaddr & ~0xfffu,
             (unsigned long long)lib, (unsigned long long)exp);
}

static void check_pfn_address(struct run *r, uint32_t pfn)
{
    hm_vaddr_t v = 0;
    if (pfn >= r->L.max_pfn)
        return;
    if (hm_page_address(r->ctx, pfn, &v) != HM_OK)
        fail(r, "page_address(0x%x) failed", pfn);
    if (v != model_page_address_of(&r->model, pfn))
        fail(r, "page_address(0x%x) = 0x%08x, the model expects 0x%08x", pfn, v,
             model_page_address_of(&r->model, pfn));
}

static void check_tlb(struct run *r, uint32_t vaddr, const char *what)
{
    for (uint32_t c = 0; c < r->ncpus; c++) {
        hm_pfn_t lp = 0;
        uint32_t mp = 0;
        int l = hm_sim_tlb_lookup(r->sim, c, vaddr, &lp), e = model_tlb_lookup(&r->model, c, vaddr, &mp);
        if (l != e || (l && lp != mp))
            fail(r, "%s: cpu %u TLB for 0x%08x: sim %d (pfn 0x%x), model %d (pfn 0x%x)", what, c, vaddr, l,
                 lp, e, mp);
    }
}

/* Every TLB entry: a sim TLB is filled only by a load or store, so checking every page
 * accessed during the input (both ways: sim and model agree on each CPU) covers them all. */
static void check_all_tlbs(struct run *r, const char *what)
{
    for (uint32_t i = 0; i < r->nlog; i++)
        if (r->log[i].op == KOP_LOAD || r->log[i].op == KOP_STORE)
            check_tlb(r, r->log[i].vaddr, what);
}

/* I7 for one slot: pkmap_count[i] - 1 outstanding kmaps, as the model counts them. */
static void check_count(struct run *r, uint32_t i)
{
    if (i < r->S && hm_pkmap_count(r->ctx, i) != r->model.count[i])
        fail(r, "I7: pkmap_count[%u] = %d, the model expects %d", i, hm_pkmap_count(r->ctx, i),
             r->model.count[i]);
}

static void check_message(struct run *r, const char *who, int rc, const char *buf, size_t len);

/* hm_check_invariants against the model: 0 while nobody wrote the page tables behind the
 * library's back, else the first invariant such a write broke. */
static void check_invariants(struct run *r)
{
    char msg[160];
    int rc = hm_check_invariants(r->ctx, msg, sizeof msg), exp = model_check_code(&r->model);
    if (rc != exp)
        fail(r, "hm_check_invariants returned %d (%s), the model expects %d", rc, rc ? msg : "", exp);
    check_message(r, "hm_check_invariants", rc, msg, sizeof msg);
}

/* Two levels of checks.
 * - After every op, incrementally (cost independent of the window size S): the result, the bug
 *   report, every event (stale-translation events included), the count of every slot the op named
 *   or touched (its events, its page's slot, the cursor), the cursor, every CPU's pagefault
 *   depth, every PTE it wrote and the atomic slot it named, the TLBs for an access, the
 *   page_address of its page, every count after a flush and (I12) no TLB caching a freed slot.
 * - The full comparison (check_full): the sim's stale TLB hit and stale PTE write counters,
 *   hm_check_invariants (I1-I3, I5, I6, I10 over the whole context, against the model's
 *   prediction), every count, the PTE of every slot in use or
 *   poked, page_address of every record, the PTE of every atomic slot; after every FULL_EVERY
 *   ops that may change the context or its page tables (kmap family, flush, poke; FULL_EVERY_BIG for the
 *   arch's own 512/1024-slot windows, where it costs O(S) locked PTE reads) and at the end of
 *   the input, which also compares every TLB entry the input filled.
 * A state the incremental checks miss is therefore caught at most FULL_EVERY ops later. */
#define FULL_CHECK_MAX_S 64u
#define FULL_EVERY 16u
#define FULL_EVERY_BIG 64u

static void check_full(struct run *r)
{
    const struct model *m = &r->model;
    struct hm_sim_stats st;

    hm_sim_get_stats(r->sim, &st);
    if (st.stale_tlb_hits - r->st.stale_tlb_hits != r->exp_stale_hits ||
        st.stale_pte_writes - r->st.stale_pte_writes != r->exp_stale_writes)
        fail(r, "stale: since the set-up the sim counted %llu TLB hits and %llu PTE writes; the model expects %u, %u",
             (unsigned long long)(st.stale_tlb_hits - r->st.stale_tlb_hits),
             (unsigned long long)(st.stale_pte_writes - r->st.stale_pte_writes), r->exp_stale_hits,
             r->exp_stale_writes);
    check_invariants(r);
    for (uint32_t i = 0; i < r->S; i++) {
        check_count(r, i);
        if (m->count[i] >= 1 || m->pk_pte[i])
            check_pte(r, pkmap_addr(r, i), "full sweep, pkmap");
    }
    /* every page_address record: its page's address is its slot's */
    for (uint32_t k = 0; k < m->nrec; k++) {
        hm_vaddr_t v = 0;
        if (hm_page_address(r->ctx, m->rec_page[k], &v) != HM_OK || v != pkmap_addr(r, m->rec_slot[k]))
            fail(r, "full sweep: page_address(0x%x) = 0x%08x, the model has it in slot %u (0x%08x)",
                 m->rec_page[k], v, m->rec_slot[k], pkmap_addr(r, m->rec_slot[k]));
    }

    if (r->S)
        for (uint32_t c = 0; c < r->ncpus; c++)
            for (uint32_t t = 0; t < r->ntypes; t++)
                check_pte(r, model_slot_addr(m, c, t), "full sweep, atomic");
    r->since_full = 0;
}

static void check_after(struct run *r, struct op_rec *o, const struct model_out *mo)
{
    const struct model *m = &r->model;

    /* the result */
    if (o->err != mo->err)
        fail(r, "returned %s, the model expects %s", hm_strerror(o->err), hm_strerror(mo->err));
    if (r->nbugs != mo->nbugs || (mo->nbugs && (r->bug != mo->bug || r->bug_err != mo->bug_err)))
        fail(r, "%u bug report(s), last %s (%s); the model expects %u, last %s (%s)", r->nbugs,
             hm_bug_name(r->bug), hm_strerror(r->bug_err), mo->nbugs, hm_bug_name(mo->bug),
             hm_strerror(mo->bug_err));
    if (o->err == HM_OK && op_has_value(o->op) && o->val != mo->val)
        fail(r, "result 0x%x, the model expects 0x%x", o->val, mo->val);
    check_events(r);

    /* stale translations: only where the model says the kernel's behaviour leaves one. Per op
     * the sim's events (one per stale hit or write); the sim's two counters in check_full. */
    if (r->stale_events != mo->stale_tlb_hits + mo->stale_pte_writes)
        fail(r, "stale: %u stale-translation events; the model expects %u TLB hits and %u PTE writes",
             r->stale_events, mo->stale_tlb_hits, mo->stale_pte_writes);
    r->exp_stale_hits += mo->stale_tlb_hits;
    r->exp_stale_writes += mo->stale_pte_writes;

    /* I7: the pkmap counts (all after a flush, else those this op touched), and the cursor */
    if (mo->flushed) {
        for (uint32_t i = 0; i < r->S; i++)
            check_count(r, i);
    } else if (r->S) {
        for (uint32_t i = 0; i < r->nev; i++)
            if (r->ev[i].a >= r->L.pkmap_base && r->ev[i].a - r->L.pkmap_base < (r->S << 12))
                check_count(r, (r->ev[i].a - r->L.pkmap_base) >> 12);
        if (o->pfn < r->L.max_pfn && model_slot_of_page(m, o->pfn) >= 0)
            check_count(r, (uint32_t)model_slot_of_page(m, o->pfn));
        check_count(r, m->last_nr);
    }
    if (r->S && hm_last_pkmap_nr(r->ctx) != m->last_nr)
        fail(r, "last_pkmap_nr = %u, the model expects %u", hm_last_pkmap_nr(r->ctx), m->last_nr);
    /* I10: the pagefault-disable depth of every CPU */
    for (uint32_t c = 0; c < r->ncpus; c++)
        if (hm_pagefault_depth(r->ctx, c) != m->depth[c])
            fail(r, "I10: cpu %u pagefault depth %d, the model expects %d", c, hm_pagefault_depth(r->ctx, c),
                 m->depth[c]);

    /* the PTEs this op wrote, and (I9) the atomic slot it named */
    for (uint32_t i = 0; i < r->nev; i++)
        if (r->ev[i].kind == HM_EV_PTE_SET || r->ev[i].kind == HM_EV_PTE_CLEAR)
            check_pte(r, r->ev[i].a, "written PTE");
    if ((o->op == KOP_KMAP_ATOMIC || o->op == KOP_KUNMAP_ATOMIC || o->op == KOP_KMAP_ATOMIC_PFN) &&
        o->cpu < r->ncpus && o->type < r->ntypes && r->S)
        check_pte(r, model_slot_addr(m, o->cpu, o->type), "I9 atomic slot");
    if (o->op == KOP_LOAD || o->op == KOP_STORE)
        check_tlb(r, o->vaddr, "TLB after the access");

    /* page_address of the page the op named */
    if (o->op == KOP_KMAP || o->op == KOP_KUNMAP || o->op == KOP_KMAP_ATOMIC ||
        o->op == KOP_KMAP_ATOMIC_PFN || o->op == KOP_PAGE_ADDRESS)
        check_pfn_address(r, o->pfn);

    /* I12 / I4 after a flush: no slot it freed is still cached in any TLB (count-0 slots freed
     * earlier were checked then, and a load of a count-0 slot faults without filling a TLB) */
    if (mo->flushed)
        for (uint32_t i = 0; i < r->nev; i++)
            if (r->ev[i].kind == HM_EV_PTE_CLEAR && r->ev[i].a >= r->L.pkmap_base &&
                r->ev[i].a - r->L.pkmap_base < (r->S << 12)) {
                uint32_t slot = (r->ev[i].a - r->L.pkmap_base) >> 12;
                /* (the op may have mapped it again since: a kmap reuses what its wrap freed) */
                for (uint32_t c = 0; c < r->ncpus; c++)
                    if (m->tlb_pk[c * r->S + slot] || hm_sim_tlb_lookup(r->sim, c, r->ev[i].a, NULL))
                        fail(r, "I12: slot %u was freed but cpu %u still caches it", slot, c);
            }

    /* the full comparison, every FULL_EVERY ops that may change the context or its page
     * tables (a load, a store or the irq switch only reach the sim; probes and config probes
     * only read this context or build another one: highmem.h promises they change nothing, and
     * the final comparison would see it if they did) */
    if (o->op != KOP_LOAD && o->op != KOP_STORE && o->op != KOP_IRQ && o->op != KOP_PROBE &&
        o->op != KOP_CONFIG &&
        ++r->since_full >= (r->S <= FULL_CHECK_MAX_S ? FULL_EVERY : FULL_EVERY_BIG))
        check_full(r);
}

/* At the end: the full comparison (a count-0 slot's PTE is none by I2) and every TLB. */
static void check_final(struct run *r)
{
    check_full(r);
    check_all_tlbs(r, "final sweep");
}

/* ---------------------------------------------------------------------------------------
 * Set-up and the op loop.
 * ------------------------------------------------------------------------------------- */
static void check_layout(struct run *r)
{
    const struct model_layout *M = &r->model.L;
    const struct hm_layout *L = &r->L;
    int has = M->S != 0;
    uint64_t pt_end = (uint64_t)L->pt_start + ((uint64_t)L->pt_pages << 12);

    if (M->page_offset != L->page_offset || M->high_memory != L->high_memory ||
        M->highmem_start_pfn != L->highmem_start_pfn || M->max_pfn != L->max_pfn || M->S != L->last_pkmap ||
        M->nr_km_types != L->nr_km_types || M->km_type_nr != L->km_type_nr ||
        M->config_nr_cpus != L->config_nr_cpus || (has && M->pkmap_base != L->pkmap_base) ||
        (has && M->atomic_idx0 != L->kmap_atomic_base) ||
        (has && (M->pt_start != L->pt_start || M->pt_end != pt_end)) ||
        (has && M->kmap_fix_begin == 0 &&
         (M->fixaddr_top != L->fixaddr_top || M->fixaddr_start != L->fixaddr_start)))
        fail(r, "layout: model (PKMAP_BASE 0x%08x, atomic idx 0 0x%08x, window 0x%llx..0x%llx, max_pfn 0x%x)"
                " != library (0x%08x, 0x%08x, 0x%x..0x%llx, 0x%x)",
             M->pkmap_base, M->atomic_idx0, (unsigned long long)M->pt_start,
             (unsigned long long)M->pt_end, M->max_pfn, L->pkmap_base, L->kmap_atomic_base, L->pt_start,
             (unsigned long long)pt_end, L->max_pfn);
}


/* The context's storage, kept from one input to the next (hm_ctx_init wipes it): one
 * allocation fewer per input. */
static void *ctx_storage(size_t size, size_t align)
{
    static void *mem;
    static size_t cap;
    if (size > cap) {
        free(mem);
        cap = size;
        mem = aligned_alloc(align, cap);
        if (!mem)
            cap = 0;
    }
    return size ? mem : NULL;
}

/* Build the machine; 0 if the library refuses the config (the input is skipped). */
static int setup(struct run *r, struct fz_input *in)
{
    struct hm_machine machine;
    struct hm_hooks hooks;
    struct model_config mc;
    uint32_t flags;
    size_t size, align;

    r->cfg.arch = hm_arch_at(fz_back_range(in, 0, KOP_NR_ARCHES - 1u));
    r->cfg.last_pkmap = kop_window(fz_back_range(in, 0, KOP_NR_WINDOWS - 1u));
    r->cfg.nr_cpus = fz_back_range(in, 1, 4);
    flags = fz_back_range(in, 0, 3);
    r->cfg.debug_highmem = (flags & KOP_FLAG_DEBUG) != 0;
    r->cfg.need_flush = (flags & KOP_FLAG_NEED_FLUSH) != 0;
    r->cfg.highmem_pages = kop_highmem(fz_back_range(in, 0, KOP_NR_HIGHMEM - 1u));
    if (!r->cfg.arch || hm_layout_compute(&r->cfg, &r->L) != HM_OK)
        return 0;

    mc.arch = hm_arch_name(r->cfg.arch);
    mc.last_pkmap = r->cfg.last_pkmap;
    mc.nr_cpus = r->cfg.nr_cpus;
    mc.highmem_pages = r->cfg.highmem_pages;
    mc.debug_highmem = r->cfg.debug_highmem;
    mc.need_flush = r->cfg.need_flush;
    if (model_init(&r->model, &mc) != 0)
        fail(r, "the library accepts this machine, the model does not");
    r->model_ok = 1;
    r->S = r->L.last_pkmap;
    r->ncpus = r->L.nr_cpus;
    r->ntypes = r->L.nr_km_types;
    check_layout(r);

    r->capev = r->S + 64u;
    if (r->capev > sizeof r->ev / sizeof r->ev[0] ||
        (size_t)r->ncpus * r->ntypes > sizeof r->remembered / sizeof r->remembered[0])
        fail(r, "machine too large for the harness's buffers");
    /* one machine per process, reset per input (hm_sim_reset: exactly a new machine) */
    if (!r->sim_store)
        r->sim_store = hm_sim_new(&r->L, r->cfg.arch, on_sim_event, r);
    else if (hm_sim_reset(r->sim_store, &r->L, r->cfg.arch, on_sim_event, r) != HM_OK)
        fail(r, "hm_sim_reset refused a layout hm_layout_compute accepted");
    r->sim = r->sim_store;
    size = hm_ctx_size(&r->cfg);
    align = hm_ctx_align();
    size = (size + align - 1u) / align * align;
    r->mem = ctx_storage(size, align);
    if (!r->sim || !r->mem) {
        fprintf(stderr, "kmap_ops: out of memory\n");
        abort();
    }
    hm_sim_machine(r->sim, &machine);
    hooks.on_bug = on_bug;
    hooks.bug_cookie = r;
    hooks.on_event = on_event;
    hooks.event_cookie = r;
    if (hm_ctx_init(r->mem, size, &r->cfg, &machine, &hooks, &r->ctx) != HM_OK)
        fail(r, "hm_ctx_init refused a config hm_layout_compute accepted");
    hm_sim_get_stats(r->sim, &r->st);
    if (r->verbose)
        print_config(stdout, r);
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * API probes (KOP_PROBE, KOP_CONFIG): the public calls the machine ops do not reach. Each one
 * is predicted by the model (names, layouts, hashes, counts) or by highmem.h's contract.
 * ------------------------------------------------------------------------------------- */
/* An uninitialised context: zeroed storage hm_ctx_init never saw. */
static _Alignas(16) unsigned char never_inited[512];

static void probe_null_out(struct run *r, struct op_rec *o, struct model_out *mo)
{
    uint32_t which = o->value % 8u;
    hm_vaddr_t va = r->S ? pkmap_addr(r, 0) : r->L.page_offset;
    o->pfn = decode_pfn(r, o->value);
    switch (which) {
    case 0: o->err = hm_kmap(r->ctx, o->pfn, NULL); break;
    case 1: o->err = hm_kmap_try(r->ctx, o->pfn, NULL); break;
    case 2: o->err = hm_kmap_atomic(r->ctx, 0, o->pfn, 0, NULL); break;
    case 3: o->err = hm_kmap_atomic_pfn(r->ctx, 0, o->pfn, 0, NULL); break;
    case 4: o->err = hm_kmap_atomic_prot(r->ctx, 0, o->pfn, 0, 0, NULL); break;
    case 5: o->err = hm_kmap_atomic_to_page(r->ctx, va, NULL); break;
    case 6: o->err = hm_kmap_to_page(r->ctx, va, NULL); break;
    default: o->err = hm_page_address(r->ctx, o->pfn, NULL); break;
    }
    model_bad_arg(&r->model, mo);
}

/* Every call with a NULL or never initialised context: EINVAL, no event, no bug. */
static void probe_null_ctx(struct run *r, struct op_rec *o, struct model_out *mo)
{
    struct hm_ctx *c = (o->value & 1u) ? (struct hm_ctx *)(void *)never_inited : NULL;
    hm_vaddr_t v = 0;
    hm_pfn_t p = 0;
    uint32_t pfn = r->L.highmem_start_pfn;
    int rc[] = {hm_kmap(c, pfn, &v), hm_kmap_try(c, pfn, &v), hm_kunmap(c, pfn), hm_kmap_flush_unused(c),
                hm_kmap_atomic(c, 0, pfn, 0, &v), hm_kmap_atomic_prot(c, 0, pfn, 0, 0, &v),
                hm_kmap_atomic_pfn(c, 0, pfn, 0, &v), hm_kunmap_atomic(c, 0, r->L.page_offset, 0),
                hm_kmap_atomic_to_page(c, r->L.page_offset, &p), hm_kmap_to_page(c, r->L.page_offset, &p),
                hm_page_address(c, pfn, &v)};
    for (size_t i = 0; i < sizeof rc / sizeof rc[0]; i++)
        if (rc[i] != HM_EINVAL)
            fail(r, "call %zu with a %s context returned %s, not EINVAL", i, c ? "never initialised" : "NULL",
                 hm_strerror(rc[i]));
    if (v != 0 || p != 0)
        fail(r, "a call with a bad context wrote its out pointer");
    o->err = HM_EINVAL;
    model_no_op(&r->model, mo);
    mo->err = HM_EINVAL;
}

static void probe_getters_null(struct run *r, struct op_rec *o, struct model_out *mo)
{
    const struct hm_ctx *c = (o->value & 1u) ? (const struct hm_ctx *)(const void *)never_inited : NULL;
    struct hm_stats st, zero;
    memset(&zero, 0, sizeof zero);
    memset(&st, 0xa5, sizeof st);
    hm_get_stats(c, &st);
    hm_get_stats(r->ctx, NULL); /* nowhere to write: must not crash */
    if (hm_pkmap_count(c, 0) != -1 || hm_last_pkmap_nr(c) != 0 || hm_nr_waiters(c) != 0 ||
        hm_pagefault_depth(c, 0) != -1 || hm_pool_size(c) != 0 || hm_bucket_size(c, 0) != 0 ||
        hm_page_bucket(c, 1) != 0 || hm_page_is_highmem(c, 0) != -1 || hm_mk_kmap_pte(c, 1) != 0 ||
        hm_pte_none(c, 0x1000u) != 1 || hm_pte_pfn(c, 0x5000u) != 0 || hm_ctx_layout(c) != NULL ||
        memcmp(&st, &zero, sizeof st) != 0 || hm_arch_name(NULL) != NULL || hm_arch_find(NULL) != NULL)
        fail(r, "an inspection call on a %s context returned something", c ? "never initialised" : "NULL");
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

static void probe_getters(struct run *r, struct op_rec *o, struct model_out *mo)
{
    const struct model *m = &r->model;
    uint32_t v = o->value, pfn = decode_pfn(r, (uint8_t)v), b = v % HM_PA_HASH_SIZE, in_b = 0;
    int hi = pfn >= r->L.max_pfn ? -1 : (r->S && pfn >= r->L.highmem_start_pfn);
    unsigned bits = v % 34u;
    uint32_t x = v * 0x01010101u + 0x9e3u;
    const struct hm_layout *L = hm_ctx_layout(r->ctx);

    o->pfn = pfn;
    if (hm_page_is_highmem(r->ctx, pfn) != hi)
        fail(r, "page_is_highmem(0x%x) = %d, the model expects %d", pfn, hm_page_is_highmem(r->ctx, pfn), hi);
    if (r->S && pfn < r->L.max_pfn) {
        hm_pte_t pte = hm_mk_kmap_pte(r->ctx, pfn);
        if (pte != model_pte_word(m, pfn) || hm_pte_none(r->ctx, pte) != 0 || hm_pte_pfn(r->ctx, pte) != pfn)
            fail(r, "mk_kmap_pte(0x%x) = 0x%llx (none %d, pfn 0x%x), the model expects 0x%llx", pfn,
                 (unsigned long long)pte, hm_pte_none(r->ctx, pte), hm_pte_pfn(r->ctx, pte),
                 (unsigned long long)model_pte_word(m, pfn));
    }
    if (hm_pte_none(r->ctx, 0) != 1)
        fail(r, "pte_none(0) is not 1 (0 is none on every arch)");
    if (!r->S && pfn < r->L.max_pfn && hm_pte_pfn(r->ctx, hm_mk_kmap_pte(r->ctx, pfn)) != pfn)
        fail(r, "generic: pte_pfn(mk_kmap_pte(0x%x)) = 0x%x", pfn, hm_pte_pfn(r->ctx, hm_mk_kmap_pte(r->ctx, pfn)));
    if (hm_pkmap_count(r->ctx, r->S + v) != -1 || hm_pagefault_depth(r->ctx, r->ncpus + v) != -1 ||
        hm_bucket_size(r->ctx, HM_PA_HASH_SIZE + v) != 0)
        fail(r, "an index past the end (slot %u, cpu %u, bucket %u) was answered", r->S + v, r->ncpus + v,
             HM_PA_HASH_SIZE + v);
    if (hm_pool_size(r->ctx) != model_pool_size(m) || hm_nr_waiters(r->ctx) != 0 ||
        hm_last_pkmap_nr(r->ctx) != (r->S ? m->last_nr : 0u))
        fail(r, "pool %u (model %u), waiters %u, last_pkmap_nr %u", hm_pool_size(r->ctx), model_pool_size(m),
             hm_nr_waiters(r->ctx), hm_last_pkmap_nr(r->ctx));
    if (hm_page_bucket(r->ctx, pfn) != model_page_bucket(m, pfn))
        fail(r, "page_bucket(0x%x) = %u, the model expects %u", pfn, hm_page_bucket(r->ctx, pfn),
             model_page_bucket(m, pfn));
    for (uint32_t k = 0; k < m->nrec; k++)
        in_b += model_page_bucket(m, m->rec_page[k]) == b;
    if (hm_bucket_size(r->ctx, b) != in_b)
        fail(r, "bucket %u holds %u records, the model expects %u", b, hm_bucket_size(r->ctx, b), in_b);
    if (hm_hash_long32(x, bits) != model_hash_long32(x, bits))
        fail(r, "hash_long32(0x%x, %u) = 0x%x, the model expects 0x%x", x, bits, hm_hash_long32(x, bits),
             model_hash_long32(x, bits));
    if (!L || memcmp(L, &r->L, sizeof *L) != 0)
        fail(r, "hm_ctx_layout differs from hm_layout_compute's layout");
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

/* A name the model does not know must still be a string, and none of the known ones. */
static void check_name(struct run *r, const char *what, int i, const char *lib, const char *exp,
                       const char *(*known)(int), int nknown)
{
    if (exp) {
        if (!lib || strcmp(lib, exp) != 0)
            fail(r, "%s(%d) = \"%s\", the model expects \"%s\"", what, i, lib ? lib : "(null)", exp);
        return;
    }
    if (!lib)
        fail(r, "%s(%d) returned NULL", what, i);
    for (int k = -1; k <= nknown; k++)
        if (known(k) && strcmp(lib, known(k)) == 0)
            fail(r, "%s(%d) = \"%s\", the name of %d", what, i, lib, k);
}

static void probe_names(struct run *r, struct op_rec *o, struct model_out *mo)
{
    int i = (int)(o->value % 20u) - 2;
    check_name(r, "hm_strerror", i, hm_strerror(i), model_err_name(i), model_err_name, 8);
    check_name(r, "hm_bug_name", i, hm_bug_name(i), model_bug_name(i), model_bug_name, HM_BUG__COUNT);
    check_name(r, "hm_event_name", i, hm_event_name(i), model_event_name(i), model_event_name, 13);
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

static void probe_registry(struct run *r, struct op_rec *o, struct model_out *mo)
{
    static const char *const names[] = {"x86", "x86-pae", "ppc", "sparc", "generic", "x8", "x86-", "",
                                        "X86", "sparc64", "ppc ", "generic\n", NULL};
    const char *name = names[o->value % (sizeof names / sizeof names[0])];
    int exp = model_arch_index(name);
    const struct hm_arch *a = hm_arch_find(name);
    unsigned at = o->value % 7u;

    if (a != (exp < 0 ? NULL : hm_arch_at((unsigned)exp)) ||
        (a && strcmp(hm_arch_name(a), model_arch_name(exp)) != 0))
        fail(r, "hm_arch_find(\"%s\") = %s, the model expects %s", name ? name : "(null)",
             a ? hm_arch_name(a) : "NULL", exp < 0 ? "NULL" : model_arch_name(exp));
    if (at < KOP_NR_ARCHES ? !hm_arch_at(at) || strcmp(hm_arch_name(hm_arch_at(at)), model_arch_name((int)at)) != 0
                           : hm_arch_at(at) != NULL)
        fail(r, "hm_arch_at(%u) is not %s", at, at < KOP_NR_ARCHES ? model_arch_name((int)at) : "NULL");
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

/* hm_check_invariants' message: "I<n>: ..." cut to msg_len - 1 characters and terminated. */
static void check_message(struct run *r, const char *who, int rc, const char *buf, size_t len)
{
    char prefix[8];
    size_t n;
    if (len == 0) {
        if ((unsigned char)buf[0] != 0x5a)
            fail(r, "%s: hm_check_invariants wrote into a 0-byte message buffer", who);
        return;
    }
    n = strnlen(buf, len);
    if (n == len)
        fail(r, "%s: message not terminated within %zu bytes", who, len);
    if (rc == 0 && n != 0)
        fail(r, "%s: holds, yet the message is \"%s\"", who, buf);
    snprintf(prefix, sizeof prefix, "I%d:", rc);
    if (rc != 0 && strncmp(buf, prefix, n < strlen(prefix) ? n : strlen(prefix)) != 0)
        fail(r, "%s: code %d but the message is \"%s\"", who, rc, buf);
    if (rc != 0 && len >= sizeof prefix && n < strlen(prefix))
        fail(r, "%s: message \"%s\" too short", who, buf);
}

static void probe_invariants(struct run *r, struct op_rec *o, struct model_out *mo)
{
    char buf[48];
    size_t len = o->value % 40u;
    int rc;

    /* this context (O(S) PTE reads: once, with or without a buffer) */
    memset(buf, 0x5a, sizeof buf);
    rc = hm_check_invariants(r->ctx, (o->value & 128u) ? NULL : buf, len);
    if (rc != model_check_code(&r->model))
        fail(r, "hm_check_invariants: %d, the model expects %d", rc, model_check_code(&r->model));
    if (!(o->value & 128u))
        check_message(r, "this context", rc, buf, len);
    memset(buf, 0x5a, sizeof buf);
    rc = hm_check_invariants((o->value & 64u) ? (const struct hm_ctx *)(const void *)never_inited : NULL, buf, len);
    if (rc == 0)
        fail(r, "hm_check_invariants accepts a %s context", (o->value & 64u) ? "never initialised" : "NULL");
    check_message(r, "bad context", rc, buf, len);
    if (hm_check_invariants(NULL, NULL, 16) == 0)
        fail(r, "hm_check_invariants with a NULL context and message buffer");
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

static void probe_stats(struct run *r, struct op_rec *o, struct model_out *mo)
{
    struct hm_stats st;
    hm_get_stats(r->ctx, &st);
    if (st.bugs != r->all_bugs)
        fail(r, "stats: %llu bugs, the bug hook saw %u", (unsigned long long)st.bugs, r->all_bugs);
    for (int k = 0; k < HM_BUG__COUNT; k++)
        if (st.bug_by_kind[k] != r->bugs_by_kind[k])
            fail(r, "stats: %llu bugs %s, the bug hook saw %u", (unsigned long long)st.bug_by_kind[k],
                 hm_bug_name(k), r->bugs_by_kind[k]);
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

/* KOP_CONFIG: another config through hm_layout_compute, hm_ctx_size and hm_ctx_init, in storage
 * of its own (the machine's context is untouched). */
static const uint32_t cfg_cpus[KCFG_NR_CPUS] = {0, 1, 2, 4, 63, 64, 65, 1000};
static const uint32_t cfg_windows[KCFG_NR_WINDOWS] = {0, 2, 1, 3, 4096, 8192, 1024, 6, 512, 2048, 64, 0x80000000u};
/* each arch's largest highmem size and one more (x86 2^20 pfns, PAE 2^24, ppc 2^20, sparc 2^24),
 * the uint32 overflow of max_pfn, and x86's exact overflow limit */
static const uint32_t cfg_highmem[KCFG_NR_HIGHMEM] = {0, 16, 0xc8000u, 0xc8001u, 0xfc8000u, 0xfc8001u,
                                                      0xd0000u, 0xd0001u, 0xff4000u, 0xff4001u,
                                                      0xffffffffu, 0xffffffffu - 0x38000u};

/* The scratch context's machine: page tables and nothing else. Every other hook is NULL
 * (highmem.h: a no-op; no sleep: hm_kmap fails with EAGAIN where it would sleep). */
#define MINI_DIRTY_MAX 64u
struct mini_mmu {
    hm_pte_t *pt;
    size_t cap;
    uint32_t start, pages;
    /* the indices of pt[] written non-zero since the last reset (every other word is zero),
     * unless `overflow`: mini_reset then clears only these instead of the whole table */
    uint32_t dirty[MINI_DIRTY_MAX], ndirty;
    int overflow;
};
static struct mini_mmu mini;

static void mini_set_pte(void *m, hm_vaddr_t vaddr, hm_pte_t pte)
{
    struct mini_mmu *u = m;
    if (vaddr >= u->start && (vaddr - u->start) >> 12 < u->pages) {
        uint32_t i = (vaddr - u->start) >> 12;
        if (pte && !u->pt[i]) {
            if (u->ndirty < MINI_DIRTY_MAX)
                u->dirty[u->ndirty++] = i;
            else
                u->overflow = 1;
        }
        u->pt[i] = pte;
    }
}

static hm_pte_t mini_get_pte(void *m, hm_vaddr_t vaddr)
{
    const struct mini_mmu *u = m;
    if (vaddr >= u->start && (vaddr - u->start) >> 12 < u->pages)
        return u->pt[(vaddr - u->start) >> 12];
    return 0;
}

static void mini_reset(const struct hm_layout *L)
{
    size_t n = L->pt_pages ? L->pt_pages : 1u;
    if (n > mini.cap) {
        free(mini.pt);
        mini.pt = calloc(n, sizeof *mini.pt);
        mini.cap = mini.pt ? n : 0;
        if (!mini.pt) {
            fprintf(stderr, "kmap_ops: out of memory\n");
            abort();
        }
    } else if (mini.overflow) {
        memset(mini.pt, 0, mini.cap * sizeof *mini.pt);
    } else {
        for (uint32_t k = 0; k < mini.ndirty; k++)
            mini.pt[mini.dirty[k]] = 0;
    }
    mini.ndirty = 0;
    mini.overflow = 0;
    mini.start = L->pt_start;
    mini.pages = L->pt_pages;
}

/* A short script on the scratch context (small windows only), against a model of its own:
 * fill the window and one more (EAGAIN: hm_kmap cannot sleep without the hook), a bug without
 * a bug hook, a flush, one kmap_atomic round trip; then the invariants and the bug count. */
static void mini_run(struct run *r, struct hm_ctx *c2, const struct hm_config *cfg, const struct hm_layout *L)
{
    static struct model pm;
    struct model_config mc;
    struct model_out mo;
    struct hm_stats st;
    uint32_t hs = L->highmem_start_pfn, hp = L->max_pfn - L->highmem_start_pfn, nbugs = 0;
    hm_vaddr_t v = 0;
    int rc;

    mc.arch = hm_arch_name(cfg->arch);
    mc.nr_cpus = L->nr_cpus;
    mc.last_pkmap = cfg->last_pkmap;
    mc.highmem_pages = cfg->highmem_pages;
    mc.debug_highmem = cfg->debug_highmem;
    mc.need_flush = cfg->need_flush;
    if (model_init(&pm, &mc) != 0)
        fail(r, "config probe: the model refuses a config it accepted");
#define MINI_CHECK(call, what)                                                                           \
    do {                                                                                                 \
        rc = (call);                                                                                     \
        nbugs += mo.nbugs;                                                                               \
        if (rc != mo.err || (rc == HM_OK && (what) != mo.val))                                           \
            fail(r, "config probe, no-hook machine: %s returned %s 0x%x, the model expects %s 0x%x", #call, \
                 hm_strerror(rc), (what), hm_strerror(mo.err), mo.val);                                  \
    } while (0)
    for (uint32_t k = 0; hp && k <= L->last_pkmap; k++) {
        model_kmap(&pm, hs + k % hp, &mo);
        MINI_CHECK(hm_kmap(c2, hs + k % hp, &v), v);
    }
    model_kunmap(&pm, L->max_pfn - 1u, &mo); /* never mapped in a window smaller than hp: a BUG */
    MINI_CHECK(hm_kunmap(c2, L->max_pfn - 1u), 0u);
    model_kunmap(&pm, hs, &mo);
    MINI_CHECK(hm_kunmap(c2, hs), 0u);
    model_kunmap(&pm, hs, &mo);
    MINI_CHECK(hm_kunmap(c2, hs), 0u);
    model_flush_unused(&pm, &mo);
    MINI_CHECK(hm_kmap_flush_unused(c2), 0u);
    model_kmap_atomic(&pm, 0, 3, L->max_pfn - 1u, &mo);
    MINI_CHECK(hm_kmap_atomic(c2, 0, L->max_pfn - 1u, 3, &v), v);
    model_kunmap_atomic(&pm, 0, 3, v, &mo);
    MINI_CHECK(hm_kunmap_atomic(c2, 0, v, 3), 0u);
#undef MINI_CHECK
    rc = hm_check_invariants(c2, NULL, 0);
    hm_get_stats(c2, &st);
    if (rc != model_check_code(&pm) || st.bugs != nbugs)
        fail(r, "config probe, no-hook machine: invariants %d (model %d), %llu bugs (model %u)", rc,
             model_check_code(&pm), (unsigned long long)st.bugs, nbugs);
}

static int layout_matches(const struct model_layout *M, const struct hm_layout *L)
{
    int has = M->S != 0;
    uint64_t pt_end = (uint64_t)L->pt_start + ((uint64_t)L->pt_pages << 12);
    return M->page_offset == L->page_offset && M->high_memory == L->high_memory &&
           M->highmem_start_pfn == L->highmem_start_pfn && M->max_pfn == L->max_pfn && M->S == L->last_pkmap &&
           M->nr_km_types == L->nr_km_types && M->km_type_nr == L->km_type_nr &&
           M->config_nr_cpus == L->config_nr_cpus && (!has || M->pkmap_base == L->pkmap_base) &&
           (!has || M->atomic_idx0 == L->kmap_atomic_base) &&
           (!has || (M->pt_start == L->pt_start && M->pt_end == pt_end)) &&
           (!has || M->kmap_fix_begin != 0 ||
            (M->fixaddr_top == L->fixaddr_top && M->fixaddr_start == L->fixaddr_start));
}

#define KCFG_MAX_INIT 4096u

static void run_config(struct run *r, struct op_rec *o, struct model_out *mo, const uint8_t b[5])
{
    static struct hm_arch bad;
    static void *scratch;
    static size_t cap;
    struct hm_config cfg;
    struct model_config mc;
    struct model_layout M;
    struct hm_layout L;
    struct hm_machine mach;
    struct hm_ctx *c2 = NULL;
    const struct hm_arch *base =
        hm_arch_at(b[0] < KCFG_BAD_DESC ? b[0] % KOP_NR_ARCHES : (b[0] - KCFG_BAD_DESC) / 10u % KOP_NR_ARCHES);
    int valid, rc, want;
    size_t size, align = hm_ctx_align(), room;
    uint32_t what = (b[4] & 0x0fu) % KCFG_INIT__COUNT;

    memset(&cfg, 0, sizeof cfg);
    cfg.arch = base;
    cfg.nr_cpus = cfg_cpus[b[1] % KCFG_NR_CPUS];
    cfg.last_pkmap = cfg_windows[b[2] % KCFG_NR_WINDOWS];
    cfg.highmem_pages = cfg_highmem[b[3] % KCFG_NR_HIGHMEM];
    cfg.debug_highmem = (b[4] >> 4) & 1;
    cfg.need_flush = (b[4] >> 5) & 1;
    mc.arch = hm_arch_name(base);
    mc.nr_cpus = cfg.nr_cpus;
    mc.last_pkmap = cfg.last_pkmap;
    mc.highmem_pages = cfg.highmem_pages;
    mc.debug_highmem = cfg.debug_highmem;
    mc.need_flush = cfg.need_flush;
    valid = model_config_valid(&mc, &M) == 0;
    if (b[0] >= KCFG_BAD_DESC) {
        /* a descriptor the core must refuse (highmem_arch.h), or an unchanged copy */
        uint32_t kind = (b[0] - KCFG_BAD_DESC) % 10u;
        int x86 = model_arch_index(hm_arch_name(base)) == 0; /* PAE's 2 MiB PMD leaves room */
        bad = *base;
        switch (kind) {
        case 0: cfg.arch = NULL; break;
        case 1: bad.abi_version = HM_ARCH_ABI_VERSION + 1u; break;
        case 2: bad.layout = NULL; break;
        case 3: bad.page_shift = 9; break;
        case 4: bad.page_shift = 17; break;
        case 5: bad.lowmem_pages = 0; break;
        case 7:
            /* x86 (no PAE) with 1008 MiB of lowmem and 1024 slots: the direct map ends at
             * 0xff000000, VMALLOC_START (high_memory + 8 MiB, rounded up: 0xff800000) is not
             * below VMALLOC_END (PKMAP_BASE - 2 pages) */
            if (x86) {
                bad.lowmem_pages = 0x3f000u;
                cfg.last_pkmap = 1024; /* PKMAP_BASE 0xff800000 or lower: VMALLOC_END below it */
            }
            break;
        case 8: bad.default_last_pkmap = 0; break;    /* fine while the config names a window */
        case 9: bad.default_highmem_pages = 0; break; /* fine while it names a highmem size */
        default: break; /* the copy behaves as the original */
        }
        if (cfg.arch)
            cfg.arch = &bad;
        if (kind == 8u || kind == 9u) {
            if (base->has_highmem && (kind == 8u ? cfg.last_pkmap : cfg.highmem_pages) == 0)
                valid = 0;
        } else if (kind != 6u && (kind != 7u || x86)) {
            valid = 0;
        }
    }
    o->type = b[0];
    o->value = b[4];
    o->cpu = cfg.nr_cpus;
    o->pfn = cfg.highmem_pages;
    o->vaddr = cfg.last_pkmap;

    rc = hm_layout_compute(&cfg, &L);
    if ((rc == HM_OK) != valid || (rc != HM_OK && rc != HM_EINVAL))
        fail(r, "config probe: hm_layout_compute returned %s, the model %s the config", hm_strerror(rc),
             valid ? "accepts" : "refuses");
    if (valid && !layout_matches(&M, &L))
        fail(r, "config probe: layout (PKMAP_BASE 0x%08x, max_pfn 0x%x) differs from the model's (0x%08x, 0x%x)",
             L.pkmap_base, L.max_pfn, M.pkmap_base, M.max_pfn);
    size = hm_ctx_size(&cfg);
    if ((size != 0) != valid)
        fail(r, "config probe: hm_ctx_size = %zu for a config the model %s", size, valid ? "accepts" : "refuses");
    if (hm_layout_compute(NULL, &L) != HM_EINVAL || hm_layout_compute(&cfg, NULL) != HM_EINVAL ||
        hm_ctx_size(NULL) != 0)
        fail(r, "config probe: NULL config or layout accepted");

    /* hm_ctx_init in storage of its own, with one argument wrong (or none) */
    room = (size ? size : 64u) + 2u * align;
    if (room > cap) {
        free(scratch);
        cap = room < 4096u ? 4096u : room;
        scratch = aligned_alloc(align, (cap + align - 1u) / align * align);
        if (!scratch) {
            fprintf(stderr, "kmap_ops: out of memory\n");
            abort();
        }
    }
    memset(&mach, 0, sizeof mach);
    mach.m = &mini;
    mach.set_pte = mini_set_pte;
    mach.get_pte = mini_get_pte;
    if (valid)
        mini_reset(&L);
    want = valid ? HM_OK : HM_EINVAL;
    switch (what) {
    case KCFG_INIT_NULL_MEM:
        rc = hm_ctx_init(NULL, room, &cfg, &mach, NULL, &c2);
        want = HM_EINVAL;
        break;
    case KCFG_INIT_MISALIGNED:
        rc = hm_ctx_init((unsigned char *)scratch + align / 2u, room - align, &cfg, &mach, NULL, &c2);
        want = HM_EINVAL;
        break;
    case KCFG_INIT_SHORT:
        rc = hm_ctx_init(scratch, size ? size - 1u : 0u, &cfg, &mach, NULL, &c2);
        want = valid ? HM_ENOSPC : HM_EINVAL;
        break;
    case KCFG_INIT_NO_SET_PTE:
        if (b[4] & 0x40u)
            mach.get_pte = NULL;
        else
            mach.set_pte = NULL;
        rc = hm_ctx_init(scratch, room, &cfg, &mach, NULL, &c2);
        if (valid && M.S)
            want = HM_EINVAL; /* a highmem arch needs set_pte and get_pte */
        break;
    case KCFG_INIT_NULL_ARGS:
        rc = hm_ctx_init(scratch, room, NULL, &mach, NULL, &c2);
        if (rc == HM_EINVAL)
            rc = hm_ctx_init(scratch, room, &cfg, NULL, NULL, &c2);
        if (rc == HM_EINVAL)
            rc = hm_ctx_init(scratch, room, &cfg, &mach, NULL, NULL);
        want = HM_EINVAL;
        break;
    default:
        /* hm_ctx_init zeroes the whole context byte by byte: for the large windows (up to
         * 4096 slots, ~90 KB) that alone would cost milliseconds under the fuzzer's comparison
         * tracing, so only contexts up to KCFG_MAX_INIT bytes are built */
        if (valid && size > KCFG_MAX_INIT) {
            o->err = HM_OK;
            o->val = 1;
            model_no_op(&r->model, mo);
            return;
        }
        rc = hm_ctx_init(scratch, room, &cfg, &mach, NULL, &c2);
        break;
    }
    if (rc != want)
        fail(r, "config probe: hm_ctx_init (case %u) returned %s, expected %s", what, hm_strerror(rc),
             hm_strerror(want));
    if (rc == HM_OK) {
        char msg[64];
        if (!c2 || hm_check_invariants(c2, msg, sizeof msg) != 0 || hm_pool_size(c2) != M.S ||
            hm_last_pkmap_nr(c2) != 0 || !hm_ctx_layout(c2) || memcmp(hm_ctx_layout(c2), &L, sizeof L) != 0)
            fail(r, "config probe: the new context is not in its initial state");
        if (M.S && M.S <= 64u && what == KCFG_INIT_OK)
            mini_run(r, c2, &cfg, &L);
    }
    o->err = rc;
    o->val = size != 0;
    model_no_op(&r->model, mo);
    mo->err = rc;
}

static void run_op(struct run *r, struct fz_input *in)
{
    struct op_rec *o = &r->log[r->nlog++];
    struct model *m = &r->model;
    struct model_out mo;
    hm_vaddr_t v = 0;
    hm_pfn_t p = 0;
    uint8_t val = 0, s, off;

    memset(o, 0, sizeof *o);
    o->op = kop_of_byte(fz_front_byte(in));
    r->nev = 0;
    r->nbugs = 0;
    r->bug = HM_BUG_NONE;
    r->bug_err = HM_OK;
    r->stale_events = 0;

    switch (o->op) {
    case KOP_KMAP:
        o->pfn = decode_pfn(r, fz_front_byte(in));
        o->err = hm_kmap_try(r->ctx, o->pfn, &v);
        o->val = v;
        model_kmap(m, o->pfn, &mo);
        break;
    case KOP_KUNMAP:
        o->pfn = decode_pfn(r, fz_front_byte(in));
        o->err = hm_kunmap(r->ctx, o->pfn);
        model_kunmap(m, o->pfn, &mo);
        break;
    case KOP_FLUSH:
        o->err = hm_kmap_flush_unused(r->ctx);
        model_flush_unused(m, &mo);
        break;
    case KOP_KMAP_ATOMIC:
    case KOP_KMAP_ATOMIC_PFN:
        o->cpu = decode_cpu(r, fz_front_byte(in));
        o->type = decode_type(r, fz_front_byte(in));
        o->pfn = decode_pfn(r, fz_front_byte(in));
        if (o->op == KOP_KMAP_ATOMIC) {
            o->err = hm_kmap_atomic(r->ctx, o->cpu, o->pfn, o->type, &v);
            model_kmap_atomic(m, o->cpu, o->type, o->pfn, &mo);
        } else {
            o->err = hm_kmap_atomic_pfn(r->ctx, o->cpu, o->pfn, o->type, &v);
            model_kmap_atomic_pfn(m, o->cpu, o->type, o->pfn, &mo);
        }
        o->val = v;
        break;
    case KOP_KUNMAP_ATOMIC:
        o->cpu = decode_cpu(r, fz_front_byte(in));
        o->type = decode_type(r, fz_front_byte(in));
        o->vaddr = decode_kunmap_addr(r, o->cpu, o->type, fz_front_byte(in));
        o->err = hm_kunmap_atomic(r->ctx, o->cpu, o->vaddr, o->type);
        model_kunmap_atomic(m, o->cpu, o->type, o->vaddr, &mo);
        break;
    case KOP_LOAD:
    case KOP_STORE:
        o->cpu = decode_cpu(r, fz_front_byte(in));
        s = fz_front_byte(in);
        off = fz_front_byte(in);
        o->vaddr = decode_addr(r, s, off);
        if (o->op == KOP_LOAD) {
            o->err = hm_sim_load(r->sim, o->cpu, o->vaddr, &val);
            o->val = val;
            model_load(m, o->cpu, o->vaddr, &mo);
        } else {
            o->value = fz_front_byte(in);
            o->err = hm_sim_store(r->sim, o->cpu, o->vaddr, o->value);
            model_store(m, o->cpu, o->vaddr, o->value, &mo);
        }
        break;
    case KOP_KMAP_TO_PAGE:
    case KOP_KMAP_ATOMIC_TO_PAGE:
        s = fz_front_byte(in);
        off = fz_front_byte(in);
        o->vaddr = decode_addr(r, s, off);
        if (o->op == KOP_KMAP_TO_PAGE) {
            o->err = hm_kmap_to_page(r->ctx, o->vaddr, &p);
            model_kmap_to_page(m, o->vaddr, &mo);
        } else {
            o->err = hm_kmap_atomic_to_page(r->ctx, o->vaddr, &p);
            model_kmap_atomic_to_page(m, o->vaddr, &mo);
        }
        o->val = p;
        break;
    case KOP_PROBE:
        o->type = fz_front_byte(in) % KPROBE__COUNT;
        o->value = fz_front_byte(in);
        switch (o->type) {
        case KPROBE_NULL_OUT: probe_null_out(r, o, &mo); break;
        case KPROBE_NULL_CTX: probe_null_ctx(r, o, &mo); break;
        case KPROBE_GETTERS_NULL: probe_getters_null(r, o, &mo); break;
        case KPROBE_GETTERS: probe_getters(r, o, &mo); break;
        case KPROBE_NAMES: probe_names(r, o, &mo); break;
        case KPROBE_REGISTRY: probe_registry(r, o, &mo); break;
        case KPROBE_INVARIANTS: probe_invariants(r, o, &mo); break;
        default: probe_stats(r, o, &mo); break;
        }
        break;
    case KOP_POKE: {
        uint8_t a = fz_front_byte(in), p = fz_front_byte(in);
        struct hm_machine mach;
        uint32_t page = 0;
        model_no_op(m, &mo);
        if (!r->S)
            break; /* no pkmap window */
        o->type = a % r->S;
        o->vaddr = pkmap_addr(r, o->type);
        o->value = p;
        if (p >= KPOKE_NONE) {
            /* any page up to 8 past max_pfn (what decode_pfn gives beyond: folded back) */
            o->pfn = decode_pfn(r, p);
            if (o->pfn >= r->L.max_pfn + 8u)
                o->pfn %= r->L.max_pfn;
            o->pte = hm_mk_kmap_pte(r->ctx, o->pfn);
            page = o->pfn + 1u;
        }
        hm_sim_machine(r->sim, &mach);
        mach.set_pte(mach.m, o->vaddr, o->pte);
        model_poke_pte(m, o->type, page, &mo);
        break;
    }
    case KOP_CONFIG: {
        uint8_t b[5];
        for (unsigned i = 0; i < 5; i++)
            b[i] = fz_front_byte(in);
        run_config(r, o, &mo, b);
        break;
    }
    case KOP_IRQ:
        o->value = fz_front_byte(in) & 1u;
        hm_sim_set_in_interrupt(r->sim, o->value);
        model_set_in_interrupt(m, o->value, &mo);
        break;
    default: /* KOP_PAGE_ADDRESS */
        o->pfn = decode_pfn(r, fz_front_byte(in));
        o->err = hm_page_address(r->ctx, o->pfn, &v);
        o->val = v;
        model_page_address(m, o->pfn, &mo);
        break;
    }
    o->bug = r->bug;
    if (r->verbose)
        print_op(stdout, o);
    check_after(r, o, &mo);

    /* decoder state for the following ops */
    if (o->err == HM_OK && (o->op == KOP_KMAP || o->op == KOP_KMAP_ATOMIC || o->op == KOP_KMAP_ATOMIC_PFN))
        remember_recent(r, o->val);
    if (o->err == HM_OK && (o->op == KOP_KMAP_ATOMIC || o->op == KOP_KMAP_ATOMIC_PFN))
        r->remembered[o->cpu * r->ntypes + o->type] = o->val;
}

static int verbose(void)
{
    static int v = -1;
    if (v < 0)
        v = getenv("HM_FUZZ_VERBOSE") != NULL;
    return v;
}

static int digest(void)
{
    static int d = -1;
    if (d < 0)
        d = getenv("HM_FUZZ_DIGEST") != NULL;
    return d;
}

/* With HM_FUZZ_DIGEST set, one line per input: an FNV-1a hash of every op's decoded operands
 * and results, fed as explicit little-endian 32-bit words so that every host (32/64-bit, big or
 * little endian) prints the same line for the same input: tools/cross-check compares them. */
static void print_digest(const struct run *r)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < r->nlog; i++) {
        const struct op_rec *o = &r->log[i];
        uint32_t words[] = {(uint32_t)o->op, (uint32_t)o->err, (uint32_t)o->bug, o->val, o->pfn,
                            o->vaddr, o->cpu, o->type, o->value};
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
            for (unsigned b = 0; b < 4; b++) {
                h ^= (words[w] >> (8 * b)) & 0xffu;
                h *= 16777619u;
            }
    }
    printf("digest %08x arch %s ops %u\n", h, r->nlog ? hm_arch_name(r->cfg.arch) : "-", r->nlog);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run *r = &R;
    struct fz_input in;

    memset(r, 0, offsetof(struct run, ev));
    r->verbose = verbose();
    fz_init(&in, data, size);
    if (setup(r, &in)) {
        while (fz_remaining(&in) > 0 && r->nlog < KOP_MAX_OPS)
            run_op(r, &in);
        check_final(r);
    }
    if (digest())
        print_digest(r);
    return 0;
}
