/* kmap_ops.h - the input encoding of kmap_ops (enum fuzz_op, FOP_*: byte-level ops, not the trace
 * language's KOP_*), shared by its decoder (decode.c) and the seed encoder (gen_seeds.c).
 * SPDX-License-Identifier: MIT */
#ifndef HM_FUZZ_KMAP_OPS_H
#define HM_FUZZ_KMAP_OPS_H

#include <stdint.h>

#include "highmem.h" /* enum hm_kernel */

/* ---------------------------------------------------------------------------------------
 * The machine: five values from the END of the input, each one byte, read in this order
 * (so the last byte of the file is the arch), then a sixth one where the flags ask for it:
 *   arch      fz_back_range(0, 4)    index for hm_arch_at(): x86, x86-pae, ppc, sparc, generic
 *   window    fz_back_range(0, 15)   fop_window(): LAST_PKMAP, 0 = the arch's own
 *   cpus      fz_back_range(1, 4)
 *   flags     fz_back_range(0, 255)  bit 0 debug_highmem, bit 1 need_flush; bits 4-7 equal to
 *                                    FOP_FLAG_EXT: the extension byte follows; bits 2-3 and
 *                                    any other high nibble are ignored
 *   highmem   fz_back_range(0, 7)    fop_highmem(): highmem_pages, 0 = the arch's default
 *   ext       fz_back_range(0, 255), only when the flags' high nibble is FOP_FLAG_EXT: bits
 *                                    0-1 the kernel generation, fop_kernel(); bits 2-3 the
 *                                    arch of the registry's second part, fop_ext_arch(): 0 =
 *                                    the arch byte's (as before), 1 arm, 2 arm-vipt, 3 xtensa
 *                                    (hm_arch_at 5, 6, 7; the arch byte is then ignored);
 *                                    bit 4 (FOP_EXT_CACHE) the sim's data cache model, on
 *                                    the arches whose cache aliases (sparc, arm, xtensa;
 *                                    ignored elsewhere); bits 5-7 are ignored (reserved: 0
 *                                    must keep this meaning)
 * An input with the extension byte also decodes its opcodes with the extended table
 * (fop_of_byte_ext: the ops of 2.6.30 and 5.11), in every generation, 2.6.24 included.
 *
 * Why this way: every byte of the five had a meaning or was ignored, and campaign inputs of
 * the committed corpus set the ignored bits of the flags byte (values 4 to 253), never with
 * the high nibble 8 (0x80-0x8f: checked over fuzz/corpus/kmap_ops when the extension was
 * made). Reading the ext byte only behind that marker, and the extended opcode table only
 * with it, leaves every committed input decoding as before (the fuzz regressions and
 * HM_FUZZ_DIGEST of each input unchanged); the flags byte's bits 0-1 read as before
 * (fz_back_range(0, 3) and (0, 255) both take one byte, and b % 4 == b & 3).
 * ------------------------------------------------------------------------------------- */
#define FOP_NR_ARCHES 5u
#define FOP_NR_WINDOWS 16u
#define FOP_NR_HIGHMEM 8u
#define FOP_FLAG_DEBUG 1u
#define FOP_FLAG_NEED_FLUSH 2u
#define FOP_FLAG_EXT 0x80u      /* the flags byte's high nibble that announces the ext byte */
#define FOP_FLAG_EXT_MASK 0xf0u
#define FOP_NR_KERNELS 4u
#define FOP_EXT_ARCH_SHIFT 2u
#define FOP_NR_EXT_ARCHES 4u   /* the arch byte's, arm, arm-vipt, xtensa */
#define FOP_EXT_CACHE 0x10u    /* the ext byte's bit 4: the data cache model (no committed input had it
                                * set when it was given this meaning: their ext bytes are 0x0-0xe) */

/* The hm_arch_at index an ext byte e selects, or -1: the arch byte's choice (bits 2-3 zero). */
static inline int fop_ext_arch(uint32_t e)
{
    uint32_t sel = (e >> FOP_EXT_ARCH_SHIFT) % FOP_NR_EXT_ARCHES;
    return sel ? (int)(FOP_NR_ARCHES - 1u + sel) : -1;
}

