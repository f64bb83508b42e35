/* run_report_test.c - what kmapsim run says when a run fails or is cut short: the watchdog's
 * defaults and its off switch, the JSON failure object of every kind, the watchdog's JSON
 * document of the runs so far, the SVG written to a file opened before the run. Criterion.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runlib.h"
#include "tools/kmapsim/kmapsim.h"

/* The resolved watchdog of workload w with threads (0: its default) on x86 with 4 CPUs. */
static uint32_t resolved_watchdog(int w, uint32_t threads, int set, uint32_t s)
{
    struct hm_config opts = {.nr_cpus = 4}, cfg;
    struct kmapsim_run_opts o, ro;
    struct trace_list t = {0};
    char err[256];

    kmapsim_config_for(&opts, hm_arch_find("x86"), &cfg);
    memset(&o, 0, sizeof o);
    o.workload = w;
    o.threads = threads;
    o.watchdog_set = set;
    o.watchdog_s = s;
    o.trace = &t;
    cr_assert_eq(kmapsim_run_resolve(&cfg, &o, &ro, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ro.watchdog_set, 1, "resolved options carry a final watchdog");
    return ro.watchdog_s;
}

/* Without --watchdog: 60 s with more than one thread, none with one (one thread never waits
 * for another). --watchdog 0 is off, whatever the threads; any other value is kept. */
Test(watchdog, resolve_contract)
{
    cr_assert_eq(resolved_watchdog(KW_PAGECACHE_READ, 0, 0, 0), 0);
    cr_assert_eq(resolved_watchdog(KW_RANDOM, 1, 0, 0), 0);
    cr_assert_eq(resolved_watchdog(KW_TRACE, 0, 0, 0), 0);
    cr_assert_eq(resolved_watchdog(KW_PAGECACHE_READ, 2, 0, 0), KMAPSIM_RUN_DEFAULT_WATCHDOG_S);
    cr_assert_eq(resolved_watchdog(KW_HOLD_MANY, 0, 0, 0), 60);
    cr_assert_eq(resolved_watchdog(KW_PIPE, 0, 0, 0), 60);
    cr_assert_eq(resolved_watchdog(KW_HOLD_MANY, 0, 1, 0), 0);
    cr_assert_eq(resolved_watchdog(KW_PAGECACHE_READ, 0, 1, 0), 0);
    cr_assert_eq(resolved_watchdog(KW_PAGECACHE_READ, 0, 1, 7), 7);
    cr_assert_eq(resolved_watchdog(KW_BOUNCE, 0, 1, 86400), 86400);
    /* watchdog_s means nothing without watchdog_set: the default applies */
    cr_assert_eq(resolved_watchdog(KW_PAGECACHE_READ, 0, 0, 5), 0);
    cr_assert_eq(resolved_watchdog(KW_HOLD_MANY, 0, 0, 5), 60);
}

/* A watchdog of 0 never fires: runs far longer than the monitor's 0.1 s tick finish (a 0 s
 * limit would end the process with exit 1 at the first tick). */
Test(watchdog, zero_is_off, .timeout = 120)
{
    static const int workloads[] = {KW_PAGECACHE_READ, KW_HOLD_MANY};
    struct kmapsim_run_result r;
    char err[256];
    size_t i;

    for (i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
        struct rt_case rc = {.arch = "x86", .workload = workloads[i], .ops = 500000,
                             .watchdog_set = 1, .watchdog_s = 0};
        cr_assert_eq(rt_run(&rc, &r, err, sizeof err), 0, "%s", err);
        cr_assert_gt(r.wall_ns, 300000000u, "%s took only %.3f s: no proof",
                     kmapsim_workload_name(rc.workload), (double)r.wall_ns / 1e9);
        cr_assert(!kmapsim_run_failed(&r), "%s", r.failure);
        kmapsim_run_result_free(&r);
    }
}

/* The JSON of results as a string (free it). */
static char *json_of(const struct kmapsim_run_result *rs, size_t n)
{
    struct kmapsim_run_opts o;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert_not_null(f);
    memset(&o, 0, sizeof o);
    o.workload = rs[0].workload;
    kmapsim_run_print_json(f, &o, rs, n);
    cr_assert_eq(fclose(f), 0);
    return text;
}

static void assert_failure_json(const struct kmapsim_run_result *r, const char *want)
{
    char *text = json_of(r, 1);
    cr_assert(strstr(text, want) != NULL, "want %s in %s", want, text);
    free(text);
}

/* Every failed run carries {"kind", "message", "first"}; a run that did not fail, null. */
Test(report, failure_object_of_every_kind)
{
    struct kmapsim_run_result r;

    memset(&r, 0, sizeof r);
    strcpy(r.arch, "x86");
    r.workload = KW_RANDOM;
    assert_failure_json(&r, "\"ok\":true,\"failure\":null}");
    cr_assert_eq(kmapsim_run_failure(&r), KMAPSIM_FAIL_NONE);

    r.op_errors = 3;
    snprintf(r.first[KMAPSIM_FAIL_CALLS], sizeof r.first[0], "kmap of pfn 7 failed: EINVAL");
    assert_failure_json(&r, "\"ok\":false,\"failure\":{\"kind\":\"failed_calls\",\"message\":"
                            "\"library calls failed (3)\",\"first\":\"kmap of pfn 7 failed: "
                            "EINVAL\"}}");
    r.workload = KW_TRACE; /* failed trace commands do not fail the run */
    assert_failure_json(&r, "\"ok\":true,\"failure\":null}");

    r.invariants = 3;
    strcpy(r.invariant_msg, "I3: count >= 1 but PTE none at slot 5");
    assert_failure_json(&r, "\"failure\":{\"kind\":\"invariants\",\"message\":\"invariants "
                            "broken after the run: I3: count >= 1 but PTE none at slot 5\","
                            "\"first\":null}");

    r.wrong_bytes = 2;
    snprintf(r.first[KMAPSIM_FAIL_WRONG_BYTES], sizeof r.first[0], "wrong byte: \"q\"");
    assert_failure_json(&r, "\"failure\":{\"kind\":\"wrong_bytes\",\"message\":\"wrong bytes "
                            "read (2)\",\"first\":\"wrong byte: \\\"q\\\"\"}");

    r.stale = 1;
    assert_failure_json(&r, "\"failure\":{\"kind\":\"stale_translation\",\"message\":\"stale "
                            "translations detected (1)\",\"first\":null}");

    r.watchdog = 9;
    snprintf(r.first[KMAPSIM_FAIL_WATCHDOG], sizeof r.first[0], "5 of 10 operations done");
    assert_failure_json(&r, "\"failure\":{\"kind\":\"watchdog\",\"message\":\"the run did not "
                            "finish within 9 s\",\"first\":\"5 of 10 operations done\"}");
    cr_assert_eq(kmapsim_run_failure(&r), KMAPSIM_FAIL_WATCHDOG);
    cr_assert_str_eq(kmapsim_run_failure_name(KMAPSIM_FAIL_STALE), "stale_translation");
    cr_assert_null(kmapsim_run_failure_name(KMAPSIM_FAIL_NONE));
    cr_assert_null(kmapsim_run_failure_name(KMAPSIM_FAIL__COUNT));
}

/* A trace that makes the machine lose a TLB flush is caught: the sim's detector fires, the
 * run counts as failed, and the JSON names the stale translation and where it was first seen.
 * With LAST_PKMAP 4, PKMAP_BASE is 0xffc00000 (scenarios_test.c); slot 1 is cached by cpu 0's
 * store, the wrap flush is dropped, slot 1 is mapped again. */
Test(report, stale_translation_is_reported)
{
    static const char text[] = "inject drop-all-flushes\n"
                               "kmap 229377\nkmap 229378\nkmap 229379\n"
                               "store 0 0xffc01000 1\nkunmap 229377\nkunmap 229378\n"
                               "kunmap 229379\nkmap 229380\nkmap 229381\nkmap 229382\n"
                               "kmap 229383\nload 0 0xffc01000\n";
    struct trace_list t;
    struct kmapsim_run_result r;
    struct rt_case rc = {.arch = "x86", .workload = KW_TRACE, .trace = &t, .pkmap_entries = 4};
    char err[256], *json;

    cr_assert_eq(trace_parse_text(text, strlen(text), &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rt_run(&rc, &r, err, sizeof err), 0, "%s", err);
    cr_assert_gt(r.stale, 0);
    cr_assert(kmapsim_run_failed(&r));
    json = json_of(&r, 1);
    cr_assert(strstr(json, "\"ok\":false,\"failure\":{\"kind\":\"stale_translation\","
                           "\"message\":\"stale translations detected (") != NULL, "%s", json);
    cr_assert(strstr(json, "\"first\":\"stale translation: cpu 0's TLB maps 0xffc01000 to "
                           "pfn 229377") != NULL, "%s", json);
    free(json);
    kmapsim_run_result_free(&r);
    trace_list_free(&t);
}

/* The whole of a small file (free it). */
static char *slurp(FILE *f)
{
    long n;
    char *s;
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    s = calloc((size_t)n + 1, 1);
    cr_assert_not_null(s);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

/* With json set, the watchdog prints the document of the command so far before it ends the
 * process with exit 1: the finished run (prior), then the cut-short one, failed by it. */
Test(watchdog, json_of_the_runs_so_far, .timeout = 60)
{
    struct kmapsim_run_result done;
    struct kmapsim_run_opts ro;
    struct hm_config cfg;
    struct rt_case rc = {.arch = "x86", .workload = KW_PAGECACHE_READ, .ops = 2000};
    char err[256], *doc;
    FILE *out = tmpfile();
    pid_t pid;
    int status;

    cr_assert_not_null(out);
    cr_assert_eq(rt_run(&rc, &done, err, sizeof err), 0, "%s", err);

    rc.ops = UINT64_C(1) << 40;
    rc.watchdog_set = 1;
    rc.watchdog_s = 1;
    cr_assert_eq(rt_prepare(&rc, &cfg, &ro, err, sizeof err), 0, "%s", err);
    ro.json = 1;
    ro.prior = &done;
    ro.nprior = 1;
    fflush(NULL);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct kmapsim_run_result r;
        if (dup2(fileno(out), STDOUT_FILENO) < 0)
            _exit(3);
        kmapsim_run_one(&cfg, &ro, &r, err, sizeof err);
        _exit(4); /* not reached: the watchdog ends the process */
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status 0x%x", status);
    doc = slurp(out);
    fclose(out);
    cr_assert(strncmp(doc, "{\"schema_version\":2,", 20) == 0, "%s", doc);
    cr_assert(strstr(doc, "\"ops\":2000,") != NULL, "the finished run first: %s", doc);
    cr_assert(strstr(doc, "\"ok\":true,\"failure\":null},{\"arch\":\"x86\"") != NULL, "%s",
              doc);
    cr_assert(strstr(doc, "\"ok\":false,\"failure\":{\"kind\":\"watchdog\",\"message\":\"the "
                          "run did not finish within 1 s\",\"first\":\"") != NULL, "%s", doc);
    cr_assert(strstr(doc, " of 1099511627776 operations done, 0 sleeps, 0 wake-ups so far\"}}]}\n")
                  != NULL, "%s", doc);
    free(doc);
    kmapsim_run_result_free(&done);
}

/* The SVG goes to a file opened by the caller: written and flushed, not closed; a write error
 * is reported (-1). */
Test(report, svg_to_an_open_file)
{
    struct kmapsim_run_result r;
    struct rt_case rc = {.arch = "x86", .workload = KW_PAGECACHE_HOT, .ops = 3000, .record = 1};
    char err[256], *svg;
    FILE *f = tmpfile(), *full;

    cr_assert_not_null(f);
    cr_assert_eq(rt_run(&rc, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(kmapsim_run_write_svg(f, "test.svg", &r, 1), 0);
    svg = slurp(f); /* still open: the writer did not close it */
    cr_assert(strstr(svg, "<svg") != NULL && strstr(svg, "</svg>") != NULL);
    free(svg);
    cr_assert_eq(fclose(f), 0);
    full = fopen("/dev/full", "w");
    if (full) {
        cr_assert_eq(kmapsim_run_write_svg(full, "/dev/full", &r, 1), -1);
        fclose(full);
    }
    kmapsim_run_result_free(&r);
}
