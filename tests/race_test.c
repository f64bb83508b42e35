/* race_test.c - the races the fast locking mode must survive, forced deterministically from the
 * machine's hooks (not left to timing): a kmap hit (or a kmap_high_get pin) racing the flush
 * that recycles its slot, and a kunmap racing a task about to sleep. Both modes; plain C, TSan-safe. SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness/machine.h"
#include "highmem.h"
#include "sim/sim.h"
#include "testenv.h"
#include "threadlib.h"

#define SLOTS 4u

/* The actor: a second thread that runs one library call when a hook of the main thread asks for
 * it. The hook then waits until the call has returned, or until the actor is blocked on
 * kmap_lock (the lock hook tells), whichever comes first. */
enum { ACT_NONE, ACT_KMAP, ACT_KUNMAP, ACT_KMAP_HIGH_GET, ACT_STORE_KUNMAP };
static struct {
    struct harness_machine hm;
    struct hm_machine inner; /* the sim's hooks */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int op;                  /* ACT_*: what to run next (guarded by mu) */
    hm_pfn_t pfn;
    int requested, returned, quit; /* guarded by mu */
    atomic_int in_kmap_lock;       /* the actor is entering kmap_lock's lock hook */
    int rc;
    hm_vaddr_t va;
    /* the trigger: on the clear of trigger_clear (or the first event of kind trigger_event,
     * when not 0, or the return of the first flush_cache_all when trigger_cache_flush), ask the
     * actor to run op(pfn) once */
    hm_vaddr_t trigger_clear;
    int trigger_event, trigger_cache_flush, fired, op_next;
    hm_pfn_t pfn_next;
    int blocked_seen, returned_seen;
    hm_vaddr_t store_va; /* ACT_STORE_KUNMAP: store store_byte there on CPU 0, then kunmap */
    uint8_t store_byte;
} R;
static _Thread_local int is_actor;

/* Until the actor's call returned, or (blocked_ok) it waits for kmap_lock. */
static void wait_actor(int blocked_ok)
{
    int64_t end = tt_now_ns() + (int64_t)TT_DEADLINE_S * 1000000000;
    for (;;) {
        pthread_mutex_lock(&R.mu);
        int done = R.returned;
        pthread_mutex_unlock(&R.mu);
        if (done) {
            R.returned_seen = 1;
            return;
        }
        if (blocked_ok && atomic_load(&R.in_kmap_lock)) {
            R.blocked_seen = 1;
            return;
        }
        if (tt_now_ns() > end)
            tt_stuck("the actor neither returned nor blocked on kmap_lock");
        tt_sleep_ns(100000);
    }
}

static void fire(void)
{
    if (R.fired)
        return;
    R.fired = 1;
    pthread_mutex_lock(&R.mu);
    R.op = R.op_next;
    R.pfn = R.pfn_next;
    R.requested = 1;
    pthread_cond_broadcast(&R.cv);
    pthread_mutex_unlock(&R.mu);
    wait_actor(1);
}

static void *actor(void *arg)
{
    (void)arg;
    is_actor = 1;
    pthread_mutex_lock(&R.mu);
    while (!R.requested && !R.quit)
        pthread_cond_wait(&R.cv, &R.mu);
    int op = R.op;
    hm_pfn_t pfn = R.pfn;
    pthread_mutex_unlock(&R.mu);
    if (op == ACT_KMAP)
        R.rc = hm_kmap(R.hm.ctx, pfn, &R.va);
    else if (op == ACT_KUNMAP)
        R.rc = hm_kunmap(R.hm.ctx, pfn);
    else if (op == ACT_KMAP_HIGH_GET)
        R.rc = hm_kmap_high_get(R.hm.ctx, pfn, &R.va);
    else if (op == ACT_STORE_KUNMAP)
        R.rc = hm_sim_store(R.hm.sim, 0, R.store_va, R.store_byte) != HM_OK ? HM_EFAULT
                                                                           : hm_kunmap(R.hm.ctx, pfn);
    pthread_mutex_lock(&R.mu);
    R.returned = 1;
    pthread_mutex_unlock(&R.mu);
    return NULL;
}

