/* highmem.h - public API of libhighmem: the Linux persistent-kmap (pkmap) machinery as an
 * embeddable library. One caller-owned context per machine; no globals, no allocation.
 * SPDX-License-Identifier: MIT */
#ifndef HIGHMEM_H
#define HIGHMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbol visibility. Everything this header and highmem_arch.h declare between HM_API_BEGIN and
 * HM_API_END is the library's API: built with -fvisibility=hidden (as CMakeLists.txt builds the
 * shared library), it exports exactly those names and hides the core's internal ones. */
#if defined(__GNUC__) || defined(__clang__)
#define HM_API_BEGIN _Pragma("GCC visibility push(default)")
#define HM_API_END _Pragma("GCC visibility pop")
#else
#define HM_API_BEGIN
#define HM_API_END
#endif

HM_API_BEGIN

/* The release of libhighmem: the one place its version is written. CMakeLists.txt reads these
 * three lines (and from them the pkg-config and CMake package versions and the SONAME);
 * HM_VERSION_STRING, hm_version() and `kmapsim --version` are made from them. */
#define HM_VERSION_MAJOR 0
#define HM_VERSION_MINOR 9
#define HM_VERSION_PATCH 0
#define HM_VERSION_STR_(x) #x
#define HM_VERSION_XSTR_(x) HM_VERSION_STR_(x)
#define HM_VERSION_STRING                                                                  \
    HM_VERSION_XSTR_(HM_VERSION_MAJOR) "." HM_VERSION_XSTR_(HM_VERSION_MINOR) "."          \
    HM_VERSION_XSTR_(HM_VERSION_PATCH)

/* The release the library was built as: HM_VERSION_STRING of the headers it was compiled with
 * (compare the two to catch headers and a library of different releases). Never NULL. */
const char *hm_version(void);

/* ---------------------------------------------------------------------------------------
 * Basic types. A kernel virtual address is carried in 64 bits on every host, so that a
 * machine whose addresses are real pointers fits, and so that every host prints the same
 * numbers: an embedder turns one into a pointer with (void *)(uintptr_t)v. A machine's
 * layout says how much of that space it models (hm_layout.va_bits: 32 for every modelled
 * 32-bit kernel); every call taking an address refuses one at or above 2^va_bits before it
 * looks at it (HM_BUG_BAD_ADDR, HM_ERANGE), so a high address never aliases a low one.
 * Page-table entries are raw words in the arch's own format (32 bits, or 64 bits for
 * x86-PAE), always carried in a 64-bit integer.
 * ------------------------------------------------------------------------------------- */
typedef uint64_t hm_vaddr_t; /* a kernel virtual address of the machine */
typedef uint32_t hm_pfn_t;   /* a page frame number */
typedef uint64_t hm_pte_t;   /* a raw PTE word; 0 is "none" on every supported arch */

/* Error codes. Every public call returns HM_OK (0) or one of these, never crashes, and on
 * error leaves the context as it was (except where the kernel's own algorithm already acted
 * before failing: the kmap slot cursor and any flush it triggered; and what a refused PTE
 * write leaves, as the machine's contract below says). */
enum hm_err {
    HM_OK = 0,
    HM_EINVAL = 1, /* bad argument or misuse the kernel would BUG on */
    HM_ERANGE = 2, /* pfn or address out of range */
    HM_EAGAIN = 3, /* no free persistent slot and the call may not (or cannot) sleep */
    HM_EBUSY = 4,  /* kmap_atomic slot already in use */
    HM_EFAULT = 5, /* no valid translation */
    HM_ENOSPC = 6, /* caller-provided storage too small */
    HM_EMACHINE = 7 /* the machine refused a PTE write (set_pte returned non-zero) */
};

/* The errno-style name of an error ("EINVAL", ...); "OK" for HM_OK, "EUNKNOWN" otherwise. */
const char *hm_strerror(int err);

/* Every kernel BUG()/BUG_ON() the library turns into an error has a name here. The bug hook
 * receives one of these; the public call then returns the matching hm_err. */
enum hm_bug {
    HM_BUG_NONE = 0,
    HM_BUG_PFN_RANGE,          /* pfn >= max_pfn (ERANGE) */
    HM_BUG_BAD_ARG,            /* NULL pointer, bad cpu or km_type, bad value (EINVAL) */
    HM_BUG_KUNMAP_UNMAPPED,    /* kunmap_high: page_address(page) == NULL (EINVAL) */
    HM_BUG_KUNMAP_ZERO,        /* kunmap_high: count would drop to 0, unbalanced (EINVAL) */
    HM_BUG_KMAP_COUNT,         /* kmap_high: count would be < 2 after the increment (EINVAL) */
    HM_BUG_POOL_EMPTY,         /* set_page_address: page_address_pool empty (EINVAL) */
    HM_BUG_SET_ADDR_LOWMEM,    /* set_page_address on a lowmem page (EINVAL) */
    HM_BUG_FLUSH_PTE_NONE,     /* flush_all_zero_pkmaps: count-1 slot with a none PTE (EFAULT) */
    HM_BUG_IN_INTERRUPT,       /* kunmap (or sparc kmap) called in interrupt context (EINVAL) */
    HM_BUG_ATOMIC_BUSY,        /* kmap_atomic: the slot's PTE is not none (EBUSY) */
    HM_BUG_ATOMIC_UNBALANCED,  /* kunmap_atomic without a matching kmap_atomic (EINVAL) */
    HM_BUG_ATOMIC_BAD_ADDR,    /* kunmap_atomic: address is not this slot's (EINVAL) */
    HM_BUG_VIRT_TO_FIX,        /* virt_to_fix / kmap_atomic_to_page: address outside the fixmap (EINVAL) */
    HM_BUG_BAD_ADDR,           /* an address that no region of the machine translates (ERANGE) */
    HM_BUG_NOT_MAPPED,         /* a slot address whose PTE is none (EFAULT) */
    HM_BUG_UNAVAILABLE,        /* a call the context's kernel generation or arch does not have,
                                * e.g. kmap_high_get on x86 or before 2.6.30 (EINVAL) */
    HM_BUG_KMAP_HIGH_GET_COUNT,/* kmap_high_get: the slot's count is below 1 before the
                                * increment (EINVAL) */
    HM_BUG_COLOUR_RANGE,       /* a pkmap colour >= the layout's pkmap_colours (EINVAL) */
    /* kmap_local (5.11, hm_kmap_local_page and its kin below; before 5.11 they are UNAVAILABLE) */
    HM_BUG_LOCAL_OVERFLOW,     /* kmap_local_idx_push: the task's idx would reach KM_MAX_IDX (EINVAL) */
    HM_BUG_LOCAL_BUSY,         /* __kmap_local_pfn_prot: the slot's PTE is not none (EBUSY) */
    HM_BUG_LOCAL_NOT_TOP,      /* kunmap_local: a local address that is not the top of the
                                * running task's stack, or an empty stack (EINVAL) */
    HM_BUG_LOCAL_BAD_ADDR,     /* kunmap_local: an address below PAGE_OFFSET (EINVAL) */
    HM_BUG_LOCAL_MIGRATE,      /* switch: a task with local mappings moved to another CPU (EINVAL) */
    HM_BUG_LOCAL_CORRUPT,      /* switch: a task's kmap_ctrl is corrupted (EINVAL) */
    HM_BUG_TASK_RUNNING,       /* switch: the task runs on another CPU (EINVAL) */
    HM_BUG_SWITCH_ATOMIC,      /* switch: scheduling while atomic (kmap_atomic held, or in an
                                * interrupt) (EINVAL) */
    HM_BUG__COUNT
};

