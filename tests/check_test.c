/* check_test.c - white-box Criterion tests of hm_check_invariants: each branch of core/check.c
 * is reached by corrupting one piece of the context's state (through core/hm_internal.h) and
 * must return the invariant's number and its exact message, and must never loop or read out of
 * bounds on a corrupted list. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/hm_internal.h"
#include "testlib.h"

TestSuite(check, .fini = tl_fini, .timeout = 30);

#define NSLOTS 8u
#define S0 1u /* the slot holding P(0) */

/* x86 with an 8-slot window; page P(0) kmapped (count 2, in slot S0: 1, as the scan
 * pre-increments last_pkmap_nr). */
static struct tl *setup(void)
{
    struct hm_config c = tl_cfg("x86", NSLOTS, 2);
    struct tl *t = tl_open(&c);
    cr_assert(eq(u64, tl_kmap(t, t->layout.highmem_start_pfn), tl_pkaddr(t, S0)));
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 0));
    return t;
}

static hm_pfn_t P(const struct tl *t, uint32_t n)
{
    return t->layout.highmem_start_pfn + n;
}

static hm_vaddr_t A0(const struct tl *t)
{
    return tl_pkaddr(t, S0);
}

/* Expect hm_check_invariants to return `which` with exactly `text`. */
static void expect(struct tl *t, int which, const char *text)
{
    char msg[128];
    memset(msg, 'x', sizeof msg);
    cr_assert(eq(int, hm_check_invariants(t->ctx, msg, sizeof msg), which), "%s", text);
    cr_assert(eq(str, msg, (char *)text));
}