static int w_set_pte(void *m, hm_vaddr_t va, hm_pte_t pte)
{
    int rc = R.inner.set_pte(m, va, pte);
    if (pte == 0 && va == R.trigger_clear && !is_actor)
        fire(); /* after the clear: the flush has claimed this slot and cleared its PTE */
    return rc;
}
/* An event of the main thread (emitted under kmap_lock where the call holds it): the start of
 * flush_all_zero_pkmaps (before its claims), its cache flush, its end (flush_done, which every
 * generation emits, while from 2.6.30 a run that freed nothing flushes no TLB), a sleep. */
static void on_event(void *cookie, const struct hm_event *ev)
{
    (void)cookie;
    if (R.trigger_event && ev->kind == R.trigger_event && !is_actor)
        fire();
}
static void w_flush_cache_all(void *m)
{
    R.inner.flush_cache_all(m);
    if (R.trigger_cache_flush && !is_actor)
        fire(); /* after the caches were written back: a store now leaves a dirty line */
}
static void w_lock(void *m, unsigned id)
{
    if (id == HM_LOCK_KMAP && is_actor)
        atomic_store(&R.in_kmap_lock, 1);
    R.inner.lock(m, id);
    if (id == HM_LOCK_KMAP && is_actor)
        atomic_store(&R.in_kmap_lock, 0);
}

static void adapt(void *cookie, struct hm_machine *hw)
{
    (void)cookie;
    R.inner = *hw;
    hw->set_pte = w_set_pte;
    hw->lock = w_lock;
    hw->flush_cache_all = w_flush_cache_all;
}

static pthread_t actor_tid;

/* The machine of the cases: x86 or coloured xtensa in the run's generation (HM_TEST_KERNEL), or arm
 * with kmap_high_get. */
static int open_machine_of(int locking, const char *arch, int kernel)
{
    struct hm_config cfg = {0};
    struct harness_hooks hooks = {0};
    char err[160];

    memset(&R, 0, sizeof R);
    pthread_mutex_init(&R.mu, NULL);
    pthread_cond_init(&R.cv, NULL);
    cfg.arch = hm_arch_find(arch);
    cfg.last_pkmap = SLOTS;
    cfg.locking = locking;
    cfg.kernel = kernel;
    hooks.adapt = adapt;
    hooks.on_event = on_event;
    if (harness_machine_open(&R.hm, &cfg, &hooks, err, sizeof err) != 0) {
        CHECK(0, "harness_machine_open: %s", err);
        return -1;
    }
    CHECK(hm_ctx_locking(R.hm.ctx) == locking, "the context runs locking %d, want %d", hm_ctx_locking(R.hm.ctx),
          locking);
    return pthread_create(&actor_tid, NULL, actor, NULL) == 0 ? 0 : -1;
}
static int open_machine(int locking)
{
    return open_machine_of(locking, "x86", test_env_kernel());
}
/* arm in the run's generation, or in 2.6.30 when the run's has no kmap_high_get yet */
static int open_arm_with_high_get(int locking)
{
    int kernel = test_env_kernel();
    return open_machine_of(locking, "arm", kernel < HM_KERNEL_2_6_30 ? HM_KERNEL_2_6_30 : kernel);
}

static void close_machine(void)
{
    pthread_mutex_lock(&R.mu);
    R.quit = 1;
    pthread_cond_broadcast(&R.cv);
    pthread_mutex_unlock(&R.mu);
    pthread_join(actor_tid, NULL);
    harness_machine_close(&R.hm);
    pthread_cond_destroy(&R.cv);
    pthread_mutex_destroy(&R.mu);
}

static hm_pfn_t page(uint32_t k)
{
    return R.hm.layout.highmem_start_pfn + k;
}
static hm_vaddr_t slot_addr(uint32_t nr)
{
    return R.hm.layout.pkmap_base + ((hm_vaddr_t)nr << R.hm.layout.page_shift);
}

/* A kmap of pfn on the main thread that must succeed. */
static hm_vaddr_t kmap_ok(hm_pfn_t pfn)
{
    hm_vaddr_t va = 0;
    int rc = hm_kmap(R.hm.ctx, pfn, &va);
    CHECK(rc == HM_OK, "kmap 0x%x: %s", pfn, hm_strerror(rc));
    return va;
}
static void kunmap_ok(hm_pfn_t pfn)
{
    int rc = hm_kunmap(R.hm.ctx, pfn);
    CHECK(rc == HM_OK, "kunmap 0x%x: %s", pfn, hm_strerror(rc));
}

