/* report.c - `kmapsim run`'s report: why a run failed, the table (a column per run), the
 * JSON document (docs/run-schema.json) and the SVG picture of the recorded runs.
 * SPDX-License-Identifier: MIT */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "harness/json.h"

/* ------------------------------------------------------------------------------------- */
/* Failures                                                                               */
/* ------------------------------------------------------------------------------------- */

static const char *const failure_names[KMAPSIM_FAIL__COUNT] = {
    [KMAPSIM_FAIL_WATCHDOG] = "watchdog",
    [KMAPSIM_FAIL_STALE] = "stale_translation",
    [KMAPSIM_FAIL_WRONG_BYTES] = "wrong_bytes",
    [KMAPSIM_FAIL_INVARIANTS] = "invariants",
    [KMAPSIM_FAIL_CALLS] = "failed_calls",
    [KMAPSIM_FAIL_STALE_CACHE] = "stale_cache",
};

const char *kmapsim_run_failure_name(int kind)
{
    return kind > KMAPSIM_FAIL_NONE && kind < KMAPSIM_FAIL__COUNT ? failure_names[kind] : NULL;
}

int kmapsim_run_failure(const struct kmapsim_run_result *r)
{
    if (r->watchdog)
        return KMAPSIM_FAIL_WATCHDOG;
    if (r->stale)
        return KMAPSIM_FAIL_STALE;
    if (r->stale_cache)
        return KMAPSIM_FAIL_STALE_CACHE;
    if (r->wrong_bytes)
        return KMAPSIM_FAIL_WRONG_BYTES;
    if (r->invariants)
        return KMAPSIM_FAIL_INVARIANTS;
    if (r->workload != KW_TRACE && r->op_errors != 0)
        return KMAPSIM_FAIL_CALLS;
    return KMAPSIM_FAIL_NONE;
}

int kmapsim_run_failed(const struct kmapsim_run_result *r)
{
    return kmapsim_run_failure(r) != KMAPSIM_FAIL_NONE;
}

void kmapsim_run_failure_message(const struct kmapsim_run_result *r, char *dst, size_t len)
{
    switch (kmapsim_run_failure(r)) {
    case KMAPSIM_FAIL_WATCHDOG:
        snprintf(dst, len, "the run did not finish within %" PRIu32 " s", r->watchdog);
        break;
    case KMAPSIM_FAIL_STALE:
        snprintf(dst, len, "stale translations detected (%" PRIu64 ")", r->stale);
        break;
    case KMAPSIM_FAIL_STALE_CACHE:
        snprintf(dst, len, "stale cache reads (%" PRIu64 ")", r->stale_cache);
        break;
    case KMAPSIM_FAIL_WRONG_BYTES:
        snprintf(dst, len, "wrong bytes read (%" PRIu64 ")", r->wrong_bytes);
        break;
    case KMAPSIM_FAIL_INVARIANTS:
        snprintf(dst, len, "invariants broken after the run: %s", r->invariant_msg);
        break;
    case KMAPSIM_FAIL_CALLS:
        snprintf(dst, len, "library calls failed (%" PRIu64 ")", r->op_errors);
        break;
    default:
        if (len)
            dst[0] = '\0';
        break;
    }
}

/* The run's "failure" value: null, or {"kind", "message", "first"}. */
static void json_failure(struct kbuf *b, const struct kmapsim_run_result *r)
{
    int kind = kmapsim_run_failure(r);
    char msg[KMAPSIM_RUN_MSG + 64];

    if (kind == KMAPSIM_FAIL_NONE) {
        kbuf_add(b, "null", 4);
        return;
    }
    kmapsim_run_failure_message(r, msg, sizeof msg);
    kbuf_add(b, "{\"kind\":", 8);
    kbuf_json_str(b, kmapsim_run_failure_name(kind));
    kbuf_add(b, ",\"message\":", 11);
    kbuf_json_str(b, msg);
    kbuf_add(b, ",\"first\":", 9);
    if (r->first[kind][0])
        kbuf_json_str(b, r->first[kind]);
    else
        kbuf_add(b, "null", 4);
    kbuf_add(b, "}", 1);
}

