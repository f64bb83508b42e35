/* cache_test.c - Criterion tests of the sim's data cache model (sim/cache.c): aliases through
 * VIVT and VIPT caches, write-back, flushes, remaps, reset, PIPT coherence; then the sparc
 * kmap_atomic path with and without its flush_cache_all, and the flush_cache_page service.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <inttypes.h>
#include <string.h>

#include "harness/machine.h"
#include "harness/print.h"
#include "highmem_arch.h"
#include "sim/sim.h"

#include "sim_criterion.h" /* sim_fixture.h, sim_stats, sim_load_ok */

/* ---------------------------------------------------------------------------------------
 * The sim on its own: sim_fixture.h's machine with a cache of the kind each test asks for.
 * PKMAP_ADDR(1) and PKMAP_ADDR(2) map HIGH_A in different colours (4 colours); PKMAP_ADDR(5)
 * is PKMAP_ADDR(1)'s colour.
 * ------------------------------------------------------------------------------------- */
struct recorder {
    unsigned n, stale_cache;
    struct hm_event last;
};

static void record(void *cookie, const struct hm_event *ev)
{
    struct recorder *r = cookie;
    r->n++;
    if (ev->kind == HM_EV_STALE_CACHE) {
        r->stale_cache++;
        r->last = *ev;
    }
}

static struct hm_layout layout;
static struct recorder rec;
static struct hm_sim *sim;
static struct hm_machine mach;

#define V1 PKMAP_ADDR(1)
#define V2 PKMAP_ADDR(2)
#define V5 PKMAP_ADDR(5)

/* A machine whose cache is `kind` over `colours` pages, the model on, A at V1 and V2 and V5,
 * a marker 0xAA at offset 5 of page A and 0xBB of page B. */
static void open_cache(uint32_t kind, uint32_t colours)
{
    layout = make_layout();
    layout.cache_kind = kind;
    layout.cache_colours = colours;
    memset(&rec, 0, sizeof rec);
    sim = hm_sim_new(&layout, &test_arch, record, &rec);
    cr_assert(not(eq(ptr, sim, NULL)));
    hm_sim_machine(sim, &mach);
    cr_assert(eq(int, hm_sim_cache_on(sim), 0), "off until asked for");
    cr_assert(eq(int, hm_sim_set_cache(sim, 1), HM_OK));
    cr_assert(eq(int, hm_sim_cache_on(sim), 1));
    cr_assert(eq(int, hm_sim_phys_write(sim, HIGH_A, 5, 0xAA), HM_OK));
    cr_assert(eq(int, hm_sim_phys_write(sim, HIGH_B, 5, 0xBB), HM_OK));
    cr_assert(eq(int, mach.set_pte(mach.m, V1, PTE(HIGH_A)), 0));
    cr_assert(eq(int, mach.set_pte(mach.m, V2, PTE(HIGH_A)), 0));
    cr_assert(eq(int, mach.set_pte(mach.m, V5, PTE(HIGH_A)), 0));
}

static void close_cache(void)
{
    hm_sim_free(sim);
    sim = NULL;
}

static void store(uint32_t cpu, hm_vaddr_t va, uint8_t v)
{
    cr_assert(eq(int, hm_sim_store(sim, cpu, va, v), HM_OK), "store cpu %u at 0x%" PRIx64, cpu, va);
}

static uint8_t phys(hm_pfn_t pfn, uint32_t off)
{
    uint8_t v = 0xee;
    cr_assert(eq(int, hm_sim_phys_read(sim, pfn, off, &v), HM_OK));
    return v;
}

/* A store through one alias, a load through another of a different colour: the old byte,
 * reported as a stale read of page A; after flush_cache_all the new one. */
