/* ppc_test.c - Criterion tests of the ppc32 backend: layout and constants (spec §4.1, §7), the PTE
 * over every pfn, the upward atomic window at KMAP_FIX_BEGIN with its per-page TLB flushes and
 * always-on HIGHMEM_DEBUG checks (§4.2, §9.17-§9.20), and in 5.11 the kmap_local wrapper in that
 * window with its local TLB flushes (§10.6), in the generation of the run (HM_TEST_KERNEL).
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <inttypes.h>
#include <string.h>

#include "testlib.h"

#define HIGH0 0x30000u /* CONFIG_LOWMEM_SIZE 768 MiB: highmem starts at pfn 0x30000 */
#define PG(n) (HIGH0 + 0x400u + (uint32_t)(n))
#define LOWPFN 0x1234u
#define KM_USER0 3u
#define KM_USER1 4u
#define KM_PPC_SYNC_PAGE 13u
#define KM_PPC_SYNC_ICACHE 14u
#define KM_TYPE_NR 15u
/* PAGE_KERNEL = PRESENT 0x001 | COHERENT 0x010 | DIRTY 0x080 | ACCESSED 0x100 | RW 0x400 = 0x591 */
#define PROT 0x591u
#define KPTE(pfn) ((((hm_pte_t)(pfn)) << 12) | PROT)
#define HASHPTE 0x002u

#define PKMAP_BASE 0xfe000000u     /* CONFIG_HIGHMEM_START */
#define KMAP_FIX_BEGIN 0xfe400000u /* PKMAP_BASE + 0x00400000 */
/* 5.11: KM_MAX_IDX (testlib.h) slots per CPU in the kmap window; the model keeps the window at
 * KMAP_FIX_BEGIN (docs/generations.md) */

TestSuite(ppc_layout, .fini = tl_fini, .timeout = 60);
TestSuite(ppc_atomic, .fini = tl_fini, .timeout = 60);
TestSuite(ppc_pkmap, .fini = tl_fini, .timeout = 60);

static struct tl *open_ppc(uint32_t last_pkmap, uint32_t cpus, int debug)
{
    return tl_open_arch("ppc", last_pkmap, cpus, debug, 0);
}

/* KMAP_FIX_BEGIN + (type + KM_TYPE_NR * cpu) * PAGE_SIZE: ascending */
static hm_vaddr_t slot_of(uint32_t cpu, unsigned type)
{
    return KMAP_FIX_BEGIN + ((type + KM_TYPE_NR * cpu) << 12);
}

static hm_pte_t kpte(hm_pfn_t pfn)
{
    return KPTE(pfn);
}

static const struct tl_arch_hand hand = {kpte, slot_of, +1, 0};

/* 5.11: KMAP_FIX_BEGIN + kmap_local_calc_idx(pos) * PAGE_SIZE, kmap_local_calc_idx(pos) = pos +
 * KM_MAX_IDX * cpu, pos the running task's stack position (mm/highmem.c 5.11) */
static hm_vaddr_t local_slot_of(uint32_t cpu, unsigned pos)
{
    return KMAP_FIX_BEGIN + ((pos + KM_MAX_IDX * cpu) << 12);
}

static const struct tl_arch_hand hand_local = {kpte, local_slot_of, +1, 0};

/* The kmap window's slots per CPU in generation `kernel`: KM_TYPE_NR (no fences on ppc), or
 * 5.11's KM_MAX_IDX */
static uint32_t km_slots(int kernel, int debug)
{
    if (kernel >= HM_KERNEL_5_11)
        return debug ? KM_MAX_IDX_DEBUG : KM_MAX_IDX;
    return KM_TYPE_NR;
}

/* ---------------------------------------------------------------------------------------
 * Layout.
 * ------------------------------------------------------------------------------------- */