/* The name of a bug ("KUNMAP_ZERO", ...). */
const char *hm_bug_name(int bug);

/* What the bug hook is told. */
struct hm_bug_report {
    int bug;              /* enum hm_bug */
    int err;              /* the enum hm_err the call returns */
    const char *function; /* the kernel function whose BUG this is, e.g. "kunmap_high" */
    uint64_t arg;         /* the pfn or address involved (0 when none) */
};
typedef void (*hm_bug_fn)(void *cookie, const struct hm_bug_report *report);

/* Observable events: every hardware action the machinery takes, plus the algorithm's own
 * landmarks, in the order they happen. The trace format, the statistics and the fuzz oracle
 * all read this one stream. */
enum hm_event_kind {
    HM_EV_PTE_SET = 1,          /* a = vaddr, b = pfn, pte = the word written */
    HM_EV_PTE_CLEAR,            /* a = vaddr */
    HM_EV_TLB_FLUSH_RANGE,      /* a = start, b = end (exclusive), every CPU */
    HM_EV_TLB_FLUSH_PAGE,       /* a = vaddr, cpu = the CPU flushed (HM_CPU_ALL: every CPU) */
    HM_EV_TLB_FLUSH_ALL,        /* every CPU, every entry */
    HM_EV_CACHE_FLUSH_ALL,      /* flush_cache_all */
    HM_EV_FLUSH_ALL_ZERO_PKMAPS,/* entering flush_all_zero_pkmaps; see HM_EV_FLUSH_DONE */
    HM_EV_FLUSH_DONE,           /* leaving it; a = slots freed */
    HM_EV_SLEEP,                /* a kmap sleeps on pkmap_map_wait; a = pfn */
    HM_EV_WAKEUP,               /* kunmap_high wakes the waiters; a = pfn */
    HM_EV_STALE_TLB,            /* emitted by a machine (sim): a stale translation; a = vaddr, cpu */
    HM_EV_BUG,                  /* a BUG turned into an error; a = enum hm_bug, b = arg */
    HM_EV_MACHINE_FAIL,         /* the machine refused the PTE write just reported (the pte_set or
                                 * pte_clear before it): a = vaddr, pte = the refused word (0 for
                                 * a clear); the PTE is as it was */
    HM_EV_CACHE_FLUSH_PAGE,     /* flush_cache_page: a = vaddr, cpu = the CPU (HM_CPU_ALL: all) */
    HM_EV_STALE_CACHE,          /* emitted by a machine (the sim's cache model): a load read a
                                 * stale cached copy; a = vaddr, b = pfn of the line's frame, cpu */
    HM_EV_LOCAL_SAVE,           /* a context switch clears the outgoing task's local mappings
                                 * (__kmap_local_sched_out): a = task, cpu = the CPU */
    HM_EV_LOCAL_RESTORE         /* a context switch re-installs the incoming task's local
                                 * mappings (__kmap_local_sched_in): a = task, cpu = the CPU */
};
#define HM_CPU_ALL 0xffffffffu

struct hm_event {
    int kind;     /* enum hm_event_kind */
    uint32_t cpu; /* the CPU concerned, or HM_CPU_ALL */
    uint64_t a;   /* 64 bits: a and b may be addresses (hm_vaddr_t) */
    uint64_t b;
    hm_pte_t pte;
};
typedef void (*hm_event_fn)(void *cookie, const struct hm_event *ev);

/* The name of an event kind ("pte_set", "tlb_flush_range", ...). */
const char *hm_event_name(int kind);

