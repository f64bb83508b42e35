/* local_test.c - Criterion tests of kmap_local (5.11, spec §10.6) over the simulated MMU: the
 * per-task stack (LIFO, overflow, guard slots), the context switch (events, PTEs, migration,
 * corrupted stacks), the stale TLB a missing sched-out flush leaves, refused PTE writes, the
 * kmap_atomic wrapper, kmap_to_page and the per-arch hooks. White-box only where a corrupted
 * kmap_ctrl is needed (core/hm_internal.h). SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "core/hm_internal.h"
#include "testlib.h"

TestSuite(local, .fini = tl_fini, .timeout = 30);

#define HIGH0 0x38000u
#define PG(n) (HIGH0 + 0x100u + (uint32_t)(n))
#define LOWPFN 0x1234u
#define KM_USER0 3u
#define KPTE(pfn) ((((hm_pte_t)(pfn)) << 12) | 0x163u)

/* x86 constants of the documented config (hm_arch_x86.c, spec §3.1) */
#define FIXADDR_TOP 0xfffff000u
#define FIX_KMAP_BEGIN 70u
#define PAGE_OFFSET 0xc0000000u

/* __fix_to_virt(FIX_KMAP_BEGIN + pos + KM_MAX_IDX * cpu), computed by hand */
static hm_vaddr_t slot(uint32_t km_max_idx, uint32_t cpu, uint32_t pos)
{
    return FIXADDR_TOP - ((hm_vaddr_t)(FIX_KMAP_BEGIN + pos + km_max_idx * cpu) << 12);
}

static struct hm_config local_cfg(const char *arch, uint32_t cpus, int debug)
{
    struct hm_config c = tl_cfg(arch, 0, cpus);
    c.kernel = HM_KERNEL_5_11;
    c.debug_highmem = debug;
    return c;
}

static struct tl *open_local(const char *arch, uint32_t cpus, int debug)
{
    struct hm_config c = local_cfg(arch, cpus, debug);
    return tl_open(&c);
}

static hm_vaddr_t kmap_local(struct tl *t, uint32_t cpu, hm_pfn_t pfn)
{
    hm_vaddr_t v = 0;
    cr_assert(eq(int, hm_kmap_local_page(t->ctx, cpu, pfn, &v), HM_OK), "kmap_local %u %u", cpu, pfn);
    return v;
}

static void kunmap_local(struct tl *t, uint32_t cpu, hm_vaddr_t v)
{
    cr_assert(eq(int, hm_kunmap_local(t->ctx, cpu, v), HM_OK), "kunmap_local %u 0x%llx", cpu,
              (unsigned long long)v);
}

static void do_switch(struct tl *t, uint32_t cpu, uint32_t task)
{
    cr_assert(eq(int, hm_switch(t->ctx, cpu, task), HM_OK), "switch %u %u", cpu, task);
    cr_assert(eq(int, hm_cpu_task(t->ctx, cpu), (int)task));
}

/* A call that must fail with err and bug, changing nothing (no hardware event either). */
#define EXPECT_REFUSED(t, call, err, bug, what)                                                    \
    do {                                                                                           \
        struct tl_snap s_;                                                                         \
        tl_snap_take((t), &s_);                                                                    \
        cr_assert(eq(int, (call), (err)), "%s", (what));                                           \
        tl_assert_last_bug((t), (bug), (err), NULL);                                               \
        tl_snap_assert_same((t), &s_, (what));                                                     \
    } while (0)

Test(local, layout_has_km_max_idx_slots_per_cpu)
{
    struct hm_config c = local_cfg("x86", 2, 0);
    struct hm_layout l, old;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.km_max_idx, 16));
    cr_assert(eq(u32, l.km_type_nr, 16)); /* the fixmap's KMAP range: KM_MAX_IDX * NR_CPUS */
    cr_assert(eq(u32, l.nr_tasks, 4));    /* default: nr_cpus + 2 */
    /* FIXADDR_START moves down by (16 - 13) * NR_CPUS(8) pages against 2.6.24 */
    c.kernel = HM_KERNEL_2_6_24;
    cr_assert(eq(int, hm_layout_compute(&c, &old), HM_OK));
    cr_assert(eq(u32, old.km_max_idx, 0));
    cr_assert(eq(u64, old.fixaddr_start - l.fixaddr_start, (hm_vaddr_t)3u * 8u * 4096u));
    c = local_cfg("x86", 2, 1);
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.km_max_idx, 33));
    c.nr_tasks = HM_MAX_TASKS + 1u;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    c.nr_tasks = 7;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cr_assert(eq(u32, l.nr_tasks, 7));
}

Test(local, earlier_generations_have_no_kmap_local)
{
    for (int k = HM_KERNEL_2_6_24; k <= HM_KERNEL_2_6_30; k++) {
        struct hm_config c = tl_cfg("x86", 0, 1);
        struct tl *t;
        hm_vaddr_t v = 7;
        c.kernel = k;
        t = tl_open(&c);
        EXPECT_REFUSED(t, hm_kmap_local_page(t->ctx, 0, PG(0), &v), HM_EINVAL, HM_BUG_UNAVAILABLE,
                       "kmap_local");
        cr_assert(eq(u64, v, 7));
        EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 0, slot(13, 0, 0)), HM_EINVAL, HM_BUG_UNAVAILABLE,
                       "kunmap_local");
        EXPECT_REFUSED(t, hm_switch(t->ctx, 0, 1), HM_EINVAL, HM_BUG_UNAVAILABLE, "switch");
        cr_assert(eq(int, hm_cpu_task(t->ctx, 0), -1));
        cr_assert(eq(int, hm_task_local_idx(t->ctx, 1, 0), -1));
        /* the 2.6.24 kmap_atomic is the per-type one: KM_USER0's slot */
        cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
        cr_assert(eq(u64, v, slot(13, 0, KM_USER0)));
    }
}