Test(ppc_layout, documented_defaults)
{
    struct tl *t = open_ppc(0, 1, 0);
    const struct hm_layout *l = hm_ctx_layout(t->ctx);
    cr_assert(not(eq(ptr, (void *)l, NULL)));
    cr_assert(eq(str, (char *)hm_arch_name(t->cfg.arch), "ppc"));
    cr_assert(eq(u64, l->pkmap_base, PKMAP_BASE));
    /* LAST_PKMAP = 1 << PTE_SHIFT, PTE_SHIFT = PAGE_SHIFT - log2(sizeof(pte_t)) = 12 - 2 = 10 */
    cr_assert(eq(u32, l->last_pkmap, 1u << (12 - 2)));
    cr_assert(eq(u32, l->last_pkmap, 1024));
    cr_assert(eq(u32, l->pte_bytes, 4));
    /* the atomic window starts 4 MiB above PKMAP_BASE, just where the 1024-page window ends:
     * 0xfe000000 + 1024*4K = 0xfe400000 */
    cr_assert(eq(u64, l->kmap_atomic_base, KMAP_FIX_BEGIN));
    cr_assert(eq(u64, l->pkmap_base + l->last_pkmap * 4096u, KMAP_FIX_BEGIN));
    cr_assert(eq(int, l->kmap_atomic_dir, 1));
    cr_assert(eq(u32, l->km_type_nr, km_slots(t->cfg.kernel, 0))); /* 15, 5.11: 16 */
    cr_assert(eq(u32, l->nr_km_types, 15));
    cr_assert(eq(u32, l->config_nr_cpus, 4));
    /* memory: PAGE_OFFSET 0xc0000000, 768 MiB lowmem, 256 MiB highmem */
    cr_assert(eq(u64, l->page_offset, 0xc0000000u));
    cr_assert(eq(u32, l->highmem_start_pfn, 0x30000u));
    cr_assert(eq(u32, l->max_pfn, 0x40000u));
    cr_assert(eq(u64, l->high_memory, 0xf0000000u)); /* 0xc0000000 + 0x30000000 */
    /* VMALLOC_END = ioremap_bot = PKMAP_BASE; VMALLOC_START = (0xf0000000 + 16M) & ~(16M-1) */
    cr_assert(eq(u64, l->vmalloc_end, 0xfe000000u));
    cr_assert(eq(u64, l->vmalloc_start, 0xf1000000u));
    /* the page-table window: the pkmap area plus 15 * 4 atomic slots:
     * [0xfe000000, 0xfe400000 + 60*4K = 0xfe43c000); 5.11: 16 * 4 slots, up to 0xfe440000 */
    cr_assert(eq(u64, l->pt_start, 0xfe000000u));
    cr_assert(eq(u32, l->pt_pages, t->cfg.kernel >= HM_KERNEL_5_11 ? 1024u + 64u : 1024u + 60u));
}

Test(ppc_layout, km_types_have_the_two_ppc_types)
{
    tl_expect_km_type_names(open_ppc(8, 1, 0), 15);
    /* no DEBUG_HIGHMEM fences on ppc; 5.11's DEBUG_KMAP_LOCAL makes KM_MAX_IDX 33 on every arch */
    struct tl *t = open_ppc(8, 1, 1);
    cr_assert(eq(u32, t->layout.km_type_nr, t->cfg.kernel >= HM_KERNEL_5_11 ? 33u : 15u));
    cr_assert(eq(u32, t->layout.nr_km_types, 15));
}

Test(ppc_layout, nr_cpus_raised_when_larger)
{
    struct tl *t = open_ppc(0, 6, 0);
    /* NR_CPUS 4 raised to 6: 15 * 6 = 90 atomic slots; 5.11: 16 * 6 = 96 */
    cr_assert(eq(u32, t->layout.config_nr_cpus, 6));
    cr_assert(eq(u32, t->layout.pt_pages, t->cfg.kernel >= HM_KERNEL_5_11 ? 1024u + 96u : 1024u + 90u));
    cr_assert(eq(u64, t->layout.pkmap_base, PKMAP_BASE));
}

/* ---------------------------------------------------------------------------------------
 * PTE format: pfn << 12 | 0x591 for every pfn of a 32-bit physical space (pfn < 2^20).
 * ------------------------------------------------------------------------------------- */
Test(ppc_layout, pte_round_trip_every_pfn)
{
    struct tl *t = open_ppc(8, 1, 0);
    tl_assert_pte_every_pfn(t, &hand, 1u << 20, HASHPTE);
    cr_assert(eq(u64, hm_mk_kmap_pte(t->ctx, 0xfffffu), 0xfffff591ull));
    /* pte_none ignores _PAGE_HASHPTE (0x002): _PTE_NONE_MASK */
    cr_assert(not(eq(int, hm_pte_none(t->ctx, 0), 0)));
    cr_assert(not(eq(int, hm_pte_none(t->ctx, HASHPTE), 0)));
    cr_assert(eq(int, hm_pte_none(t->ctx, 0x001u | HASHPTE), 0));
}

