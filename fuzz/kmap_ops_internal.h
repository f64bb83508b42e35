/* kmap_ops_internal.h - what the files of the kmap_ops target share: the decoded op, the decoder
 * state, the per-input run, and the entry points of decode.c, check.c, probe.c and seed_text.c.
 * SPDX-License-Identifier: MIT */
#ifndef HM_FUZZ_KMAP_OPS_INTERNAL_H
#define HM_FUZZ_KMAP_OPS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/kmap_ops.h"
#include "fuzz/model.h"
#include "harness/machine.h"
#include "harness/trace.h"
#include "highmem.h"

#define FOP_RECENT 8u       /* addresses the decoder remembers (kmap_ops.h, KADDR_PKMAP) */
#define FOP_MAX_OPERANDS 5u /* operand bytes of the longest op (FOP_CONFIG) */
#define FOP_ATOMIC_NOTED 64u /* check.c: PTE pages outside the pkmap window remembered per input */

/* One decoded operation and what the library did. */
struct fop_rec {
    int op;                 /* enum fuzz_op */
    uint32_t cpu, type, pfn;
    uint64_t vaddr;         /* an hm_vaddr_t (the decoder's are all below 2^32) */
    uint64_t pte;           /* FOP_POKE: the word written */
    uint8_t value;
    int err, bug;
    uint64_t val;           /* vaddr, pfn or byte */
    uint8_t raw[FOP_MAX_OPERANDS]; /* the operand bytes as read (0 past the end of the input) */
    uint8_t nraw;
};

/* The decoder's state: the machine, and what the earlier ops of the input returned. The
 * decoder makes addresses of the modelled 32-bit space: its arithmetic is on uint32_t, modulo
 * 2^32 (fop_decoder_init refuses a machine whose space is wider; the operand encoding, hence
 * every corpus input, is defined that way). */
struct fop_decoder {
    const struct hm_layout *L;
    const struct model *model; /* atomic slot addresses */
    uint32_t S, ncpus, ntypes;
    uint32_t ntasks;           /* the layout's nr_tasks (5.11), else nr_cpus + 2 (kmap_ops.h, KTASK_BAD) */
    int ext;                   /* the input has the ext byte: the extended opcode table */
    int cache;                 /* its ext byte asks for the data cache model (FOP_EXT_CACHE) */
    uint32_t recent[FOP_RECENT];
    uint32_t nrecent;
    uint32_t remembered[4u * 16u]; /* [cpu * ntypes + type]: vaddr, 0 = none (4 CPUs, 15 types) */
};

/* ---- decode.c: bytes -> ops, ops -> bytes ------------------------------------------------ */
/* Start decoding an input on a machine (ext: the input has the ext byte, kmap_ops.h); -1 if it
 * has more atomic slots than remembered[]. */
int fop_decoder_init(struct fop_decoder *d, const struct hm_layout *L, const struct model *m, int ext);
/* Read the next op from the front of in into *o (zeroed first). */
void fop_decode(const struct fop_decoder *d, struct fz_input *in, struct fop_rec *o);
/* After the op ran (o->err, o->val): what the following ops' operands refer to. */
void fop_remember(struct fop_decoder *d, const struct fop_rec *o);
uint32_t fop_decode_pfn(const struct fop_decoder *d, uint8_t b);
uint32_t fop_kunmap_addr(const struct fop_decoder *d, uint32_t cpu, uint32_t type, uint8_t a);

/* A layout address as the decoder computes with it: modulo 2^32 (the layout's addresses are
 * below 2^32 on a machine the decoder accepts; an end address may be 2^32 itself, which the
 * decoder has always seen as 0). */
static inline uint32_t fop_a32(uint64_t v)
{
    return (uint32_t)v;
}

static inline uint32_t fop_pkmap_addr(const struct hm_layout *L, uint32_t i) /* PKMAP_ADDR(i) */
{
    return fop_a32(L->pkmap_base) + (i << 12);
}

/* Encoding: the operand bytes of the main operand (pfn, address, kunmap address or poked pfn)
 * come in classes, the byte ranges of kmap_ops.h; FOP_CLASS_ANY searches them all. */
#define FOP_CLASS_ANY (-1)
int fop_class_find(int op, const char *name);  /* -1: op has no such class */
const char *fop_class_name(int cls);
int fop_class_of(const struct fop_rec *o);     /* the class o's main operand byte is in, or -1 */
/* The bytes (opcode first, the first byte of that op) that decode, in the state d, to want's
 * operands: the smallest byte of each operand in turn (the main one within cls). Returns how
 * many, or -1 if none does. FOP_CONFIG's bytes are want->raw. */
int fop_encode(const struct fop_decoder *d, const struct fop_rec *want, int cls,
               uint8_t out[1 + FOP_MAX_OPERANDS]);
