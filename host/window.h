/* window.h - the host window: pages of a large memory (a file descriptor) mapped one slot at a
 * time into a bounded, reserved range of this process's address space (POSIX mmap, Linux).
 * Self-contained: no libhighmem dependency. SPDX-License-Identifier: MIT */
#ifndef HM_HOST_WINDOW_H
#define HM_HOST_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a cleared slot (hm_window_unmap) stops mapping its page. See docs/host.md. */
enum hm_window_policy {
    /* One system call per cleared slot, at once: mmap(PROT_NONE, MAP_FIXED) over it. */
    HM_WINDOW_EAGER = 0,
    /* The slot is only marked; hm_window_flush turns each run of consecutive marked slots
     * into one mmap(PROT_NONE, MAP_FIXED). Until then the old page stays reachable. */
    HM_WINDOW_COALESCED = 1,
    /* The slot stays mapped until it is reused: the next hm_window_map of another page
     * replaces it with one mmap(MAP_FIXED); of the same page, with none. Flushes do nothing. */
    HM_WINDOW_LAZY = 2
};

/* Protection a mapping asks for. Never executable: any other bit is HM_WINDOW_EPROT. */
#define HM_WINDOW_READ 1u
#define HM_WINDOW_WRITE 2u /* only with HM_WINDOW_READ */

/* Every call returns HM_WINDOW_OK (0) or one of these (non-zero), and then also sets errno:
 * to the failed system call's errno where one failed, else to the errno named in brackets. */
enum hm_window_err {
    HM_WINDOW_OK = 0,
    HM_WINDOW_EINVAL = 1,    /* [EINVAL] bad argument: NULL, 0 slots, offset or size not a
                              * multiple of the page size, unknown policy, strict + lazy,
                              * slot >= slots, an unknown close flag */
    HM_WINDOW_EBADF = 2,     /* the fd is not open [EBADF], or not a regular file, memfd or block
                              * device [ENODEV] */
    HM_WINDOW_EACCES = 3,    /* [EACCES] the fd is not readable (O_WRONLY, O_PATH); or a write
                              * mapping was asked of a window whose fd is read-only */
    HM_WINDOW_ETOOSMALL = 4, /* [EOVERFLOW] the fd ends before offset + mem_size (or before
                              * offset + one page when mem_size is 0) */
    HM_WINDOW_EMEMFD = 5,    /* memfd_create or ftruncate of the memory failed */
    HM_WINDOW_ERESERVE = 6,  /* the window's address range could not be reserved (ENOMEM:
                              * RLIMIT_AS, address space exhausted) */
    HM_WINDOW_ENOMEM = 7,    /* [ENOMEM] allocating the window's bookkeeping failed, or
                              * duplicating the caller's fd (EMFILE) */
    HM_WINDOW_ERANGE = 8,    /* [ERANGE] page index >= the memory's pages */
    HM_WINDOW_EPROT = 9,     /* [EINVAL] protection other than READ or READ|WRITE */
    HM_WINDOW_EMAP = 10,     /* mmap of the page into the slot failed (ENOMEM: vm.max_map_count,
                              * ...); the slot is exactly as it was before the call */
    HM_WINDOW_EUNMAP = 11,   /* mmap(PROT_NONE) over cleared slots failed: they are cleared but
                              * still reachable; the next flush (or a map of the slot) retries */
    HM_WINDOW_EBUSY = 12     /* [EBUSY] close with slots still mapped (nothing was released) */
};

/* The name of an error ("ETOOSMALL", ...); "OK" for 0, "EUNKNOWN" otherwise. */
const char *hm_window_strerror(int err);
/* The name of a policy ("eager", "coalesced", "lazy"), NULL for another value. */
const char *hm_window_policy_name(int policy);
/* The policy of that name, or -1. */
int hm_window_policy_find(const char *name);

struct hm_window_config {
    int fd;            /* the memory: -1 = a memfd the window creates (mem_size bytes, zeroed,
                        * owned and closed by it); else the caller's fd, which is duplicated
                        * (the caller may close its own) and must be readable */
    uint64_t offset;   /* byte offset of page 0 in fd (page aligned); must be 0 with fd -1 */
    uint64_t mem_size; /* bytes of memory (a page multiple); with a caller's fd, 0 = every whole
                        * page from offset to the end of the file; with fd -1 it must be > 0 */
    uint32_t slots;    /* pages in the window, >= 1 */
    int policy;        /* enum hm_window_policy */
    int strict;        /* 1: touching a slot that was cleared and flushed faults (SIGSEGV) at
                        * once. Eager and coalesced guarantee it; lazy is refused (EINVAL) */
};

/* Counters; every field is kept with atomic operations, so hm_window_stats may be called from
 * any thread at any time. A system call is counted only when it succeeded; a failed one is
 * counted in failed_syscalls alone. */
