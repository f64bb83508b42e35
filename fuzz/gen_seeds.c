/* gen_seeds.c - writes the seed corpus of kmap_ops (named scenarios, encoded with the decoder's
 * own constants from kmap_ops.h): gen_seeds [DIR], default fuzz/corpus/kmap_ops.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/kmap_ops.h"
#include "highmem.h"

#define MAX_BYTES 2048u

/* An input being built: op bytes for the front, the five machine bytes for the end. */
struct enc {
    uint8_t ops[MAX_BYTES];
    size_t n;
    unsigned nops;
    uint8_t arch, window, cpus, flags, highmem;
    uint32_t ntypes; /* real km_types of the arch, for encoding a type index */
};

static void die(const char *what)
{
    fprintf(stderr, "gen_seeds: %s\n", what);
    exit(1);
}

static void byte(struct enc *e, uint32_t b)
{
    if (e->n == MAX_BYTES || b > 255)
        die("scenario too long or byte out of range");
    e->ops[e->n++] = (uint8_t)b;
}

/* ---- the machine -------------------------------------------------------------------------- */
#define DEBUG KOP_FLAG_DEBUG
#define NEED_FLUSH KOP_FLAG_NEED_FLUSH
#define DEFAULT 0u /* window or highmem: the arch's own */

static void machine(struct enc *e, const char *arch, uint32_t window, uint32_t cpus, uint32_t flags,
                    uint32_t highmem)
{
    unsigned i;
    memset(e, 0, sizeof *e);
    for (i = 0; hm_arch_at(i); i++)
        if (strcmp(hm_arch_name(hm_arch_at(i)), arch) == 0)
            break;
    if (!hm_arch_at(i) || i >= KOP_NR_ARCHES)
        die("unknown arch");
    e->arch = (uint8_t)i;
    for (i = 0; i < KOP_NR_WINDOWS && kop_window(i) != window; i++)
        ;
    if (i == KOP_NR_WINDOWS)
        die("window not in kop_window()");
    e->window = (uint8_t)i;
    if (cpus < 1 || cpus > 4)
        die("cpus");
    e->cpus = (uint8_t)(cpus - 1u);
    e->flags = (uint8_t)flags;
    for (i = 0; i < KOP_NR_HIGHMEM && kop_highmem(i) != highmem; i++)
        ;
    if (i == KOP_NR_HIGHMEM)
        die("highmem not in kop_highmem()");
    e->highmem = (uint8_t)i;
    e->ntypes = strcmp(arch, "ppc") == 0 ? 15u : 13u;
}

/* ---- operands ----------------------------------------------------------------------------- */
/* pfn bytes */
static uint32_t HI(uint32_t k) { return k + 2u; }               /* highmem page k: hs + k */
static uint32_t LO(uint32_t k) { return k & 1u; }               /* hs - 2 + k (lowmem) */
static uint32_t END(uint32_t k) { return KPFN_TOP + k; }        /* max_pfn - 8 + k */
static uint32_t SPECIAL_PFN(uint32_t i) { return KPFN_SPECIAL + i; }
/* special pfn indexes (kmap_ops.c) */
enum { SP_ZERO = 0, SP_MAX = 7, SP_MAX1 = 8, SP_4G = 9, SP_HUGE = 13 };

/* cpu byte */
static uint32_t CPU(uint32_t c) { return c; }
static uint32_t BAD_CPU(uint32_t i) { return KCPU_BAD + i; }

/* km_type byte */
#define USER0 0u
#define USER1 1u
static uint32_t TYPE(const struct enc *e, uint32_t t)
{
    uint32_t b = KTYPE_USER;
    while (b % e->ntypes != t)
        b++;
    return b;
}
static uint32_t BAD_TYPE(uint32_t i) { return KTYPE_BAD + i; }

/* kunmap_atomic address byte */
#define UA_SAME 0u                                               /* the remembered address */
static uint32_t UA_OTHER_TYPE(void) { return KUA_OTHER + 1u; }   /* (cpu, type ^ 1) */
static uint32_t UA_OTHER_CPU(void) { return KUA_OTHER; }         /* (cpu + 1, type) */
static uint32_t UA_LOWMEM(uint32_t k) { return KUA_LOWMEM + k; }
static uint32_t UA_PKMAP(uint32_t i) { return KUA_PKMAP + i; }
static uint32_t UA_SPECIAL(uint32_t i) { return KUA_SPECIAL + i; }

/* address: two bytes, kept as (s << 8 | o) */
static uint32_t RECENT(uint32_t k, uint32_t off) { return (k << 8) | off; } /* k = 0: the last */
static uint32_t PKMAP(uint32_t i, uint32_t off) { return ((KADDR_PKMAP + i) << 8) | off; }
static uint32_t SLOT(uint32_t cpu, uint32_t small_type_idx, uint32_t off)
{
    return ((KADDR_SLOT + (small_type_idx << 2) + cpu) << 8) | off; /* kop_small_type(idx) */
}
static uint32_t DIRECT(uint32_t pfn_byte) { return (KADDR_DIRECT << 8) | pfn_byte; }
static uint32_t SPECIAL_ADDR(uint32_t i) { return (KADDR_SPECIAL + i) << 8; }
/* special address indexes (kmap_ops.h) */
enum { SA_ZERO = 0, SA_PAGE_OFFSET = 1, SA_HIGH_MEMORY = 3, SA_PKMAP_END = 5, SA_SLOT0 = 6,
       SA_FIXADDR_START = 7, SA_FIXADDR_TOP = 8, SA_MAX = 10, SA_NOCACHE = 11, SA_FENCE = 14 };

/* ---- operations --------------------------------------------------------------------------- */
static void op(struct enc *e, int o)
{
    if (++e->nops > KOP_MAX_OPS)
        die("scenario has too many ops");
    byte(e, kop_byte_of(o));
}
static void kmap(struct enc *e, uint32_t pfn) { op(e, KOP_KMAP); byte(e, pfn); }
static void kunmap(struct enc *e, uint32_t pfn) { op(e, KOP_KUNMAP); byte(e, pfn); }
static void flush(struct enc *e) { op(e, KOP_FLUSH); }
static void page_address(struct enc *e, uint32_t pfn) { op(e, KOP_PAGE_ADDRESS); byte(e, pfn); }
static void kmap_atomic(struct enc *e, uint32_t cpu, uint32_t type, uint32_t pfn)
{
    op(e, KOP_KMAP_ATOMIC);
    byte(e, cpu);
    byte(e, type);
    byte(e, pfn);
}
static void kmap_atomic_pfn(struct enc *e, uint32_t cpu, uint32_t type, uint32_t pfn)
{
    op(e, KOP_KMAP_ATOMIC_PFN);
    byte(e, cpu);
    byte(e, type);
    byte(e, pfn);
}
static void kunmap_atomic(struct enc *e, uint32_t cpu, uint32_t type, uint32_t ua)
{
    op(e, KOP_KUNMAP_ATOMIC);
    byte(e, cpu);
    byte(e, type);
    byte(e, ua);
}
static void load(struct enc *e, uint32_t cpu, uint32_t addr)
{
    op(e, KOP_LOAD);
    byte(e, cpu);
    byte(e, addr >> 8);
    byte(e, addr & 0xffu);
}
static void store(struct enc *e, uint32_t cpu, uint32_t addr, uint32_t value)
{
    op(e, KOP_STORE);
    byte(e, cpu);
    byte(e, addr >> 8);
    byte(e, addr & 0xffu);
    byte(e, value);
}
static void to_page(struct enc *e, uint32_t addr)
{
    op(e, KOP_KMAP_TO_PAGE);
    byte(e, addr >> 8);
    byte(e, addr & 0xffu);
}
static void irq(struct enc *e, uint32_t on) { op(e, KOP_IRQ); byte(e, on); }
static void atomic_to_page(struct enc *e, uint32_t addr)
{
    op(e, KOP_KMAP_ATOMIC_TO_PAGE);
    byte(e, addr >> 8);
    byte(e, addr & 0xffu);
}

