/* kmap_wait.h - what every hosted machine (sim/, host/) needs behind the lock and sleep hooks:
 * HM_NR_LOCKS pthread mutexes, the pkmap_map_wait queue and one per pkmap colour with no lost
 * wake-up, and a lockdep-like checker naming lock-order and sleep errors and what each thread
 * holds or waits for.
 * SPDX-License-Identifier: MIT */
#ifndef HM_MACHINE_KMAP_WAIT_H
#define HM_MACHINE_KMAP_WAIT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "highmem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- What the checker reports ----------------------------------------------------------
 * Lock classes: kmap (kmap_lock), pool (pool_lock), bucket (the HM_PA_HASH_SIZE bucket locks).
 * The order between two classes is learned the first time one is taken while the other is
 * held, as lockdep does; kmap -> pool and kmap -> bucket are known from the start (the
 * library's documented order), so their reverse is an inversion the first time it happens. */
enum hm_lock_error_kind {
    HM_LOCK_ERR_INVERSION = 1,    /* id taken while holding other; the reverse order was seen
                                   * before (earlier_id taken while holding earlier_other) or is
                                   * the documented one (earlier_* = HM_NR_LOCKS) */
    HM_LOCK_ERR_RECURSION = 2,    /* id taken while this thread holds it already (also wake_all
                                   * or wake_colour called holding kmap_lock: each takes
                                   * kmap_lock itself) */
    HM_LOCK_ERR_SAME_CLASS = 3,   /* id taken while holding other of its class: two bucket locks */
    HM_LOCK_ERR_NOT_HELD = 4,     /* id released by a thread that does not hold it */
    HM_LOCK_ERR_SLEEP_UNLOCKED = 5, /* sleep entered without kmap_lock */
    HM_LOCK_ERR_SLEEP_HOLDING = 6,  /* sleep entered holding other besides kmap_lock */
    HM_LOCK_ERR_TOO_DEEP = 7      /* id taken while HM_KW_MAX_HELD locks are held (its order
                                   * and recursion go unchecked) */
};

struct hm_lock_error {
    int kind;                       /* enum hm_lock_error_kind */
    unsigned id;                    /* the lock taken or released; HM_NR_LOCKS for a sleep */
    unsigned other;                 /* the held lock in conflict; HM_NR_LOCKS when none */
    unsigned earlier_id, earlier_other; /* INVERSION: the earlier observation */
    const char *thread;             /* the reporting thread's name (hm_kmap_wait_thread_name), or NULL */
    const char *msg;                /* one line naming everything, e.g. "lock order inversion:
                                     * pool_lock taken while holding bucket[5]; earlier bucket[5]
                                     * was taken while holding pool_lock"; valid during the call */
};

/* Called on the thread that made the error, at once, before the hook acts (with whatever locks
 * that thread holds). NULL selects the default: the line goes to stderr and the process
 * abort()s, so a test fails at the error instead of timing out later. If it returns, the hook
 * does what cannot hang or corrupt the mutexes: a recursive lock (or wake_all holding
 * kmap_lock) does not lock again, an unlock of a lock not held unlocks nothing, an erroneous
 * sleep returns at once (a spurious return, which callers of sleep tolerate); an inversion,
 * a same-class nesting or a too-deep nesting takes the lock as asked. */
typedef void (*hm_lock_error_fn)(void *cookie, const struct hm_lock_error *e);

/* ---- The state --------------------------------------------------------------------------- */
#define HM_KW_MAX_THREADS 128u /* threads tracked at once (holding, waiting or asleep); more
                                * are left unchecked, never reported */
#define HM_KW_MAX_HELD 8u     /* locks tracked per thread (the library nests at most 2) */

/* One tracked thread: claimed (owner != 0, by compare-and-swap) with the thread's first lock,
 * freed with its last, so a thread that holds, waits for or sleeps on something has one;
 * written by that thread only (which keeps a copy of its held list in thread-local storage
 * and reads that), read by anyone (describe), so every field is atomic. */
struct hm_kw_thread {
    atomic_uintptr_t owner;             /* 0: free; else the owning thread's token */
    _Atomic(const char *) name;
    atomic_uint nheld;
    atomic_ushort held[HM_KW_MAX_HELD]; /* lock ids, in the order taken */
    atomic_uint waiting;                /* 0, or the id + 1 of the lock it is blocked on */
    atomic_int sleeping;                /* asleep on pkmap_map_wait (kmap_lock released) */
    atomic_uint since_ms;               /* CLOCK_MONOTONIC start of the wait or sleep, in ms
                                         * mod 2^32 (no 64-bit atomics: ppc32 has none) */
    atomic_uint ticket;                 /* its order among the waits and sleeps of the queue */
    atomic_uint queue;                  /* while sleeping: 0 on the one queue (sleep), c + 1 on
                                         * colour c's (sleep_colour) */
};

/* Colour queues: the sleep_colour / wake_colour hooks of struct hm_machine have one condition
 * variable and generation count each for colours 0..HM_KW_COLOUR_QUEUES-1, as many as any
 * data cache of the modelled arches has colours (xtensa 2; the spec's other candidates at most
 * 16) with room to spare. A layout may have more (hm_layout_compute allows up to LAST_PKMAP):
 * colour c then shares queue c % HM_KW_COLOUR_QUEUES with the colours congruent to it, whose
 * wake-ups are extra (spurious) returns for it, which every sleeper tolerates; none is lost. */
#define HM_KW_COLOUR_QUEUES 64u

/* wake_gen, colour_gen and colour_sleepers are guarded by locks[HM_LOCK_KMAP]; wait and
 * colour_wait are only waited on with that mutex. The checker's fields are set by
 * hm_kmap_wait_check / hm_kmap_wait_on_error only. */
struct hm_kmap_wait {
    pthread_mutex_t locks[HM_NR_LOCKS];
    pthread_cond_t wait;                /* the one queue (sleep): moved by every wake */
    uint64_t wake_gen;
    pthread_cond_t colour_wait[HM_KW_COLOUR_QUEUES]; /* colour c's queue (sleep_colour) */
    uint64_t colour_gen[HM_KW_COLOUR_QUEUES];        /* moved by wake_colour(c) and wake_all */
    uint32_t colour_sleepers[HM_KW_COLOUR_QUEUES];   /* asleep on it: a wake skips an empty one */

    int check;                          /* the checker is on */
    hm_lock_error_fn on_error;          /* NULL: print and abort */
    void *cookie;
    atomic_uint order[3][3];            /* [held class][taken class]: 0 unseen, else the first
                                         * witness ((held << 16 | taken) + 1) or 0xffffffff,
                                         * the documented order */
    atomic_uint hiwater;                /* threads[] used so far */
    atomic_uint tickets;                /* the next hm_kw_thread.ticket */
    struct hm_kw_thread threads[HM_KW_MAX_THREADS];
};

/* ---- Set-up -------------------------------------------------------------------------------- */

/* Initialise (default attributes, checker off) / destroy (nobody may hold a lock or sleep). */
void hm_kmap_wait_init(struct hm_kmap_wait *q);
void hm_kmap_wait_destroy(struct hm_kmap_wait *q);

/* Back to the state of hm_kmap_wait_init followed by hm_kmap_wait_check(q, check) with the
 * same check as now: no wake-up pending, the learned order and the thread table cleared, the
 * default report. Pre: nobody holds a lock, waits or sleeps. */
void hm_kmap_wait_reset(struct hm_kmap_wait *q);

/* Turn the checker on (non-zero) or off. On, every lock, unlock, sleep and wake_all is
 * checked and the calling thread's locks, wait and sleep are tracked (a few atomic operations
 * per call; a lock is timed only when it is contended). Off (the default of init), the hooks
 * are plain pthread calls and describe reports nothing. Clears the learned order.
 * Pre: nobody holds a lock, waits or sleeps, and no other thread uses q. */
void hm_kmap_wait_check(struct hm_kmap_wait *q, int on);

/* Where reports go (NULL: the default, print and abort). Pre: no other thread uses q. */
void hm_kmap_wait_on_error(struct hm_kmap_wait *q, hm_lock_error_fn fn, void *cookie);

/* Name the calling thread in reports and descriptions ("thread 3"); name must outlive the
 * thread's use of every hm_kmap_wait (a string literal, a static buffer). It applies to the
 * locks the thread takes from then on. NULL: unnamed ("an unnamed thread"). */
void hm_kmap_wait_thread_name(const char *name);

/* ---- The hooks ----------------------------------------------------------------------------- */

/* lock / unlock: ids >= HM_NR_LOCKS are ignored (return 0). Return 1 when the mutex was taken
 * / released, 0 when a checker report made the hook leave it alone (recursion, not held).
 * lock blocks while another thread holds the mutex (shown by describe as waited for); a report
 * is made before that, so an inversion is named even when it then deadlocks. */
int hm_kmap_wait_lock(struct hm_kmap_wait *q, unsigned id);
int hm_kmap_wait_unlock(struct hm_kmap_wait *q, unsigned id);

/* The sleep hook: entered with locks[HM_LOCK_KMAP] held (and no other); returns (holding it
 * again) after a wake_all, or a wake_colour of any colour, that began after the call (the one
 * queue serves every colour). Every wake takes the same mutex to bump the generation it waits
 * on, so no wake-up can slip in between the caller's "every slot is busy" check and the wait.
 * Checked: entered without kmap_lock or holding another lock is reported (and returns). */
void hm_kmap_wait_sleep(struct hm_kmap_wait *q);

/* The sleep_colour hook: as hm_kmap_wait_sleep, on colour's queue (colour %
 * HM_KW_COLOUR_QUEUES): returns after a wake_colour of colour (or of a colour sharing its
 * queue) or a wake_all that began after the call, and not on a wake_colour of another queue.
 * Checked as the sleep hook is. */
void hm_kmap_wait_sleep_colour(struct hm_kmap_wait *q, uint32_t colour);

/* The wake_all hook, called without locks (checked: it takes kmap_lock as lock() does): wakes
 * the one queue and every colour's. */
void hm_kmap_wait_wake_all(struct hm_kmap_wait *q);

/* The wake_colour hook, called without locks (checked as wake_all): wakes colour's queue and
 * the one queue (a plain sleep does not say which colour it waits for), no other colour's. */
void hm_kmap_wait_wake_colour(struct hm_kmap_wait *q, uint32_t colour);

/* ---- Diagnostics ----------------------------------------------------------------------------- */

/* The name of lock id: "kmap_lock", "pool_lock", "bucket[b]" ("lock <id>" out of range), into
 * buf (n bytes, NUL-terminated when n > 0). Returns buf. */
const char *hm_kmap_wait_lock_name(unsigned id, char *buf, size_t n);

/* What every tracked thread is doing right now, one line each, into buf (n bytes, always
 * NUL-terminated when n > 0, truncated if short): e.g.
 *   "thread 0: waiting for bucket[5] for 1503 ms (held by thread 1); holds pool_lock"
 *   "thread 2: sleeping on pkmap_map_wait for 30001 ms (kmap_lock released while asleep)"
 *   "the main thread: holds kmap_lock"
 * then one "deadlock: ..." line per cycle of threads waiting for each other's locks, starting
 * from the thread that blocked first. A sleep_colour of colour c > 0 reads "sleeping on
 * pkmap_map_wait[c]" (the kernel's pkmap_map_wait_arr[c]); colour 0's and the one queue's as
 * above. Safe from any thread at any time, even while others are
 * stuck: it takes no lock and reads atomics only (so a line may mix two moments of a thread
 * that is moving). Nothing when the checker is off or no thread holds, waits or sleeps.
 * Returns the length it would have written (as snprintf). */
size_t hm_kmap_wait_describe(const struct hm_kmap_wait *q, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* HM_MACHINE_KMAP_WAIT_H */
