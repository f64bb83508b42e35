/* testlib.h - shared fixture of the libhighmem Criterion suites: opens a simulated machine for a
 * config (harness/machine.h) behind a checking wrapper, records events and bug reports, and
 * snapshots the state for "nothing changed" checks. SPDX-License-Identifier: MIT */
#ifndef HM_TESTLIB_H
#define HM_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "harness/machine.h"
#include "highmem_arch.h"
#include "sim/sim.h"

#define TL_PAGE 4096u
#define TL_MAX_BUGS 256u

/* One bug report as the bug hook saw it. */
struct tl_bug {
    int bug, err;
    const char *function;
    uint64_t arg; /* a pfn or an address */
};

/* A machine that forwards every hook to the sim's, except that get_pte may lie for one
 * address (lie_on: return lie_pte for lie_vaddr). Counts the hooks it forwards. */
struct tl;
struct tl_wrap {
    struct hm_machine inner;
    struct tl *owner;
    int lie_on;
    hm_vaddr_t lie_vaddr;
    hm_pte_t lie_pte;
    /* sleep_action set: sleep() does not block; it drops kmap_lock, runs the action as
     * "another task" (single-threaded), re-takes the lock and returns. More than
     * sleep_limit sleeps (default 8) fails the test instead of looping forever. */
    void (*sleep_action)(struct tl *t, unsigned nth_sleep);
    /* Called on every set_pte before it reaches the sim (the library holds kmap_lock). */
    void (*on_set_pte)(struct tl *t, hm_vaddr_t vaddr, hm_pte_t pte);
    unsigned sleep_limit;
    uint64_t set_pte_calls, get_pte_calls, sleeps, wakes;
};

/* Options of tl_open_opts. */
enum {
    TL_SIM_MACHINE = 1 /* the context gets the sim's own hooks, no wrapper */
};

struct tl {
    int open, opts;
    struct harness_machine hm;     /* the machine; hm.hw is what the context was given */
    /* hm's, copied after the open for the suites: */
    struct hm_config cfg;
    struct hm_layout layout;
    struct hm_sim *sim;
    struct hm_ctx *ctx;
    struct hm_machine sim_machine; /* the sim's hooks */
    struct tl_wrap wrap;
    struct hm_event *ev; /* every event: the context's and the sim's, in order */
    size_t nev, cap;
    struct tl_bug bugs[TL_MAX_BUGS];
    size_t nbugs;
};

/* A config for a backend by name ("x86", "generic"), default everything else, in the kernel
 * generation of the run (HM_TEST_KERNEL, tests/testenv.h; 2.6.24 without it). A test about one
 * generation assigns .kernel itself; every other test holds in each generation. */
struct hm_config tl_cfg(const char *arch, uint32_t last_pkmap, uint32_t nr_cpus);

/* Open the fixture's machine through harness_machine_open (asserts it opens) and return it.
 * Closed by tl_fini or tl_close. */
struct tl *tl_open(const struct hm_config *cfg);
struct tl *tl_open_opts(const struct hm_config *cfg, int opts);
void tl_close(struct tl *t);
/* For TestSuite(.fini = tl_fini): closes the fixture if a test left it open. */
void tl_fini(void);

/* Event log. */
void tl_ev_clear(struct tl *t);
size_t tl_ev_count(const struct tl *t, int kind);
/* Events that touch the hardware: pte set/clear, TLB and cache flushes. */
size_t tl_ev_hw_count(const struct tl *t, size_t from);
void tl_bugs_clear(struct tl *t);

/* PKMAP_ADDR(n) of the fixture's layout: pkmap_base + n * PAGE_SIZE (spec §0). */
hm_vaddr_t tl_pkaddr(const struct tl *t, uint32_t n);
/* hm_pool_size + the sum of hm_bucket_size over the 128 buckets. */
uint32_t tl_records(const struct tl *t);
/* The last bug report (asserts there is one). */
const struct tl_bug *tl_last_bug(const struct tl *t);
/* kmap / kunmap that must succeed; return the address. */
hm_vaddr_t tl_kmap(struct tl *t, hm_pfn_t pfn);
void tl_kunmap(struct tl *t, hm_pfn_t pfn);
/* page_address that must succeed. */
hm_vaddr_t tl_page_address(struct tl *t, hm_pfn_t pfn);
/* One byte through cpu's MMU (must succeed). */
uint8_t tl_load(struct tl *t, uint32_t cpu, hm_vaddr_t vaddr);
/* Write a marker byte at offset 0 of a frame (must succeed). */
void tl_mark(struct tl *t, hm_pfn_t pfn, uint8_t value);
struct hm_stats tl_stats(const struct tl *t);
struct hm_sim_stats tl_sim_stats(const struct tl *t);