/* The generation of ext byte e (enum hm_kernel): 2.6.24, 2.6.30, 5.11, 5.11 (5.11 twice: it
 * has the most new behaviour). */
static inline int fop_kernel(uint32_t e)
{
    static const uint8_t k[FOP_NR_KERNELS] = {HM_KERNEL_2_6_24, HM_KERNEL_2_6_30, HM_KERNEL_5_11,
                                              HM_KERNEL_5_11};
    return k[e % FOP_NR_KERNELS];
}

static inline uint32_t fop_window(uint32_t i)
{
    /* mostly small powers of two, sometimes 32/64, sometimes the arch's own (1024 / 512) */
    static const uint32_t w[FOP_NR_WINDOWS] = {4, 2, 4, 8, 8, 16, 4, 8, 2, 16, 4, 8, 32, 64, 16, 0};
    return w[i % FOP_NR_WINDOWS];
}

static inline uint32_t fop_highmem(uint32_t i)
{
    static const uint32_t h[FOP_NR_HIGHMEM] = {16, 8, 16, 32, 32, 64, 24, 0};
    return h[i % FOP_NR_HIGHMEM];
}

/* ---------------------------------------------------------------------------------------
 * Operations, from the front: one opcode byte (fop_of_byte), then the operand bytes of that
 * op, also from the front. Zero once the input is exhausted (the last op may be cut short).
 * ------------------------------------------------------------------------------------- */
enum fuzz_op {
    FOP_KMAP,                /* pfn */
    FOP_KUNMAP,              /* pfn */
    FOP_FLUSH,               /* - */
    FOP_KMAP_ATOMIC,         /* cpu, type, pfn */
    FOP_KUNMAP_ATOMIC,       /* cpu, type, kunmap-address */
    FOP_KMAP_ATOMIC_PFN,     /* cpu, type, pfn */
    FOP_LOAD,                /* cpu, address (2 bytes) */
    FOP_STORE,               /* cpu, address (2 bytes), value */
    FOP_KMAP_TO_PAGE,        /* address (2 bytes) */
    FOP_KMAP_ATOMIC_TO_PAGE, /* address (2 bytes) */
    FOP_PAGE_ADDRESS,        /* pfn */
    FOP_IRQ,                 /* the machine's switches, one byte: below KIRQ_INJECT, in_interrupt()
                              * as the sim reports it (bit 0: on/off); from KIRQ_INJECT up, the
                              * sim's PTE-write fault injection (kmap_ops.h, KIRQ_*) */
    FOP_PROBE,               /* probe kind, value: the rest of the public API (probe.c) */
    FOP_CONFIG,              /* arch, cpus, window, highmem, what: hm_layout_compute,
                              * hm_ctx_size, hm_ctx_init on another (maybe invalid) config */
    FOP_POKE,                /* slot, pfn: the embedder writes the PTE of a pkmap slot itself
                              * (pfn byte < KPOKE_NONE: a none PTE; else a pfn below
                              * max_pfn + 8, decode_pfn's folded into range) */
    /* the extended table's ops (inputs with the ext byte only: fop_of_byte_ext) */
    FOP_KMAP_HIGH_GET,       /* pfn: hm_kmap_high_get (2.6.30 where the arch has it) */
    FOP_KMAP_LOCAL,          /* cpu, pfn: hm_kmap_local_page (5.11) */
    FOP_KUNMAP_LOCAL,        /* cpu, address (2 bytes): hm_kunmap_local (5.11) */
    FOP_SWITCH,              /* cpu, task: hm_switch (5.11) */
    FOP__COUNT
};

/* Opcode bytes from FOP_EXT_BASE up select the API probes: FOP_EXT_BASE..FOP_EXT_CONFIG - 1
 * FOP_PROBE, ..FOP_EXT_POKE - 1 FOP_CONFIG, the rest FOP_POKE. Below, the byte goes through the
 * table (b % 32). */
#define FOP_EXT_BASE 224u
#define FOP_EXT_CONFIG 244u
#define FOP_EXT_POKE 250u
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

