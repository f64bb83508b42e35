/* x86_test.c - Criterion tests of the x86 (non-PAE) backend: layout from the spec's formulas
 * (§3.1), PTE format, km_type names, the kmap_atomic family (§3.3-§3.7, §9.15-§9.21; 5.11's
 * kmap_local wrapper, §10.6) and the stale-TLB hazard on the simulated MMU, in the generation of
 * the run (HM_TEST_KERNEL) unless a test pins one. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testlib.h"

#define HIGH0 0x38000u
#define PG(n) (HIGH0 + 0x200u + (uint32_t)(n))
#define LOWPFN 0x1234u
#define KM_USER0 3u
#define KM_USER1 4u
#define KPTE(pfn) ((((hm_pte_t)(pfn)) << 12) | 0x163u)

/* Constants of the documented config (hm_arch_x86.c comments, spec §3.1). */
#define FIXADDR_TOP 0xfffff000u
#define FIX_KMAP_BEGIN 70u /* HOLE, VDSO, DBGP, EARLYCON, APIC, 64 IO_APIC, F00F_IDT */
#define FIX_AFTER_KMAP 6u  /* 4 ACPI, PCIE_MCFG, PARAVIRT_BOOTMAP */
#define NR_FIX_BTMAPS 16u
/* 5.11: the fixmap's kmap range holds KM_MAX_IDX (testlib.h) slots per CPU instead of KM_TYPE_NR
 * (13, 27 with the 2.6.24 CONFIG_DEBUG_HIGHMEM fences) */

TestSuite(x86_layout, .fini = tl_fini, .timeout = 30);
TestSuite(x86_atomic, .fini = tl_fini, .timeout = 30);

static struct tl *open_x86(uint32_t last_pkmap, uint32_t cpus, int debug)
{
    struct hm_config c = tl_cfg("x86", last_pkmap, cpus);
    c.debug_highmem = debug;
    return tl_open(&c);
}

/* __fix_to_virt(FIX_KMAP_BEGIN + type + KM_TYPE_NR*cpu) */
static hm_vaddr_t slot_of(uint32_t cpu, unsigned type)
{
    return FIXADDR_TOP - ((FIX_KMAP_BEGIN + type + 13u * cpu) << 12);
}

static hm_pte_t kpte(hm_pfn_t pfn)
{
    return KPTE(pfn);
}

static const struct tl_arch_hand hand = {kpte, slot_of, -1, FIXADDR_TOP};

/* 5.11: __fix_to_virt(FIX_KMAP_BEGIN + kmap_local_calc_idx(pos)), kmap_local_calc_idx(pos) =
 * pos + KM_MAX_IDX * cpu, pos the running task's stack position (mm/highmem.c 5.11) */
static hm_vaddr_t local_slot(uint32_t km_max_idx, uint32_t cpu, uint32_t pos)
{
    return FIXADDR_TOP - ((FIX_KMAP_BEGIN + pos + km_max_idx * cpu) << 12);
}

static hm_vaddr_t local_slot_of(uint32_t cpu, unsigned pos)
{
    return local_slot(KM_MAX_IDX, cpu, pos);
}

static const struct tl_arch_hand hand_local = {kpte, local_slot_of, -1, FIXADDR_TOP};

/* The kmap slots per CPU of the fixmap in generation `kernel`. */
static uint32_t km_slots(int kernel, int debug)
{
    if (kernel >= HM_KERNEL_5_11)
        return debug ? KM_MAX_IDX_DEBUG : KM_MAX_IDX;
    return debug ? 27u : 13u;
}

/* The spec's formulas (§3.1), for one (KM_TYPE_NR, NR_CPUS, LAST_PKMAP). */
struct want_layout {
    uint32_t end_permanent, end_fixed;
    hm_vaddr_t fixaddr_start, fixaddr_boot_start, pkmap_base;
};