/* ------------------------------------------------------------------------------------- */
/* Table and JSON                                                                         */
/* ------------------------------------------------------------------------------------- */

enum { MF_U64, MF_DBL };

struct metric {
    const char *label; /* table row */
    const char *key;   /* JSON key */
    int fmt;
};

/* The rows of the table and the keys of a JSON run object, in one order. */
enum {
    M_OPS, M_KMAP_CALLS, M_KMAP_HITS, M_REUSE1, M_NEW, M_KUNMAP, M_ATOMIC, M_FLUSHES,
    M_FREED, M_TLB_GLOBAL, M_TLB_RANGE, M_TLB_ALL, M_TLB_PAGE, M_CACHE, M_TLB_HITS,
    M_TLB_MISSES, M_SLEEPS, M_WAKEUPS, M_SLEEP_TOTAL, M_SLEEP_MAX, M_SLEEP_LONGEST, M_PEAK,
    M_MEAN, M_PEAK_MAPPED, M_MEAN_MAPPED, M_BYTES, M_STALE, M_WRONG, M_ERRORS, M_WALL, M_NS_OP, M__COUNT
};

static const struct metric metrics[M__COUNT] = {
    [M_OPS] = {"operations", "ops", MF_U64},
    [M_KMAP_CALLS] = {"kmap calls (highmem pages)", "kmap_calls", MF_U64},
    [M_KMAP_HITS] = {"  found the page mapped", "kmap_hits", MF_U64},
    [M_REUSE1] = {"    of which count-1 reuses", "kmap_reuse_count1", MF_U64},
    [M_NEW] = {"  new mappings", "kmap_new", MF_U64},
    [M_KUNMAP] = {"kunmap calls (highmem pages)", "kunmap_calls", MF_U64},
    [M_ATOMIC] = {"kmap_atomic calls", "kmap_atomic_calls", MF_U64},
    [M_FLUSHES] = {"flush_all_zero_pkmaps calls", "flush_all_zero_pkmaps", MF_U64},
    [M_FREED] = {"  slots freed by them", "slots_freed", MF_U64},
    [M_TLB_GLOBAL] = {"global TLB flushes", "tlb_flushes_global", MF_U64},
    [M_TLB_RANGE] = {"  range (every CPU)", "tlb_flush_ranges", MF_U64},
    [M_TLB_ALL] = {"  whole TLB", "tlb_flush_alls", MF_U64},
    [M_TLB_PAGE] = {"per-page TLB flushes", "tlb_flushes_page", MF_U64},
    [M_CACHE] = {"cache flushes", "cache_flushes", MF_U64},
    [M_TLB_HITS] = {"TLB hits", "tlb_hits", MF_U64},
    [M_TLB_MISSES] = {"TLB misses", "tlb_misses", MF_U64},
    [M_SLEEPS] = {"sleeps (window full)", "sleeps", MF_U64},
    [M_WAKEUPS] = {"wake-ups", "wakeups", MF_U64},
    [M_SLEEP_TOTAL] = {"time asleep, all threads (ms)", "sleep_ms_total", MF_DBL},
    [M_SLEEP_MAX] = {"time asleep, most of a thread (ms)", "sleep_ms_max_thread", MF_DBL},
    [M_SLEEP_LONGEST] = {"longest single sleep (ms)", "sleep_ms_longest", MF_DBL},
    [M_PEAK] = {"peak slots in use", "slots_in_use_peak", MF_U64},
    [M_MEAN] = {"mean slots in use", "slots_in_use_mean", MF_DBL},
    [M_PEAK_MAPPED] = {"peak slots mapped (count >= 1)", "slots_mapped_peak", MF_U64},
    [M_MEAN_MAPPED] = {"mean slots mapped (count >= 1)", "slots_mapped_mean", MF_DBL},
    [M_BYTES] = {"bytes checked through the MMU", "bytes_checked", MF_U64},
    [M_STALE] = {"stale translations (must be 0)", "stale_translations", MF_U64},
    [M_WRONG] = {"wrong bytes read (must be 0)", "wrong_bytes", MF_U64},
    [M_ERRORS] = {"failed calls", "failed_calls", MF_U64},
    [M_WALL] = {"wall time (ms)", "wall_ms", MF_DBL},
    [M_NS_OP] = {"wall time per operation (ns)", "ns_per_op", MF_DBL},
};

