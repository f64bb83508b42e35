/* gaps_test.c - Criterion tests written for behaviours that surviving mutants of tools/mutate
 * showed no test pinned: invariant messages, descriptor validation, per-arch mem_map hashing,
 * unaligned kunmap_atomic addresses, range checks. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testlib.h"

TestSuite(gaps, .fini = tl_fini, .timeout = 60);

/* hm_check_invariants writes "In: text number", truncates to the buffer, and leaves a
 * zero-length buffer alone. */
Test(gaps, invariant_message_text_and_truncation)
{
    struct hm_config c = tl_cfg("x86", 8, 1);
    struct tl *t = tl_open(&c);
    char msg[96], small[4];
    /* slot 2 has count 0; a present PTE there breaks I2 */
    t->sim_machine.set_pte(t->sim_machine.m, tl_pkaddr(t, 2), 0x38005163u);
    cr_assert(eq(int, hm_check_invariants(t->ctx, msg, sizeof msg), 2));
    cr_assert(eq(str, msg, "I2: count 0 but PTE present at slot 2"));
    memset(small, 'x', sizeof small);
    cr_assert(eq(int, hm_check_invariants(t->ctx, small, sizeof small), 2));
    cr_assert(eq(str, small, "I2:")); /* 3 characters and the terminator */
    small[0] = 'q';
    cr_assert(eq(int, hm_check_invariants(t->ctx, small, 0), 2));
    cr_assert(eq(chr, small[0], 'q')); /* msg_len 0: nothing written */
    /* a healthy state clears the message */
    t->sim_machine.set_pte(t->sim_machine.m, tl_pkaddr(t, 2), 0);
    strcpy(msg, "stale");
    cr_assert(eq(int, hm_check_invariants(t->ctx, msg, sizeof msg), 0));
    cr_assert(eq(str, msg, ""));
}

/* hm_layout_compute validates the descriptor itself. */
Test(gaps, descriptor_validation)
{
    struct hm_arch a = hm_arch_x86;
    struct hm_config c = {.arch = &a};
    struct hm_layout l;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    a.page_shift = 9;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    a.page_shift = 17;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    /* the bounds themselves are accepted: 1 KiB and 64 KiB pages (the same 896 MiB of
     * lowmem, as a no-highmem machine) */
    a = hm_arch_generic;
    a.page_shift = 10;
    a.lowmem_pages = hm_arch_generic.lowmem_pages << 2;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.page_size, 1024u));
    a.page_shift = 16;
    a.lowmem_pages = hm_arch_generic.lowmem_pages >> 4;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.page_size, 65536u));
    a = hm_arch_x86;
    a = hm_arch_x86;
    a.layout = NULL;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    /* no lowmem: refused without highmem (no memory at all), fine with it (host/ has none) */
    a = hm_arch_generic;
    a.lowmem_pages = 0;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    a = hm_arch_x86;
    a.lowmem_pages = 0;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.highmem_start_pfn, 0u));
    a = hm_arch_x86;
    a.abi_version = HM_ARCH_ABI_VERSION + 1;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    /* highmem_pages that would overflow max_pfn */
    a = hm_arch_x86;
    c.highmem_pages = UINT32_MAX - a.lowmem_pages + 1u;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
}

/* Non-PAE x86 holds 32-bit physical addresses: max_pfn 2^20 is the limit; PAE allows 2^24. */
Test(gaps, physical_address_limits)
{
    struct hm_layout l;
    struct hm_config c = {.arch = &hm_arch_x86};
    tl_assert_max_pfn_limit(&c, 0x38000u, 0x100000u);
    c.arch = &hm_arch_x86_pae; /* x86's limit + 1 is fine with PAE */
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    tl_assert_max_pfn_limit(&c, 0x38000u, 1u << 24);
    c.arch = &hm_arch_sparc; /* 36-bit SRMMU: 2^24 pfns */
    tl_assert_max_pfn_limit(&c, 0xc000u, 1u << 24);
    c.arch = &hm_arch_ppc; /* 32-bit PTEs: 2^20 pfns, the limit itself included */
    tl_assert_max_pfn_limit(&c, 0x30000u, 0x100000u);
}

