/* kmap_wait.c - pthread locks, the pkmap_map_wait queue (one, and one per colour) and the lock
 * checker of the hosted machines (kmap_wait.h): per-thread held/waiting tables, the learned
 * class order, the reports.
 * SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "kmap_wait.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---------------------------------------------------------------------------------------
 * Classes, names, the calling thread.
 * ------------------------------------------------------------------------------------- */
enum { KW_KMAP = 0, KW_POOL = 1, KW_BUCKET = 2 };

#define KW_DOCUMENTED 0xffffffffu /* order[][] value: the library's documented order */
#define KW_NONE HM_NR_LOCKS       /* "no lock" in a report */

static unsigned kw_class(unsigned id)
{
    return id < HM_LOCK_BUCKET0 ? id : KW_BUCKET;
}

static const char *const kw_class_names[] = {"kmap_lock", "pool_lock", "bucket locks"};

const char *hm_kmap_wait_lock_name(unsigned id, char *buf, size_t n)
{
    if (!buf || n == 0)
        return buf;
    if (id == HM_LOCK_KMAP)
        snprintf(buf, n, "kmap_lock");
    else if (id == HM_LOCK_POOL)
        snprintf(buf, n, "pool_lock");
    else if (id < HM_NR_LOCKS)
        snprintf(buf, n, "bucket[%u]", id - HM_LOCK_BUCKET0);
    else
        snprintf(buf, n, "lock %u", id);
    return buf;
}

/* The calling thread: its name, the slots it has claimed (in how many queues), the last queue
 * it used with its slot there and a copy of that slot's held list (the thread reads its own
 * state from here, plain loads; the slot is written for the describers), the locks it took
 * untracked (table full), the slot to claim first. The address of this object is the
 * thread's token in hm_kw_thread.owner. */
struct kw_self {
    const char *name;
    const struct hm_kmap_wait *q;      /* NULL, or a queue where the thread has slot `slot` */
    unsigned slot;
    unsigned nheld;                    /* = q->threads[slot].nheld */
    unsigned short held[HM_KW_MAX_HELD]; /* = q->threads[slot].held */
    unsigned nslots;
    unsigned untracked;
    const struct hm_kmap_wait *hint_q; /* where it had slot hint_slot last: claimed first */
    unsigned hint_slot;
};
static _Thread_local struct kw_self kw_me;

static uintptr_t kw_token(void)
{
    return (uintptr_t)&kw_me;
}

/* CLOCK_MONOTONIC in ms, mod 2^32: differences are right for waits under 49 days. */
static uint32_t kw_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint32_t)((uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u);
}

/* A wait or sleep of t begins now. */
static void kw_begin_wait(struct hm_kmap_wait *q, struct hm_kw_thread *t)
{
    atomic_store_explicit(&t->since_ms, kw_now_ms(), memory_order_relaxed);
    atomic_store_explicit(&t->ticket, atomic_fetch_add_explicit(&q->tickets, 1u, memory_order_relaxed),
                          memory_order_relaxed);
}

void hm_kmap_wait_thread_name(const char *name)
{
    kw_me.name = name;
    if (kw_me.nslots && kw_me.q) {
        struct hm_kmap_wait *q = (struct hm_kmap_wait *)kw_me.q;
        atomic_store_explicit(&q->threads[kw_me.slot].name, name, memory_order_relaxed);
    }
}

/* The caller's slot in q when the cache (kw_me.q, kw_me.slot), which always names the caller's
 * own slot in kw_me.q, points at it: the common case. NULL otherwise. (The owner test guards
 * against a queue reset, or freed and another allocated in its place, while the caller still
 * held one of its locks: then the cache is dropped.) */
static inline struct hm_kw_thread *kw_mine(struct hm_kmap_wait *q)
{
    if (kw_me.q != q)
        return NULL;
    struct hm_kw_thread *t = &q->threads[kw_me.slot];
    if (atomic_load_explicit(&t->owner, memory_order_relaxed) == kw_token())
        return t;
    kw_me.q = NULL;
    kw_me.nslots--;
    return NULL;
}

