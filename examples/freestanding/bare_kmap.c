/* bare_kmap.c - libhighmem with no C library at all: a context in static storage over a machine
 * of one PTE array; kmap, kunmap, the wrap's flush, kmap_atomic and a BUG, checked. Its own memcpy,
 * memset and _start (Thumb, RISC-V); exit status 0 when every check holds. SPDX-License-Identifier: MIT */
#include "highmem.h"

/* What a freestanding C compiler may call (struct copies and zeroing). volatile keeps these
 * loops from being turned back into calls to themselves. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    volatile unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
void *memset(void *dst, int c, size_t n)
{
    volatile unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

/* The machine: the PTE words of the layout's page-table window (x86 with 16 pkmap slots: the
 * 1024 pages from PKMAP_BASE 0xffc00000 to 4 GiB); one CPU, one thread, so no lock hooks. */
#define PT_MAX 1024u
static hm_pte_t ptes[PT_MAX];
static hm_vaddr_t pt_start;
static unsigned pte_writes, range_flushes;

static int set_pte(void *m, hm_vaddr_t vaddr, hm_pte_t pte)
{
    (void)m;
    ptes[(vaddr - pt_start) >> 12] = pte;
    pte_writes++;
    return 0;
}
static hm_pte_t get_pte(void *m, hm_vaddr_t vaddr)
{
    (void)m;
    return ptes[(vaddr - pt_start) >> 12];
}
static void flush_tlb_range(void *m, hm_vaddr_t start, hm_vaddr_t end)
{
    (void)m, (void)start, (void)end;
    range_flushes++;
}

static unsigned bugs;
static void on_bug(void *cookie, const struct hm_bug_report *report)
{
    (void)cookie, (void)report;
    bugs++;
}

static _Alignas(64) unsigned char ctx_mem[8192];

/* 0 when every check holds, else the number of the first that failed. BARE_KMAP_LOCKING, when
 * defined, is the locking the context must report (HM_LOCKING_KERNEL without lock-free atomics). */
int main(void)
{
    struct hm_config cfg = {.arch = hm_arch_find("x86"), .nr_cpus = 1, .last_pkmap = 16};
    struct hm_machine machine = {.set_pte = set_pte, .get_pte = get_pte, .flush_tlb_range = flush_tlb_range};
    struct hm_hooks hooks = {.on_bug = on_bug};
    struct hm_layout layout;
    struct hm_ctx *ctx;
    hm_vaddr_t v, again, slot1, atomic;
    hm_pfn_t page;
    unsigned k, writes;
    char msg[96];

    if (!cfg.arch || hm_layout_compute(&cfg, &layout) != HM_OK || layout.pt_pages > PT_MAX ||
        layout.page_shift != 12)
        return 1;
    if (hm_ctx_size(&cfg) > sizeof ctx_mem || hm_ctx_align() > 64)
        return 2;
    pt_start = layout.pt_start;
    if (hm_ctx_init(ctx_mem, sizeof ctx_mem, &cfg, &machine, &hooks, &ctx) != HM_OK)
        return 3;
#ifdef BARE_KMAP_LOCKING
    if (hm_ctx_locking(ctx) != BARE_KMAP_LOCKING)
        return 4;
#endif
    /* The first kmap after boot takes slot 1 and writes its PTE; a second kmap of the page
     * reuses it without a write. */
    page = layout.highmem_start_pfn + 7;
    slot1 = layout.pkmap_base + 4096;
    if (hm_kmap(ctx, page, &v) != HM_OK || v != slot1 || pte_writes != 1 || get_pte(0, v) == 0)
        return 5;
    if (hm_kmap(ctx, page, &again) != HM_OK || again != v || pte_writes != 1)
        return 6;
    if (hm_kunmap(ctx, page) != HM_OK || hm_kunmap(ctx, page) != HM_OK || get_pte(0, v) == 0)
        return 7; /* lazy: the PTE stays until the next flush */
    /* One kunmap too many is the kernel's BUG: an error, reported, nothing changed. */
    if (hm_kunmap(ctx, page) == HM_OK || bugs != 1)
        return 8;
    /* Fourteen more pages fill slots 2..15; the fifteenth wraps: flush_all_zero_pkmaps clears
     * slot 1 (count 1: mapped, unused), flushes the window's TLB range and slot 0 is taken. */
    for (k = 0; k < 15; k++)
        if (hm_kmap(ctx, layout.highmem_start_pfn + 100 + k, &v) != HM_OK)
            return 9;
    if (v != layout.pkmap_base || get_pte(0, slot1) != 0 || range_flushes != 1)
        return 10;
    if (hm_kmap(ctx, page, &v) != HM_OK || v != slot1 || get_pte(0, slot1) == 0)
        return 11;
    /* kmap_atomic (KM_USER0, type 3) maps the page at its fixmap slot and back. */
    writes = pte_writes;
    if (hm_kmap_atomic(ctx, 0, page, 3, &atomic) != HM_OK || pte_writes != writes + 1 ||
        get_pte(0, atomic) == 0 || hm_kunmap_atomic(ctx, 0, atomic, 3) != HM_OK)
        return 12;
    if (hm_check_invariants(ctx, msg, sizeof msg) != HM_OK || bugs != 1)
        return 13;
    return 0;
}

/* The entry point for qemu-user (which runs this with a stack and nothing else): main's result
 * goes to the Linux exit system call. On a board, the reset handler would call main. */
#if defined(__thumb__)
__asm__(".text\n.globl _start\n.type _start, %function\n.thumb_func\n_start:\n"
        "  bl main\n  movs r7, #1\n  svc #0\n");
#elif defined(__riscv)
__asm__(".text\n.globl _start\n.type _start, @function\n_start:\n"
        "  .option push\n  .option norelax\n  la gp, __global_pointer$\n  .option pop\n"
        "  call main\n  li a7, 93\n  ecall\n");
#endif