static struct want_layout spec_layout(uint32_t km_type_nr, uint32_t nr_cpus, uint32_t last_pkmap)
{
    struct want_layout w;
    /* FIX_KMAP_END = FIX_KMAP_BEGIN + KM_TYPE_NR*NR_CPUS - 1, then the entries after it */
    w.end_permanent = FIX_KMAP_BEGIN + km_type_nr * nr_cpus + FIX_AFTER_KMAP;
    /* FIX_BTMAP_END..BEGIN (16), FIX_WP_TEST */
    w.end_fixed = w.end_permanent + NR_FIX_BTMAPS + 1u;
    w.fixaddr_start = FIXADDR_TOP - (w.end_permanent << 12);
    w.fixaddr_boot_start = FIXADDR_TOP - (w.end_fixed << 12);
    /* (FIXADDR_BOOT_START - PAGE_SIZE*(LAST_PKMAP+1)) & PMD_MASK (4 MiB) */
    w.pkmap_base = (w.fixaddr_boot_start - 4096u * (last_pkmap + 1u)) & ~(hm_vaddr_t)((1u << 22) - 1u);
    return w;
}

static void check_layout(const struct hm_layout *l, uint32_t km_type_nr, uint32_t nr_cpus, uint32_t last_pkmap)
{
    struct want_layout w = spec_layout(km_type_nr, nr_cpus, last_pkmap);
    cr_expect(eq(u32, l->fixaddr_top, FIXADDR_TOP));
    cr_expect(eq(u32, l->fix_kmap_begin, FIX_KMAP_BEGIN));
    cr_expect(eq(u32, l->km_type_nr, km_type_nr));
    cr_expect(eq(u32, l->config_nr_cpus, nr_cpus));
    cr_expect(eq(u32, l->nr_fixmap, w.end_fixed));
    cr_expect(eq(u32, l->fixaddr_start, w.fixaddr_start));
    cr_expect(eq(u32, l->fixaddr_boot_start, w.fixaddr_boot_start));
    cr_expect(eq(u32, l->pkmap_base, w.pkmap_base));
    cr_expect(eq(u32, l->last_pkmap, last_pkmap));
    /* __fix_to_virt(FIX_KMAP_BEGIN) */
    cr_expect(eq(u32, l->kmap_atomic_base, FIXADDR_TOP - (FIX_KMAP_BEGIN << 12)));
    cr_expect(eq(int, l->kmap_atomic_dir, -1));
    /* §9.25: the window ends at least one guard page below the boot fixmaps */
    cr_expect(le(u32, l->pkmap_base + last_pkmap * 4096u, w.fixaddr_boot_start - 4096u));
    /* the pkmap window lies inside the page-table window the machine provides */
    cr_expect(le(u32, l->pt_start, l->pkmap_base));
}

/* ---------------------------------------------------------------------------------------
 * Layout.
 * ------------------------------------------------------------------------------------- */
Test(x86_layout, documented_defaults)
{
    struct tl *t = open_x86(0, 1, 0);
    const struct hm_layout *l = hm_ctx_layout(t->ctx);
    cr_assert(not(eq(ptr, (void *)l, NULL)));
    check_layout(l, km_slots(t->cfg.kernel, 0), 8, 1024);
    tl_expect_x86_default_fixmap(l);
    /* PKMAP_BASE = (FIXADDR_BOOT_START - 1025*4K) & 0xffc00000: 2.6.24 (0xfff3a000 - 0x401000 =
     * 0xffb39000) and 5.11 (0xfff22000 - 0x401000 = 0xffb21000) alike 0xff800000 */
    cr_assert(eq(u32, l->pkmap_base, 0xff800000u));
    cr_assert(eq(u32, l->kmap_atomic_base, 0xfffb9000u)); /* 0xfffff000 - 70*4K */
    /* memory: PAGE_OFFSET 0xc0000000, 896 MiB lowmem (pfn 0x38000), 1 GiB in all */
    cr_assert(eq(u32, l->page_offset, 0xc0000000u));
    cr_assert(eq(u32, l->page_size, 4096));
    cr_assert(eq(u32, l->page_shift, 12));
    cr_assert(eq(u32, l->pte_bytes, 4));
    cr_assert(eq(u32, l->highmem_start_pfn, 0x38000u));
    cr_assert(eq(u32, l->max_pfn, 0x40000u));
    cr_assert(eq(u32, l->high_memory, 0xf8000000u)); /* 0xc0000000 + 0x38000 << 12 */
    /* VMALLOC_END = PKMAP_BASE - 2*PAGE_SIZE = 0xff7fe000;
     * VMALLOC_START = (high_memory + 2*VMALLOC_OFFSET - 1) & ~(VMALLOC_OFFSET - 1) with an
     * 8 MiB VMALLOC_OFFSET: (0xf8000000 + 0xffffff) & ~0x7fffff = 0xf8800000 */
    cr_assert(eq(u32, l->vmalloc_end, 0xff7fe000u));
    cr_assert(eq(u32, l->vmalloc_start, 0xf8800000u));
    cr_assert(eq(u32, l->nr_cpus, 1));
}

