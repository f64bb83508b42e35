/* kmap_ops.h - the input encoding of kmap_ops, shared by its decoder (kmap_ops.c) and the seed
 * generator (gen_seeds.c) so the two cannot drift apart.
 * SPDX-License-Identifier: MIT */
#ifndef HM_FUZZ_KMAP_OPS_H
#define HM_FUZZ_KMAP_OPS_H

#include <stdint.h>

/* ---------------------------------------------------------------------------------------
 * The machine: five values from the END of the input, each one byte, read in this order
 * (so the last byte of the file is the arch):
 *   arch      fz_back_range(0, 4)    index for hm_arch_at(): x86, x86-pae, ppc, sparc, generic
 *   window    fz_back_range(0, 15)   kop_window(): LAST_PKMAP, 0 = the arch's own
 *   cpus      fz_back_range(1, 4)
 *   flags     fz_back_range(0, 3)    bit 0 debug_highmem, bit 1 need_flush
 *   highmem   fz_back_range(0, 7)    kop_highmem(): highmem_pages, 0 = the arch's default
 * ------------------------------------------------------------------------------------- */
#define KOP_NR_ARCHES 5u
#define KOP_NR_WINDOWS 16u
#define KOP_NR_HIGHMEM 8u
#define KOP_FLAG_DEBUG 1u
#define KOP_FLAG_NEED_FLUSH 2u

static inline uint32_t kop_window(uint32_t i)
{
    /* mostly small powers of two, sometimes 32/64, sometimes the arch's own (1024 / 512) */
    static const uint32_t w[KOP_NR_WINDOWS] = {4, 2, 4, 8, 8, 16, 4, 8, 2, 16, 4, 8, 32, 64, 16, 0};
    return w[i % KOP_NR_WINDOWS];
}

static inline uint32_t kop_highmem(uint32_t i)
{
    static const uint32_t h[KOP_NR_HIGHMEM] = {16, 8, 16, 32, 32, 64, 24, 0};
    return h[i % KOP_NR_HIGHMEM];
}

/* ---------------------------------------------------------------------------------------
 * Operations, from the front: one opcode byte (kop_of_byte), then the operand bytes of that
 * op, also from the front. Zero once the input is exhausted (the last op may be cut short).
 * ------------------------------------------------------------------------------------- */
enum kop {
    KOP_KMAP,                /* pfn */
    KOP_KUNMAP,              /* pfn */
    KOP_FLUSH,               /* - */
    KOP_KMAP_ATOMIC,         /* cpu, type, pfn */
    KOP_KUNMAP_ATOMIC,       /* cpu, type, kunmap-address */
    KOP_KMAP_ATOMIC_PFN,     /* cpu, type, pfn */
    KOP_LOAD,                /* cpu, address (2 bytes) */
    KOP_STORE,               /* cpu, address (2 bytes), value */
    KOP_KMAP_TO_PAGE,        /* address (2 bytes) */
    KOP_KMAP_ATOMIC_TO_PAGE, /* address (2 bytes) */
    KOP_PAGE_ADDRESS,        /* pfn */
    KOP_IRQ,                 /* on/off (bit 0): in_interrupt() as the sim reports it */
    KOP_PROBE,               /* probe kind, value: the rest of the public API (kmap_ops.c) */
    KOP_CONFIG,              /* arch, cpus, window, highmem, what: hm_layout_compute,
                              * hm_ctx_size, hm_ctx_init on another (maybe invalid) config */
    KOP_POKE,                /* slot, pfn: the embedder writes the PTE of a pkmap slot itself
                              * (pfn byte < KPOKE_NONE: a none PTE; else a pfn below
                              * max_pfn + 8, decode_pfn's folded into range) */
    KOP__COUNT
};

/* Opcode bytes from KOP_EXT_BASE up select the API probes: KOP_EXT_BASE..KOP_EXT_CONFIG - 1
 * KOP_PROBE, ..KOP_EXT_POKE - 1 KOP_CONFIG, the rest KOP_POKE. Below, the byte goes through the
 * table (b % 32). */
#define KOP_EXT_BASE 224u
#define KOP_EXT_CONFIG 244u
#define KOP_EXT_POKE 250u
#define KPOKE_NONE 32u

