/* dirty.h - the list of an array's entries written since its last reset, which sim.c and
 * cache.c keep so that a reset or a flush clears only what was touched, never the whole array.
 * SPDX-License-Identifier: MIT */
#ifndef HM_SIM_DIRTY_H
#define HM_SIM_DIRTY_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The indices of an array written since its last reset, each listed once (mark[i] set). */
struct dirty {
    uint32_t *idx, n;
    uint8_t *mark;
    size_t cap;  /* entries of the array (and of idx, mark) */
};

/* Record that entry i of the array may be non-zero (i < cap). Called under the sim's lock. */
static inline void dirty_add(struct dirty *d, size_t i)
{
    if (!d->mark[i]) {
        d->mark[i] = 1;
        d->idx[d->n++] = (uint32_t)i;
    }
}

/* Forget every index (the caller has cleared the entries). */
static inline void dirty_reset(struct dirty *d)
{
    for (uint32_t k = 0; k < d->n; k++)
        d->mark[d->idx[k]] = 0;
    d->n = 0;
}

/* Room for n indices, none listed; 0, or -1 with nothing allocated. */
static inline int dirty_alloc(struct dirty *d, size_t n)
{
    d->n = 0;
    d->cap = n;
    d->idx = malloc(n * sizeof *d->idx);
    d->mark = calloc(n, 1);
    if (d->idx && d->mark)
        return 0;
    free(d->idx);
    free(d->mark);
    d->idx = NULL;
    d->mark = NULL;
    d->cap = 0;
    return -1;
}

static inline void dirty_free(struct dirty *d)
{
    free(d->idx);
    free(d->mark);
}

/* Replace *d with *from, allocated larger for the array that replaces d's. */
static inline void dirty_install(struct dirty *d, const struct dirty *from)
{
    dirty_free(d);
    *d = *from;
}

#endif /* HM_SIM_DIRTY_H */