Test(x86_layout, small_window)
{
    struct tl *t = open_x86(16, 1, 0);
    check_layout(&t->layout, km_slots(t->cfg.kernel, 0), 8, 16);
    /* (0xfff3a000 - 17*4K = 0xfff29000) & 0xffc00000 = 0xffc00000 (5.11: (0xfff22000 - 17*4K =
     * 0xfff11000) & 0xffc00000, the same): a 16-page window rounds down only to the 4 MiB
     * boundary just below the boot fixmaps */
    cr_assert(eq(u32, t->layout.pkmap_base, 0xffc00000u));
    cr_assert(eq(u32, t->layout.vmalloc_end, 0xffbfe000u));
}

/* debug_highmem widens the kmap range: 2.6.24's CONFIG_DEBUG_HIGHMEM puts a fence before every
 * type (KM_TYPE_NR 27), 5.11's DEBUG_KMAP_LOCAL a guard before every stack position (KM_MAX_IDX
 * 33). */
Test(x86_layout, debug_highmem_fences)
{
    struct tl *t = open_x86(0, 1, 1);
    check_layout(&t->layout, km_slots(t->cfg.kernel, 1), 8, 1024);
    if (t->cfg.kernel >= HM_KERNEL_5_11) {
        /* end_permanent = 70 + 33*8 + 6 = 340 -> FIXADDR_START = 0xfffff000 - 0x154000 = 0xffeab000;
         * end_fixed = 357 -> FIXADDR_BOOT_START = 0xfffff000 - 0x165000 = 0xffe9a000;
         * PKMAP_BASE = (0xffe9a000 - 0x401000 = 0xffa99000) & 0xffc00000 = 0xff800000 */
        cr_assert(eq(u32, t->layout.km_type_nr, 33));
        cr_assert(eq(u32, t->layout.km_max_idx, 33));
        cr_assert(eq(u32, t->layout.fixaddr_start, 0xffeab000u));
        cr_assert(eq(u32, t->layout.fixaddr_boot_start, 0xffe9a000u));
    } else {
        /* end_permanent = 70 + 27*8 + 6 = 292 -> FIXADDR_START = 0xfffff000 - 0x124000 = 0xffedb000;
         * end_fixed = 309 -> FIXADDR_BOOT_START = 0xfffff000 - 0x135000 = 0xffeca000;
         * PKMAP_BASE = (0xffeca000 - 0x401000 = 0xffac9000) & 0xffc00000 = 0xff800000 */
        cr_assert(eq(u32, t->layout.km_type_nr, 27));
        cr_assert(eq(u32, t->layout.fixaddr_start, 0xffedb000u));
        cr_assert(eq(u32, t->layout.fixaddr_boot_start, 0xffeca000u));
    }
    cr_assert(eq(u32, t->layout.nr_km_types, 13));
    cr_assert(eq(u32, t->layout.pkmap_base, 0xff800000u));
}

