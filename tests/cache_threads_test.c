/* cache_threads_test.c - the sim's data cache model under threads (also run under TSan): CPUs
 * storing and loading through their own and shared lines while another thread flushes, the
 * bytes coherent for the same line and in memory once flushed; aliases hammered for races.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "highmem_arch.h"
#include "sim/sim.h"
#include "tests/threadlib.h"

#include "sim_fixture.h"

#define NCPU 4u
#define ITERS 3000u
#define SHARED PKMAP_ADDR(8) /* one page every CPU maps at the same address */
#define OWN(c) PKMAP_ADDR(1u + (c)) /* CPU c's own page, pfn HIGH_A + 1 + c */

static struct hm_sim *sim;
static struct hm_machine mach;
static atomic_int stop;
static uint8_t last_own[NCPU], last_shared[NCPU];

static void *cpu_worker(void *arg)
{
    uint32_t c = (uint32_t)(uintptr_t)arg;
    for (uint32_t i = 0; i < ITERS; i++) {
        uint8_t v = (uint8_t)(i * 7u + c), got = 0;
        uint32_t off = (i * 13u) % 4096u;
        CHECK(hm_sim_store(sim, c, OWN(c) + off, v) == HM_OK, "store own");
        CHECK(hm_sim_load(sim, c, OWN(c) + off, &got) == HM_OK && got == v,
              "cpu %u own page offset %u: %u, want %u", c, off, got, v);
        /* byte c of the shared page's first line: one line every CPU writes a byte of */
        CHECK(hm_sim_store(sim, c, SHARED + c, v) == HM_OK, "store shared");
        CHECK(hm_sim_load(sim, c, SHARED + c, &got) == HM_OK && got == v,
              "cpu %u shared byte: %u, want %u", c, got, v);
        if (i + 1 == ITERS) {
            last_own[c] = v;
            last_shared[c] = v;
            (void)hm_sim_store(sim, c, OWN(c), v); /* offset 0 holds the last value too */
        }
    }
    return NULL;
}

static void *flusher(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        mach.flush_cache_all(mach.m);
        mach.flush_cache_page(mach.m, HM_CPU_ALL, SHARED);
        mach.flush_cache_page(mach.m, 1, OWN(1));
    }
    return NULL;
}

static struct hm_layout layout_of(uint32_t kind)
{
    struct hm_layout l = make_layout();
    l.nr_cpus = l.config_nr_cpus = NCPU;
    l.cache_kind = kind;
    l.cache_colours = 4;
    return l;
}

static void open_sim(uint32_t kind)
{
    struct hm_layout l = layout_of(kind);
    sim = hm_sim_new(&l, &test_arch, NULL, NULL);
    CHECK(sim != NULL, "hm_sim_new");
    if (!sim)
        return;
    hm_sim_machine(sim, &mach);
    CHECK(hm_sim_set_cache(sim, 1) == HM_OK, "set_cache");
    for (uint32_t c = 0; c < NCPU; c++)
        CHECK(mach.set_pte(mach.m, OWN(c), PTE(HIGH_A + 1u + c)) == 0, "map own");
    CHECK(mach.set_pte(mach.m, SHARED, PTE(HIGH_B)) == 0, "map shared");
}

struct ccase {
    uint32_t kind;
    int flusher; /* a thread flushing all the time (else only the final flush) */
};

/* Same lines on several CPUs stay coherent, with or without flushes racing them; memory has
 * every CPU's last bytes once everything is flushed (without the flusher, only the snooping
 * keeps two CPUs' dirty copies of the shared line from overwriting each other's bytes). */