Test(local, push_pop_lifo)
{
    struct tl *t = open_local("x86", 1, 0);
    hm_vaddr_t v[3];
    for (int i = 0; i < 3; i++)
        tl_mark(t, PG(i), (uint8_t)(0x40 + i));
    for (int i = 0; i < 3; i++) {
        size_t from = t->nev;
        v[i] = kmap_local(t, 0, PG(i));
        cr_assert(eq(u64, v[i], slot(16, 0, (uint32_t)i)), "position %d", i);
        cr_assert(eq(u64, hm_sim_pte(t->sim, v[i]), KPTE(PG(i))));
        cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), i + 1));
        /* x86 makes no flush after a map */
        static const int kinds[] = {HM_EV_PTE_SET};
        tl_assert_ev_kinds(t, from, kinds, 1, "kmap_local");
        tl_assert_pte_set_ev(t, from, v[i], PG(i), KPTE(PG(i)));
        tl_assert_invariants(t, "kmap_local");
    }
    for (int i = 0; i < 3; i++)
        cr_assert(eq(u8, tl_load(t, 0, v[i] + 5u), 0), "offset 5 of page %d", i);
    for (int i = 0; i < 3; i++)
        cr_assert(eq(u8, tl_load(t, 0, v[i]), (uint8_t)(0x40 + i)), "page %d", i);
    for (int i = 2; i >= 0; i--) {
        size_t from = t->nev;
        kunmap_local(t, 0, v[i] + 123u); /* any address inside the page */
        tl_assert_clear_flush_page_ev(t, from, v[i], 0, "kunmap_local"); /* flush_tlb_one_kernel */
        cr_assert(eq(u64, hm_sim_pte(t->sim, v[i]), 0));
        cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), i));
        cr_assert(eq(u32, hm_sim_tlb_size(t->sim, 0), (uint32_t)i), "the unmapped page left the TLB");
        tl_assert_invariants(t, "kunmap_local");
    }
}

Test(local, out_of_order_unmap_is_refused)
{
    struct tl *t = open_local("x86", 2, 0);
    hm_vaddr_t a = kmap_local(t, 0, PG(0)), b = kmap_local(t, 0, PG(1));
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 0, a), HM_EINVAL, HM_BUG_LOCAL_NOT_TOP, "not the top");
    cr_assert(eq(u64, tl_last_bug(t)->arg, a));
    /* the top's address, but from the other CPU (whose stack is empty) */
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 1, b), HM_EINVAL, HM_BUG_LOCAL_NOT_TOP, "other cpu");
    /* a slot above the top */
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 0, slot(16, 0, 2)), HM_EINVAL, HM_BUG_LOCAL_NOT_TOP,
                   "above the top");
    /* an empty stack: the pop would go below 0 */
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 1, slot(16, 1, 0)), HM_EINVAL, HM_BUG_LOCAL_NOT_TOP,
                   "empty stack");
    /* bad arguments */
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 2, b), HM_EINVAL, HM_BUG_BAD_ARG, "bad cpu");
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 0, (hm_vaddr_t)1 << 32 | b), HM_ERANGE, HM_BUG_BAD_ADDR,
                   "above 2^va_bits");
    EXPECT_REFUSED(t, hm_kmap_local_page(t->ctx, 0, PG(2), NULL), HM_EINVAL, HM_BUG_BAD_ARG, "NULL");
    EXPECT_REFUSED(t, hm_kmap_local_page(t->ctx, 0, t->layout.max_pfn, &a), HM_ERANGE,
                   HM_BUG_PFN_RANGE, "pfn");
    kunmap_local(t, 0, b);
    kunmap_local(t, 0, a);
    tl_assert_invariants(t, "LIFO");
}

/* Fill the stack: `fit` mappings succeed, at the odd positions under debug; the next one is the
 * push's BUG with nothing changed. */
static void fill_stack(int debug, int fit)
{
    struct tl *t = open_local("x86", 1, debug);
    uint32_t km = debug ? 33u : 16u, step = debug ? 2u : 1u;
    hm_vaddr_t v = 0;
    for (int i = 0; i < fit; i++) {
        v = kmap_local(t, 0, PG(i));
        cr_assert(eq(u64, v, slot(km, 0, step * (uint32_t)i + step - 1u)), "mapping %d", i);
    }
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), fit * (int)step));
    for (uint32_t p = 0; p < km; p++) { /* guards (even positions under debug) stay none */
        int mapped = p < (uint32_t)fit * step && (!debug || (p & 1u));
        cr_assert(eq(int, hm_sim_pte(t->sim, slot(km, 0, p)) != 0, mapped), "position %u", p);
    }
    tl_assert_invariants(t, "full");
    EXPECT_REFUSED(t, hm_kmap_local_page(t->ctx, 0, PG(fit), &v), HM_EINVAL, HM_BUG_LOCAL_OVERFLOW,
                   "overflow");
    cr_assert(eq(str, (char *)tl_last_bug(t)->function, "kmap_local_idx_push"));
    /* a lowmem page needs no position */
    cr_assert(eq(int, hm_kmap_local_page(t->ctx, 0, LOWPFN, &v), HM_OK));
}

Test(local, overflow_past_km_max_idx)
{
    fill_stack(0, 15); /* idx 16 >= KM_MAX_IDX 16 */
}

Test(local, overflow_with_debug_guard_slots)
{
    fill_stack(1, 16); /* idx 34 >= KM_MAX_IDX 33 */
}

Test(local, lowmem_pushes_nothing)
{
    struct tl *t = open_local("x86", 1, 0);
    hm_vaddr_t v = kmap_local(t, 0, LOWPFN);
    cr_assert(eq(u64, v, PAGE_OFFSET + ((hm_vaddr_t)LOWPFN << 12)));
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 0));
    cr_assert(eq(sz, tl_ev_hw_count(t, 0), 0));
    kunmap_local(t, 0, v); /* a direct-map address: nothing to do */
    /* a pkmap address: x86 has no kmap_high_get, kunmap_local leaves it alone */
    hm_vaddr_t pv = tl_kmap(t, PG(0));
    size_t from = t->nev;
    kunmap_local(t, 0, pv);
    cr_assert(eq(sz, tl_ev_hw_count(t, from), 0));
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
    /* below PAGE_OFFSET: the kernel's WARN */
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 0, 0x1000u), HM_EINVAL, HM_BUG_LOCAL_BAD_ADDR, "user address");
    tl_assert_invariants(t, "lowmem");
}

