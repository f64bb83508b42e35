/* svg_gen.c - writes kmapsim_svg_write's picture of several synthetic runs (CASE.svg) next to
 * a description of the input it was given (CASE.json) for svg_check.py to compare.
 * SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/kmapsim/svg.h"

#define MAX_RUNS 4

/* A deterministic pseudo-random sequence (64-bit LCG, high bits). */
static uint32_t next_rand(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*state >> 33);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fputs("svg_gen: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

/* The input facts the checker needs: names, sizes, per-kind mark counts, slot uses, and (for
 * runs whose samples all hold one state) that state. */
static void describe(FILE *f, const struct kmapsim_svg_run *runs, size_t nruns)
{
    fputs("{\"runs\":[", f);
    for (size_t i = 0; i < nruns; i++) {
        const struct kmapsim_svg_run *r = &runs[i];
        uint64_t flushes = 0, sleeps = 0;
        int constant = r->nsamples > 0;
        for (size_t k = 0; k < r->nmarks; k++) {
            flushes += r->marks[k].kind == KMAPSIM_MARK_FLUSH;
            sleeps += r->marks[k].kind == KMAPSIM_MARK_SLEEP;
        }
        for (size_t k = 1; k < r->nsamples; k++)
            if (r->samples[k].in_use != r->samples[0].in_use ||
                r->samples[k].count1 != r->samples[0].count1 ||
                r->samples[k].free != r->samples[0].free)
                constant = 0;
        fputs(i ? ",{\"arch\":" : "{\"arch\":", f);
        json_str(f, r->arch);
        fputs(",\"workload\":", f);
        json_str(f, r->workload);
        fprintf(f,
                ",\"nr_slots\":%" PRIu32 ",\"total_ops\":%" PRIu64 ",\"nsamples\":%zu"
                ",\"flushes\":%" PRIu64 ",\"sleeps\":%" PRIu64,
                r->nr_slots, r->total_ops, r->nsamples, flushes, sleeps);
        if (constant)
            fprintf(f, ",\"constant\":[%" PRIu32 ",%" PRIu32 ",%" PRIu32 "]",
                    r->samples[0].in_use, r->samples[0].count1, r->samples[0].free);
        else
            fputs(",\"constant\":null", f);
        fputs(",\"uses\":[", f);
        for (uint32_t s = 0; s < r->nr_slots; s++)
            fprintf(f, s ? ",%" PRIu64 : "%" PRIu64, r->slot_uses[s]);
        fputs("]}", f);
    }
    fputs("]}\n", f);
}

static int emit(const char *dir, const char *name, const struct kmapsim_svg_run *runs,
                size_t nruns)
{
    char path[4096];
    FILE *f;
    int rc;
    snprintf(path, sizeof path, "%s/%s.svg", dir, name);
    f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    rc = kmapsim_svg_write(f, runs, nruns);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "svg_gen: %s: kmapsim_svg_write failed\n", name);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    describe(f, runs, nruns);
    return fclose(f) == 0 ? 0 : -1;
}

/* Samples after every op 1..n drifting randomly inside nr slots; marks of both kinds at
 * random ops (in op order), uses random below max_use. */
static void random_run(struct kmapsim_svg_run *r, const char *arch, const char *workload,
                       uint32_t nr, uint64_t n, size_t nmarks, uint32_t max_use, uint64_t seed)
{
    struct kmapsim_svg_sample *s = xcalloc(n, sizeof *s);
    struct kmapsim_svg_mark *m = xcalloc(nmarks, sizeof *m);
    uint64_t *u = xcalloc(nr, sizeof *u);
    uint32_t in_use = 0, count1 = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t x = next_rand(&seed);
        in_use = (uint32_t)(((uint64_t)in_use + x % 5) % (nr + 1u));
        count1 = (uint32_t)((uint64_t)(x >> 8) % (nr - in_use + 1u));
        s[i].op = i + 1;
        s[i].in_use = in_use;
        s[i].count1 = count1;
        s[i].free = nr - in_use - count1;
    }
    for (size_t k = 0; k < nmarks; k++) {
        m[k].op = 1 + (uint64_t)k * n / nmarks;
        m[k].kind = next_rand(&seed) % 3 ? KMAPSIM_MARK_FLUSH : KMAPSIM_MARK_SLEEP;
    }
    for (uint32_t k = 0; k < nr; k++)
        u[k] = next_rand(&seed) % max_use;
    memset(r, 0, sizeof *r);
    r->arch = arch;
    r->workload = workload;
    r->nr_slots = nr;
    r->total_ops = n;
    r->samples = s;
    r->nsamples = (size_t)n;
    r->marks = m;
    r->nmarks = nmarks;
    r->slot_uses = u;
}

