/* sim_reset_test.c - Criterion tests of hm_sim_reset: a machine reset after heavy use (same or
 * another layout) is indistinguishable from hm_sim_new's, errors leave the sim unchanged.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "highmem_arch.h"
#include "sim/sim.h"

/* ---------------------------------------------------------------------------------------
 * Fixture: the x86-like layout of sim_fixture.h, a smaller one, an event counter.
 * ------------------------------------------------------------------------------------- */
#include "sim_fixture.h"

/* A smaller machine: 4 CPUs, a 16-page window at 0xfe000000 (8 pkmap slots), less memory. */
static struct hm_layout small_layout(void)
{
    struct hm_layout l = make_layout();
    l.max_pfn = 0x38100u;
    l.nr_cpus = 4;
    l.config_nr_cpus = 4;
    l.pkmap_base = 0xfe000000u;
    l.last_pkmap = 8;
    l.pt_start = 0xfe000000u;
    l.pt_pages = 16;
    return l;
}

static unsigned events_a, events_b;

static void count_a(void *cookie, const struct hm_event *ev)
{
    (void)ev;
    (*(unsigned *)cookie)++;
}

static struct hm_sim *new_sim(const struct hm_layout *l, unsigned *counter)
{
    struct hm_sim *s = hm_sim_new(l, &test_arch, count_a, counter);
    cr_assert(not(eq(ptr, s, NULL)));
    return s;
}

static struct hm_machine machine_of(struct hm_sim *s)
{
    struct hm_machine m;
    hm_sim_machine(s, &m);
    return m;
}

/* Use every part of the machine: PTEs in and out of the pkmap window, TLB entries on every CPU
 * (one of them stale), memory in lowmem and highmem, the fault injector, in_interrupt, the
 * locks, sleep bookkeeping (a wake_all), a flush dropped and a map refused by injection. */
static void dirty(struct hm_sim *s, const struct hm_layout *l)
{
    struct hm_machine m = machine_of(s);
    uint8_t v;
    uint32_t slots = l->last_pkmap < 6u ? l->last_pkmap : 6u;
    for (uint32_t i = 0; i < slots; i++)
        m.set_pte(m.m, l->pkmap_base + (i << 12), PTE(HIGH_A + i));
    m.set_pte(m.m, l->pt_start + ((l->pt_pages - 1u) << 12), PTE(HIGH_B));
    cr_assert(eq(int, hm_sim_phys_write(s, HIGH_A, 7, 0x77), HM_OK));
    cr_assert(eq(int, hm_sim_phys_write(s, 3, 9, 0x33), HM_OK));
    for (uint32_t c = 0; c < l->nr_cpus; c++) {
        cr_assert(eq(int, hm_sim_load(s, c, l->pkmap_base + 7u, &v), HM_OK));
        cr_assert(eq(int, hm_sim_store(s, c, l->pkmap_base + (1u << 12) + c, (uint8_t)(0x40 + c)), HM_OK));
    }
    cr_assert(eq(int, hm_sim_store(s, 0, 0xc0000000u + 0x5000u + 1u, 0x55), HM_OK));
    /* a stale entry: the PTE of slot 0 changes under the cached translation */
    m.set_pte(m.m, l->pkmap_base, PTE(HIGH_B));
    cr_assert(eq(int, hm_sim_load(s, 0, l->pkmap_base, &v), HM_OK));
    hm_sim_inject(s, HM_SIM_FAULT_DROP_ALL_FLUSHES);
    m.flush_tlb_all(m.m);
    hm_sim_inject(s, HM_SIM_FAULT_FAIL_ALL_MAPS);
    cr_assert(ne(int, m.set_pte(m.m, l->pkmap_base, PTE(HIGH_A)), 0));
    m.flush_cache_all(m.m);
    m.lock(m.m, HM_LOCK_POOL);
    m.unlock(m.m, HM_LOCK_POOL);
    m.wake_all(m.m);
    hm_sim_set_in_interrupt(s, 1);
    struct hm_sim_stats st;
    hm_sim_get_stats(s, &st);
    cr_assert(gt(u64, st.stale_tlb_hits, 0));
    cr_assert(gt(u64, st.tlb_flushes_dropped, 0));
    cr_assert(gt(u64, st.pte_sets_refused, 0));
}