static void alias_then_flush(uint32_t kind)
{
    open_cache(kind, 4);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V2 + 5), 0xAA)); /* V2's line holds the old byte */
    store(0, V1 + 5, 0x11);
    cr_assert(eq(u8, phys(HIGH_A, 5), 0xAA), "write-back: memory still has the old byte");
    cr_assert(eq(u8, sim_load_ok(sim, 0, V2 + 5), 0xAA), "the alias reads its own, older copy");
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 1));
    cr_assert(eq(u32, rec.stale_cache, 1));
    cr_assert(eq(u32, rec.last.cpu, 0));
    cr_assert(eq(u64, rec.last.a, V2 + 5));
    cr_assert(eq(u64, rec.last.b, HIGH_A));
    cr_assert(eq(u8, sim_load_ok(sim, 0, V1 + 5), 0x11), "the storing alias sees its store");

    mach.flush_cache_all(mach.m);
    cr_assert(eq(u8, phys(HIGH_A, 5), 0x11), "flush_cache_all wrote the line back");
    cr_assert(eq(u8, sim_load_ok(sim, 0, V2 + 5), 0x11));
    cr_assert(eq(u8, sim_load_ok(sim, 1, V2 + 5), 0x11));
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 1), "no stale read after the flush");
    cr_assert(eq(u64, sim_stats(sim).cache_flushes, 1));
    close_cache();
}

Test(cache, vivt_alias_reads_old_byte_until_flush_cache_all)
{
    alias_then_flush(HM_CACHE_VIVT);
}

Test(cache, vipt_alias_reads_old_byte_until_flush_cache_all)
{
    alias_then_flush(HM_CACHE_VIPT_ALIASING);
}

/* A miss through the alias (nothing cached there before the store) reads memory: old too. */
Test(cache, vivt_alias_miss_reads_memory)
{
    open_cache(HM_CACHE_VIVT, 4);
    store(0, V1 + 5, 0x22);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V2 + 5), 0xAA));
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 1));
    close_cache();
}

/* VIPT: mappings of one page in the same colour share the line. */
Test(cache, vipt_same_colour_is_coherent)
{
    open_cache(HM_CACHE_VIPT_ALIASING, 4);
    store(0, V1 + 5, 0x33);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V5 + 5), 0x33));
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 0));
    cr_assert(eq(u32, rec.n, 0));
    close_cache();
}

/* VIVT: a PTE change without a cache flush leaves the line, so the address still reads the
 * old page's byte (reported: the line holds page A, the PTE maps B); a flush of that page on
 * that CPU ends it. */
Test(cache, vivt_remap_without_flush_reads_old_page)
{
    open_cache(HM_CACHE_VIVT, 4);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V1 + 5), 0xAA));
    cr_assert(eq(int, mach.set_pte(mach.m, V1, PTE(HIGH_B)), 0));
    mach.flush_tlb_page(mach.m, HM_CPU_ALL, V1); /* the TLB is right: only the cache is stale */
    cr_assert(eq(u8, sim_load_ok(sim, 0, V1 + 5), 0xAA), "the old page's byte");
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 1));
    cr_assert(eq(u64, sim_stats(sim).stale_tlb_hits, 0));
    cr_assert(eq(u64, rec.last.b, HIGH_A));
    cr_assert(eq(u8, sim_load_ok(sim, 1, V1 + 5), 0xBB), "CPU 1 never cached V1");

    mach.flush_cache_page(mach.m, 1, V1); /* another CPU's flush leaves CPU 0's line */
    cr_assert(eq(u8, sim_load_ok(sim, 0, V1 + 5), 0xAA));
    mach.flush_cache_page(mach.m, 0, V1);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V1 + 5), 0xBB));
    cr_assert(eq(u64, sim_stats(sim).cache_page_flushes, 2));
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 2));
    close_cache();
}

/* VIVT: a dirty line goes back to the frame it came from, not to the one the PTE maps now. */
Test(cache, vivt_write_back_goes_to_the_lines_frame)
{
    open_cache(HM_CACHE_VIVT, 4);
    store(0, V1 + 5, 0x44);
    cr_assert(eq(int, mach.set_pte(mach.m, V1, PTE(HIGH_B)), 0));
    mach.flush_tlb_page(mach.m, HM_CPU_ALL, V1);
    store(0, V1 + 6, 0x45); /* hits the stale line: lands in page A too */
    mach.flush_cache_all(mach.m);
    cr_assert(eq(u8, phys(HIGH_A, 5), 0x44));
    cr_assert(eq(u8, phys(HIGH_A, 6), 0x45));
    cr_assert(eq(u8, phys(HIGH_B, 5), 0xBB));
    cr_assert(eq(u8, phys(HIGH_B, 6), 0));
    close_cache();
}