/* ppc of this era has no fixmap: every fixmap field of its layout is 0. */
Test(gaps, ppc_layout_has_no_fixmap)
{
    struct hm_config c = {.arch = &hm_arch_ppc};
    struct hm_layout l;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u64, l.fixaddr_top, 0));
    cr_assert(eq(u64, l.fixaddr_start, 0));
    cr_assert(eq(u64, l.fixaddr_boot_start, 0));
    cr_assert(eq(u32, l.nr_fixmap, 0));
    cr_assert(eq(u32, l.fix_kmap_begin, 0));
    cr_assert(eq(u64, l.kmap_atomic_base, 0xfe400000u));
}

/* ppc kunmap_atomic: without a kmap_atomic outstanding it is ATOMIC_UNBALANCED and touches no
 * PTE; the first slot (cpu 0, type 0) at KMAP_FIX_BEGIN itself is an atomic address. */
Test(gaps, ppc_kunmap_atomic_edges)
{
    struct hm_config c = tl_cfg("ppc", 8, 1);
    struct tl *t = tl_open(&c);
    hm_pfn_t pfn = t->layout.highmem_start_pfn + 2;
    hm_vaddr_t base = t->layout.kmap_atomic_base, v = 0;
    uint64_t writes = t->wrap.set_pte_calls;
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, base, 0), HM_EINVAL));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_ATOMIC_UNBALANCED));
    cr_assert(eq(u64, t->wrap.set_pte_calls, writes));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, pfn, 0, &v), HM_OK));
    cr_assert(eq(u64, v, base));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, base, 0), HM_OK));
    cr_assert(eq(int, hm_pte_none(t->ctx, hm_sim_pte(t->sim, base)), 1)); /* cleared */
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
}

/* The generic layout's fixed addresses: FIXADDR_TOP 0xfffff000 with no fixmap entries,
 * VMALLOC_START = (0xf8000000 + 16M - 1) & ~(8M - 1), VMALLOC_END = FIXADDR_START - 2 pages. */
Test(gaps, generic_layout_addresses)
{
    struct hm_config c = {.arch = &hm_arch_generic};
    struct hm_layout l;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u64, l.fixaddr_top, 0xfffff000u));
    cr_assert(eq(u64, l.vmalloc_start, 0xf8800000u));
    cr_assert(eq(u64, l.vmalloc_end, 0xffffd000u));
    cr_assert(eq(u64, l.high_memory, 0xf8000000u));
}

/* hash_ptr hashes the struct page address: mem_map + pfn * 32, per arch. One pfn is not
 * enough: the 32-bit golden-ratio hash maps mem_map offsets that are multiples of 2^22 to the
 * same bucket unless a carry reaches the top 7 bits, so a run of 256 pfns is compared. */
Test(gaps, page_bucket_uses_each_arch_mem_map)
{
    static const struct {
        const char *arch;
        uint32_t mem_map, first_pfn;
    } cases[] = {
        {"x86", 0xc1000000u, 0x38000u},
        {"x86-pae", 0xc1000000u, 0x100000u},
        {"ppc", 0xc0400000u, 0x30000u},
        {"sparc", 0xf0400000u, 0xc000u},
        {"arm", 0xc0800000u, 0x37000u},
        {"xtensa", 0xd0400000u, 0x8000u},
        {"generic", 0xc1000000u, 0x100u}, /* lowmem pages: page_bucket still hashes them */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hm_config c = tl_cfg(cases[i].arch, 8, 1);
        struct tl *t = tl_open(&c);
        for (uint32_t pfn = cases[i].first_pfn; pfn < cases[i].first_pfn + 256u; pfn++) {
            uint32_t want = hm_hash_long32(cases[i].mem_map + pfn * 32u, 7);
            cr_assert(eq(u32, hm_page_bucket(t->ctx, pfn), want), "%s pfn %#x", cases[i].arch, pfn);
        }
        tl_close(t);
    }
}

/* ppc's first atomic slot (cpu 0, type 0) sits exactly at KMAP_FIX_BEGIN: kmap_atomic_to_page
 * reads its PTE instead of taking the address for lowmem. */