/* FOP_IRQ's byte b >= KIRQ_INJECT: inject mode (b - KIRQ_INJECT) % KIRQ_NR_MODES, in this order:
 * none, fail-next-map, fail-all-maps, fail-next-clear, fail-all-clears (the trace language's
 * `inject` modes of harness/trace.h; the flush drops are not modelled). These byte values meant
 * bit 0 before; no committed input used them (its irq bytes are 0 and 1). */
#define KIRQ_INJECT 240u
#define KIRQ_NR_MODES 5u

#define FOP_TABLE_SIZE 32u
static inline int fop_of_byte(uint8_t b)
{
    if (b >= FOP_EXT_BASE)
        return b < FOP_EXT_CONFIG ? FOP_PROBE : b < FOP_EXT_POKE ? FOP_CONFIG : FOP_POKE;
    static const uint8_t t[FOP_TABLE_SIZE] = {
        FOP_KMAP, FOP_KUNMAP, FOP_FLUSH, FOP_KMAP_ATOMIC, FOP_KUNMAP_ATOMIC, FOP_KMAP_ATOMIC_PFN,
        FOP_LOAD, FOP_STORE, FOP_KMAP_TO_PAGE, FOP_KMAP_ATOMIC_TO_PAGE, FOP_PAGE_ADDRESS,
        /* 11..31: the weights */
        FOP_KMAP, FOP_KMAP, FOP_KMAP, FOP_KMAP, FOP_KMAP, FOP_KUNMAP, FOP_KUNMAP, FOP_KUNMAP,
        FOP_IRQ, FOP_FLUSH, FOP_KMAP_ATOMIC, FOP_KMAP_ATOMIC, FOP_KMAP_ATOMIC, FOP_KUNMAP_ATOMIC,
        FOP_KUNMAP_ATOMIC, FOP_KUNMAP_ATOMIC, FOP_KMAP_ATOMIC_PFN, FOP_LOAD, FOP_LOAD, FOP_STORE,
        FOP_STORE};
    return t[b % FOP_TABLE_SIZE];
}

/* The opcode of byte b in an input with the ext byte: fop_of_byte's, but for six of its
 * weight entries (b % 32 = 13, 14, 15: kmap; 17, 18: kunmap; 20: flush), which become the new
 * ops: kmap_high_get, kmap_local twice, kunmap_local twice, switch. */
static inline int fop_of_byte_ext(uint8_t b, int ext)
{
    if (ext && b < FOP_EXT_BASE)
        switch (b % FOP_TABLE_SIZE) {
        case 13: return FOP_KMAP_HIGH_GET;
        case 14:
        case 15: return FOP_KMAP_LOCAL;
        case 17:
        case 18: return FOP_KUNMAP_LOCAL;
        case 20: return FOP_SWITCH;
        default: break;
        }
    return fop_of_byte(b);
}

/* The first byte value whose opcode is op (the encoder's choice), in an input with (ext) or
 * without the ext byte; 0 if none (the new ops without it). */
static inline uint8_t fop_byte_of(int op, int ext)
{
    for (unsigned b = 0; b < 256u; b++)
        if (fop_of_byte_ext((uint8_t)b, ext) == op)
            return (uint8_t)b;
    return 0;
}

/* FOP_CONFIG operands. arch byte: < KCFG_BAD_DESC: hm_arch_at(b % 5); else, by
 * (b - KCFG_BAD_DESC) % 10, a NULL arch or a copy of hm_arch_at((b - KCFG_BAD_DESC) / 10 % 5)
 * with one field broken (probe.c), 6: an intact copy, 7: x86 (no PAE) with too much lowmem
 * (other arches: intact), 8/9: no default window / highmem size. The next three bytes index
 * the tables below (nr_cpus, last_pkmap, highmem_pages); the last one: bits 0-3 modulo
 * KCFG_INIT__COUNT pick the hm_ctx_init call (KCFG_INIT_*), bit 4 debug_highmem, bit 5
 * need_flush, bit 6 (KCFG_INIT_NO_SET_PTE) get_pte missing instead. */
