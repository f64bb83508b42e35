/* bench_util.c - helpers the bench/ programs share (bench_util.h).
 * SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "bench_util.h"

#include <stdlib.h>
#include <time.h>

unsigned bench_parse_list(const char *s, unsigned *out, unsigned max, unsigned lo, unsigned hi)
{
    unsigned n = 0;
    char *end;
    while (*s && n < max) {
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v < lo || v > hi || (*end && *end != ','))
            return 0;
        out[n++] = (unsigned)v;
        s = *end ? end + 1 : end;
    }
    return *s ? 0 : n;
}

int bench_parse_u32(const char *s, uint32_t *out, uint32_t lo, uint32_t hi)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return 0;
    *out = (uint32_t)v;
    return 1;
}

uint64_t bench_rng_next(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
