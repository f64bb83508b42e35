/* kmap_check.c - a libhighmem consumer that exits 1 on any unexpected result: kmap, kunmap, a wrap,
 * kmap_atomic and a BUG on x86 over a tiny machine of its own, the generic backend, and with
 * -DKMAP_CHECK_MACHINES a page through sim/ and through host/. SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L /* pread */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "highmem.h"
#ifdef KMAP_CHECK_MACHINES
#include <unistd.h>

#include "host/host.h"
#include "sim/sim.h"
#endif

static int checks, failures;

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        checks++;                                                                           \
        if (!(cond)) {                                                                      \
            failures++;                                                                     \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                          \
            printf(__VA_ARGS__);                                                            \
            printf("\n");                                                                   \
        }                                                                                   \
    } while (0)

/* The machine: one PTE word per page of the layout's page-table window, and what it was asked. */
struct tiny {
    const struct hm_layout *layout;
    hm_pte_t *ptes;
    unsigned pte_writes, tlb_range_flushes, tlb_page_flushes;
};

static hm_pte_t *pte_of(struct tiny *t, hm_vaddr_t vaddr)
{
    return &t->ptes[(vaddr - t->layout->pt_start) >> t->layout->page_shift];
}
static int tiny_set_pte(void *m, hm_vaddr_t vaddr, hm_pte_t pte)
{
    struct tiny *t = m;
    *pte_of(t, vaddr) = pte;
    t->pte_writes++;
    return 0;
}
static hm_pte_t tiny_get_pte(void *m, hm_vaddr_t vaddr)
{
    return *pte_of(m, vaddr);
}
static void tiny_flush_range(void *m, hm_vaddr_t start, hm_vaddr_t end)
{
    (void)start, (void)end;
    ((struct tiny *)m)->tlb_range_flushes++;
}
static void tiny_flush_page(void *m, uint32_t cpu, hm_vaddr_t vaddr)
{
    (void)cpu, (void)vaddr;
    ((struct tiny *)m)->tlb_page_flushes++;
}

static int last_bug = HM_BUG_NONE;
static void on_bug(void *cookie, const struct hm_bug_report *report)
{
    (void)cookie;
    last_bug = report->bug;
}

/* A context for cfg in fresh storage (free *mem after use); NULL on failure. */
static struct hm_ctx *open_ctx(const struct hm_config *cfg, const struct hm_machine *machine,
                               void **mem)
{
    size_t size = hm_ctx_size(cfg), align = hm_ctx_align();
    struct hm_hooks hooks = {.on_bug = on_bug};
    struct hm_ctx *ctx = NULL;
    *mem = size ? aligned_alloc(align, (size + align - 1) / align * align) : NULL;
    if (*mem && hm_ctx_init(*mem, size, cfg, machine, &hooks, &ctx) != HM_OK)
        ctx = NULL;
    return ctx;
}

