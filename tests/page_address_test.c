/* page_address_test.c - Criterion tests of the page_address hash table of the pkmap core
 * (§1.6, §2.6, §2.7) on the x86 backend: hash_long, buckets of colliding pages, the record pool.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "testlib.h"

/* x86 documented config: highmem starts at pfn 0x38000 (896 MiB), max_pfn 0x40000. */
#define HIGH0 0x38000u
#define PG(n) (HIGH0 + 0x100u + (uint32_t)(n)) /* distinct highmem pages */
#define LOWPFN 0x1234u

TestSuite(page_address, .fini = tl_fini, .timeout = 60);

/* ---------------------------------------------------------------------------------------
 * The page_address hash table (§1.6, §2.6, §2.7).
 * ------------------------------------------------------------------------------------- */
Test(page_address, hash_long32_hand_values)
{
    /* 0x12345678 * 0x9e370001 mod 2^32: 0x5678 * 0x9e37 = 896574408 = 0x...a3c8 (mod 2^16),
     * so 0xa3c80000 + 0x12345678 = 0xb5fc5678; >> 25 = 0x5a */
    cr_assert(eq(u32, hm_hash_long32(0x12345678u, 7), 0x5au));
    /* 1 * 0x9e370001 = 0x9e370001; >> 25 = 0x4f */
    cr_assert(eq(u32, hm_hash_long32(1u, 7), 0x4fu));
    cr_assert(eq(u32, hm_hash_long32(0u, 7), 0u));
    /* a value with 16 low zero bits: v * 0x9e370000 = 0 mod 2^32, so the hash is v >> 25:
     * 0xc1700000 >> 25 = 0x60 */
    cr_assert(eq(u32, hm_hash_long32(0xc1700000u, 7), 0x60u));
    /* all 32 bits: the plain product */
    cr_assert(eq(u32, hm_hash_long32(1u, 32), 0x9e370001u));
    /* fewer bits keep the top ones: 0xb5fc5678 >> 28 = 0xb */
    cr_assert(eq(u32, hm_hash_long32(0x12345678u, 4), 0xbu));
}

/* The 32-bit golden-ratio hash, written out here so the tests do not trust the library's. */
static uint32_t ref_bucket(hm_pfn_t pfn)
{
    /* struct page * = mem_map + pfn * sizeof(struct page) = 0xc1000000 + pfn * 32 (x86 config) */
    uint32_t ptr = 0xc1000000u + pfn * 32u;
    return (uint32_t)(ptr * 0x9e370001u) >> 25;
}

Test(page_address, bucket_hashes_struct_page_pointer)
{
    struct tl *t = tl_open_arch("x86", 8, 1, 0, 0);
    cr_assert(eq(u64, t->layout.mem_map, 0xc1000000u));
    cr_assert(eq(u32, t->layout.struct_page_size, 32));
    /* pfn 0x38000: ptr 0xc1000000 + 0x700000 = 0xc1700000 -> bucket 0x60 (see above) */
    cr_assert(eq(u32, hm_page_bucket(t->ctx, 0x38000u), 0x60u));
    hm_pfn_t pfns[] = {0, 1, 0x1234u, 0x37fffu, 0x38000u, 0x38001u, 0x3abcdu, 0x3ffffu};
    for (size_t i = 0; i < sizeof pfns / sizeof pfns[0]; i++)
        cr_expect(eq(u32, hm_page_bucket(t->ctx, pfns[i]), ref_bucket(pfns[i])), "pfn %#x", pfns[i]);
}

