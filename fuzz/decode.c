/* decode.c - kmap_ops' input bytes -> ops (the encoding of kmap_ops.h, relative to the machine and
 * to what earlier ops returned), the inverse search the seed encoder and the printer use, and
 * the model's side of each op. SPDX-License-Identifier: MIT */
#include <string.h>

#include "fuzz/kmap_ops_internal.h"

int fop_decoder_init(struct fop_decoder *d, const struct hm_layout *L, const struct model *m, int ext)
{
    memset(d, 0, sizeof *d);
    d->L = L;
    d->model = m;
    d->S = L->last_pkmap;
    d->ncpus = L->nr_cpus;
    d->ntypes = L->nr_km_types;
    d->ntasks = L->nr_tasks ? L->nr_tasks : L->nr_cpus + 2u;
    d->ext = ext;
    if (L->va_bits != 32u) /* the encoding makes 32-bit addresses */
        return -1;
    return (size_t)d->ncpus * d->ntypes > sizeof d->remembered / sizeof d->remembered[0] ? -1 : 0;
}

static uint32_t slot_addr(const struct fop_decoder *d, uint32_t cpu, uint32_t type)
{
    if (!d->S) /* generic: no atomic slots */
        return fop_a32(d->L->page_offset);
    return model_slot_addr(d->model, cpu, type);
}

uint32_t fop_decode_pfn(const struct fop_decoder *d, uint8_t b)
{
    uint32_t hs = d->L->highmem_start_pfn, mx = d->L->max_pfn, hp = mx - hs;
    if (b < KPFN_TOP)
        return hs - 2u + b % ((hp < KPFN_NEAR ? hp : KPFN_NEAR) + 4u);
    if (b < KPFN_SPECIAL)
        return mx - 8u + (uint32_t)(b - KPFN_TOP);
    {
        const uint32_t special[16] = {0, 1, hs / 2u, hs - 1u, hs, hs + 1u, mx - 1u, mx, mx + 1u,
                                      0x100000u, 0xfffffu, 0x1000000u, 0x7fffffffu, 0xffffffffu,
                                      hs + hp / 2u, 2};
        return special[b - KPFN_SPECIAL];
    }
}

static uint32_t decode_cpu(const struct fop_decoder *d, uint8_t b)
{
    const uint32_t n = d->ncpus;
    const uint32_t bad[8] = {n, n + 1u, 4, 7, 63, 64, 1000, 0xffffffffu};
    return b < KCPU_BAD ? b % n : bad[b - KCPU_BAD];
}

static uint32_t decode_task(const struct fop_decoder *d, uint8_t b)
{
    return b < KTASK_BAD ? b % d->ntasks : d->ntasks + (uint32_t)(b - KTASK_BAD);
}

static uint32_t decode_type(const struct fop_decoder *d, uint8_t b)
{
    if (b < KTYPE_USER)
        return 3u + (b & 1u);
    if (b < KTYPE_BAD)
        return b % d->ntypes;
    return d->ntypes + (uint32_t)(b - KTYPE_BAD);
}

/* The layout's addresses as uint32_t (fop_a32): every sum and difference below wraps modulo
 * 2^32, as the encoding defines it (e.g. ppc's FIXADDR_TOP 0 minus one is 0xffffffff). */
static uint32_t special_addr(const struct fop_decoder *d, uint32_t i)
{
    const struct hm_layout *L = d->L;
    int32_t dir = L->kmap_atomic_dir ? L->kmap_atomic_dir : -1;
    uint32_t base = fop_a32(L->kmap_atomic_base), po = fop_a32(L->page_offset);
    uint32_t hm = fop_a32(L->high_memory), pk = fop_a32(L->pkmap_base), top = fop_a32(L->fixaddr_top);
    switch (i % KADDR_NR_SPECIAL) {
    case 0: return 0;
    case 1: return po;
    case 2: return hm - 1u;
    case 3: return hm;
    case 4: return L->last_pkmap ? pk - 1u : po - 1u;
    case 5: return pk + (L->last_pkmap << 12);
    case 6: return base;
    case 7: return dir > 0 ? base - 1u : fop_a32(L->fixaddr_start);
    case 8: return top;
    case 9: return top - 1u;
    case 10: return 0xffffffffu;
    case 11: return 0xfc000000u;
    case 12: return base - (uint32_t)(dir * 4096);
    case 13: return base + (uint32_t)dir * (L->km_type_nr * L->nr_cpus << 12);
    case 14: return base + (uint32_t)dir * (6u << 12);
    default: return L->pt_pages ? fop_a32(L->pt_start) + ((L->pt_pages - 1u) << 12) : po;
    }
}