Test(gaps, ppc_atomic_to_page_at_the_window_base)
{
    struct hm_config c = tl_cfg("ppc", 8, 1);
    struct tl *t = tl_open(&c);
    hm_pfn_t pfn = t->layout.highmem_start_pfn + 3, got = 0;
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, pfn, 0, &v), HM_OK));
    cr_assert(eq(u64, v, t->layout.kmap_atomic_base));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, v, &got), HM_OK));
    cr_assert(eq(u32, got, pfn));
}

/* Event names: index 0 is "none"; out of range is "unknown". */
Test(gaps, event_names_at_the_edges)
{
    cr_assert(eq(str, (char *)hm_event_name(0), "none"));
    cr_assert(eq(str, (char *)hm_event_name(HM_EV_PTE_SET), "pte_set"));
    cr_assert(eq(str, (char *)hm_event_name(HM_EV_BUG), "bug"));
    cr_assert(eq(str, (char *)hm_event_name(HM_EV_MACHINE_FAIL), "machine_fail"));
    cr_assert(eq(str, (char *)hm_event_name(HM_EV_LOCAL_RESTORE), "local_restore"));
    cr_assert(eq(str, (char *)hm_event_name(-1), "unknown"));
    cr_assert(eq(str, (char *)hm_event_name(HM_EV_LOCAL_RESTORE + 1), "unknown"));
}

/* kunmap_atomic masks the address to its page: an address inside the slot unmaps it. */
Test(gaps, kunmap_atomic_inside_the_slot_page)
{
    static const char *const arches[] = {"x86", "x86-pae", "ppc", "sparc", "arm", "arm-vipt", "xtensa"};
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        struct hm_config c = tl_cfg(arches[i], 8, 1);
        struct tl *t;
        hm_vaddr_t v = 0;
        c.debug_highmem = 1; /* sparc and arm clear the PTE only with DEBUG_HIGHMEM */
        t = tl_open(&c);
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, t->layout.highmem_start_pfn + 1, 3, &v), HM_OK));
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v + 0x123u, 3), HM_OK), "%s", arches[i]);
        cr_expect(eq(u64, hm_sim_pte(t->sim, v), 0), "%s: slot PTE cleared", arches[i]);
        cr_expect(eq(int, hm_pagefault_depth(t->ctx, 0), 0), "%s", arches[i]);
        tl_close(t);
    }
}

/* sparc kmap_atomic_to_page below PAGE_OFFSET: virt_to_page would point outside mem_map. */
Test(gaps, sparc_atomic_to_page_below_page_offset)
{
    struct hm_config c = tl_cfg("sparc", 8, 1);
    struct tl *t = tl_open(&c);
    hm_pfn_t p = 77;
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0x1000u, &p), HM_ERANGE));
    tl_assert_last_bug(t, HM_BUG_BAD_ADDR, HM_ERANGE, "kmap_atomic_to_page");
    cr_assert(eq(u32, p, 77));
    /* a direct-map address is fine: (0xf0005000 - 0xf0000000) >> 12 */
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, 0xf0005000u, &p), HM_OK));
    cr_assert(eq(u32, p, 5));
}

/* Getters on bad arguments return their neutral value instead of reading out of bounds. */
Test(gaps, getters_on_bad_arguments)
{
    struct hm_config c = tl_cfg("x86", 8, 2);
    struct tl *t = tl_open(&c);
    cr_assert(eq(u32, hm_bucket_size(t->ctx, HM_PA_HASH_SIZE), 0));
    cr_assert(eq(u32, hm_page_bucket(NULL, 0x38000u), 0));
    cr_assert(eq(u64, hm_mk_kmap_pte(NULL, 0x38000u), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 2), -1));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 8), -1));
    /* without a context every PTE reads as none */
    cr_assert(eq(int, hm_pte_none(NULL, 0x38000163u), 1));
    cr_assert(eq(int, hm_pte_none(t->ctx, 0x38000163u), 0));
}