union mval {
    uint64_t u;
    double d;
};

static void metric_values(const struct kmapsim_run_result *r, union mval *v)
{
    v[M_OPS].u = r->ops;
    v[M_KMAP_CALLS].u = r->hm.kmap_calls;
    v[M_KMAP_HITS].u = r->hm.kmap_hits;
    v[M_REUSE1].u = r->hm.kmap_reuse_count1;
    v[M_NEW].u = r->hm.kmap_new;
    v[M_KUNMAP].u = r->hm.kunmap_calls;
    v[M_ATOMIC].u = r->kmap_atomics;
    v[M_FLUSHES].u = r->hm.flushes;
    v[M_FREED].u = r->hm.slots_freed;
    v[M_TLB_GLOBAL].u = r->sim.tlb_flush_ranges + r->sim.tlb_flush_alls;
    v[M_TLB_RANGE].u = r->sim.tlb_flush_ranges;
    v[M_TLB_ALL].u = r->sim.tlb_flush_alls;
    v[M_TLB_PAGE].u = r->sim.tlb_flush_pages;
    v[M_CACHE].u = r->sim.cache_flushes;
    v[M_TLB_HITS].u = r->sim.tlb_hits;
    v[M_TLB_MISSES].u = r->sim.tlb_misses;
    v[M_SLEEPS].u = r->hm.sleeps;
    v[M_WAKEUPS].u = r->hm.wakeups;
    v[M_SLEEP_TOTAL].d = (double)r->sleep_ns_total / 1e6;
    v[M_SLEEP_MAX].d = (double)r->sleep_ns_max_thread / 1e6;
    v[M_SLEEP_LONGEST].d = (double)r->sleep_ns_longest / 1e6;
    v[M_PEAK].u = r->peak_in_use;
    v[M_MEAN].d = r->mean_in_use;
    v[M_PEAK_MAPPED].u = r->peak_mapped;
    v[M_MEAN_MAPPED].d = r->mean_mapped;
    v[M_BYTES].u = r->bytes_checked;
    v[M_STALE].u = r->stale;
    v[M_WRONG].u = r->wrong_bytes;
    v[M_ERRORS].u = r->op_errors;
    v[M_WALL].d = (double)r->wall_ns / 1e6;
    v[M_NS_OP].d = r->ops ? (double)r->wall_ns / (double)r->ops : 0.0;
}

static void fmt_value(char *dst, size_t len, int fmt, union mval v)
{
    if (fmt == MF_U64)
        snprintf(dst, len, "%" PRIu64, v.u);
    else
        snprintf(dst, len, "%.3f", v.d);
}

#define LABEL_W 36
#define COL_W 14