Test(local, switch_saves_and_restores)
{
    struct tl *t = open_local("x86", 1, 0);
    hm_vaddr_t a, b, c;
    tl_mark(t, PG(0), 0xa0);
    tl_mark(t, PG(1), 0xb1);
    tl_mark(t, PG(2), 0xc2);
    cr_assert(eq(int, hm_cpu_task(t->ctx, 0), 0)); /* every CPU starts in its idle task */
    do_switch(t, 0, 1);
    cr_assert(eq(sz, tl_ev_hw_count(t, 0), 0)); /* empty stacks: nothing saved or restored */
    a = kmap_local(t, 0, PG(0));
    b = kmap_local(t, 0, PG(1));
    cr_assert(eq(u8, tl_load(t, 0, a), 0xa0));
    cr_assert(eq(u8, tl_load(t, 0, b), 0xb1));

    size_t from = t->nev;
    do_switch(t, 0, 2);
    {
        static const int kinds[] = {HM_EV_LOCAL_SAVE, HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_PAGE,
                                    HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_PAGE};
        tl_assert_ev_kinds(t, from, kinds, 5, "sched out of task 1");
        cr_assert(eq(u64, t->ev[from].a, 1));
        cr_assert(eq(u32, t->ev[from].cpu, 0));
        static const hm_vaddr_t at[] = {0, 1, 1, 2, 2}; /* 1: a, 2: b */
        for (int i = 1; i < 5; i++) {
            cr_assert(eq(u64, t->ev[from + i].a, at[i] == 1 ? a : b), "event %d", i);
            if (t->ev[from + i].kind == HM_EV_TLB_FLUSH_PAGE) /* flush_tlb_one_kernel: this CPU */
                cr_assert(eq(u32, t->ev[from + i].cpu, 0), "event %d", i);
        }
    }
    cr_assert(eq(u64, hm_sim_pte(t->sim, a), 0));
    cr_assert(eq(u64, hm_sim_pte(t->sim, b), 0));
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 1, 0), 2)); /* kept in kmap_ctrl */
    cr_assert(eq(int, tl_try_load(t, 0, a, &(uint8_t){0}), HM_EFAULT));
    tl_assert_invariants(t, "task 1 switched out");

    c = kmap_local(t, 0, PG(2));
    cr_assert(eq(u64, c, a)); /* task 2's first position: the same slot */
    cr_assert(eq(u8, tl_load(t, 0, c), 0xc2));

    from = t->nev;
    do_switch(t, 0, 1);
    {
        static const int kinds[] = {HM_EV_LOCAL_SAVE,    HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_PAGE,
                                    HM_EV_LOCAL_RESTORE, HM_EV_PTE_SET,   HM_EV_PTE_SET};
        tl_assert_ev_kinds(t, from, kinds, 6, "task 2 out, task 1 in");
        cr_assert(eq(u64, t->ev[from].a, 2));
        cr_assert(eq(u64, t->ev[from + 3].a, 1));
        tl_assert_pte_set_ev(t, from + 4, a, PG(0), KPTE(PG(0)));
        tl_assert_pte_set_ev(t, from + 5, b, PG(1), KPTE(PG(1)));
    }
    cr_assert(eq(u8, tl_load(t, 0, a), 0xa0));
    cr_assert(eq(u8, tl_load(t, 0, b), 0xb1));
    cr_assert(eq(sz, tl_ev_count(t, HM_EV_STALE_TLB), 0));
    tl_assert_invariants(t, "task 1 back");
    /* switching to the running task does nothing */
    from = t->nev;
    do_switch(t, 0, 1);
    cr_assert(eq(sz, t->nev, from));
    kunmap_local(t, 0, b);
    kunmap_local(t, 0, a);
    tl_assert_invariants(t, "done");
}

Test(local, migration_of_a_task_with_mappings_is_refused)
{
    struct tl *t = open_local("x86", 2, 0);
    do_switch(t, 0, 1);
    hm_vaddr_t a = kmap_local(t, 0, PG(0));
    do_switch(t, 0, 0);
    EXPECT_REFUSED(t, hm_switch(t->ctx, 1, 1), HM_EINVAL, HM_BUG_LOCAL_MIGRATE, "migrate");
    cr_assert(eq(u64, tl_last_bug(t)->arg, 1));
    /* it may go back to its own CPU, and move once its stack is empty */
    do_switch(t, 0, 1);
    kunmap_local(t, 0, a);
    do_switch(t, 0, 0);
    do_switch(t, 1, 1);
    a = kmap_local(t, 1, PG(0));
    cr_assert(eq(u64, a, slot(16, 1, 0)));
    tl_assert_invariants(t, "moved");
}

Test(local, switch_argument_and_state_errors)
{
    struct tl *t = open_local("x86", 2, 0);
    hm_vaddr_t v;
    do_switch(t, 0, 1);
    EXPECT_REFUSED(t, hm_switch(t->ctx, 1, 1), HM_EINVAL, HM_BUG_TASK_RUNNING, "running elsewhere");
    EXPECT_REFUSED(t, hm_switch(t->ctx, 1, 4), HM_EINVAL, HM_BUG_BAD_ARG, "task >= nr_tasks");
    EXPECT_REFUSED(t, hm_switch(t->ctx, 2, 2), HM_EINVAL, HM_BUG_BAD_ARG, "cpu >= nr_cpus");
    /* scheduling while atomic: a kmap_atomic held, or in an interrupt */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &v), HM_OK));
    EXPECT_REFUSED(t, hm_switch(t->ctx, 0, 2), HM_EINVAL, HM_BUG_SWITCH_ATOMIC, "atomic");
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, KM_USER0), HM_OK));
    hm_sim_set_in_interrupt(t->sim, 1);
    EXPECT_REFUSED(t, hm_switch(t->ctx, 0, 2), HM_EINVAL, HM_BUG_SWITCH_ATOMIC, "interrupt");
    hm_sim_set_in_interrupt(t->sim, 0);
    do_switch(t, 0, 2);
    tl_assert_invariants(t, "errors");
}