/* expect() with the text formatted printf-style. */
__attribute__((format(printf, 3, 4))) static void expectf(struct tl *t, int which, const char *fmt, ...)
{
    char text[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    expect(t, which, text);
}

/* A highmem pfn (n >= first) whose bucket differs from (want_same = 0) or equals (1) b. */
static hm_pfn_t pfn_with_bucket(struct tl *t, uint32_t first, uint32_t b, int want_same)
{
    for (uint32_t n = first; n < first + 100000u; n++)
        if ((hm_page_bucket(t->ctx, P(t, n)) == b) == (want_same != 0))
            return P(t, n);
    cr_fatal("no pfn found for bucket %u", b);
    return 0;
}

/* Set pkmap_count[nr], keeping the slot's page. */
static void set_count(struct tl *t, uint32_t nr, int32_t count)
{
    struct hm_slot *s = hm_slot(t->ctx, nr);
    s->word = HM_WORD(hm_word_page(s->word), count);
}

/* Take the pool's head record and link it at the head of bucket b as {page, slot}. */
static int32_t steal_record(struct tl *t, uint32_t b, hm_pfn_t page, uint32_t slot)
{
    struct hm_ctx *ctx = t->ctx;
    int32_t r = ctx->page_address_pool.head;
    cr_assert(ne(int, r, HM_NIL));
    ctx->page_address_pool.head = ctx->page_address_maps[r].next;
    ctx->page_address_maps[r].page = page;
    ctx->page_address_maps[r].slot = slot;
    ctx->page_address_maps[r].next = ctx->page_address_htable[b].head;
    ctx->page_address_htable[b].head = r;
    return r;
}

/* Expect the shape check to name bucket b. */
static void expect_bad_bucket(struct tl *t, uint32_t b)
{
    expectf(t, 6, "I6: cycle or bad link in bucket %u", b);
}

/* hm_check_invariants returns `which` and writes `full`, truncated to every buffer length from
 * 1 to strlen(full) + 1, never past the buffer. */
static void expect_truncations(struct tl *t, int which, const char *full)
{
    char msg[128];
    cr_assert(lt(sz, strlen(full), sizeof msg - 1));
    for (size_t len = 1; len <= strlen(full) + 1; len++) {
        memset(msg, 'x', sizeof msg);
        cr_assert(eq(int, hm_check_invariants(t->ctx, msg, len), which));
        cr_assert(eq(sz, strlen(msg), len - 1), "len %zu", len);
        cr_assert(eq(int, memcmp(msg, full, len - 1), 0), "len %zu", len);
        cr_assert(eq(chr, msg[len], 'x'), "len %zu: wrote past the buffer", len);
    }
}

Test(check, not_a_context)
{
    char msg[64];
    cr_assert(eq(int, hm_check_invariants(NULL, msg, sizeof msg), 1));
    cr_assert(eq(str, msg, "I1: not an initialised context 0"));
}

Test(check, i1_last_pkmap_nr_out_of_range)
{
    struct tl *t = setup();
    t->ctx->colour[0].last_pkmap_nr = NSLOTS;
    expect(t, 1, "I1: last_pkmap_nr out of range 8");
}

Test(check, i1_negative_count)
{
    struct tl *t = setup();
    set_count(t, 3, -1);
    expect(t, 1, "I1: negative pkmap_count at slot 3");
    set_count(t, 3, 0);
    set_count(t, 0, -1); /* the first slot too */
    expect(t, 1, "I1: negative pkmap_count at slot 0");
}

Test(check, i3_count_without_pte)
{
    struct tl *t = setup();
    t->sim_machine.set_pte(t->sim_machine.m, A0(t), 0);
    expect(t, 3, "I3: count >= 1 but PTE none at slot 1");
}

Test(check, i3_slot_maps_lowmem)
{
    struct tl *t = setup();
    t->sim_machine.set_pte(t->sim_machine.m, A0(t), hm_mk_kmap_pte(t->ctx, 5));
    expect(t, 3, "I3: slot maps a non-highmem pfn at slot 1");
}

Test(check, i3_page_address_disagrees)
{
    struct tl *t = setup();
    t->sim_machine.set_pte(t->sim_machine.m, A0(t), hm_mk_kmap_pte(t->ctx, P(t, 1)));
    expect(t, 3, "I3: page_address disagrees with slot 1");
}

Test(check, i6_self_cycle_in_a_bucket)
{
    struct tl *t = setup();
    uint32_t b = hm_page_bucket(t->ctx, P(t, 0));
    int32_t r = t->ctx->page_address_htable[b].head;
    t->ctx->page_address_maps[r].next = r;
    expect_bad_bucket(t, b);
}

/* The first and the last bucket are checked too. */
Test(check, i6_cycle_in_bucket_0_and_127)
{
    static const uint32_t buckets[] = {0, HM_PA_HASH_SIZE - 1};
    for (size_t i = 0; i < 2; i++) {
        struct tl *t = setup();
        uint32_t b = buckets[i];
        hm_pfn_t q = pfn_with_bucket(t, 1, b, 1);
        tl_kmap(t, q);
        cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 0));
        int32_t r = t->ctx->page_address_htable[b].head;
        t->ctx->page_address_maps[r].next = r;
        expect_bad_bucket(t, b);
        /* hm_bucket_size stops after LAST_PKMAP + 1 records on a cycle */
        cr_assert(eq(u32, hm_bucket_size(t->ctx, b), NSLOTS + 1));
        tl_close(t);
    }
}

/* A cycle that does not pass through the bucket's head: every walk of that bucket (the
 * page_address lookup, the duplicate scan) would spin forever without the shape check. */
Test(check, i6_cycle_behind_the_head)
{
    struct tl *t = setup();
    uint32_t b = hm_page_bucket(t->ctx, P(t, 0));
    int32_t head = t->ctx->page_address_htable[b].head;
    hm_pfn_t pa = pfn_with_bucket(t, 1, b, 1);
    hm_pfn_t pc = pfn_with_bucket(t, pa - P(t, 0) + 1, b, 1); /* three different pages */
    int32_t a = steal_record(t, b, pa, S0);
    steal_record(t, b, pc, S0);
    /* bucket: c -> a -> head; make it c -> a -> head -> a -> ... (head and a cycle) */
    t->ctx->page_address_maps[head].next = a;
    expect_bad_bucket(t, b);
}