/* Make slot i of q the cached one: its held list copied into kw_me. */
static void kw_cache(struct hm_kmap_wait *q, unsigned i)
{
    const struct hm_kw_thread *t = &q->threads[i];
    kw_me.q = q;
    kw_me.slot = i;
    kw_me.nheld = atomic_load_explicit(&t->nheld, memory_order_relaxed);
    for (unsigned k = 0; k < HM_KW_MAX_HELD; k++)
        kw_me.held[k] = atomic_load_explicit(&t->held[k], memory_order_relaxed);
}

/* Claim slot i of q if it is free. A slot is freed with its thread's last lock (kw_release),
 * so a free slot's fields are as a claim wants them: nothing held, waited for or slept on. */
static inline struct hm_kw_thread *kw_claim(struct hm_kmap_wait *q, unsigned i)
{
    struct hm_kw_thread *t = &q->threads[i];
    uintptr_t free_ = 0;
    if (atomic_load_explicit(&t->owner, memory_order_relaxed) != 0 ||
        !atomic_compare_exchange_strong_explicit(&t->owner, &free_, kw_token(),
                                                 memory_order_acq_rel, memory_order_relaxed))
        return NULL;
    if (atomic_load_explicit(&t->name, memory_order_relaxed) != kw_me.name)
        atomic_store_explicit(&t->name, kw_me.name, memory_order_relaxed);
    unsigned hi = atomic_load_explicit(&q->hiwater, memory_order_relaxed);
    while (hi < i + 1 && !atomic_compare_exchange_weak_explicit(&q->hiwater, &hi, i + 1,
                                                                memory_order_release,
                                                                memory_order_relaxed))
        ;
    kw_me.q = kw_me.hint_q = q;
    kw_me.slot = kw_me.hint_slot = i;
    kw_me.nheld = 0;
    kw_me.nslots++;
    return t;
}

/* The caller's slot in q, the cache missing: found by a scan when the caller has slots in
 * several queues at once; else, with claim, a free one is claimed (NULL: the table is full). */
static __attribute__((noinline)) struct hm_kw_thread *kw_find(struct hm_kmap_wait *q, int claim)
{
    uintptr_t me = kw_token();
    struct hm_kw_thread *t = kw_mine(q);
    if (t)
        return t;
    if (kw_me.nslots) {
        /* (a thread holding locks of several queues at once: rare, and a scan) */
        unsigned hi = atomic_load_explicit(&q->hiwater, memory_order_acquire);
        for (unsigned i = 0; i < hi; i++)
            if (atomic_load_explicit(&q->threads[i].owner, memory_order_relaxed) == me) {
                kw_cache(q, i);
                return &q->threads[i];
            }
    }
    if (!claim)
        return NULL;
    for (unsigned i = 0; i < HM_KW_MAX_THREADS; i++)
        if ((t = kw_claim(q, i)))
            return t;
    return NULL;
}

/* The caller holds nothing in q any more, waits for nothing, sleeps not: free its slot. */
static inline void kw_release(struct hm_kmap_wait *q, struct hm_kw_thread *t)
{
    atomic_store_explicit(&t->owner, 0, memory_order_release);
    kw_me.nslots--;
    if (kw_me.q == q)
        kw_me.q = NULL;
}

/* Index of id among the caller's tracked held locks in its cached queue (searched from the
 * most recent), or -1. */
static int kw_held_index(unsigned id)
{
    unsigned n = kw_me.nheld < HM_KW_MAX_HELD ? kw_me.nheld : HM_KW_MAX_HELD;
    for (unsigned i = n; i-- > 0;)
        if (kw_me.held[i] == id)
            return (int)i;
    return -1;
}

/* The caller's held list, changed: into kw_me and its slot t (nheld published last). */
static inline void kw_set_held(struct hm_kw_thread *t, unsigned k, unsigned id)
{
    kw_me.held[k] = (unsigned short)id;
    atomic_store_explicit(&t->held[k], (unsigned short)id, memory_order_relaxed);
}

static inline void kw_set_nheld(struct hm_kw_thread *t, unsigned n)
{
    kw_me.nheld = n;
    atomic_store_explicit(&t->nheld, n, memory_order_release);
}

/* ---------------------------------------------------------------------------------------
 * Reports: every message is written here, out of the hooks' common paths.
 * ------------------------------------------------------------------------------------- */