/* Probe kinds (the first operand byte modulo KPROBE__COUNT). */
enum kprobe {
    KPROBE_NULL_OUT,     /* every call taking an out pointer, with NULL: BUG BAD_ARG (value: which) */
    KPROBE_NULL_CTX,     /* every call with a NULL context: EINVAL, nothing reported */
    KPROBE_GETTERS_NULL, /* every inspection call with a NULL context */
    KPROBE_GETTERS,      /* the inspection calls and PTE codec on this context (value: pfn, index) */
    KPROBE_NAMES,        /* hm_strerror, hm_bug_name, hm_event_name (value: the number) */
    KPROBE_REGISTRY,     /* hm_arch_find, hm_arch_at, hm_arch_name (value: which name) */
    KPROBE_INVARIANTS,   /* hm_check_invariants on this context (value bit 7: no buffer) and on a
                          * NULL (bit 6 clear) or never initialised one; value % 40: buffer length */
    KPROBE_STATS,        /* hm_get_stats: bug counters against the bug hook's reports */
    KPROBE__COUNT
};

#define KOP_TABLE_SIZE 32u
static inline int kop_of_byte(uint8_t b)
{
    if (b >= KOP_EXT_BASE)
        return b < KOP_EXT_CONFIG ? KOP_PROBE : b < KOP_EXT_POKE ? KOP_CONFIG : KOP_POKE;
    static const uint8_t t[KOP_TABLE_SIZE] = {
        KOP_KMAP, KOP_KUNMAP, KOP_FLUSH, KOP_KMAP_ATOMIC, KOP_KUNMAP_ATOMIC, KOP_KMAP_ATOMIC_PFN,
        KOP_LOAD, KOP_STORE, KOP_KMAP_TO_PAGE, KOP_KMAP_ATOMIC_TO_PAGE, KOP_PAGE_ADDRESS,
        /* 11..31: the weights */
        KOP_KMAP, KOP_KMAP, KOP_KMAP, KOP_KMAP, KOP_KMAP, KOP_KUNMAP, KOP_KUNMAP, KOP_KUNMAP,
        KOP_IRQ, KOP_FLUSH, KOP_KMAP_ATOMIC, KOP_KMAP_ATOMIC, KOP_KMAP_ATOMIC, KOP_KUNMAP_ATOMIC,
        KOP_KUNMAP_ATOMIC, KOP_KUNMAP_ATOMIC, KOP_KMAP_ATOMIC_PFN, KOP_LOAD, KOP_LOAD, KOP_STORE,
        KOP_STORE};
    return t[b % KOP_TABLE_SIZE];
}

/* The first byte value whose opcode is op (the encoder's choice). */
static inline uint8_t kop_byte_of(int op)
{
    for (unsigned b = 0; b < 256u; b++)
        if (kop_of_byte((uint8_t)b) == op)
            return (uint8_t)b;
    return 0;
}

/* KOP_CONFIG operands. arch byte: < KCFG_BAD_DESC: hm_arch_at(b % 5); else, by
 * (b - KCFG_BAD_DESC) % 10, a NULL arch or a copy of hm_arch_at((b - KCFG_BAD_DESC) / 10 % 5)
 * with one field broken
 * (kmap_ops.c), 6: an intact copy, 7: x86 (no PAE) with too much lowmem (other arches: intact), 8/9: no
 * default window / highmem size. The next three bytes index kmap_ops.c's tables; the last one:
 * bits 0-3 modulo KCFG_INIT__COUNT pick the hm_ctx_init call (KCFG_INIT_*), bit 4
 * debug_highmem, bit 5 need_flush, bit 6 (KCFG_INIT_NO_SET_PTE) get_pte missing instead. */
#define KCFG_BAD_DESC 200u
#define KCFG_NR_CPUS 8u
#define KCFG_NR_WINDOWS 12u
#define KCFG_NR_HIGHMEM 12u
enum { KCFG_INIT_OK, KCFG_INIT_NULL_MEM, KCFG_INIT_MISALIGNED, KCFG_INIT_SHORT, KCFG_INIT_NO_SET_PTE,
       KCFG_INIT_NULL_ARGS, KCFG_INIT__COUNT };

/* ---------------------------------------------------------------------------------------
 * Operand bytes. hs = highmem_start_pfn, hp = max_pfn - hs, S = LAST_PKMAP.
 * ------------------------------------------------------------------------------------- */
