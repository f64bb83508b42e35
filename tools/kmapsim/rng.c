/* rng.c - kmapsim run's randomness (rng.h): splitmix64 and the Zipf sampler.
 * SPDX-License-Identifier: MIT */
#include "rng.h"

#include <math.h>
#include <stdlib.h>

uint64_t rng_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t rng_next(uint64_t *s)
{
    *s += UINT64_C(0x9e3779b97f4a7c15);
    return rng_mix64(*s);
}

uint64_t rng_below(uint64_t *s, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (n <= UINT32_MAX)
        return ((rng_next(s) >> 32) * n) >> 32;
    return rng_next(s) % n;
}

/* Uniform in [0, 1) with 53 bits. */
static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

int zipf_init(struct zipf *z, uint64_t n, double s)
{
    uint64_t k;
    double sum = 0;
    z->n = n;
    z->cdf = malloc((size_t)(n ? n : 1) * sizeof *z->cdf);
    if (!z->cdf)
        return -1;
    for (k = 0; k < n; k++) {
        sum += pow((double)(k + 1), -s);
        z->cdf[k] = sum;
    }
    for (k = 0; k < n; k++)
        z->cdf[k] /= sum;
    if (n)
        z->cdf[n - 1] = 1.0;
    return 0;
}

uint64_t zipf_sample(const struct zipf *z, uint64_t *rng)
{
    double u = rng_unit(rng);
    uint64_t lo = 0, hi = z->n - 1; /* answer in [lo, hi] */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (z->cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void zipf_free(struct zipf *z)
{
    free(z->cdf);
    z->cdf = NULL;
    z->n = 0;
}