/* ---------------------------------------------------------------------------------------
 * Atomic slots: KMAP_FIX_BEGIN + idx*4K, idx = type + 15*cpu, ascending.
 * ------------------------------------------------------------------------------------- */
/* 2.6.24: the slot of (cpu, type); 5.11: of the stack position (the 15 nested types take
 * positions 0..14 of each CPU's stack). */
Test(ppc_atomic, slot_addresses_ascend_with_type_and_cpu)
{
    struct tl *t = open_ppc(8, 4, 0);
    hm_vaddr_t last = t->layout.pt_start + (t->layout.pt_pages - 1u) * 4096u;
    tl_map_every_atomic_slot(t, tl_arch_hand_of(t, &hand, &hand_local), 4, KM_TYPE_NR, PG(0));
    if (tl_atomic_is_local(t)) {
        /* by hand: cpu 0 position 3 = 0xfe400000 + 3*4K = 0xfe403000;
         * cpu 1 position 3: 3 + 16 = 19 -> 0xfe413000; cpu 3 position 14: 14 + 48 = 62 ->
         * 0xfe43e000; position 15 of cpu 3 (63 -> 0xfe43f000) is the last page of the window */
        cr_assert(eq(u64, local_slot_of(0, 3), 0xfe403000u));
        cr_assert(eq(u64, local_slot_of(1, 3), 0xfe413000u));
        cr_assert(eq(u64, local_slot_of(3, 14), 0xfe43e000u));
        cr_assert(eq(u64, last, 0xfe43f000u));
    } else {
        /* by hand: cpu 0 KM_USER0 = 0xfe400000 + 3*4K = 0xfe403000;
         * cpu 1 KM_USER0: 3 + 15 = 18 -> 0xfe400000 + 0x12000 = 0xfe412000;
         * cpu 2 KM_PPC_SYNC_PAGE: 13 + 30 = 43 -> 0xfe42b000;
         * cpu 3 KM_PPC_SYNC_ICACHE: 14 + 45 = 59 -> 0xfe43b000, the last page of the window */
        cr_assert(eq(u64, slot_of(0, KM_USER0), 0xfe403000u));
        cr_assert(eq(u64, slot_of(1, KM_USER0), 0xfe412000u));
        cr_assert(eq(u64, slot_of(2, KM_PPC_SYNC_PAGE), 0xfe42b000u));
        cr_assert(eq(u64, slot_of(3, KM_PPC_SYNC_ICACHE), 0xfe43b000u));
        cr_assert(eq(u64, last, 0xfe43b000u));
    }
}

/* §4.2: set_pte_at then flush_tlb_page(NULL, vaddr) on map; pte_clear then flush_tlb_page on
 * unmap. flush_tlb_page(NULL, ...) is not limited to the local CPU (HM_CPU_ALL). 5.11's hooks
 * (arch/powerpc/include/asm/highmem.h) flush the same page after a map and after an unmap, with
 * local_flush_tlb_page: this CPU's entry only. */
Test(ppc_atomic, map_and_unmap_each_flush_the_page)
{
    struct tl *t = open_ppc(8, 2, 0);
    static const int map_ev[] = {HM_EV_PTE_SET, HM_EV_TLB_FLUSH_PAGE};
    int local = tl_atomic_is_local(t);
    /* cpu 1 KM_USER0: 3 + 15 = 18 -> 0xfe412000; 5.11, cpu 1 position 0: 16 -> 0xfe410000 */
    const hm_vaddr_t slot = local ? 0xfe410000u : 0xfe412000u;
    const uint32_t flush_cpu = local ? 1u : HM_CPU_ALL;
    hm_vaddr_t v = 0;
    tl_mark(t, PG(0), 0x61);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(u64, v, slot));
    tl_assert_ev_kinds(t, 0, map_ev, 2, "kmap_atomic");
    tl_assert_pte_set_ev(t, 0, slot, PG(0), KPTE(PG(0)));
    cr_assert(eq(u64, t->ev[1].a, slot));
    cr_assert(eq(u32, t->ev[1].cpu, flush_cpu));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 1));
    cr_assert(eq(u8, tl_load(t, 0, v), 0x61));
    cr_assert(eq(u8, tl_load(t, 1, v), 0x61));

    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, v + 0xabcu, KM_USER0), HM_OK));
    tl_assert_clear_flush_page_ev(t, 0, slot, flush_cpu, "kunmap_atomic");
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 1, v, NULL), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
    uint8_t b = 0;
    cr_assert(eq(int, tl_try_load(t, 1, v, &b), HM_EFAULT));
    /* 2.6.24: unlike x86's local invlpg, both CPUs lost the entry; 5.11: cpu 0 keeps its own (a
     * local mapping is its CPU's alone) */
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 0, v, NULL), local ? 1 : 0));
    if (!local)
        cr_assert(eq(int, tl_try_load(t, 0, v, &b), HM_EFAULT));
}