/* Everything a fresh machine shows, checked exhaustively over the layout. */
static void assert_pristine(struct hm_sim *s, const struct hm_layout *l)
{
    struct hm_sim_stats st, zero;
    memset(&zero, 0, sizeof zero);
    hm_sim_get_stats(s, &st);
    cr_assert(eq(int, memcmp(&st, &zero, sizeof st), 0), "statistics not zero");
    for (uint32_t i = 0; i < l->pt_pages; i++) {
        hm_vaddr_t va = l->pt_start + (i << 12);
        cr_assert(eq(u64, hm_sim_pte(s, va), 0), "PTE at 0x%" PRIx64 " not none", va);
        for (uint32_t c = 0; c < l->nr_cpus; c++)
            cr_assert(eq(int, hm_sim_tlb_lookup(s, c, va, NULL), 0), "cpu %u caches 0x%" PRIx64, c, va);
    }
    for (uint32_t c = 0; c < l->nr_cpus; c++)
        cr_assert(eq(u32, hm_sim_tlb_size(s, c), 0));
    uint8_t v = 0xee;
    const hm_pfn_t pfns[] = {3, 5, HIGH_A, HIGH_A + 1u, HIGH_A + 2u, HIGH_B};
    for (size_t i = 0; i < sizeof pfns / sizeof pfns[0]; i++)
        for (uint32_t off = 0; off < 16; off++) {
            cr_assert(eq(int, hm_sim_phys_read(s, pfns[i], off, &v), HM_OK));
            cr_assert(eq(u8, v, 0), "pfn %#x offset %u reads %u", pfns[i], off, v);
        }
    struct hm_machine m = machine_of(s);
    cr_assert(eq(int, m.in_interrupt(m.m), 0), "in_interrupt still on");
}

/* Fault injection is off: a flush really drops the entries it covers, a map is done. */
static void assert_flushes_work(struct hm_sim *s, const struct hm_layout *l)
{
    struct hm_machine m = machine_of(s);
    uint8_t v;
    m.set_pte(m.m, l->pkmap_base, PTE(HIGH_A));
    cr_assert(eq(int, hm_sim_load(s, 0, l->pkmap_base, &v), HM_OK));
    cr_assert(eq(int, hm_sim_tlb_lookup(s, 0, l->pkmap_base, NULL), 1));
    m.flush_tlb_all(m.m);
    cr_assert(eq(int, hm_sim_tlb_lookup(s, 0, l->pkmap_base, NULL), 0), "flush dropped after reset");
    cr_assert(eq(int, m.set_pte(m.m, l->pkmap_base + (1u << 12), PTE(HIGH_B)), 0), "map refused after reset");
    struct hm_sim_stats st;
    hm_sim_get_stats(s, &st);
    cr_assert(eq(u64, st.tlb_flushes_dropped, 0));
    cr_assert(eq(u64, st.tlb_entries_dropped, 1));
}

Test(sim_reset, same_layout_is_a_new_machine, .timeout = 20)
{
    struct hm_layout l = make_layout();
    struct hm_sim *s = new_sim(&l, &events_a);
    dirty(s, &l);
    cr_assert(eq(int, hm_sim_reset(s, &l, &test_arch, count_a, &events_b), HM_OK));
    assert_pristine(s, &l);
    assert_flushes_work(s, &l);
    hm_sim_free(s);
}