static void coherent_case(const void *arg)
{
    const struct ccase *cc = arg;
    uint32_t kind = cc->kind;
    pthread_t t[NCPU + 1];
    struct hm_sim_stats st;
    open_sim(kind);
    if (!sim)
        return;
    atomic_store(&stop, 0);
    for (uint32_t c = 0; c < NCPU; c++)
        CHECK(pthread_create(&t[c], NULL, cpu_worker, (void *)(uintptr_t)c) == 0, "spawn");
    if (cc->flusher)
        CHECK(pthread_create(&t[NCPU], NULL, flusher, NULL) == 0, "spawn flusher");
    for (uint32_t c = 0; c < NCPU; c++)
        pthread_join(t[c], NULL);
    atomic_store(&stop, 1);
    if (cc->flusher)
        pthread_join(t[NCPU], NULL);

    mach.flush_cache_all(mach.m);
    for (uint32_t c = 0; c < NCPU; c++) {
        uint8_t own = 0, sh = 0;
        CHECK(hm_sim_phys_read(sim, HIGH_A + 1u + c, 0, &own) == HM_OK && own == last_own[c],
              "cpu %u own page in memory: %u, want %u", c, own, last_own[c]);
        CHECK(hm_sim_phys_read(sim, HIGH_B, c, &sh) == HM_OK && sh == last_shared[c],
              "shared byte %u in memory: %u, want %u", c, sh, last_shared[c]);
    }
    hm_sim_get_stats(sim, &st);
    CHECK(st.stale_cache_reads == 0, "%" PRIu64 " stale reads without aliases", st.stale_cache_reads);
    CHECK(st.cache_hits + st.cache_misses == st.loads + st.stores,
          "every access went through the cache: %" PRIu64 " + %" PRIu64 " != %" PRIu64 " + %" PRIu64,
          st.cache_hits, st.cache_misses, st.loads, st.stores);
    CHECK(st.cache_writebacks > 0, "dirty lines were written back");
    hm_sim_free(sim);
    sim = NULL;
}

/* Aliases of one page in every colour, on every CPU, with remaps and flushes racing: no value
 * is checked (aliases are incoherent by design), only that the model stays consistent. */
static void *alias_worker(void *arg)
{
    uint32_t c = (uint32_t)(uintptr_t)arg;
    for (uint32_t i = 0; i < ITERS; i++) {
        uint8_t got;
        hm_vaddr_t va = PKMAP_ADDR(16u + (i + c) % 8u) + (i % 64u);
        (void)hm_sim_store(sim, c, va, (uint8_t)i);
        (void)hm_sim_load(sim, c, PKMAP_ADDR(16u + (i + c + 1u) % 8u) + (i % 64u), &got);
        if (c == 0 && i % 64u == 0) {
            (void)mach.set_pte(mach.m, PKMAP_ADDR(16u + i % 8u), PTE(HIGH_A + (i / 64u) % 2u));
            mach.flush_tlb_all(mach.m);
        }
    }
    return NULL;
}

static void alias_case(const void *arg)
{
    uint32_t kind = *(const uint32_t *)arg;
    pthread_t t[NCPU + 1];
    struct hm_sim_stats st;
    open_sim(kind);
    if (!sim)
        return;
    for (uint32_t k = 0; k < 8; k++)
        CHECK(mach.set_pte(mach.m, PKMAP_ADDR(16u + k), PTE(HIGH_A)) == 0, "map alias");
    atomic_store(&stop, 0);
    for (uint32_t c = 0; c < NCPU; c++)
        CHECK(pthread_create(&t[c], NULL, alias_worker, (void *)(uintptr_t)c) == 0, "spawn");
    CHECK(pthread_create(&t[NCPU], NULL, flusher, NULL) == 0, "spawn flusher");
    for (uint32_t c = 0; c < NCPU; c++)
        pthread_join(t[c], NULL);
    atomic_store(&stop, 1);
    pthread_join(t[NCPU], NULL);
    hm_sim_get_stats(sim, &st);
    CHECK(st.cache_hits + st.cache_misses == st.loads + st.stores, "every access counted once");
    CHECK(hm_sim_set_cache(sim, 0) == HM_OK && !hm_sim_cache_on(sim), "off");
    hm_sim_free(sim);
    sim = NULL;
}

static const uint32_t vivt = HM_CACHE_VIVT, vipt = HM_CACHE_VIPT_ALIASING;
static const struct ccase c_vivt = {HM_CACHE_VIVT, 1}, c_vipt = {HM_CACHE_VIPT_ALIASING, 1},
                          c_pipt = {HM_CACHE_PIPT, 1}, c_vivt_alone = {HM_CACHE_VIVT, 0},
                          c_pipt_alone = {HM_CACHE_PIPT, 0};

int main(void)
{
    static const struct tt_case cases[] = {
        {"coherent_vivt", coherent_case, &c_vivt},
        {"coherent_vipt", coherent_case, &c_vipt},
        {"coherent_pipt", coherent_case, &c_pipt},
        {"coherent_vivt_no_flusher", coherent_case, &c_vivt_alone},
        {"coherent_pipt_no_flusher", coherent_case, &c_pipt_alone},
        {"aliases_vivt", alias_case, &vivt},
        {"aliases_vipt", alias_case, &vipt},
    };
    return tt_main(cases, sizeof cases / sizeof cases[0], "CACHE_THREADS_TEST_ONLY");
}