Test(ppc_atomic, prot_bits_and_lowmem_shortcut)
{
    struct tl *t = open_ppc(8, 1, 0);
    hm_vaddr_t v = 0;
    /* kmap_atomic_prot: PRESENT | ACCESSED | RW without DIRTY and COHERENT = 0x501 */
    cr_assert(eq(int, hm_kmap_atomic_prot(t->ctx, 0, PG(1), KM_USER1, 0x501u, &v), HM_OK));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), ((hm_pte_t)PG(1) << 12) | 0x501u));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER1), HM_OK));
    /* a lowmem page: page_address, no event, pagefaults disabled all the same */
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, LOWPFN, KM_USER0, &v), HM_OK));
    cr_assert(eq(u64, v, 0xc1234000u));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, LOWPFN, KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        /* 5.11's kmap_atomic_pfn is __kmap_local_pfn_prot: any pfn, lowmem too, is mapped at the
         * stack's next position (0: 0xfe400000) and flushed from this CPU's TLB */
        static const int map_ev[] = {HM_EV_PTE_SET, HM_EV_TLB_FLUSH_PAGE};
        cr_assert(eq(u64, v, 0xfe400000u));
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(LOWPFN)));
        tl_assert_ev_kinds(t, 0, map_ev, 2, "kmap_atomic_pfn of a lowmem pfn");
        cr_assert(eq(u32, t->ev[1].cpu, 0));
    } else {
        /* kmap_atomic_pfn is not in the ppc header: it is kmap_atomic(pfn_to_page(pfn)), so a
         * lowmem pfn takes the shortcut (x86's own version would map it into the slot) */
        cr_assert(eq(u64, v, 0xc1234000u));
        cr_assert(eq(u64, hm_sim_pte(t->sim, slot_of(0, KM_USER0)), 0));
        cr_assert(eq(sz, t->nev, 0));
    }
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, 0xfe400000u), 0));
}

/* 2.6.24: HIGHMEM_DEBUG is always 1: the none-check of the type's slot runs without
 * CONFIG_DEBUG_HIGHMEM, and kmap_atomic_pfn goes through it too. 5.11, debug or not: the type is
 * ignored, each nested mapping is pushed to the stack's next position (the next odd one under
 * DEBUG_KMAP_LOCAL). */
Test(ppc_atomic, nested_same_type_is_busy_or_pushed)
{
    for (int debug = 0; debug <= 1; debug++) {
        struct tl *t = open_ppc(8, 1, debug);
        hm_vaddr_t v = 0, v2 = 0;
        struct tl_snap s;
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
        if (tl_atomic_is_local(t)) {
            cr_assert(eq(u64, v, local_slot_of(0, tl_local_pos(debug, 0))));
            cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &v2), HM_OK));
            cr_assert(eq(u64, v2, local_slot_of(0, tl_local_pos(debug, 1))));
            cr_assert(eq(u64, hm_sim_pte(t->sim, v2), KPTE(PG(1))));
            cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, PG(2), KM_USER0, &v2), HM_OK));
            cr_assert(eq(u64, v2, local_slot_of(0, tl_local_pos(debug, 2))));
            cr_assert(eq(u64, hm_sim_pte(t->sim, v2), KPTE(PG(2))));
            cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 3));
            cr_assert(eq(sz, t->nbugs, 0));
        } else {
            cr_assert(eq(u64, v, slot_of(0, KM_USER0)));
            tl_assert_kmap_atomic_busy(t, 0, PG(1), KM_USER0, "kmap_atomic",
                                       debug ? "nested kmap_atomic, debug" : "nested kmap_atomic");
            /* kmap_atomic_pfn goes through the same check */
            tl_snap_take(t, &s);
            cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, PG(1), KM_USER0, &v2), HM_EBUSY));
            tl_snap_assert_same(t, &s, "nested kmap_atomic_pfn");
        }
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
    }
}