/* ---------------------------------------------------------------------------------------
 * The machine: what "hardware" the core and the arch act on. An embedder in a real kernel
 * points these at its own page tables and locks; sim/ provides a simulated MMU. A NULL hook
 * is a no-op (a NULL sleep, without the sleep_colour / wake_colour pair, makes hm_kmap behave as
 * hm_kmap_try).
 *
 * Which hook may fail. Only set_pte. It returns 0 when the PTE now holds the word, non-zero
 * when the machine could not install it (a host that maps pages with mmap may run out of
 * memory or of mappings); a refused write must leave the PTE exactly as it was. A map (a
 * present word) and a clear (the word 0) may both be refused. get_pte, the flushes, the locks,
 * sleep, wake_all, sleep_colour, wake_colour and in_interrupt cannot fail.
 *
 * What the core does with a refusal: it emits HM_EV_MACHINE_FAIL right after the write's own
 * pte_set / pte_clear event, counts it in hm_stats.machine_fails, and undoes what the call had
 * begun, so that counts, hash, page tables and TLBs still agree (hm_check_invariants holds).
 * It is not a BUG: the bug hook is not called and no bug is counted. Call by call:
 *   kmap, kmap_try (map_new_virtual maps a free slot): HM_EMACHINE. The slot stays free (count
 *     0, PTE none, nothing hashed, the pool unchanged), the page gains no reference, no waiter
 *     is added, and the statistics are unchanged but for machine_fails (kmap_calls does not
 *     count the call). As with HM_EAGAIN, the scan cursor keeps the position the scan reached
 *     and a flush the scan's wrap ran has happened.
 *   flush_all_zero_pkmaps (a kmap's wrap, hm_kmap_flush_unused): a count-1 slot whose clear is
 *     refused stays as it was (count 1, PTE present, page still hashed: a cached mapping that a
 *     later kmap of the page reuses); every other count-1 slot is freed, and the TLB flush of
 *     the window follows as usual (only cleared slots needed it; FLUSH_DONE's a counts the
 *     slots freed). hm_kmap_flush_unused then returns HM_EMACHINE. A kmap goes on scanning;
 *     where it would then sleep or fail with HM_EAGAIN (no free slot after that flush), it
 *     returns HM_EMACHINE instead: no kunmap may ever come to free the slots that were kept.
 *   kmap_atomic, kmap_atomic_prot, kmap_atomic_pfn (every arch): HM_EMACHINE. The CPU's
 *     pagefault depth is back where it was, the slot's PTE is unchanged, and the flush the arch
 *     makes after the write is not made (ppc flush_tlb_page, sparc flush_tlb_all: the PTE did
 *     not change, so no TLB holds anything new); a flush made before the write has happened
 *     (sparc's flush_cache_all, which changes no state).
 *   kunmap_atomic (a clear): HM_EMACHINE and nothing changes: the slot stays mapped, its TLB
 *     flush is not made, the pagefault depth stays raised, so the call may be repeated (sparc
 *     with DEBUG_HIGHMEM: its flush_cache_all before the clear has happened).
 *
 * Locks and sleeping, by path. The lock order is kmap_lock -> pool_lock and kmap_lock -> a
 * bucket lock; pool and bucket are never held together, nor two buckets.
 *   Under HM_LOCK_KMAP, in both locking modes: set_pte and get_pte of the pkmap window (a kmap
 *     that maps a new page, hm_kmap_flush_unused), and flush_all_zero_pkmaps' flush_tlb_range and
 *     flush_cache_all (ppc and sparc flush_cache_kmaps).
 *   kmap_high_get (2.6.30, arm) takes the locks a kmap that finds its page mapped takes, in either
 *     mode; it never sleeps and never writes a PTE.
 *   HM_LOCKING_KERNEL asks for kmap_lock in every kmap and kunmap of a highmem page, for a bucket
 *     lock in every page_address lookup (inside kmap_lock, or alone for hm_page_address), and
 *     for pool_lock and a bucket lock when a page is hashed or unhashed.
 *   HM_LOCKING_FAST asks for kmap_lock only in a kmap that does not find its page mapped (or
 *     finds its slot being recycled), in hm_kmap_flush_unused, in a kunmap that must wake
 *     sleepers (lock then unlock, before wake_all or wake_colour), and in hm_page_address when
 *     writers keep changing the table. It never asks for pool_lock or a bucket lock: an
 *     embedder that only uses this mode may make those ids no-ops (kmap_lock must stay a real
 *     lock).
 *   With no lock held: the kmap_atomic family's set_pte, get_pte and flushes (its slots are per
 *     CPU: the caller stays on its CPU), get_pte of hm_kmap_to_page, hm_kmap_atomic_to_page and
 *     hm_check_invariants, in_interrupt, and wake_all (wake_colour).
 * sleep() (sleep_colour) is the only hook that may block waiting for another task, and lock()
 * may wait for its lock; every other hook must return without sleeping (in a kernel they run in
 * atomic context). No hook may call back into the library. The sleep/wake contract (sleep,
 * entered holding kmap_lock, returns only after a wake_all that began after it released the
 * lock; sleep_colour likewise after a wake_colour of its colour) is met by a plain condition
 * variable waited on with kmap_lock's mutex plus a generation count, one of each per colour for
 * the coloured pair (machine/kmap_wait.c), in both modes: a fast kunmap takes kmap_lock before
 * its wake_all (wake_colour).
 * ------------------------------------------------------------------------------------- */
enum hm_lock_id {
    HM_LOCK_KMAP = 0,   /* kmap_lock */
    HM_LOCK_POOL = 1,   /* pool_lock of the page_address pool */
    HM_LOCK_BUCKET0 = 2 /* HM_LOCK_BUCKET0 + b: the lock of page_address_htable[b] */
};
#define HM_PA_HASH_ORDER 7
#define HM_PA_HASH_SIZE (1u << HM_PA_HASH_ORDER)
#define HM_NR_LOCKS (HM_LOCK_BUCKET0 + HM_PA_HASH_SIZE)