static uint32_t recent_addr(const struct fop_decoder *d, uint32_t k)
{
    if (k < d->nrecent && k < FOP_RECENT)
        return d->recent[(d->nrecent - 1u - k) % FOP_RECENT];
    return d->S ? fop_pkmap_addr(d->L, k % d->S) : fop_a32(d->L->page_offset) + (k << 12);
}

static uint32_t decode_addr(const struct fop_decoder *d, uint8_t s, uint8_t o)
{
    if (s < KADDR_PKMAP)
        return recent_addr(d, s % FOP_RECENT) + o;
    if (s < KADDR_SLOT)
        return d->S ? fop_pkmap_addr(d->L, (uint32_t)(s - KADDR_PKMAP) % (d->S + 1u)) + o
                    : fop_a32(d->L->page_offset) + ((uint32_t)(s - KADDR_PKMAP) << 12) + o;
    if (s < KADDR_DIRECT) {
        uint32_t x = (uint32_t)(s - KADDR_SLOT);
        return slot_addr(d, (x & 3u) % d->ncpus, fop_small_type(x >> 2) % d->ntypes) + o;
    }
    if (s < KADDR_SPECIAL)
        return fop_a32(d->L->page_offset) + (fop_decode_pfn(d, o) << 12) + (uint32_t)(s - KADDR_DIRECT) * 16u;
    if (s < KADDR_SCATTER) {
        uint32_t x = (uint32_t)(s - KADDR_SPECIAL);
        return special_addr(d, x) + (x >= KADDR_NR_SPECIAL ? o : 0u);
    }
    return 0xc0000000u + (uint32_t)(s - KADDR_SCATTER) * 0x01555000u + ((uint32_t)o << 12);
}

uint32_t fop_kunmap_addr(const struct fop_decoder *d, uint32_t cpu, uint32_t type, uint8_t a)
{
    uint32_t c = cpu < d->ncpus ? cpu : 0, t = type < d->ntypes ? type : 0;
    if (a < KUA_OTHER) {
        uint32_t v = d->remembered[c * d->ntypes + t];
        return (v ? v : slot_addr(d, c, t)) + ((a & 7u) << 9);
    }
    if (a < KUA_LOWMEM)
        return (a & 1u) ? slot_addr(d, c, (t ^ 1u) % d->ntypes) : slot_addr(d, (c + 1u) % d->ncpus, t);
    if (a < KUA_PKMAP)
        return fop_a32(d->L->page_offset) + ((uint32_t)(a - KUA_LOWMEM) << 12);
    if (a < KUA_SPECIAL)
        return d->S ? fop_pkmap_addr(d->L, (uint32_t)(a - KUA_PKMAP) % d->S) : fop_a32(d->L->page_offset);
    return special_addr(d, (uint32_t)(a - KUA_SPECIAL));
}

static uint8_t take(struct fz_input *in, struct fop_rec *o)
{
    uint8_t b = fz_front_byte(in);
    o->raw[o->nraw++] = b;
    return b;
}