Test(x86_layout, nr_cpus_raised_when_larger)
{
    struct tl *t = open_x86(0, 4, 0);
    int local = t->cfg.kernel >= HM_KERNEL_5_11;
    uint32_t km = km_slots(t->cfg.kernel, 0);
    check_layout(&t->layout, km, 8, 1024); /* 4 < 8: NR_CPUS stays 8 */
    cr_assert(eq(u32, t->layout.nr_cpus, 4));
    t = open_x86(0, 16, 0);
    check_layout(&t->layout, km, 16, 1024);
    /* end_permanent = 70 + 13*16 + 6 = 284 -> 0xfffff000 - 0x11c000 = 0xffee3000;
     * 5.11: 70 + 16*16 + 6 = 332 -> 0xfffff000 - 0x14c000 = 0xffeb3000 */
    cr_assert(eq(u32, t->layout.fixaddr_start, local ? 0xffeb3000u : 0xffee3000u));
    cr_assert(eq(u32, t->layout.pkmap_base, 0xff800000u));
    t = open_x86(0, 64, 0);
    check_layout(&t->layout, km, 64, 1024);
    /* end_fixed = 70 + 13*64 + 6 + 17 = 925 -> 0xfffff000 - 0x39d000 = 0xffc62000;
     * (0xffc62000 - 0x401000 = 0xff861000) & 0xffc00000 = 0xff800000.
     * 5.11: 70 + 16*64 + 6 + 17 = 1117 -> 0xfffff000 - 0x45d000 = 0xffba2000;
     * (0xffba2000 - 0x401000 = 0xff7a1000) & 0xffc00000 = 0xff400000: the window moves down */
    cr_assert(eq(u32, t->layout.fixaddr_boot_start, local ? 0xffba2000u : 0xffc62000u));
    cr_assert(eq(u32, t->layout.pkmap_base, local ? 0xff400000u : 0xff800000u));
}

/* ---------------------------------------------------------------------------------------
 * PTE format and km_type names.
 * ------------------------------------------------------------------------------------- */
Test(x86_layout, pte_format_round_trips)
{
    struct tl *t = open_x86(8, 1, 0);
    hm_pfn_t pfns[] = {0, 1, 0x38000u, 0x3ffffu, 0xfffffu};
    for (size_t i = 0; i < sizeof pfns / sizeof pfns[0]; i++) {
        hm_pte_t pte = hm_mk_kmap_pte(t->ctx, pfns[i]);
        /* PAGE_KERNEL = PRESENT 0x1 | RW 0x2 | ACCESSED 0x20 | DIRTY 0x40 | GLOBAL 0x100 */
        cr_expect(eq(u64, pte, ((hm_pte_t)pfns[i] << 12) | 0x163u), "pfn %#x", pfns[i]);
        cr_expect(eq(u32, hm_pte_pfn(t->ctx, pte), pfns[i]), "pfn %#x", pfns[i]);
        cr_expect(eq(int, hm_pte_none(t->ctx, pte), 0), "pfn %#x", pfns[i]);
    }
    cr_assert(not(eq(int, hm_pte_none(t->ctx, 0), 0)));
    cr_assert(eq(u32, hm_pte_pfn(t->ctx, 0xabcde163u), 0xabcdeu));
}

Test(x86_layout, km_type_names_in_order)
{
    struct tl *t = open_x86(8, 1, 0);
    cr_assert(eq(u32, t->layout.nr_km_types, 13));
    cr_assert(not(eq(ptr, (void *)t->layout.km_types, NULL)));
    tl_expect_km_type_names(t, 13);
    cr_assert(eq(str, (char *)hm_arch_name(t->cfg.arch), "x86"));
}

/* ---------------------------------------------------------------------------------------
 * Atomic slot addresses.
 * ------------------------------------------------------------------------------------- */
/* 2.6.24: the slot of (cpu, type); 5.11: the slot of the running task's stack position (the 13
 * types nested on each CPU take positions 0..12), unmapped in LIFO order only. */