struct hm_machine {
    void *m; /* passed back to every hook */
    /* Page tables: write / read the PTE that maps vaddr (only page-aligned addresses inside
     * the layout's pt_start/pt_pages window are ever passed). set_pte returns 0 when done,
     * non-zero when the machine could not install the word (the PTE stays as it was). */
    int (*set_pte)(void *m, hm_vaddr_t vaddr, hm_pte_t pte);
    hm_pte_t (*get_pte)(void *m, hm_vaddr_t vaddr);
    /* TLB and cache maintenance. */
    void (*flush_tlb_range)(void *m, hm_vaddr_t start, hm_vaddr_t end); /* all CPUs */
    void (*flush_tlb_page)(void *m, uint32_t cpu, hm_vaddr_t vaddr);    /* cpu, or HM_CPU_ALL */
    void (*flush_tlb_all)(void *m);
    void (*flush_cache_all)(void *m);
    /* Locks (enum hm_lock_id) and the pkmap_map_wait queue. sleep() is entered with
     * HM_LOCK_KMAP held: it releases it, sleeps until a later wake_all(), and re-takes it
     * before returning (spurious returns are allowed). wake_all() is called without locks. */
    void (*lock)(void *m, unsigned id);
    void (*unlock)(void *m, unsigned id);
    void (*sleep)(void *m);
    void (*wake_all)(void *m);
    /* Non-zero when the calling context is an interrupt (in_interrupt()). */
    int (*in_interrupt)(void *m);
    /* Write back and invalidate the data cache lines of the page mapped at vaddr on cpu (or
     * HM_CPU_ALL): flush_cache_page, ARM's __cpuc_flush_dcache_area of one page. Cannot fail;
     * called with the locks its caller holds (a kmap_atomic front's: none). */
    void (*flush_cache_page)(void *m, uint32_t cpu, hm_vaddr_t vaddr);
    /* Per-colour wait queues: the kernel's get_pkmap_wait_queue_head(color), one queue per
     * pkmap colour (spec §10.3), colour < hm_pkmap_colours (always 0 on an uncoloured layout).
     * Both or neither: when either is NULL the core uses sleep and wake_all, the one queue of
     * every colour (a sleeper of colour c is then also woken by a kunmap of another colour, and
     * re-scans); when both are set it never calls sleep or wake_all. sleep_colour is sleep() on
     * colour's queue: entered holding HM_LOCK_KMAP and nothing else, it releases the lock,
     * sleeps until a wake of that queue that began after the release (a wake_colour of the same
     * colour; an embedder may also let other wakes through: spurious returns are allowed), and
     * re-takes the lock before it returns. wake_colour wakes every sleeper of that colour,
     * called without locks; it need not wake other colours. machine/kmap_wait.c implements
     * both (hm_kmap_wait_sleep_colour, hm_kmap_wait_wake_colour); docs/design.md, "PKMAP
     * colours", has the no-lost-wake-up argument per colour. */
    void (*sleep_colour)(void *m, uint32_t colour);
    void (*wake_colour)(void *m, uint32_t colour);
};

/* ---------------------------------------------------------------------------------------
 * Architectures and configuration.
 * ------------------------------------------------------------------------------------- */
struct hm_arch; /* a backend: see highmem_arch.h */

/* Every built-in backend, found by name: "x86", "x86-pae", "ppc", "sparc", "generic", "xtensa".
 * Returns NULL for an unknown name. */
const struct hm_arch *hm_arch_find(const char *name);
/* The i-th built-in backend (NULL past the end), for iteration. */
const struct hm_arch *hm_arch_at(unsigned i);
/* The name of a backend. */
const char *hm_arch_name(const struct hm_arch *arch);

#define HM_MAX_CPUS 64u
#define HM_MAX_PKMAP 4096u

/* How the kmap family locks (hm_config.locking). */
enum hm_locking {
    HM_LOCKING_FAST = 0,  /* the default: a kmap that finds its page already mapped, and a kunmap,
                           * take no lock (atomic slot counts, a lock-free page_address lookup);
                           * kmap_lock is taken for misses, flushes and sleeping only. Needs
                           * lock-free 32- and 64-bit atomics: where the target has none (or the
                           * core is built with HM_NO_ATOMICS) the context runs HM_LOCKING_KERNEL */
    HM_LOCKING_KERNEL = 1 /* 2.6.24 exactly: kmap_lock around every kmap and kunmap, the bucket lock
                           * around every page_address lookup, pool_lock around the pool */
};

/* The kernel generation the machinery follows (hm_config.kernel); docs/generations.md lists
 * every difference with its kernel source. */
enum hm_kernel {
    HM_KERNEL_2_6_24 = 0, /* the default: 2.6.24's mm/highmem.c exactly */
    HM_KERNEL_2_6_30 = 1, /* + need_flush in flush_all_zero_pkmaps whatever hm_config.need_flush
                           * says, kmap_high_get where the arch has ARCH_NEEDS_KMAP_HIGH_GET */
    HM_KERNEL_5_11 = 2    /* + kmap_local (kmap_atomic a wrapper around it), kmap_to_page's
                           * corrected bound */
};

struct hm_config {
    const struct hm_arch *arch;
    uint32_t nr_cpus;        /* simulated CPUs, 1..HM_MAX_CPUS (0: 1) */
    uint32_t last_pkmap;     /* LAST_PKMAP override: 0 = the arch's own, else a power of two 2..4096 */
    uint32_t highmem_pages;  /* highmem page frames after lowmem; 0 = the arch's default. The most
                              * each arch's PTEs address (max_pfn = that limit): x86 0xc8000 (4 GiB
                              * of pfns: lowmem 0x38000 + 0xc8000 = 2^20), x86-pae 0xfc8000 (2^24,
                              * 64 GiB), ppc 0xd0000 (2^20), sparc 0xff4000 (2^24); one more is
                              * HM_EINVAL (tests/core_test.c checks these figures) */
    int debug_highmem;       /* CONFIG_DEBUG_HIGHMEM behaviour */
    int need_flush;          /* 2.6.30 flush_all_zero_pkmaps: flush the TLB only if a slot was freed */
    int locking;             /* enum hm_locking (0: HM_LOCKING_FAST) */
    int kernel;              /* enum hm_kernel (0: HM_KERNEL_2_6_24) */
    uint32_t nr_tasks;       /* 5.11: tasks numbered 0..nr_tasks-1 for hm_switch, task 0 being
                              * each CPU's idle task; 0 = nr_cpus + 2, at most HM_MAX_TASKS.
                              * Ignored before 5.11 */
};