static void check_x86(void)
{
    struct hm_config cfg = {.arch = hm_arch_find("x86"), .nr_cpus = 1, .last_pkmap = 4};
    struct hm_layout l;
    int ok = cfg.arch && hm_layout_compute(&cfg, &l) == HM_OK;
    CHECK(ok, "no x86 backend or layout");
    if (!ok)
        return;
    CHECK(l.page_offset == 0xc0000000u && l.pkmap_base == 0xffc00000u && l.last_pkmap == 4,
          "layout: PAGE_OFFSET 0x%llx PKMAP_BASE 0x%llx LAST_PKMAP %u",
          (unsigned long long)l.page_offset, (unsigned long long)l.pkmap_base, l.last_pkmap);

    struct tiny t = {.layout = &l, .ptes = calloc(l.pt_pages, sizeof(hm_pte_t))};
    struct hm_machine machine = {.m = &t, .set_pte = tiny_set_pte, .get_pte = tiny_get_pte,
                                 .flush_tlb_range = tiny_flush_range,
                                 .flush_tlb_page = tiny_flush_page};
    void *mem;
    struct hm_ctx *ctx = open_ctx(&cfg, &machine, &mem);
    CHECK(t.ptes && ctx, "no context");
    if (!t.ptes || !ctx)
        return;

    const hm_pfn_t hi = l.highmem_start_pfn; /* the first highmem page */
    const hm_vaddr_t page = l.page_size;
    hm_vaddr_t v = 0, v2 = 0, addr = 0;
    hm_pfn_t pfn = 0;

    /* The first kmap after boot takes slot 1, writes PAGE_KERNEL (0x163) for the page. */
    CHECK(hm_kmap(ctx, hi, &v) == HM_OK && v == l.pkmap_base + page, "kmap: 0x%llx",
          (unsigned long long)v);
    CHECK(*pte_of(&t, v) == (((hm_pte_t)hi << 12) | 0x163u) && t.pte_writes == 1,
          "PTE 0x%llx after %u writes", (unsigned long long)*pte_of(&t, v), t.pte_writes);
    CHECK(hm_pte_pfn(ctx, *pte_of(&t, v)) == hi, "hm_pte_pfn");
    CHECK(hm_page_address(ctx, hi, &addr) == HM_OK && addr == v, "page_address 0x%llx",
          (unsigned long long)addr);
    CHECK(hm_kmap_to_page(ctx, v + 123, &pfn) == HM_OK && pfn == hi, "kmap_to_page %u", pfn);
    /* Mapped again: the same address, one more reference; kunmap is lazy. */
    CHECK(hm_kmap(ctx, hi, &v2) == HM_OK && v2 == v && hm_pkmap_count(ctx, 1) == 3,
          "second kmap 0x%llx, count %d", (unsigned long long)v2, hm_pkmap_count(ctx, 1));
    CHECK(hm_kunmap(ctx, hi) == HM_OK && hm_kunmap(ctx, hi) == HM_OK && hm_pkmap_count(ctx, 1) == 1,
          "kunmap twice: count %d", hm_pkmap_count(ctx, 1));
    CHECK(*pte_of(&t, v) != 0, "kunmap cleared the PTE (it is lazy)");

    /* Slots 2 and 3, then the wrap: flush_all_zero_pkmaps frees slot 1 and flushes the window. */
    CHECK(hm_kmap(ctx, hi + 1, &v2) == HM_OK && v2 == l.pkmap_base + 2 * page, "slot 2");
    CHECK(hm_kmap(ctx, hi + 2, &v2) == HM_OK && v2 == l.pkmap_base + 3 * page, "slot 3");
    CHECK(t.tlb_range_flushes == 0, "flushed before the wrap");
    CHECK(hm_kmap(ctx, hi + 3, &v2) == HM_OK && v2 == l.pkmap_base, "wrap to slot 0: 0x%llx",
          (unsigned long long)v2);
    CHECK(t.tlb_range_flushes == 1 && *pte_of(&t, v) == 0, "wrap: %u range flushes, slot 1 PTE 0x%llx",
          t.tlb_range_flushes, (unsigned long long)*pte_of(&t, v));
    CHECK(hm_page_address(ctx, hi, &addr) == HM_OK && addr == 0, "unmapped page still has 0x%llx",
          (unsigned long long)addr);
    CHECK(hm_kmap(ctx, hi + 4, &v2) == HM_OK && v2 == v, "the freed slot 1 again");
    /* Every slot held: kmap_try refuses, and kmap too (this machine cannot sleep). */
    CHECK(hm_kmap_try(ctx, hi + 5, &v2) == HM_EAGAIN, "kmap_try with every slot held");
    CHECK(hm_kmap(ctx, hi + 5, &v2) == HM_EAGAIN, "kmap without a sleep hook");

    /* A lowmem page is its direct-map address. */
    CHECK(hm_kmap(ctx, 5, &v2) == HM_OK && v2 == l.page_offset + 5 * page, "lowmem kmap");

    /* kmap_atomic on CPU 0, KM_USER0 (type 3): a fixmap slot, pagefaults off until kunmap_atomic,
     * which clears the PTE and flushes that page on x86. */
    CHECK(hm_kmap_atomic(ctx, 0, hi + 9, 3, &v2) == HM_OK && v2 >= l.fixaddr_start &&
              v2 < l.fixaddr_top && hm_pagefault_depth(ctx, 0) == 1,
          "kmap_atomic 0x%llx", (unsigned long long)v2);
    CHECK(hm_kmap_atomic_to_page(ctx, v2, &pfn) == HM_OK && pfn == hi + 9, "kmap_atomic_to_page %u", pfn);
    CHECK(hm_kunmap_atomic(ctx, 0, v2, 3) == HM_OK && *pte_of(&t, v2) == 0 &&
              t.tlb_page_flushes == 1 && hm_pagefault_depth(ctx, 0) == 0,
          "kunmap_atomic: PTE 0x%llx, %u page flushes", (unsigned long long)*pte_of(&t, v2),
          t.tlb_page_flushes);

    /* Misuse the kernel would BUG on: an error, the hook told, nothing changed. */
    CHECK(hm_kunmap(ctx, hi + 7) == HM_EINVAL && last_bug == HM_BUG_KUNMAP_UNMAPPED &&
              strcmp(hm_bug_name(last_bug), "KUNMAP_UNMAPPED") == 0,
          "kunmap of an unmapped page: bug %s", hm_bug_name(last_bug));
    CHECK(hm_kmap(ctx, l.max_pfn, &v2) == HM_ERANGE, "kmap past max_pfn");

    char msg[160] = "";
    CHECK(hm_check_invariants(ctx, msg, sizeof msg) == 0, "invariants: %s", msg);
    printf("x86: kmap slots 1, 2, 3, wrap to 0 with one flush, slot 1 again, EAGAIN when full; "
           "kmap_atomic at 0x%llx\n", (unsigned long long)v2);
    free(mem);
    free(t.ptes);
}

