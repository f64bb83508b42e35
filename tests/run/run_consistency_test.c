/* run_consistency_test.c - kmapsim run workloads on every arch: statistics agree with the
 * event stream and the simulated hardware, per-workload figures worked out from the model,
 * reproducibility per seed, and the --svg recording. Criterion; runs the engine in-process.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runlib.h"

/* Parameters are handed to re-executed workers: plain integers only. */
struct wa_case {
    int workload;
    int arch; /* index into rt_arches */
};

#define SMALL_OPS 4000u

/* The parameters of a test over every workload (the trace one only if with_trace) on every
 * arch. */
static struct criterion_test_params all_cases(int with_trace)
{
    static struct wa_case cases[KW__COUNT * RT_NARCH];
    size_t k = 0;
    int w, a;
    for (w = 0; w < KW__COUNT; w++)
        for (a = 0; a < RT_NARCH; a++)
            if ((w != KW_TRACE || with_trace))
                cases[k++] = (struct wa_case){w, a};
    return cr_make_param_array(struct wa_case, cases, k);
}

/* The trace workload's trace: three kmaps, their kunmaps, an explicit flush. One cycle makes
 * exactly three new mappings (the flush freed the previous cycle's slots) and one flush. */
static struct trace_list trace_for(const char *arch)
{
    struct hm_config cfg = {.arch = hm_arch_find(arch), .nr_cpus = 1};
    struct hm_layout l;
    struct trace_list t;
    char text[512], err[128];
    hm_pfn_t p;
    cr_assert_eq(hm_layout_compute(&cfg, &l), HM_OK);
    p = l.last_pkmap ? l.highmem_start_pfn + 7 : 0x1000; /* highmem, or any lowmem page */
    snprintf(text, sizeof text,
             "kmap %u\nkmap %u\nkmap %u\nkunmap %u\nkunmap %u\nkunmap %u\nflush\n", p, p + 1,
             p + 2, p, p + 1, p + 2);
    cr_assert_eq(trace_parse_text(text, strlen(text), &t, err, sizeof err), 0, "%s", err);
    return t;
}

/* pkmap colours of an arch's layout with LAST_PKMAP L (1: uncoloured). */
static uint64_t colours_of(const char *arch, uint64_t L)
{
    struct hm_config cfg = {.arch = hm_arch_find(arch), .nr_cpus = 1, .last_pkmap = (uint32_t)L};
    struct hm_layout l;
    cr_assert_eq(hm_layout_compute(&cfg, &l), HM_OK);
    return l.pkmap_colours;
}

/* pagecache-read's flushes on a window of L slots in n colours (spec §10.3), one page mapped at a
 * time, consecutive pfns: kmap k (from 1) is of the ((k - 1) mod n)-th colour met, and each colour
 * scans its L/n slots as an uncoloured window of L/n would, wrapping (and flushing) at its own
 * kmaps L/n, 2L/n, ... Returns the flushes; *last is the global number of the last kmap that
 * flushed (0: none), and every mapping made before it was freed by some flush. With n = 1: ops /
 * L flushes, the last at kmap F * L. */
static uint64_t read_flushes(uint64_t ops, uint64_t L, uint64_t n, uint64_t *last)
{
    uint64_t per = L / n, F = 0;
    *last = 0;
    for (uint64_t c = 0; c < n && c < ops; c++) {
        uint64_t mine = (ops - c + n - 1) / n, f = mine / per;
        F += f;
        if (f && c + 1 + (f * per - 1) * n > *last)
            *last = c + 1 + (f * per - 1) * n;
    }
    return F;
}

#define TRACE_CMDS 7u
#define TRACE_CYCLES 50u

/* The engine's case of c: its arch and workload, seed and ops, the rest defaults. */
static struct rt_case rt_case_of(const struct wa_case *c, uint64_t seed, uint64_t ops)
{
    struct rt_case rc;
    memset(&rc, 0, sizeof rc);
    rc.arch = rt_arches[c->arch];
    rc.workload = c->workload;
    rc.seed = seed;
    rc.ops = ops;
    return rc;
}

