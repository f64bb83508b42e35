/* check.c - kmap_ops' comparisons of the library + sim against the model: per op, in full every
 * few ops, at the end of an input; fail() prints the machine, the ops and what differed.
 * SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strnlen */
#endif
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/kmap_ops_internal.h"
#include "sim/sim.h"

static void print_ev(FILE *f, const char *who, uint32_t i, int kind, uint32_t cpu, uint64_t a, uint64_t b,
                     uint64_t pte)
{
    fprintf(f, "#   %s[%u] %s cpu=%s%u a=0x%" PRIx64 " b=0x%" PRIx64 " pte=0x%llx\n", who, i, hm_event_name(kind),
            cpu == HM_CPU_ALL ? "all/" : "", cpu == HM_CPU_ALL ? 0u : cpu, a, b, (unsigned long long)pte);
}

void fail(struct run *r, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "\n==== kmap_ops: library and model disagree ====\n");
    fop_print_machine(stderr, &r->m.cfg, r->L, r->dec.ext, r->dec.cache);
    for (uint32_t i = 0; i < r->nlog; i++)
        fop_print_op(stderr, &r->dec, 0, &r->log[i]);
    fprintf(stderr, "# ^^^ the last op above (#%u) is the one that failed:\n# ", r->nlog ? r->nlog - 1u : 0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    for (uint32_t i = 0; i < r->nev; i++)
        print_ev(stderr, "library", i, r->ev[i].kind, r->ev[i].cpu, r->ev[i].a, r->ev[i].b, r->ev[i].pte);
    if (r->model_ok)
        for (uint32_t i = 0; i < r->model.nev; i++)
            print_ev(stderr, "model", i, r->model.ev[i].kind, r->model.ev[i].cpu, r->model.ev[i].a,
                     r->model.ev[i].b, r->model.ev[i].pte);
    fflush(stderr);
    abort();
}

/* ---------------------------------------------------------------------------------------
 * Checks after every operation.
 * ------------------------------------------------------------------------------------- */
static int op_has_value(int op)
{
    return op == FOP_KMAP || op == FOP_KMAP_ATOMIC || op == FOP_KMAP_ATOMIC_PFN || op == FOP_LOAD ||
           op == FOP_KMAP_TO_PAGE || op == FOP_KMAP_ATOMIC_TO_PAGE || op == FOP_PAGE_ADDRESS ||
           op == FOP_KMAP_HIGH_GET || op == FOP_KMAP_LOCAL;
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
            (e->kind != HM_EV_BUG && e->b != x->b) ||
            ((e->kind == HM_EV_PTE_SET || e->kind == HM_EV_MACHINE_FAIL) && e->pte != x->pte))
            fail(r, "event %u differs: library %s, model %s", i, hm_event_name(e->kind),
                 hm_event_name(x->kind));
    }
}

static void compare_pte(struct run *r, uint64_t vaddr, uint64_t exp, const char *what)
{
    uint64_t page = vaddr & ~(uint64_t)0xfff; /* a 64-bit mask: no high bit dropped */
    uint64_t lib = hm_sim_pte(r->sim, page);
    if (lib != exp)
        fail(r, "%s: PTE at 0x%08" PRIx64 " is 0x%llx, the model expects 0x%llx", what, page,
             (unsigned long long)lib, (unsigned long long)exp);
}

static void check_pte(struct run *r, uint64_t vaddr, const char *what)
{
    compare_pte(r, vaddr, model_pte_at(&r->model, vaddr), what);
}

/* The model's PTE word of pkmap slot i, straight from its table (model_pte_at of the slot). */
static uint64_t model_slot_pte(const struct model *m, uint32_t i)
{
    return m->pk_pte[i] ? model_pte_word(m, m->pk_pte[i] - 1u) : 0;
}

/* page_address(pfn) against the model's, which is exp (model_page_address_of). */
static void check_pfn_address(struct run *r, uint32_t pfn, uint32_t exp)
{
    hm_vaddr_t v = 0;
    if (hm_page_address(r->ctx, pfn, &v) != HM_OK)
        fail(r, "page_address(0x%x) failed", pfn);
    if (v != exp)
        fail(r, "page_address(0x%x) = 0x%08" PRIx64 ", the model expects 0x%08x", pfn, v, exp);
}