void kmapsim_run_print_table(FILE *out, const struct kmapsim_run_result *rs, size_t n)
{
    size_t i, m;
    union mval(*vals)[M__COUNT];
    char cell[64];

    if (n == 0)
        return;
    vals = calloc(n, sizeof *vals);
    if (!vals)
        return;
    for (i = 0; i < n; i++)
        metric_values(&rs[i], vals[i]);
    fprintf(out, "kmapsim run %s: %" PRIu64 " operations, seed %" PRIu64 "%s%s\n",
            kmapsim_workload_name(rs[0].workload), rs[0].ops, rs[0].seed,
            rs[0].kernel != HM_KERNEL_2_6_24 ? ", kernel " : "",
            rs[0].kernel != HM_KERNEL_2_6_24 ? hm_kernel_name(rs[0].kernel) : "");
    fprintf(out, "%-*s", LABEL_W, "arch");
    for (i = 0; i < n; i++)
        fprintf(out, "%*s", COL_W, rs[i].arch);
    fputc('\n', out);
/* One row of integers, one column per run (the header rows and the cache rows). */
#define U64_ROW(label, expr)                                                               \
    do {                                                                                   \
        fprintf(out, "%-*s", LABEL_W, label);                                              \
        for (i = 0; i < n; i++)                                                            \
            fprintf(out, "%*" PRIu64, COL_W, (uint64_t)(expr));                            \
        fputc('\n', out);                                                                  \
    } while (0)
    U64_ROW("LAST_PKMAP (slots)", rs[i].last_pkmap);
    U64_ROW("threads", rs[i].threads);
    U64_ROW("CPUs", rs[i].cpus);
    U64_ROW("working set (pages)", rs[i].working_set);
    for (m = 0; m < LABEL_W + COL_W * n; m++)
        fputc('-', out);
    fputc('\n', out);
    for (m = 0; m < M__COUNT; m++) {
        fprintf(out, "%-*s", LABEL_W, metrics[m].label);
        for (i = 0; i < n; i++) {
            fmt_value(cell, sizeof cell, metrics[m].fmt, vals[i][m]);
            fprintf(out, "%*s", COL_W, cell);
        }
        fputc('\n', out);
    }
    for (i = 0; i < n && !rs[i].cache_on; i++)
        ;
    if (i < n) { /* --cache on: the data cache model's rows (a run without it shows 0) */
        U64_ROW("data cache hits (--cache on)", rs[i].sim.cache_hits);
        U64_ROW("  misses", rs[i].sim.cache_misses);
        U64_ROW("  dirty lines written back", rs[i].sim.cache_writebacks);
        U64_ROW("  flush_cache_page calls", rs[i].sim.cache_page_flushes);
        U64_ROW("stale cache reads (must be 0)", rs[i].stale_cache);
#undef U64_ROW
    }
    for (i = 0; i < n; i++) /* --machine host: what the window cost in system calls */
        if (rs[i].host)
            fprintf(out, "%s: host machine: %" PRIu64 " system calls (%" PRIu64 " map, %" PRIu64
                    " unmap, %" PRIu64 " setup, %" PRIu64 " failed), %" PRIu64 " bytes checked "
                    "through real pointers\n", rs[i].arch, rs[i].host_stats.window.syscalls,
                    rs[i].host_stats.window.map_syscalls, rs[i].host_stats.window.unmap_syscalls,
                    rs[i].host_stats.window.setup_syscalls, rs[i].host_stats.window.failed_syscalls,
                    rs[i].bytes_checked);
    for (i = 0; i < n; i++) {
        if (rs[i].invariants)
            fprintf(out, "%s: invariants broken after the run: %s\n", rs[i].arch,
                    rs[i].invariant_msg);
        if (rs[i].failure[0])
            fprintf(out, "%s: first failure: %s\n", rs[i].arch, rs[i].failure);
    }
    free(vals);
}