Test(check, i6_link_out_of_range)
{
    struct tl *t = setup();
    uint32_t b = hm_page_bucket(t->ctx, P(t, 0));
    t->ctx->page_address_maps[t->ctx->page_address_htable[b].head].next = (int32_t)NSLOTS;
    expect_bad_bucket(t, b);
    t->ctx->page_address_maps[t->ctx->page_address_htable[b].head].next = -7;
    expect_bad_bucket(t, b);
    /* far outside the records: must be refused before it is followed */
    t->ctx->page_address_maps[t->ctx->page_address_htable[b].head].next = 0x7fffffff;
    expect_bad_bucket(t, b);
}

Test(check, i6_pool_cycle)
{
    struct tl *t = setup();
    int32_t h = t->ctx->page_address_pool.head;
    cr_assert(eq(u32, hm_pool_size(t->ctx), NSLOTS - 1));
    t->ctx->page_address_maps[t->ctx->page_address_maps[h].next].next = h;
    cr_assert(eq(u32, hm_pool_size(t->ctx), NSLOTS + 1));
    expectf(t, 6, "I6: cycle or bad link in the pool, head %d", h);
}

Test(check, i6_record_in_the_wrong_bucket)
{
    struct tl *t = setup();
    uint32_t b = hm_page_bucket(t->ctx, P(t, 0));
    hm_pfn_t q = pfn_with_bucket(t, 1, b, 0);
    steal_record(t, b, q, S0);
    expectf(t, 6, "I6: record in the wrong bucket, pfn %u", q);
}

Test(check, i6_record_outside_the_window)
{
    struct tl *t = setup();
    hm_pfn_t q = P(t, 1);
    uint32_t b = hm_page_bucket(t->ctx, q);
    char want[96];
    snprintf(want, sizeof want, "I6: record address outside the pkmap window, pfn %u", q);
    /* one slot past the last */
    int32_t r = steal_record(t, b, q, NSLOTS);
    expect(t, 6, want);
    /* far outside (an address below the window was such a slot) */
    t->ctx->page_address_maps[r].slot = UINT32_MAX - 1u;
    expect(t, 6, want);
}

Test(check, i2_hashed_address_of_a_free_slot)
{
    struct tl *t = setup();
    hm_pfn_t q = P(t, 1);
    steal_record(t, hm_page_bucket(t->ctx, q), q, 5);
    expect(t, 2, "I2: hashed address of a count-0 slot 5");
}

Test(check, i5_page_hashed_twice)
{
    struct tl *t = setup();
    hm_pfn_t p = P(t, 0);
    steal_record(t, hm_page_bucket(t->ctx, p), p, S0);
    expectf(t, 5, "I5: page hashed twice, pfn %u", p);
}

Test(check, i6_more_records_than_slots_in_use)
{
    struct tl *t = setup();
    hm_pfn_t q = P(t, 1);
    steal_record(t, hm_page_bucket(t->ctx, q), q, S0);
    expect(t, 6, "I6: hashed records != slots in use 2");
}

Test(check, i6_records_not_conserved)
{
    struct tl *t = setup();
    t->ctx->page_address_pool.head = t->ctx->page_address_maps[t->ctx->page_address_pool.head].next;
    /* 8 records: 1 hashed, 7 pooled, one now lost */
    expect(t, 6, "I6: records not conserved, pool 6");
}

Test(check, i10_negative_depth)
{
    struct tl *t = setup();
    t->ctx->cpus[1].pagefault_disabled = -1;
    expect(t, 10, "I10: negative pagefault depth on cpu 1");
    t->ctx->cpus[1].pagefault_disabled = 0;
    expect(t, 0, "");
    t->ctx->cpus[0].pagefault_disabled = -2; /* the first CPU too */
    expect(t, 10, "I10: negative pagefault depth on cpu 0");
}