/* Report an error of kind about lock id and the held lock other (KW_NONE: none), with the
 * earlier observation (earlier_id taken while holding earlier_other; KW_NONE both: the
 * documented order) of an inversion. extra: the depth (TOO_DEEP), or for a recursion the
 * wake hook called holding kmap_lock (1 wake_all, 2 wake_colour). */
static __attribute__((noinline, cold)) void kw_report(const struct hm_kmap_wait *q, int kind,
                                                      unsigned id, unsigned other,
                                                      unsigned earlier_id, unsigned earlier_other,
                                                      unsigned extra)
{
    char msg[320], a[24], b[24], ea[24], eb[24];
    struct hm_lock_error e;

    hm_kmap_wait_lock_name(id, a, sizeof a);
    hm_kmap_wait_lock_name(other, b, sizeof b);
    hm_kmap_wait_lock_name(earlier_id, ea, sizeof ea);
    hm_kmap_wait_lock_name(earlier_other, eb, sizeof eb);
    switch (kind) {
    case HM_LOCK_ERR_INVERSION:
        if (earlier_id == KW_NONE)
            snprintf(msg, sizeof msg, "lock order inversion: %s taken while holding %s; the "
                     "documented order takes %s inside %s", a, b, kw_class_names[kw_class(other)],
                     kw_class_names[kw_class(id)]);
        else
            snprintf(msg, sizeof msg, "lock order inversion: %s taken while holding %s; earlier "
                     "%s was taken while holding %s", a, b, ea, eb);
        break;
    case HM_LOCK_ERR_RECURSION:
        if (extra)
            snprintf(msg, sizeof msg, "recursive locking: %s called while holding %s (it "
                     "takes kmap_lock itself and is called without locks)",
                     extra == 2 ? "wake_colour" : "wake_all", a);
        else
            snprintf(msg, sizeof msg, "recursive locking: %s taken while this thread already "
                     "holds it", a);
        break;
    case HM_LOCK_ERR_SAME_CLASS:
        snprintf(msg, sizeof msg, "nested locks of one class: %s taken while holding %s (never "
                 "two bucket locks at once)", a, b);
        break;
    case HM_LOCK_ERR_NOT_HELD:
        snprintf(msg, sizeof msg, "unlock of a lock not held: %s released by a thread that does "
                 "not hold it", a);
        break;
    case HM_LOCK_ERR_SLEEP_UNLOCKED:
        snprintf(msg, sizeof msg, "sleep without kmap_lock: pkmap_map_wait entered by a thread "
                 "that does not hold kmap_lock");
        break;
    case HM_LOCK_ERR_SLEEP_HOLDING:
        snprintf(msg, sizeof msg, "sleep while holding %s: pkmap_map_wait must be entered "
                 "holding kmap_lock and nothing else", b);
        break;
    default: /* HM_LOCK_ERR_TOO_DEEP */
        snprintf(msg, sizeof msg, "too deep: %s taken while holding %u locks (only %u are "
                 "tracked)", a, extra, HM_KW_MAX_HELD);
        break;
    }
    e.kind = kind;
    e.id = id;
    e.other = other;
    e.earlier_id = earlier_id;
    e.earlier_other = earlier_other;
    e.thread = kw_me.name;
    e.msg = msg;
    if (q->on_error) {
        q->on_error(q->cookie, &e);
        return;
    }
    fprintf(stderr, "libhighmem lock checker: %s%s%s\n", kw_me.name ? kw_me.name : "",
            kw_me.name ? ": " : "", msg);
    fflush(stderr);
    abort();
}

/* The order of taking id while holding h (of another class): learned the first time (the
 * first witness is kept), an inversion when the reverse was seen or is the documented one. A
 * new order is published before the reverse is read, both sequentially consistent, so of two
 * threads learning opposite orders at once at least one sees the other's and reports it. */
static inline void kw_check_order(struct hm_kmap_wait *q, unsigned h, unsigned id)
{
    unsigned hc = kw_class(h), c = kw_class(id), rev;
    atomic_uint *fwd = &q->order[hc][c];

    if (atomic_load_explicit(fwd, memory_order_relaxed) == 0) {
        unsigned unseen = 0;
        atomic_compare_exchange_strong(fwd, &unseen, ((h << 16) | id) + 1u);
        rev = atomic_load(&q->order[c][hc]);
    } else {
        rev = atomic_load_explicit(&q->order[c][hc], memory_order_relaxed);
    }
    if (rev == KW_DOCUMENTED)
        kw_report(q, HM_LOCK_ERR_INVERSION, id, h, KW_NONE, KW_NONE, 0);
    else if (rev) /* packed (held << 16 | taken) + 1 by the thread that learned the reverse */
        kw_report(q, HM_LOCK_ERR_INVERSION, id, h, (rev - 1u) & 0xffffu, (rev - 1u) >> 16, 0);
}