/* va maps pfn: the page's first byte, written physically, reads back through the MMU. */
static void check_maps(hm_vaddr_t va, hm_pfn_t pfn, uint8_t sig)
{
    uint8_t got = 0;
    int rc;
    hm_sim_phys_write(R.hm.sim, pfn, 0, sig);
    rc = hm_sim_load(R.hm.sim, 0, va, &got);
    CHECK(rc == HM_OK && got == sig, "0x%08" PRIx64 " should map pfn 0x%x: load %s, 0x%02x want 0x%02x", va, pfn,
          hm_strerror(rc), got, sig);
}

/* hm_kmap_flush_unused on the main thread; from the clear of slot's PTE (after the flush has
 * claimed every count-1 slot) the actor runs op(p). */
static void flush_with_actor(uint32_t slot, int op, hm_pfn_t p)
{
    R.trigger_clear = slot_addr(slot);
    R.op_next = op;
    R.pfn_next = p;
    CHECK(hm_kmap_flush_unused(R.hm.ctx) == HM_OK, "flush");
    CHECK(R.fired, "the flush cleared slot %u's PTE", slot);
}
/* The same, the actor running op(p) from the flush's first event of kind `event`. */
static void flush_with_actor_at(int event, int op, hm_pfn_t p)
{
    R.trigger_event = event;
    R.op_next = op;
    R.pfn_next = p;
    CHECK(hm_kmap_flush_unused(R.hm.ctx) == HM_OK, "flush");
    CHECK(R.fired, "the flush emitted %s", hm_event_name(event));
}

static void check_invariants(const char *when)
{
    char msg[160];
    int inv = hm_check_invariants(R.hm.ctx, msg, sizeof msg);
    CHECK(inv == 0, "%s: invariants: %s", when, msg);
}

/* Fast mode, after the actor's hit or pin (what) of page P in slot 2 raced a flush before its
 * claims: the raise returned without kmap_lock, kept slot 2 (count 2), and the flush freed only
 * slot 1. */
static void check_fast_raise_kept_slot2(const char *what, const struct hm_stats *st)
{
    CHECK(R.returned_seen && !R.blocked_seen, "the fast %s returned without waiting for kmap_lock", what);
    CHECK(R.va == slot_addr(2), "the %s kept slot 2 (got 0x%08" PRIx64 ")", what, R.va);
    CHECK(st->slots_freed == 1, "the flush freed only slot 1 (freed %" PRIu64 ")", st->slots_freed);
    CHECK(hm_pkmap_count(R.hm.ctx, 2) == 2, "slot 2 count %d, want 2", hm_pkmap_count(R.hm.ctx, 2));
}

/* A kmap hit on page P (slot 2, count 1) while hm_kmap_flush_unused tears the window down. The
 * actor is asked from the flush's first event, before it claims the count-1 slots: in the fast
 * mode it raises slot 2's count first, so the flush must leave slot 2 mapped (a flush that took
 * the count blindly would clear the PTE under the actor's mapping). With kmap_lock around every
 * kmap, the actor waits for the flush and maps P anew. */
static void hit_before_the_flush_claims(const void *arg)
{
    int locking = (int)(intptr_t)arg;
    struct hm_stats st;
    if (open_machine(locking) != 0)
        return;
    hm_pfn_t q = page(1), p = page(2);
    kmap_ok(q); /* slot 1 */
    kmap_ok(p); /* slot 2 */
    kunmap_ok(q);
    kunmap_ok(p);
    flush_with_actor_at(HM_EV_FLUSH_ALL_ZERO_PKMAPS, ACT_KMAP, p);
    wait_actor(0);
    CHECK(R.rc == HM_OK, "actor kmap: %s", hm_strerror(R.rc));
    hm_get_stats(R.hm.ctx, &st);
    if (locking == HM_LOCKING_FAST) {
        check_fast_raise_kept_slot2("hit", &st);
    } else {
        CHECK(R.blocked_seen, "the kernel-mode kmap waited for kmap_lock");
        CHECK(st.slots_freed == 2, "the flush freed slots 1 and 2 (freed %" PRIu64 ")", st.slots_freed);
    }
    check_maps(R.va, p, 0x5a);
    check_invariants("after the flush");
    kunmap_ok(p);
    check_invariants("at the end");
    close_machine();
}