/* A corrupted kmap_ctrl of the outgoing or incoming task: LOCAL_CORRUPT, nothing changed. */
Test(local, corrupted_stack_is_refused)
{
    struct tl *t = open_local("x86", 1, 0);
    struct hm_task *t1 = hm_task_of(t->ctx, 1, 0), *t2 = hm_task_of(t->ctx, 2, 0);
    do_switch(t, 0, 1);
    kmap_local(t, 0, PG(0));
    kmap_local(t, 0, PG(1));
    do_switch(t, 0, 2);
    struct hm_task saved = *t1;

    t1->idx = 16; /* out of range */
    EXPECT_REFUSED(t, hm_switch(t->ctx, 0, 1), HM_EINVAL, HM_BUG_LOCAL_CORRUPT, "idx");
    cr_assert(eq(str, (char *)tl_last_bug(t)->function, "__kmap_local_sched_in"));
    t1->idx = -1;
    EXPECT_REFUSED(t, hm_switch(t->ctx, 0, 1), HM_EINVAL, HM_BUG_LOCAL_CORRUPT, "negative idx");
    *t1 = saved;
    t1->pteval[1] = 0; /* a mapped position whose saved PTE is none */
    EXPECT_REFUSED(t, hm_switch(t->ctx, 0, 1), HM_EINVAL, HM_BUG_LOCAL_CORRUPT, "none pteval");
    *t1 = saved;
    /* the outgoing task's */
    do_switch(t, 0, 1);
    t1->idx = 3;
    EXPECT_REFUSED(t, hm_switch(t->ctx, 0, 2), HM_EINVAL, HM_BUG_LOCAL_CORRUPT, "outgoing");
    cr_assert(eq(str, (char *)tl_last_bug(t)->function, "__kmap_local_sched_out"));
    t1->idx = 2;
    (void)t2;
    tl_assert_invariants(t, "restored");
}

/* The sched-out's TLB flush is what makes the next task's mapping of the slot visible: without
 * it the sim serves the old page's byte through the CPU's TLB (and reports it); with it the new
 * page's. Two ways to lose it: an arch without the post-unmap hook, a machine that drops it. */
static uint8_t byte_after_switch(const struct hm_arch *arch, int drop_flush, size_t *stale)
{
    struct hm_config c = local_cfg("x86", 1, 0);
    struct tl *t;
    hm_vaddr_t a, b;
    uint8_t got = 0;
    if (arch)
        c.arch = arch;
    t = tl_open(&c);
    tl_mark(t, PG(0), 0xa0);
    tl_mark(t, PG(1), 0xb1);
    do_switch(t, 0, 1);
    a = kmap_local(t, 0, PG(0));
    cr_assert(eq(u8, tl_load(t, 0, a), 0xa0)); /* now in cpu 0's TLB */
    if (drop_flush)
        hm_sim_inject(t->sim, HM_SIM_FAULT_DROP_NEXT_FLUSH);
    do_switch(t, 0, 2); /* clears the slot; the flush after it is the one at stake */
    b = kmap_local(t, 0, PG(1));
    cr_assert(eq(u64, b, a));
    cr_assert(eq(int, tl_try_load(t, 0, b, &got), HM_OK));
    *stale = tl_ev_count(t, HM_EV_STALE_TLB);
    tl_close(t);
    return got;
}

Test(local, stale_tlb_without_the_sched_out_flush)
{
    static struct hm_arch no_flush;
    size_t stale;
    no_flush = *hm_arch_find("x86");
    no_flush.kmap_local_post_unmap = NULL;
    cr_assert(eq(u8, byte_after_switch(NULL, 0, &stale), 0xb1));
    cr_assert(eq(sz, stale, 0));
    cr_assert(eq(u8, byte_after_switch(&no_flush, 0, &stale), 0xa0), "the old page through the TLB");
    cr_assert(gt(sz, stale, 0));
    cr_assert(eq(u8, byte_after_switch(NULL, 1, &stale), 0xa0), "the flush dropped by the machine");
    cr_assert(gt(sz, stale, 0));
}

Test(local, refused_map_changes_nothing)
{
    struct tl *t = open_local("x86", 1, 0);
    hm_vaddr_t v = 7;
    struct tl_snap s;
    kmap_local(t, 0, PG(0));
    tl_snap_take(t, &s);
    size_t from = t->nev;
    hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_MAP);
    cr_assert(eq(int, hm_kmap_local_page(t->ctx, 0, PG(1), &v), HM_EMACHINE));
    cr_assert(eq(u64, v, 7));
    static const int kinds[] = {HM_EV_PTE_SET, HM_EV_MACHINE_FAIL};
    tl_assert_ev_kinds(t, from, kinds, 2, "refused map");
    tl_snap_assert_state_same(t, &s, "refused map");
    tl_assert_invariants(t, "refused map");
    /* a refused clear: still mapped, still the top */
    hm_vaddr_t top = slot(16, 0, 0);
    tl_snap_take(t, &s);
    hm_sim_inject(t->sim, HM_SIM_FAULT_FAIL_NEXT_CLEAR);
    cr_assert(eq(int, hm_kunmap_local(t->ctx, 0, top), HM_EMACHINE));
    tl_snap_assert_state_same(t, &s, "refused clear");
    kunmap_local(t, 0, top);
    tl_assert_invariants(t, "after");
}

/* Task 1 holds A and B, task 2 holds C and runs: one refused write in the switch to task 1 puts
 * everything back. */
static struct tl *two_tasks(void)
{
    struct tl *t = open_local("x86", 1, 0);
    do_switch(t, 0, 1);
    kmap_local(t, 0, PG(0));
    kmap_local(t, 0, PG(1));
    do_switch(t, 0, 2);
    kmap_local(t, 0, PG(2));
    return t;
}

Test(local, refused_write_in_a_switch_changes_nothing)
{
    static const int faults[] = {HM_SIM_FAULT_FAIL_NEXT_MAP, HM_SIM_FAULT_FAIL_NEXT_CLEAR};
    for (int i = 0; i < 2; i++) {
        struct tl *t = two_tasks();
        struct tl_snap s;
        tl_snap_take(t, &s);
        hm_sim_inject(t->sim, faults[i]);
        cr_assert(eq(int, hm_switch(t->ctx, 0, 1), HM_EMACHINE), "fault %d", faults[i]);
        cr_assert(eq(sz, tl_ev_count_since(t, s.nev, HM_EV_MACHINE_FAIL), 1));
        tl_snap_assert_state_same(t, &s, "refused switch");
        tl_assert_invariants(t, "refused switch");
        cr_assert(eq(u8, tl_load(t, 0, slot(16, 0, 0)), 0)); /* C (unmarked) still there */
        do_switch(t, 0, 1); /* and the switch works once the machine does */
        tl_assert_invariants(t, "switched");
    }
}