/* A snapshot of every piece of state an erroring call must leave alone. */
struct tl_snap {
    uint32_t last_nr, pool, waiters;
    uint32_t buckets[HM_PA_HASH_SIZE];
    int depths[HM_MAX_CPUS];
    int32_t *counts; /* [last_pkmap] */
    hm_pte_t *ptes;  /* [layout.pt_pages] */
    size_t nev;      /* events recorded when taken */
    /* 5.11 (-1 elsewhere): the task each CPU runs, each CPU's idle task's idx, each task's idx */
    int cpu_task[HM_MAX_CPUS];
    int idle_idx[HM_MAX_CPUS];
    int task_idx[HM_MAX_TASKS];
};
void tl_snap_take(const struct tl *t, struct tl_snap *s);
/* 0 when the state equals the snapshot and no hardware event happened since; else non-zero
 * with a description in msg. */
int tl_snap_diff(const struct tl *t, const struct tl_snap *s, char *msg, size_t len);
void tl_snap_free(struct tl_snap *s);

/* ---- helpers of the per-arch, scenario and fault suites -------------------------------- */

/* tl_cfg + debug_highmem + need_flush, then tl_open. */
struct tl *tl_open_arch(const char *arch, uint32_t last_pkmap, uint32_t nr_cpus, int debug,
                        int need_flush);
/* Assert hm_check_invariants() == 0 and that the page_address records are conserved
 * (pool + buckets == LAST_PKMAP); `where` names the step in the failure message. */
void tl_assert_invariants(const struct tl *t, const char *where);
/* Events of one kind recorded at index `from` or later. */
size_t tl_ev_count_since(const struct tl *t, size_t from, int kind);
/* Assert that the events recorded from index `from` on have exactly these kinds, in order
 * (kinds are compared by name so a failure reads "pte_set" rather than 1). */
void tl_assert_ev_kinds(const struct tl *t, size_t from, const int *kinds, size_t n,
                        const char *what);
/* Assert that the state still equals the snapshot (tl_snap_diff() == 0), then free it. */
void tl_snap_assert_same(const struct tl *t, struct tl_snap *s, const char *what);
/* The same for the state alone, whatever events happened since (the caller checks those: a
 * refused PTE write has its pte_set / pte_clear event, sparc's kmap_atomic a cache flush). */
void tl_snap_assert_state_same(const struct tl *t, struct tl_snap *s, const char *what);
/* Assert that the last bug report is (bug, err) from `function` (NULL: any function). */
void tl_assert_last_bug(const struct tl *t, int bug, int err, const char *function);
/* One byte through cpu's MMU, or the error: for loads that may fail. */
int tl_try_load(struct tl *t, uint32_t cpu, hm_vaddr_t vaddr, uint8_t *value);
/* Assert that event i exists and is a pte_set of pfn at vaddr writing pte. */
void tl_assert_pte_set_ev(const struct tl *t, size_t i, hm_vaddr_t vaddr, hm_pfn_t pfn, hm_pte_t pte);
/* Assert that the events from index `from` on are exactly a pte_clear of vaddr and a
 * tlb_flush_page of vaddr on cpu (HM_CPU_ALL: on every cpu), as kunmap_atomic makes them. */
void tl_assert_clear_flush_page_ev(const struct tl *t, size_t from, hm_vaddr_t vaddr, uint32_t cpu,
                                   const char *what);
/* hm_kmap_flush_unused on a cleared event log: assert HM_OK and exactly these events. */
void tl_assert_flush_unused_events(struct tl *t, const int *kinds, size_t n, const char *what);
/* hm_layout_compute(c) with highmem from pfn high0 accepts highmem_pages up to max_pfn (and
 * then gives that max_pfn) and rejects one page more; c->highmem_pages is left at the latter. */
void tl_assert_max_pfn_limit(struct hm_config *c, hm_pfn_t high0, hm_pfn_t max_pfn);

/* ---- helpers of the per-arch suites (x86, x86_pae, ppc, sparc) -------------------------- */

/* What a suite computes by hand from its arch's constants, for the helpers below. */
struct tl_arch_hand {
    hm_pte_t (*kpte)(hm_pfn_t pfn);                     /* the kmap PTE of pfn */
    hm_vaddr_t (*slot_of)(uint32_t cpu, unsigned type); /* the atomic slot of (cpu, type) */
    int slot_dir;     /* -1: each slot lies below the one before (fixmap); +1: above (ppc) */
    hm_vaddr_t bound; /* the first slot lies strictly beyond it (FIXADDR_TOP, or 0 on ppc) */
};
/* Expect the first n km_type names of the layout, in order: the 13 of asm-generic
 * kmap_types.h, KM_BOUNCE_READ to KM_SOFTIRQ1, then ppc's KM_PPC_SYNC_PAGE and
 * KM_PPC_SYNC_ICACHE (n is 13, or 15 on ppc). */
void tl_expect_km_type_names(const struct tl *t, unsigned n);
/* For every pfn < nr_pfns: hm_mk_kmap_pte gives h->kpte(pfn), and hm_pte_pfn / hm_pte_none read
 * it back (the pfn, not none), also with the bits `ignored` set (0: none). One assertion for
 * all, with the number of failing pfns and the first. */