static void run_case(const struct wa_case *c, uint64_t seed, struct kmapsim_run_result *r,
                     struct trace_list *t)
{
    struct rt_case rc = rt_case_of(c, seed, SMALL_OPS);
    char err[256];
    if (c->workload == KW_TRACE) {
        *t = trace_for(rc.arch);
        rc.trace = t;
        rc.ops = TRACE_CMDS * TRACE_CYCLES;
    }
    cr_assert_eq(rt_run(&rc, r, err, sizeof err), 0, "%s: %s", rc.arch, err);
}

ParameterizedTestParameters(run, consistent)
{
    return all_cases(1);
}

/* The rules every run obeys (runlib.c), then what each workload's model implies. */
ParameterizedTest(struct wa_case *c, run, consistent, .timeout = 120)
{
    struct kmapsim_run_result r;
    struct trace_list t = {0};
    char msg[512];
    const struct hm_stats *h = &r.hm;
    uint64_t L, ops;

    run_case(c, 7, &r, &t);
    cr_assert_eq(rt_consistent(&r, msg, sizeof msg), 0, "%s", msg);
    L = r.last_pkmap;
    ops = r.ops;

    switch (c->workload) {
    case KW_PAGECACHE_READ:
        cr_assert_eq(ops, SMALL_OPS);
        cr_assert_eq(r.bytes_checked, 5 * ops, "5 sampled bytes per read");
        if (L) {
            uint64_t W = r.working_set, n = colours_of(r.arch, L), last, F, touches;
            /* The file (4 x LAST_PKMAP pages) is longer than the window: every mapping has
             * been flushed before its page comes round again. Uncoloured, the k-th kmap gets
             * slot k mod L, so the scan wraps (and flushes) at kmaps L, 2L, ...; the first flush
             * frees slots 1..L-1, the later ones all L. Coloured, each colour does so in its
             * own slots (read_flushes), and a flush frees every colour's. */
            F = read_flushes(ops, L, n, &last);
            cr_assert_gt(W, L);
            cr_assert_eq(h->kmap_hits, 0, "%" PRIu64, h->kmap_hits);
            cr_assert_eq(h->kmap_new, ops);
            cr_assert_eq(h->flushes, F, "%" PRIu64 " flushes, expected %" PRIu64, h->flushes, F);
            cr_assert_eq(h->slots_freed, F ? last - 1 : 0);
            cr_assert_eq(r.peak_in_use, 1);
            /* kmaps 1..L-1 fill slots 1..L-1, kmap L wraps into slot 0, kmaps L+1..2L-1
             * refill slots 1..L-1: from kmap 2L-1 on, every slot has been mapped at once.
             * Coloured, another colour's flush empties the window in between. */
            if (n > 1)
                cr_assert(r.peak_mapped >= 1 && r.peak_mapped <= L);
            else if (ops >= 2 * L - 1)
                cr_assert_eq(r.peak_mapped, L);
            else
                cr_assert_eq(r.peak_mapped, ops < L ? ops : L - 1);
            /* One TLB miss per new mapping (its slot was flushed); the first visit of a page
             * also stores its 5 bytes (fill from "disk"), every visit loads 5. */
            touches = 5 * ops + 5 * (ops < W ? ops : W);
            cr_assert_eq(r.sim.tlb_misses, ops);
            cr_assert_eq(r.sim.tlb_hits, touches - ops);
        }
        break;
    case KW_PAGECACHE_HOT:
        cr_assert_eq(r.bytes_checked, 5 * ops);
        if (L) /* Zipf(1) over 4L pages: the L hottest take ~84% of the reads; most hit */
            cr_assert_gt(h->kmap_hits, ops / 4, "%" PRIu64 " hits of %" PRIu64, h->kmap_hits, ops);
        break;
    case KW_RANDOM:
        cr_assert_eq(r.bytes_checked, 5 * ops);
        if (L) /* uniform over 2L pages: a page is often still mapped */
            cr_assert_gt(h->kmap_hits, 0);
        break;
    case KW_BOUNCE:
        cr_assert_eq(r.kmap_atomics, ops);
        cr_assert_eq(h->kmap_calls, 0);
        cr_assert_eq(r.bytes_checked, 10 * ops, "5 old bytes of the page + 5 from the buffer");
        /* kmap_atomic flushes per arch (README table): x86 and xtensa a local page flush on
         * unmap, ppc a page flush on map and on unmap, sparc whole cache + whole TLB on map
         * only, arm a local page flush on map. */
        if (!strcmp(r.arch, "x86") || !strcmp(r.arch, "x86-pae") || !strcmp(r.arch, "xtensa")) {
            cr_assert_eq(r.sim.tlb_flush_pages, ops);
            cr_assert_eq(r.sim.tlb_flush_alls + r.sim.cache_flushes, 0);
        } else if (!strcmp(r.arch, "ppc")) {
            cr_assert_eq(r.sim.tlb_flush_pages, 2 * ops);
        } else if (!strcmp(r.arch, "sparc")) {
            cr_assert_eq(r.sim.tlb_flush_alls, ops);
            cr_assert_eq(r.sim.cache_flushes, ops);
            cr_assert_eq(r.sim.tlb_flush_pages, 0);
        } else if (!strncmp(r.arch, "arm", 3)) {
            /* arm: the PTE written and this CPU's page flushed on map; the unmap leaves it */
            cr_assert_eq(r.sim.pte_sets, ops);
            cr_assert_eq(r.sim.tlb_flush_pages, ops);
            cr_assert_eq(r.sim.tlb_flush_alls + r.sim.cache_flushes, 0);
        } else {
            cr_assert_eq(r.sim.tlb_flush_pages + r.sim.tlb_flush_alls + r.sim.pte_sets, 0);
        }
        break;
    case KW_PIPE:
        cr_assert_eq(r.bytes_checked, 5 * ops);
        if (L) {
            /* A reader's kmap misses only if a flush fell between the writer's kunmap and
             * it; a flush catches at most queue + 2 items in flight. */
            uint64_t lost = h->flushes * (16 + 2);
            cr_assert_geq(h->kmap_hits + lost, ops / 2, "%" PRIu64 " hits, %" PRIu64 " flushes",
                          h->kmap_hits, h->flushes);
        }
        break;
    case KW_HOLD_MANY:
        cr_assert_eq(r.bytes_checked, 10 * ops, "checked after kmap and before kunmap");
        if (L) {
            /* Each round wants window + threads - 1 pages at once: at least one sleep per round,
             * and the window was full then. Coloured, the window is one colour's L / n slots
             * and a round's pages are all of that colour. */
            uint64_t window = L / colours_of(r.arch, L), rounds = ops / (window + r.threads - 1);
            cr_assert_eq(ops % (window + r.threads - 1), 0);
            cr_assert_geq(h->sleeps, rounds, "%" PRIu64 " sleeps in %" PRIu64 " rounds",
                          h->sleeps, rounds);
            cr_assert_geq(r.peak_in_use, window - (r.threads - 1));
            cr_assert_gt(r.sleep_ns_total, 0);
            cr_assert_geq(r.sleep_ns_total, r.sleep_ns_max_thread);
            cr_assert_geq(r.sleep_ns_max_thread, r.sleep_ns_longest);
        } else {
            cr_assert_eq(h->sleeps, 0);
        }
        break;
    case KW_TRACE:
        cr_assert_eq(ops, TRACE_CMDS * TRACE_CYCLES);
        cr_assert_eq(r.op_errors, 0, "%s", r.failure);
        if (L) {
            cr_assert_eq(h->kmap_new, 3 * TRACE_CYCLES);
            cr_assert_eq(h->kmap_hits, 0);
            cr_assert_eq(h->flushes, TRACE_CYCLES);
            cr_assert_eq(h->slots_freed, 3 * TRACE_CYCLES);
            cr_assert_eq(r.peak_in_use, 3);
        } else {
            cr_assert_eq(h->flushes, 0);
        }
        break;
    case KW_LOCAL_SWITCH:
        /* kmap_local only: no persistent kmap, and the arch's hooks around every local PTE
         * write (a push or a switch's re-install sets, a pop or a switch's save clears): x86
         * and xtensa a local page flush after each clear, ppc and arm after each write, sparc the
         * whole TLB after each write; nothing at all without highmem (every page is lowmem). */
        cr_assert_eq(h->kmap_calls + r.kmap_atomics + r.kmaps, 0);
        cr_assert_gt(r.bytes_checked, 5 * ops / 2, "a push or a pop checks a page");
        if (!strcmp(r.arch, "x86") || !strcmp(r.arch, "x86-pae")) {
            cr_assert_gt(r.sim.pte_clears, 0);
            cr_assert_eq(r.sim.tlb_flush_pages, r.sim.pte_clears);
        } else if (!strcmp(r.arch, "ppc")) {
            cr_assert_eq(r.sim.tlb_flush_pages, r.sim.pte_sets + r.sim.pte_clears);
        } else if (!strcmp(r.arch, "sparc")) {
            cr_assert_eq(r.sim.tlb_flush_alls, r.sim.pte_sets + r.sim.pte_clears);
            cr_assert_geq(r.sim.cache_flushes, r.sim.pte_clears);
        } else if (!strncmp(r.arch, "arm", 3)) {
            cr_assert_gt(r.sim.pte_clears, 0); /* a local page flush after each write */
            cr_assert_eq(r.sim.tlb_flush_pages, r.sim.pte_sets + r.sim.pte_clears);
        } else if (!strcmp(r.arch, "xtensa")) {
            cr_assert_gt(r.sim.pte_clears, 0); /* a local page flush after each clear */
            cr_assert_eq(r.sim.tlb_flush_pages, r.sim.pte_clears);
        } else {
            cr_assert_eq(r.sim.pte_sets + r.sim.pte_clears + r.sim.tlb_flush_pages, 0);
        }
        cr_assert_eq(r.sim.pte_sets, r.sim.pte_clears, "every stack emptied at the end");
        break;
    default:
        cr_assert_fail("workload %d", c->workload);
    }
    kmapsim_run_result_free(&r);
    trace_list_free(&t);
}