Test(sim_reset, other_layouts_both_ways, .timeout = 20)
{
    struct hm_layout big = make_layout(), small = small_layout();
    struct hm_sim *s = new_sim(&big, &events_a);
    dirty(s, &big);
    /* big -> small: the old window's addresses are gone, the new CPU count holds */
    cr_assert(eq(int, hm_sim_reset(s, &small, &test_arch, count_a, &events_a), HM_OK));
    assert_pristine(s, &small);
    uint8_t v;
    cr_assert(eq(int, hm_sim_load(s, 3, 0xc0000000u, &v), HM_OK), "cpu 3 exists after the reset");
    cr_assert(eq(int, hm_sim_load(s, 4, 0xc0000000u, &v), HM_EINVAL));
    struct hm_machine m = machine_of(s);
    m.set_pte(m.m, PKMAP_ADDR(0), PTE(HIGH_A)); /* outside the small window */
    cr_assert(eq(u64, hm_sim_pte(s, PKMAP_ADDR(0)), 0));
    cr_assert(eq(int, hm_sim_phys_write(s, 0x38100u, 0, 1), HM_ERANGE), "max_pfn of the small layout");
    dirty(s, &small);
    /* small -> big: the arrays grow, and are clean */
    cr_assert(eq(int, hm_sim_reset(s, &big, &test_arch, count_a, &events_a), HM_OK));
    assert_pristine(s, &big);
    assert_flushes_work(s, &big);
    cr_assert(eq(int, hm_sim_load(s, 2, 0xc0000000u, &v), HM_EINVAL), "2 CPUs again");
    hm_sim_free(s);
}

/* The same script on a new machine and on a reset one gives the same results, stats and
 * events, byte for byte. */
struct trace {
    int rc[64];
    uint8_t val[64];
    struct hm_sim_stats st;
    unsigned n;
};

static void script(struct hm_sim *s, const struct hm_layout *l, struct trace *t)
{
    struct hm_machine m = machine_of(s);
    memset(t, 0, sizeof *t);
    m.set_pte(m.m, l->pkmap_base + (2u << 12), PTE(HIGH_A));
    m.set_pte(m.m, l->pkmap_base + (3u << 12), PTE(HIGH_B));
    for (uint32_t k = 0; k < 8; k++) {
        uint32_t c = k % l->nr_cpus;
        t->rc[t->n] = hm_sim_load(s, c, l->pkmap_base + ((2u + k % 3u) << 12) + k, &t->val[t->n]);
        t->n++;
        t->rc[t->n++] = hm_sim_store(s, c, l->pkmap_base + (2u << 12) + k, (uint8_t)(k + 1));
    }
    m.set_pte(m.m, l->pkmap_base + (2u << 12), PTE(HIGH_B)); /* stale on the CPUs that cached it */
    t->rc[t->n] = hm_sim_load(s, 0, l->pkmap_base + (2u << 12) + 1u, &t->val[t->n]);
    t->n++;
    m.flush_tlb_range(m.m, l->pkmap_base, l->pkmap_base + (l->last_pkmap << 12));
    t->rc[t->n] = hm_sim_load(s, 0, l->pkmap_base + (2u << 12) + 1u, &t->val[t->n]);
    t->n++;
    m.flush_tlb_page(m.m, HM_CPU_ALL, l->pkmap_base + (3u << 12));
    m.flush_tlb_all(m.m);
    hm_sim_get_stats(s, &t->st);
}

Test(sim_reset, replays_like_a_new_machine, .timeout = 20)
{
    struct hm_layout l = make_layout(), small = small_layout();
    struct trace fresh, again;
    events_a = events_b = 0;
    struct hm_sim *a = new_sim(&l, &events_a);
    script(a, &l, &fresh);
    hm_sim_free(a);

    struct hm_sim *b = new_sim(&small, &events_b);
    dirty(b, &small);
    script(b, &small, &again);
    events_b = 0;
    cr_assert(eq(int, hm_sim_reset(b, &l, &test_arch, count_a, &events_b), HM_OK));
    script(b, &l, &again);
    cr_assert(eq(u32, again.n, fresh.n));
    cr_assert(eq(int, memcmp(again.rc, fresh.rc, sizeof fresh.rc), 0), "return codes differ");
    cr_assert(eq(int, memcmp(again.val, fresh.val, sizeof fresh.val), 0), "loaded bytes differ");
    cr_assert(eq(int, memcmp(&again.st, &fresh.st, sizeof fresh.st), 0), "statistics differ");
    cr_assert(eq(u32, events_b, events_a), "stale-translation events differ");
    cr_assert(gt(u32, events_a, 0));
    hm_sim_free(b);
}