void fop_decode(const struct fop_decoder *d, struct fz_input *in, struct fop_rec *o)
{
    uint8_t s, a;

    memset(o, 0, sizeof *o);
    o->op = fop_of_byte_ext(fz_front_byte(in), d->ext);
    switch (o->op) {
    case FOP_KMAP:
    case FOP_KUNMAP:
    case FOP_PAGE_ADDRESS:
    case FOP_KMAP_HIGH_GET:
        o->pfn = fop_decode_pfn(d, take(in, o));
        break;
    case FOP_KMAP_LOCAL:
        o->cpu = decode_cpu(d, take(in, o));
        o->pfn = fop_decode_pfn(d, take(in, o));
        break;
    case FOP_KUNMAP_LOCAL:
        o->cpu = decode_cpu(d, take(in, o));
        s = take(in, o);
        o->vaddr = decode_addr(d, s, take(in, o));
        break;
    case FOP_SWITCH:
        o->cpu = decode_cpu(d, take(in, o));
        o->type = decode_task(d, take(in, o)); /* the task */
        break;
    case FOP_FLUSH:
        break;
    case FOP_KMAP_ATOMIC:
    case FOP_KMAP_ATOMIC_PFN:
        o->cpu = decode_cpu(d, take(in, o));
        o->type = decode_type(d, take(in, o));
        o->pfn = fop_decode_pfn(d, take(in, o));
        break;
    case FOP_KUNMAP_ATOMIC:
        o->cpu = decode_cpu(d, take(in, o));
        o->type = decode_type(d, take(in, o));
        o->vaddr = fop_kunmap_addr(d, o->cpu, o->type, take(in, o));
        break;
    case FOP_LOAD:
    case FOP_STORE:
        o->cpu = decode_cpu(d, take(in, o));
        s = take(in, o);
        o->vaddr = decode_addr(d, s, take(in, o));
        if (o->op == FOP_STORE)
            o->value = take(in, o);
        break;
    case FOP_KMAP_TO_PAGE:
    case FOP_KMAP_ATOMIC_TO_PAGE:
        s = take(in, o);
        o->vaddr = decode_addr(d, s, take(in, o));
        break;
    case FOP_PROBE:
        o->type = take(in, o) % KPROBE__COUNT;
        o->value = take(in, o);
        break;
    case FOP_POKE:
        a = take(in, o);
        s = take(in, o);
        if (!d->S)
            break; /* no pkmap window: nothing to poke */
        o->type = a % d->S;
        o->vaddr = fop_pkmap_addr(d->L, o->type);
        o->value = s;
        if (s >= KPOKE_NONE) {
            /* any page up to 8 past max_pfn (what decode_pfn gives beyond: folded back) */
            o->pfn = fop_decode_pfn(d, s);
            if (o->pfn >= d->L->max_pfn + 8u)
                o->pfn %= d->L->max_pfn;
        }
        break;
    case FOP_CONFIG:
        for (unsigned i = 0; i < 5; i++)
            take(in, o); /* probe.c reads them */
        break;
    case FOP_IRQ: /* in_interrupt on/off, or KIRQ_INJECT + an inject mode */
        a = take(in, o);
        o->value = a < KIRQ_INJECT ? a & 1u : (uint8_t)(KIRQ_INJECT + (a - KIRQ_INJECT) % KIRQ_NR_MODES);
        break;
    default:
        break;
    }
}

void fop_remember(struct fop_decoder *d, const struct fop_rec *o)
{
    if (o->err != HM_OK || (o->op != FOP_KMAP && o->op != FOP_KMAP_ATOMIC && o->op != FOP_KMAP_ATOMIC_PFN &&
                            o->op != FOP_KMAP_LOCAL && o->op != FOP_KMAP_HIGH_GET))
        return;
    /* o->val equals the model's (check_after compared them): a 32-bit address */
    d->recent[d->nrecent % FOP_RECENT] = fop_a32(o->val);
    d->nrecent++;
    if (o->op != FOP_KMAP && o->op != FOP_KMAP_LOCAL && o->op != FOP_KMAP_HIGH_GET)
        d->remembered[o->cpu * d->ntypes + o->type] = fop_a32(o->val);
}

/* ---------------------------------------------------------------------------------------
 * Encoding: a search over the decoder itself, operand by operand.
 * ------------------------------------------------------------------------------------- */
/* What an operand byte (or, for F_ADDR, pair) determines. */
enum { F_CPU = 1, F_TYPE, F_PFN, F_ADDR, F_UA, F_VALUE, F_KIND, F_SLOT, F_POKE_PFN, F_TASK };

/* The operands of each op, in input order (0-terminated). */
static const uint8_t operands[FOP__COUNT][5] = {
    [FOP_KMAP] = {F_PFN},
    [FOP_KUNMAP] = {F_PFN},
    [FOP_KMAP_ATOMIC] = {F_CPU, F_TYPE, F_PFN},
    [FOP_KUNMAP_ATOMIC] = {F_CPU, F_TYPE, F_UA},
    [FOP_KMAP_ATOMIC_PFN] = {F_CPU, F_TYPE, F_PFN},
    [FOP_LOAD] = {F_CPU, F_ADDR},
    [FOP_STORE] = {F_CPU, F_ADDR, F_VALUE},
    [FOP_KMAP_TO_PAGE] = {F_ADDR},
    [FOP_KMAP_ATOMIC_TO_PAGE] = {F_ADDR},
    [FOP_PAGE_ADDRESS] = {F_PFN},
    [FOP_IRQ] = {F_VALUE},
    [FOP_PROBE] = {F_KIND, F_VALUE},
    [FOP_POKE] = {F_SLOT, F_POKE_PFN},
    [FOP_KMAP_HIGH_GET] = {F_PFN},
    [FOP_KMAP_LOCAL] = {F_CPU, F_PFN},
    [FOP_KUNMAP_LOCAL] = {F_CPU, F_ADDR},
    [FOP_SWITCH] = {F_CPU, F_TASK},
};