/* hash_long32 keeps 1..32 bits; 0 or more than 32 bits give 0 instead of an undefined shift. */
Test(gaps, hash_bits_out_of_range)
{
    cr_assert(eq(u32, hm_hash_long32(0x12345678u, 0), 0));
    cr_assert(eq(u32, hm_hash_long32(0x12345678u, 33), 0));
    cr_assert(eq(u32, hm_hash_long32(0x12345678u, 1000), 0));
    /* 0x12345678 * 0x9e370001 mod 2^32 = 0xb5fc5678: top bit 1, top 32 bits all of it */
    cr_assert(eq(u32, hm_hash_long32(0x12345678u, 1), 1u));
    cr_assert(eq(u32, hm_hash_long32(0x12345678u, 32), 0xb5fc5678u));
}

/* PKMAP_BASE = (FIXADDR_BOOT_START - PAGE_SIZE * (LAST_PKMAP + 1)) & PMD_MASK (spec §0), for
 * every x86 window size and CPU count. The "+ 1" only shows when FIXADDR_BOOT_START -
 * PAGE_SIZE * LAST_PKMAP is itself PMD aligned: x86-pae with 32 CPUs and 2 slots has
 * FIXADDR_BOOT_START 0xffe02000, so 0xffe02000 - 3 pages = 0xffdff000 rounds down to
 * 0xffc00000 (without the extra page it would be 0xffe00000). */
Test(gaps, x86_pkmap_base_keeps_one_guard_page)
{
    struct hm_config c = {.arch = &hm_arch_x86_pae, .nr_cpus = 32, .last_pkmap = 2};
    struct hm_layout l;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u64, l.fixaddr_boot_start, 0xffe02000u));
    cr_assert(eq(u64, l.pkmap_base, 0xffc00000u));
    for (int pae = 0; pae < 2; pae++) {
        uint32_t pmd_mask = pae ? ~(0x200000u - 1u) : ~(0x400000u - 1u);
        for (uint32_t cpus = 1; cpus <= HM_MAX_CPUS; cpus++) {
            for (uint32_t slots = 2; slots <= 1024; slots *= 2) {
                c = (struct hm_config){.arch = pae ? &hm_arch_x86_pae : &hm_arch_x86,
                                       .nr_cpus = cpus, .last_pkmap = slots};
                if (hm_layout_compute(&c, &l) != HM_OK)
                    continue;
                cr_assert(eq(u64, l.pkmap_base,
                             (l.fixaddr_boot_start - 4096u * (slots + 1u)) & pmd_mask),
                          "pae %d cpus %u slots %u", pae, cpus, slots);
            }
        }
    }
}

/* kmap_to_page of any address inside a kmapped page (the PTE is read at the page's address). */
Test(gaps, kmap_to_page_inside_the_page)
{
    static const char *const arches[] = {"x86", "x86-pae", "ppc", "sparc", "arm", "arm-vipt", "xtensa"};
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        struct hm_config c = tl_cfg(arches[i], 8, 1);
        struct tl *t = tl_open(&c);
        hm_pfn_t pfn = t->layout.highmem_start_pfn + 5, got;
        hm_vaddr_t v = tl_kmap(t, pfn);
        for (uint32_t off = 0; off < t->layout.page_size; off += 1365u) {
            got = 0;
            cr_assert(eq(int, hm_kmap_to_page(t->ctx, v + off, &got), HM_OK), "%s +%u", arches[i], off);
            cr_assert(eq(u32, got, pfn), "%s +%u", arches[i], off);
        }
        got = 0;
        cr_assert(eq(int, hm_kmap_to_page(t->ctx, v + t->layout.page_size - 1u, &got), HM_OK));
        cr_assert(eq(u32, got, pfn));
        tl_close(t);
    }
}

/* kmap_to_page of an address that is neither lowmem nor in the page-table window (high_memory,
 * the first address past the direct map) is a bad address, on every highmem arch whose window
 * does not cover it (arm's reaches from below PAGE_OFFSET up to FIXADDR_TOP): no PTE is read for
 * it. */