/* A page freed by the reset and reused for another pfn reads as zero except where written. */
Test(sim_reset, reused_pages_are_zero, .timeout = 20)
{
    struct hm_layout l = make_layout();
    struct hm_sim *s = new_sim(&l, &events_a);
    for (uint32_t off = 0; off < 4096; off += 512)
        cr_assert(eq(int, hm_sim_phys_write(s, HIGH_A, off, 0xa5), HM_OK));
    cr_assert(eq(int, hm_sim_reset(s, &l, &test_arch, NULL, NULL), HM_OK));
    cr_assert(eq(int, hm_sim_phys_write(s, HIGH_B, 1, 0x11), HM_OK));
    uint8_t v = 0xee;
    for (uint32_t off = 0; off < 4096; off += 512) {
        cr_assert(eq(int, hm_sim_phys_read(s, HIGH_B, off, &v), HM_OK));
        cr_assert(eq(u8, v, 0), "offset %u", off);
        cr_assert(eq(int, hm_sim_phys_read(s, HIGH_A, off, &v), HM_OK));
        cr_assert(eq(u8, v, 0), "offset %u of the old page", off);
    }
    cr_assert(eq(int, hm_sim_phys_read(s, HIGH_B, 1, &v), HM_OK));
    cr_assert(eq(u8, v, 0x11));
    /* another page size: the pool of 4 KiB pages must not serve 8 KiB pages */
    struct hm_layout l8 = l;
    l8.page_shift = 13;
    l8.page_size = 8192;
    l8.max_pfn = 0x20000u;
    l8.highmem_start_pfn = 0x1c000u;
    l8.pt_pages = 1023;
    l8.last_pkmap = 512;
    cr_assert(eq(int, hm_sim_reset(s, &l8, &test_arch, NULL, NULL), HM_OK));
    cr_assert(eq(int, hm_sim_phys_write(s, 0x1c001u, 8191, 0x81), HM_OK), "last byte of an 8 KiB page");
    cr_assert(eq(int, hm_sim_phys_read(s, 0x1c001u, 8191, &v), HM_OK));
    cr_assert(eq(u8, v, 0x81));
    cr_assert(eq(int, hm_sim_phys_read(s, 0x1c001u, 4096, &v), HM_OK));
    cr_assert(eq(u8, v, 0));
    hm_sim_free(s);
}

/* Range flushes choose between the dirty list and a sweep: both drop exactly the range. */
Test(sim_reset, range_flush_drops_only_the_range, .timeout = 20)
{
    struct hm_layout l = make_layout();
    struct hm_sim *s = new_sim(&l, &events_a);
    struct hm_machine m = machine_of(s);
    uint8_t v;
    const uint32_t slots[] = {0, 5, 9, 1023};
    for (size_t i = 0; i < 4; i++) {
        m.set_pte(m.m, PKMAP_ADDR(slots[i]), PTE(HIGH_A + i));
        cr_assert(eq(int, hm_sim_load(s, 1, PKMAP_ADDR(slots[i]), &v), HM_OK));
    }
    m.set_pte(m.m, FIX_ADDR, PTE(HIGH_B));
    cr_assert(eq(int, hm_sim_load(s, 0, FIX_ADDR, &v), HM_OK));
    /* a wide range with few entries cached (the dirty-list path) */
    m.flush_tlb_range(m.m, PKMAP_ADDR(1), PKMAP_ADDR(1000));
    cr_assert(eq(int, hm_sim_tlb_lookup(s, 1, PKMAP_ADDR(0), NULL), 1));
    cr_assert(eq(int, hm_sim_tlb_lookup(s, 1, PKMAP_ADDR(5), NULL), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(s, 1, PKMAP_ADDR(9), NULL), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(s, 1, PKMAP_ADDR(1023), NULL), 1));
    cr_assert(eq(int, hm_sim_tlb_lookup(s, 0, FIX_ADDR, NULL), 1));
    /* a one-page range (the sweep path) */
    m.flush_tlb_range(m.m, PKMAP_ADDR(1023), PKMAP_ADDR(1024));
    cr_assert(eq(int, hm_sim_tlb_lookup(s, 1, PKMAP_ADDR(1023), NULL), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(s, 1, PKMAP_ADDR(0), NULL), 1));
    struct hm_sim_stats st;
    hm_sim_get_stats(s, &st);
    cr_assert(eq(u64, st.tlb_entries_dropped, 3));
    /* refill after flush_tlb_all, then reset: nothing survives */
    m.flush_tlb_all(m.m);
    cr_assert(eq(int, hm_sim_load(s, 1, PKMAP_ADDR(5), &v), HM_OK));
    cr_assert(eq(int, hm_sim_reset(s, &l, &test_arch, NULL, NULL), HM_OK));
    assert_pristine(s, &l);
    hm_sim_free(s);
}

