/* host.c - the host machine and host arch: hm_machine hooks over a host/window.c window (PTEs =
 * slot mappings, TLB flushes = window flushes, pthread locks, wait queue) and the hm_arch laying
 * the pkmap and kmap_atomic slots out in that window. SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "host/host.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "highmem_arch.h"
#include "machine/kmap_wait.h"

struct hm_host {
    struct hm_arch arch; /* first: the layout op finds the host from cfg->arch */
    struct hm_window *w;
    unsigned char *lowmem; /* the lowmem prefix, mapped once (NULL without lowmem) */
    size_t lowmem_len;
    uint32_t page_size, page_shift, last_pkmap, nr_cpus, slots;
    uint64_t pages;
    hm_vaddr_t base; /* the window's address: PKMAP_BASE */
    struct hm_kmap_wait q; /* the locks and pkmap_map_wait */
    atomic_uint_fast64_t refused, sleeps, wakeups;
};

static const char *const host_km_types[HM_HOST_NR_KM_TYPES] = {"KM_USER0", "KM_USER1", "KM_IRQ0",
                                                               "KM_BOUNCE_READ"};

/* ---- The arch ---------------------------------------------------------------------------- */

static int host_layout(const struct hm_config *cfg, struct hm_layout *l)
{
    const struct hm_host *h = (const struct hm_host *)cfg->arch;
    hm_vaddr_t ps = h->page_size;
    if (l->nr_cpus != h->nr_cpus || l->last_pkmap != h->last_pkmap)
        return HM_EINVAL; /* the window is sized for this host's CPUs and LAST_PKMAP */
    l->va_bits = 64;
    l->pkmap_base = h->base;
    l->km_types = host_km_types;
    l->nr_km_types = l->km_type_nr = HM_HOST_NR_KM_TYPES;
    l->config_nr_cpus = h->nr_cpus;
    l->kmap_atomic_base = h->base + (hm_vaddr_t)h->last_pkmap * ps;
    l->kmap_atomic_dir = 1;
    l->fix_kmap_begin = 0;
    l->nr_fixmap = h->nr_cpus * HM_HOST_NR_KM_TYPES;
    l->fixaddr_start = l->fixaddr_boot_start = l->kmap_atomic_base;
    l->fixaddr_top = h->base + (hm_vaddr_t)h->slots * ps;
    l->vmalloc_start = l->vmalloc_end = l->high_memory; /* no vmalloc area */
    l->pt_start = h->base;
    l->pt_pages = h->slots;
    return HM_OK;
}

/* The PTE format, pfn << page_shift | PRESENT | WRITE: mk_pte has no context, so one set of
 * functions per host page size (4, 16, 64 KiB). */
#define HOST_PTE_OPS(shift)                                                                   \
    static hm_pte_t host_mk_pte_##shift(hm_pfn_t pfn, hm_pte_t prot)                          \
    {                                                                                         \
        return ((hm_pte_t)pfn << shift) | (prot & (HM_HOST_PTE_PRESENT | HM_HOST_PTE_WRITE)); \
    }                                                                                         \
    static hm_pfn_t host_pte_pfn_##shift(hm_pte_t pte)                                        \
    {                                                                                         \
        return (hm_pfn_t)(pte >> shift);                                                      \
    }
HOST_PTE_OPS(12)
HOST_PTE_OPS(14)
HOST_PTE_OPS(16)

static int host_pte_none(hm_pte_t pte)
{
    return pte == 0;
}

/* ---- The machine ------------------------------------------------------------------------- */

static int64_t slot_of(const struct hm_host *h, hm_vaddr_t v)
{
    return (v >= h->base && (v - h->base) >> h->page_shift < h->slots)
               ? (int64_t)((v - h->base) >> h->page_shift)
               : -1;
}