Test(local, kmap_atomic_is_a_wrapper)
{
    struct tl *t = open_local("x86", 1, 0);
    hm_vaddr_t a, b, c;
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(0), KM_USER0, &a), HM_OK));
    cr_assert(eq(u64, a, slot(16, 0, 0))); /* the stack's depth, not KM_USER0, picks the slot */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, PG(1), KM_USER0, &b), HM_OK));
    cr_assert(eq(u64, b, slot(16, 0, 1)));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 2));
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 2));
    /* kmap_atomic_pfn maps even a lowmem pfn; kmap_atomic of a lowmem page does not */
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, LOWPFN, 0, &c), HM_OK));
    cr_assert(eq(u64, c, slot(16, 0, 2)));
    cr_assert(eq(u64, hm_sim_pte(t->sim, c), KPTE(LOWPFN)));
    tl_assert_invariants(t, "atomic");
    /* strict LIFO here too, and the depth stays */
    EXPECT_REFUSED(t, hm_kunmap_atomic(t->ctx, 0, a, KM_USER0), HM_EINVAL, HM_BUG_LOCAL_NOT_TOP, "order");
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, c, 0), HM_OK));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, b, 5), HM_OK)); /* any valid type */
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, a, KM_USER0), HM_OK));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 0));
    /* lowmem: no push, the depth still counts */
    cr_assert(eq(int, hm_kmap_atomic(t->ctx, 0, LOWPFN, KM_USER0, &a), HM_OK));
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 0));
    cr_assert(eq(int, hm_pagefault_depth(t->ctx, 0), 1));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, a, KM_USER0), HM_OK));
    EXPECT_REFUSED(t, hm_kunmap_atomic(t->ctx, 0, a, KM_USER0), HM_EINVAL, HM_BUG_ATOMIC_UNBALANCED,
                   "unbalanced");
    /* an overflow undoes the pagefault_disable */
    for (int i = 0; i < 15; i++)
        kmap_local(t, 0, PG(i));
    EXPECT_REFUSED(t, hm_kmap_atomic(t->ctx, 0, PG(20), KM_USER0, &a), HM_EINVAL, HM_BUG_LOCAL_OVERFLOW,
                   "overflow");
    tl_assert_invariants(t, "end");
}

Test(local, kmap_to_page_searches_the_running_tasks_stack)
{
    struct tl *t = open_local("x86", 2, 0);
    hm_pfn_t pfn = 0;
    do_switch(t, 1, 1);
    hm_vaddr_t a = kmap_local(t, 1, PG(7));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, a + 9u, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(7)));
    /* a position above the top of cpu 1's task */
    EXPECT_REFUSED(t, hm_kmap_to_page(t->ctx, slot(16, 1, 1), &pfn), HM_EFAULT, HM_BUG_NOT_MAPPED, "above");
    /* once the task is switched out its address maps nothing */
    do_switch(t, 1, 0);
    EXPECT_REFUSED(t, hm_kmap_to_page(t->ctx, a, &pfn), HM_EFAULT, HM_BUG_NOT_MAPPED, "switched out");
    /* pkmap and direct-map addresses as before */
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, tl_kmap(t, PG(3)), &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(3)));
}

Test(local, interrupts_nest_on_the_current_stack)
{
    struct tl *t = open_local("x86", 1, 0);
    do_switch(t, 0, 1);
    hm_vaddr_t a = kmap_local(t, 0, PG(0));
    hm_sim_set_in_interrupt(t->sim, 1);
    hm_vaddr_t irq = kmap_local(t, 0, PG(1));
    cr_assert(eq(u64, irq, slot(16, 0, 1))); /* above the interrupted task's mapping */
    kunmap_local(t, 0, irq);
    hm_sim_set_in_interrupt(t->sim, 0);
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 1, 0), 1)); /* idx as before the interrupt */
    kunmap_local(t, 0, a);
    tl_assert_invariants(t, "irq");
}

/* The arch's hooks, event by event: ppc flushes its CPU's TLB entry after a map and after an
 * unmap; sparc flushes the whole cache before and the whole TLB after either. */
Test(local, ppc_and_sparc_hooks)
{
    struct tl *t = open_local("ppc", 2, 0);
    hm_vaddr_t v = kmap_local(t, 1, PG(0));
    cr_assert(eq(u64, v, t->layout.kmap_atomic_base + (16u + 0u) * 4096u)); /* upward window */
    {
        static const int kinds[] = {HM_EV_PTE_SET, HM_EV_TLB_FLUSH_PAGE};
        tl_assert_ev_kinds(t, 0, kinds, 2, "ppc map");
        cr_assert(eq(u32, t->ev[1].cpu, 1));
    }
    size_t from = t->nev;
    kunmap_local(t, 1, v);
    tl_assert_clear_flush_page_ev(t, from, v, 1, "ppc unmap");
    tl_assert_invariants(t, "ppc");

    t = open_local("sparc", 1, 0);
    v = kmap_local(t, 0, t->layout.highmem_start_pfn);
    {
        static const int kinds[] = {HM_EV_CACHE_FLUSH_ALL, HM_EV_PTE_SET, HM_EV_TLB_FLUSH_ALL};
        tl_assert_ev_kinds(t, 0, kinds, 3, "sparc map");
    }
    from = t->nev;
    kunmap_local(t, 0, v);
    {
        static const int kinds[] = {HM_EV_CACHE_FLUSH_ALL, HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_ALL};
        tl_assert_ev_kinds(t, from, kinds, 3, "sparc unmap");
    }
    tl_assert_invariants(t, "sparc");
}

/* Without highmem every form is page_address and kunmap_local does nothing. */
Test(local, generic_has_no_slots)
{
    struct tl *t = open_local("generic", 1, 0);
    hm_vaddr_t v = kmap_local(t, 0, LOWPFN);
    cr_assert(eq(u64, v, PAGE_OFFSET + ((hm_vaddr_t)LOWPFN << 12)));
    cr_assert(eq(int, hm_kmap_atomic_pfn(t->ctx, 0, LOWPFN, 0, &v), HM_OK));
    cr_assert(eq(u64, v, PAGE_OFFSET + ((hm_vaddr_t)LOWPFN << 12)));
    cr_assert(eq(int, hm_kunmap_atomic(t->ctx, 0, v, 0), HM_OK));
    kunmap_local(t, 0, 0x1000u);
    /* no kmap fixmap either: an address below PAGE_OFFSET is no local slot (of the stack's
     * first positions, were the fixmap at 0), but the bad address it always was */
    hm_pfn_t pfn = 7;
    EXPECT_REFUSED(t, hm_kmap_to_page(t->ctx, 0x1000u, &pfn), HM_ERANGE, HM_BUG_BAD_ADDR, "below PAGE_OFFSET");
    cr_assert(eq(u32, pfn, 7));
    do_switch(t, 0, 1);
    tl_assert_invariants(t, "generic");
}