/* A two-digit invariant number truncated at every buffer length. */
Test(check, two_digit_message_truncation)
{
    struct tl *t = setup();
    t->ctx->cpus[1].pagefault_disabled = -1;
    expect_truncations(t, 10, "I10: negative pagefault depth on cpu 1");
}

/* No message buffer: only the result. */
Test(check, null_message_buffer)
{
    struct tl *t = setup();
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 64), 0));
    set_count(t, 3, -1);
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 64), 1));
}

/* The number formatter: 10-digit numbers, 0, and truncation at every length. */
Test(check, message_formatting)
{
    struct tl *t = setup();
    char full[64];
    t->ctx->colour[0].last_pkmap_nr = 4000000000u;
    cr_assert(eq(int, hm_check_invariants(t->ctx, full, sizeof full), 1));
    cr_assert(eq(str, full, "I1: last_pkmap_nr out of range 4000000000"));
    expect_truncations(t, 1, full);
}

/* PKMAP colours (spec §10.3): on xtensa (2 colours) each colour's cursor must be a slot of that
 * colour, and a slot in use must map a page of its own colour. */
static struct tl *setup_coloured(void)
{
    struct hm_config c = tl_cfg("xtensa", NSLOTS, 1);
    struct tl *t = tl_open(&c);
    /* P(0) is of colour 0 (pfn 0x8000): slot 2; P(1) of colour 1: slot 3 */
    cr_assert(eq(u64, tl_kmap(t, t->layout.highmem_start_pfn), tl_pkaddr(t, 2)));
    cr_assert(eq(u64, tl_kmap(t, t->layout.highmem_start_pfn + 1u), tl_pkaddr(t, 3)));
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 0));
    return t;
}

Test(check, i1_cursor_of_another_colour)
{
    struct tl *t = setup_coloured();
    t->ctx->colour[1].last_pkmap_nr = 4; /* colour 1's cursor on a colour-0 slot */
    expect(t, 1, "I1: a colour's cursor is not of its colour, colour 1");
    t->ctx->colour[1].last_pkmap_nr = 3;
    t->ctx->colour[0].last_pkmap_nr = NSLOTS; /* out of range is named first */
    expect(t, 1, "I1: last_pkmap_nr out of range 8");
}

Test(check, i3_slot_maps_a_page_of_another_colour)
{
    struct tl *t = setup_coloured();
    /* slot 2 (colour 0) made to map P(3), of colour 1 */
    t->sim_machine.set_pte(t->sim_machine.m, tl_pkaddr(t, 2), hm_mk_kmap_pte(t->ctx, P(t, 3)));
    expect(t, 3, "I3: slot maps a page of another colour at slot 2");
}

/* I13 (5.11): x86 with 2 CPUs; cpu 0 runs task 1, which holds P(0) at stack position 0. */
static struct tl *setup_local(int debug)
{
    struct hm_config c = tl_cfg("x86", NSLOTS, 2);
    struct tl *t;
    hm_vaddr_t v;
    c.kernel = HM_KERNEL_5_11;
    c.debug_highmem = debug;
    t = tl_open(&c);
    cr_assert(eq(int, hm_switch(t->ctx, 0, 1), HM_OK));
    cr_assert(eq(int, hm_kmap_local_page(t->ctx, 0, P(t, 0), &v), HM_OK));
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 0));
    return t;
}

/* The slot of stack position pos on cpu. */
static hm_vaddr_t local_slot_of(struct tl *t, uint32_t cpu, uint32_t pos)
{
    return hm_core_atomic_slot(t->ctx, cpu, pos);
}