static void check_tlb(struct run *r, uint64_t vaddr, const char *what)
{
    for (uint32_t c = 0; c < r->ncpus; c++) {
        hm_pfn_t lp = 0;
        uint32_t mp = 0;
        int l = hm_sim_tlb_lookup(r->sim, c, vaddr, &lp), e = model_tlb_lookup(&r->model, c, vaddr, &mp);
        if (l != e || (l && lp != mp))
            fail(r, "%s: cpu %u TLB for 0x%08" PRIx64 ": sim %d (pfn 0x%x), model %d (pfn 0x%x)", what, c, vaddr, l,
                 lp, e, mp);
    }
}

/* Every TLB entry: a sim TLB is filled only by a load or store, so checking every page
 * accessed during the input (both ways: sim and model agree on each CPU) covers them all. */
static void check_all_tlbs(struct run *r, const char *what)
{
    for (uint32_t i = 0; i < r->nlog; i++)
        if (r->log[i].op == FOP_LOAD || r->log[i].op == FOP_STORE)
            check_tlb(r, r->log[i].vaddr, what);
}

/* I7 for one slot: pkmap_count[i] - 1 outstanding kmaps, as the model counts them. */
static void check_count(struct run *r, uint32_t i)
{
    if (i < r->S && hm_pkmap_count(r->ctx, i) != r->model.count[i])
        fail(r, "I7: pkmap_count[%u] = %d, the model expects %d", i, hm_pkmap_count(r->ctx, i),
             r->model.count[i]);
}

/* I10: the pagefault-disable depth of every CPU. */
static void check_depths(struct run *r)
{
    for (uint32_t c = 0; c < r->ncpus; c++)
        if (hm_pagefault_depth(r->ctx, c) != r->model.depth[c])
            fail(r, "I10: cpu %u pagefault depth %d, the model expects %d", c, hm_pagefault_depth(r->ctx, c),
                 r->model.depth[c]);
}

/* 5.11: the task running on every CPU and every task's stack depth (kmap_ctrl.idx); before
 * 5.11 both getters must say -1, as the model does. */
static void check_tasks(struct run *r)
{
    const struct model *m = &r->model;
    uint32_t ntasks = m->L.nr_tasks;
    for (uint32_t c = 0; c < r->ncpus; c++) {
        if (hm_cpu_task(r->ctx, c) != model_cpu_task(m, c))
            fail(r, "cpu %u runs task %d, the model expects %d", c, hm_cpu_task(r->ctx, c), model_cpu_task(m, c));
        if (hm_task_local_idx(r->ctx, 0, c) != model_task_local_idx(m, 0, c))
            fail(r, "cpu %u's idle task: kmap_ctrl.idx %d, the model expects %d", c,
                 hm_task_local_idx(r->ctx, 0, c), model_task_local_idx(m, 0, c));
    }
    for (uint32_t t = 1; t < ntasks; t++)
        if (hm_task_local_idx(r->ctx, t, 0) != model_task_local_idx(m, t, 0))
            fail(r, "task %u: kmap_ctrl.idx %d, the model expects %d", t, hm_task_local_idx(r->ctx, t, 0),
                 model_task_local_idx(m, t, 0));
}

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

/* Three levels of checks.
 * - After every op, incrementally (cost independent of the window size S): the result, the bug
 *   report, every event (stale-translation events included), the count of every slot the op named
 *   or touched (a slot any of its events names: after a flush, every slot it freed or could not
 *   clear; its page's slot; the cursor), the cursor, every CPU's pagefault depth after the ops
 *   that change one (the kmap_atomic family; probes, which must not), every PTE it wrote and the
 *   atomic slot it named, the TLBs of an access, the page_address of its page and (I12) no TLB
 *   caching a slot a flush freed. The page tables change only through the library's writes,
 *   each announced by an event (checked above), and the embedder's pokes: the sim's count of
 *   the PTE writes it accepted must match them (check_writes), so no write goes unchecked.
 * - Every LIGHT_EVERY ops that may change the context or its page tables (kmap family, flush,
 *   poke; not loads, stores, the interrupt switch or the read-only probes), check_full(r, 0):
 *   the sim's stale TLB hit and stale PTE write counters, the PTE-write count, the cursor, every
 *   depth, the count and PTE of every slot the model has in use or mapped, page_address of every
 *   record, the PTE of every atomic slot a PTE event named (the others were never written).
 * - Every FULL_EVERY such ops and at the end of the input, check_full(r, 1): the same, plus
 *   hm_check_invariants (I1-I3, I5, I6, I10 over the whole context, against the model's
 *   prediction) and the count of every slot; at the end also every TLB entry the input filled.
 * A state the per-op checks miss is therefore caught at most LIGHT_EVERY such ops later, or
 * FULL_EVERY for the library's internal consistency and a count the model has at 0 that no op
 * touched, and always at the end. */