/* A kmap hit on page P whose slot the flush has already claimed (count 0, PTE cleared, P still
 * hashed): the actor is asked from the clear of P's own slot. The hit must not raise a count of
 * 0 (it would return an address whose PTE is gone): it takes the locked path, waits for the
 * flush, and maps P anew, in both modes. */
static void hit_after_the_flush_claims(const void *arg)
{
    int locking = (int)(intptr_t)arg;
    if (open_machine(locking) != 0)
        return;
    hm_pfn_t p = page(2);
    kmap_ok(p); /* slot 1 */
    kunmap_ok(p);
    flush_with_actor(1, ACT_KMAP, p);
    CHECK(R.blocked_seen && !R.returned_seen, "the kmap of a claimed slot waited for kmap_lock");
    wait_actor(0);
    CHECK(R.rc == HM_OK, "actor kmap: %s", hm_strerror(R.rc));
    CHECK(R.va == slot_addr(2), "P mapped anew at the next free slot, 2 (got 0x%08" PRIx64 ")", R.va);
    CHECK(hm_pkmap_count(R.hm.ctx, 1) == 0, "slot 1 stays free (count %d)", hm_pkmap_count(R.hm.ctx, 1));
    check_maps(R.va, p, 0xa5);
    check_invariants("after");
    kunmap_ok(p);
    close_machine();
}

/* The kmap of page(20) whose wrap flush has the actor kunmap victim (count 2 -> 1) from inside
 * it: the kmap must take victim's slot, want_slot. Fast mode: the kunmap returns inside the flush
 * and the kmap's re-check finds the slot without sleeping; kernel mode: the kunmap waits for
 * kmap_lock, the kmap sleeps once and is woken once. Returns the kmap's address. */
static hm_vaddr_t kmap_with_kunmap_inside_the_flush(int locking, hm_pfn_t victim, uint32_t want_slot)
{
    struct hm_stats st;
    R.trigger_event = HM_EV_FLUSH_DONE;
    R.op_next = ACT_KUNMAP;
    R.pfn_next = victim;
    hm_vaddr_t va = kmap_ok(page(20));
    CHECK(R.fired, "the kmap's wrap flushed");
    wait_actor(0);
    CHECK(R.rc == HM_OK, "actor kunmap: %s", hm_strerror(R.rc));
    CHECK(va == slot_addr(want_slot), "the new page took slot %u (got 0x%08" PRIx64 ")", want_slot, va);
    hm_get_stats(R.hm.ctx, &st);
    if (locking == HM_LOCKING_FAST) {
        CHECK(R.returned_seen && !R.blocked_seen, "the fast kunmap returned inside the flush");
        CHECK(st.sleeps == 0 && st.wakeups == 0, "no sleep (sleeps %" PRIu64 ", wakeups %" PRIu64 ")",
              st.sleeps, st.wakeups);
    } else {
        CHECK(R.blocked_seen, "the kernel-mode kunmap waited for kmap_lock");
        CHECK(st.sleeps == 1 && st.wakeups == 1, "one sleep, one wake-up (sleeps %" PRIu64 ", wakeups %" PRIu64 ")",
              st.sleeps, st.wakeups);
    }
    return va;
}

/* A kunmap racing a kmap that is about to sleep. Every slot is held; the main thread's kmap of
 * a new page scans, wraps and flushes (nothing to free); from the end of that flush, with
 * kmap_lock held by the main thread, the actor kunmaps page P (slot 3, not yet re-scanned).
 * Fast mode: the kunmap needs no lock, drops slot 3 to 1 and sees no waiter; the kmap's scan then
 * finds every slot busy, and must not sleep on a wake-up that already happened: its re-check
 * after counting itself a waiter finds slot 3 at count 1, rescans, and maps the page there
 * without sleeping. Kernel mode: the kunmap waits for kmap_lock; the kmap sleeps, the kunmap
 * wakes it, and it maps the page in slot 3. */