void tl_assert_pte_every_pfn(const struct tl *t, const struct tl_arch_hand *h, uint32_t nr_pfns,
                             hm_pte_t ignored);
/* kmap_atomic(cpu, pfn0 + type, type) for every type < types on every cpu < cpus, cpu by cpu:
 * each lands at h->slot_of(cpu, type), beyond the slot before in the direction h->slot_dir
 * (the first beyond h->bound), with the PTE h->kpte(pfn0 + type); after its types each cpu is
 * at pagefault depth `types`. The slots stay mapped. */
void tl_map_every_atomic_slot(struct tl *t, const struct tl_arch_hand *h, uint32_t cpus,
                              unsigned types, hm_pfn_t pfn0);
/* kmap_atomic(cpu, pfn, type) of a busy slot: HM_EBUSY, an ATOMIC_BUSY report from `function`,
 * the address out untouched and the state unchanged (tl_snap); `what` names the call. */
void tl_assert_kmap_atomic_busy(struct tl *t, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                                const char *function, const char *what);
/* kunmap_atomic(cpu, vaddr, type) that BUGs: HM_EINVAL, a `bug` report from kunmap_atomic and
 * the state unchanged (tl_snap); `what` names the call. */
void tl_assert_kunmap_atomic_bug(struct tl *t, uint32_t cpu, hm_vaddr_t vaddr, unsigned type, int bug,
                                 const char *what);
/* §9.20 (x86, x86_pae, ppc): kmap_atomic_to_page of pv, the pkmap address pfn is kmapped at,
 * gives virt_to_page()'s pfn `garbage` instead of pfn, while kmap_to_page(pv + off) finds pfn. */
void tl_assert_pkmap_atomic_to_page_quirk(struct tl *t, hm_vaddr_t pv, hm_pfn_t pfn, hm_pfn_t garbage,
                                          uint32_t off);
/* Called in interrupt context with pfn kmapped once in pkmap slot `slot` (count 2): kunmap
 * BUGs (IN_INTERRUPT, HM_EINVAL) and changes nothing; out of interrupt context again, kunmap
 * works and the count drops to 1. */
void tl_assert_kunmap_in_interrupt_bugs(struct tl *t, hm_pfn_t pfn, uint32_t slot);

/* ---- helpers of the per-arch suites across the generations (docs/generations.md) -------- */

/* 5.11: kmap_local slots per CPU in the fixmap's kmap range (include/asm-generic/kmap_size.h),
 * 33 with DEBUG_KMAP_LOCAL (debug_highmem: a guard slot below every mapping). Stated here by
 * hand, apart from the library's HM_KM_MAX_IDX, so that the suites check it. */
#define KM_MAX_IDX 16u
#define KM_MAX_IDX_DEBUG 33u

/* Whether the fixture's kmap_atomic family is 5.11's: wrappers around kmap_local, whose slot is
 * the running task's stack position (pos + KM_MAX_IDX * cpu), the km_type ignored. */
int tl_atomic_is_local(const struct tl *t);
/* The hand of the fixture's generation for tl_map_every_atomic_slot: `local` where
 * tl_atomic_is_local (that helper nests the types in order on each CPU's empty stack, so the
 * stack position is the type and local->slot_of(cpu, pos) is position pos's slot), else
 * `per_type` (the type's own slot). */
const struct tl_arch_hand *tl_arch_hand_of(const struct tl *t, const struct tl_arch_hand *per_type,
                                           const struct tl_arch_hand *local);
/* 5.11: the kmap_local stack position of the n-th mapping (from 0) pushed on an empty stack: n,
 * or 2n + 1 with debug_highmem (DEBUG_KMAP_LOCAL: KM_INCR 2, every even position a guard). */
uint32_t tl_local_pos(int debug, uint32_t n);
/* Whether the fixture's flush_all_zero_pkmaps makes its TLB flush only when it freed a slot
 * (need_flush): from 2.6.30 on, or where the config asks for it; else always. */
int tl_flush_only_when_freed(const struct tl *t);
/* kunmap_atomic(cpu, vaddr, type) refused with HM_EINVAL and a `bug` report from `function`, the
 * state unchanged (tl_snap); `what` names the call. For the bugs of 5.11's kunmap_local
 * (LOCAL_NOT_TOP, LOCAL_BAD_ADDR from "kunmap_local_indexed"). */
void tl_assert_kunmap_atomic_refused(struct tl *t, uint32_t cpu, hm_vaddr_t vaddr, unsigned type, int bug,
                                     const char *function, const char *what);

/* x86 and x86-pae (one fixmap) with the documented NR_CPUS 8 and no debug: km_type_nr,
 * km_max_idx, nr_fixmap, FIXADDR_START and FIXADDR_BOOT_START of the layout's generation, worked
 * out by hand (KM_TYPE_NR 13 up to 2.6.30, KM_MAX_IDX 16 from 5.11). */
void tl_expect_x86_default_fixmap(const struct hm_layout *l);

#endif /* HM_TESTLIB_H */