/* The classes of the main operands: byte ranges of kmap_ops.h (the first byte of an address). */
static const struct {
    const char *name;
    uint8_t field;
    uint16_t lo, hi;
} classes[] = {
    {"near", F_PFN, 0, KPFN_TOP},
    {"end", F_PFN, KPFN_TOP, KPFN_SPECIAL},
    {"special", F_PFN, KPFN_SPECIAL, 256},
    {"recent", F_ADDR, 0, KADDR_PKMAP},
    {"pkmap", F_ADDR, KADDR_PKMAP, KADDR_SLOT},
    {"slot", F_ADDR, KADDR_SLOT, KADDR_DIRECT},
    {"direct", F_ADDR, KADDR_DIRECT, KADDR_SPECIAL},
    {"special", F_ADDR, KADDR_SPECIAL, KADDR_SCATTER},
    {"scatter", F_ADDR, KADDR_SCATTER, 256},
    {"same", F_UA, 0, KUA_OTHER},
    {"other", F_UA, KUA_OTHER, KUA_LOWMEM},
    {"lowmem", F_UA, KUA_LOWMEM, KUA_PKMAP},
    {"pkmap", F_UA, KUA_PKMAP, KUA_SPECIAL},
    {"special", F_UA, KUA_SPECIAL, 256},
    {"none", F_POKE_PFN, 0, KPOKE_NONE},
    {"near", F_POKE_PFN, KPOKE_NONE, KPFN_TOP},
    {"end", F_POKE_PFN, KPFN_TOP, KPFN_SPECIAL},
    {"special", F_POKE_PFN, KPFN_SPECIAL, 256},
};
#define NCLASSES (sizeof classes / sizeof classes[0])

static int is_main(uint8_t f)
{
    return f == F_PFN || f == F_ADDR || f == F_UA || f == F_POKE_PFN;
}

/* The main operand of op and the index of its first byte, or 0. */
static uint8_t main_operand(int op, unsigned *pos)
{
    unsigned p = 0;
    if (op < 0 || op >= FOP__COUNT)
        return 0;
    for (const uint8_t *f = operands[op]; *f; f++) {
        if (is_main(*f)) {
            *pos = p;
            return *f;
        }
        p += *f == F_ADDR ? 2u : 1u;
    }
    return 0;
}

int fop_class_find(int op, const char *name)
{
    unsigned pos;
    uint8_t f = main_operand(op, &pos);
    for (unsigned c = 0; f && c < NCLASSES; c++)
        if (classes[c].field == f && strcmp(classes[c].name, name) == 0)
            return (int)c;
    return -1;
}

const char *fop_class_name(int cls)
{
    return cls >= 0 && (unsigned)cls < NCLASSES ? classes[cls].name : "?";
}

int fop_class_of(const struct fop_rec *o)
{
    unsigned pos = 0;
    uint8_t f = main_operand(o->op, &pos);
    for (unsigned c = 0; f && c < NCLASSES; c++)
        if (classes[c].field == f && o->raw[pos] >= classes[c].lo && o->raw[pos] < classes[c].hi)
            return (int)c;
    return -1;
}

/* Whether the decoded x has want's value of operand f. */
static int same_operand(uint8_t f, const struct fop_rec *x, const struct fop_rec *want)
{
    switch (f) {
    case F_CPU: return x->cpu == want->cpu;
    case F_TYPE:
    case F_KIND:
    case F_SLOT:
    case F_TASK: return x->type == want->type;
    case F_PFN: return x->pfn == want->pfn;
    case F_ADDR:
    case F_UA: return x->vaddr == want->vaddr;
    case F_VALUE: return x->value == want->value;
    default: /* F_POKE_PFN: a none PTE, or the same page */
        return (x->value < KPOKE_NONE) == (want->value < KPOKE_NONE) &&
               (want->value < KPOKE_NONE || x->pfn == want->pfn);
    }
}

static void decode_bytes(const struct fop_decoder *d, const uint8_t *b, size_t n, struct fop_rec *x)
{
    struct fz_input in;
    fz_init(&in, b, n);
    fop_decode(d, &in, x);
}

int fop_same_operands(const struct fop_rec *a, const struct fop_rec *b)
{
    if (a->op != b->op)
        return 0;
    if (a->op == FOP_CONFIG)
        return memcmp(a->raw, b->raw, 5) == 0;
    for (const uint8_t *f = operands[a->op]; *f; f++)
        if (!same_operand(*f, a, b))
            return 0;
    return 1;
}