/* Whether a and b have the same operands (the encoder's criterion). */
int fop_same_operands(const struct fop_rec *a, const struct fop_rec *b);
/* The model's config for a library config. */
void fop_model_config(const struct hm_config *cfg, struct model_config *mc);
/* The model's side of every op but FOP_PROBE and FOP_CONFIG (probe.c predicts those). */
void fop_model(struct model *m, const struct fop_rec *o, struct model_out *mo);

/* ---- seed_text.c: ops as text (the trace language plus `#@` lines), both ways -------------- */
/* The `# machine:` header (with `--kernel` when the input has the ext byte, `--cache on` when
 * that asks for the cache model) and a `# layout:` comment. */
void fop_print_machine(FILE *f, const struct hm_config *cfg, const struct hm_layout *L, int ext, int cache);
/* One op with its result as a comment. With hint (d must then be the state o was decoded in),
 * a `#@` hint follows wherever the encoder would choose other operand bytes. */
void fop_print_op(FILE *f, const struct fop_decoder *d, int hint, const struct fop_rec *o);
/* A seed's machine header -> the config and the machine bytes (input order: the ext byte first
 * when there is one, the arch last): returns how many (5, or 6 with `--kernel`), -1 with err. */
int fop_parse_machine(const struct trace_header *h, struct hm_config *cfg, uint8_t tail[6], char *err,
                      size_t errlen);
/* One seed line -> *o (the operands wanted) and how to encode them: *cls, or *nbytes > 0
 * operand bytes given in bytes[]. Returns 1, 0 for a line without an op, -1 with err. */
int fop_parse_line(const struct fop_decoder *d, const char *s, size_t n, unsigned long line,
                   struct fop_rec *o, int *cls, uint8_t bytes[FOP_MAX_OPERANDS], int *nbytes,
                   char *err, size_t errlen);

/* ---- kmap_ops.c: one input ------------------------------------------------------------------- */
/* Everything one input needs; reset per input up to `ev`. */
struct run {
    struct hm_ctx *ctx;
    struct hm_sim *sim;
    const struct hm_layout *L;
    int model_ok;
    uint32_t S, ncpus, ntypes;
    /* what the hooks saw during the current operation (events in ev[], below) */
    uint32_t nev, capev;
    int ev_overflow;
    uint32_t nbugs;
    int bug, bug_err;
    uint32_t all_bugs, bugs_by_kind[HM_BUG__COUNT]; /* every bug report of the input */
    uint32_t all_machine_fails;    /* every machine_fail event of the input */
    uint32_t stale_events;         /* stale-translation events of the current operation */
    int cache_on;                  /* the sim's data cache model is on (FOP_EXT_CACHE, an aliasing cache) */
    uint32_t stale_cache_events;   /* stale cache line reads of the current operation */
    uint64_t atomic_open[4u * 16u]; /* cache model, before 5.11: [cpu * ntypes + type] the address the
                                    * last kmap_atomic there returned, until its kunmap_atomic (0) */
    uint32_t exp_stale_hits, exp_stale_writes; /* the model's stale counts since the set-up */
    struct hm_sim_stats st;        /* the sim's counters at the set-up */
    uint32_t nlog;
    int verbose;
    uint32_t since_light, since_full; /* state-changing ops since the last check_full(r, 0 / 1) */
    uint64_t pte_writes;           /* PTE writes the sim must have accepted since the set-up */
    uint64_t atomic[FOP_ATOMIC_NOTED]; /* pages outside the pkmap window a PTE event named */
    uint32_t natomic;
    int atomic_overflow;           /* more than FOP_ATOMIC_NOTED of them */
    /* not cleared between inputs (written before they are read): */
    struct hm_event ev[2u * HM_MAX_PKMAP + 64u + 14u * HM_KM_MAX_IDX_DEBUG];
    struct fop_decoder dec;        /* fop_decoder_init */
    struct fop_rec log[FOP_MAX_OPS]; /* the sequence so far */
    /* kept from one input to the next and rebuilt in place (model_init, harness_machine_open
     * with hm_sim_reset): the allocations are reused, so an input costs no malloc and touches
     * no fresh memory */
    struct model model;
    struct harness_machine m;
};

/* ---- check.c: the comparisons against the model -------------------------------------------- */
/* A disagreement: the machine, the whole sequence so far, what differed; then abort(). */
void fail(struct run *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3), noreturn))
#endif
    ;
void check_layout(struct run *r);
void check_after(struct run *r, struct fop_rec *o, const struct model_out *mo);
void check_final(struct run *r);
/* hm_check_invariants' message: "I<n>: ..." cut to len - 1 characters and terminated. */
void check_message(struct run *r, const char *who, int rc, const char *buf, size_t len);
int layout_matches(const struct model_layout *M, const struct hm_layout *L);

/* ---- probe.c: FOP_PROBE and FOP_CONFIG ------------------------------------------------------- */
void run_probe(struct run *r, struct fop_rec *o, struct model_out *mo);
void run_config(struct run *r, struct fop_rec *o, struct model_out *mo);

#endif /* HM_FUZZ_KMAP_OPS_INTERNAL_H */