/* pfn (one byte b):
 *   b <  KPFN_TOP:     hs - 2 + b % (min(hp, KPFN_NEAR) + 4)   two lowmem pages, the first
 *                      highmem pages, and (small machines) max_pfn, max_pfn + 1
 *   b <  KPFN_SPECIAL: max_pfn - 8 + (b - KPFN_TOP)            the last pages and past the end
 *   else:              special pfn number b - KPFN_SPECIAL (see kmap_ops.c: 0, 1, hs/2, hs - 1,
 *                      hs, hs + 1, max_pfn - 1, max_pfn, max_pfn + 1, 4 GiB, 2^20 - 1, 2^24,
 *                      2^31 - 1, 2^32 - 1, hs + hp/2, 2) */
#define KPFN_NEAR 64u
#define KPFN_TOP 224u
#define KPFN_SPECIAL 240u

/* cpu (one byte b): b < KCPU_BAD: b % nr_cpus; else a bad cpu (nr_cpus, nr_cpus+1, 4, 7, 63,
 * 64, 1000, 2^32 - 1). */
#define KCPU_BAD 248u

/* km_type index (one byte b): b < KTYPE_USER: KM_USER0 + (b & 1) (3 or 4);
 * b < KTYPE_BAD: b % nr_km_types; else the bad index nr_km_types + (b - KTYPE_BAD). */
#define KTYPE_USER 128u
#define KTYPE_BAD 240u

/* address for load/store/kmap_to_page/kmap_atomic_to_page (two bytes s, o):
 *   s < KADDR_PKMAP:   recent address (s % 8): 0 = the last one kmap/kmap_atomic returned,
 *                      1 = the one before, ... (PKMAP_ADDR(s % 8 % S) when there are fewer),
 *                      + o bytes
 *   s < KADDR_SLOT:    PKMAP_ADDR((s - KADDR_PKMAP) % (S + 1)) + o
 *   s < KADDR_DIRECT:  atomic slot of x = s - KADDR_SLOT: cpu (x & 3) % nr_cpus, type
 *                      kop_small_type(x >> 2), + o
 *   s < KADDR_SPECIAL: the direct-map address of pfn(o) + (s - KADDR_DIRECT) * 16
 *   s < KADDR_SCATTER: special address (s - KADDR_SPECIAL) % 16 (kmap_ops.c), + o if
 *                      s - KADDR_SPECIAL >= 16
 *   else:              0xc0000000 + (s - KADDR_SCATTER) * 0x01555000 + (o << 12) */
#define KADDR_PKMAP 80u
#define KADDR_SLOT 112u
#define KADDR_DIRECT 144u
#define KADDR_SPECIAL 176u
#define KADDR_SCATTER 208u

static inline uint32_t kop_small_type(uint32_t i)
{
    static const uint8_t t[8] = {3, 4, 3, 4, 0, 9, 12, 1};
    return t[i & 7u];
}

/* kunmap_atomic address (one byte a):
 *   a < KUA_OTHER:   what the last successful kmap_atomic of this (cpu, type) returned (the
 *                    slot's own address if none) + (a & 7) * 512
 *   a < KUA_LOWMEM:  another slot: (cpu, type ^ 1) if a is odd, else (cpu + 1, type)
 *   a < KUA_PKMAP:   a lowmem address, PAGE_OFFSET + (a - KUA_LOWMEM) pages
 *   a < KUA_SPECIAL: PKMAP_ADDR((a - KUA_PKMAP) % S)
 *   else:            special address a - KUA_SPECIAL */
#define KUA_OTHER 128u
#define KUA_LOWMEM 160u
#define KUA_PKMAP 192u
#define KUA_SPECIAL 224u

/* Special addresses (index 0..15), from the machine's layout: 0, PAGE_OFFSET, high_memory - 1,
 * high_memory, PKMAP_BASE - 1, PKMAP_ADDR(S), atomic slot idx 0, FIXADDR_START (ppc: slot 0
 * - 1), FIXADDR_TOP, FIXADDR_TOP - 1, 0xffffffff, 0xfc000000 (sparc nocache pool), the page
 * before atomic idx 0, the first slot past the simulated CPUs, atomic idx 6 (an x86 debug
 * fence), the last page of the page-table window. */
#define KADDR_NR_SPECIAL 16u

#define KOP_MAX_OPS 256u

#endif /* HM_FUZZ_KMAP_OPS_H */