struct hm_window_stats {
    uint64_t syscalls;        /* every successful system call the window made, open and close
                               * included; == setup_syscalls + map_syscalls + unmap_syscalls */
    uint64_t setup_syscalls;  /* open and close: memfd_create, ftruncate, fcntl, fstat, lseek,
                               * the reserving mmap, munmap, close */
    uint64_t map_syscalls;    /* mmap of a page into a slot */
    uint64_t unmap_syscalls;  /* mmap(PROT_NONE) over one slot or one run of slots */
    uint64_t failed_syscalls;
    uint64_t maps;            /* successful hm_window_map calls (including no-op ones) */
    uint64_t map_reuses;      /* ... that found the page still mapped there: no system call */
    uint64_t unmaps;          /* hm_window_unmap calls that cleared a mapped slot */
    uint64_t flushes;         /* hm_window_flush calls */
    uint64_t mapped;          /* slots mapped now (cleared ones excluded) */
};

struct hm_window;

/* Open a window: check the memory, reserve slots pages of address space PROT_NONE (never
 * executable), allocate the bookkeeping. *out is set on success only.
 * Errors: EINVAL, EBADF, EACCES, ETOOSMALL, EMEMFD, ERESERVE, ENOMEM (nothing is left open). */
int hm_window_open(const struct hm_window_config *cfg, struct hm_window **out);

/* close flags */
#define HM_WINDOW_CLOSE_FORCE 1u /* release the window even with slots still mapped */

/* Release the window: the whole range (one munmap) and the fd (a memfd the window created,
 * or its duplicate of the caller's). With slots still mapped (hm_window_unmap not called for
 * them) it refuses: HM_WINDOW_EBUSY, nothing released, unless HM_WINDOW_CLOSE_FORCE, which
 * releases everything and still returns HM_WINDOW_EBUSY as the report. Slots cleared but not
 * flushed are fine. NULL is a no-op (OK). */
int hm_window_close(struct hm_window *w, unsigned flags);

/* Map page `page` of the memory (bytes page * page_size from the memory's start) into `slot`
 * with protection prot, replacing whatever the slot held: at most one mmap(MAP_FIXED |
 * MAP_SHARED), none when that page is still mapped there with that protection (a slot
 * cleared but not yet torn down, or mapped already). On error the slot is unchanged: it
 * keeps the page (or the absence of one) and the reachability it had.
 * Errors: EINVAL (NULL w, slot >= slots), ERANGE, EPROT, EACCES (write on a read-only fd),
 * EMAP (mmap failed: errno says why). */
int hm_window_map(struct hm_window *w, uint32_t slot, uint64_t page, unsigned prot);

/* Clear a slot: it maps nothing from now on (hm_window_get says so). When its old page stops
 * being reachable depends on the policy: eager at once, coalesced at the next flush covering
 * the slot, lazy when the slot is reused. Clearing a clear slot does nothing.
 * Errors: EINVAL (NULL w, slot >= slots); EUNMAP (eager: the mmap failed; the slot is cleared
 * all the same and the tear-down is retried by the next flush). */
int hm_window_unmap(struct hm_window *w, uint32_t slot);

/* The TLB-flush counterpart: make every cleared slot of [first, first + count) unreachable.
 * Coalesced: one mmap(PROT_NONE) per run of consecutive cleared-but-reachable slots; eager:
 * only retries what a failed unmap left; lazy: nothing. count is clipped to the window.
 * Errors: EINVAL (NULL w, first >= slots), EUNMAP (some run could not be torn down: it stays
 * reachable and is retried by the next flush; the other runs are done). */
int hm_window_flush(struct hm_window *w, uint32_t first, uint32_t count);

/* The PTE counterpart: 1 and the page and protection if slot maps a page, 0 if it is clear
 * (or w NULL, slot out of range). page and prot may be NULL. */
int hm_window_get(const struct hm_window *w, uint32_t slot, uint64_t *page, unsigned *prot);

/* The address of slot (NULL when out of range); the slot an address lies in (-1 when it is
 * outside the window). */
void *hm_window_addr(const struct hm_window *w, uint32_t slot);
int64_t hm_window_slot_of(const struct hm_window *w, const void *addr);

/* Geometry: sysconf(_SC_PAGESIZE), the window's slots, the memory's pages, the memory's fd
 * (the window's own descriptor: pread/pwrite on it reach the same pages; never close it). */
size_t hm_window_page_size(const struct hm_window *w);
uint32_t hm_window_slots(const struct hm_window *w);
uint64_t hm_window_pages(const struct hm_window *w);
int hm_window_fd(const struct hm_window *w);
int hm_window_policy(const struct hm_window *w);

void hm_window_stats(const struct hm_window *w, struct hm_window_stats *out);

/* Thread safety. hm_window_map, _unmap and _flush change the slots they name (flush: every
 * slot of its range) and nothing else but the atomic counters; calls whose slot ranges are
 * disjoint may run at the same time, calls on the same slot must be serialised by the caller
 * (the pkmap core calls them under kmap_lock, or per CPU for kmap_atomic slots). _get, _addr,
 * _slot_of and the geometry may be called at any time; _get races with a concurrent change of
 * the same slot. Open and close must not overlap with anything else on the window. */

#ifdef __cplusplus
}
#endif
#endif /* HM_HOST_WINDOW_H */