static void kunmap_before_the_sleep(const void *arg)
{
    int locking = (int)(intptr_t)arg;
    if (open_machine(locking) != 0)
        return;
    for (uint32_t k = 0; k < SLOTS; k++)
        kmap_ok(page(10 + k)); /* slots 1, 2, 3, then 0 after a wrap */
    /* page(12): slot 3, count 2: held once; the actor's kunmap drops it to 1 */
    hm_vaddr_t va = kmap_with_kunmap_inside_the_flush(locking, page(12), 3);
    CHECK(hm_nr_waiters(R.hm.ctx) == 0, "no waiter left (%u)", hm_nr_waiters(R.hm.ctx));
    check_maps(va, page(20), 0x3c);
    check_invariants("after");
    close_machine();
}

/* kmap_high_get (arm, 2.6.30) pinning page P (slot 2, count 1) while hm_kmap_flush_unused tears
 * the window down, asked from the flush's first event as in hit_before_the_flush_claims. Fast mode:
 * the pin raises slot 2's count first (the same compare-and-swap as a hit), so the flush keeps
 * slot 2 and the pin's address stays mapped. Kernel mode: the pin waits for kmap_lock, the flush
 * frees slot 2, and kmap_high_get finds P unmapped: address 0, nothing pinned. */
static void high_get_before_the_flush_claims(const void *arg)
{
    int locking = (int)(intptr_t)arg;
    struct hm_stats st;
    if (open_arm_with_high_get(locking) != 0)
        return;
    hm_pfn_t q = page(1), p = page(2);
    kmap_ok(q); /* slot 1 */
    kmap_ok(p); /* slot 2 */
    kunmap_ok(q);
    kunmap_ok(p);
    R.va = 1;
    flush_with_actor_at(HM_EV_FLUSH_ALL_ZERO_PKMAPS, ACT_KMAP_HIGH_GET, p);
    wait_actor(0);
    CHECK(R.rc == HM_OK, "actor kmap_high_get: %s", hm_strerror(R.rc));
    hm_get_stats(R.hm.ctx, &st);
    if (locking == HM_LOCKING_FAST) {
        check_fast_raise_kept_slot2("pin", &st);
        check_maps(R.va, p, 0x6b);
        kunmap_ok(p); /* the pin's release */
    } else {
        CHECK(R.blocked_seen, "the kernel-mode pin waited for kmap_lock");
        CHECK(R.va == 0, "P was unmapped by the flush: no address (got 0x%08" PRIx64 ")", R.va);
        CHECK(st.slots_freed == 2, "the flush freed slots 1 and 2 (freed %" PRIu64 ")", st.slots_freed);
    }
    check_invariants("at the end");
    close_machine();
}

/* kmap_high_get of page P whose slot the flush has already claimed (count 0, PTE cleared, P
 * still hashed): the pin must not raise a count of 0; it waits for the flush under kmap_lock
 * and finds P unmapped (address 0), in both modes. */
static void high_get_after_the_flush_claims(const void *arg)
{
    int locking = (int)(intptr_t)arg;
    if (open_arm_with_high_get(locking) != 0)
        return;
    hm_pfn_t p = page(2);
    kmap_ok(p); /* slot 1 */
    kunmap_ok(p);
    R.va = 1;
    flush_with_actor(1, ACT_KMAP_HIGH_GET, p);
    CHECK(R.blocked_seen && !R.returned_seen, "the pin of a claimed slot waited for kmap_lock");
    wait_actor(0);
    CHECK(R.rc == HM_OK, "actor kmap_high_get: %s", hm_strerror(R.rc));
    CHECK(R.va == 0, "no address for an unmapped page (got 0x%08" PRIx64 ")", R.va);
    CHECK(hm_pkmap_count(R.hm.ctx, 1) == 0, "slot 1 stays free (count %d)", hm_pkmap_count(R.hm.ctx, 1));
    check_invariants("after");
    close_machine();
}

/* The same race on a coloured window (xtensa, 2 colours: slots 0 and 2 of colour 0, 1 and 3 of
 * colour 1; pfn parity is the colour). Every slot is held; the main thread's kmap of a colour-0
 * page scans slots 2 and 0, wraps and flushes at 0; from that flush the actor kunmaps the
 * colour-0 page of slot 2. Fast mode: the kmap counts itself on colour 0's queue and re-checks
 * colour 0's slots (a re-check of colour 1's would find nothing and sleep for a wake-up that
 * already went by), finds slot 2 at count 1 and maps there without sleeping. Kernel mode: the
 * kunmap wakes colour 0's sleeper. */