Test(x86_atomic, slot_addresses_descend_with_type_and_cpu)
{
    struct tl *t = open_x86(8, 8, 0);
    hm_vaddr_t v = 0;
    tl_map_every_atomic_slot(t, tl_arch_hand_of(t, &hand, &hand_local), 8, 13, PG(0));
    if (tl_atomic_is_local(t)) {
        /* cpu 0's KM_USER0 slot of 2.6.24, 0xfffff000 - 73*4K = 0xfffb6000, is position 3's: not
         * the top (WARN_ON_ONCE in kunmap_local_indexed; refused here) */
        cr_assert(eq(u32, local_slot_of(0, 3), 0xfffb6000u));
        tl_assert_kunmap_atomic_refused(t, 0, 0xfffb6000u, KM_USER0, HM_BUG_LOCAL_NOT_TOP,
                                        "kunmap_local_indexed", "kunmap_atomic below the top");
        /* the top, position 12: 0xfffff000 - (70 + 12)*4K = 0xfffad000, whatever the type */
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, 0xfffad000u, KM_USER0), HM_OK));
        cr_assert(eq(u64, hm_sim_pte(t->sim, 0xfffad000u), 0));
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(99), KM_USER0, &v), HM_OK));
        cr_assert(eq(u32, v, 0xfffad000u));
        /* cpu 7's last position, 12: 70 + 12 + 16*7 = 194 -> 0xfffff000 - 0xc2000 = 0xfff3d000 */
        cr_assert(eq(u32, local_slot_of(7, 12), 0xfff3d000u));
    } else {
        /* cpu 0, KM_USER0 by hand: 0xfffff000 - 73*4K = 0xfffb6000 */
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, 0xfffb6000u, KM_USER0), HM_OK));
        cr_assert(eq(u64, hm_sim_pte(t->sim, 0xfffb6000u), 0));
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(99), KM_USER0, &v), HM_OK));
        cr_assert(eq(u32, v, 0xfffb6000u));
    }
}

/* The km_type values between the CONFIG_DEBUG_HIGHMEM fences: a 2.6.24 subject. */
Test(x86_atomic, debug_highmem_uses_odd_type_values)
{
    struct hm_config c = tl_cfg("x86", 8, 2);
    c.debug_highmem = 1;
    c.kernel = HM_KERNEL_2_6_24; /* km_types and fences; 5.11's guards: local_test switch_skips_guards_and_makes_the_arch_flushes */
    struct tl *t = tl_open(&c);
    for (uint32_t cpu = 0; cpu < 2; cpu++) {
        for (unsigned type = 0; type < 13; type++) {
            hm_vaddr_t v = 0;
            cr_assert(eq(int, hm_kmap_atomic(t->ctx, cpu, PG(type), type, &v), HM_OK));
            /* KM_x = 2*type + 1 between the fences, KM_TYPE_NR = 27 */
            cr_expect(eq(u32, v, FIXADDR_TOP - ((FIX_KMAP_BEGIN + 2u * type + 1u + 27u * cpu) << 12)),
                      "cpu %u type %u", cpu, type);
            /* the fence slot just above stays empty */
            cr_expect(eq(u64, hm_sim_pte(t->sim, v + 4096u), 0), "fence of cpu %u type %u", cpu, type);
        }
    }
    /* cpu 1, KM_USER0 by hand: 70 + 7 + 27 = 104 -> 0xfffff000 - 0x68000 = 0xfff97000 */
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 1, 0xfff97000u, KM_USER0), HM_OK));
    cr_assert(eq(u64, hm_sim_pte(t->sim, 0xfff97000u), 0));
}

/* ---------------------------------------------------------------------------------------
 * kmap_atomic / kunmap_atomic events and TLB effects (§3.3, §3.5, §9.15).
 * ------------------------------------------------------------------------------------- */
/* The same events in both generations: 5.11's x86 hooks are none after a map and
 * flush_tlb_one_kernel (this CPU's entry) after an unmap (arch/x86/include/asm/highmem.h). */
