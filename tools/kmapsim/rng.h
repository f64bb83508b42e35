/* rng.h - kmapsim run's randomness: the splitmix64 PRNG (one state per worker) and a Zipf(s)
 * sampler over ranks 0..n-1. SPDX-License-Identifier: MIT */
#ifndef KMAPSIM_RNG_H
#define KMAPSIM_RNG_H

#include <stdint.h>

/* splitmix64's output mix (also the byte pattern of the run's pages). */
uint64_t rng_mix64(uint64_t z);
/* The next value of the generator whose state is *s. */
uint64_t rng_next(uint64_t *s);
/* Uniform in [0, n): the high 32 bits scaled (n < 2^32 here; bias below 2^-32 per draw). */
uint64_t rng_below(uint64_t *s, uint64_t n);

/* Zipf(s) over ranks 0..n-1: P(rank k) proportional to 1 / (k + 1)^s. cdf[k] is the
 * probability of a rank <= k; sampling draws u in [0, 1) and returns the first rank whose
 * cdf exceeds u (binary search). */
struct zipf {
    double *cdf;
    uint64_t n;
};

/* Precompute the CDF for n ranks (n >= 1). Returns 0, or -1 when out of memory. */
int zipf_init(struct zipf *z, uint64_t n, double s);
/* A rank drawn with the generator *rng. */
uint64_t zipf_sample(const struct zipf *z, uint64_t *rng);
/* Release the CDF (NULL-safe); leaves *z empty. */
void zipf_free(struct zipf *z);

#endif /* KMAPSIM_RNG_H */