Test(gaps, kmap_to_page_outside_every_window)
{
    static const char *const arches[] = {"x86", "x86-pae", "ppc", "sparc", "xtensa"};
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        struct hm_config c = tl_cfg(arches[i], 8, 1);
        struct tl *t = tl_open(&c);
        hm_pfn_t got = 7;
        hm_vaddr_t v = t->layout.high_memory;
        hm_vaddr_t pt_end = t->layout.pt_start + ((hm_vaddr_t)t->layout.pt_pages << t->layout.page_shift);
        cr_assert(v < t->layout.pt_start || v >= pt_end, "%s: high_memory in the window", arches[i]);
        cr_assert(ge(u64, v, t->layout.high_memory), "%s", arches[i]);
        uint64_t reads = t->wrap.get_pte_calls;
        cr_assert(eq(int, hm_kmap_to_page(t->ctx, v, &got), HM_ERANGE), "%s", arches[i]);
        cr_assert(eq(u32, got, 7), "%s: output written on error", arches[i]);
        cr_assert(eq(u64, t->wrap.get_pte_calls, reads), "%s: a PTE was read", arches[i]);
        cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_BAD_ADDR), "%s", arches[i]);
        tl_close(t);
    }
}

/* x86 with DEBUG_HIGHMEM: kunmap_atomic of an address that is not the slot must be lowmem,
 * [PAGE_OFFSET, high_memory): high_memory itself is already a bad address. Up to 2.6.30 (the
 * 5.11 run tests 2.6.30): 5.11's kunmap_local only warns below PAGE_OFFSET (local_test). */
Test(gaps, x86_debug_kunmap_atomic_lowmem_bounds)
{
    struct hm_config c = tl_cfg("x86", 8, 1);
    c.debug_highmem = 1;
    if (c.kernel > HM_KERNEL_2_6_30)
        c.kernel = HM_KERNEL_2_6_30;
    struct tl *t = tl_open(&c);
    hm_pfn_t pfn = t->layout.highmem_start_pfn + 1;
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, pfn, 0, &v), HM_OK));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, t->layout.high_memory, 0), HM_EINVAL));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_ATOMIC_BAD_ADDR));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1)); /* nothing undone */
    /* the last lowmem byte is fine: depth drops, the slot's PTE stays */
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, t->layout.high_memory - 1u, 0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    cr_assert(eq(int, hm_pte_none(t->ctx, hm_sim_pte(t->sim, v)), 0));
}

/* Every PTE_CLEAR event carries the address and nothing else (b = 0, pte = 0); FLUSH_DONE
 * only the number of slots freed. */
Test(gaps, pte_clear_event_fields)
{
    struct hm_config c = tl_cfg("x86", 4, 1);
    struct tl *t = tl_open(&c);
    size_t seen = 0;
    for (uint32_t i = 0; i < 8; i++) { /* two wraps: the flushes clear count-1 slots */
        hm_pfn_t pfn = t->layout.highmem_start_pfn + i;
        tl_kmap(t, pfn);
        tl_kunmap(t, pfn);
    }
    for (size_t i = 0; i < t->nev; i++) {
        const struct hm_event *e = &t->ev[i];
        if (e->kind != HM_EV_PTE_CLEAR)
            continue;
        seen++;
        cr_assert(ge(u64, e->a, t->layout.pkmap_base));
        cr_assert(lt(u64, e->a, t->layout.pkmap_base + 4u * 4096u));
        cr_assert(eq(u64, e->b, 0));
        cr_assert(eq(u64, e->pte, 0));
        cr_assert(eq(u32, e->cpu, HM_CPU_ALL));
    }
    cr_assert(gt(sz, seen, 0));
    /* and FLUSH_DONE carries the number of slots freed, nothing else */
    seen = 0;
    for (size_t i = 0; i < t->nev; i++) {
        const struct hm_event *e = &t->ev[i];
        if (e->kind != HM_EV_FLUSH_DONE)
            continue;
        seen++;
        cr_assert(le(u64, e->a, 4u));
        cr_assert(eq(u64, e->b, 0));
        cr_assert(eq(u64, e->pte, 0));
    }
    cr_assert(eq(sz, seen, tl_stats(t).flushes));
}

/* ---- the event contract: every field an event kind does not use is 0 ------------------ */

static void release_one(struct tl *t, unsigned nth)
{
    (void)nth;
    /* "another task" drops its second reference: the count falls 2 -> 1 and wakes the sleeper */
    tl_kunmap(t, t->layout.highmem_start_pfn);
}