/* VIPT: the tag is physical, so a remap is seen at once (no stale line). */
Test(cache, vipt_remap_needs_no_cache_flush)
{
    open_cache(HM_CACHE_VIPT_ALIASING, 4);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V1 + 5), 0xAA));
    cr_assert(eq(int, mach.set_pte(mach.m, V1, PTE(HIGH_B)), 0));
    mach.flush_tlb_page(mach.m, HM_CPU_ALL, V1);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V1 + 5), 0xBB));
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 0));
    close_cache();
}

/* VIPT flush_cache_page finds the lines through the page's translation. */
Test(cache, vipt_flush_cache_page_writes_back)
{
    open_cache(HM_CACHE_VIPT_ALIASING, 4);
    store(0, V1 + 5, 0x55);
    mach.flush_cache_page(mach.m, HM_CPU_ALL, V2); /* the other colour: not V1's line */
    cr_assert(eq(u8, phys(HIGH_A, 5), 0xAA));
    mach.flush_cache_page(mach.m, HM_CPU_ALL, V1);
    cr_assert(eq(u8, phys(HIGH_A, 5), 0x55));
    cr_assert(eq(u8, sim_load_ok(sim, 0, V2 + 5), 0x55));
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 0));
    close_cache();
}

/* The same line on two CPUs is kept coherent (a snooping bus); aliases are not. */
Test(cache, cpus_coherent_for_the_same_line)
{
    open_cache(HM_CACHE_VIVT, 4);
    cr_assert(eq(u8, sim_load_ok(sim, 1, V1 + 5), 0xAA));
    store(0, V1 + 5, 0x66);
    cr_assert(eq(u8, sim_load_ok(sim, 1, V1 + 5), 0x66));
    store(1, V1 + 5, 0x67);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V1 + 5), 0x67));
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 0));
    /* memory has 0x67 (CPU 0's load had CPU 1's dirty line written back first) */
    store(0, V1 + 5, 0x68);
    cr_assert(eq(u8, sim_load_ok(sim, 1, V2 + 5), 0x67), "another CPU's alias is still incoherent");
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 1));
    close_cache();
}

/* PIPT: no aliases, every load reads the newest byte; only memory lags (write-back). */
Test(cache, pipt_never_stale)
{
    open_cache(HM_CACHE_PIPT, 4);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V2 + 5), 0xAA));
    store(0, V1 + 5, 0x77);
    cr_assert(eq(u8, sim_load_ok(sim, 0, V2 + 5), 0x77));
    cr_assert(eq(u8, sim_load_ok(sim, 1, V5 + 5), 0x77));
    cr_assert(eq(u8, sim_load_ok(sim, 0, 0xc0000000u + 7), 0), "the direct map goes through the cache too");
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 0));
    cr_assert(eq(u32, rec.n, 0));
    cr_assert(gt(u64, sim_stats(sim).cache_hits + sim_stats(sim).cache_misses, 0));
    close_cache();
}

/* Turning the model off writes every dirty line back. */
Test(cache, off_writes_back)
{
    open_cache(HM_CACHE_VIVT, 4);
    store(0, V1 + 5, 0x88);
    cr_assert(eq(u8, phys(HIGH_A, 5), 0xAA));
    cr_assert(eq(int, hm_sim_set_cache(sim, 0), HM_OK));
    cr_assert(eq(int, hm_sim_cache_on(sim), 0));
    cr_assert(eq(u8, phys(HIGH_A, 5), 0x88));
    cr_assert(eq(u8, sim_load_ok(sim, 0, V2 + 5), 0x88));
    close_cache();
}

/* A reset forgets every line (nothing written back) and leaves the model off; turned on
 * again, the cache is empty. */