/* The parts of a result that do not depend on timing. */
static void assert_same_result(const struct kmapsim_run_result *a,
                               const struct kmapsim_run_result *b)
{
    cr_assert_eq(a->ops, b->ops);
    cr_assert_eq(memcmp(&a->hm, &b->hm, sizeof a->hm), 0, "library statistics differ");
    cr_assert_eq(memcmp(&a->sim, &b->sim, sizeof a->sim), 0, "hardware counters differ");
    cr_assert_eq(memcmp(a->ev, b->ev, sizeof a->ev), 0, "event counts differ");
    cr_assert_eq(a->peak_in_use, b->peak_in_use);
    cr_assert(a->mean_in_use == b->mean_in_use);
    cr_assert_eq(a->bytes_checked, b->bytes_checked);
}

ParameterizedTestParameters(run, reproducible)
{
    static struct wa_case cases[3 * RT_NARCH];
    static const int single[3] = {KW_PAGECACHE_READ, KW_PAGECACHE_HOT, KW_RANDOM};
    size_t k = 0;
    int w, a;
    for (w = 0; w < 3; w++)
        for (a = 0; a < RT_NARCH; a++)
            cases[k++] = (struct wa_case){single[w], a};
    return cr_make_param_array(struct wa_case, cases, k);
}