/* The machine's layout, computed from a config. Addresses are those of the modelled kernel. */
struct hm_layout {
    const char *arch;
    uint32_t page_size, page_shift;
    uint32_t va_bits;           /* the machine's virtual address space is [0, 2^va_bits): 32 for
                                 * every modelled arch; every address below lies in it, and an
                                 * address argument at or above 2^va_bits is refused (BAD_ADDR) */
    hm_vaddr_t page_offset;     /* virtual address of pfn 0 */
    hm_pfn_t highmem_start_pfn; /* first highmem pfn (== max_pfn without highmem) */
    hm_pfn_t max_pfn;           /* one past the last valid pfn */
    hm_vaddr_t high_memory;     /* end of the direct map */
    hm_vaddr_t vmalloc_start, vmalloc_end;
    hm_vaddr_t pkmap_base;      /* PKMAP_BASE (0 without highmem) */
    uint32_t last_pkmap;        /* LAST_PKMAP (0 without highmem) */
    hm_vaddr_t fixaddr_top, fixaddr_start, fixaddr_boot_start;
    uint32_t fix_kmap_begin;    /* fixmap index of FIX_KMAP_BEGIN */
    uint32_t nr_fixmap;         /* __end_of_fixed_addresses */
    hm_vaddr_t kmap_atomic_base;/* address of atomic slot idx 0 */
    int kmap_atomic_dir;        /* +1: idx grows upward (ppc); -1: downward (x86, sparc) */
    uint32_t km_type_nr;        /* KM_TYPE_NR (with debug fences where the arch has them) */
    uint32_t nr_km_types;       /* real km_type members (names in km_types) */
    const char *const *km_types;/* their names, in enum order */
    uint32_t nr_cpus;           /* simulated CPUs */
    uint32_t config_nr_cpus;    /* NR_CPUS the fixmap is sized for */
    hm_vaddr_t pt_start;        /* the page-table-backed window the machine must provide: */
    uint32_t pt_pages;          /* [pt_start, pt_start + pt_pages pages), may end at 4 GiB */
    uint32_t pte_bytes;         /* 4 or 8 */
    hm_vaddr_t mem_map;         /* virtual address of mem_map[0] (struct page array) */
    uint32_t struct_page_size;  /* sizeof(struct page) */
    uint32_t kernel;            /* enum hm_kernel: the config's generation */
    uint32_t pkmap_colours;     /* DCACHE_N_COLORS of a coloured pkmap (a power of two dividing
                                 * last_pkmap), 1 when uncoloured; 0 without highmem */
    uint32_t cache_kind;        /* the arch's enum hm_cache_kind (highmem_arch.h) */
    uint32_t cache_colours;     /* its colour count; 0 or 1: no aliasing */
    uint32_t km_max_idx;        /* KM_MAX_IDX of kmap_local (5.11: 16, 33 with debug_highmem,
                                 * which stands for DEBUG_KMAP_LOCAL), 0 before 5.11. When set it
                                 * is also km_type_nr: the fixmap holds KM_MAX_IDX slots per CPU */
    uint32_t nr_tasks;          /* 5.11: the config's nr_tasks resolved; 0 before 5.11 */
};

/* Compute the layout of a config. Pre: cfg and out non-NULL, cfg->arch a backend.
 * Errors: HM_EINVAL (bad arch, cpu count, last_pkmap not a power of two in 2..4096 or smaller
 * than the arch's pkmap colour count, a colour count not a power of two, locking not an enum
 * hm_locking, kernel not an enum hm_kernel). */
int hm_layout_compute(const struct hm_config *cfg, struct hm_layout *out);

/* The name of a kernel generation ("2.6.24", "2.6.30", "5.11"); NULL for a value that is not an
 * enum hm_kernel. */
const char *hm_kernel_name(int kernel);
/* The generation named name (exactly as hm_kernel_name spells it), or -1 (NULL or unknown). */
int hm_kernel_find(const char *name);

/* ---------------------------------------------------------------------------------------
 * The context: one per machine, in storage the caller provides.
 * ------------------------------------------------------------------------------------- */
struct hm_ctx;

struct hm_hooks {
    hm_bug_fn on_bug;     /* may be NULL: bugs are only counted */
    void *bug_cookie;
    hm_event_fn on_event; /* may be NULL */
    void *event_cookie;
};

/* Bytes of storage a context for cfg needs (0 if cfg is invalid). */
size_t hm_ctx_size(const struct hm_config *cfg);
/* The alignment that storage must have. */
size_t hm_ctx_align(void);

/* Initialise a context in mem. Pre: mem is hm_ctx_align()-aligned and at least
 * hm_ctx_size(cfg) bytes; machine provides at least set_pte and get_pte for highmem arches.
 * Post: every slot count 0, last_pkmap_nr 0, the pool full, every CPU's pagefault depth 0.
 * The context is not relocatable (it points into mem). Errors: HM_EINVAL, HM_ENOSPC. */
int hm_ctx_init(void *mem, size_t size, const struct hm_config *cfg,
                const struct hm_machine *machine, const struct hm_hooks *hooks,
                struct hm_ctx **out);

/* The layout a context was built with. */
const struct hm_layout *hm_ctx_layout(const struct hm_ctx *ctx);

/* The locking a context runs with (enum hm_locking): its config's, or HM_LOCKING_KERNEL where
 * the fast path is not built in; -1 without a valid context. */
int hm_ctx_locking(const struct hm_ctx *ctx);

/* The kernel generation a context follows (enum hm_kernel, its config's); -1 without a valid
 * context. */
int hm_ctx_kernel(const struct hm_ctx *ctx);

/* ---------------------------------------------------------------------------------------
 * The kmap family. pfn names the page (struct page). cpu is the calling CPU's id.
 *
 * Holding several kmaps at once (the rule that keeps threads from deadlocking). hm_kmap
 * sleeps while every one of the LAST_PKMAP slots is held; it is woken only when some holder
 * kunmaps. So if T threads may each hold up to h_t mappings while asking for another, keep
 * sum(h_t - 1) < LAST_PKMAP (with h_t the most a thread holds at once, the one it asks for
 * included): then at least one slot is never held by a sleeper, and the thread holding it runs
 * on and eventually kunmaps, waking the sleepers (the wake-up is never lost: sleep registers
 * under kmap_lock). A thread that cannot bound what it holds should take its extra mappings
 * with hm_kmap_try (HM_EAGAIN instead of sleeping) and release what it has before retrying.
 * Lowmem pages and the kmap_atomic family never sleep and hold no slot. docs/usage.md
 * (hold-many) proves the bound for kmapsim's workload. On a coloured layout (hm_pkmap_colours
 * > 1) a kmap sleeps while every slot of its page's colour is held and only a kunmap of that
 * colour wakes it, so the bound holds per colour: with h_t,c the pages of colour c a thread
 * holds at once, keep sum(h_t,c - 1) < LAST_PKMAP / hm_pkmap_colours for every colour c (a
 * thread that alone holds all of one colour's slots and asks for another sleeps for ever).
 * ------------------------------------------------------------------------------------- */