/* The none-check uses the arch's pte_none: a slot whose PTE holds only _PAGE_HASHPTE is free.
 * 2.6.24: kmap_atomic's HIGHMEM_DEBUG check of the type's slot; 5.11: kmap_local's
 * BUG_ON(!pte_none(*(kmap_pte - idx))) of the stack position's (LOCAL_BUSY). */
Test(ppc_atomic, hashpte_only_slot_is_free)
{
    struct tl *t = open_ppc(8, 1, 0);
    int local = tl_atomic_is_local(t);
    /* KM_USER0's slot, 0xfe400000 + 3*4K; 5.11: position 0's, KMAP_FIX_BEGIN itself */
    const hm_vaddr_t slot = local ? 0xfe400000u : 0xfe403000u;
    hm_vaddr_t v = 0;
    t->wrap.lie_on = 1;
    t->wrap.lie_vaddr = slot;
    t->wrap.lie_pte = HASHPTE;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(u64, v, slot));
    /* and a present PTE is busy */
    t->wrap.lie_pte = HASHPTE | 0x001u | ((hm_pte_t)PG(3) << 12);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_EBUSY));
    if (local)
        tl_assert_last_bug(t, HM_BUG_LOCAL_BUSY, HM_EBUSY, "__kmap_local_pfn_prot");
    else
        tl_assert_last_bug(t, HM_BUG_ATOMIC_BUSY, HM_EBUSY, "kmap_atomic");
    cr_assert(eq(u64, tl_last_bug(t)->arg, slot));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
}

/* 2.6.24: BUG_ON(vaddr != KMAP_FIX_BEGIN + idx * PAGE_SIZE) for the wrong type or CPU. 5.11:
 * the type is ignored (the address names the slot); another CPU's slot is not this CPU's top:
 * LOCAL_NOT_TOP, nothing changed. */
Test(ppc_atomic, wrong_type_or_cpu_unmap)
{
    struct tl *t = open_ppc(8, 2, 0);
    hm_vaddr_t v = 0, w = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        cr_assert(eq(u64, v, 0xfe400000u)); /* cpu 0 position 0 */
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(1), KM_USER1, &w), HM_OK));
        cr_assert(eq(u64, w, 0xfe410000u)); /* cpu 1 position 0: 16 pages up */
        tl_assert_kunmap_atomic_refused(t, 1, v, KM_USER0, HM_BUG_LOCAL_NOT_TOP, "kunmap_local_indexed",
                                        "cpu 0's slot unmapped on cpu 1");
        tl_assert_kunmap_atomic_refused(t, 0, w, KM_USER1, HM_BUG_LOCAL_NOT_TOP, "kunmap_local_indexed",
                                        "cpu 1's slot unmapped on cpu 0");
        /* any type: the other type than each was mapped with */
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER1), HM_OK));
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, w, KM_USER0), HM_OK));
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
        cr_assert(eq(u64, hm_sim_pte(t->sim, w), 0));
    } else {
        /* wrong type: v = 0xfe403000 >= KMAP_FIX_BEGIN but KM_USER1's slot is 0xfe404000 */
        tl_assert_kunmap_atomic_bug(t, 0, v, KM_USER1, HM_BUG_ATOMIC_BAD_ADDR, "wrong-type kunmap_atomic");
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
        cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
        /* wrong cpu: cpu 1's KM_USER0 slot is 0xfe412000 */
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(1), KM_USER1, &w), HM_OK));
        tl_assert_kunmap_atomic_bug(t, 1, v, KM_USER0, HM_BUG_ATOMIC_BAD_ADDR, "wrong-cpu kunmap_atomic");
        /* the right ones work */
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, w, KM_USER1), HM_OK));
    }
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
}

