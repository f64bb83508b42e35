/* kmap_wait.c - pthread locks and the pkmap_map_wait queue of the hosted machines (kmap_wait.h).
 * SPDX-License-Identifier: MIT */
#include "kmap_wait.h"

void hm_kmap_wait_init(struct hm_kmap_wait *q)
{
    /* default attributes cannot fail on the platforms we build for; a failure would surface as
     * a lock error later, never as undefined behaviour here */
    for (unsigned i = 0; i < HM_NR_LOCKS; i++)
        pthread_mutex_init(&q->locks[i], NULL);
    pthread_cond_init(&q->wait, NULL);
    q->wake_gen = 0;
}

void hm_kmap_wait_destroy(struct hm_kmap_wait *q)
{
    pthread_cond_destroy(&q->wait);
    for (unsigned i = 0; i < HM_NR_LOCKS; i++)
        pthread_mutex_destroy(&q->locks[i]);
}

int hm_kmap_wait_lock(struct hm_kmap_wait *q, unsigned id)
{
    if (id >= HM_NR_LOCKS)
        return 0;
    pthread_mutex_lock(&q->locks[id]);
    return 1;
}

int hm_kmap_wait_unlock(struct hm_kmap_wait *q, unsigned id)
{
    if (id >= HM_NR_LOCKS)
        return 0;
    pthread_mutex_unlock(&q->locks[id]);
    return 1;
}

void hm_kmap_wait_sleep(struct hm_kmap_wait *q)
{
    uint64_t gen = q->wake_gen;
    while (q->wake_gen == gen)
        pthread_cond_wait(&q->wait, &q->locks[HM_LOCK_KMAP]);
}

void hm_kmap_wait_wake_all(struct hm_kmap_wait *q)
{
    pthread_mutex_lock(&q->locks[HM_LOCK_KMAP]);
    q->wake_gen++;
    pthread_cond_broadcast(&q->wait);
    pthread_mutex_unlock(&q->locks[HM_LOCK_KMAP]);
}