Test(cache, reset_clears_the_cache)
{
    open_cache(HM_CACHE_VIVT, 4);
    store(0, V1 + 5, 0x99);
    cr_assert(eq(int, hm_sim_reset(sim, &layout, &test_arch, record, &rec), HM_OK));
    cr_assert(eq(int, hm_sim_cache_on(sim), 0));
    struct hm_sim_stats st = sim_stats(sim);
    cr_assert(eq(u64, st.cache_hits + st.cache_misses + st.cache_writebacks + st.stale_cache_reads, 0));
    cr_assert(eq(int, hm_sim_set_cache(sim, 1), HM_OK));
    cr_assert(eq(int, mach.set_pte(mach.m, V1, PTE(HIGH_A)), 0));
    cr_assert(eq(int, mach.set_pte(mach.m, V2, PTE(HIGH_A)), 0));
    cr_assert(eq(u8, sim_load_ok(sim, 0, V1 + 5), 0), "no line survived: memory is zero again");
    cr_assert(eq(u8, phys(HIGH_A, 5), 0));
    mach.flush_cache_all(mach.m);
    cr_assert(eq(u8, phys(HIGH_A, 5), 0), "no dirty line came back after the reset");
    cr_assert(eq(u64, sim_stats(sim).cache_misses, 1));
    cr_assert(eq(u64, sim_stats(sim).stale_cache_reads, 0));
    close_cache();
}

/* Bad geometries are refused and leave the model off; NULL is refused. */
Test(cache, bad_geometry_refused)
{
    layout = make_layout();
    layout.cache_kind = HM_CACHE_VIVT;
    layout.cache_colours = 3;
    sim = hm_sim_new(&layout, &test_arch, NULL, NULL);
    cr_assert(not(eq(ptr, sim, NULL)));
    cr_assert(eq(int, hm_sim_set_cache(sim, 1), HM_EINVAL));
    cr_assert(eq(int, hm_sim_cache_on(sim), 0));
    layout.cache_colours = 4;
    layout.cache_kind = 7;
    cr_assert(eq(int, hm_sim_reset(sim, &layout, &test_arch, NULL, NULL), HM_OK));
    cr_assert(eq(int, hm_sim_set_cache(sim, 1), HM_EINVAL));
    cr_assert(eq(int, hm_sim_set_cache(NULL, 1), HM_EINVAL));
    cr_assert(eq(int, hm_sim_cache_on(NULL), 0));
    hm_sim_free(sim);
    sim = NULL;
}

/* ---------------------------------------------------------------------------------------
 * Through the library: a harness machine of an arch, the cache model as asked.
 * ------------------------------------------------------------------------------------- */
static struct harness_machine hm;
static int drop_cache_flushes;

/* The "arch copy" whose flush_cache_all does nothing: the same fronts on a machine whose hook
 * is gone (a NULL hook is a no-op for the core). */
static void adapt(void *cookie, struct hm_machine *hw)
{
    (void)cookie;
    if (drop_cache_flushes)
        hw->flush_cache_all = NULL;
}

static void open_arch(const char *arch, int cache, int drop)
{
    struct hm_config cfg;
    struct harness_hooks hooks;
    char err[160];
    memset(&cfg, 0, sizeof cfg);
    memset(&hooks, 0, sizeof hooks);
    cfg.arch = hm_arch_find(arch);
    cr_assert(not(eq(ptr, (void *)cfg.arch, NULL)));
    cfg.nr_cpus = 2;
    hooks.cache = cache;
    hooks.capture = 1;
    hooks.adapt = adapt;
    drop_cache_flushes = drop;
    memset(&hm, 0, sizeof hm);
    cr_assert(eq(int, harness_machine_open(&hm, &cfg, &hooks, err, sizeof err), 0), "%s", err);
}

/* kmap a highmem page, store through its pkmap address on CPU 0, then kmap_atomic it on
 * CPU 0 (KM_USER0) and load through the atomic slot: the byte read. */
static uint8_t store_kmap_load_atomic(void)
{
    hm_pfn_t pfn = hm.layout.highmem_start_pfn + 3u;
    hm_vaddr_t pk, at;
    uint8_t v = 0xee;
    cr_assert(eq(int, hm_kmap(hm.ctx, pfn, &pk), HM_OK));
    cr_assert(eq(int, hm_sim_store(hm.sim, 0, pk + 9, 0x5A), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(hm.ctx, 0, pfn, 3, &at), HM_OK));
    cr_assert(not(eq(u64, pk >> 12, at >> 12)));
    cr_assert(eq(int, hm_sim_load(hm.sim, 0, at + 9, &v), HM_OK));
    return v;
}