/* ---- the scenarios ------------------------------------------------------------------------ */
/* x86, 4 slots: the first kmap gets slot 1, slots 1..3 then the wrap flush and slot 0, the
 * fifth distinct page finds none (EAGAIN); a kunmap makes a slot reusable after a flush. */
static void fill_window_x86_w4(struct enc *e)
{
    machine(e, "x86", 4, 1, 0, 16);
    for (uint32_t k = 0; k < 5; k++)
        kmap(e, HI(k));
    kunmap(e, HI(1));
    kmap(e, HI(5));
    kmap(e, HI(1));
    page_address(e, HI(1));
    page_address(e, HI(4));
}

/* ppc, 8 slots: map and unmap more pages than slots, so the scan wraps and flushes (with
 * flush_cache_kmaps = flush_cache_all) several times. */
static void wrap_and_flush_ppc(struct enc *e)
{
    machine(e, "ppc", 8, 1, 0, 32);
    for (uint32_t k = 0; k < 20; k++) {
        kmap(e, HI(k));
        store(e, CPU(0), RECENT(0, k), k + 1u);
        kunmap(e, HI(k));
    }
    for (uint32_t k = 0; k < 20; k += 3) {
        kmap(e, HI(k));
        load(e, CPU(0), RECENT(0, k));
    }
}

/* sparc: kunmap leaves the slot at count 1 and a re-kmap of the same page reuses it with no
 * PTE write; another page cannot take it until a flush. */
static void count1_reuse_sparc(struct enc *e)
{
    machine(e, "sparc", 4, 1, 0, 16);
    kmap(e, HI(0));
    store(e, CPU(0), RECENT(0, 7), 77);
    kunmap(e, HI(0));
    kmap(e, HI(0));
    load(e, CPU(0), RECENT(0, 7));
    kunmap(e, HI(0));
    kmap(e, HI(1));
    kmap(e, HI(2));
    kmap(e, HI(3));
    kmap(e, HI(0));
    page_address(e, HI(0));
}

static void double_kunmap(struct enc *e)
{
    machine(e, "x86", 8, 1, 0, 16);
    kmap(e, HI(3));
    kunmap(e, HI(3));
    kunmap(e, HI(3));
    kmap(e, HI(3));
    kmap(e, HI(3));
    kunmap(e, HI(3));
    kunmap(e, HI(3));
    kunmap(e, HI(3));
}

static void kunmap_never_mapped(struct enc *e)
{
    machine(e, "x86-pae", 4, 1, 0, 8);
    kunmap(e, HI(2));
    kmap(e, HI(1));
    kunmap(e, HI(2));
    kunmap(e, LO(1));
    flush(e);
    kunmap(e, HI(1));
    kunmap(e, HI(1));
}

static void pfn_out_of_range(struct enc *e)
{
    machine(e, "x86", 4, 2, 0, 8);
    kmap(e, HI(8));  /* hs + 8 == max_pfn */
    kmap(e, HI(9));  /* max_pfn + 1 */
    kunmap(e, HI(8));
    kmap(e, SPECIAL_PFN(SP_HUGE));
    kmap(e, SPECIAL_PFN(SP_4G));
    page_address(e, SPECIAL_PFN(SP_MAX));
    page_address(e, SPECIAL_PFN(SP_MAX1));
    kmap_atomic(e, CPU(0), USER0, SPECIAL_PFN(SP_MAX));
    kmap_atomic_pfn(e, CPU(1), USER1, SPECIAL_PFN(SP_HUGE));
    kmap(e, SPECIAL_PFN(SP_ZERO));
    kmap(e, END(7));
}

static void nested_atomic_same_slot(struct enc *e)
{
    machine(e, "x86", 4, 1, 0, 16);
    kmap_atomic(e, CPU(0), USER0, HI(1));
    kmap_atomic(e, CPU(0), USER0, HI(2));
    kmap_atomic(e, CPU(0), USER1, HI(2));
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    kmap_atomic(e, CPU(0), USER0, HI(2));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
}

static void nested_atomic_same_slot_ppc(struct enc *e)
{
    machine(e, "ppc", 4, 2, 0, 16);
    kmap_atomic(e, CPU(1), USER0, HI(1));
    kmap_atomic(e, CPU(1), USER0, HI(2));
    kunmap_atomic(e, CPU(1), USER0, UA_SAME);
}

/* ppc BUGs on a kunmap_atomic of another slot's address; x86 silently skips the unmap, so the
 * slot stays mapped and the next kmap_atomic of that type BUGs. */
static void wrong_atomic_slot(struct enc *e)
{
    machine(e, "ppc", 4, 2, 0, 16);
    kmap_atomic(e, CPU(0), USER0, HI(1));
    kunmap_atomic(e, CPU(0), USER0, UA_OTHER_TYPE());
    kunmap_atomic(e, CPU(0), USER0, UA_OTHER_CPU());
    kunmap_atomic(e, CPU(0), USER0, UA_PKMAP(1));
    kmap_atomic(e, CPU(0), USER0, HI(2));
}

static void wrong_atomic_slot_x86(struct enc *e)
{
    machine(e, "x86", 4, 2, 0, 16);
    kmap_atomic(e, CPU(1), USER1, HI(1));
    kunmap_atomic(e, CPU(1), USER1, UA_OTHER_TYPE());
    kmap_atomic(e, CPU(1), USER1, HI(2));
    kmap_atomic(e, CPU(1), USER0, HI(2));
    kunmap_atomic(e, CPU(1), USER0, UA_OTHER_CPU());
    kunmap_atomic(e, CPU(1), USER0, UA_SAME);
}

static void kunmap_atomic_unbalanced(struct enc *e)
{
    machine(e, "x86", 4, 2, 0, 16);
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    kmap_atomic(e, CPU(0), USER0, LO(1));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    kmap_atomic(e, CPU(1), USER1, HI(0));
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
    kunmap_atomic(e, CPU(1), USER1, UA_SAME);
    kunmap_atomic(e, CPU(1), USER1, UA_SAME);
}

/* kmap_atomic_pfn: no highmem test (a lowmem pfn is mapped into the slot) and no none check
 * (it overwrites a live slot without a flush: the CPU's TLB then serves the old page). */
static void kmap_atomic_pfn_x86(struct enc *e)
{
    machine(e, "x86", 4, 1, 0, 16);
    kmap_atomic_pfn(e, CPU(0), USER0, LO(1));
    store(e, CPU(0), RECENT(0, 3), 33);
    kmap_atomic_pfn(e, CPU(0), USER0, HI(4));
    load(e, CPU(0), RECENT(0, 3));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    load(e, CPU(0), DIRECT(LO(1)));
    kmap_atomic_pfn(e, CPU(0), USER1, HI(4));
    load(e, CPU(0), RECENT(0, 3));
    atomic_to_page(e, RECENT(0, 0));
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
}