#define LIGHT_EVERY 16u
#define FULL_EVERY 64u

/* The PTE writes the sim accepted since the set-up (sets and clears) against those the
 * library's events announced and the pokes the machine took. */
static void check_writes(struct run *r, const struct hm_sim_stats *st)
{
    uint64_t n = (st->pte_sets - r->st.pte_sets) + (st->pte_clears - r->st.pte_clears);
    if (n != r->pte_writes)
        fail(r, "the sim accepted %llu PTE writes since the set-up; the events and pokes account for %llu",
             (unsigned long long)n, (unsigned long long)r->pte_writes);
}

static void check_full(struct run *r, int full)
{
    const struct model *m = &r->model;
    struct hm_sim_stats st;

    hm_sim_get_stats(r->sim, &st);
    if (st.stale_cache_reads != r->st.stale_cache_reads)
        fail(r, "the data cache: %llu stale line reads since the set-up",
             (unsigned long long)(st.stale_cache_reads - r->st.stale_cache_reads));
    if (st.stale_tlb_hits - r->st.stale_tlb_hits != r->exp_stale_hits ||
        st.stale_pte_writes - r->st.stale_pte_writes != r->exp_stale_writes)
        fail(r, "stale: since the set-up the sim counted %llu TLB hits and %llu PTE writes; the model expects %u, %u",
             (unsigned long long)(st.stale_tlb_hits - r->st.stale_tlb_hits),
             (unsigned long long)(st.stale_pte_writes - r->st.stale_pte_writes), r->exp_stale_hits,
             r->exp_stale_writes);
    check_writes(r, &st);
    if (r->S && hm_last_pkmap_nr(r->ctx) != m->last_nr)
        fail(r, "last_pkmap_nr = %u, the model expects %u", hm_last_pkmap_nr(r->ctx), m->last_nr);
    if (m->colours > 1) { /* xtensa: colour 1's cursor too (colour 0's is last_pkmap_nr) */
        uint32_t nr = 0;
        if (hm_pkmap_colours(r->ctx) != m->colours || hm_pkmap_cursor(r->ctx, 1, &nr) != HM_OK ||
            nr != m->last_nr1)
            fail(r, "pkmap colours %u, colour 1's cursor %u; the model expects %u, %u",
                 hm_pkmap_colours(r->ctx), nr, m->colours, m->last_nr1);
    }
    check_depths(r);
    check_tasks(r);
    if (full)
        check_invariants(r);
    for (uint32_t i = 0; i < r->S; i++) {
        if (m->count[i] >= 1 || m->pk_pte[i]) {
            check_count(r, i);
            compare_pte(r, fop_pkmap_addr(r->L, i), model_slot_pte(m, i), "full sweep, pkmap");
        } else if (full) {
            check_count(r, i);
        }
    }
    /* every page_address record: its page's address is its slot's */
    for (uint32_t k = 0; k < m->nrec; k++)
        check_pfn_address(r, m->rec_page[k], fop_pkmap_addr(r->L, m->rec_slot[k]));

    /* the atomic slots a PTE event named (each other one: never written since the reset, none
     * in the sim and the model alike, check_writes); all of them if the list overflowed */
    if (r->atomic_overflow) { /* every slot of a simulated CPU: each type's, 5.11 each position's */
        for (uint32_t c = 0; c < r->ncpus; c++)
            for (uint32_t t = 0; t < m->spc; t++)
                check_pte(r, model_row_slot_addr(m, c, t), "full sweep, atomic");
    } else {
        for (uint32_t k = 0; k < r->natomic; k++)
            check_pte(r, r->atomic[k], "full sweep, atomic");
    }
    r->since_light = 0;
    if (full)
        r->since_full = 0;
}

/* A PTE event's address outside the pkmap window: remembered (once) for check_full. */
static void note_pte_addr(struct run *r, uint64_t vaddr)
{
    uint64_t page = vaddr & ~(uint64_t)0xfff;
    for (uint32_t k = 0; k < r->natomic; k++)
        if (r->atomic[k] == page)
            return;
    if (r->natomic < FOP_ATOMIC_NOTED)
        r->atomic[r->natomic++] = page;
    else
        r->atomic_overflow = 1;
}

static int in_window(const struct run *r, uint64_t a) /* (a 64-bit distance, compared whole) */
{
    return a >= r->L->pkmap_base && a - r->L->pkmap_base < ((uint64_t)r->S << 12);
}