/* ---------------------------------------------------------------------------------------
 * Set-up.
 * ------------------------------------------------------------------------------------- */
/* The learned order forgotten (the documented pairs known), the thread table emptied: its
 * first `used` slots (the rest are as init left them). */
static void kw_clear(struct hm_kmap_wait *q, unsigned used)
{
    for (unsigned i = 0; i < 3; i++)
        for (unsigned j = 0; j < 3; j++)
            atomic_init(&q->order[i][j], 0u);
    atomic_init(&q->order[KW_KMAP][KW_POOL], KW_DOCUMENTED);
    atomic_init(&q->order[KW_KMAP][KW_BUCKET], KW_DOCUMENTED);
    for (unsigned i = 0; i < used && i < HM_KW_MAX_THREADS; i++) {
        struct hm_kw_thread *t = &q->threads[i];
        atomic_init(&t->owner, 0);
        atomic_init(&t->name, NULL);
        atomic_init(&t->nheld, 0u);
        for (unsigned k = 0; k < HM_KW_MAX_HELD; k++)
            atomic_init(&t->held[k], 0);
        atomic_init(&t->waiting, 0u);
        atomic_init(&t->sleeping, 0);
        atomic_init(&t->since_ms, 0u);
        atomic_init(&t->ticket, 0u);
        atomic_init(&t->queue, 0u);
    }
    atomic_init(&q->hiwater, 0u);
    atomic_init(&q->tickets, 0u);
}

void hm_kmap_wait_init(struct hm_kmap_wait *q)
{
    /* default attributes cannot fail on the platforms we build for; a failure would surface as
     * a lock error later, never as undefined behaviour here */
    for (unsigned i = 0; i < HM_NR_LOCKS; i++)
        pthread_mutex_init(&q->locks[i], NULL);
    pthread_cond_init(&q->wait, NULL);
    q->wake_gen = 0;
    for (unsigned i = 0; i < HM_KW_COLOUR_QUEUES; i++) {
        pthread_cond_init(&q->colour_wait[i], NULL);
        q->colour_gen[i] = 0;
        q->colour_sleepers[i] = 0;
    }
    q->check = 0;
    q->on_error = NULL;
    q->cookie = NULL;
    kw_clear(q, HM_KW_MAX_THREADS);
}

void hm_kmap_wait_destroy(struct hm_kmap_wait *q)
{
    pthread_cond_destroy(&q->wait);
    for (unsigned i = 0; i < HM_KW_COLOUR_QUEUES; i++)
        pthread_cond_destroy(&q->colour_wait[i]);
    for (unsigned i = 0; i < HM_NR_LOCKS; i++)
        pthread_mutex_destroy(&q->locks[i]);
}

void hm_kmap_wait_reset(struct hm_kmap_wait *q)
{
    q->wake_gen = 0;
    for (unsigned i = 0; i < HM_KW_COLOUR_QUEUES; i++) {
        q->colour_gen[i] = 0;
        q->colour_sleepers[i] = 0;
    }
    q->on_error = NULL;
    q->cookie = NULL;
    kw_clear(q, atomic_load(&q->hiwater));
}

void hm_kmap_wait_check(struct hm_kmap_wait *q, int on)
{
    q->check = on != 0;
    kw_clear(q, atomic_load(&q->hiwater));
}

void hm_kmap_wait_on_error(struct hm_kmap_wait *q, hm_lock_error_fn fn, void *cookie)
{
    q->on_error = fn;
    q->cookie = cookie;
}

/* ---------------------------------------------------------------------------------------
 * The hooks, checked. The common paths (the cached slot, an uncontended mutex, locks
 * released last-in first-out) are a few loads and stores around the pthread call; the rest
 * is out of line.
 * ------------------------------------------------------------------------------------- */