static void kmap_atomic_pfn_ppc(struct enc *e)
{
    machine(e, "ppc", 4, 1, 0, 16);
    kmap_atomic_pfn(e, CPU(0), USER0, LO(1));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    kmap_atomic_pfn(e, CPU(0), USER0, HI(4));
    kmap_atomic_pfn(e, CPU(0), USER0, HI(5));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
}

/* x86-PAE with its default memory: frames above 4 GiB through pkmap and atomic slots. */
static void pae_above_4g(struct enc *e)
{
    machine(e, "x86-pae", 8, 2, 0, DEFAULT);
    kmap(e, END(0));
    kmap(e, END(7));
    store(e, CPU(1), RECENT(0, 1), 200);
    load(e, CPU(0), RECENT(0, 1));
    kmap_atomic(e, CPU(1), USER0, END(7));
    load(e, CPU(1), RECENT(0, 1));
    kmap_atomic(e, CPU(0), USER1, SPECIAL_PFN(SP_4G));
    to_page(e, RECENT(0, 0));
    atomic_to_page(e, RECENT(0, 0));
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
    kunmap_atomic(e, CPU(1), USER0, UA_SAME);
    kunmap(e, END(7));
    kmap(e, END(8));
    page_address(e, END(7));
}

/* generic (!CONFIG_HIGHMEM): kmap is page_address, kunmap a no-op, atomic only counts. */
static void generic_everything(struct enc *e)
{
    machine(e, "generic", 4, 2, 0, 16);
    kmap(e, LO(0));
    kmap(e, HI(0)); /* == max_pfn on generic */
    kunmap(e, LO(1));
    kunmap(e, LO(1));
    flush(e);
    kmap_atomic(e, CPU(1), USER0, LO(1));
    store(e, CPU(1), RECENT(0, 9), 9);
    load(e, CPU(0), RECENT(0, 9));
    kmap_atomic_pfn(e, CPU(1), USER1, SPECIAL_PFN(SP_ZERO));
    kunmap_atomic(e, CPU(1), USER0, UA_SAME);
    kunmap_atomic(e, CPU(1), USER1, UA_PKMAP(0));
    kunmap_atomic(e, CPU(1), USER1, UA_SAME);
    kunmap_atomic(e, BAD_CPU(0), USER1, UA_SAME);
    kmap_atomic(e, CPU(0), BAD_TYPE(0), LO(1));
    to_page(e, RECENT(0, 0));
    to_page(e, SPECIAL_ADDR(SA_MAX));
    atomic_to_page(e, RECENT(1, 0));
    atomic_to_page(e, SPECIAL_ADDR(SA_ZERO));
    page_address(e, LO(0));
    page_address(e, HI(0));
    load(e, CPU(0), PKMAP(0, 0));
}

/* x86 with DEBUG_HIGHMEM: KM_TYPE_NR 27 with the real types at odd values between fences; a
 * kunmap_atomic address that is neither the slot nor lowmem BUGs. */
static void debug_highmem_x86_fences(struct enc *e)
{
    machine(e, "x86", 4, 2, DEBUG, 16);
    kmap_atomic(e, CPU(1), USER0, HI(1));
    kmap_atomic(e, CPU(1), USER1, HI(2));
    kmap_atomic(e, CPU(0), TYPE(e, 12), HI(3));
    atomic_to_page(e, SPECIAL_ADDR(SA_FENCE));
    atomic_to_page(e, RECENT(1, 5));
    to_page(e, SPECIAL_ADDR(SA_FENCE));
    load(e, CPU(0), SPECIAL_ADDR(SA_FENCE));
    kunmap_atomic(e, CPU(1), USER1, UA_PKMAP(0));
    kunmap_atomic(e, CPU(1), USER1, UA_OTHER_TYPE());
    kunmap_atomic(e, CPU(1), USER1, UA_LOWMEM(3));
    kunmap_atomic(e, CPU(1), USER0, UA_SAME);
    kmap_atomic(e, CPU(1), USER1, HI(2));
    kunmap_atomic(e, CPU(0), TYPE(e, 12), UA_SPECIAL(SA_MAX));
    kunmap_atomic(e, CPU(0), TYPE(e, 12), UA_SAME);
}

static void sparc_debug_unmap(struct enc *e)
{
    machine(e, "sparc", 4, 2, DEBUG, 16);
    kmap_atomic(e, CPU(0), USER0, HI(1));
    kmap_atomic(e, CPU(0), USER0, HI(2));            /* busy: a BUG after the cache flush */
    load(e, CPU(1), RECENT(0, 0));
    kunmap_atomic(e, CPU(0), USER0, UA_OTHER_CPU());  /* in the fixmap, not the slot: BUG */
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);         /* cache flush, clear, TLB flush all */
    load(e, CPU(1), RECENT(0, 0));
    kmap_atomic(e, CPU(0), USER0, HI(3));
    kunmap_atomic(e, CPU(0), USER0, UA_PKMAP(2));     /* below FIXADDR_START: enable only */
    kmap_atomic(e, CPU(0), USER0, HI(1));             /* the PTE stayed: busy */
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);         /* nothing outstanding: unbalanced */
}

/* sparc lowmem: kmap and kmap_atomic return the direct map (KERNBASE 0xf0000000), and
 * kmap_atomic_to_page takes the direct map, the nocache pool and the fixmap differently. */
static void sparc_lowmem(struct enc *e)
{
    machine(e, "sparc", 8, 1, 0, 16);
    kmap(e, LO(1));
    kmap_atomic(e, CPU(0), USER1, LO(0));
    store(e, CPU(0), RECENT(0, 3), 3);
    load(e, CPU(0), RECENT(1, 3));
    atomic_to_page(e, RECENT(0, 0));
    atomic_to_page(e, SPECIAL_ADDR(SA_ZERO));
    atomic_to_page(e, SPECIAL_ADDR(SA_HIGH_MEMORY));
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
    kunmap(e, LO(1));
}

/* two pages in one page_address bucket (hash_ptr of struct page): with the default x86 memory
 * hs and hs + hp/2 collide. Unhash the second record, then the head one. */
static void hash_bucket_collision(struct enc *e)
{
    machine(e, "x86", 8, 1, 0, DEFAULT);
    kmap(e, HI(0));
    kmap(e, SPECIAL_PFN(14));
    page_address(e, SPECIAL_PFN(14));
    kunmap(e, SPECIAL_PFN(14));
    flush(e);
    kmap(e, SPECIAL_PFN(14));
    kunmap(e, HI(0));
    kunmap(e, HI(0));
    flush(e);
    page_address(e, HI(0));
    page_address(e, SPECIAL_PFN(14));
}

/* sparc without DEBUG_HIGHMEM: kunmap_atomic only re-enables pagefaults; the PTE stays (a load
 * still translates) until the next kmap_atomic of the slot overwrites and flushes everything. */