int fop_encode(const struct fop_decoder *d, const struct fop_rec *want, int cls,
               uint8_t out[1 + FOP_MAX_OPERANDS])
{
    struct fop_rec x;
    size_t n = 1;

    if (want->op < 0 || want->op >= FOP__COUNT)
        return -1;
    memset(out, 0, 1 + FOP_MAX_OPERANDS);
    out[0] = fop_byte_of(want->op, d->ext);
    if (fop_of_byte_ext(out[0], d->ext) != want->op)
        return -1; /* a new op in an input without the ext byte */
    if (want->op == FOP_CONFIG) {
        memcpy(out + 1, want->raw, 5);
        return 6;
    }
    for (const uint8_t *f = operands[want->op]; *f; f++) {
        unsigned lo = 0, hi = 256, width = *f == F_ADDR ? 2u : 1u, v;
        if (cls >= 0 && classes[cls].field == *f) {
            lo = classes[cls].lo;
            hi = classes[cls].hi;
        }
        for (v = lo << (8 * (width - 1)); v < hi << (8 * (width - 1)); v++) {
            out[n] = (uint8_t)(v >> (8 * (width - 1)));
            out[n + width - 1] = (uint8_t)v;
            decode_bytes(d, out, 1 + FOP_MAX_OPERANDS, &x);
            if (same_operand(*f, &x, want))
                break;
        }
        if (v == hi << (8 * (width - 1)))
            return -1;
        n += width;
    }
    decode_bytes(d, out, n, &x);
    return fop_same_operands(&x, want) ? (int)n : -1;
}

void fop_model_config(const struct hm_config *cfg, struct model_config *mc)
{
    mc->arch = hm_arch_name(cfg->arch);
    mc->last_pkmap = cfg->last_pkmap;
    mc->nr_cpus = cfg->nr_cpus;
    mc->highmem_pages = cfg->highmem_pages;
    mc->debug_highmem = cfg->debug_highmem;
    mc->need_flush = cfg->need_flush;
    mc->kernel = cfg->kernel;
    mc->nr_tasks = cfg->nr_tasks;
}

void fop_model(struct model *m, const struct fop_rec *o, struct model_out *mo)
{
    switch (o->op) {
    case FOP_KMAP: model_kmap(m, o->pfn, mo); break;
    case FOP_KUNMAP: model_kunmap(m, o->pfn, mo); break;
    case FOP_FLUSH: model_flush_unused(m, mo); break;
    case FOP_KMAP_ATOMIC: model_kmap_atomic(m, o->cpu, o->type, o->pfn, mo); break;
    case FOP_KMAP_ATOMIC_PFN: model_kmap_atomic_pfn(m, o->cpu, o->type, o->pfn, mo); break;
    case FOP_KUNMAP_ATOMIC: model_kunmap_atomic(m, o->cpu, o->type, o->vaddr, mo); break;
    case FOP_LOAD: model_load(m, o->cpu, o->vaddr, mo); break;
    case FOP_STORE: model_store(m, o->cpu, o->vaddr, o->value, mo); break;
    case FOP_KMAP_TO_PAGE: model_kmap_to_page(m, o->vaddr, mo); break;
    case FOP_KMAP_ATOMIC_TO_PAGE: model_kmap_atomic_to_page(m, o->vaddr, mo); break;
    case FOP_PAGE_ADDRESS: model_page_address(m, o->pfn, mo); break;
    case FOP_IRQ:
        if (o->value >= KIRQ_INJECT) /* the modes in model.h's order: kmap_ops.h */
            model_inject(m, o->value - KIRQ_INJECT, mo);
        else
            model_set_in_interrupt(m, o->value, mo);
        break;
    case FOP_KMAP_HIGH_GET: model_kmap_high_get(m, o->pfn, mo); break;
    case FOP_KMAP_LOCAL: model_kmap_local(m, o->cpu, o->pfn, mo); break;
    case FOP_KUNMAP_LOCAL: model_kunmap_local(m, o->cpu, o->vaddr, mo); break;
    case FOP_SWITCH: model_switch(m, o->cpu, o->type, mo); break;
    case FOP_POKE:
        if (m->L.S) /* the page the PTE now maps, plus one (0: none) */
            model_poke_pte(m, o->type, o->value >= KPOKE_NONE ? o->pfn + 1u : 0u, mo);
        else
            model_no_op(m, mo);
        break;
    default: /* FOP_PROBE, FOP_CONFIG: probe.c */
        model_no_op(m, mo);
        break;
    }
}