static void expect_event_fields(const struct tl *t, const char *arch, size_t *seen)
{
    for (size_t i = 0; i < t->nev; i++) {
        const struct hm_event *e = &t->ev[i];
        seen[e->kind]++;
        switch (e->kind) {
        case HM_EV_PTE_SET:
            cr_assert(ne(u64, e->pte, 0), "%s: pte_set without a PTE", arch);
            break;
        case HM_EV_PTE_CLEAR:
        case HM_EV_FLUSH_DONE:
        case HM_EV_SLEEP:
        case HM_EV_WAKEUP:
            cr_assert(eq(u64, e->b, 0), "%s: %s b", arch, hm_event_name(e->kind));
            cr_assert(eq(u64, e->pte, 0), "%s: %s pte", arch, hm_event_name(e->kind));
            break;
        case HM_EV_TLB_FLUSH_RANGE:
            cr_assert(lt(u64, (uint64_t)e->a, e->b ? (uint64_t)e->b : 1ull << 32), "%s", arch);
            cr_assert(eq(u64, e->pte, 0), "%s: tlb_flush_range pte", arch);
            break;
        case HM_EV_TLB_FLUSH_PAGE:
            cr_assert(eq(u64, e->b, 0), "%s: tlb_flush_page b", arch);
            cr_assert(eq(u64, e->pte, 0), "%s: tlb_flush_page pte", arch);
            break;
        case HM_EV_TLB_FLUSH_ALL:
        case HM_EV_CACHE_FLUSH_ALL:
        case HM_EV_FLUSH_ALL_ZERO_PKMAPS:
            cr_assert(eq(u64, e->a, 0), "%s: %s a", arch, hm_event_name(e->kind));
            cr_assert(eq(u64, e->b, 0), "%s: %s b", arch, hm_event_name(e->kind));
            cr_assert(eq(u64, e->pte, 0), "%s: %s pte", arch, hm_event_name(e->kind));
            break;
        case HM_EV_BUG:
            cr_assert(eq(u64, e->pte, 0), "%s: bug pte", arch);
            break;
        case HM_EV_MACHINE_FAIL: /* right after the refused write, same address; b unused */
            cr_assert(gt(sz, i, 0), "%s: machine_fail first", arch);
            cr_assert(eq(u64, e->a, t->ev[i - 1].a), "%s: machine_fail a", arch);
            cr_assert(eq(u64, e->b, 0), "%s: machine_fail b", arch);
            cr_assert(eq(u64, e->pte, t->ev[i - 1].kind == HM_EV_PTE_SET ? t->ev[i - 1].pte : 0),
                      "%s: machine_fail pte", arch);
            break;
        default:
            break;
        }
    }
}

/* A script that makes every kind of event on each arch: a wrap with a flush, a sleep and its
 * wake-up, kmap_atomic / kunmap_atomic (page flushes on x86/ppc, flush-alls and cache flushes
 * on sparc), a BUG, and a map and a clear the machine refuses. */
Test(gaps, event_fields_contract)
{
    static const char *const arches[] = {"x86", "x86-pae", "ppc", "sparc"};
    size_t seen[HM_EV_MACHINE_FAIL + 1] = {0};
    for (size_t k = 0; k < sizeof arches / sizeof arches[0]; k++) {
        struct tl *t = tl_open_arch(arches[k], 4, 1, 1, 0);
        hm_pfn_t p0 = t->layout.highmem_start_pfn;
        hm_vaddr_t v = 0;
        tl_kmap(t, p0);
        tl_kmap(t, p0); /* count 3 */
        for (uint32_t i = 1; i < 4; i++)
            tl_kmap(t, p0 + i); /* the window is full of held slots */
        t->wrap.sleep_action = release_one;
        tl_kmap(t, p0 + 9); /* sleeps, woken by the release, flushes, maps */
        t->wrap.sleep_action = NULL;
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, p0 + 20, 0, &v), HM_OK));
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, 0), HM_OK));
        cr_assert(eq(int, hm_kunmap(t->ctx, p0 + 30), HM_EINVAL)); /* BUG: never mapped */
        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, p0 + 20, 0, &v), HM_EMACHINE));
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, p0 + 20, 0, &v), HM_OK));
        hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_CLEAR);
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, 0), HM_EMACHINE)); /* debug on: sparc clears */
        cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, 0), HM_OK));
        expect_event_fields(t, arches[k], seen);
        tl_close(t);
    }
    /* the script reached every kind the library emits */
    for (int kind = HM_EV_PTE_SET; kind <= HM_EV_MACHINE_FAIL; kind++)
        if (kind != HM_EV_STALE_TLB)
            cr_assert(gt(sz, seen[kind], 0), "no %s event", hm_event_name(kind));
}