static void sparc_nodebug_pte_stays(struct enc *e)
{
    machine(e, "sparc", 4, 2, 0, 16);
    kmap(e, HI(5));
    load(e, CPU(1), RECENT(0, 0));
    kmap_atomic(e, CPU(0), USER1, HI(1));
    store(e, CPU(0), RECENT(0, 1), 11);
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
    load(e, CPU(0), RECENT(0, 1));
    kmap_atomic(e, CPU(0), USER1, HI(2));
    load(e, CPU(0), RECENT(0, 1));
    kunmap_atomic(e, CPU(0), USER1, UA_OTHER_CPU());
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
    atomic_to_page(e, RECENT(0, 0));
    atomic_to_page(e, RECENT(1, 0));
    atomic_to_page(e, SPECIAL_ADDR(SA_NOCACHE));
    atomic_to_page(e, SPECIAL_ADDR(SA_FIXADDR_TOP));
    atomic_to_page(e, SPECIAL_ADDR(SA_FIXADDR_START));
}

/* 2.6.30 need_flush: a flush with nothing to free issues no TLB flush (the cache hook runs). */
static void need_flush(struct enc *e)
{
    machine(e, "ppc", 4, 1, NEED_FLUSH, 16);
    flush(e);
    kmap(e, HI(0));
    flush(e);
    kunmap(e, HI(0));
    flush(e);
    flush(e);
    for (uint32_t k = 1; k < 6; k++)
        kmap(e, HI(k));
}

static void need_flush_x86(struct enc *e)
{
    machine(e, "x86", 2, 2, NEED_FLUSH, 8);
    kmap(e, HI(0));
    load(e, CPU(1), RECENT(0, 0));
    kmap(e, HI(1));
    kmap(e, HI(2));
    kunmap(e, HI(1));
    kmap(e, HI(2));
    kmap(e, HI(3));
    load(e, CPU(1), PKMAP(0, 0));
    load(e, CPU(1), PKMAP(1, 0));
}

/* x86 kunmap_atomic flushes the local TLB only: a CPU that read another CPU's slot keeps a
 * stale translation (spec §9.15: the kernel never does that; the MMU allows it). */
static void x86_stale_remote_tlb(struct enc *e)
{
    machine(e, "x86", 4, 2, 0, 16);
    kmap_atomic(e, CPU(0), USER0, HI(1));
    store(e, CPU(0), RECENT(0, 4), 44);
    load(e, CPU(1), RECENT(0, 4));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    load(e, CPU(1), RECENT(0, 4));
    load(e, CPU(0), RECENT(0, 4));
    kmap_atomic(e, CPU(0), USER0, HI(2));
    load(e, CPU(1), RECENT(0, 4));
    store(e, CPU(1), RECENT(0, 4), 45);
    load(e, CPU(0), RECENT(0, 4));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
}

static void kmap_to_page_regions(struct enc *e)
{
    machine(e, "x86", 8, 1, 0, 16);
    kmap(e, HI(2));
    kmap_atomic(e, CPU(0), USER0, HI(3));
    to_page(e, RECENT(1, 0));
    to_page(e, RECENT(0, 0));
    to_page(e, PKMAP(5, 0));
    to_page(e, DIRECT(LO(1)));
    to_page(e, DIRECT(HI(0)));
    to_page(e, SPECIAL_ADDR(SA_ZERO));
    to_page(e, SPECIAL_ADDR(SA_PKMAP_END));
    to_page(e, SPECIAL_ADDR(SA_FIXADDR_TOP));
    to_page(e, SPECIAL_ADDR(SA_SLOT0));
    to_page(e, SPECIAL_ADDR(SA_HIGH_MEMORY));
}

/* x86 kmap_atomic_to_page hands a pkmap address to virt_to_page (spec §9.20): with the
 * default window and memory the garbage pfn is in range. */
static void kmap_atomic_to_page_x86_quirk(struct enc *e)
{
    machine(e, "x86", DEFAULT, 1, 0, DEFAULT);
    kmap(e, HI(2));
    atomic_to_page(e, RECENT(0, 0));
    to_page(e, RECENT(0, 0));
    kmap_atomic(e, CPU(0), USER1, HI(2));
    atomic_to_page(e, RECENT(0, 0));
    atomic_to_page(e, SPECIAL_ADDR(SA_FIXADDR_START));
    atomic_to_page(e, SPECIAL_ADDR(SA_FIXADDR_TOP));
    atomic_to_page(e, SPECIAL_ADDR(SA_PAGE_OFFSET));
    kunmap(e, HI(2));
    flush(e);
}

static void kmap_atomic_to_page_ppc(struct enc *e)
{
    machine(e, "ppc", 16, 4, 0, 32);
    kmap(e, HI(2));
    kmap_atomic(e, CPU(3), TYPE(e, 14), HI(5));
    atomic_to_page(e, RECENT(0, 0));
    atomic_to_page(e, RECENT(1, 0));
    atomic_to_page(e, SPECIAL_ADDR(SA_FIXADDR_START));
    atomic_to_page(e, SPECIAL_ADDR(13));
    atomic_to_page(e, SPECIAL_ADDR(SA_MAX));
    atomic_to_page(e, DIRECT(LO(1)));                  /* the direct map: virt_to_page */
    atomic_to_page(e, SPECIAL_ADDR(SA_ZERO));          /* below PAGE_OFFSET: refused */
    atomic_to_page(e, PKMAP(1, 0));                    /* virt_to_page garbage, past max_pfn */
    kunmap_atomic(e, CPU(3), TYPE(e, 14), UA_SAME);
    atomic_to_page(e, RECENT(0, 0));
}

static void lowmem_atomic_shortcut(struct enc *e)
{
    machine(e, "ppc", 4, 1, 0, 16);
    kmap_atomic(e, CPU(0), USER0, LO(0));
    kmap_atomic(e, CPU(0), USER0, LO(1));
    store(e, CPU(0), RECENT(0, 1), 5);
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    kunmap_atomic(e, CPU(0), USER0, UA_LOWMEM(2));
    load(e, CPU(0), DIRECT(LO(1)));
    kmap(e, LO(1));
    kunmap(e, LO(1));
}

static void bad_cpu_and_type(struct enc *e)
{
    machine(e, "sparc", 4, 3, 0, 16);
    kmap_atomic(e, BAD_CPU(0), USER0, HI(1));
    kmap_atomic(e, BAD_CPU(7), USER0, HI(1));
    kmap_atomic(e, CPU(2), BAD_TYPE(0), HI(1));
    kmap_atomic_pfn(e, CPU(2), BAD_TYPE(3), HI(1));
    kunmap_atomic(e, BAD_CPU(5), USER0, UA_SAME);
    kunmap_atomic(e, CPU(0), BAD_TYPE(15), UA_SAME);
    load(e, BAD_CPU(0), PKMAP(0, 0));
    store(e, BAD_CPU(1), DIRECT(LO(0)), 1);
}

static void eagain_window_w2(struct enc *e)
{
    machine(e, "x86", 2, 1, 0, 8);
    kmap(e, HI(0));
    kmap(e, HI(1));
    kmap(e, HI(2));
    kmap(e, HI(2));
    kunmap(e, HI(0));
    kmap(e, HI(2));
    kmap(e, HI(0));
    kunmap(e, HI(2));
}

static void default_window_ppc(struct enc *e)
{
    machine(e, "ppc", DEFAULT, 2, 0, 16);
    kmap(e, HI(0));
    kmap(e, HI(1));
    kunmap(e, HI(0));
    flush(e);
    kmap_atomic(e, CPU(1), TYPE(e, 13), HI(2));
    load(e, CPU(0), RECENT(0, 0));
    kunmap_atomic(e, CPU(1), TYPE(e, 13), UA_SAME);
    load(e, CPU(0), RECENT(0, 0));
}

