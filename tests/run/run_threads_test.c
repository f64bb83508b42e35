/* run_threads_test.c - the threaded kmapsim run workloads (hold-many, pipe, bounce on several
 * CPUs) on every arch: they finish (the engine's watchdog would end the process), hold-many
 * sleeps, statistics and invariants hold afterwards. Plain C for TSan; last line
 * "N passed, N failed".
 * SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runlib.h"

static int g_passed, g_failed;

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: %s: check failed: %s -- ", __FILE__, __LINE__, name,   \
                    #cond);                                                                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            ok = 0;                                                                        \
        }                                                                                  \
    } while (0)

static void report(const char *name, int ok)
{
    printf("%s %s\n", ok ? "PASS" : "FAIL", name);
    fflush(stdout);
    if (ok)
        g_passed++;
    else
        g_failed++;
}

/* Runs c and makes the checks every run must pass: it ran, its statistics agree with the
 * events and the invariants hold (rt_consistent), no wrong byte or failed call. Returns 0 when
 * the run could not be made (then it is reported here), else 1 with *r to free and *okp set. */
static int run_checked(const char *name, const struct rt_case *c, struct kmapsim_run_result *r,
                       int *okp)
{
    char err[256], msg[512];
    int ok = 1;
    if (rt_run(c, r, err, sizeof err) != 0) {
        CHECK(0, "%s", err);
        report(name, ok);
        return 0;
    }
    CHECK(rt_consistent(r, msg, sizeof msg) == 0, "%s", msg);
    CHECK(r->invariants == 0, "%s", r->invariant_msg);
    CHECK(!kmapsim_run_failed(r), "%s", r->failure);
    *okp = ok;
    return 1;
}

/* hold-many: rounds of window + threads - 1 pages held at once, so every round sleeps. */
static void hold_many(const char *arch, uint32_t pkmap, uint32_t threads)
{
    struct rt_case c;
    struct kmapsim_run_result r;
    char name[96];
    int ok = 1;

    snprintf(name, sizeof name, "hold-many %s pkmap=%" PRIu32 " threads=%" PRIu32, arch, pkmap,
             threads);
    memset(&c, 0, sizeof c);
    c.arch = arch;
    c.workload = KW_HOLD_MANY;
    c.threads = threads;
    c.pkmap_entries = pkmap;
    c.ops = 6000;
    c.seed = 5;
    if (!run_checked(name, &c, &r, &ok))
        return;
    CHECK(r.threads == threads, "%" PRIu32, r.threads);
    if (r.last_pkmap) {
        uint64_t per_round = r.last_pkmap + threads - 1;
        uint64_t rounds = r.ops / per_round;
        CHECK(r.ops % per_round == 0, "%" PRIu64 " ops", r.ops);
        CHECK(rounds >= 1, "%" PRIu64, rounds);
        CHECK(r.hm.sleeps >= rounds, "%" PRIu64 " sleeps in %" PRIu64 " rounds", r.hm.sleeps,
              rounds);
        CHECK(r.hm.wakeups > 0, "%" PRIu64, r.hm.wakeups);
        CHECK(r.sleep_ns_total > 0 && r.sleep_ns_max_thread > 0, "%" PRIu64, r.sleep_ns_total);
        CHECK(r.peak_in_use + threads - 1 >= r.last_pkmap, "peak %" PRIu64, r.peak_in_use);
    } else {
        CHECK(r.hm.sleeps == 0 && r.hm.kmap_calls == 0, "%" PRIu64, r.hm.sleeps);
    }
    kmapsim_run_result_free(&r);
    report(name, ok);
}

/* pipe: writer/reader pairs; every page written is read back intact. */
static void pipe_run(const char *arch, uint32_t threads)
{
    struct rt_case c;
    struct kmapsim_run_result r;
    char name[96];
    int ok = 1;

    snprintf(name, sizeof name, "pipe %s threads=%" PRIu32, arch, threads);
    memset(&c, 0, sizeof c);
    c.arch = arch;
    c.workload = KW_PIPE;
    c.threads = threads;
    c.ops = 8000;
    c.seed = 9;
    if (!run_checked(name, &c, &r, &ok))
        return;
    CHECK(r.ops == 8000, "%" PRIu64, r.ops);
    CHECK(r.bytes_checked == 5 * r.ops, "%" PRIu64, r.bytes_checked);
    if (r.last_pkmap)
        CHECK(r.hm.kmap_hits > 0, "readers never found the writer's page still mapped");
    kmapsim_run_result_free(&r);
    report(name, ok);
}

/* bounce: one thread per CPU, each with its own kmap_atomic slots. */
static void bounce_run(const char *arch, uint32_t cpus)
{
    struct rt_case c;
    struct kmapsim_run_result r;
    char name[96];
    int ok = 1;

    snprintf(name, sizeof name, "bounce %s cpus=%" PRIu32, arch, cpus);
    memset(&c, 0, sizeof c);
    c.arch = arch;
    c.workload = KW_BOUNCE;
    c.cpus = cpus;
    c.ops = 8000;
    c.seed = 2;
    if (!run_checked(name, &c, &r, &ok))
        return;
    CHECK(r.threads == cpus, "%" PRIu32, r.threads);
    CHECK(r.kmap_atomics == r.ops, "%" PRIu64, r.kmap_atomics);
    kmapsim_run_result_free(&r);
    report(name, ok);
}

int main(void)
{
    int a;
    for (a = 0; a < RT_NARCH; a++) {
        hold_many(rt_arches[a], 0, 4);  /* the arch's own window */
        hold_many(rt_arches[a], 16, 3); /* a small window: many rounds, many sleeps */
        hold_many(rt_arches[a], 8, 2);
        pipe_run(rt_arches[a], 2);
        pipe_run(rt_arches[a], 4);
        bounce_run(rt_arches[a], 3);
    }
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