Test(sim_reset, errors_leave_the_sim_unchanged, .timeout = 20)
{
    struct hm_layout l = make_layout(), bad = make_layout();
    struct hm_sim *s = new_sim(&l, &events_a);
    struct hm_machine m = machine_of(s);
    uint8_t v;
    m.set_pte(m.m, PKMAP_ADDR(4), PTE(HIGH_A));
    cr_assert(eq(int, hm_sim_phys_write(s, HIGH_A, 0, 0x42), HM_OK));
    bad.page_size = 8192; /* != 1 << page_shift */
    cr_assert(eq(int, hm_sim_reset(s, &bad, &test_arch, NULL, NULL), HM_EINVAL));
    bad = make_layout();
    bad.nr_cpus = HM_MAX_CPUS + 1u;
    cr_assert(eq(int, hm_sim_reset(s, &bad, &test_arch, NULL, NULL), HM_EINVAL));
    cr_assert(eq(int, hm_sim_reset(s, NULL, &test_arch, NULL, NULL), HM_EINVAL));
    cr_assert(eq(int, hm_sim_reset(s, &l, NULL, NULL, NULL), HM_EINVAL));
    cr_assert(eq(int, hm_sim_reset(NULL, &l, &test_arch, NULL, NULL), HM_EINVAL));
    cr_assert(eq(u64, hm_sim_pte(s, PKMAP_ADDR(4)), PTE(HIGH_A)));
    cr_assert(eq(int, hm_sim_load(s, 1, PKMAP_ADDR(4), &v), HM_OK));
    cr_assert(eq(u8, v, 0x42));
    struct hm_sim_stats st;
    hm_sim_get_stats(s, &st);
    cr_assert(eq(u64, st.pte_sets, 1));
    hm_sim_free(s);
}

/* Sleep after a reset: a wake_all from before the reset is not remembered; a new one wakes. */
static struct hm_machine sleep_m;
static atomic_int entered, returned;

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *sleeper(void *arg)
{
    (void)arg;
    sleep_m.lock(sleep_m.m, HM_LOCK_KMAP);
    atomic_store(&entered, 1);
    sleep_m.sleep(sleep_m.m);
    atomic_store(&returned, 1);
    sleep_m.unlock(sleep_m.m, HM_LOCK_KMAP);
    return NULL;
}

Test(sim_reset, sleep_state_is_clean, .timeout = 20)
{
    struct hm_layout l = make_layout();
    struct hm_sim *s = new_sim(&l, &events_a);
    dirty(s, &l); /* includes a wake_all */
    cr_assert(eq(int, hm_sim_reset(s, &l, &test_arch, NULL, NULL), HM_OK));
    sleep_m = machine_of(s);
    atomic_store(&entered, 0);
    atomic_store(&returned, 0);
    pthread_t t;
    cr_assert(eq(int, pthread_create(&t, NULL, sleeper, NULL), 0));
    int parked = 0;
    for (int i = 0; i < 5000 && !parked; i++) {
        sleep_m.lock(sleep_m.m, HM_LOCK_KMAP);
        parked = atomic_load(&entered);
        sleep_m.unlock(sleep_m.m, HM_LOCK_KMAP);
        if (!parked)
            nap_ms(1);
    }
    cr_assert(parked, "sleeper never parked");
    nap_ms(50);
    cr_assert(eq(int, atomic_load(&returned), 0), "sleep returned without a wake_all");
    sleep_m.wake_all(sleep_m.m);
    for (int i = 0; i < 5000 && !atomic_load(&returned); i++)
        nap_ms(1);
    cr_assert(eq(int, atomic_load(&returned), 1), "not woken");
    cr_assert(eq(int, pthread_join(t, NULL), 0));
    struct hm_sim_stats st;
    hm_sim_get_stats(s, &st);
    cr_assert(eq(u64, st.sleeps, 1));
    cr_assert(eq(u64, st.wakes, 1));
    hm_sim_free(s);
}