static int hook_set_pte(void *m, hm_vaddr_t vaddr, hm_pte_t pte)
{
    struct hm_host *h = m;
    int64_t s = slot_of(h, vaddr);
    int err;
    if (s < 0)
        err = HM_WINDOW_EINVAL;
    else if (pte == 0)
        /* EUNMAP (eager) leaves the slot cleared and the tear-down to the next flush: the PTE
         * did change, so it is not a refusal */
        err = hm_window_unmap(h->w, (uint32_t)s) == HM_WINDOW_EINVAL ? HM_WINDOW_EINVAL : 0;
    else
        err = hm_window_map(h->w, (uint32_t)s, pte >> h->page_shift,
                            HM_WINDOW_READ | (pte & HM_HOST_PTE_WRITE ? HM_WINDOW_WRITE : 0u));
    if (err)
        atomic_fetch_add(&h->refused, 1);
    return err;
}

static hm_pte_t hook_get_pte(void *m, hm_vaddr_t vaddr)
{
    struct hm_host *h = m;
    int64_t s = slot_of(h, vaddr);
    uint64_t page = 0;
    unsigned prot = 0;
    if (s < 0 || !hm_window_get(h->w, (uint32_t)s, &page, &prot))
        return 0;
    return ((hm_pte_t)page << h->page_shift) | HM_HOST_PTE_PRESENT |
           (prot & HM_WINDOW_WRITE ? HM_HOST_PTE_WRITE : 0u);
}

/* A failed tear-down (EUNMAP) is retried by the next flush; a flush hook cannot fail. */
static void hook_flush_range(void *m, hm_vaddr_t start, hm_vaddr_t end)
{
    struct hm_host *h = m;
    int64_t s = slot_of(h, start);
    if (s >= 0 && end > start)
        (void)hm_window_flush(h->w, (uint32_t)s,
                              (uint32_t)((end - start + h->page_size - 1u) >> h->page_shift));
}

static void hook_flush_page(void *m, uint32_t cpu, hm_vaddr_t vaddr)
{
    struct hm_host *h = m;
    int64_t s = slot_of(h, vaddr);
    (void)cpu; /* one address space: every thread sees the same mappings */
    if (s >= 0)
        (void)hm_window_flush(h->w, (uint32_t)s, 1);
}

static void hook_flush_all(void *m)
{
    struct hm_host *h = m;
    (void)hm_window_flush(h->w, 0, h->slots);
}

static void hook_lock(void *m, unsigned id)
{
    hm_kmap_wait_lock(&((struct hm_host *)m)->q, id);
}

static void hook_unlock(void *m, unsigned id)
{
    hm_kmap_wait_unlock(&((struct hm_host *)m)->q, id);
}

/* Entered with locks[HM_LOCK_KMAP] held (machine/kmap_wait.h: no lost wake-up). */
static void hook_sleep(void *m)
{
    struct hm_host *h = m;
    atomic_fetch_add(&h->sleeps, 1);
    hm_kmap_wait_sleep(&h->q);
}

static void hook_wake_all(void *m)
{
    struct hm_host *h = m;
    hm_kmap_wait_wake_all(&h->q);
    atomic_fetch_add(&h->wakeups, 1);
}

/* The per-colour pair (the host arch is uncoloured: always colour 0's queue), counted as above. */
static void hook_sleep_colour(void *m, uint32_t colour)
{
    struct hm_host *h = m;
    atomic_fetch_add(&h->sleeps, 1);
    hm_kmap_wait_sleep_colour(&h->q, colour);
}

static void hook_wake_colour(void *m, uint32_t colour)
{
    struct hm_host *h = m;
    hm_kmap_wait_wake_colour(&h->q, colour);
    atomic_fetch_add(&h->wakeups, 1);
}

void hm_host_check_locks(struct hm_host *host, hm_lock_error_fn fn, void *cookie)
{
    if (!host)
        return;
    hm_kmap_wait_check(&host->q, 1);
    hm_kmap_wait_on_error(&host->q, fn, cookie);
}