/* Taking id while holding n >= 1 locks: recursion (returns 1: do not lock), two locks of a
 * class, the order against each held lock of another class, the depth. */
static __attribute__((noinline)) int kw_check_nested(struct hm_kmap_wait *q, unsigned id,
                                                      unsigned n)
{
    unsigned m = n < HM_KW_MAX_HELD ? n : HM_KW_MAX_HELD;

    if (kw_held_index(id) >= 0) {
        kw_report(q, HM_LOCK_ERR_RECURSION, id, id, KW_NONE, KW_NONE, 0);
        return 1;
    }
    for (unsigned i = 0; i < m; i++) {
        unsigned h = kw_me.held[i];
        if (kw_class(h) == kw_class(id))
            kw_report(q, HM_LOCK_ERR_SAME_CLASS, id, h, KW_NONE, KW_NONE, 0);
        else
            kw_check_order(q, h, id);
    }
    if (n >= HM_KW_MAX_HELD)
        kw_report(q, HM_LOCK_ERR_TOO_DEEP, id, KW_NONE, KW_NONE, KW_NONE, n);
    return 0;
}

/* The mutex is taken: wait for it, timed and shown as waited for (describe). */
static __attribute__((noinline)) void kw_wait_lock(struct hm_kmap_wait *q, struct hm_kw_thread *t,
                                                   unsigned id)
{
    kw_begin_wait(q, t);
    atomic_store_explicit(&t->waiting, id + 1u, memory_order_release);
    pthread_mutex_lock(&q->locks[id]);
    atomic_store_explicit(&t->waiting, 0u, memory_order_relaxed);
}

/* lock(id): the caller's slot (claimed with its first lock), the nesting checks, the mutex,
 * then id joins the held list. 0 when a recursion report returned (nothing taken). */
static int kw_lock(struct hm_kmap_wait *q, unsigned id)
{
    struct hm_kw_thread *t = kw_mine(q);

    if (!t && !(kw_me.nslots == 0 && kw_me.hint_q == q && (t = kw_claim(q, kw_me.hint_slot))) &&
        !(t = kw_find(q, 1))) {
        kw_me.untracked++; /* the table is full: unchecked */
        pthread_mutex_lock(&q->locks[id]);
        return 1;
    }
    unsigned n = kw_me.nheld;
    /* Only kmap_lock held, a pool or bucket lock taken: the documented order, the library's
     * every nesting, needs no check (the order is known from the start, so a thread that ever
     * took it the other way round was reported then). */
    if (n && !(n == 1 && kw_me.held[0] == HM_LOCK_KMAP && id != HM_LOCK_KMAP) &&
        kw_check_nested(q, id, n))
        return 0;
    if (pthread_mutex_trylock(&q->locks[id]) != 0)
        kw_wait_lock(q, t, id);
    if (n < HM_KW_MAX_HELD)
        kw_set_held(t, n, id);
    kw_set_nheld(t, n + 1u);
    return 1;
}

/* unlock(id) of a lock that is not the last one taken, or of one untracked, or not held. */
static __attribute__((noinline)) int kw_unlock_slow(struct hm_kmap_wait *q, struct hm_kw_thread *t,
                                                    unsigned id)
{
    if (t) {
        unsigned n = kw_me.nheld;
        unsigned m = n < HM_KW_MAX_HELD ? n : HM_KW_MAX_HELD;
        int i = kw_held_index(id);
        if (i >= 0 || n > HM_KW_MAX_HELD) {
            if (i >= 0)
                for (unsigned k = (unsigned)i; k + 1u < m; k++)
                    kw_set_held(t, k, kw_me.held[k + 1u]);
            /* (a lock past HM_KW_MAX_HELD was never listed: only the count goes down) */
            kw_set_nheld(t, n - 1u);
            pthread_mutex_unlock(&q->locks[id]);
            if (n == 1u)
                kw_release(q, t);
            return 1;
        }
    }
    if (kw_me.untracked) {
        kw_me.untracked--;
        pthread_mutex_unlock(&q->locks[id]);
        return 1;
    }
    kw_report(q, HM_LOCK_ERR_NOT_HELD, id, KW_NONE, KW_NONE, KW_NONE, 0);
    return 0;
}