void check_after(struct run *r, struct fop_rec *o, const struct model_out *mo)
{
    const struct model *m = &r->model;
    uint32_t page_addr = 0;
    int has_page = o->op == FOP_KMAP || o->op == FOP_KUNMAP || o->op == FOP_KMAP_ATOMIC ||
                   o->op == FOP_KMAP_ATOMIC_PFN || o->op == FOP_PAGE_ADDRESS || o->op == FOP_KMAP_HIGH_GET ||
                   o->op == FOP_KMAP_LOCAL;

    /* the result */
    if (o->err != mo->err)
        fail(r, "returned %s, the model expects %s", hm_strerror(o->err), hm_strerror(mo->err));
    if (r->nbugs != mo->nbugs || (mo->nbugs && (r->bug != mo->bug || r->bug_err != mo->bug_err)))
        fail(r, "%u bug report(s), last %s (%s); the model expects %u, last %s (%s)", r->nbugs,
             hm_bug_name(r->bug), hm_strerror(r->bug_err), mo->nbugs, hm_bug_name(mo->bug),
             hm_strerror(mo->bug_err));
    if (o->err == HM_OK && op_has_value(o->op) && o->val != mo->val)
        fail(r, "result 0x%" PRIx64 ", the model expects 0x%" PRIx64, o->val, mo->val);
    check_events(r);

    /* stale translations: only where the model says the kernel's behaviour leaves one. Per op
     * the sim's events (one per stale hit or write); the sim's two counters in check_full. */
    if (r->stale_events != mo->stale_tlb_hits + mo->stale_pte_writes)
        fail(r, "stale: %u stale-translation events; the model expects %u TLB hits and %u PTE writes",
             r->stale_events, mo->stale_tlb_hits, mo->stale_pte_writes);
    r->exp_stale_hits += mo->stale_tlb_hits;
    r->exp_stale_writes += mo->stale_pte_writes;
    /* the cache model (FOP_EXT_CACHE): never a stale line (the model has no cache; the load's
     * byte was compared above, with the page's as the model keeps it) */
    if (r->stale_cache_events)
        fail(r, "the data cache: %u load(s) read a stale cache line (a line of another page, or older than a "
                "store through another mapping)", r->stale_cache_events);

    /* the events' slots and PTEs: I7 for every slot an event names, every PTE written (an
     * accepted write counts for check_writes; a refused one is followed by machine_fail) */
    for (uint32_t i = 0; i < r->nev; i++) {
        const struct hm_event *e = &r->ev[i];
        int win = r->S && in_window(r, e->a);
        if (win)
            check_count(r, (uint32_t)((e->a - r->L->pkmap_base) >> 12));
        if (e->kind == HM_EV_PTE_SET || e->kind == HM_EV_PTE_CLEAR) {
            check_pte(r, e->a, "written PTE");
            if (!(i + 1 < r->nev && r->ev[i + 1].kind == HM_EV_MACHINE_FAIL))
                r->pte_writes++;
            if (!win)
                note_pte_addr(r, e->a);
        }
    }
    if (o->op == FOP_POKE && r->S && o->err == HM_OK)
        r->pte_writes++;

    /* I7 for the op's page's slot (a probe names a page too) and the cursor; the cursor itself */
    if ((has_page || o->op == FOP_PROBE) && o->pfn < r->L->max_pfn) {
        page_addr = model_page_address_of(m, o->pfn);
        if (r->S && in_window(r, page_addr))
            check_count(r, (page_addr - fop_a32(r->L->pkmap_base)) >> 12);
    }
    if (r->S) {
        check_count(r, m->last_nr);
        if (hm_last_pkmap_nr(r->ctx) != m->last_nr)
            fail(r, "last_pkmap_nr = %u, the model expects %u", hm_last_pkmap_nr(r->ctx), m->last_nr);
    }
    /* I10: only the kmap_atomic family changes a depth (a probe calls it with bad arguments) */
    if (o->op == FOP_KMAP_ATOMIC || o->op == FOP_KUNMAP_ATOMIC || o->op == FOP_KMAP_ATOMIC_PFN ||
        o->op == FOP_PROBE)
        check_depths(r);
    /* the task stacks: the ops that push, pop or switch (5.11's kmap_atomic family too) */
    if (o->op == FOP_KMAP_LOCAL || o->op == FOP_KUNMAP_LOCAL || o->op == FOP_SWITCH ||
        (m->L.km_max_idx && (o->op == FOP_KMAP_ATOMIC || o->op == FOP_KUNMAP_ATOMIC || o->op == FOP_KMAP_ATOMIC_PFN)))
        check_tasks(r);

    /* (I9) the atomic slot the op named */
    if ((o->op == FOP_KMAP_ATOMIC || o->op == FOP_KUNMAP_ATOMIC || o->op == FOP_KMAP_ATOMIC_PFN) &&
        o->cpu < r->ncpus && o->type < r->ntypes && r->S)
        check_pte(r, model_slot_addr(m, o->cpu, o->type), "I9 atomic slot");
    if (o->op == FOP_LOAD || o->op == FOP_STORE)
        check_tlb(r, o->vaddr, "TLB after the access");

    /* page_address of the page the op named */
    if (has_page && o->pfn < r->L->max_pfn)
        check_pfn_address(r, o->pfn, page_addr);

    /* I12 / I4 after a flush: no slot it freed is still cached in any TLB (count-0 slots freed
     * earlier were checked then, and a load of a count-0 slot faults without filling a TLB; a
     * clear the machine refused, followed by machine_fail, freed nothing) */
    if (mo->flushed)
        for (uint32_t i = 0; i < r->nev; i++)
            if (r->ev[i].kind == HM_EV_PTE_CLEAR && !(i + 1 < r->nev && r->ev[i + 1].kind == HM_EV_MACHINE_FAIL) &&
                in_window(r, r->ev[i].a)) {
                uint32_t slot = (uint32_t)((r->ev[i].a - r->L->pkmap_base) >> 12); /* < S */
                /* (the op may have mapped it again since: a kmap reuses what its wrap freed) */
                for (uint32_t c = 0; c < r->ncpus; c++)
                    if (m->tlb_pk[c * r->S + slot] || hm_sim_tlb_lookup(r->sim, c, r->ev[i].a, NULL))
                        fail(r, "I12: slot %u was freed but cpu %u still caches it", slot, c);
            }

    /* the periodic comparisons, counted in ops that may change the context or its page tables
     * (a load, a store or the irq switch only reach the sim; probes and config probes only read
     * this context or build another one: highmem.h promises they change nothing, and the final
     * comparison would see it if they did) */
    if (o->op != FOP_LOAD && o->op != FOP_STORE && o->op != FOP_IRQ && o->op != FOP_PROBE &&
        o->op != FOP_CONFIG) {
        if (++r->since_full >= FULL_EVERY)
            check_full(r, 1);
        else if (++r->since_light >= LIGHT_EVERY)
            check_full(r, 0);
    }
}