Test(check, i13_idx_out_of_range)
{
    struct tl *t = setup_local(0);
    hm_task_of(t->ctx, 1, 0)->idx = 16;
    expect(t, 13, "I13: kmap_ctrl.idx out of range in task 1");
    hm_task_of(t->ctx, 1, 0)->idx = -1;
    expect(t, 13, "I13: kmap_ctrl.idx out of range in task 1");
    hm_task_of(t->ctx, 1, 0)->idx = 1;
    hm_task_of(t->ctx, 0, 1)->idx = 20; /* cpu 1's idle task */
    expect(t, 13, "I13: kmap_ctrl.idx out of range in task 0");
}

Test(check, i13_idx_off_the_debug_step)
{
    struct tl *t = setup_local(1);
    hm_task_of(t->ctx, 1, 0)->idx = 3; /* KM_INCR is 2 */
    expect(t, 13, "I13: kmap_ctrl.idx out of range in task 1");
}

Test(check, i13_pteval_disagrees_with_idx)
{
    struct tl *t = setup_local(0);
    struct hm_task *k = hm_task_of(t->ctx, 1, 0);
    hm_pte_t saved = k->pteval[0];
    k->pteval[0] = 0; /* a mapped position without its PTE */
    expect(t, 13, "I13: pteval disagrees with idx at position 0");
    k->pteval[0] = saved;
    k->pteval[5] = saved; /* a PTE above the top */
    expect(t, 13, "I13: pteval disagrees with idx at position 5");
}

Test(check, i13_guard_with_a_pteval)
{
    struct tl *t = setup_local(1);
    struct hm_task *k = hm_task_of(t->ctx, 1, 0);
    k->pteval[0] = k->pteval[1]; /* position 0 is a guard under debug */
    expect(t, 13, "I13: pteval disagrees with idx at position 0");
}

Test(check, i13_task_and_cpu_disagree)
{
    struct tl *t = setup_local(0);
    hm_task_of(t->ctx, 2, 0)->cpu = 0; /* switched out, but says it runs on cpu 0 */
    expect(t, 13, "I13: a switched-out task says it runs, task 2");
    hm_task_of(t->ctx, 2, 0)->cpu = HM_NO_CPU;
    hm_task_of(t->ctx, 1, 0)->cpu = HM_NO_CPU;
    expect(t, 13, "I13: the running task does not say so on cpu 0");
    hm_task_of(t->ctx, 1, 0)->cpu = 0;
    t->ctx->cpus[1].task = 4; /* nr_tasks is 4 */
    expect(t, 13, "I13: no such task running on cpu 1");
}

Test(check, i13_slot_pte_is_not_the_pteval)
{
    struct tl *t = setup_local(0);
    hm_vaddr_t v = local_slot_of(t, 0, 0);
    cr_assert(eq(int, t->sim_machine.set_pte(t->sim_machine.m, v, hm_mk_kmap_pte(t->ctx, P(t, 3))), 0));
    expect(t, 13, "I13: a local slot's PTE is not its pteval, slot 0");
}

/* A switched-out task's PTE left live (a sched-out that did not clear it), and a PTE in a slot
 * of cpu 1, whose idle task holds nothing. */
Test(check, i13_foreign_local_pte_live)
{
    struct tl *t = setup_local(0);
    hm_vaddr_t v = local_slot_of(t, 0, 0);
    hm_pte_t pte = hm_sim_pte(t->sim, v);
    cr_assert(eq(int, hm_switch(t->ctx, 0, 2), HM_OK));
    cr_assert(eq(int, hm_check_invariants(t->ctx, NULL, 0), 0));
    cr_assert(eq(int, t->sim_machine.set_pte(t->sim_machine.m, v, pte), 0));
    expect(t, 13, "I13: a local slot is mapped that the running task does not hold, slot 0");
    cr_assert(eq(int, t->sim_machine.set_pte(t->sim_machine.m, v, 0), 0));
    cr_assert(eq(int, t->sim_machine.set_pte(t->sim_machine.m, local_slot_of(t, 1, 3), pte), 0));
    expect(t, 13, "I13: a local slot is mapped that the running task does not hold, slot 19");
}