/* unlock(id): id leaves the held list (the slot is freed with the last lock). 0 when a
 * not-held report returned (nothing released). */
static int kw_unlock(struct hm_kmap_wait *q, unsigned id)
{
    struct hm_kw_thread *t = kw_mine(q);
    if (!t)
        return kw_unlock_slow(q, kw_find(q, 0), id);
    unsigned n = kw_me.nheld;
    if (n == 0 || n > HM_KW_MAX_HELD || kw_me.held[n - 1u] != id)
        return kw_unlock_slow(q, t, id);
    kw_set_nheld(t, n - 1u);
    pthread_mutex_unlock(&q->locks[id]);
    if (n == 1u)
        kw_release(q, t);
    return 1;
}

int hm_kmap_wait_lock(struct hm_kmap_wait *q, unsigned id)
{
    if (id >= HM_NR_LOCKS)
        return 0;
    if (q->check)
        return kw_lock(q, id);
    pthread_mutex_lock(&q->locks[id]);
    return 1;
}

int hm_kmap_wait_unlock(struct hm_kmap_wait *q, unsigned id)
{
    if (id >= HM_NR_LOCKS)
        return 0;
    if (q->check)
        return kw_unlock(q, id);
    pthread_mutex_unlock(&q->locks[id]);
    return 1;
}

/* A sleep on cond until *gen moves (the caller holds locks[HM_LOCK_KMAP], which the wait
 * releases and re-takes), counted in *sleepers while it lasts (NULL: the one queue, whose wakes
 * are never skipped). queue is what describe shows (hm_kw_thread.queue). The generation is read
 * under the mutex the waker must take to move it: no wake-up that begins after the caller
 * released the lock is missed. Checked: a sleep without kmap_lock, or holding another lock, is
 * reported and returns at once. */
static void kw_sleep(struct hm_kmap_wait *q, pthread_cond_t *cond, const uint64_t *gen,
                     uint32_t *sleepers, unsigned queue)
{
    struct hm_kw_thread *t = NULL;

    if (q->check && !kw_me.untracked) {
        t = kw_find(q, 0);
        if (!t || kw_held_index(HM_LOCK_KMAP) < 0) {
            kw_report(q, HM_LOCK_ERR_SLEEP_UNLOCKED, KW_NONE, KW_NONE, KW_NONE, KW_NONE, 0);
            return;
        }
        unsigned m = kw_me.nheld < HM_KW_MAX_HELD ? kw_me.nheld : HM_KW_MAX_HELD;
        for (unsigned i = 0; i < m; i++) {
            unsigned h = kw_me.held[i];
            if (h != HM_LOCK_KMAP) {
                kw_report(q, HM_LOCK_ERR_SLEEP_HOLDING, KW_NONE, h, KW_NONE, KW_NONE, 0);
                return;
            }
        }
        kw_begin_wait(q, t);
        atomic_store_explicit(&t->queue, queue, memory_order_relaxed);
        atomic_store_explicit(&t->sleeping, 1, memory_order_release);
    }
    uint64_t g = *gen;
    if (sleepers)
        ++*sleepers;
    while (*gen == g)
        pthread_cond_wait(cond, &q->locks[HM_LOCK_KMAP]);
    if (sleepers)
        --*sleepers;
    if (t)
        atomic_store_explicit(&t->sleeping, 0, memory_order_release);
}

void hm_kmap_wait_sleep(struct hm_kmap_wait *q)
{
    kw_sleep(q, &q->wait, &q->wake_gen, NULL, 0u);
}

void hm_kmap_wait_sleep_colour(struct hm_kmap_wait *q, uint32_t colour)
{
    unsigned k = colour % HM_KW_COLOUR_QUEUES;
    kw_sleep(q, &q->colour_wait[k], &q->colour_gen[k], &q->colour_sleepers[k], colour + 1u);
}

/* Colour queue k's sleepers woken (none asleep: nothing to move). Under locks[HM_LOCK_KMAP]. */
static void kw_wake_queue(struct hm_kmap_wait *q, unsigned k)
{
    if (q->colour_sleepers[k] == 0)
        return;
    q->colour_gen[k]++;
    pthread_cond_broadcast(&q->colour_wait[k]);
}