/* Single-threaded workloads: the same seed gives the same numbers; for the random ones
 * another seed gives others (on arches with a window to show them). */
ParameterizedTest(struct wa_case *c, run, reproducible, .timeout = 120)
{
    struct kmapsim_run_result a, b, d;
    run_case(c, 11, &a, NULL);
    run_case(c, 11, &b, NULL);
    assert_same_result(&a, &b);
    run_case(c, 12, &d, NULL);
    if (c->workload == KW_PAGECACHE_READ)
        assert_same_result(&a, &d); /* no randomness */
    else if (a.last_pkmap == 0) /* other pages, but no pkmap machinery to show it */
        cr_assert_eq(memcmp(&a.hm, &d.hm, sizeof a.hm), 0);
    else
        cr_assert(memcmp(&a.hm, &d.hm, sizeof a.hm) != 0 ||
                      memcmp(&a.sim, &d.sim, sizeof a.sim) != 0,
                  "seeds 11 and 12 gave the same run");
    kmapsim_run_result_free(&a);
    kmapsim_run_result_free(&b);
    kmapsim_run_result_free(&d);
}

ParameterizedTestParameters(run, recording)
{
    return all_cases(0);
}

/* The --svg recording says what the statistics say: one flush mark per
 * flush_all_zero_pkmaps, one sleep mark per sleep, per-slot new mappings adding up to the
 * new mappings, at most ~2000 samples in op order, each splitting the window exactly. */