static void kunmap_before_the_sleep_coloured(const void *arg)
{
    int locking = (int)(intptr_t)arg;
    uint32_t w0 = 9, w1 = 9;
    if (open_machine_of(locking, "xtensa", test_env_kernel()) != 0)
        return;
    CHECK(R.hm.layout.pkmap_colours == 2 && page(0) % 2 == 0, "xtensa: 2 colours, page(0) of colour 0");
    CHECK(kmap_ok(page(10)) == slot_addr(2), "colour 0: slot 2");
    CHECK(kmap_ok(page(11)) == slot_addr(3), "colour 1: slot 3");
    CHECK(kmap_ok(page(12)) == slot_addr(0), "colour 0: slot 0 after its wrap");
    CHECK(kmap_ok(page(13)) == slot_addr(1), "colour 1: slot 1 after its wrap");
    hm_vaddr_t va = kmap_with_kunmap_inside_the_flush(locking, page(10), 2); /* slot 2, 2 -> 1 */
    CHECK(hm_pkmap_waiters(R.hm.ctx, 0, &w0) == HM_OK && hm_pkmap_waiters(R.hm.ctx, 1, &w1) == HM_OK &&
              w0 == 0 && w1 == 0,
          "no waiter left (%u, %u)", w0, w1);
    check_maps(va, page(20), 0x5a);
    check_invariants("after");
    close_machine();
}

/* The kunmap that comes after a kmap of colour 1 has counted itself on its colour's queue and
 * before it sleeps, when a wake-up is easiest to lose (xtensa; slots 1 and 3 of colour 1). Every
 * slot is held; the main thread's kmap of a new colour-1 page scans, wraps, finds nothing of its
 * colour, counts itself in colour 1's waiters and (fast mode) re-checks colour 1's slots in
 * vain; from its sleep event, kmap_lock still held, the actor kunmaps the colour-1 page of slot
 * 3 (2 -> 1). In both modes the actor sees the waiter (fast: its seq_cst load after the CAS;
 * kernel: under kmap_lock) and waits for kmap_lock, which the sleeper releases only inside the
 * machine's sleep_colour(1); its wake_colour(1) then returns the sleeper, which rescans and maps
 * the page in slot 3. A wake-up lost in that window (counted on another colour's queue, sent to
 * another colour, or a queue that had not registered the sleeper) leaves the main thread asleep
 * until the deadline. */
static void kunmap_after_the_sleeper_counted_coloured(const void *arg)
{
    int locking = (int)(intptr_t)arg;
    struct hm_stats st;
    uint32_t w0 = 9, w1 = 9;
    if (open_machine_of(locking, "xtensa", test_env_kernel()) != 0)
        return;
    CHECK(R.hm.hw.sleep_colour && R.hm.hw.wake_colour, "the sim has a wait queue per colour");
    CHECK(kmap_ok(page(10)) == slot_addr(2) && kmap_ok(page(11)) == slot_addr(3) &&
              kmap_ok(page(12)) == slot_addr(0) && kmap_ok(page(13)) == slot_addr(1),
          "every slot held");
    R.op_next = ACT_KUNMAP;
    R.pfn_next = page(11);                      /* colour 1, slot 3 */
    R.trigger_event = HM_EV_SLEEP;
    hm_vaddr_t va = kmap_ok(page(21));          /* colour 1: sleeps once */
    CHECK(R.fired, "the kmap slept");
    wait_actor(0);
    CHECK(R.rc == HM_OK, "actor kunmap: %s", hm_strerror(R.rc));
    CHECK(R.blocked_seen, "the kunmap waited for kmap_lock, held until the sleeper slept");
    CHECK(va == slot_addr(3), "the colour-1 page took slot 3 (got 0x%08" PRIx64 ")", va);
    hm_get_stats(R.hm.ctx, &st);
    CHECK(st.sleeps == 1 && st.wakeups == 1, "one sleep, one wake-up (sleeps %" PRIu64 ", wakeups %" PRIu64 ")",
          st.sleeps, st.wakeups);
    CHECK(hm_pkmap_waiters(R.hm.ctx, 0, &w0) == HM_OK && hm_pkmap_waiters(R.hm.ctx, 1, &w1) == HM_OK &&
              w0 == 0 && w1 == 0,
          "no waiter left (%u, %u)", w0, w1);
    check_maps(va, page(21), 0x7e);
    check_invariants("after");
    close_machine();
}

