/* kmap_wait.h - what every hosted machine (sim/, host/) needs behind the lock and sleep hooks:
 * HM_NR_LOCKS pthread mutexes and the pkmap_map_wait queue with no lost wake-up.
 * SPDX-License-Identifier: MIT */
#ifndef HM_MACHINE_KMAP_WAIT_H
#define HM_MACHINE_KMAP_WAIT_H

#include <pthread.h>
#include <stdint.h>

#include "highmem.h"

/* wake_gen is guarded by locks[HM_LOCK_KMAP]; wait is only waited on with that mutex. */
struct hm_kmap_wait {
    pthread_mutex_t locks[HM_NR_LOCKS];
    pthread_cond_t wait;
    uint64_t wake_gen;
};

/* Initialise / destroy (default attributes; nobody may hold a lock or sleep at destroy). */
void hm_kmap_wait_init(struct hm_kmap_wait *q);
void hm_kmap_wait_destroy(struct hm_kmap_wait *q);

/* The lock hooks: lock ids >= HM_NR_LOCKS are ignored (return 0); 1 when taken / released. */
int hm_kmap_wait_lock(struct hm_kmap_wait *q, unsigned id);
int hm_kmap_wait_unlock(struct hm_kmap_wait *q, unsigned id);

/* The sleep hook: entered with locks[HM_LOCK_KMAP] held; returns (holding it again) after a
 * wake_all that began after the call. wake_all takes the same mutex to bump wake_gen, so no
 * wake-up can slip in between the caller's "every slot is busy" check and the wait. */
void hm_kmap_wait_sleep(struct hm_kmap_wait *q);

/* The wake_all hook, called without locks. */
void hm_kmap_wait_wake_all(struct hm_kmap_wait *q);

#endif /* HM_MACHINE_KMAP_WAIT_H */