Test(cache_arch, sparc_kmap_atomic_flush_gives_the_right_byte)
{
    open_arch("sparc", HARNESS_CACHE_ON, 0);
    cr_assert(eq(int, hm_sim_cache_on(hm.sim), 1));
    cr_assert(eq(u8, store_kmap_load_atomic(), 0x5A));
    cr_assert(eq(u64, sim_stats(hm.sim).stale_cache_reads, 0));
    cr_assert(ge(u64, sim_stats(hm.sim).cache_flushes, 1));
    harness_machine_close(&hm);
}

Test(cache_arch, sparc_kmap_atomic_without_its_flush_reads_the_old_byte)
{
    open_arch("sparc", HARNESS_CACHE_ON, 1);
    cr_assert(eq(u8, store_kmap_load_atomic(), 0), "the pkmap alias's store is still in its line");
    cr_assert(eq(u64, sim_stats(hm.sim).stale_cache_reads, 1));
    cr_assert(eq(u64, sim_stats(hm.sim).cache_flushes, 0));
    cr_assert(eq(u64, hm.stale_cache, 1), "the harness counts the event");
    harness_machine_close(&hm);
}

/* What the kernel leaves to its callers: sparc's kunmap_atomic (no DEBUG_HIGHMEM) does not
 * flush, so a store through the atomic slot is not yet seen through the pkmap alias. */
Test(cache_arch, sparc_kunmap_atomic_leaves_the_store_in_the_slot_line)
{
    hm_pfn_t pfn;
    hm_vaddr_t pk, at;
    uint8_t v = 0xee;
    open_arch("sparc", HARNESS_CACHE_ON, 0);
    pfn = hm.layout.highmem_start_pfn + 4u;
    cr_assert(eq(int, hm_kmap(hm.ctx, pfn, &pk), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(hm.ctx, 0, pfn, 3, &at), HM_OK));
    cr_assert(eq(int, hm_sim_store(hm.sim, 0, at, 0x3C), HM_OK));
    cr_assert(eq(int, hm_kunmap_atomic(hm.ctx, 0, at, 3), HM_OK));
    cr_assert(eq(int, hm_sim_load(hm.sim, 0, pk, &v), HM_OK));
    cr_assert(eq(u8, v, 0));
    cr_assert(eq(u64, sim_stats(hm.sim).stale_cache_reads, 1));
    hm_core_flush_cache_all(hm.ctx);
    cr_assert(eq(int, hm_sim_load(hm.sim, 0, pk, &v), HM_OK));
    cr_assert(eq(u8, v, 0x3C));
    harness_machine_close(&hm);
}

/* The model is off unless asked for, on every arch: the recorded outputs, the workloads and the
 * fuzz model have no cache (and no callers' flush_dcache_page). */
Test(cache_arch, defaults)
{
    for (unsigned i = 0; hm_arch_at(i); i++) {
        const struct hm_arch *a = hm_arch_at(i);
        open_arch(hm_arch_name(a), HARNESS_CACHE_DEFAULT, 0);
        cr_assert(eq(int, hm_sim_cache_on(hm.sim), 0), "%s", hm_arch_name(a));
        cr_assert(eq(u32, hm.layout.cache_kind, a->cache_kind), "%s: copied into the layout", hm_arch_name(a));
        cr_assert(eq(u32, hm.layout.cache_colours, a->cache_colours), "%s", hm_arch_name(a));
        harness_machine_close(&hm);
    }
    cr_assert(eq(u32, hm_arch_find("sparc")->cache_kind, HM_CACHE_VIVT));
    cr_assert(eq(u32, hm_arch_find("arm")->cache_kind, HM_CACHE_VIVT));
    cr_assert(eq(u32, hm_arch_find("xtensa")->cache_kind, HM_CACHE_VIPT_ALIASING));
    cr_assert(eq(u32, hm_arch_find("xtensa")->cache_colours, 2));
    cr_assert(eq(u32, hm_arch_find("x86")->cache_kind, HM_CACHE_PIPT));
    cr_assert(eq(u32, hm_arch_find("ppc")->cache_kind, HM_CACHE_PIPT));
    cr_assert(eq(u32, hm_arch_find("arm-vipt")->cache_kind, HM_CACHE_PIPT));
}