/* !CONFIG_HIGHMEM: kmap is page_address, and no machine hook is ever needed. */
static void check_generic(void)
{
    struct hm_config cfg = {.arch = hm_arch_find("generic")};
    struct hm_machine machine = {0};
    struct hm_layout l;
    void *mem;
    hm_vaddr_t v = 0;
    int ok = cfg.arch && hm_layout_compute(&cfg, &l) == HM_OK;
    CHECK(ok, "no generic backend or layout");
    if (!ok)
        return;
    struct hm_ctx *ctx = open_ctx(&cfg, &machine, &mem);
    CHECK(ctx != NULL, "generic context");
    if (!ctx)
        return;
    CHECK(hm_kmap(ctx, 42, &v) == HM_OK && v == l.page_offset + 42u * l.page_size,
          "generic kmap 0x%llx", (unsigned long long)v);
    CHECK(hm_kunmap(ctx, 42) == HM_OK && hm_page_is_highmem(ctx, 42) == 0, "generic kunmap");
    printf("generic: kmap(42) = 0x%llx\n", (unsigned long long)v);
    free(mem);
}

#ifdef KMAP_CHECK_MACHINES
/* A byte stored through a kmap of the simulated x86 reaches the page's physical memory. */
static void check_sim(void)
{
    struct hm_config cfg = {.arch = hm_arch_find("x86"), .nr_cpus = 2};
    struct hm_layout l;
    struct hm_machine machine;
    struct hm_sim *sim = NULL;
    struct hm_ctx *ctx = NULL;
    void *mem = NULL;
    hm_vaddr_t v = 0;
    uint8_t byte = 0;
    if (cfg.arch && hm_layout_compute(&cfg, &l) == HM_OK && (sim = hm_sim_new(&l, cfg.arch, NULL, NULL))) {
        hm_sim_machine(sim, &machine);
        ctx = open_ctx(&cfg, &machine, &mem);
    }
    CHECK(ctx != NULL, "no sim machine or context");
    if (ctx) {
        hm_pfn_t pfn = l.highmem_start_pfn + 77;
        CHECK(hm_kmap(ctx, pfn, &v) == HM_OK && hm_sim_store(sim, 1, v + 9, 0xa5) == HM_OK &&
                  hm_sim_phys_read(sim, pfn, 9, &byte) == HM_OK && byte == 0xa5,
              "sim: stored through 0x%llx, read 0x%02x", (unsigned long long)v, byte);
        CHECK(hm_kunmap(ctx, pfn) == HM_OK && hm_kmap_flush_unused(ctx) == HM_OK &&
                  hm_sim_pte(sim, v) == 0,
              "sim: the flush cleared the PTE");
        printf("sim: kmap(%u) = 0x%llx, byte 0x%02x in physical memory\n", pfn,
               (unsigned long long)v, byte);
    }
    free(mem);
    hm_sim_free(sim);
}

/* Bytes written through a kmapped pointer of a host machine are in its memfd. */
static void check_host(void)
{
    const long ps = sysconf(_SC_PAGESIZE);
    struct hm_host_config hc = {.fd = -1, .mem_size = 16u * (uint64_t)ps, .last_pkmap = 4, .nr_cpus = 1};
    struct hm_host *host = NULL;
    struct hm_config cfg;
    struct hm_machine machine;
    struct hm_ctx *ctx = NULL;
    void *mem = NULL;
    hm_vaddr_t v = 0;
    char back[6] = "";
    if (hm_host_open(&hc, &host) == 0) {
        hm_host_config_of(host, &cfg);
        hm_host_machine(host, &machine);
        ctx = open_ctx(&cfg, &machine, &mem);
    }
    CHECK(ctx != NULL, "no host machine or context");
    if (ctx) {
        CHECK(hm_kmap(ctx, 3, &v) == HM_OK, "host: kmap");
        memcpy(hm_host_ptr(v), "hello", 6);
        CHECK(pread(hm_host_fd(host), back, 6, 3 * ps) == 6 && strcmp(back, "hello") == 0,
              "host: the memfd holds '%s'", back);
        CHECK(hm_kunmap(ctx, 3) == HM_OK && hm_kmap_flush_unused(ctx) == HM_OK, "host: unmap");
        printf("host: wrote '%s' through %p into the memfd\n", back, hm_host_ptr(v));
    }
    CHECK(host == NULL || hm_host_close(host, 0) == 0, "host: close");
    free(mem);
}
#endif

int main(void)
{
    printf("libhighmem %s (headers %s)\n", hm_version(), HM_VERSION_STRING);
    CHECK(strcmp(hm_version(), HM_VERSION_STRING) == 0, "library %s, headers %s", hm_version(),
          HM_VERSION_STRING);
    for (unsigned i = 0; hm_arch_at(i); i++)
        printf("%s%s", i ? " " : "backends: ", hm_arch_name(hm_arch_at(i)));
    printf("\n");
    check_x86();
    check_generic();
#ifdef KMAP_CHECK_MACHINES
    check_sim();
    check_host();
#endif
    printf("kmap_check: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