/* hm_layout_compute refuses a 5.11 layout whose page-table window cannot hold the KM_MAX_IDX *
 * NR_CPUS kmap_local slots: an x86 whose window is cut short at the top by `cut` pages. */
static uint32_t cut;
static int x86_cut_layout(const struct hm_config *cfg, struct hm_layout *l)
{
    int rc = hm_arch_find("x86")->layout(cfg, l);
    l->pt_pages -= cut;
    return rc;
}

Test(local, layout_needs_room_for_the_local_slots)
{
    static struct hm_arch a;
    struct hm_config c = local_cfg("x86", 1, 0);
    struct hm_layout l;
    a = *hm_arch_find("x86");
    a.layout = x86_cut_layout;
    c.arch = &a;
    cut = FIX_KMAP_BEGIN; /* the window now ends right above slot 0 of cpu 0 */
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
    cut = FIX_KMAP_BEGIN + 1u;
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_EINVAL));
    c.kernel = HM_KERNEL_2_6_24; /* no kmap_local: no such need */
    cr_assert(eq(int, hm_layout_compute(&c, &l), HM_OK));
}

/* arch_kmap_local_high_get (ARM with a VIVT cache): kmap_local of a page that is kmapped already
 * pins it and returns its pkmap address (no push); kunmap_local of that address is kunmap_high.
 * A test-only arm descriptor sets the hook. */
static int try_high_get(struct hm_ctx *ctx, hm_pfn_t pfn, hm_vaddr_t *vaddr)
{
    return hm_core_kmap_high_get(ctx, pfn, vaddr);
}

Test(local, high_get_first_and_kunmap_high)
{
    static struct hm_arch a;
    struct hm_config c = local_cfg("arm", 1, 0);
    struct tl *t;
    a = *hm_arch_find("arm");
    a.kmap_local_high_get = try_high_get;
    c.arch = &a;
    t = tl_open(&c);
    hm_pfn_t p = t->layout.highmem_start_pfn + 9u;
    hm_vaddr_t pv = tl_kmap(t, p), v;
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2));
    v = kmap_local(t, 0, p);
    cr_assert(eq(u64, v, pv), "the pinned pkmap address");
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 3));
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 0), "nothing pushed");
    kunmap_local(t, 0, v);
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 1), 2), "kunmap_high");
    /* a page without a pkmap address is mapped in the stack as usual */
    v = kmap_local(t, 0, p + 1u);
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 1));
    cr_assert(eq(u64, v, t->layout.kmap_atomic_base)); /* arm's fixmap grows upward */
    kunmap_local(t, 0, v);
    /* a pkmap address with nothing mapped there: kunmap_high's BUG */
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 0, tl_pkaddr(t, 5)), HM_EINVAL, HM_BUG_KUNMAP_UNMAPPED,
                   "unmapped pkmap address");
    cr_assert(eq(u64, tl_last_bug(t)->arg, tl_pkaddr(t, 5)), "reported at the address, before any pfn is read");
    tl_kunmap(t, p);
    tl_assert_invariants(t, "arm");
}

/* The first pkmap slot is a pkmap address too: on arm (VIVT, 5.11) a page that took slot 0 after
 * the window wrapped is pinned by kmap_local through kmap_high_get, and kunmap_local of slot 0's
 * address hands it to kunmap_high. */
Test(local, high_get_of_slot_zero)
{
    struct hm_config c = local_cfg("arm", 1, 0);
    struct tl *t;
    c.last_pkmap = 4;
    t = tl_open(&c);
    hm_pfn_t base = t->layout.highmem_start_pfn;
    for (uint32_t k = 1; k <= 4; k++)
        tl_kmap(t, base + k); /* slots 1, 2, 3, then 0 after the wrap */
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 0), 2), "page base + 4 in slot 0");
    hm_vaddr_t v = kmap_local(t, 0, base + 4u);
    cr_assert(eq(u64, v, tl_pkaddr(t, 0)), "the pinned address of slot 0");
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 0), 3));
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 0), "nothing pushed");
    kunmap_local(t, 0, v);
    cr_assert(eq(int, hm_pkmap_count(t->ctx, 0), 2), "kunmap_high of slot 0");
    tl_assert_invariants(t, "arm slot 0");
}

/* A refusal in the middle of a switch: the wrapper machine makes the sim refuse the n-th PTE
 * write of a kind from now on, so a switch has done some of its work when it is refused. */
static unsigned writes_left;
static int refuse_fault;
static void refuse_nth(struct tl *t, hm_vaddr_t vaddr, hm_pte_t pte)
{
    int is_map = pte != 0;
    (void)vaddr;
    if (is_map == (refuse_fault == HM_SIM_FAULT_FAIL_NEXT_MAP) && writes_left && --writes_left == 0)
        hm_sim_inject(t->sim, refuse_fault);
}

Test(local, refusal_midway_through_a_switch_is_undone)
{
    /* sched-in of task 1 (A, B) refused at B: A is cleared again, C re-installed */
    struct tl *t = two_tasks();
    struct tl_snap s;
    tl_snap_take(t, &s);
    refuse_fault = HM_SIM_FAULT_FAIL_NEXT_MAP;
    writes_left = 2;
    t->wrap.on_set_pte = refuse_nth;
    cr_assert(eq(int, hm_switch(t->ctx, 0, 1), HM_EMACHINE));
    tl_snap_assert_state_same(t, &s, "sched-in refused at its second map");
    tl_assert_invariants(t, "sched-in refused");
    /* sched-out of task 1 (A, B) refused at B's clear: A is re-installed */
    do_switch(t, 0, 1);
    tl_snap_take(t, &s);
    refuse_fault = HM_SIM_FAULT_FAIL_NEXT_CLEAR;
    writes_left = 2;
    cr_assert(eq(int, hm_switch(t->ctx, 0, 2), HM_EMACHINE));
    tl_snap_assert_state_same(t, &s, "sched-out refused at its second clear");
    tl_assert_invariants(t, "sched-out refused");
    cr_assert(eq(u8, tl_load(t, 0, slot(16, 0, 1)), 0));
    t->wrap.on_set_pte = NULL;
    do_switch(t, 0, 2);
    tl_assert_invariants(t, "switched");
}