/* kmap: map a page persistently. Lowmem pages return their direct-map address; highmem
 * pages go through kmap_high, which may sleep (machine sleep or sleep_colour hook) while every
 * slot is in use. Post: *vaddr maps pfn and the slot's count is raised by one.
 * Errors: HM_ERANGE (pfn >= max_pfn), HM_EINVAL (NULL vaddr, arch BUG),
 * HM_EAGAIN (every slot in use and the machine cannot sleep), HM_EMACHINE (the machine
 * refused the new PTE, or a wrap's flush could not clear a slot and none is free: see struct
 * hm_machine). */
int hm_kmap(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr);

/* kmap that never sleeps: fails with HM_EAGAIN exactly where hm_kmap would sleep, after the
 * scan has moved last_pkmap_nr (and flushed on wrap) as the kernel's would. */
int hm_kmap_try(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr);

/* kunmap: drop one persistent reference (a kmap's, or a kmap_high_get pin's). Lazy: the PTE
 * stays; waiters are woken when the count drops to exactly 1. Errors: HM_ERANGE, HM_EINVAL (page
 * not kmapped, count would reach 0, called in interrupt context: IN_INTERRUPT, except where the
 * context has kmap_high_get, whose kunmap_high may run in any context). */
int hm_kunmap(struct hm_ctx *ctx, hm_pfn_t pfn);

/* kmap_flush_unused: flush_all_zero_pkmaps under kmap_lock. No-op without highmem.
 * Errors: HM_EFAULT (a count-1 slot with a none PTE: FLUSH_PTE_NONE, nothing changed),
 * HM_EMACHINE (the machine refused some clears: those slots were kept, the others freed). */
int hm_kmap_flush_unused(struct hm_ctx *ctx);

/* kmap_atomic / kmap_atomic_prot (prot = raw PTE protection bits of the arch; kmap_atomic
 * uses the arch's kmap_prot) / kmap_atomic_pfn. type is an index into the layout's km_types.
 * Post: pagefaults are disabled on cpu until the matching hm_kunmap_atomic.
 * Errors: HM_EINVAL (bad cpu/type, NULL vaddr), HM_ERANGE (pfn), HM_EBUSY (slot in use),
 * HM_EMACHINE (the machine refused the PTE: pagefault depth and PTE as they were). */
int hm_kmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type, hm_vaddr_t *vaddr);
int hm_kmap_atomic_prot(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type,
                        hm_pte_t prot, hm_vaddr_t *vaddr);
int hm_kmap_atomic_pfn(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, unsigned type, hm_vaddr_t *vaddr);

/* kunmap_atomic: undo one kmap_atomic on cpu (the arch decides what happens to the slot).
 * Errors: HM_EINVAL (bad cpu/type, no kmap_atomic outstanding on cpu, arch BUG on address),
 * HM_ERANGE (vaddr at or above 2^va_bits: BAD_ADDR, checked after cpu and type),
 * HM_EMACHINE (the machine refused the clear: nothing changed, the slot is still mapped). */
int hm_kunmap_atomic(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr, unsigned type);

/* The arch's own kmap_atomic_to_page, quirks included (x86 returns virt_to_page() for pkmap
 * addresses). Errors: HM_EINVAL (address the arch would BUG on), HM_ERANGE (an address of no
 * region, or at or above 2^va_bits: BAD_ADDR). */
int hm_kmap_atomic_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn);

/* The page behind any kernel address, correct for every region: direct map, pkmap window,
 * atomic slots. Errors: HM_EFAULT (slot not mapped), HM_ERANGE (address of no region, or at
 * or above 2^va_bits: BAD_ADDR). */
int hm_kmap_to_page(struct hm_ctx *ctx, hm_vaddr_t vaddr, hm_pfn_t *pfn);

/* kmap_high_get (spec §10.1): pin a highmem page only if it is kmapped already. When it is,
 * its slot's count is raised by one and *vaddr is its pkmap address; the caller must then drop
 * the pin with hm_kunmap (the kernel's kunmap_high), which on these arches may run in interrupt
 * context. When it is not, *vaddr = 0, HM_OK, and nothing changes. Never sleeps, never
 * allocates a slot, may be called in interrupt context. Only where the kernel has it: an arch
 * with ARCH_NEEDS_KMAP_HIGH_GET (hm_arch.needs_kmap_high_get: arm) and a generation from 2.6.30
 * (docs/generations.md). Locks: kmap_lock (the kernel's lock_kmap_any, irq-safe there); in
 * HM_LOCKING_FAST a page found through its slot hint takes no lock.
 * Errors: HM_EINVAL (NULL vaddr, a lowmem pfn: BAD_ARG; not in this generation or arch:
 * UNAVAILABLE; the slot's count below 1: KMAP_HIGH_GET_COUNT, nothing changed), HM_ERANGE
 * (pfn >= max_pfn). */
int hm_kmap_high_get(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr);

/* page_address: the page's kernel address, or 0 (NULL) when a highmem page has none.
 * Errors: HM_ERANGE, HM_EINVAL (NULL out). */
int hm_page_address(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr);

/* Whether pfn is a highmem page (0/1); -1 for a pfn out of range. */
int hm_page_is_highmem(const struct hm_ctx *ctx, hm_pfn_t pfn);

/* The arch's PTE encoding: mk_pte(pfn, kmap_prot), and the decoders. */
hm_pte_t hm_mk_kmap_pte(const struct hm_ctx *ctx, hm_pfn_t pfn);
int hm_pte_none(const struct hm_ctx *ctx, hm_pte_t pte);
hm_pfn_t hm_pte_pfn(const struct hm_ctx *ctx, hm_pte_t pte);

