/* svg_api_test.c - kmapsim_svg_write's contract from svg.h: every bad-argument case returns -1
 * and writes nothing, write errors return -1, valid input (including none) returns 0 and is
 * deterministic. SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "tools/kmapsim/svg.h"

static const struct kmapsim_svg_sample samples[3] = {{1, 1, 0, 3}, {2, 2, 1, 1}, {3, 0, 2, 2}};
static const struct kmapsim_svg_mark marks[2] = {{2, KMAPSIM_MARK_FLUSH}, {3, KMAPSIM_MARK_SLEEP}};
static const uint64_t uses[4] = {3, 0, 1, 9};

static struct kmapsim_svg_run good_run(void)
{
    struct kmapsim_svg_run r = {"x86", "unit", 4, 3, samples, 3, marks, 2, uses};
    return r;
}

/* Everything written to a fresh tmpfile by kmapsim_svg_write(runs, n); *rc gets its result.
 * The caller frees the result. */
static char *render(const struct kmapsim_svg_run *runs, size_t n, int *rc, long *len)
{
    FILE *f = tmpfile();
    char *buf;
    cr_assert(not(eq(ptr, f, NULL)));
    *rc = kmapsim_svg_write(f, runs, n);
    *len = ftell(f);
    cr_assert(ge(long, *len, 0));
    buf = calloc((size_t)*len + 1, 1);
    cr_assert(not(eq(ptr, buf, NULL)));
    rewind(f);
    cr_assert(eq(sz, fread(buf, 1, (size_t)*len, f), (size_t)*len));
    fclose(f);
    return buf;
}

static void expect_rejected(const struct kmapsim_svg_run *runs, size_t n)
{
    int rc;
    long len;
    char *out = render(runs, n, &rc, &len);
    cr_expect(eq(int, rc, -1));
    cr_expect(eq(long, len, 0), "nothing written for bad arguments");
    free(out);
}

Test(svg_api, null_out_rejected)
{
    struct kmapsim_svg_run r = good_run();
    cr_expect(eq(int, kmapsim_svg_write(NULL, &r, 1), -1));
    cr_expect(eq(int, kmapsim_svg_write(NULL, NULL, 0), -1));
}

Test(svg_api, null_runs_with_count_rejected)
{
    expect_rejected(NULL, 1);
}

Test(svg_api, samples_null_with_count_rejected)
{
    struct kmapsim_svg_run r = good_run();
    r.samples = NULL;
    expect_rejected(&r, 1);
}

Test(svg_api, marks_null_with_count_rejected)
{
    struct kmapsim_svg_run r = good_run();
    r.marks = NULL;
    expect_rejected(&r, 1);
}

Test(svg_api, slot_uses_null_with_slots_rejected)
{
    struct kmapsim_svg_run r = good_run();
    r.slot_uses = NULL;
    expect_rejected(&r, 1);
}

Test(svg_api, bad_later_run_rejected_before_writing)
{
    struct kmapsim_svg_run r[3] = {good_run(), good_run(), good_run()};
    r[2].samples = NULL;
    expect_rejected(r, 3);
}

/* NULL arrays are fine when their counts are 0 (and slot_uses when nr_slots is 0). */
Test(svg_api, null_arrays_with_zero_counts_accepted)
{
    struct kmapsim_svg_run r = {"generic", "unit", 0, 10, NULL, 0, NULL, 0, NULL};
    struct kmapsim_svg_run e = {"x86", "unit", 4, 0, NULL, 0, NULL, 0, uses};
    int rc;
    long len;
    char *out = render(&r, 1, &rc, &len);
    cr_expect(eq(int, rc, 0));
    cr_expect(not(eq(ptr, strstr(out, "no pkmap window (no highmem)"), NULL)));
    free(out);
    out = render(&e, 1, &rc, &len);
    cr_expect(eq(int, rc, 0));
    cr_expect(not(eq(ptr, strstr(out, "</svg>"), NULL)));
    free(out);
    out = render(NULL, 0, &rc, &len);
    cr_expect(eq(int, rc, 0));
    cr_expect(not(eq(ptr, strstr(out, "<svg "), NULL)));
    cr_expect(not(eq(ptr, strstr(out, "</svg>"), NULL)));
    free(out);
}

/* A stream that cannot be written (opened for reading) is a write error. */
Test(svg_api, write_error_reported)
{
    struct kmapsim_svg_run r = good_run();
    FILE *f = fopen("/dev/null", "r");
    cr_assert(not(eq(ptr, f, NULL)));
    cr_expect(eq(int, kmapsim_svg_write(f, &r, 1), -1));
    fclose(f);
}

/* A full device fails at the flush at the latest. */
Test(svg_api, full_device_reported)
{
    struct kmapsim_svg_run r = good_run();
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        cr_skip_test("no /dev/full here");
    cr_expect(eq(int, kmapsim_svg_write(f, &r, 1), -1));
    fclose(f);
}

Test(svg_api, deterministic)
{
    struct kmapsim_svg_run r[2] = {good_run(), good_run()};
    int rc1, rc2;
    long len1, len2;
    char *a, *b;
    r[1].arch = "ppc";
    a = render(r, 2, &rc1, &len1);
    b = render(r, 2, &rc2, &len2);
    cr_expect(eq(int, rc1, 0));
    cr_expect(eq(int, rc2, 0));
    cr_assert(eq(long, len1, len2));
    cr_expect(eq(int, memcmp(a, b, (size_t)len1), 0));
    free(a);
    free(b);
}

/* The special characters of names never reach the document raw. */
Test(svg_api, names_escaped)
{
    struct kmapsim_svg_run r = good_run();
    int rc;
    long len;
    char *out;
    r.arch = "a<b&c";
    r.workload = "\"q\" 'x' >";
    out = render(&r, 1, &rc, &len);
    cr_expect(eq(int, rc, 0));
    cr_expect(not(eq(ptr, strstr(out, "a&lt;b&amp;c"), NULL)));
    cr_expect(not(eq(ptr, strstr(out, "&quot;q&quot; &apos;x&apos; &gt;"), NULL)));
    cr_expect(eq(ptr, strstr(out, "a<b"), NULL));
    cr_expect(eq(ptr, strstr(out, "'x'"), NULL));
    free(out);
}
