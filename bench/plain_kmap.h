/* plain_kmap.h - the baseline bench/kmap_paths measures libhighmem against: a straightforward
 * 2.6.24 pkmap (one global mutex, 128-bucket hash with a record pool, the same slot scan, flush
 * on wrap, counts). For comparison only, not a second implementation. SPDX-License-Identifier: MIT */
#ifndef HM_BENCH_PLAIN_KMAP_H
#define HM_BENCH_PLAIN_KMAP_H

#include <pthread.h>
#include <stdint.h>

#include "highmem.h"

/* One record of the page -> address hash; records move between the pool and the buckets. */
struct plain_rec {
    hm_pfn_t pfn;
    int32_t next; /* index of the next record in its list, -1 at the end */
    hm_vaddr_t vaddr;
};

struct plain_list {
    int32_t head, tail; /* -1 when empty */
};

/* Everything below `lock` is guarded by it (the baseline's only lock). */
struct plain_kmap {
    pthread_mutex_t lock;
    pthread_cond_t wait; /* pkmap_map_wait; waited on with `lock` */
    /* what the machine is: copied from the layout at init */
    uint32_t last_pkmap, page_shift, mem_map, struct_page_size;
    hm_pfn_t highmem_start;
    hm_vaddr_t pkmap_base, page_offset;
    hm_pte_t prot; /* PTE = pfn << page_shift | prot (x86 non-PAE) */
    void (*flush_tlb_range)(void *m, hm_vaddr_t start, hm_vaddr_t end);
    void *m;
    /* the algorithm's state */
    uint32_t last_pkmap_nr, waiters;
    uint64_t wake_gen;
    int32_t *count;        /* pkmap_count[LAST_PKMAP] */
    hm_pte_t *pte;         /* the window's PTEs, slot by slot */
    struct plain_rec *rec; /* LAST_PKMAP records */
    struct plain_list pool, bucket[HM_PA_HASH_SIZE];
    /* what the bench reads when nothing runs */
    uint64_t locks;          /* lock acquisitions (kmap, kunmap, wake-up) */
    uint64_t hits, news;     /* kmaps that found the page mapped / mapped it */
    uint64_t flushes, freed; /* flush_all_zero_pkmaps runs and slots they freed */
    uint64_t sleeps;
};

/* Set up for layout l (a highmem arch whose PTE is pfn << page_shift | prot): every count 0,
 * the pool full. flush (may be NULL) is called on every wrap with the window's range.
 * Returns 0, -1 when out of memory. */
int plain_kmap_init(struct plain_kmap *p, const struct hm_layout *l, hm_pte_t prot,
                    void (*flush)(void *m, hm_vaddr_t start, hm_vaddr_t end), void *m);
void plain_kmap_destroy(struct plain_kmap *p);

/* The bucket of a page: the kernel's hash_ptr of its struct page (32-bit golden ratio). */
uint32_t plain_kmap_bucket(const struct plain_kmap *p, hm_pfn_t pfn);

/* kmap: a lowmem page's direct-map address; a highmem page through kmap_high, which sleeps
 * while every slot is in use. kunmap: drop one reference (lazy; wakes the sleepers when a slot
 * becomes reusable). No argument checks beyond the kernel's; kunmap returns -1 where the kernel
 * would BUG (the page is not mapped, or its count would drop below 1), else 0. */
hm_vaddr_t plain_kmap(struct plain_kmap *p, hm_pfn_t pfn);
int plain_kunmap(struct plain_kmap *p, hm_pfn_t pfn);

#endif /* HM_BENCH_PLAIN_KMAP_H */