#define KCFG_BAD_DESC 200u
#define KCFG_NR_CPUS 8u
#define KCFG_NR_WINDOWS 12u
#define KCFG_NR_HIGHMEM 12u
enum { KCFG_INIT_OK, KCFG_INIT_NULL_MEM, KCFG_INIT_MISALIGNED, KCFG_INIT_SHORT, KCFG_INIT_NO_SET_PTE,
       KCFG_INIT_NULL_ARGS, KCFG_INIT__COUNT };

static inline uint32_t fop_cfg_cpus(uint32_t i)
{
    static const uint32_t c[KCFG_NR_CPUS] = {0, 1, 2, 4, 63, 64, 65, 1000};
    return c[i % KCFG_NR_CPUS];
}

static inline uint32_t fop_cfg_window(uint32_t i)
{
    static const uint32_t w[KCFG_NR_WINDOWS] = {0, 2, 1, 3, 4096, 8192, 1024, 6, 512, 2048, 64, 0x80000000u};
    return w[i % KCFG_NR_WINDOWS];
}

/* each arch's largest highmem size and one more (x86 2^20 pfns, PAE 2^24, ppc 2^20, sparc 2^24),
 * the uint32 overflow of max_pfn, and x86's exact overflow limit */
static inline uint32_t fop_cfg_highmem(uint32_t i)
{
    static const uint32_t h[KCFG_NR_HIGHMEM] = {0, 16, 0xc8000u, 0xc8001u, 0xfc8000u, 0xfc8001u,
                                                0xd0000u, 0xd0001u, 0xff4000u, 0xff4001u,
                                                0xffffffffu, 0xffffffffu - 0x38000u};
    return h[i % KCFG_NR_HIGHMEM];
}

/* ---------------------------------------------------------------------------------------
 * Operand bytes. hs = highmem_start_pfn, hp = max_pfn - hs, S = LAST_PKMAP.
 * ------------------------------------------------------------------------------------- */
/* pfn (one byte b):
 *   b <  KPFN_TOP:     hs - 2 + b % (min(hp, KPFN_NEAR) + 4)   two lowmem pages, the first
 *                      highmem pages, and (small machines) max_pfn, max_pfn + 1
 *   b <  KPFN_SPECIAL: max_pfn - 8 + (b - KPFN_TOP)            the last pages and past the end
 *   else:              special pfn number b - KPFN_SPECIAL (see decode.c: 0, 1, hs/2, hs - 1,
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

/* task (one byte b, FOP_SWITCH): b < KTASK_BAD: b % nr_tasks (the layout's; before 5.11, which
 * has no tasks, nr_cpus + 2, what 5.11 would have); else the bad task nr_tasks + (b - KTASK_BAD). */
#define KTASK_BAD 248u

/* address for load/store/kmap_to_page/kmap_atomic_to_page (two bytes s, o):
 *   s < KADDR_PKMAP:   recent address (s % 8): 0 = the last one kmap/kmap_atomic returned,
 *                      1 = the one before, ... (PKMAP_ADDR(s % 8 % S) when there are fewer),
 *                      + o bytes
 *   s < KADDR_SLOT:    PKMAP_ADDR((s - KADDR_PKMAP) % (S + 1)) + o
 *   s < KADDR_DIRECT:  atomic slot of x = s - KADDR_SLOT: cpu (x & 3) % nr_cpus, type
 *                      fop_small_type(x >> 2), + o
 *   s < KADDR_SPECIAL: the direct-map address of pfn(o) + (s - KADDR_DIRECT) * 16
 *   s < KADDR_SCATTER: special address (s - KADDR_SPECIAL) % 16 (below), + o if
 *                      s - KADDR_SPECIAL >= 16
 *   else:              0xc0000000 + (s - KADDR_SCATTER) * 0x01555000 + (o << 12) */
#define KADDR_PKMAP 80u
#define KADDR_SLOT 112u
#define KADDR_DIRECT 144u
#define KADDR_SPECIAL 176u
#define KADDR_SCATTER 208u

static inline uint32_t fop_small_type(uint32_t i)
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

#define FOP_MAX_OPS 256u

#endif /* HM_FUZZ_KMAP_OPS_H */