/* BUG_ON(!pte_none()) of the slot a push would use: something else mapped it. */
Test(local, push_into_a_busy_slot)
{
    struct tl *t = open_local("x86", 1, 0);
    hm_vaddr_t v;
    kmap_local(t, 0, PG(0));
    cr_assert(eq(int, t->sim_machine.set_pte(t->sim_machine.m, slot(16, 0, 1), KPTE(PG(9))), 0));
    EXPECT_REFUSED(t, hm_kmap_local_page(t->ctx, 0, PG(1), &v), HM_EBUSY, HM_BUG_LOCAL_BUSY, "busy");
    cr_assert(eq(u64, tl_last_bug(t)->arg, slot(16, 0, 1)));
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 0, 0), 1));
}

/* The kmap fixmap has slots for NR_CPUS (8) CPUs: those of a CPU the machine does not have map
 * nothing; an address just outside the fixmap's kmap range is no local address. */
Test(local, kmap_to_page_of_other_local_slots)
{
    struct tl *t = open_local("x86", 2, 0);
    hm_pfn_t pfn;
    EXPECT_REFUSED(t, hm_kmap_to_page(t->ctx, slot(16, 5, 0), &pfn), HM_EFAULT, HM_BUG_NOT_MAPPED,
                   "cpu 5 of NR_CPUS 8");
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 0, slot(16, 7, 15)), HM_EINVAL, HM_BUG_LOCAL_NOT_TOP,
                   "the last kmap slot");
    kunmap_local(t, 0, slot(16, 8, 0)); /* below FIX_KMAP_END: not a local address, left alone */
    kunmap_local(t, 0, slot(16, 0, 0) + 4096u); /* above FIX_KMAP_BEGIN: likewise */
    cr_assert(eq(sz, tl_ev_hw_count(t, 0), 0));
}

/* A switch under DEBUG_KMAP_LOCAL touches only the mapped (odd) positions, never a guard; ppc
 * flushes this CPU's TLB entry after each clear and after each re-install. */
Test(local, switch_skips_guards_and_makes_the_arch_flushes)
{
    struct tl *t = open_local("x86", 1, 1);
    do_switch(t, 0, 1);
    hm_vaddr_t a = kmap_local(t, 0, PG(0)), b = kmap_local(t, 0, PG(1));
    cr_assert(eq(u64, a, slot(33, 0, 1)));
    cr_assert(eq(u64, b, slot(33, 0, 3)));
    size_t from = t->nev;
    do_switch(t, 0, 2);
    {
        static const int kinds[] = {HM_EV_LOCAL_SAVE, HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_PAGE,
                                    HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_PAGE};
        tl_assert_ev_kinds(t, from, kinds, 5, "debug sched-out");
        cr_assert(eq(u64, t->ev[from + 1].a, a));
        cr_assert(eq(u64, t->ev[from + 3].a, b));
    }
    from = t->nev;
    do_switch(t, 0, 1);
    {
        static const int kinds[] = {HM_EV_LOCAL_RESTORE, HM_EV_PTE_SET, HM_EV_PTE_SET};
        tl_assert_ev_kinds(t, from, kinds, 3, "debug sched-in");
        tl_assert_pte_set_ev(t, from + 1, a, PG(0), KPTE(PG(0)));
        tl_assert_pte_set_ev(t, from + 2, b, PG(1), KPTE(PG(1)));
    }
    tl_assert_invariants(t, "debug");

    t = open_local("ppc", 1, 0);
    do_switch(t, 0, 1);
    a = kmap_local(t, 0, PG(0));
    from = t->nev;
    do_switch(t, 0, 2);
    do_switch(t, 0, 1);
    {
        static const int kinds[] = {HM_EV_LOCAL_SAVE, HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_PAGE,
                                    HM_EV_LOCAL_RESTORE, HM_EV_PTE_SET, HM_EV_TLB_FLUSH_PAGE};
        tl_assert_ev_kinds(t, from, kinds, 6, "ppc switches");
        cr_assert(eq(u64, t->ev[from + 5].a, a));
        cr_assert(eq(u32, t->ev[from + 5].cpu, 0));
    }
    tl_assert_invariants(t, "ppc");
}

/* ---------------------------------------------------------------------------------------
 * xtensa's coloured local slot (5.11 arch_kmap_local_map_idx / arch_kmap_local_unmap_idx):
 * position pos on cpu has one slot per colour, (pos + 16 * cpu) * 2 + colour pages above
 * FIXADDR_START (the layout's fixmap, KM_MAX_IDX 16 * NR_CPUS 4 * 2 colours = 128 pages, so
 * (0xbffff000 - 0x80000) & ~(4M - 1) = 0xbfc00000).
 * ------------------------------------------------------------------------------------- */
#define XT_HIGH0 0x8000u /* highmem from the end of the 128 MiB KSEG */
#define XT_PG(n) (XT_HIGH0 + 0x100u + (uint32_t)(n)) /* colour n & 1 */
#define XT_KPTE(pfn) ((((hm_pte_t)(pfn)) << 12) | 0x107u)
#define XT_FIXADDR_START 0xbfc00000u

static hm_vaddr_t xt_slot(uint32_t cpu, uint32_t pos, uint32_t colour)
{
    return XT_FIXADDR_START + ((((hm_vaddr_t)pos + 16u * cpu) * 2u + colour) << 12);
}

/* The xtensa 5.11 context with task 1 running on cpu 0. */
static struct tl *open_xtensa_local(void)
{
    struct tl *t = open_local("xtensa", 2, 0);
    cr_assert(eq(u32, t->layout.highmem_start_pfn, XT_HIGH0));
    cr_assert(eq(u64, t->layout.fixaddr_start, XT_FIXADDR_START));
    cr_assert(eq(u32, t->layout.nr_fixmap, 16u * 4u * 2u)); /* KM_MAX_IDX * NR_CPUS * colours */
    do_switch(t, 0, 1);
    return t;
}

