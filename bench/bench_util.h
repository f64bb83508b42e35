/* bench_util.h - helpers the bench/ programs share: option parsing, a seeded generator, the
 * monotonic clock and the median. SPDX-License-Identifier: MIT */
#ifndef HM_BENCH_UTIL_H
#define HM_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Parse "a,b,c" of at most max numbers in [lo, hi] into out; returns the count, 0 on error. */
unsigned bench_parse_list(const char *s, unsigned *out, unsigned max, unsigned lo, unsigned hi);

/* Parse one number in [lo, hi] into *out; 1 when done, 0 on error (*out unchanged). */
int bench_parse_u32(const char *s, uint32_t *out, uint32_t lo, uint32_t hi);

/* splitmix64: the next number of the sequence whose state is *x. */
uint64_t bench_rng_next(uint64_t *x);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* The median of v[0..n) (n >= 1); sorts v in place, so v[0] and v[n-1] are then its range. */
double bench_median(double *v, unsigned n);

#endif /* HM_BENCH_UTIL_H */
