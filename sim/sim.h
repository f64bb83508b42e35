/* sim.h - the simulated machine: sparse physical memory, page tables holding the arch's raw
 * PTE words, one software TLB per CPU, loads/stores through that MMU, a stale-translation
 * detector, an optional data cache model per CPU (cache.h), and pthread locks / sleep / wake
 * behind struct hm_machine, checked for lock order.
 * SPDX-License-Identifier: MIT */
#ifndef HM_SIM_H
#define HM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "highmem.h"
#include "machine/kmap_wait.h" /* struct hm_lock_error, hm_lock_error_fn */

#ifdef __cplusplus
extern "C" {
#endif

struct hm_sim;

/* Counters of what the simulated hardware saw. */
struct hm_sim_stats {
    uint64_t pte_sets, pte_clears;
    uint64_t tlb_hits, tlb_misses;       /* loads/stores through page-table-backed addresses */
    uint64_t tlb_flush_ranges, tlb_flush_pages, tlb_flush_alls;
    uint64_t tlb_entries_dropped;        /* entries removed by any flush */
    uint64_t cache_flushes;
    uint64_t stale_pte_writes;           /* a PTE written while some TLB still caches another page there */
    uint64_t stale_tlb_hits;             /* a load/store served by an entry that disagrees with the PTE */
    uint64_t loads, stores;
    uint64_t sleeps, wakes;
    uint64_t lock_acquires;              /* through the lock hook */
    uint64_t pte_out_of_window;          /* set_pte/get_pte hook calls outside the window (refused / 0) */
    uint64_t tlb_flushes_dropped;        /* flushes swallowed by fault injection */
    uint64_t pte_sets_refused;           /* set_pte of a present word refused by fault injection */
    uint64_t pte_clears_refused;         /* set_pte of a none word (a clear) refused likewise */
    /* The data cache model (hm_sim_set_cache; all zero while it is off, but cache_page_flushes) */
    uint64_t cache_hits, cache_misses;   /* loads/stores that found / filled their line */
    uint64_t cache_writebacks;           /* dirty lines copied back to memory */
    uint64_t cache_page_flushes;         /* flush_cache_page hook calls */
    uint64_t stale_cache_reads;          /* loads that read a stale copy (HM_EV_STALE_CACHE) */
};

/* Fault injection, two independent settings.
 * - TLB flushes: make the machine "forget" them, to prove that a missing flush is seen (a
 *   stale byte read, the stale-translation detector firing). A dropped flush is still counted
 *   in tlb_flush_* and in tlb_flushes_dropped, but no TLB entry is removed.
 * - PTE writes: make set_pte refuse them, as a real machine that maps pages with mmap may
 *   (highmem.h, struct hm_machine): the hook returns non-zero and the PTE stays as it was; a
 *   refused write is counted in pte_sets_refused or pte_clears_refused (not in pte_sets /
 *   pte_clears) and never reaches the stale-translation detector. A write is a map when its
 *   word is present (the arch's pte_none says no), a clear otherwise. Writes outside the
 *   window are refused anyway and do not use up a FAIL_NEXT_*.
 * Setting a flush mode leaves the PTE-write mode as it is and the other way round; NONE turns
 * both off. */
enum hm_sim_fault {
    HM_SIM_FAULT_NONE = 0,             /* flushes work, writes succeed (the default; also clears a
                                        * pending drop or failure) */
    HM_SIM_FAULT_DROP_NEXT_FLUSH = 1,  /* the next TLB flush of any kind is dropped */
    HM_SIM_FAULT_DROP_ALL_FLUSHES = 2, /* every TLB flush is dropped until reset */
    HM_SIM_FAULT_FAIL_NEXT_MAP = 3,    /* the next set_pte of a present word is refused */
    HM_SIM_FAULT_FAIL_ALL_MAPS = 4,    /* every set_pte of a present word is refused until reset */
    HM_SIM_FAULT_FAIL_NEXT_CLEAR = 5,  /* the next set_pte of a none word (a clear) is refused */
    HM_SIM_FAULT_FAIL_ALL_CLEARS = 6   /* every clear is refused until reset */
};

/* Create a machine for a layout (from hm_layout_compute) and its arch (for PTE decoding:
 * arch->pte_none, NULL meaning "== 0", and arch->pte_pfn, NULL meaning pte >> page_shift).
 * on_event (may be NULL) receives HM_EV_STALE_TLB events with cpu and a = vaddr, b = the pfn
 * the stale entry still points at, pte = the PTE now at vaddr (a stale hit) or being written
 * (a stale PTE write: one event per CPU still caching another page there, pkmap window only),
 * and, with the cache model on (hm_sim_set_cache), HM_EV_STALE_CACHE events.
 * The callback runs after the sim has released its internal lock, on the thread that caused
 * the event (so possibly on several threads at once); it may call the inspection functions.
 * Returns NULL on allocation failure or a bad layout: page_size != 1 << page_shift,
 * page_shift outside 8..24, nr_cpus outside 1..HM_MAX_CPUS, max_pfn 0 or < highmem_start_pfn,
 * unaligned page_offset / pt_start, va_bits > 32 (the sim models a 32-bit space), a
 * page-table window past 4 GiB or overlapping the direct map [page_offset, high_memory)
 * (high_memory 0 = 4 GiB), a pkmap window outside it.
 * The sim copies what it needs from the layout; the arch must outlive the sim. */
struct hm_sim *hm_sim_new(const struct hm_layout *layout, const struct hm_arch *arch,
                          hm_event_fn on_event, void *cookie);
void hm_sim_free(struct hm_sim *sim);

/* Bring an existing machine back to exactly the state hm_sim_new(layout, arch, on_event,
 * cookie) would create: every PTE none, every TLB empty, the cache model off with no line
 * held (nothing written back), memory reading as zero, statistics zero, fault injection off,
 * in_interrupt off, no wake-up pending, the lock checker's learned order forgotten and its
 * report the default again (hm_sim_on_lock_error). The layout may differ from the one the sim
 * was built or last reset with. Allocations are reused when they are large enough, and only
 * what was written since the last reset is cleared (the sim keeps lists of the PTEs written,
 * TLB entries and cache lines filled and pages allocated), so a reset costs in proportion to
 * what the previous run touched, not to the size of the machine.
 * Pre: no other thread uses the sim, nobody sleeps in it and none of its locks is held.
 * Returns HM_OK; HM_EINVAL (NULL sim/layout/arch, or a layout hm_sim_new refuses) or
 * HM_ENOSPC (allocation failed), in both cases with the sim unchanged. */
int hm_sim_reset(struct hm_sim *sim, const struct hm_layout *layout, const struct hm_arch *arch,
                 hm_event_fn on_event, void *cookie);

/* Fill a struct hm_machine whose hooks act on this sim (m = sim). Every hook is thread-safe.
 * set_pte returns 0, or 1 when it refuses the write (fault injection, or an address outside
 * the window, however wide: nothing is written there); out-of-window get_pte returns 0;
 * flush_tlb_range's end is exclusive (4 GiB is 0x100000000; an end at or below the start
 * flushes nothing); lock ids >= HM_NR_LOCKS are ignored; sleep must be entered holding HM_LOCK_KMAP
 * and wakes only on a wake_all that begins after it (no lost wake-ups); the per-colour pair
 * sleep_colour / wake_colour is set too (one queue per colour, machine/kmap_wait.h), so a
 * context sleeps on its page's colour's queue and a kunmap wakes that queue only; sleeps and
 * wakes of either kind are counted in sleeps and wakes. The lock hooks are checked
 * (hm_sim_on_lock_error). */
void hm_sim_machine(struct hm_sim *sim, struct hm_machine *out);

/* The lock checker (machine/kmap_wait.h), always on in the sim: every lock, unlock, sleep and
 * wake_all hook call is checked the way lockdep checks, by lock class (kmap, pool, bucket):
 * the order between two classes is learned the first time one is taken while the other is
 * held (kmap -> pool and kmap -> bucket, the library's documented order, are known from the
 * start), and a lock order inversion, a recursive lock (or wake_all holding kmap_lock), two
 * bucket locks nested, an unlock of a lock the thread does not hold, and a sleep without
 * kmap_lock or holding another lock are reported at once, by name, on the thread that made
 * them, e.g. "lock order inversion: pool_lock taken while holding bucket[5]; earlier
 * bucket[5] was taken while holding pool_lock".
 * hm_sim_on_lock_error: where the reports go. NULL (the default of hm_sim_new and
 * hm_sim_reset) prints the line to stderr and abort()s, so a test fails at the error instead
 * of timing out; a function that returns lets the hook go on safely (kmap_wait.h says how).
 * Pre: no other thread uses the sim. Threads may name themselves for the reports and the
 * description with hm_kmap_wait_thread_name. */
void hm_sim_on_lock_error(struct hm_sim *sim, hm_lock_error_fn fn, void *cookie);

/* What every thread using the sim's locks does right now: the locks it holds, the lock it is
 * blocked on (by name, since how long, held by which thread) or its sleep on pkmap_map_wait,
 * one line each, and a "deadlock: ..." line per cycle (hm_kmap_wait_describe). Lock-free and
 * callable from any thread, even while others are stuck. Returns the length as snprintf. */
size_t hm_sim_describe_waits(const struct hm_sim *sim, char *buf, size_t n);

/* One byte through cpu's MMU: direct map [page_offset, high_memory) translates
 * arithmetically (pfn < highmem_start_pfn only, never cached); the page-table window goes TLB
 * first (even a stale entry is used: that is how a missing flush becomes a wrong byte; it is
 * counted and reported as HM_EV_STALE_TLB), then the PTE, filling the TLB; then, with the
 * cache model on (hm_sim_set_cache), the CPU's data cache, else memory.
 * Errors: HM_EINVAL (NULL sim, cpu >= nr_cpus, NULL out), HM_ERANGE (vaddr >= 4 GiB: outside
 * the sim's space, refused before any count or lookup), HM_EFAULT (no translation: none PTE,
 * PTE pfn >= max_pfn, address of no region), HM_ENOSPC (store: page allocation failed). */
int hm_sim_load(struct hm_sim *sim, uint32_t cpu, hm_vaddr_t vaddr, uint8_t *value);
int hm_sim_store(struct hm_sim *sim, uint32_t cpu, hm_vaddr_t vaddr, uint8_t value);

/* Physical access, bypassing every MMU (setup and checks). Pages read as zero until written.
 * Errors: HM_ERANGE (pfn >= max_pfn, offset >= page_size), HM_EINVAL (NULL sim / value),
 * HM_ENOSPC (write: page allocation failed). */
int hm_sim_phys_read(const struct hm_sim *sim, hm_pfn_t pfn, uint32_t offset, uint8_t *value);
int hm_sim_phys_write(struct hm_sim *sim, hm_pfn_t pfn, uint32_t offset, uint8_t value);

/* Inspection. hm_sim_pte: the raw word at vaddr (0 outside the window).
 * hm_sim_tlb_lookup: 1 and *pfn if cpu's TLB caches vaddr's page, else 0. */
hm_pte_t hm_sim_pte(const struct hm_sim *sim, hm_vaddr_t vaddr);
int hm_sim_tlb_lookup(const struct hm_sim *sim, uint32_t cpu, hm_vaddr_t vaddr, hm_pfn_t *pfn);
/* Number of cached entries in cpu's TLB. */
uint32_t hm_sim_tlb_size(const struct hm_sim *sim, uint32_t cpu);
void hm_sim_get_stats(const struct hm_sim *sim, struct hm_sim_stats *out);

/* Set a fault mode (enum hm_sim_fault: one of the two settings, or NONE for both); unknown
 * values are ignored. */
void hm_sim_inject(struct hm_sim *sim, int fault);

/* The data cache model (sim/cache.h), off by default. hm_sim_set_cache(sim, 1) turns it on
 * with the layout's cache_kind and cache_colours (0/1 colours: no aliasing): each CPU gets a
 * write-back, direct-mapped data cache of cache_colours pages with 32-byte lines, and every
 * load and store that translates goes through it. Indexing and tags follow the kind: PIPT by
 * physical address (no aliases: every byte reads as without the model); VIPT aliasing indexed
 * by the virtual address and tagged by the physical one (two mappings of a page in different
 * colours are two lines); VIVT indexed and tagged by the virtual address (every mapping is its
 * own line, and a line stays after its PTE changes until it is flushed). A store lands in the
 * line (dirty) and reaches memory on eviction or a flush (the flush_cache_all and
 * flush_cache_page hooks, which write back and invalidate), so a load through another alias,
 * or through a remapped VIVT address, can read the old byte: such a load is counted in
 * stale_cache_reads and reported as HM_EV_STALE_CACHE (cpu, a = vaddr, b = the frame of the line
 * read), after the lock is released, like HM_EV_STALE_TLB. The CPUs' caches are coherent with
 * each other for the same line (a snooping bus: a dirty copy on another CPU is written back
 * first, a store invalidates the others), never across aliases. hm_sim_set_cache(sim, 0)
 * writes every dirty line back and turns the model off. hm_sim_reset and hm_sim_new leave it
 * off. hm_sim_phys_read/write bypass the caches (a device's view of memory).
 * Pre: no other thread uses the sim. Returns HM_OK; HM_EINVAL (NULL sim, colours not a power
 * of two up to 1024, or over 64 MiB of cache lines for all CPUs) or HM_ENOSPC, the model then
 * off. hm_sim_cache_on: 1 when the model is on. */
int hm_sim_set_cache(struct hm_sim *sim, int on);
int hm_sim_cache_on(const struct hm_sim *sim);

/* Interrupt context as seen by the in_interrupt hook (tests of the kunmap BUG). */
void hm_sim_set_in_interrupt(struct hm_sim *sim, int on);

#ifdef __cplusplus
}
#endif
#endif /* HM_SIM_H */