/* The first slot, slot 0, is checked like the others: by flush_all_zero_pkmaps (a count-1 slot
 * whose PTE vanished is FLUSH_PTE_NONE) and by kmap_to_page at the window's first address. */
Test(gaps, slot_0_is_an_ordinary_slot)
{
    struct tl *t = tl_open_arch("x86", 4, 1, 0, 0);
    hm_pfn_t p0 = t->layout.highmem_start_pfn, got = 0;
    for (uint32_t i = 0; i < 4; i++)
        tl_kmap(t, p0 + i); /* the fourth kmap wraps into slot 0 */
    cr_assert(eq(u64, tl_page_address(t, p0 + 3), t->layout.pkmap_base));
    cr_assert(eq(u64, t->layout.pt_start, t->layout.pkmap_base));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, t->layout.pkmap_base, &got), HM_OK));
    cr_assert(eq(u32, got, p0 + 3));
    tl_kunmap(t, p0 + 3); /* slot 0 at count 1 */
    t->sim_machine.set_pte(t->sim_machine.m, t->layout.pkmap_base, 0);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_EFAULT));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_FLUSH_PTE_NONE));
}

/* generic: no atomic window, 32-bit PTE size in the layout, and kmap_atomic_to_page refuses
 * high_memory (one past the last lowmem page) while accepting the page below it. */
Test(gaps, generic_layout_and_lowmem_end)
{
    struct hm_config c = tl_cfg("generic", 0, 1);
    struct tl *t = tl_open(&c);
    hm_pfn_t got = 0;
    cr_assert(eq(u64, t->layout.kmap_atomic_base, 0));
    cr_assert(eq(int, t->layout.kmap_atomic_dir, 0));
    cr_assert(eq(u32, t->layout.pte_bytes, 4));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, t->layout.high_memory, &got), HM_ERANGE));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, t->layout.high_memory - 4096u, &got), HM_OK));
    cr_assert(eq(u32, got, t->layout.max_pfn - 1u));
}

/* sparc kmap_atomic_to_page: FIXADDR_TOP itself reaches virt_to_fix, which BUGs on it (past it,
 * kmap_atomic_to_page's own range check does). */
Test(gaps, sparc_atomic_to_page_at_fixaddr_top)
{
    struct hm_config c = tl_cfg("sparc", 8, 1);
    struct tl *t = tl_open(&c);
    hm_pfn_t got = 0;
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, t->layout.fixaddr_top, &got), HM_EINVAL));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_VIRT_TO_FIX));
    cr_assert(eq(str, (char *)tl_last_bug(t)->function, "virt_to_fix"));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, t->layout.fixaddr_top + 4096u, &got), HM_EINVAL));
    cr_assert(eq(str, (char *)tl_last_bug(t)->function, "kmap_atomic_to_page"));
}

/* x86 kmap_atomic_to_page below the atomic window is virt_to_page: with a small highmem the
 * address of pfn max_pfn (one past the last page) fits in 32 bits and must be refused, the
 * address of the last page accepted. */
Test(gaps, virt_to_page_at_max_pfn)
{
    struct hm_config c = tl_cfg("x86", 8, 1);
    c.highmem_pages = 16;
    struct tl *t = tl_open(&c);
    hm_vaddr_t end = t->layout.page_offset + (t->layout.max_pfn << 12);
    hm_pfn_t got = 0;
    cr_assert(eq(u32, t->layout.max_pfn, 0x38010u));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, end, &got), HM_ERANGE));
    cr_assert(eq(int, tl_last_bug(t)->bug, HM_BUG_BAD_ADDR));
    cr_assert(eq(int, hm_kmap_atomic_to_page(t->ctx, end - 4096u, &got), HM_OK));
    cr_assert(eq(u32, got, t->layout.max_pfn - 1u));
}