void hm_host_machine(struct hm_host *host, struct hm_machine *out)
{
    memset(out, 0, sizeof *out);
    if (!host)
        return;
    out->m = host;
    out->set_pte = hook_set_pte;
    out->get_pte = hook_get_pte;
    out->flush_tlb_range = hook_flush_range;
    out->flush_tlb_page = hook_flush_page;
    out->flush_tlb_all = hook_flush_all;
    /* flush_cache_all: NULL, no aliasing caches on the supported hosts (docs/host.md) */
    out->lock = hook_lock;
    out->unlock = hook_unlock;
    out->sleep = hook_sleep;
    out->wake_all = hook_wake_all;
    /* in_interrupt: NULL, never in interrupt */
    out->sleep_colour = hook_sleep_colour;
    out->wake_colour = hook_wake_colour;
}

/* ---- Open, close, geometry ----------------------------------------------------------------- */

static int fail(int err, int e)
{
    errno = e;
    return err;
}

static int is_pow2(uint32_t v)
{
    return v && !(v & (v - 1u));
}

int hm_host_open(const struct hm_host_config *cfg, struct hm_host **out)
{
    struct hm_window_config wc;
    struct hm_host *h;
    uint32_t nr_cpus;
    int err, e;

    if (!cfg || !out || !is_pow2(cfg->last_pkmap) || cfg->last_pkmap < 2 ||
        cfg->last_pkmap > HM_MAX_PKMAP || cfg->nr_cpus > HM_MAX_CPUS ||
        (cfg->custom_window && (unsigned)cfg->policy > HM_WINDOW_LAZY))
        return fail(HM_WINDOW_EINVAL, EINVAL);
    nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : 1;
    if (!(h = calloc(1, sizeof *h)))
        return fail(HM_WINDOW_ENOMEM, ENOMEM);
    wc = (struct hm_window_config){.fd = cfg->fd, .offset = cfg->offset, .mem_size = cfg->mem_size,
                                   .slots = cfg->last_pkmap + nr_cpus * HM_HOST_NR_KM_TYPES,
                                   .policy = cfg->custom_window ? cfg->policy : HM_WINDOW_COALESCED,
                                   .strict = cfg->custom_window ? cfg->strict : 1};
    if ((err = hm_window_open(&wc, &h->w)) != HM_WINDOW_OK) {
        e = errno;
        free(h);
        return fail(err, e);
    }
    h->page_size = (uint32_t)hm_window_page_size(h->w);
    h->page_shift = (uint32_t)__builtin_ctz(h->page_size);
    h->pages = hm_window_pages(h->w);
    h->slots = wc.slots;
    h->last_pkmap = cfg->last_pkmap;
    h->nr_cpus = nr_cpus;
    h->base = (hm_vaddr_t)(uintptr_t)hm_window_addr(h->w, 0);
    if (h->page_shift != 12 && h->page_shift != 14 && h->page_shift != 16)
        err = HM_WINDOW_EINVAL, e = EINVAL;
    else if (h->pages > UINT32_MAX)
        err = HM_WINDOW_ERANGE, e = ERANGE;
    else if (cfg->lowmem_pages >= h->pages)
        err = HM_WINDOW_EINVAL, e = EINVAL; /* no highmem page would be left */
    else if ((fcntl(hm_window_fd(h->w), F_GETFL) & O_ACCMODE) != O_RDWR)
        err = HM_WINDOW_EACCES, e = EACCES; /* kmap_prot writes: the memory must be writable */
    if (!err && cfg->lowmem_pages) {
        h->lowmem_len = (size_t)cfg->lowmem_pages * h->page_size;
        h->lowmem = mmap(NULL, h->lowmem_len, PROT_READ | PROT_WRITE, MAP_SHARED, hm_window_fd(h->w),
                         (off_t)cfg->offset);
        if (h->lowmem == MAP_FAILED) {
            h->lowmem = NULL;
            err = HM_WINDOW_EMAP, e = errno;
        }
    }
    if (err) {
        hm_window_close(h->w, HM_WINDOW_CLOSE_FORCE);
        free(h);
        return fail(err, e);
    }
    hm_kmap_wait_init(&h->q);

    h->arch.abi_version = HM_ARCH_ABI_VERSION;
    h->arch.name = "host";
    h->arch.has_highmem = 1;
    h->arch.page_shift = h->page_shift;
    h->arch.pte_bytes = 8;
    /* the direct map starts at the lowmem mapping; without lowmem it is empty, placed at the
     * window (PAGE_OFFSET == high_memory) */
    h->arch.page_offset = h->lowmem ? (hm_vaddr_t)(uintptr_t)h->lowmem : h->base;
    h->arch.lowmem_pages = cfg->lowmem_pages;
    h->arch.default_last_pkmap = h->last_pkmap;
    h->arch.default_highmem_pages = (uint32_t)(h->pages - cfg->lowmem_pages);
    h->arch.mem_map = 0x100000000ull; /* only hashed (hash_ptr of struct page *) */
    h->arch.struct_page_size = 64;
    h->arch.kmap_prot = HM_HOST_PTE_PRESENT | HM_HOST_PTE_WRITE;
    h->arch.layout = host_layout;
    h->arch.mk_pte = h->page_shift == 12 ? host_mk_pte_12
                     : h->page_shift == 14 ? host_mk_pte_14 : host_mk_pte_16;
    h->arch.pte_pfn = h->page_shift == 12 ? host_pte_pfn_12
                      : h->page_shift == 14 ? host_pte_pfn_14 : host_pte_pfn_16;
    h->arch.pte_none = host_pte_none;
    /* kmap_atomic as x86 has it, x86's own fronts (they reach the PTEs and the slots only
     * through the core's services, so through this descriptor and layout): no flush on map,
     * a page flush on unmap. kmap_atomic_to_page stays the default (direct map only): x86's
     * reads its downward fixmap. */
    h->arch.kmap_atomic_prot = hm_arch_x86.kmap_atomic_prot;
    h->arch.kunmap_atomic = hm_arch_x86.kunmap_atomic;
    h->arch.kmap_atomic_pfn = hm_arch_x86.kmap_atomic_pfn;
    *out = h;
    return HM_WINDOW_OK;
}