/* Below KMAP_FIX_BEGIN, kunmap_atomic only re-enables pagefaults: lowmem and pkmap addresses.
 * 5.11 likewise: kunmap_local_indexed of an address outside the kmap window at or above
 * PAGE_OFFSET pops nothing (ppc has no kmap_high_get), then pagefault_enable. */
Test(ppc_atomic, unmap_below_kmap_fix_begin_is_pagefault_enable_only)
{
    struct tl *t = open_ppc(8, 1, 0);
    hm_vaddr_t v = 0;
    const hm_vaddr_t addrs[] = {0xc1234000u, PKMAP_BASE + 0x1000u, KMAP_FIX_BEGIN - 1u};
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER1, &v), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(2), 9u /* KM_IRQ0 */, &v), HM_OK));
    for (unsigned i = 0; i < 3; i++) {
        size_t from = t->nev;
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, addrs[i], KM_USER0), HM_OK), "0x%" PRIx64, addrs[i]);
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 2 - (int)i));
        cr_assert(eq(sz, t->nev, from), "0x%" PRIx64 ": no event", addrs[i]);
    }
    /* the first mapping's slot stays mapped (KM_USER0's: the next kmap_atomic of that type
     * BUGs; 5.11: position 0's, and nothing was popped from the stack) */
    if (tl_atomic_is_local(t)) {
        cr_assert(eq(u64, hm_sim_pte(t->sim, local_slot_of(0, 0)), KPTE(PG(0))));
        cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 3));
    } else {
        cr_assert(eq(u64, hm_sim_pte(t->sim, slot_of(0, KM_USER0)), KPTE(PG(0))));
    }
    cr_assert(eq(sz, t->nbugs, 0));
    /* depth 0 now: another one is unbalanced */
    tl_assert_kunmap_atomic_bug(t, 0, 0xc1234000u, KM_USER0, HM_BUG_ATOMIC_UNBALANCED,
                                "unbalanced kunmap_atomic");
}

/* ---------------------------------------------------------------------------------------
 * kmap_atomic_to_page (§4.2, §9.20) and kmap_to_page.
 * ------------------------------------------------------------------------------------- */
Test(ppc_atomic, kmap_atomic_to_page_quirks)
{
    struct tl *t = open_ppc(0, 1, 0);
    hm_pfn_t pfn = 0;
    hm_vaddr_t av = 0, pv = tl_kmap(t, PG(6));
    cr_assert(eq(u64, pv, 0xfe001000u)); /* PKMAP_ADDR(1) */
    /* virt_to_page garbage: (0xfe001000 - 0xc0000000) >> 12 = 0x3e001 */
    tl_assert_pkmap_atomic_to_page_quirk(t, pv, PG(6), 0x3e001u, 0x10u);
    /* an atomic slot: (v - KMAP_FIX_BEGIN) >> 12 indexes kmap_pte */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(7), KM_PPC_SYNC_PAGE, &av), HM_OK));
    /* 0xfe400000 + 13*4K; 5.11: position 0, KMAP_FIX_BEGIN */
    cr_assert(eq(u64, av, tl_atomic_is_local(t) ? 0xfe400000u : 0xfe40d000u));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, av + 0x123u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(7)));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, av, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(7)));
    /* the direct map */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xc1234567u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x1234u));
}

/* ---------------------------------------------------------------------------------------
 * pkmap on ppc: flush_cache_kmaps = flush_cache_all, kmap/kunmap context checks.
 * ------------------------------------------------------------------------------------- */
/* flush_cache_kmaps (flush_cache_all) first, in every generation; the TLB flush after the loop
 * always in 2.6.24, only when a slot was freed from 2.6.30 on (need_flush, S19). */
