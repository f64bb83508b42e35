/* sim_fixture.h - the machine the sim-only tests (sim_test, sim_reset_test, cache_test,
 * cache_threads_test) run on: an x86-like layout (1024-slot window at 0xff800000) and a tiny PTE
 * format (pfn << 12 | 0x63). No Criterion here; sim_criterion.h adds the suites' helpers.
 * SPDX-License-Identifier: MIT */
#ifndef HM_SIM_FIXTURE_H
#define HM_SIM_FIXTURE_H

#include <string.h>

#include "highmem_arch.h"
#include "sim/sim.h"

static inline int t_pte_none(hm_pte_t pte) { return pte == 0; }
static inline hm_pfn_t t_pte_pfn(hm_pte_t pte) { return (hm_pfn_t)(pte >> 12); }

static const struct hm_arch test_arch = {
    .name = "test",
    .pte_none = t_pte_none,
    .pte_pfn = t_pte_pfn,
};

#define PTE(pfn) (((hm_pte_t)(pfn) << 12) | 0x63u)
#define PKMAP_BASE 0xff800000u
#define PKMAP_ADDR(n) (PKMAP_BASE + ((uint32_t)(n) << 12))
#define FIX_ADDR 0xfff00000u /* inside the page-table window, outside the pkmap window */
#define HIGH_A 0x38010u
#define HIGH_B 0x38020u

static inline struct hm_layout make_layout(void)
{
    struct hm_layout l;
    memset(&l, 0, sizeof l);
    l.arch = "test";
    l.page_size = 4096;
    l.page_shift = 12;
    l.va_bits = 32;
    l.page_offset = 0xc0000000u;
    l.highmem_start_pfn = 0x38000u;
    l.max_pfn = 0x40000u;
    l.high_memory = 0xf8000000u;
    l.pkmap_base = PKMAP_BASE;
    l.last_pkmap = 1024;
    l.nr_cpus = 2;
    l.config_nr_cpus = 2;
    l.pt_start = 0xff800000u;
    l.pt_pages = 2047; /* up to 0xfffff000 */
    l.pte_bytes = 4;
    return l;
}

#endif /* HM_SIM_FIXTURE_H */