int hm_host_close(struct hm_host *host, unsigned flags)
{
    struct hm_window_stats s;
    if (!host)
        return HM_WINDOW_OK;
    if (flags & ~HM_HOST_CLOSE_FORCE)
        return fail(HM_WINDOW_EINVAL, EINVAL);
    hm_window_stats(host->w, &s);
    if (s.mapped && !(flags & HM_HOST_CLOSE_FORCE))
        return fail(HM_WINDOW_EBUSY, EBUSY);
    (void)hm_window_close(host->w, HM_WINDOW_CLOSE_FORCE);
    if (host->lowmem)
        munmap(host->lowmem, host->lowmem_len);
    hm_kmap_wait_destroy(&host->q);
    free(host);
    return s.mapped ? fail(HM_WINDOW_EBUSY, EBUSY) : HM_WINDOW_OK;
}

const struct hm_arch *hm_host_arch(const struct hm_host *host)
{
    return host ? &host->arch : NULL;
}

void hm_host_config_of(const struct hm_host *host, struct hm_config *out)
{
    memset(out, 0, sizeof *out);
    if (!host)
        return;
    out->arch = &host->arch;
    out->nr_cpus = host->nr_cpus;
    out->last_pkmap = host->last_pkmap;
    out->highmem_pages = host->arch.default_highmem_pages;
}

uint32_t hm_host_page_size(const struct hm_host *host)
{
    return host ? host->page_size : 0;
}

uint64_t hm_host_pages(const struct hm_host *host)
{
    return host ? host->pages : 0;
}

struct hm_window *hm_host_window(const struct hm_host *host)
{
    return host ? host->w : NULL;
}

int hm_host_fd(const struct hm_host *host)
{
    return host ? hm_window_fd(host->w) : -1;
}

void hm_host_stats(const struct hm_host *host, struct hm_host_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!host)
        return;
    hm_window_stats(host->w, &out->window);
    out->set_pte_refused = atomic_load(&host->refused);
    out->sleeps = atomic_load(&host->sleeps);
    out->wakeups = atomic_load(&host->wakeups);
}