Test(ppc_pkmap, flush_all_zero_pkmaps_starts_with_cache_flush)
{
    struct tl *t = open_ppc(4, 1, 0);
    static const int unused_ev[] = {HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_EV_CACHE_FLUSH_ALL,
                                    HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_RANGE, HM_EV_FLUSH_DONE};
    static const int empty_ev[] = {HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_EV_CACHE_FLUSH_ALL,
                                   HM_EV_TLB_FLUSH_RANGE, HM_EV_FLUSH_DONE, HM_EV_PTE_SET};
    static const int empty_need_flush_ev[] = {HM_EV_FLUSH_ALL_ZERO_PKMAPS, HM_EV_CACHE_FLUSH_ALL,
                                              HM_EV_FLUSH_DONE, HM_EV_PTE_SET};
    tl_kmap(t, PG(0)); /* slot 1 */
    tl_kunmap(t, PG(0));
    tl_assert_flush_unused_events(t, unused_ev, 5, "kmap_flush_unused");
    cr_assert(eq(u64, t->ev[2].a, 0xfe001000u));
    /* [PKMAP_ADDR(0), PKMAP_ADDR(4)) = [0xfe000000, 0xfe004000) */
    cr_assert(eq(u64, t->ev[3].a, 0xfe000000u));
    cr_assert(eq(u64, t->ev[3].b, 0xfe004000u));
    /* a wrap with nothing to free still flushes the cache first */
    tl_kmap(t, PG(1)); /* slot 2 */
    tl_kmap(t, PG(2)); /* slot 3 */
    tl_ev_clear(t);
    cr_assert(eq(u64, tl_kmap(t, PG(3)), 0xfe000000u)); /* wraps to slot 0 */
    if (tl_flush_only_when_freed(t))
        tl_assert_ev_kinds(t, 0, empty_need_flush_ev, 4, "wrap, nothing freed: no TLB flush");
    else
        tl_assert_ev_kinds(t, 0, empty_ev, 5, "wrap");
    cr_assert(eq(u64, tl_sim_stats(t).cache_flushes, 2));
}

Test(ppc_pkmap, kmap_in_interrupt_allowed_kunmap_bugs)
{
    struct tl *t = open_ppc(8, 1, 0);
    hm_sim_set_in_interrupt(t->sim, 1);
    /* ppc kmap has might_sleep(), not BUG_ON(in_interrupt()) (§4.2, §7) */
    cr_assert(eq(u64, tl_kmap(t, PG(0)), 0xfe001000u));
    cr_assert(eq(u64, tl_kmap(t, LOWPFN), 0xc1234000u));
    /* BUG_ON(in_interrupt()) comes before the lowmem test */
    cr_assert(eq(int, hm_kunmap(t->ctx, LOWPFN), HM_EINVAL));
    tl_assert_last_bug(t, HM_BUG_IN_INTERRUPT, HM_EINVAL, NULL);
    tl_assert_kunmap_in_interrupt_bugs(t, PG(0), 1);
    tl_assert_invariants(t, "interrupt");
}

/* The pkmap window may not run into the atomic window 4 MiB above PKMAP_BASE. */
Test(ppc_layout, window_larger_than_4m_is_rejected)
{
    struct hm_config c = tl_cfg("ppc", 2048, 1);
    struct hm_layout l;
    /* 2048 * 4K = 8 MiB > KMAP_FIX_BEGIN - PKMAP_BASE = 4 MiB */
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    c.last_pkmap = 1024; /* exactly 4 MiB fits */
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    /* 32-bit PTEs: max_pfn may not exceed 2^20 */
    tl_assert_max_pfn_limit(&c, HIGH0, 0x100000u);
}

Test(ppc_atomic, kmap_to_page_and_atomic_to_page_past_the_window)
{
    struct tl *t = open_ppc(8, 1, 0);
    hm_pfn_t pfn = 0;
    /* an idle slot: kmap_to_page says not mapped */
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, slot_of(0, KM_USER0), &pfn), HM_EFAULT));
    tl_assert_last_bug(t, HM_BUG_NOT_MAPPED, HM_EFAULT, NULL);
    if (tl_atomic_is_local(t)) {
        /* 5.11: the window holds 16 * 4 slots: 0xfe43c000 (idx 60, cpu 3's position 12) reads its
         * none PTE's pfn 0; idx >= 64 (0xfe440000) is past it */
        cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xfe43c000u, &pfn), HM_OK));
        cr_assert(eq(u32, pfn, 0));
        cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xfe440000u, &pfn), HM_ERANGE));
    } else {
        /* idx >= 15 * 4: past the atomic window of the configured CPUs (0xfe43c000) */
        cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xfe43c000u, &pfn), HM_ERANGE));
    }
    tl_assert_last_bug(t, HM_BUG_BAD_ADDR, HM_ERANGE, NULL);
}