static void default_window_sparc(struct enc *e)
{
    machine(e, "sparc", DEFAULT, 1, DEBUG, DEFAULT);
    kmap(e, END(0));
    kmap(e, HI(0));
    kunmap(e, END(0));
    flush(e);
    kmap(e, END(0));
    atomic_to_page(e, RECENT(0, 0));
}

/* physical memory outlives mappings: a byte stored through one slot is read through another */
static void store_load_pkmap_x86(struct enc *e)
{
    machine(e, "x86", 4, 2, 0, 16);
    kmap(e, HI(3));
    store(e, CPU(0), RECENT(0, 100), 123);
    kunmap(e, HI(3));
    flush(e);
    load(e, CPU(1), PKMAP(1, 100));
    kmap(e, HI(3));
    load(e, CPU(1), RECENT(0, 100));
    kmap_atomic(e, CPU(1), USER0, HI(3));
    load(e, CPU(1), RECENT(0, 100));
    store(e, CPU(1), RECENT(0, 255), 1);
    kunmap_atomic(e, CPU(1), USER0, UA_SAME);
    load(e, CPU(0), RECENT(1, 255));
}

static void multi_cpu_atomic_ppc(struct enc *e)
{
    machine(e, "ppc", 4, 4, 0, 16);
    for (uint32_t c = 0; c < 4; c++)
        kmap_atomic(e, CPU(c), USER0 + (c & 1u), HI(c));
    for (uint32_t c = 0; c < 4; c++)
        load(e, CPU((c + 1u) & 3u), SLOT(c, c & 1u, 0));
    for (uint32_t c = 0; c < 4; c++)
        kunmap_atomic(e, CPU(c), USER0 + (c & 1u), UA_SAME);
    for (uint32_t c = 0; c < 4; c++)
        load(e, CPU(c), SLOT(c, c & 1u, 0));
}

static void pae_window_64(struct enc *e)
{
    machine(e, "x86-pae", 64, 1, 0, 64);
    for (uint32_t k = 0; k < 66; k++)
        kmap(e, HI(k));
    kunmap(e, HI(10));
    kunmap(e, HI(11));
    kmap(e, HI(66));
    kmap(e, HI(67));
    flush(e);
}

static void sparc_window_32(struct enc *e)
{
    machine(e, "sparc", 32, 2, 0, 32);
    for (uint32_t k = 0; k < 34; k++) {
        kmap(e, HI(k));
        if (k & 1u)
            kunmap(e, HI(k));
    }
    kmap(e, HI(1));
    kmap(e, HI(3));
}

static void flush_unused_after_kunmap(struct enc *e)
{
    machine(e, "x86", 8, 1, 0, 16);
    kmap(e, HI(4));
    kmap(e, HI(5));
    kunmap(e, HI(4));
    flush(e);
    page_address(e, HI(4));
    page_address(e, HI(5));
    to_page(e, PKMAP(1, 0));
    kmap(e, HI(4));
}

static void ppc_kunmap_atomic_pkmap_address(struct enc *e)
{
    machine(e, "ppc", 8, 1, 0, 16);
    kmap(e, HI(1));
    kmap_atomic(e, CPU(0), USER1, HI(2));
    kunmap_atomic(e, CPU(0), USER1, UA_PKMAP(1));
    kmap_atomic(e, CPU(0), USER1, HI(3));
    kunmap_atomic(e, CPU(0), USER1, UA_SPECIAL(SA_PKMAP_END));
}

/* typed slots need not be released LIFO (2.6.24 copy_user_highpage) */
static void atomic_non_lifo(struct enc *e)
{
    machine(e, "x86-pae", 4, 1, 0, 16);
    kmap_atomic(e, CPU(0), USER0, HI(1));
    kmap_atomic(e, CPU(0), USER1, HI(2));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
}

static void mixed_kmap_and_atomic_sparc(struct enc *e)
{
    machine(e, "sparc", 8, 2, 0, 16);
    kmap(e, HI(1));
    kmap_atomic(e, CPU(1), USER0, HI(1));
    store(e, CPU(1), RECENT(0, 2), 99);
    load(e, CPU(0), RECENT(1, 2));
    kunmap(e, HI(1));
    kunmap_atomic(e, CPU(1), USER0, UA_SAME);
    flush(e);
    load(e, CPU(0), RECENT(1, 2));
}

static void scatter_addresses(struct enc *e)
{
    machine(e, "x86", 16, 2, DEBUG, 32);
    for (uint32_t s = KADDR_SPECIAL; s < 256u; s += 5u) {
        load(e, CPU(s & 1u), (s << 8) | (s & 0x7fu));
        to_page(e, (s << 8) | 3u);
        atomic_to_page(e, (s << 8) | 9u);
    }
}

static void x86_debug_kunmap_atomic_lowmem(struct enc *e)
{
    machine(e, "x86", 4, 1, DEBUG, 16);
    kmap_atomic(e, CPU(0), USER0, LO(1));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    kmap_atomic(e, CPU(0), USER0, HI(1));
    kunmap_atomic(e, CPU(0), USER0, UA_LOWMEM(0));
    kmap_atomic(e, CPU(0), USER0, HI(1));
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
}

/* in_interrupt(): kunmap BUGs on every highmem arch (lowmem pages too: the check comes
 * first), sparc's kmap BUGs as well, x86's kmap only might_sleep()s (spec §3.2, §5.2). */
static void kunmap_in_interrupt(struct enc *e)
{
    machine(e, "sparc", 4, 1, 0, 16);
    kmap(e, HI(1));
    irq(e, 1);
    kunmap(e, HI(1));
    kunmap(e, LO(1));
    kmap(e, HI(2));
    kmap(e, LO(1));
    kmap_atomic(e, CPU(0), USER0, HI(2));
    kunmap_atomic(e, CPU(0), USER0, UA_SAME);
    irq(e, 0);
    kunmap(e, HI(1));
}

static void kunmap_in_interrupt_x86(struct enc *e)
{
    machine(e, "x86", 4, 1, 0, 16);
    irq(e, 1);
    kmap(e, HI(1));
    kunmap(e, HI(1));
    kunmap(e, SPECIAL_PFN(SP_MAX));
    irq(e, 0);
    kunmap(e, HI(1));
}

/* ---- API probes (KOP_PROBE, KOP_CONFIG) --------------------------------------------------- */
static void probe(struct enc *e, uint32_t kind, uint32_t value)
{
    uint32_t b = kop_byte_of(KOP_PROBE);
    if (++e->nops > KOP_MAX_OPS)
        die("scenario has too many ops");
    byte(e, b);
    byte(e, kind);
    byte(e, value);
}

/* arch byte (KCFG_BAD_DESC + k: broken descriptor k), then indexes into kmap_ops.c's tables */
static void config(struct enc *e, uint32_t arch, uint32_t cpus, uint32_t window, uint32_t highmem,
                   uint32_t what)
{
    if (++e->nops > KOP_MAX_OPS)
        die("scenario has too many ops");
    byte(e, kop_byte_of(KOP_CONFIG));
    byte(e, arch);
    byte(e, cpus);
    byte(e, window);
    byte(e, highmem);
    byte(e, what);
}
/* indexes of cfg_cpus, cfg_windows, cfg_highmem in kmap_ops.c */
enum { CC_0 = 0, CC_1 = 1, CC_4 = 3, CC_64 = 5, CC_65 = 6 };
enum { CW_DEFAULT = 0, CW_2 = 1, CW_1 = 2, CW_3 = 3, CW_4096 = 4, CW_8192 = 5, CW_2048 = 9, CW_HUGE = 11 };
enum { CH_DEFAULT = 0, CH_16 = 1, CH_X86_MAX = 2, CH_PAE_MAX = 4, CH_PPC_MAX = 6, CH_SPARC_MAX = 8,
       CH_ALL = 10, CH_X86_WRAP = 11 };