/* Under locks[HM_LOCK_KMAP]: the one queue, and colour queue k (HM_KW_COLOUR_QUEUES: all). */
static void kw_wake_locked(struct hm_kmap_wait *q, unsigned k)
{
    q->wake_gen++;
    pthread_cond_broadcast(&q->wait);
    if (k < HM_KW_COLOUR_QUEUES) {
        kw_wake_queue(q, k);
        return;
    }
    for (unsigned i = 0; i < HM_KW_COLOUR_QUEUES; i++)
        kw_wake_queue(q, i);
}

/* A wake hook (hook: 1 wake_all, 2 wake_colour, as the recursion report names it): takes
 * kmap_lock, moves the generations, releases it. Checked: called holding kmap_lock is
 * reported, and the wake-up is then still delivered under the caller's own hold. */
static void kw_wake(struct hm_kmap_wait *q, unsigned k, unsigned hook)
{
    if (!q->check) {
        pthread_mutex_lock(&q->locks[HM_LOCK_KMAP]);
        kw_wake_locked(q, k);
        pthread_mutex_unlock(&q->locks[HM_LOCK_KMAP]);
        return;
    }
    struct hm_kw_thread *t = kw_find(q, 0);
    if (t && kw_held_index(HM_LOCK_KMAP) >= 0) {
        kw_report(q, HM_LOCK_ERR_RECURSION, HM_LOCK_KMAP, HM_LOCK_KMAP, KW_NONE, KW_NONE, hook);
        kw_wake_locked(q, k); /* the caller holds the mutex: the wake-up is still delivered */
        return;
    }
    if (!kw_lock(q, HM_LOCK_KMAP))
        return;
    kw_wake_locked(q, k);
    kw_unlock(q, HM_LOCK_KMAP);
}

void hm_kmap_wait_wake_all(struct hm_kmap_wait *q)
{
    kw_wake(q, HM_KW_COLOUR_QUEUES, 1u);
}

void hm_kmap_wait_wake_colour(struct hm_kmap_wait *q, uint32_t colour)
{
    kw_wake(q, colour % HM_KW_COLOUR_QUEUES, 2u);
}

/* ---------------------------------------------------------------------------------------
 * Describing the tracked threads.
 * ------------------------------------------------------------------------------------- */
struct kw_out {
    char *buf;
    size_t n, len;
};