/* A kunmap after flush_all_zero_pkmaps' cache flush, on sparc's VIVT cache (the sim's cache
 * model on). Every slot is held (count 2), P's in slot 1. The main thread's kmap of Q scans, wraps and
 * flushes; once that flush's cache flush (flush_cache_kmaps = flush_cache_all) returns, the actor stores a
 * byte through P's address, which leaves a dirty line under that virtual address, and kunmaps P
 * (2 -> 1). The flush claimed its count-1 slots before the cache flush, so it must not free slot
 * 1 in this run: Q would get slot 1 at once and read P's dirty line through it. Fast mode: the
 * kunmap returns inside the flush, the kmap's re-check finds slot 1 at count 1 and flushes again
 * (cache first); kernel mode: the kunmap waits for kmap_lock, the kmap sleeps, is woken and
 * flushes again. Either way Q lands in slot 1 after a cache flush that wrote P's byte back, and
 * reads its own byte, with no stale read. */
static void kunmap_after_the_cache_flush(const void *arg)
{
    int locking = (int)(intptr_t)arg;
    struct hm_sim_stats ss;
    uint8_t got = 0;
    if (open_machine_of(locking, "sparc", test_env_kernel()) != 0)
        return;
    CHECK(hm_sim_set_cache(R.hm.sim, 1) == HM_OK, "the sim's data cache model on");
    hm_pfn_t p = page(1), q = page(9);
    hm_vaddr_t va = kmap_ok(p);
    CHECK(va == slot_addr(1), "P in slot 1 (got 0x%08" PRIx64 ")", va);
    kmap_ok(page(2)); /* slot 2 */
    kmap_ok(page(3)); /* slot 3 */
    kmap_ok(page(4)); /* slot 0, after a wrap */
    hm_sim_phys_write(R.hm.sim, q, 0, 0x11);
    R.store_va = va;
    R.store_byte = 0xc7;
    R.trigger_cache_flush = 1;
    R.op_next = ACT_STORE_KUNMAP;
    R.pfn_next = p;
    hm_vaddr_t vq = kmap_ok(q);
    CHECK(R.fired, "the kmap's wrap flushed the cache");
    wait_actor(0);
    CHECK(R.rc == HM_OK, "actor store + kunmap: %s", hm_strerror(R.rc));
    if (locking == HM_LOCKING_FAST)
        CHECK(R.returned_seen && !R.blocked_seen, "the fast kunmap returned inside the flush");
    else
        CHECK(R.blocked_seen, "the kernel-mode kunmap waited for kmap_lock");
    CHECK(vq == va, "Q in P's slot 1 (got 0x%08" PRIx64 ")", vq);
    CHECK(hm_sim_phys_read(R.hm.sim, p, 0, &got) == HM_OK && got == 0xc7,
          "P holds the byte stored through its mapping (0x%02x)", got);
    CHECK(hm_sim_load(R.hm.sim, 0, vq, &got) == HM_OK && got == 0x11, "Q reads its own byte (0x%02x)", got);
    hm_sim_get_stats(R.hm.sim, &ss);
    CHECK(ss.stale_cache_reads == 0, "stale cache reads: %" PRIu64, ss.stale_cache_reads);
    check_invariants("at the end");
    close_machine();
}

#define BOTH(name) {#name "_fast", name, (const void *)(intptr_t)HM_LOCKING_FAST}, \
                   {#name "_kernel", name, (const void *)(intptr_t)HM_LOCKING_KERNEL}

int main(void)
{
    static const struct tt_case cases[] = {
        BOTH(hit_before_the_flush_claims),
        BOTH(hit_after_the_flush_claims),
        BOTH(kunmap_before_the_sleep),
        BOTH(high_get_before_the_flush_claims),
        BOTH(high_get_after_the_flush_claims),
        BOTH(kunmap_before_the_sleep_coloured),
        BOTH(kunmap_after_the_sleeper_counted_coloured),
        BOTH(kunmap_after_the_cache_flush),
    };
    return tt_main(cases, sizeof cases / sizeof cases[0], "RACE_TEST_ONLY");
}