void kmapsim_run_print_json(FILE *out, const struct kmapsim_run_opts *o,
                            const struct kmapsim_run_result *rs, size_t n)
{
    struct kbuf b = {0};
    size_t i, m;
    int k;
    char cell[64];

    kbuf_printf(&b, "{\"schema_version\":%d,\"tool\":\"kmapsim run\",\"workload\":",
                KMAPSIM_RUN_SCHEMA_VERSION);
    kbuf_json_str(&b, kmapsim_workload_name(o->workload));
    kbuf_printf(&b, ",\"seed\":%" PRIu64 ",\"runs\":[", o->seed);
    for (i = 0; i < n; i++) {
        const struct kmapsim_run_result *r = &rs[i];
        union mval v[M__COUNT];
        metric_values(r, v);
        kbuf_add(&b, i ? ",{\"arch\":" : "{\"arch\":", i ? 9 : 8);
        kbuf_json_str(&b, r->arch);
        if (r->kernel != HM_KERNEL_2_6_24) { /* absent: the default generation */
            kbuf_add(&b, ",\"kernel\":", 10);
            kbuf_json_str(&b, hm_kernel_name(r->kernel));
        }
        kbuf_printf(&b,
                    ",\"last_pkmap\":%" PRIu32 ",\"threads\":%" PRIu32 ",\"cpus\":%" PRIu32
                    ",\"working_set\":%" PRIu64,
                    r->last_pkmap, r->threads, r->cpus, r->working_set);
        for (m = 0; m < M__COUNT; m++) {
            fmt_value(cell, sizeof cell, metrics[m].fmt, v[m]);
            kbuf_printf(&b, ",\"%s\":%s", metrics[m].key, cell);
        }
        kbuf_add(&b, ",\"events\":{", 11);
        for (k = HM_EV_PTE_SET; k <= HM_EV_MACHINE_FAIL; k++)
            kbuf_printf(&b, "%s\"%s\":%" PRIu64, k == HM_EV_PTE_SET ? "" : ",", hm_event_name(k),
                        r->ev[k]);
        kbuf_printf(&b, "},\"pte_set_pkmap\":%" PRIu64 ",\"pte_clear_pkmap\":%" PRIu64,
                    r->ev_pte_set_pkmap, r->ev_pte_clear_pkmap);
        if (r->host)
            kbuf_printf(&b, ",\"host\":{\"syscalls\":%" PRIu64 ",\"map_syscalls\":%" PRIu64
                        ",\"unmap_syscalls\":%" PRIu64 ",\"setup_syscalls\":%" PRIu64
                        ",\"failed_syscalls\":%" PRIu64 "}",
                        r->host_stats.window.syscalls, r->host_stats.window.map_syscalls,
                        r->host_stats.window.unmap_syscalls, r->host_stats.window.setup_syscalls,
                        r->host_stats.window.failed_syscalls);
        if (r->cache_on)
            kbuf_printf(&b, ",\"cache\":{\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
                        ",\"writebacks\":%" PRIu64 ",\"page_flushes\":%" PRIu64
                        ",\"stale_cache\":%" PRIu64 "}",
                        r->sim.cache_hits, r->sim.cache_misses, r->sim.cache_writebacks,
                        r->sim.cache_page_flushes, r->stale_cache);
        kbuf_printf(&b, ",\"invariants_ok\":%s,\"ok\":%s,\"failure\":",
                    r->invariants ? "false" : "true", kmapsim_run_failed(r) ? "false" : "true");
        json_failure(&b, r);
        kbuf_add(&b, "}", 1);
    }
    kbuf_add(&b, "]}\n", 3);
    fwrite(kbuf_str(&b), 1, b.n, out);
    kbuf_free(&b);
}

/* ------------------------------------------------------------------------------------- */
/* SVG                                                                                    */
/* ------------------------------------------------------------------------------------- */

int kmapsim_run_write_svg(FILE *f, const char *path, const struct kmapsim_run_result *rs,
                          size_t n)
{
    struct kmapsim_svg_run *runs = calloc(n ? n : 1, sizeof *runs);
    size_t i;
    int rc;

    if (!runs) {
        fputs("kmapsim: out of memory\n", stderr);
        return -1;
    }
    for (i = 0; i < n; i++) {
        runs[i].arch = rs[i].arch;
        runs[i].workload = kmapsim_workload_name(rs[i].workload);
        runs[i].nr_slots = rs[i].slot_uses ? rs[i].last_pkmap : 0;
        runs[i].total_ops = rs[i].ops;
        runs[i].samples = rs[i].samples;
        runs[i].nsamples = rs[i].nsamples;
        runs[i].marks = rs[i].marks;
        runs[i].nmarks = rs[i].nmarks;
        runs[i].slot_uses = rs[i].slot_uses;
    }
    errno = 0;
    rc = kmapsim_svg_write(f, runs, n);
    if (fflush(f) != 0 || ferror(f))
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "kmapsim: error writing '%s'%s%s\n", path, errno ? ": " : "",
                errno ? strerror(errno) : "");
    free(runs);
    return rc;
}