/* PIPT arches are unaffected with the model on: x86 maps without flushing caches, and the
 * atomic slot still reads the pkmap alias's store. */
Test(cache_arch, x86_with_the_model_on_is_unaffected)
{
    open_arch("x86", HARNESS_CACHE_ON, 0);
    cr_assert(eq(int, hm_sim_cache_on(hm.sim), 1));
    cr_assert(eq(u8, store_kmap_load_atomic(), 0x5A));
    cr_assert(eq(u64, sim_stats(hm.sim).stale_cache_reads, 0));
    cr_assert(eq(u64, sim_stats(hm.sim).cache_flushes, 0));
    harness_machine_close(&hm);
}

static unsigned page_flush_events;

static void count_page_flushes(void *cookie, const struct hm_event *ev)
{
    (void)cookie;
    if (ev->kind == HM_EV_CACHE_FLUSH_PAGE)
        page_flush_events++;
}

/* hm_core_flush_cache_page: the event first (cpu, a = vaddr; trace word cache_flush_page),
 * then the machine's hook; a NULL hook is a no-op. */
Test(cache_arch, flush_cache_page_service)
{
    hm_vaddr_t pk;
    char buf[HARNESS_EV_LEN];
    open_arch("sparc", HARNESS_CACHE_ON, 0);
    cr_assert(eq(int, hm_kmap(hm.ctx, hm.layout.highmem_start_pfn, &pk), HM_OK));
    cr_assert(eq(int, hm_sim_store(hm.sim, 1, pk, 0x42), HM_OK));
    harness_machine_begin(&hm);
    hm_core_flush_cache_page(hm.ctx, 1, pk);
    cr_assert(eq(sz, hm.nev, 1));
    cr_assert(eq(int, hm.ev[0].kind, HM_EV_CACHE_FLUSH_PAGE));
    cr_assert(eq(u32, hm.ev[0].cpu, 1));
    cr_assert(eq(u64, hm.ev[0].a, pk));
    cr_assert(eq(int, print_event(&hm.ev[0], buf, sizeof buf), 1));
    char want[64];
    snprintf(want, sizeof want, "cache_flush_page 0x%" PRIx64, pk);
    cr_assert(eq(str, buf, want));
    cr_assert(eq(u64, sim_stats(hm.sim).cache_page_flushes, 1));
    uint8_t v = 0;
    cr_assert(eq(int, hm_sim_phys_read(hm.sim, hm.layout.highmem_start_pfn, 0, &v), HM_OK));
    cr_assert(eq(u8, v, 0x42), "the hook wrote CPU 1's line back");
    cr_assert(eq(str, (char *)hm_event_name(HM_EV_CACHE_FLUSH_PAGE), "cache_flush_page"));
    cr_assert(eq(str, (char *)hm_event_name(HM_EV_STALE_CACHE), "stale_cache"));
    harness_machine_close(&hm);

    /* a context on a machine without the hook: the event, nothing else */
    drop_cache_flushes = 0;
    open_arch("x86", HARNESS_CACHE_OFF, 0);
    hm.hw.flush_cache_page = NULL; /* the context keeps its own copy: rebuild one below */
    {
        struct hm_config cfg = hm.cfg;
        struct hm_machine hw = hm.hw;
        void *mem = NULL;
        struct hm_ctx *ctx = NULL;
        struct hm_hooks hooks = {.on_event = count_page_flushes};
        size_t size = hm_ctx_size(&cfg), align = hm_ctx_align();
        if (align < sizeof(void *))
            align = sizeof(void *);
        cr_assert(eq(int, posix_memalign(&mem, align, size), 0));
        cr_assert(eq(int, hm_ctx_init(mem, size, &cfg, &hw, &hooks, &ctx), HM_OK));
        page_flush_events = 0;
        hm_core_flush_cache_page(ctx, HM_CPU_ALL, 0xc0000000u);
        cr_assert(eq(u32, page_flush_events, 1), "the event, without a hook");
        cr_assert(eq(u64, sim_stats(hm.sim).cache_page_flushes, 0), "no hook was called");
        free(mem);
    }
    harness_machine_close(&hm);
}