static void kw_put(struct kw_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void kw_put(struct kw_out *o, const char *fmt, ...)
{
    va_list ap;
    size_t room = o->len < o->n ? o->n - o->len : 0;
    va_start(ap, fmt);
    int k = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->len += (size_t)k;
}

/* A copy of one slot, read once, so every line is built from one set of values. */
struct kw_view {
    int used;
    const char *name;
    unsigned nheld, held[HM_KW_MAX_HELD];
    unsigned waiting; /* id + 1 */
    int sleeping;
    unsigned queue;   /* hm_kw_thread.queue */
    uint32_t since_ms, ticket;
    int holder;       /* the slot holding the lock waited for, or -1 */
};

static void kw_put_name(struct kw_out *o, const struct kw_view *v, unsigned slot)
{
    if (v->name)
        kw_put(o, "%s", v->name);
    else
        kw_put(o, "an unnamed thread (slot %u)", slot);
}

static int kw_view_holds(const struct kw_view *v, unsigned id)
{
    unsigned m = v->nheld < HM_KW_MAX_HELD ? v->nheld : HM_KW_MAX_HELD;
    for (unsigned k = 0; k < m; k++)
        if (v->held[k] == id && !(id == HM_LOCK_KMAP && v->sleeping))
            return 1;
    return 0;
}

size_t hm_kmap_wait_describe(const struct hm_kmap_wait *q, char *buf, size_t n)
{
    struct kw_out o = {buf, n, 0};
    struct kw_view v[HM_KW_MAX_THREADS];
    char a[24];
    uint32_t now = kw_now_ms();

    if (buf && n)
        buf[0] = '\0';
    if (!q || !q->check)
        return 0;
    unsigned hi = atomic_load_explicit(&q->hiwater, memory_order_acquire);
    if (hi > HM_KW_MAX_THREADS)
        hi = HM_KW_MAX_THREADS;
    for (unsigned i = 0; i < hi; i++) {
        const struct hm_kw_thread *t = &q->threads[i];
        v[i].used = atomic_load_explicit(&t->owner, memory_order_acquire) != 0;
        if (!v[i].used)
            continue;
        v[i].name = atomic_load_explicit(&t->name, memory_order_relaxed);
        v[i].nheld = atomic_load_explicit(&t->nheld, memory_order_acquire);
        for (unsigned k = 0; k < HM_KW_MAX_HELD; k++)
            v[i].held[k] = atomic_load_explicit(&t->held[k], memory_order_relaxed);
        v[i].waiting = atomic_load_explicit(&t->waiting, memory_order_acquire);
        v[i].sleeping = atomic_load_explicit(&t->sleeping, memory_order_acquire);
        v[i].queue = atomic_load_explicit(&t->queue, memory_order_relaxed);
        v[i].since_ms = atomic_load_explicit(&t->since_ms, memory_order_relaxed);
        v[i].ticket = atomic_load_explicit(&t->ticket, memory_order_relaxed);
        v[i].holder = -1;
    }
    for (unsigned i = 0; i < hi; i++)
        if (v[i].used && v[i].waiting)
            for (unsigned j = 0; j < hi; j++)
                if (j != i && v[j].used && kw_view_holds(&v[j], v[i].waiting - 1u)) {
                    v[i].holder = (int)j;
                    break;
                }

    for (unsigned i = 0; i < hi; i++) {
        const struct kw_view *w = &v[i];
        unsigned m = w->nheld < HM_KW_MAX_HELD ? w->nheld : HM_KW_MAX_HELD;
        int listed = 0;
        if (!w->used || (w->nheld == 0 && !w->waiting && !w->sleeping))
            continue;
        kw_put_name(&o, w, i);
        kw_put(&o, ":");
        if (w->waiting) {
            kw_put(&o, " waiting for %s for %lu ms",
                   hm_kmap_wait_lock_name(w->waiting - 1u, a, sizeof a),
                   (unsigned long)(uint32_t)(now - w->since_ms));
            if (w->holder >= 0) {
                kw_put(&o, " (held by ");
                kw_put_name(&o, &v[w->holder], (unsigned)w->holder);
                kw_put(&o, ")");
            } else {
                kw_put(&o, " (held by no tracked thread)");
            }
        } else if (w->sleeping) {
            kw_put(&o, " sleeping on pkmap_map_wait");
            if (w->queue > 1u) /* colour queue queue - 1 > 0 */
                kw_put(&o, "[%u]", w->queue - 1u);
            kw_put(&o, " for %lu ms (kmap_lock released while asleep)",
                   (unsigned long)(uint32_t)(now - w->since_ms));
        }
        for (unsigned k = 0; k < m; k++) {
            if (w->sleeping && w->held[k] == HM_LOCK_KMAP)
                continue;
            kw_put(&o, "%s%s", listed ? ", " : (w->waiting || w->sleeping) ? "; holds " : " holds ",
                   hm_kmap_wait_lock_name(w->held[k], a, sizeof a));
            listed = 1;
        }
        if (w->nheld > HM_KW_MAX_HELD)
            kw_put(&o, " and %u more", w->nheld - HM_KW_MAX_HELD);
        kw_put(&o, "\n");
    }

    /* Cycles of threads waiting for each other: each printed once, from the thread that
     * blocked first (the lowest slot among equals). */
    for (unsigned i = 0; i < hi; i++) {
        unsigned j = i, steps = 0, first = i;
        if (!v[i].used || v[i].holder < 0)
            continue;
        do {
            j = (unsigned)v[j].holder;
            if ((int32_t)(v[j].ticket - v[first].ticket) < 0)
                first = j;
        } while (v[j].holder >= 0 && j != i && ++steps < hi);
        if (j != i || first != i)
            continue;
        kw_put(&o, "deadlock: ");
        kw_put_name(&o, &v[i], i);
        j = i;
        do {
            kw_put(&o, " waits for %s held by ", hm_kmap_wait_lock_name(v[j].waiting - 1u, a, sizeof a));
            j = (unsigned)v[j].holder;
            kw_put_name(&o, &v[j], j);
            kw_put(&o, j == i ? "\n" : ", which");
        } while (j != i);
    }
    if (buf && n && o.len >= n)
        buf[n - 1] = '\0';
    return o.len;
}
