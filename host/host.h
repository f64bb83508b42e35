/* host.h - the host machine: libhighmem's pkmap core managing a large memory (an fd) through a
 * bounded window of this process (host/window.h), with a host arch whose kmapped addresses
 * are real pointers. SPDX-License-Identifier: MIT */
#ifndef HM_HOST_HOST_H
#define HM_HOST_HOST_H

#include <stdint.h>

#include "highmem.h"
#include "host/window.h"
#include "machine/kmap_wait.h" /* hm_lock_error_fn */

#ifdef __cplusplus
extern "C" {
#endif

/* The kmap_atomic types of the host arch (a small km_type list), in enum order. */
enum hm_host_km_type { HM_HOST_KM_USER0 = 0, HM_HOST_KM_USER1, HM_HOST_KM_IRQ0, HM_HOST_KM_BOUNCE_READ };
#define HM_HOST_NR_KM_TYPES 4u

/* PTE bits of the host arch: pfn << page_shift | these. kmap_prot is PRESENT | WRITE. */
#define HM_HOST_PTE_PRESENT 1u
#define HM_HOST_PTE_WRITE 2u

struct hm_host_config {
    int fd;              /* -1: a memfd of mem_size bytes the host creates; else the caller's
                          * fd (duplicated), open O_RDWR (kmap_prot writes; else EACCES) */
    uint64_t offset;     /* byte offset of pfn 0 in fd (page aligned; 0 with fd -1) */
    uint64_t mem_size;   /* bytes (a page multiple); caller fd: 0 = to the end of the file */
    uint32_t lowmem_pages; /* pfns [0, lowmem_pages) mapped once at open (may be 0) */
    uint32_t last_pkmap; /* LAST_PKMAP: a power of two, 2..HM_MAX_PKMAP */
    uint32_t nr_cpus;    /* kmap_atomic slot sets, 1..HM_MAX_CPUS (0: 1) */
    int custom_window;   /* 0: coalesced + strict (docs/host.md); 1: policy and strict below */
    int policy;          /* enum hm_window_policy */
    int strict;
};

/* Errors: the window's (enum hm_window_err, named by hm_window_strerror), errno set too:
 *   EINVAL    bad config (last_pkmap, nr_cpus, no highmem page left, page size, sizes)
 *   EBADF, EACCES, ETOOSMALL, EMEMFD, ERESERVE, ENOMEM  from the window's open
 *   ERANGE    the memory holds more than 2^32 pages (pfns are 32 bits)
 *   EMAP      the lowmem prefix could not be mapped
 *   EBUSY     close with pages still mapped (forced or not: see hm_host_close)
 * Nothing is left open after a failed hm_host_open; *out is set on success only. */
struct hm_host;
int hm_host_open(const struct hm_host_config *cfg, struct hm_host **out);

#define HM_HOST_CLOSE_FORCE 1u
/* Release the window, the lowmem mapping and the fd. With pkmap or kmap_atomic slots still
 * mapped (count-1 pkmap slots too: call hm_kmap_flush_unused first) it refuses with
 * HM_WINDOW_EBUSY and releases nothing, unless HM_HOST_CLOSE_FORCE (everything released, EBUSY
 * still returned as the report). The context built on the host must not be used afterwards.
 * NULL: OK. An unknown flag: EINVAL. */
int hm_host_close(struct hm_host *host, unsigned flags);

/* The host arch: filled at open (page_shift of the host, lowmem, LAST_PKMAP), valid until
 * close. Its layout op accepts only configs whose arch is this descriptor, with this host's
 * nr_cpus and last_pkmap (0 = this host's). */
const struct hm_arch *hm_host_arch(const struct hm_host *host);
/* A struct hm_config for a context on this host (arch, nr_cpus, last_pkmap, highmem_pages). */
void hm_host_config_of(const struct hm_host *host, struct hm_config *out);
/* The machine hooks: set_pte -> hm_window_map/unmap (a refusal returns non-zero), get_pte,
 * TLB flushes -> hm_window_flush, pthread locks, sleep/wake_all (condvar + generation) and the
 * per-colour pair sleep_colour/wake_colour (machine/kmap_wait.h; the host arch is uncoloured, so
 * colour 0's queue), which the core then uses. */
void hm_host_machine(struct hm_host *host, struct hm_machine *out);

/* The lock checker of machine/kmap_wait.h (lock order by class, recursion, unlocks of locks
 * not held, sleeps without kmap_lock; hm_kmap_wait_describe's view of each thread) on this
 * host's locks: off by default (a few atomic operations per lock it would add to every
 * miss), on after this call, reporting to fn (NULL: print to stderr and abort()).
 * Pre: no other thread uses the host, nobody holds its locks or sleeps. NULL host: nothing. */
void hm_host_check_locks(struct hm_host *host, hm_lock_error_fn fn, void *cookie);

/* A kernel address of this machine as a pointer. */
static inline void *hm_host_ptr(hm_vaddr_t v)
{
    return (void *)(uintptr_t)v;
}

/* Geometry: page size, pages of memory (max_pfn), the window (own descriptor of the memory). */
uint32_t hm_host_page_size(const struct hm_host *host);
uint64_t hm_host_pages(const struct hm_host *host);
struct hm_window *hm_host_window(const struct hm_host *host);
int hm_host_fd(const struct hm_host *host);

struct hm_host_stats {
    struct hm_window_stats window; /* the system calls and slot operations */
    uint64_t set_pte_refused;      /* set_pte hooks that returned non-zero */
    uint64_t sleeps, wakeups;      /* sleep (sleep_colour) and wake_all (wake_colour) hooks */
};
void hm_host_stats(const struct hm_host *host, struct hm_host_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* HM_HOST_HOST_H */