/* At the end: the full comparison (a count-0 slot's PTE is none by I2) and every TLB. */
void check_final(struct run *r)
{
    check_full(r, 1);
    check_all_tlbs(r, "final sweep");
}


/* The library's layout against the model's (spec formulas), field by field. */
int layout_matches(const struct model_layout *M, const struct hm_layout *L)
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

void check_layout(struct run *r)
{
    const struct model_layout *M = &r->model.L;
    const struct hm_layout *L = r->L;

    if (!layout_matches(M, L))
        fail(r, "layout: model (PKMAP_BASE 0x%08x, atomic idx 0 0x%08x, window 0x%llx..0x%llx, max_pfn 0x%x)"
                " != library (0x%08" PRIx64 ", 0x%08" PRIx64 ", 0x%" PRIx64 "..0x%llx, 0x%x)",
             M->pkmap_base, M->atomic_idx0, (unsigned long long)M->pt_start,
             (unsigned long long)M->pt_end, M->max_pfn, L->pkmap_base, L->kmap_atomic_base, L->pt_start,
             (unsigned long long)L->pt_start + ((unsigned long long)L->pt_pages << 12), L->max_pfn);
}

void check_message(struct run *r, const char *who, int rc, const char *buf, size_t len)
{
    char prefix[16]; /* "I<rc>:", written by hand: snprintf cost more than the rest of the check */
    size_t n, np = 0;
    unsigned long v = rc < 0 ? 0ul - (unsigned long)rc : (unsigned long)rc;
    char digits[12];
    int nd = 0;

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
    if (rc == 0)
        return;
    do {
        digits[nd++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    prefix[np++] = 'I';
    if (rc < 0)
        prefix[np++] = '-';
    while (nd > 0)
        prefix[np++] = digits[--nd];
    prefix[np++] = ':';
    if (np > 7)
        np = 7; /* as the snprintf into 8 bytes did */
    if (strncmp(buf, prefix, n < np ? n : np) != 0)
        fail(r, "%s: code %d but the message is \"%s\"", who, rc, buf);
    if (len >= 8 && n < np)
        fail(r, "%s: message \"%s\" too short", who, buf);
}