ParameterizedTest(struct wa_case *c, run, recording, .timeout = 120)
{
    struct rt_case rc;
    struct kmapsim_run_result r;
    char err[256];
    uint64_t flush_marks = 0, sleep_marks = 0, uses = 0, last = 0;
    size_t i;

    rc = rt_case_of(c, 3, 20000);
    rc.record = 1;
    cr_assert_eq(rt_run(&rc, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.marks_dropped, 0);
    for (i = 0; i < r.nmarks; i++) {
        cr_assert_geq(r.marks[i].op, last, "marks out of order");
        cr_assert_leq(r.marks[i].op, r.ops + 1);
        last = r.marks[i].op;
        if (r.marks[i].kind == KMAPSIM_MARK_FLUSH)
            flush_marks++;
        else if (r.marks[i].kind == KMAPSIM_MARK_SLEEP)
            sleep_marks++;
        else
            cr_assert_fail("mark kind %d", r.marks[i].kind);
    }
    cr_assert_eq(flush_marks, r.hm.flushes);
    cr_assert_eq(sleep_marks, r.hm.sleeps);
    for (i = 0; i < r.last_pkmap; i++)
        uses += r.slot_uses[i];
    cr_assert_eq(uses, r.hm.kmap_new);
    if (r.last_pkmap) {
        cr_assert_gt(r.nsamples, 0);
        cr_assert_leq(r.nsamples, 2001);
    } else {
        cr_assert_eq(r.nsamples, 0);
    }
    last = 0;
    for (i = 0; i < r.nsamples; i++) {
        const struct kmapsim_svg_sample *s = &r.samples[i];
        cr_assert_gt(s->op, last);
        last = s->op;
        cr_assert_eq((uint64_t)s->in_use + s->count1 + s->free, r.last_pkmap);
        cr_assert_leq(s->in_use, r.peak_in_use);
    }
    kmapsim_run_result_free(&r);
}

/* 2.6.30 need_flush: a flush_all_zero_pkmaps that frees nothing flushes no TLB. The trace
 * below flushes twice per cycle; only the first of the two frees slots. */
Test(run, need_flush)
{
    static const char text[] = "kmap 229380\nkunmap 229380\nflush\nflush\n";
    struct trace_list t;
    struct kmapsim_run_result r;
    struct rt_case rc;
    char err[256], msg[512];
    int nf;

    cr_assert_eq(trace_parse_text(text, strlen(text), &t, err, sizeof err), 0, "%s", err);
    for (nf = 0; nf <= 1; nf++) {
        memset(&rc, 0, sizeof rc);
        rc.arch = "x86";
        rc.workload = KW_TRACE;
        rc.trace = &t;
        rc.ops = 4 * 10;
        rc.need_flush = nf;
        cr_assert_eq(rt_run(&rc, &r, err, sizeof err), 0, "%s", err);
        cr_assert_eq(rt_consistent(&r, msg, sizeof msg), 0, "%s", msg);
        cr_assert_eq(r.hm.flushes, 20);
        cr_assert_eq(r.hm.slots_freed, 10);
        cr_assert_eq(r.sim.tlb_flush_ranges, nf ? 10 : 20);
        kmapsim_run_result_free(&r);
    }
    trace_list_free(&t);
}

/* A trace whose machine refuses PTE writes (inject fail-...): the refused kmap, flush and
 * kmap_atomic fail (counted as failed calls, which do not fail a trace run), every refusal is
 * one machine_fail event and one hm_stats.machine_fails, the sim's refused counters agree, and
 * the window's statistics count only what the machine carried out (rt_consistent). */
Test(run, machine_fail_trace)
{
    static const char text[] = "inject fail-next-map\nkmap 229380\nkmap 229380\nkunmap 229380\n"
                               "inject fail-next-clear\nflush\nflush\n"
                               "inject fail-next-map\nkmap_atomic 0 KM_USER0 229381\n"
                               "kmap_atomic 0 KM_USER0 229381\nkunmap_atomic 0 KM_USER0\n";
    struct trace_list t;
    struct kmapsim_run_result r;
    struct rt_case rc;
    char err[256], msg[512];

    cr_assert_eq(trace_parse_text(text, strlen(text), &t, err, sizeof err), 0, "%s", err);
    memset(&rc, 0, sizeof rc);
    rc.arch = "x86";
    rc.workload = KW_TRACE;
    rc.trace = &t;
    rc.ops = 11 * 10;
    cr_assert_eq(rt_run(&rc, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rt_consistent(&r, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(r.hm.machine_fails, 30);
    cr_assert_eq(r.ev[HM_EV_MACHINE_FAIL], 30);
    cr_assert_eq(r.sim.pte_sets_refused, 20);
    cr_assert_eq(r.sim.pte_clears_refused, 10);
    cr_assert_eq(r.op_errors, 30);
    cr_assert_eq(r.hm.kmap_calls, 10); /* the refused kmaps are not counted */
    cr_assert_eq(r.hm.kmap_new, 10);
    cr_assert_eq(r.hm.slots_freed, 10);
    cr_assert_eq(r.ev_pte_set_pkmap, 10);
    cr_assert_eq(r.ev_pte_clear_pkmap, 10);
    cr_assert(!kmapsim_run_failed(&r), "%s", r.failure);
    kmapsim_run_result_free(&r);
    trace_list_free(&t);
}

/* CONFIG_DEBUG_HIGHMEM on sparc: kunmap_atomic also flushes the cache, clears the PTE and
 * flushes the whole TLB, so bounce sees two of each per operation instead of one. */
Test(run, debug_highmem_sparc_bounce)
{
    struct rt_case rc;
    struct kmapsim_run_result r;
    char err[256], msg[512];

    memset(&rc, 0, sizeof rc);
    rc.arch = "sparc";
    rc.workload = KW_BOUNCE;
    rc.ops = 1000;
    rc.debug_highmem = 1;
    cr_assert_eq(rt_run(&rc, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rt_consistent(&r, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(r.sim.tlb_flush_alls, 2 * r.ops);
    cr_assert_eq(r.sim.cache_flushes, 2 * r.ops);
    cr_assert_eq(r.sim.pte_clears, r.ops);
    kmapsim_run_result_free(&r);
}

/* Options the engine refuses, with a reason. */
Test(run, resolve_refuses)
{
    struct rt_case rc;
    struct kmapsim_run_result r;
    char err[256];

    memset(&rc, 0, sizeof rc);
    rc.arch = "x86";
    rc.workload = KW_BOUNCE;
    rc.threads = 4;
    rc.cpus = 2;
    cr_assert_eq(rt_run(&rc, &r, err, sizeof err), -1);
    cr_assert(strstr(err, "--cpus") != NULL, "%s", err);

    rc.workload = KW_PAGECACHE_READ;
    rc.threads = 0;
    rc.working_set = 0x8000u + 1; /* x86 has 0x8000 highmem pages */
    cr_assert_eq(rt_run(&rc, &r, err, sizeof err), -1);
    cr_assert(strstr(err, "--working-set") != NULL, "%s", err);

    rc.workload = KW_TRACE;
    rc.working_set = 0;
    cr_assert_eq(rt_run(&rc, &r, err, sizeof err), -1, "trace without a trace");

    rc.workload = KW_HOLD_MANY;
    rc.working_set = 100; /* 4 threads x 257 pages held */
    cr_assert_eq(rt_run(&rc, &r, err, sizeof err), -1);
    cr_assert(strstr(err, "hold-many") != NULL, "%s", err);
}
