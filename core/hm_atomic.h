/* hm_atomic.h - the core's atomic accesses, on the compiler's __atomic builtins (no
 * <stdatomic.h>, no libatomic): counters bumped outside every lock, and the fast locking mode's
 * slot words and lock-free page_address reads. SPDX-License-Identifier: MIT */
#ifndef HM_ATOMIC_H
#define HM_ATOMIC_H

/* HM_ATOMICS: 32-bit values are accessed with lock-free atomics (relaxed unless named). Without
 * them (an embedder's -DHM_NO_ATOMICS, or a target whose 32-bit atomics are not lock-free, such
 * as Cortex-M0) they are plain accesses: the context is then used by one thread at a time, or
 * under the embedder's own lock.
 * HM_FAST_KMAP: lock-free 64-bit compare-and-swap as well, what HM_LOCKING_FAST needs; without
 * it (ppc32, for one) every context runs HM_LOCKING_KERNEL and the 64-bit counters, updated
 * under kmap_lock, are plain. */
#if !defined(HM_NO_ATOMICS) && defined(__GCC_ATOMIC_INT_LOCK_FREE) && __GCC_ATOMIC_INT_LOCK_FREE == 2
#define HM_ATOMICS 1
#else
#define HM_ATOMICS 0
#endif
#if HM_ATOMICS && defined(__GCC_ATOMIC_LLONG_LOCK_FREE) && __GCC_ATOMIC_LLONG_LOCK_FREE == 2
#define HM_FAST_KMAP 1
#else
#define HM_FAST_KMAP 0
#endif

#if HM_ATOMICS
#define HM_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define HM_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define HM_STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define HM_ADD(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))
#define HM_RMW_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST) /* returns the old value */
#define HM_LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define HM_LOAD_SEQ(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define HM_FENCE_ACQUIRE() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define HM_FENCE_RELEASE() __atomic_thread_fence(__ATOMIC_RELEASE)
#else
#define HM_LOAD(p) (*(p))
#define HM_STORE(p, v) ((void)(*(p) = (v)))
#define HM_STORE_RELEASE(p, v) ((void)(*(p) = (v)))
#define HM_ADD(p, v) ((void)(*(p) += (v)))
#define HM_RMW_ADD(p, v) ((*(p) += (v)) - (v))
#define HM_LOAD_ACQUIRE(p) (*(p))
#define HM_LOAD_SEQ(p) (*(p))
#define HM_FENCE_ACQUIRE() ((void)0)
#define HM_FENCE_RELEASE() ((void)0)
#endif

/* The same for 64-bit values: the slot words and every uint64_t counter. */
#if HM_FAST_KMAP
#define HM_LOAD64(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define HM_LOAD64_SEQ(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define HM_STORE64_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define HM_ADD64(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))
/* Compare-and-swap: *p from *expected to desired; on failure *expected is what *p held.
 * Sequentially consistent on success: it pairs with the release that published the word
 * (map_new_virtual), and takes part in the no-lost-wake-up order (fast.h). */
#define HM_CAS64(p, expected, desired)                                                          \
    __atomic_compare_exchange_n((p), (expected), (desired), 0, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE)
#else
#define HM_LOAD64(p) (*(p))
#define HM_LOAD64_SEQ(p) (*(p))
#define HM_STORE64_RELEASE(p, v) ((void)(*(p) = (v)))
#define HM_ADD64(p, v) ((void)(*(p) += (v)))
#define HM_CAS64(p, expected, desired) hm_cas64_plain((p), (expected), (desired))
static inline int hm_cas64_plain(uint64_t *p, uint64_t *expected, uint64_t desired)
{
    if (*p != *expected) {
        *expected = *p;
        return 0;
    }
    *p = desired;
    return 1;
}
#endif

#endif /* HM_ATOMIC_H */
