/* sim_criterion.h - what the Criterion suites on sim_fixture.h's machine (sim_test, cache_test)
 * share: the sim's statistics, and a load that must succeed. Criterion only (it asserts); the
 * plain programs (cache_threads_test) include sim_fixture.h alone. SPDX-License-Identifier: MIT */
#ifndef HM_SIM_CRITERION_H
#define HM_SIM_CRITERION_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <inttypes.h>

#include "sim_fixture.h"

/* s's statistics now (hm_sim_get_stats). */
static inline struct hm_sim_stats sim_stats(const struct hm_sim *s)
{
    struct hm_sim_stats st;
    hm_sim_get_stats(s, &st);
    return st;
}

/* One byte through cpu's MMU at va, which must succeed (the test fails otherwise). */
static inline uint8_t sim_load_ok(struct hm_sim *s, uint32_t cpu, hm_vaddr_t va)
{
    uint8_t v = 0xee;
    cr_assert(eq(int, hm_sim_load(s, cpu, va, &v), HM_OK), "load cpu %u at 0x%" PRIx64, cpu, va);
    return v;
}

#endif /* HM_SIM_CRITERION_H */