Test(x86_atomic, map_sets_one_pte_and_unmap_flushes_local_cpu_only)
{
    struct tl *t = open_x86(8, 2, 0);
    tl_mark(t, PG(0), 0x5e);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    /* KM_USER0: 0xfffff000 - 73*4K; 5.11, position 0: 0xfffff000 - 70*4K */
    cr_assert(eq(u32, v, tl_atomic_is_local(t) ? 0xfffb9000u : 0xfffb6000u));
    cr_assert(eq(sz, t->nev, 1));
    tl_assert_pte_set_ev(t, 0, v, PG(0), KPTE(PG(0)));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
    /* both CPUs cache the translation */
    cr_assert(eq(u8, tl_load(t, 0, v), 0x5e));
    cr_assert(eq(u8, tl_load(t, 1, v), 0x5e));

    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v + 0x123u, KM_USER0), HM_OK)); /* masked */
    tl_assert_clear_flush_page_ev(t, 0, v, 0, "kunmap_atomic");
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
    /* __flush_tlb_one is local: cpu 0 dropped its entry, cpu 1 did not */
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 0, v, NULL), 0));
    hm_pfn_t cached = 0;
    cr_assert(eq(int, hm_sim_tlb_lookup(t->sim, 1, v, &cached), 1));
    cr_assert(eq(u32, cached, PG(0)));
}

Test(x86_atomic, prot_bits_are_used)
{
    struct tl *t = open_x86(8, 1, 0);
    hm_vaddr_t v = 0;
    /* PRESENT|RW|ACCESSED|DIRTY without GLOBAL */
    cr_assert(eq(int, hm_kmap_atomic_prot(t->ctx, 0, PG(0), KM_USER1, 0x63u, &v), HM_OK));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), ((hm_pte_t)PG(0) << 12) | 0x63u));
}

Test(x86_atomic, lowmem_shortcut_still_disables_pagefaults)
{
    struct tl *t = open_x86(8, 1, 0);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, LOWPFN, KM_USER0, &v), HM_OK));
    cr_assert(eq(u32, v, 0xc1234000u));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(sz, t->nev, 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, 0xfffb6000u), 0));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(sz, t->nev, 0));
}

/* 2.6.24: a nested kmap_atomic of the same type finds its slot busy (BUG_ON(!pte_none()),
 * nothing changed), another type is fine. 5.11: the wrapper ignores the type and pushes the
 * nested mapping one position (one page) further down the stack. */
Test(x86_atomic, nested_same_type_is_busy_or_pushed)
{
    struct tl *t = open_x86(8, 1, 0);
    hm_vaddr_t v = 0, v2 = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &v2), HM_OK));
        cr_assert(eq(u32, v2, local_slot_of(0, 1)));
        cr_assert(eq(u32, v2, v - 4096u));
        cr_assert(eq(u64, hm_sim_pte(t->sim, v2), KPTE(PG(1))));
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 2));
        cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 2));
        cr_assert(eq(sz, t->nbugs, 0));
    } else {
        tl_assert_kmap_atomic_busy(t, 0, PG(1), KM_USER0, "kmap_atomic_prot", "nested kmap_atomic");
        cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    }
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
    /* another type on the same cpu is fine: its own slot, one page below KM_USER0's; 5.11: the
     * next position again */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(2), KM_USER1, &v2), HM_OK));
    cr_assert(eq(u32, v2, tl_atomic_is_local(t) ? v - 2u * 4096u : v - 4096u));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v2), KPTE(PG(2))));
}

Test(x86_atomic, same_type_on_different_cpus)
{
    struct tl *t = open_x86(8, 2, 0);
    hm_vaddr_t v0 = 0, v1 = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v0), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 1, PG(1), KM_USER0, &v1), HM_OK));
    if (tl_atomic_is_local(t)) {
        /* position 0 of each CPU's stack: 70 -> 0xfffb9000; cpu 1: 70 + 0 + 16 = 86 -> 0xfffa9000 */
        cr_assert(eq(u32, v0, 0xfffb9000u));
        cr_assert(eq(u32, v1, 0xfffa9000u));
    } else {
        /* cpu 0: 70 + 3 = 73 -> 0xfffb6000; cpu 1: 70 + 3 + 13 = 86 -> 0xfffff000 - 0x56000 = 0xfffa9000 */
        cr_assert(eq(u32, v0, 0xfffb6000u));
        cr_assert(eq(u32, v1, 0xfffa9000u));
    }
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 1));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v1), KPTE(PG(1))));
}