Test(local, xtensa_slot_has_the_page_colour)
{
    struct tl *t = open_xtensa_local();
    hm_vaddr_t a = kmap_local(t, 0, XT_PG(1)), b = kmap_local(t, 0, XT_PG(2)), c;
    hm_pfn_t pfn = 0;

    cr_assert(eq(u64, a, xt_slot(0, 0, 1)), "colour 1 at position 0: the colour-1 slot");
    cr_assert(eq(u64, b, xt_slot(0, 1, 0)), "colour 0 at position 1: the colour-0 slot");
    cr_assert(eq(u64, hm_sim_pte(t->sim, a), XT_KPTE(XT_PG(1))));
    cr_assert(eq(u64, hm_sim_pte(t->sim, b), XT_KPTE(XT_PG(2))));
    cr_assert(eq(u64, hm_sim_pte(t->sim, xt_slot(0, 0, 0)), 0), "the other colour's slot untouched");
    c = kmap_local(t, 1, XT_PG(3));
    cr_assert(eq(u64, c, xt_slot(1, 0, 1)), "cpu 1's position 0, colour 1");
    tl_assert_invariants(t, "xtensa coloured slots");

    /* kmap_to_page: the slot of the page's colour, not the other slot of its position */
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, a + 0x10u, &pfn), HM_OK));
    cr_assert(eq(u64, pfn, XT_PG(1)));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, b, &pfn), HM_OK));
    cr_assert(eq(u64, pfn, XT_PG(2)));
    EXPECT_REFUSED(t, hm_kmap_to_page(t->ctx, xt_slot(0, 0, 0), &pfn), HM_EFAULT, HM_BUG_NOT_MAPPED,
                   "kmap_to_page of position 0's colour-0 slot");
}

Test(local, xtensa_switch_reinstalls_at_the_colour_slot)
{
    struct tl *t = open_xtensa_local();
    hm_vaddr_t a = kmap_local(t, 0, XT_PG(1));
    hm_pfn_t pfn = 0;
    size_t from = t->nev;

    do_switch(t, 0, 2);
    cr_assert(eq(u64, hm_sim_pte(t->sim, a), 0), "sched-out clears the colour-1 slot");
    tl_assert_invariants(t, "xtensa switched out");
    do_switch(t, 0, 1);
    {
        static const int kinds[] = {HM_EV_LOCAL_SAVE, HM_EV_PTE_CLEAR, HM_EV_TLB_FLUSH_PAGE,
                                    HM_EV_LOCAL_RESTORE, HM_EV_PTE_SET};
        tl_assert_ev_kinds(t, from, kinds, 5, "xtensa switches");
        cr_assert(eq(u64, t->ev[from + 1].a, a));
        tl_assert_pte_set_ev(t, from + 4, a, XT_PG(1), XT_KPTE(XT_PG(1)));
    }
    cr_assert(eq(u64, hm_sim_pte(t->sim, a), XT_KPTE(XT_PG(1))));
    cr_assert(eq(u64, hm_sim_pte(t->sim, xt_slot(0, 0, 0)), 0));
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, a, &pfn), HM_OK));
    cr_assert(eq(u64, pfn, XT_PG(1)));
    tl_assert_invariants(t, "xtensa switched back");
}

Test(local, xtensa_kunmap_local_takes_the_colour_slot_only)
{
    struct tl *t = open_xtensa_local();
    hm_vaddr_t a = kmap_local(t, 0, XT_PG(1));

    /* arch_kmap_local_unmap_idx of the colour-0 slot of the top position: not the top's slot */
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 0, xt_slot(0, 0, 0)), HM_EINVAL, HM_BUG_LOCAL_NOT_TOP,
                   "the other colour's slot");
    EXPECT_REFUSED(t, hm_kunmap_local(t->ctx, 0, xt_slot(0, 1, 1)), HM_EINVAL, HM_BUG_LOCAL_NOT_TOP,
                   "the next position's slot of the same colour");
    kunmap_local(t, 0, a + 0x123u);
    cr_assert(eq(u64, hm_sim_pte(t->sim, a), 0));
    cr_assert(eq(int, hm_task_local_idx(t->ctx, 1, 0), 0));
    tl_assert_invariants(t, "xtensa unmapped");
}

/* I13 asks the same slot function: the colour slot holds the pteval, the other one none. */
Test(local, xtensa_i13_checks_both_colour_slots)
{
    struct tl *t = open_xtensa_local();
    hm_vaddr_t a = kmap_local(t, 0, XT_PG(1));
    char msg[128];

    cr_assert(eq(int, t->sim_machine.set_pte(t->sim_machine.m, xt_slot(0, 0, 0), XT_KPTE(XT_PG(1))), 0));
    cr_assert(eq(int, hm_check_invariants(t->ctx, msg, sizeof msg), 13));
    cr_assert(eq(str, msg, "I13: a local slot is mapped that the running task does not hold, slot 0"));
    cr_assert(eq(int, t->sim_machine.set_pte(t->sim_machine.m, xt_slot(0, 0, 0), 0), 0));
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 0));
    cr_assert(eq(int, t->sim_machine.set_pte(t->sim_machine.m, a, 0), 0));
    cr_assert(eq(int, hm_check_invariants(t->ctx, msg, sizeof msg), 13));
    cr_assert(eq(str, msg, "I13: a local slot's PTE is not its pteval, slot 0"));
}

/* The kmap fixmap has slots for the config's NR_CPUS (x86: 8), the machine fewer CPUs: a slot of
 * a CPU the machine does not have maps nothing, and kmap_to_page of it is NOT_MAPPED, read from
 * no task (there is no CPU to run one). */
Test(local, kmap_to_page_of_a_cpu_the_machine_lacks)
{
    struct tl *t = open_local("x86", 1, 0);
    cr_assert(eq(u32, t->layout.config_nr_cpus, 8));
    hm_vaddr_t v = kmap_local(t, 0, PG(0)); /* CPU 0's first slot: mapped */
    hm_vaddr_t other = v - ((hm_vaddr_t)t->layout.km_max_idx << 12); /* CPU 1's first (descending) */
    hm_pfn_t pfn = 7;
    cr_assert(eq(int, hm_kmap_to_page(t->ctx, v, &pfn), HM_OK));
    cr_assert(eq(u32, pfn, PG(0)));
    pfn = 7;
    EXPECT_REFUSED(t, hm_kmap_to_page(t->ctx, other, &pfn), HM_EFAULT, HM_BUG_NOT_MAPPED, "CPU 1's slot");
    cr_assert(eq(u32, pfn, 7));
    kunmap_local(t, 0, v);
}