/* ---------------------------------------------------------------------------------------
 * Inspection (tests, fuzzers, tools). They take no lock. hm_get_stats, hm_pkmap_count,
 * hm_last_pkmap_nr, hm_nr_waiters and hm_pagefault_depth may be called while other threads
 * use the context (each value is one consistent reading, possibly already old; in a build
 * without lock-free 64-bit atomics, see core/hm_atomic.h, hm_get_stats and hm_pkmap_count
 * only when no kmap runs); so may hm_page_address and hm_kmap_to_page above. hm_pool_size, hm_bucket_size and
 * hm_check_invariants walk the table: call them only when no kmap, kunmap or flush runs.
 * ------------------------------------------------------------------------------------- */
/* pkmap_count[slot]; -1 if slot >= LAST_PKMAP. */
int hm_pkmap_count(const struct hm_ctx *ctx, uint32_t slot);
/* last_pkmap_nr: the scan cursor (of colour 0 on a coloured layout, see hm_pkmap_cursor). */
uint32_t hm_last_pkmap_nr(const struct hm_ctx *ctx);
/* Number of tasks sleeping on pkmap_map_wait (of every colour). */
uint32_t hm_nr_waiters(const struct hm_ctx *ctx);
/* Pagefault-disable depth of a CPU (-1 for a bad cpu). */
int hm_pagefault_depth(const struct hm_ctx *ctx, uint32_t cpu);
/* Records in the page_address pool / in bucket b (b < HM_PA_HASH_SIZE; else 0; 0 without a
 * context). A walk stops after LAST_PKMAP + 1 records: a larger count than LAST_PKMAP can only
 * mean a corrupted (cyclic) list. */
uint32_t hm_pool_size(const struct hm_ctx *ctx);
uint32_t hm_bucket_size(const struct hm_ctx *ctx, uint32_t b);
/* The bucket a page hashes to: hash_ptr(struct page *, 7) with the 32-bit golden-ratio hash. */
uint32_t hm_page_bucket(const struct hm_ctx *ctx, hm_pfn_t pfn);
/* The 32-bit kernel's hash_long(val, bits). */
uint32_t hm_hash_long32(uint32_t val, unsigned bits);

/* Statistics: counted under kmap_lock, per slot for hits and kunmaps, atomically for bugs and
 * refused writes (the sum is what hm_get_stats reports). */
struct hm_stats {
    uint64_t kmap_calls;        /* hm_kmap / hm_kmap_try calls on highmem pages (not those that
                                 * fail with HM_EMACHINE: machine_fails counts the refusal) */
    uint64_t kmap_hits;         /* page already had an address (count >= 1 found) */
    uint64_t kmap_reuse_count1; /* of those, the slot was at count 1 (cached, unused) */
    uint64_t kmap_new;          /* new mappings made by map_new_virtual */
    uint64_t kmap_eagain;       /* hm_kmap_try failures / sleeps refused */
    uint64_t kunmap_calls;
    uint64_t flushes;           /* flush_all_zero_pkmaps runs */
    uint64_t slots_freed;       /* count-1 slots torn down by those runs */
    uint64_t sleeps, wakeups;
    uint64_t bugs;              /* BUG conditions turned into errors */
    uint64_t bug_by_kind[HM_BUG__COUNT];
    uint64_t machine_fails;     /* PTE writes the machine refused (HM_EV_MACHINE_FAIL events) */
};
/* Copy the statistics out. */
void hm_get_stats(const struct hm_ctx *ctx, struct hm_stats *out);

/* PKMAP colouring (spec §10.3). hm_pkmap_colours: DCACHE_N_COLORS of the context's layout, 1
 * when uncoloured, 0 without highmem or context. hm_pkmap_colour: get_pkmap_color(page), the
 * colour whose slots the page gets (0 uncoloured); -1 for a pfn out of range or no context.
 * hm_pkmap_cursor: the slot the scan of colour c handed out (or tested) last, i.e. the kernel's
 * last_pkmap_nr_arr[c] + c (last_pkmap_nr itself when uncoloured); it is always of colour c.
 * hm_pkmap_waiters: the tasks asleep on colour c's wait queue. Both take no lock (one atomic
 * read each). Errors: HM_EINVAL (no context, NULL out: BAD_ARG; c >= hm_pkmap_colours:
 * COLOUR_RANGE, reported to the bug hook, *out untouched, nothing else changed). */
uint32_t hm_pkmap_colours(const struct hm_ctx *ctx);
int hm_pkmap_colour(const struct hm_ctx *ctx, hm_pfn_t pfn);
int hm_pkmap_cursor(struct hm_ctx *ctx, uint32_t colour, uint32_t *nr);
int hm_pkmap_waiters(struct hm_ctx *ctx, uint32_t colour, uint32_t *waiters);

/* Check the invariants of spec §8 that the core can see (I1, I2, I3, I5, I6, I10, and I13 in
 * 5.11), per colour on a coloured layout (every cursor in range and of its colour; a slot in use
 * maps a page of the slot's colour).
 * Returns 0 when they hold, else a non-zero code naming the first broken one (1 = I1 ...),
 * with a short description written to msg (msg may be NULL). */
int hm_check_invariants(const struct hm_ctx *ctx, char *msg, size_t msg_len);