/* §9.17: the wrong type silently skips the clear without DEBUG_HIGHMEM. */
Test(x86_atomic, wrong_type_unmap_skips_clear_without_debug)
{
    struct hm_config c = tl_cfg("x86", 8, 1);
    c.kernel = HM_KERNEL_2_6_24; /* the km_type picks the slot; 5.11 ignores it: local_test kmap_atomic_is_a_wrapper */
    struct tl *t = tl_open(&c);
    hm_vaddr_t v = 0, v2 = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER1), HM_OK));
    cr_assert(eq(sz, tl_ev_hw_count(t, 0), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0)); /* pagefault_enable still ran */
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0)))); /* slot stays mapped */
    cr_assert(eq(sz, t->nbugs, 0));
    /* ... and the next map of that type BUGs */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &v2), HM_EBUSY));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_ATOMIC_BUSY));
}

/* 2.6.24 with DEBUG_HIGHMEM: an address that is neither the (cpu, type) slot nor lowmem BUGs.
 * 5.11 (debug or not): an address in the kmap fixmap that is not the top's slot is LOCAL_NOT_TOP,
 * one below PAGE_OFFSET LOCAL_BAD_ADDR (kunmap_local_indexed's WARNs), nothing changed. */
Test(x86_atomic, wrong_address_is_a_bug_with_debug)
{
    struct tl *t = open_x86(8, 1, 1);
    hm_vaddr_t v = 0, lv = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    if (tl_atomic_is_local(t)) {
        /* DEBUG_KMAP_LOCAL: the first mapping at position 1, 0xfffff000 - 71*4K = 0xfffb8000; the
         * guard position 0 just above it is a kmap slot but not the top */
        cr_assert(eq(u32, v, 0xfffb8000u));
        cr_assert(eq(u32, v, local_slot(KM_MAX_IDX_DEBUG, 0, tl_local_pos(1, 0))));
        tl_assert_kunmap_atomic_refused(t, 0, v + 4096u, KM_USER0, HM_BUG_LOCAL_NOT_TOP,
                                        "kunmap_local_indexed", "guard kunmap_atomic");
        tl_assert_kunmap_atomic_refused(t, 0, 0x08048000u, KM_USER0, HM_BUG_LOCAL_BAD_ADDR,
                                        "kunmap_local_indexed", "user-space kunmap_atomic");
    } else {
        /* KM_USER0 = 7 between the fences: 0xfffff000 - 77*4K */
        cr_assert(eq(u32, v, 0xfffb2000u));
        tl_assert_kunmap_atomic_bug(t, 0, v, KM_USER1, HM_BUG_ATOMIC_BAD_ADDR, "wrong-type kunmap_atomic");
        /* a pkmap address is not lowmem either */
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, t->layout.pkmap_base, KM_USER0), HM_EINVAL));
        cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_ATOMIC_BAD_ADDR));
    }
    /* a lowmem address (the shortcut's) is accepted */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, LOWPFN, KM_USER1, &lv), HM_OK));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, lv, KM_USER1), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), 0));
}

Test(x86_atomic, unbalanced_unmap)
{
    struct tl *t = open_x86(8, 2, 0);
    tl_assert_kunmap_atomic_bug(t, 1, 0xfffa9000u, KM_USER0, HM_BUG_ATOMIC_UNBALANCED,
                                "unbalanced kunmap_atomic");
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 1), 0));
}

/* §9.21: kmap_atomic_pfn has no highmem test and no busy check. */
Test(x86_atomic, kmap_atomic_pfn_maps_lowmem_and_skips_busy_check)
{
    struct hm_config c = tl_cfg("x86", 8, 1);
    c.kernel = HM_KERNEL_2_6_24; /* x86's own kmap_atomic_pfn; 5.11's (any pfn, next position): local_test kmap_atomic_is_a_wrapper */
    struct tl *t = tl_open(&c);
    tl_mark(t, LOWPFN, 0x11);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, LOWPFN, KM_USER0, &v), HM_OK));
    cr_assert(eq(u32, v, 0xfffb6000u)); /* the slot, not the direct map */
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(LOWPFN)));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(u8, tl_load(t, 0, v), 0x11));
    /* the slot is busy, and kmap_atomic_pfn does not care */
    tl_ev_clear(t);
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(u32, v, 0xfffb6000u));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(0))));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 2));
    cr_assert(eq(sz, t->nev, 1));
    cr_assert(eq(int, t->ev[0].kind, HM_EV_PTE_SET));
    cr_assert(eq(sz, t->nbugs, 0));
}