#define CFG_DEBUG 0x10u
#define CFG_NEED_FLUSH 0x20u

static void api_null_arguments(struct enc *e)
{
    machine(e, "x86", 4, 2, 0, 16);
    kmap(e, HI(1));
    for (uint32_t v = 0; v < 8; v++)
        probe(e, KPROBE_NULL_OUT, v);             /* pfn byte v: lowmem, then highmem pages */
    probe(e, KPROBE_NULL_OUT, 16 + 7);            /* page_address of a highmem page, NULL out */
    probe(e, KPROBE_NULL_CTX, 0);
    probe(e, KPROBE_NULL_CTX, 1);                 /* never initialised storage */
    probe(e, KPROBE_GETTERS_NULL, 0);
    probe(e, KPROBE_GETTERS_NULL, 1);
    probe(e, KPROBE_STATS, 0);
    kunmap(e, HI(1));
    kunmap(e, HI(1));                             /* a real bug, counted by the stats */
    probe(e, KPROBE_STATS, 0);
}

static void api_getters(struct enc *e, const char *arch, uint32_t window)
{
    machine(e, arch, window, 2, 0, 16);
    kmap(e, HI(1));
    kmap(e, HI(2));
    kmap(e, HI(3));
    kunmap(e, HI(2));
    for (uint32_t v = 0; v < 8; v++)
        probe(e, KPROBE_GETTERS, v * 33u + 1u);
    probe(e, KPROBE_GETTERS, HI(1));
    probe(e, KPROBE_GETTERS, HI(3));
    probe(e, KPROBE_GETTERS, END(7));
    probe(e, KPROBE_GETTERS, SPECIAL_PFN(SP_MAX));
    probe(e, KPROBE_GETTERS, SPECIAL_PFN(SP_ZERO));
}
static void api_getters_x86(struct enc *e) { api_getters(e, "x86", 4); }
static void api_getters_pae(struct enc *e) { api_getters(e, "x86-pae", 8); }
static void api_getters_ppc(struct enc *e) { api_getters(e, "ppc", 16); }
static void api_getters_sparc(struct enc *e) { api_getters(e, "sparc", 4); }
static void api_getters_generic(struct enc *e) { api_getters(e, "generic", 4); }

static void api_names_and_registry(struct enc *e)
{
    machine(e, "ppc", 4, 1, 0, 16);
    for (uint32_t v = 0; v < 20; v++)
        probe(e, KPROBE_NAMES, v);
    for (uint32_t v = 0; v < 13; v++)
        probe(e, KPROBE_REGISTRY, v);
    probe(e, KPROBE_REGISTRY, 13 * 5 + 5);        /* hm_arch_at(5) and (6): NULL */
    probe(e, KPROBE_REGISTRY, 13 * 6 + 6);
}

static void api_invariant_messages(struct enc *e)
{
    machine(e, "sparc", 8, 1, 0, 16);
    kmap(e, HI(1));
    const uint32_t lens[] = {0, 1, 2, 3, 4, 5, 10, 33, 39};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        probe(e, KPROBE_INVARIANTS, lens[i]);       /* a NULL context */
        probe(e, KPROBE_INVARIANTS, 64u + lens[i]); /* never initialised storage */
    }
    probe(e, KPROBE_INVARIANTS, 128u + 16u);        /* this context without a buffer */
}

/* Config probes, split so that no seed is long (libFuzzer's length limit starts from the
 * longest input of the corpus). */
static void config_probes_archs(struct enc *e)
{
    machine(e, "x86", 4, 1, 0, 16);
    /* every arch's own config, each hm_ctx_init case */
    for (uint32_t a = 0; a < KOP_NR_ARCHES; a++)
        for (uint32_t w = 0; w < KCFG_INIT__COUNT; w++)
            config(e, a, a == 0 ? CC_0 : CC_4, CW_DEFAULT, CH_DEFAULT, w);
    config(e, 0, CC_64, CW_4096, CH_16, KCFG_INIT_OK | CFG_DEBUG);
    config(e, 1, CC_65, CW_DEFAULT, CH_DEFAULT, KCFG_INIT_OK);           /* too many CPUs */
    config(e, 4, CC_1, CW_3, CH_ALL, KCFG_INIT_NO_SET_PTE);              /* generic ignores both */
}

/* bad windows, max_pfn overflows and each arch's physical limits, on arch a */
static void config_probes_limits(struct enc *e, uint32_t a)
{
    machine(e, "x86", 4, 1, 0, 16);
    config(e, a, CC_1, CW_1, CH_16, KCFG_INIT_OK);
    config(e, a, CC_1, CW_3, CH_16, KCFG_INIT_SHORT);
    config(e, a, CC_1, CW_8192, CH_16, KCFG_INIT_OK);
    config(e, a, CC_1, CW_HUGE, CH_16, KCFG_INIT_OK);
    config(e, a, CC_1, CW_2048, CH_16, KCFG_INIT_OK);                     /* ppc, sparc: too big */
    config(e, a, CC_1, CW_4096, CH_16, KCFG_INIT_NO_SET_PTE);
    config(e, a, CC_1, CW_2, CH_ALL, KCFG_INIT_OK);                       /* max_pfn overflows */
    config(e, a, CC_1, CW_2, CH_X86_WRAP, KCFG_INIT_OK);
    for (uint32_t h = CH_X86_MAX; h <= CH_SPARC_MAX + 1u; h++)            /* physical limits */
        config(e, a, CC_1, CW_2, h, KCFG_INIT_OK);
}
static void config_probes_x86(struct enc *e) { config_probes_limits(e, 0); }
static void config_probes_pae(struct enc *e) { config_probes_limits(e, 1); }
static void config_probes_ppc(struct enc *e) { config_probes_limits(e, 2); }
static void config_probes_sparc(struct enc *e) { config_probes_limits(e, 3); }

static void config_probes_descriptors(struct enc *e)
{
    machine(e, "x86", 4, 1, 0, 16);
    /* broken descriptors: byte KCFG_BAD_DESC + kind + 10 * a breaks hm_arch_at(a) */
    for (uint32_t k = 0; k < 10; k++)
        config(e, KCFG_BAD_DESC + k + 10u * (k % 5u), CC_1, CW_DEFAULT, CH_DEFAULT, KCFG_INIT_OK);
    config(e, KCFG_BAD_DESC + 7u, CC_1, CW_DEFAULT, CH_DEFAULT, KCFG_INIT_OK);         /* x86: no vmalloc room */
    config(e, KCFG_BAD_DESC + 7u + 10u, CC_1, CW_DEFAULT, CH_DEFAULT, KCFG_INIT_OK);   /* x86-pae: intact */
    config(e, KCFG_BAD_DESC + 8u + 10u * 2u, CC_1, CW_2, CH_DEFAULT, KCFG_INIT_OK);    /* names a window */
    config(e, KCFG_BAD_DESC + 9u + 10u * 3u, CC_1, CW_DEFAULT, CH_16, KCFG_INIT_OK);   /* names highmem */
    config(e, KCFG_BAD_DESC + 8u, CC_1, CW_DEFAULT, CH_DEFAULT, KCFG_INIT_OK);         /* needs the default */
    config(e, KCFG_BAD_DESC + 9u + 10u * 4u, CC_1, CW_DEFAULT, CH_DEFAULT, KCFG_INIT_OK); /* generic: unused */
    config(e, KCFG_BAD_DESC + 9u, CC_1, CW_DEFAULT, CH_DEFAULT, KCFG_INIT_OK);         /* needs the default */
    kmap(e, HI(1));
}