/* ---------------------------------------------------------------------------------------
 * kmap_local (5.11, mm/highmem.c of Thomas Gleixner's rework): a stack of short-lived
 * mappings per task (the kernel's task_struct.kmap_ctrl), saved and restored at a context
 * switch. Contexts of an earlier generation have none of these calls: each returns HM_EINVAL
 * (UNAVAILABLE) and changes nothing.
 *
 * Tasks. A 5.11 context has tasks 0..nr_tasks-1 (hm_config.nr_tasks; layout.nr_tasks). Task 0 is
 * the idle task, one per CPU as in the kernel (every idle task has pid 0): `switch cpu 0` runs
 * that CPU's own idle task, which never runs elsewhere. Every CPU starts running its idle task;
 * tasks 1.. start switched out, never run, with empty stacks. The calls below act on the task
 * running on cpu (the kernel's `current` there).
 *
 * The stack. KM_MAX_IDX = 16 positions per task, 33 with debug_highmem (DEBUG_KMAP_LOCAL, which
 * the kernel first keyed on DEBUG_HIGHMEM), where every even position is an unused guard (a push
 * moves idx by KM_INCR = 2). A push is refused once idx would reach KM_MAX_IDX: 15 mappings at
 * once, 16 with debug. Position p of the task running on cpu maps at slot p + KM_MAX_IDX * cpu
 * of the kmap fixmap (the atomic window of the layout: kmap_atomic_base, in kmap_atomic_dir).
 * An interrupt's kmap_local uses the interrupted task's stack above its mappings.
 *
 * Migration. A task holding local mappings is pinned to its CPU (migrate_disable): hm_switch
 * refuses to run it on another (LOCAL_MIGRATE).
 *
 * No locks: the stack belongs to the task and the slots to the CPU; as for the kmap_atomic
 * family, the caller runs as that CPU. The arch's hooks around the PTE writes (struct hm_arch
 * kmap_local_*) make its flushes: x86 flushes the unmapped page from this CPU's TLB, ppc flushes
 * it after a map and after an unmap, sparc flushes the whole cache before and the whole TLB after
 * either. A machine that refuses a PTE write gets HM_EMACHINE with everything as it was (the
 * refused write's own events excepted). hm_kmap_atomic and its kin on a 5.11 context are the
 * kernel's wrappers: pagefault_disable + kmap_local (the km_type is checked and ignored: the
 * stack depth picks the slot), kunmap_atomic the reverse; hm_kmap_to_page also finds a local
 * address in the stack of the task running on the address's CPU.
 * ------------------------------------------------------------------------------------- */
#define HM_KM_MAX_IDX 16u       /* KM_MAX_IDX */
#define HM_KM_MAX_IDX_DEBUG 33u /* KM_MAX_IDX with DEBUG_KMAP_LOCAL */
#define HM_MAX_TASKS 256u       /* the most tasks a context models */

/* kmap_local_page by the task running on cpu. A lowmem page returns its direct-map address and
 * pushes nothing. A highmem page is pushed onto the task's stack: its PTE is written at the slot
 * of the new top (no slot may be in use there), the arch's post-map hook runs and the PTE is
 * recorded in the task's stack. Post: *vaddr maps pfn until the matching hm_kunmap_local.
 * Errors: HM_EINVAL (UNAVAILABLE; BAD_ARG: NULL vaddr, cpu >= nr_cpus; LOCAL_OVERFLOW),
 * HM_ERANGE (PFN_RANGE), HM_EBUSY (LOCAL_BUSY: the slot's PTE is not none), HM_EMACHINE (the
 * machine refused the PTE: nothing pushed). On every error nothing changed. */
int hm_kmap_local_page(struct hm_ctx *ctx, uint32_t cpu, hm_pfn_t pfn, hm_vaddr_t *vaddr);

/* kunmap_local by the task running on cpu. An address in the kmap fixmap must be the slot of
 * the top of the task's stack (strict LIFO): the arch's pre-unmap hook, the PTE cleared, the
 * post-unmap hook, then the pop. Any other address: a pkmap address where the arch has
 * kmap_high_get goes to kunmap_high (kmap_high_unmap_local), another address at or above
 * PAGE_OFFSET (a lowmem page's) is left alone.
 * Errors: HM_EINVAL (UNAVAILABLE; BAD_ARG: cpu; LOCAL_NOT_TOP: a local address not at the
 * top, or an empty stack; LOCAL_BAD_ADDR: below PAGE_OFFSET; kunmap_high's own),
 * HM_ERANGE (BAD_ADDR: at or above 2^va_bits), HM_EMACHINE (the clear was refused: nothing
 * changed, the mapping is still there). On every error nothing changed. */
int hm_kunmap_local(struct hm_ctx *ctx, uint32_t cpu, hm_vaddr_t vaddr);

/* A context switch on cpu to task (task 0: cpu's idle task): the outgoing task's local
 * mappings are cleared (HM_EV_LOCAL_SAVE, then for each non-guard position the pre-unmap
 * hook, pte_clear, the post-unmap hook; their PTEs stay in its stack), then the incoming
 * task's are re-installed at this CPU's slots (HM_EV_LOCAL_RESTORE, then set_pte and the
 * post-map hook each). A task with no mappings makes no event. Switching to the task already
 * running on cpu does nothing.
 * Errors: HM_EINVAL (UNAVAILABLE; BAD_ARG: cpu, task >= nr_tasks; SWITCH_ATOMIC: cpu's
 * pagefault depth is raised by a kmap_atomic, or in interrupt context; TASK_RUNNING: task runs
 * on another CPU; LOCAL_MIGRATE: task holds local mappings made on another CPU; LOCAL_CORRUPT:
 * the outgoing or incoming task's stack is corrupted: idx out of range or off the KM_INCR
 * step, a none PTE at a mapped position or a present one at a guard), HM_EMACHINE (a PTE write
 * was refused: what the switch had done is undone, the outgoing task runs on). On every error
 * nothing changed (a refused write's events excepted; if the machine also refuses a write of
 * the undo, the mappings it could not restore are missing and hm_check_invariants says I13). */
int hm_switch(struct hm_ctx *ctx, uint32_t cpu, uint32_t task);

/* The task running on cpu (0: its idle task); -1 for a bad cpu or a context before 5.11. */
int hm_cpu_task(const struct hm_ctx *ctx, uint32_t cpu);
/* A task's kmap_ctrl.idx: its stack depth in positions (KM_INCR per mapping: 2 with debug);
 * cpu names which idle task when task is 0 and is ignored otherwise. -1 for a bad task or cpu
 * or a context before 5.11. */
int hm_task_local_idx(const struct hm_ctx *ctx, uint32_t task, uint32_t cpu);

HM_API_END

#ifdef __cplusplus
}
#endif
#endif /* HIGHMEM_H */