/* A missed kunmap_atomic leaves a TLB entry behind: the next mapping reads the old page. */
Test(x86_atomic, stale_tlb_without_kunmap)
{
    struct hm_config c = tl_cfg("x86", 8, 1);
    c.kernel = HM_KERNEL_2_6_24; /* the type's slot reused unflushed; 5.11 pushes the next position: local_test stale_tlb_without_the_sched_out_flush */
    struct tl *t = tl_open(&c);
    tl_mark(t, PG(0), 0xaa);
    tl_mark(t, PG(1), 0xbb);
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    cr_assert(eq(u8, tl_load(t, 0, v), 0xaa)); /* caches PG(0) */
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, PG(1), KM_USER0, &v), HM_OK));
    cr_assert(eq(u64, hm_sim_pte(t->sim, v), KPTE(PG(1))));
    cr_assert(eq(u8, tl_load(t, 0, v), 0xaa)); /* the OLD page's byte */
    struct hm_sim_stats st = tl_sim_stats(t);
    cr_assert(eq(u64, st.stale_tlb_hits, 1));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_STALE_TLB), 1));
    /* a proper kunmap_atomic flushes the local entry, and the next map reads right */
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &v), HM_OK));
    cr_assert(eq(u8, tl_load(t, 0, v), 0xbb));
    cr_assert(eq(u64, tl_sim_stats(t).stale_tlb_hits, 1));
}

/* ---------------------------------------------------------------------------------------
 * kmap_atomic_to_page (§3.7, §9.20) and kmap_to_page.
 * ------------------------------------------------------------------------------------- */
Test(x86_atomic, kmap_atomic_to_page_quirks)
{
    struct tl *t = open_x86(0, 1, 0);
    hm_vaddr_t av = 0, pv;
    hm_pfn_t pfn = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(5), KM_USER0, &av), HM_OK));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, av + 17u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(5)));
    /* direct map: virt_to_page */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xc1234567u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x1234u));
    /* pkmap address: virt_to_page garbage, (0xff801000 - 0xc0000000) >> 12 = 0x3f801 */
    pv = tl_kmap(t, PG(6));
    cr_assert(eq(u32, pv, 0xff801000u));
    tl_assert_pkmap_atomic_to_page_quirk(t, pv, PG(6), 0x3f801u, 0);
    /* at or above FIXADDR_TOP: virt_to_fix BUGs */
    tl_bugs_clear(t);
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xfffff000u, &pfn), HM_EINVAL));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_VIRT_TO_FIX));
    cr_assert(eq(int, tl_last_bug(t)->err, HM_EINVAL));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xffffffffu, &pfn), HM_EINVAL));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_VIRT_TO_FIX));
}

Test(x86_atomic, kmap_to_page_every_region)
{
    struct tl *t = open_x86(0, 1, 0);
    hm_pfn_t pfn = 0;
    hm_vaddr_t av = 0;
    /* direct map */
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, 0xc1234abcu, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, 0x1234u));
    /* pkmap slot: the page really mapped there */
    hm_vaddr_t pv = tl_kmap(t, PG(6));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, pv + 0xfffu, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(6)));
    /* still correct after the lazy kunmap (count 1 keeps the PTE) */
    tl_kunmap(t, PG(6));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, pv, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(6)));
    /* atomic slot */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(7), KM_USER1, &av), HM_OK));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, av, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(7)));
    /* an unmapped slot: EFAULT */
    tl_bugs_clear(t);
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, 0xff805000u, &pfn), HM_EFAULT));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_NOT_MAPPED));
    /* KM_USER0's slot, idle (5.11: position 3, above the top) */
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, 0xfffb6000u, &pfn), HM_EFAULT));
    /* vmalloc space: no region */
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, 0xf9000000u, &pfn), HM_ERANGE));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_BAD_ADDR));
    /* below PAGE_OFFSET */
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, 0x08048000u, &pfn), HM_ERANGE));
}