/* ---- the embedder writes a pkmap PTE behind the library's back (KOP_POKE) ------------------ */
static void poke(struct enc *e, uint32_t slot, uint32_t pfn_byte)
{
    if (++e->nops > KOP_MAX_OPS)
        die("scenario has too many ops");
    byte(e, kop_byte_of(KOP_POKE));
    byte(e, slot);
    byte(e, pfn_byte);
}
#define POKE_NONE 0u
/* pfn bytes for poke: decode_pfn(b) = hs - 2 + b % (hp + 4) with hp = 16 */
static uint32_t poke_hi(uint32_t k)
{
    /* the smallest byte >= KPOKE_NONE whose decode_pfn is highmem page k (hp = 16: period 20) */
    uint32_t b = KPOKE_NONE;
    while (b % 20u != (k + 2u) % 20u)
        b++;
    return b;
}
static uint32_t poke_lo(void)
{
    uint32_t b = KPOKE_NONE;
    while (b % 20u != 0u)
        b++;
    return b; /* hs - 2: a lowmem page */
}

static void poke_clear_used_slot(struct enc *e)
{
    machine(e, "x86", 4, 1, 0, 16);
    kmap(e, HI(1));                 /* slot 1, count 2 */
    poke(e, 1, POKE_NONE);          /* I3: in use, PTE none */
    probe(e, KPROBE_INVARIANTS, 39);
    to_page(e, PKMAP(1, 0));        /* NOT_MAPPED */
    kunmap(e, HI(1));               /* count 1 */
    flush(e);                       /* FLUSH_PTE_NONE, nothing changes */
    kmap(e, HI(2));
    kmap(e, HI(3));
    kmap(e, HI(4));                 /* wraps: the flush BUGs inside kmap */
    poke(e, 1, poke_hi(1));         /* repaired */
    flush(e);
    kmap(e, HI(4));
}

static void poke_free_slot(struct enc *e)
{
    machine(e, "ppc", 4, 2, 0, 16);
    poke(e, 2, poke_hi(5));         /* I2: a free slot with a PTE */
    probe(e, KPROBE_INVARIANTS, 39);
    load(e, CPU(1), PKMAP(2, 3));   /* the hardware uses it */
    kmap(e, HI(5));                 /* slot 1 */
    kmap(e, HI(6));                 /* slot 2: stale TLB of cpu 1 */
    load(e, CPU(1), PKMAP(2, 3));
    poke(e, 3, poke_hi(7));
    poke(e, 3, POKE_NONE);
    flush(e);
}

static void poke_lowmem_into_count1(struct enc *e)
{
    machine(e, "x86", 4, 1, 0, 16);
    kmap(e, HI(1));
    kunmap(e, HI(1));               /* slot 1, count 1 */
    poke(e, 1, poke_lo());          /* I3: not a highmem page */
    probe(e, KPROBE_INVARIANTS, 39);
    flush(e);                       /* SET_ADDR_LOWMEM; HI(1) keeps a record of a free slot */
    probe(e, KPROBE_GETTERS, HI(1));
    kmap(e, HI(1));                 /* KMAP_COUNT */
    kunmap(e, HI(1));               /* KUNMAP_ZERO */
    kmap(e, HI(2));
    kmap(e, HI(3));
    kmap(e, HI(4));                 /* every record used */
    kmap(e, HI(5));                 /* a free slot but an empty pool: POOL_EMPTY */
    kmap(e, HI(6));
}

static void poke_other_page_into_count1(struct enc *e)
{
    machine(e, "sparc", 4, 1, 0, 16);
    kmap(e, HI(1));                 /* slot 1 */
    kmap(e, HI(2));                 /* slot 2 */
    kunmap(e, HI(2));               /* count 1 */
    poke(e, 2, poke_hi(1));         /* I3: page_address(HI(1)) is slot 1 */
    flush(e);                       /* clears slot 1's PTE, unhashes HI(1) */
    kunmap(e, HI(1));               /* KUNMAP_UNMAPPED */
    kmap(e, HI(2));                 /* KMAP_COUNT */
    kmap(e, HI(3));                 /* slot 3 */
    kmap(e, HI(4));                 /* wraps: FLUSH_PTE_NONE? slot 1 has count 2 */
    kmap(e, HI(5));
    poke(e, 1, poke_hi(9));         /* an unmapped page: the flush falls back to the slot itself */
    kunmap(e, HI(3));
    flush(e);
    kmap(e, HI(6));
    kmap(e, HI(7));
}

static void poke_two_records_one_slot(struct enc *e)
{
    machine(e, "x86", 4, 1, 0, 16);
    kmap(e, HI(1));                 /* slot 1 */
    kunmap(e, HI(1));               /* count 1 */
    poke(e, 1, poke_hi(8));         /* a page with no record */
    flush(e);                       /* slot 1 freed under HI(1)'s record */
    probe(e, KPROBE_INVARIANTS, 39);
    kmap(e, HI(2));                 /* slot 2 */
    kunmap(e, HI(2));
    kmap(e, HI(3));                 /* slot 3 */
    kmap(e, HI(4));                 /* wraps, frees slot 2: slot 0 */
    kmap(e, HI(5));                 /* slot 1 again: two records for one slot */
    probe(e, KPROBE_INVARIANTS, 39);
    kmap(e, HI(1));                 /* the stale record shares slot 1 */
    kunmap(e, HI(5));
    kunmap(e, HI(1));
    flush(e);
}

/* Configs whose hm_ctx_init succeeds run a short script on a machine with page tables and no
 * other hook (kmap_ops.c mini_run); CPU counts above each arch's NR_CPUS; no get_pte. */
static void config_no_hook_machines(struct enc *e)
{
    machine(e, "generic", 4, 1, 0, 16);
    for (uint32_t a = 0; a < 4; a++) {
        config(e, a, CC_64, CW_2, CH_16, KCFG_INIT_OK);
        config(e, a, CC_4, 10 /* 64 slots */, CH_16, KCFG_INIT_OK | CFG_DEBUG);
        config(e, a, CC_1, CW_2, CH_16, KCFG_INIT_OK | CFG_NEED_FLUSH);
        config(e, a, CC_1, CW_2, CH_16, KCFG_INIT_NO_SET_PTE | 0x40u); /* get_pte missing */
    }
    config(e, 4, CC_64, CW_DEFAULT, CH_DEFAULT, KCFG_INIT_NO_SET_PTE | 0x40u);
}

/* Region edges: an address above ppc's page-table window, a pkmap address given to x86's
 * kunmap_atomic with DEBUG_HIGHMEM, I2 reported for a two-digit slot. */
