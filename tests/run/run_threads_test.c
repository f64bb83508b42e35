/* run_threads_test.c - the threaded kmapsim run workloads (hold-many, pipe, bounce) on every arch
 * finish within tests/threadlib's deadline, hold-many sleeps, statistics and invariants hold.
 * Plain C for TSan; one case per run; last line "N passed, N failed". SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runlib.h"
#include "tests/threadlib.h"

/* One run: a workload on an arch with its window, threads or CPUs (0: the engine's defaults),
 * and the checks particular to the workload. */
struct run_case {
    struct rt_case c;
    void (*check)(const struct run_case *rc, const struct kmapsim_run_result *r);
    char name[96];
};

/* The pkmap colours of arch's layout with LAST_PKMAP L (1: uncoloured; 1 if it does not compute). */
static uint64_t colours(const char *arch, uint64_t L)
{
    struct hm_config cfg = {.arch = hm_arch_find(arch), .nr_cpus = 1, .last_pkmap = (uint32_t)L};
    struct hm_layout l;
    return hm_layout_compute(&cfg, &l) == HM_OK && l.pkmap_colours ? l.pkmap_colours : 1u;
}

/* hold-many: rounds of window + threads - 1 pages held at once, so every round sleeps. */
static void check_hold_many(const struct run_case *rc, const struct kmapsim_run_result *r)
{
    CHECK(r->threads == rc->c.threads, "%" PRIu32, r->threads);
    if (r->last_pkmap) {
        /* coloured (spec §10.3): the window of a round is one colour's slots */
        uint64_t window = r->last_pkmap / colours(rc->c.arch, r->last_pkmap);
        uint64_t per_round = window + rc->c.threads - 1;
        uint64_t rounds = r->ops / per_round;
        CHECK(r->ops % per_round == 0, "%" PRIu64 " ops", r->ops);
        CHECK(rounds >= 1, "%" PRIu64, rounds);
        CHECK(r->hm.sleeps >= rounds, "%" PRIu64 " sleeps in %" PRIu64 " rounds", r->hm.sleeps,
              rounds);
        CHECK(r->hm.wakeups > 0, "%" PRIu64, r->hm.wakeups);
        CHECK(r->sleep_ns_total > 0 && r->sleep_ns_max_thread > 0, "%" PRIu64, r->sleep_ns_total);
        CHECK(r->peak_in_use + rc->c.threads - 1 >= window, "peak %" PRIu64, r->peak_in_use);
    } else {
        CHECK(r->hm.sleeps == 0 && r->hm.kmap_calls == 0, "%" PRIu64, r->hm.sleeps);
    }
}

/* pipe: writer/reader pairs; every page written is read back intact. */
static void check_pipe(const struct run_case *rc, const struct kmapsim_run_result *r)
{
    CHECK(r->ops == rc->c.ops, "%" PRIu64, r->ops);
    CHECK(r->bytes_checked == 5 * r->ops, "%" PRIu64, r->bytes_checked);
    if (r->last_pkmap)
        CHECK(r->hm.kmap_hits > 0, "readers never found the writer's page still mapped");
}

/* bounce: one thread per CPU, each with its own kmap_atomic slots. */
static void check_bounce(const struct run_case *rc, const struct kmapsim_run_result *r)
{
    CHECK(r->threads == rc->c.cpus, "%" PRIu32, r->threads);
    CHECK(r->kmap_atomics == r->ops, "%" PRIu64, r->kmap_atomics);
}

/* local-switch: one thread per CPU, each switching its own tasks; kmap_local only. */
static void check_local_switch(const struct run_case *rc, const struct kmapsim_run_result *r)
{
    CHECK(r->threads == rc->c.cpus, "%" PRIu32, r->threads);
    CHECK(r->hm.kmap_calls == 0 && r->kmap_atomics == 0, "%" PRIu64, r->hm.kmap_calls);
    CHECK(r->bytes_checked > 0, "%" PRIu64, r->bytes_checked);
}

/* Runs the case and makes the checks every run must pass: it ran, its statistics agree with the
 * events and the invariants hold (rt_consistent), no wrong byte or failed call; then the
 * workload's own. */
static void run_case(const void *arg)
{
    const struct run_case *rc = arg;
    struct kmapsim_run_result r;
    char err[256], msg[512];

    if (rt_run(&rc->c, &r, err, sizeof err) != 0) {
        CHECK(0, "%s", err);
        return;
    }
    CHECK(rt_consistent(&r, msg, sizeof msg) == 0, "%s", msg);
    CHECK(r.invariants == 0, "%s", r.invariant_msg);
    CHECK(!kmapsim_run_failed(&r), "%s", r.failure);
    rc->check(rc, &r);
    kmapsim_run_result_free(&r);
}

/* The runs made on every arch. */
static const struct run_case per_arch[] = {
    /* the arch's own window; a small one (many rounds, many sleeps); a smaller one */
    {.c = {.workload = KW_HOLD_MANY, .threads = 4, .ops = 6000, .seed = 5},
     .check = check_hold_many},
    {.c = {.workload = KW_HOLD_MANY, .pkmap_entries = 16, .threads = 3, .ops = 6000, .seed = 5},
     .check = check_hold_many},
    {.c = {.workload = KW_HOLD_MANY, .pkmap_entries = 8, .threads = 2, .ops = 6000, .seed = 5},
     .check = check_hold_many},
    {.c = {.workload = KW_PIPE, .threads = 2, .ops = 8000, .seed = 9}, .check = check_pipe},
    {.c = {.workload = KW_PIPE, .threads = 4, .ops = 8000, .seed = 9}, .check = check_pipe},
    {.c = {.workload = KW_BOUNCE, .cpus = 3, .ops = 8000, .seed = 2}, .check = check_bounce},
    {.c = {.workload = KW_LOCAL_SWITCH, .cpus = 3, .ops = 8000, .seed = 4},
     .check = check_local_switch},
};
#define RUNS_PER_ARCH (sizeof per_arch / sizeof per_arch[0])

static void name_case(struct run_case *rc)
{
    if (rc->c.workload == KW_HOLD_MANY)
        snprintf(rc->name, sizeof rc->name, "hold-many %s pkmap=%" PRIu32 " threads=%" PRIu32,
                 rc->c.arch, rc->c.pkmap_entries, rc->c.threads);
    else if (rc->c.workload == KW_PIPE)
        snprintf(rc->name, sizeof rc->name, "pipe %s threads=%" PRIu32, rc->c.arch, rc->c.threads);
    else
        snprintf(rc->name, sizeof rc->name, "%s %s cpus=%" PRIu32, kmapsim_workload_name(rc->c.workload),
                 rc->c.arch, rc->c.cpus);
}

/* RUN_THREADS_TEST_ONLY="name[,name...]" runs just those cases (debugging). */
int main(void)
{
    static struct run_case runs[RT_NARCH * RUNS_PER_ARCH];
    static struct tt_case cases[RT_NARCH * RUNS_PER_ARCH];
    size_t n = 0;

    for (int a = 0; a < RT_NARCH; a++) {
        for (size_t k = 0; k < RUNS_PER_ARCH; k++, n++) {
            runs[n] = per_arch[k];
            runs[n].c.arch = rt_arches[a];
            name_case(&runs[n]);
            cases[n].name = runs[n].name;
            cases[n].run = run_case;
            cases[n].arg = &runs[n];
        }
    }
    return tt_main(cases, n, "RUN_THREADS_TEST_ONLY");
}