Test(page_address, colliding_pages_share_a_bucket_correctly)
{
    struct tl *t = tl_open_arch("x86", 8, 1, 0, 0);
    hm_pfn_t p[5];
    uint32_t n = 0, bucket = ref_bucket(HIGH0 + 1);
    for (hm_pfn_t pfn = HIGH0 + 1; pfn < 0x40000u && n < 5; pfn++)
        if (ref_bucket(pfn) == bucket)
            p[n++] = pfn;
    cr_assert(eq(u32, n, 5), "not enough colliding pfns");
    for (uint32_t i = 0; i < 5; i++)
        cr_assert(eq(u32, hm_page_bucket(t->ctx, p[i]), bucket));

    /* A, B, C in one bucket, slots 1, 2, 3 */
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert(eq(u64, tl_kmap(t, p[i]), tl_pkaddr(t, i + 1)));
        tl_assert_invariants(t, "map collider");
    }
    cr_assert(eq(u32, hm_bucket_size(t->ctx, bucket), 3));
    for (uint32_t i = 0; i < 3; i++)
        cr_expect(eq(u64, tl_page_address(t, p[i]), tl_pkaddr(t, i + 1)));
    /* remove B (the middle record) */
    tl_kunmap(t, p[1]);
    cr_assert(eq(u64, tl_page_address(t, p[1]), tl_pkaddr(t, 2))); /* lazy: still there */
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    tl_assert_invariants(t, "unhash middle");
    cr_assert(eq(u32, hm_bucket_size(t->ctx, bucket), 2));
    cr_assert(eq(u64, tl_page_address(t, p[0]), tl_pkaddr(t, 1)));
    cr_assert(eq(u64, tl_page_address(t, p[1]), 0));
    cr_assert(eq(u64, tl_page_address(t, p[2]), tl_pkaddr(t, 3)));
    /* D appended (slot 4), then removed from the tail */
    cr_assert(eq(u64, tl_kmap(t, p[3]), tl_pkaddr(t, 4)));
    tl_assert_invariants(t, "map D");
    cr_assert(eq(u32, hm_bucket_size(t->ctx, bucket), 3));
    cr_assert(eq(u64, tl_page_address(t, p[3]), tl_pkaddr(t, 4)));
    tl_kunmap(t, p[3]);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    tl_assert_invariants(t, "unhash tail");
    cr_assert(eq(u64, tl_page_address(t, p[3]), 0));
    /* E appended after the new tail (slot 5) */
    cr_assert(eq(u64, tl_kmap(t, p[4]), tl_pkaddr(t, 5)));
    tl_assert_invariants(t, "map E");
    cr_assert(eq(u32, hm_bucket_size(t->ctx, bucket), 3));
    /* remove A (the head) */
    tl_kunmap(t, p[0]);
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    tl_assert_invariants(t, "unhash head");
    cr_assert(eq(u32, hm_bucket_size(t->ctx, bucket), 2));
    cr_assert(eq(u64, tl_page_address(t, p[0]), 0));
    cr_assert(eq(u64, tl_page_address(t, p[2]), tl_pkaddr(t, 3)));
    cr_assert(eq(u64, tl_page_address(t, p[4]), tl_pkaddr(t, 5)));
    /* re-map A and B: both found again */
    cr_assert(eq(u64, tl_kmap(t, p[0]), tl_pkaddr(t, 6)));
    cr_assert(eq(u64, tl_kmap(t, p[1]), tl_pkaddr(t, 7)));
    tl_assert_invariants(t, "remap");
    cr_assert(eq(u32, hm_bucket_size(t->ctx, bucket), 4));
    cr_assert(eq(u32, hm_pool_size(t->ctx), 4));
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        if (b != bucket)
            cr_expect(eq(u32, hm_bucket_size(t->ctx, b), 0), "bucket %u", b);
}

Test(page_address, pool_conserved_and_addresses)
{
    struct tl *t = tl_open_arch("x86", 16, 1, 0, 0);
    cr_assert(eq(u32, hm_pool_size(t->ctx), 16));
    cr_assert(eq(u32, tl_records(t), 16));
    /* lowmem: the direct address */
    cr_assert(eq(u64, tl_page_address(t, 0), 0xc0000000u));
    cr_assert(eq(u64, tl_page_address(t, LOWPFN), 0xc1234000u));
    /* last lowmem pfn: 0xc0000000 + 0x37fff000 = 0xf7fff000 */
    cr_assert(eq(u64, tl_page_address(t, 0x37fffu), 0xf7fff000u));
    /* unmapped highmem: NULL */
    cr_assert(eq(u64, tl_page_address(t, HIGH0), 0));
    cr_assert(eq(u64, tl_page_address(t, 0x3ffffu), 0));
    for (uint32_t i = 0; i < 10; i++) {
        tl_kmap(t, PG(i));
        cr_assert(eq(u32, hm_pool_size(t->ctx), 16 - (i + 1)));
        cr_assert(eq(u32, tl_records(t), 16));
    }
    for (uint32_t i = 0; i < 10; i += 2) {
        tl_kunmap(t, PG(i));
        cr_assert(eq(u32, hm_pool_size(t->ctx), 6)); /* lazy: records stay hashed */
    }
    cr_assert(eq(int, hm_kmap_flush_unused(t->ctx), HM_OK));
    cr_assert(eq(u32, hm_pool_size(t->ctx), 11));
    cr_assert(eq(u32, tl_records(t), 16));
}