static void region_edges(struct enc *e)
{
    machine(e, "ppc", 16, 1, 0, 16);
    to_page(e, SPECIAL_ADDR(SA_MAX));
    poke(e, 12, poke_hi(3));
    probe(e, KPROBE_INVARIANTS, 39);
    poke(e, 12, POKE_NONE);
    kmap(e, HI(1));
    kunmap(e, HI(1));
    poke(e, 1, END(7) + 0u);        /* max_pfn - 1 ... */
    poke(e, 1, KPFN_TOP + 9u);      /* ... and max_pfn + 1: no page at all */
    probe(e, KPROBE_INVARIANTS, 39);
    to_page(e, PKMAP(1, 0));
    load(e, CPU(0), PKMAP(1, 5));
    flush(e);
}

static void x86_debug_kunmap_atomic_pkmap(struct enc *e)
{
    machine(e, "x86", 4, 1, DEBUG, 16);
    kmap(e, HI(1));
    kmap_atomic(e, CPU(0), USER0, HI(2));
    kunmap_atomic(e, CPU(0), USER0, UA_PKMAP(1));  /* neither the slot nor lowmem: BUG */
    kunmap_atomic(e, CPU(0), USER0, UA_LOWMEM(3)); /* lowmem: ignored, pagefaults enabled */
    kmap_atomic(e, CPU(0), USER1, HI(3));
    kunmap_atomic(e, CPU(0), USER1, UA_SPECIAL(SA_ZERO)); /* below PAGE_OFFSET: BUG */
    kunmap_atomic(e, CPU(0), USER1, UA_SAME);
    kunmap(e, HI(1));
}

/* Two pages in one page_address bucket while hm_check_invariants walks it (the I5 scan). */
static void hash_bucket_collision_checked(struct enc *e)
{
    machine(e, "x86", 8, 1, 0, DEFAULT);
    kmap(e, HI(0));
    kmap(e, SPECIAL_PFN(14));       /* hs + hp/2: the same bucket as hs */
    probe(e, KPROBE_INVARIANTS, 39);
    probe(e, KPROBE_GETTERS, HI(0));
    kunmap(e, HI(0));
    flush(e);
    probe(e, KPROBE_INVARIANTS, 39);
}

struct scenario {
    const char *name;
    void (*build)(struct enc *e);
};

static const struct scenario scenarios[] = {
    {"fill-window-x86-w4", fill_window_x86_w4},
    {"wrap-and-flush-ppc", wrap_and_flush_ppc},
    {"count1-reuse-sparc", count1_reuse_sparc},
    {"double-kunmap", double_kunmap},
    {"kunmap-never-mapped", kunmap_never_mapped},
    {"pfn-out-of-range", pfn_out_of_range},
    {"nested-atomic-same-slot", nested_atomic_same_slot},
    {"nested-atomic-same-slot-ppc", nested_atomic_same_slot_ppc},
    {"wrong-atomic-slot", wrong_atomic_slot},
    {"wrong-atomic-slot-x86", wrong_atomic_slot_x86},
    {"kunmap-atomic-unbalanced", kunmap_atomic_unbalanced},
    {"kmap-atomic-pfn-x86", kmap_atomic_pfn_x86},
    {"kmap-atomic-pfn-ppc", kmap_atomic_pfn_ppc},
    {"pae-above-4g", pae_above_4g},
    {"generic-everything", generic_everything},
    {"debug-highmem-x86-fences", debug_highmem_x86_fences},
    {"sparc-debug-unmap", sparc_debug_unmap},
    {"sparc-nodebug-pte-stays", sparc_nodebug_pte_stays},
    {"need-flush", need_flush},
    {"need-flush-x86", need_flush_x86},
    {"x86-stale-remote-tlb", x86_stale_remote_tlb},
    {"kmap-to-page-regions", kmap_to_page_regions},
    {"kmap-atomic-to-page-x86-quirk", kmap_atomic_to_page_x86_quirk},
    {"kmap-atomic-to-page-ppc", kmap_atomic_to_page_ppc},
    {"lowmem-atomic-shortcut", lowmem_atomic_shortcut},
    {"bad-cpu-and-type", bad_cpu_and_type},
    {"eagain-window-w2", eagain_window_w2},
    {"default-window-ppc", default_window_ppc},
    {"default-window-sparc-debug", default_window_sparc},
    {"store-load-pkmap-x86", store_load_pkmap_x86},
    {"multi-cpu-atomic-ppc", multi_cpu_atomic_ppc},
    {"pae-window-64", pae_window_64},
    {"sparc-window-32", sparc_window_32},
    {"flush-unused-after-kunmap", flush_unused_after_kunmap},
    {"ppc-kunmap-atomic-pkmap-address", ppc_kunmap_atomic_pkmap_address},
    {"atomic-non-lifo", atomic_non_lifo},
    {"mixed-kmap-and-atomic-sparc", mixed_kmap_and_atomic_sparc},
    {"scatter-addresses", scatter_addresses},
    {"x86-debug-kunmap-atomic-lowmem", x86_debug_kunmap_atomic_lowmem},
    {"kunmap-in-interrupt-sparc", kunmap_in_interrupt},
    {"sparc-lowmem", sparc_lowmem},
    {"hash-bucket-collision", hash_bucket_collision},
    {"kunmap-in-interrupt-x86", kunmap_in_interrupt_x86},
    {"api-null-arguments", api_null_arguments},
    {"api-getters-x86", api_getters_x86},
    {"api-getters-x86-pae", api_getters_pae},
    {"api-getters-ppc", api_getters_ppc},
    {"api-getters-sparc", api_getters_sparc},
    {"api-getters-generic", api_getters_generic},
    {"api-names-and-registry", api_names_and_registry},
    {"api-invariant-messages", api_invariant_messages},
    {"config-probes-archs", config_probes_archs},
    {"config-probes-x86", config_probes_x86},
    {"config-probes-x86-pae", config_probes_pae},
    {"config-probes-ppc", config_probes_ppc},
    {"config-probes-sparc", config_probes_sparc},
    {"config-probes-descriptors", config_probes_descriptors},
    {"hash-bucket-collision-checked", hash_bucket_collision_checked},
    {"config-no-hook-machines", config_no_hook_machines},
    {"region-edges", region_edges},
    {"x86-debug-kunmap-atomic-pkmap", x86_debug_kunmap_atomic_pkmap},
    {"poke-clear-used-slot", poke_clear_used_slot},
    {"poke-free-slot", poke_free_slot},
    {"poke-lowmem-into-count1", poke_lowmem_into_count1},
    {"poke-other-page-into-count1", poke_other_page_into_count1},
    {"poke-two-records-one-slot", poke_two_records_one_slot},
};

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "fuzz/corpus/kmap_ops";
    static struct enc e;

    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        char path[1024];
        FILE *f;
        uint8_t tail[5];

        scenarios[i].build(&e);
        /* the machine bytes, read back to front: arch is the last byte of the file */
        tail[0] = e.highmem;
        tail[1] = e.flags;
        tail[2] = e.cpus;
        tail[3] = e.window;
        tail[4] = e.arch;
        snprintf(path, sizeof path, "%s/%s", dir, scenarios[i].name);
        f = fopen(path, "wb");
        if (!f || fwrite(e.ops, 1, e.n, f) != e.n || fwrite(tail, 1, sizeof tail, f) != sizeof tail ||
            fclose(f) != 0)
            die(path);
        printf("%s (%zu bytes)\n", path, e.n + sizeof tail);
    }
    return 0;
}