static void free_run(struct kmapsim_svg_run *r)
{
    free((void *)r->samples);
    free((void *)r->marks);
    free((void *)r->slot_uses);
}

/* A case of one random_run. */
static int emit_random(const char *dir, const char *name, const char *arch, const char *workload,
                       uint32_t nr, uint64_t n, size_t nmarks, uint32_t max_use, uint64_t seed)
{
    struct kmapsim_svg_run run;
    int rc;
    random_run(&run, arch, workload, nr, n, nmarks, max_use, seed);
    rc = emit(dir, name, &run, 1);
    free_run(&run);
    return rc;
}

int main(int argc, char **argv)
{
    struct kmapsim_svg_run runs[MAX_RUNS];
    struct kmapsim_svg_sample one[50], cst[1000];
    struct kmapsim_svg_mark onem[3] = {{10, KMAPSIM_MARK_FLUSH},
                                       {20, KMAPSIM_MARK_SLEEP},
                                       {21, KMAPSIM_MARK_SLEEP}};
    struct kmapsim_svg_mark nsm[9];
    uint64_t one_use[1] = {7}, zero16[16] = {0};
    int bad = 0;
    const char *dir = argc > 1 ? argv[1] : ".";

    /* empty: no runs at all. */
    bad |= emit(dir, "empty", NULL, 0);

    /* noslots: the generic arch has no pkmap window (marks are ignored there). */
    memset(runs, 0, sizeof runs);
    runs[0].arch = "generic";
    runs[0].workload = "pagecache-hot";
    runs[0].total_ops = 100;
    bad |= emit(dir, "noslots", runs, 1);

    /* oneslot: a single slot flipping between held and count 1. */
    for (int i = 0; i < 50; i++) {
        one[i].op = (uint64_t)i + 1;
        one[i].in_use = (uint32_t)(i % 2);
        one[i].count1 = 1u - (uint32_t)(i % 2);
        one[i].free = 0;
    }
    memset(runs, 0, sizeof runs);
    runs[0] = (struct kmapsim_svg_run){"x86", "one-slot", 1, 50, one, 50, onem, 3, one_use};
    bad |= emit(dir, "oneslot", runs, 1);

    /* escape: names with every XML special character, and a control byte. */
    bad |= emit_random(dir, "escape", "a<b&c", "\"q\" 'x' > y\x01", 8, 20, 4, 10, 1);

    /* constant: 30 slots held, 20 at count 1, 50 free over the whole run. */
    for (int i = 0; i < 1000; i++)
        cst[i] = (struct kmapsim_svg_sample){(uint64_t)i + 1, 30, 20, 50};
    memset(runs, 0, sizeof runs);
    random_run(&runs[0], "ppc", "constant", 100, 1, 0, 5, 2);
    free((void *)runs[0].samples);
    runs[0].samples = cst;
    runs[0].nsamples = 1000;
    runs[0].total_ops = 1000;
    bad |= emit(dir, "constant", runs, 1);
    runs[0].samples = NULL;
    free_run(&runs[0]);

    /* nosamples: marks only, total_ops 0 (the extent comes from the marks), no uses. */
    for (int i = 0; i < 9; i++)
        nsm[i] = (struct kmapsim_svg_mark){(uint64_t)i + 1,
                                           i < 5 ? KMAPSIM_MARK_FLUSH : KMAPSIM_MARK_SLEEP};
    memset(runs, 0, sizeof runs);
    runs[0] = (struct kmapsim_svg_run){"sparc", "marks-only", 16, 0, NULL, 0, nsm, 9, zero16};
    bad |= emit(dir, "nosamples", runs, 1);

    /* big: 4096 slots, a million samples, 200000 marks. */
    bad |= emit_random(dir, "big", "x86", "big", 4096, 1000000, 200000, 100000, 3);

    /* multi: --arch all style, panels in input order, one without a window. */
    memset(runs, 0, sizeof runs);
    random_run(&runs[0], "x86", "multi", 1024, 3000, 40, 50, 4);
    runs[1].arch = "generic";
    runs[1].workload = "multi";
    runs[1].total_ops = 3000;
    random_run(&runs[2], "x86-pae", "multi", 512, 3000, 25, 70, 5);
    random_run(&runs[3], "ppc", "multi", 1500, 700, 3, 9, 6);
    bad |= emit(dir, "multi", runs, 4);
    free_run(&runs[0]);
    free_run(&runs[2]);
    free_run(&runs[3]);

    return bad ? 1 : 0;
}
