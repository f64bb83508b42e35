/* seed_text.c - kmap_ops ops as text, both ways: the trace language (harness/print.h's print_cmd)
 * for the ops it has, `#@` lines for the fuzz-only ones, `#@` byte hints, the machine header.
 * SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fuzz/kmap_ops_internal.h"
#include "harness/exec.h"
#include "harness/print.h"

/* The trace command of each op; -1 for the fuzz-only ones (`#@` lines). */
static const int trace_op_of[FOP__COUNT] = {
    [FOP_KMAP] = KOP_KMAP,
    [FOP_KUNMAP] = KOP_KUNMAP,
    [FOP_FLUSH] = KOP_FLUSH,
    [FOP_KMAP_ATOMIC] = KOP_KMAP_ATOMIC,
    [FOP_KUNMAP_ATOMIC] = KOP_KUNMAP_ATOMIC,
    [FOP_KMAP_ATOMIC_PFN] = KOP_KMAP_ATOMIC_PFN,
    [FOP_LOAD] = KOP_LOAD,
    [FOP_STORE] = KOP_STORE,
    [FOP_KMAP_TO_PAGE] = KOP_KMAP_TO_PAGE,
    [FOP_KMAP_ATOMIC_TO_PAGE] = KOP_KMAP_ATOMIC_TO_PAGE,
    [FOP_PAGE_ADDRESS] = KOP_PAGE_ADDRESS,
    [FOP_IRQ] = -1,
    [FOP_PROBE] = -1,
    [FOP_CONFIG] = -1,
    [FOP_POKE] = -1,
    [FOP_KMAP_HIGH_GET] = KOP_KMAP_HIGH_GET,
    [FOP_KMAP_LOCAL] = KOP_KMAP_LOCAL,
    [FOP_KUNMAP_LOCAL] = KOP_KUNMAP_LOCAL,
    [FOP_SWITCH] = KOP_SWITCH,
};

/* FOP_IRQ's inject modes (kmap_ops.h, KIRQ_INJECT + i) as trace `inject` modes. */
static const int inject_kinj[KIRQ_NR_MODES] = {KINJ_NONE, KINJ_FAIL_NEXT_MAP, KINJ_FAIL_ALL_MAPS,
                                               KINJ_FAIL_NEXT_CLEAR, KINJ_FAIL_ALL_CLEARS};

static const char *const probe_names[KPROBE__COUNT] = {
    [KPROBE_NULL_OUT] = "null-out",         [KPROBE_NULL_CTX] = "null-ctx",
    [KPROBE_GETTERS_NULL] = "getters-null", [KPROBE_GETTERS] = "getters",
    [KPROBE_NAMES] = "names",               [KPROBE_REGISTRY] = "registry",
    [KPROBE_INVARIANTS] = "invariants",     [KPROBE_STATS] = "stats",
};

/* ---------------------------------------------------------------------------------------
 * Printing.
 * ------------------------------------------------------------------------------------- */
void fop_print_machine(FILE *f, const struct hm_config *cfg, const struct hm_layout *L, int ext, int cache)
{
    fprintf(f, "%s --arch %s --cpus %u", TRACE_HEADER_PREFIX, hm_arch_name(cfg->arch), cfg->nr_cpus);
    if (ext) /* the ext byte: also with 2.6.24, whose input then has the extended opcode table */
        fprintf(f, " --kernel %s", hm_kernel_name(cfg->kernel));
    if (cache)
        fprintf(f, " --cache on");
    if (cfg->last_pkmap)
        fprintf(f, " --pkmap-entries %u", cfg->last_pkmap);
    if (cfg->highmem_pages)
        fprintf(f, " --highmem-pages %u", cfg->highmem_pages);
    if (cfg->debug_highmem)
        fprintf(f, " --debug-highmem");
    if (cfg->need_flush)
        fprintf(f, " --need-flush");
    fprintf(f, "\n# layout: highmem pfns 0x%x..0x%x (max_pfn 0x%x), PKMAP_BASE 0x%08" PRIx64 ", LAST_PKMAP %u,"
               " atomic slot idx 0 at 0x%08" PRIx64 " (%s), KM_TYPE_NR %u, %u km_types\n",
            L->highmem_start_pfn, L->max_pfn ? L->max_pfn - 1u : 0, L->max_pfn, L->pkmap_base, L->last_pkmap,
            L->kmap_atomic_base, L->kmap_atomic_dir > 0 ? "ascending" : "descending", L->km_type_nr,
            L->nr_km_types);
}

/* The trace command of a machine op (op has one). */
static void to_cmd(const struct fop_decoder *d, const struct fop_rec *o, struct trace_cmd *c)
{
    memset(c, 0, sizeof *c);
    c->op = trace_op_of[o->op];
    switch (o->op) {
    case FOP_KMAP_ATOMIC:
    case FOP_KMAP_ATOMIC_PFN:
    case FOP_KUNMAP_ATOMIC:
        c->arg[c->nargs++] = o->cpu;
        c->arg[c->nargs++] = o->op == FOP_KUNMAP_ATOMIC ? o->vaddr : o->pfn;
        if (o->type < d->ntypes && d->L->km_types && d->L->km_types[o->type]) {
            c->type.is_name = 1;
            snprintf(c->type.name, sizeof c->type.name, "%s", d->L->km_types[o->type]);
            c->type.name_len = strlen(c->type.name);
        } else {
            c->type.index = o->type;
        }
        break;
    case FOP_LOAD:
    case FOP_STORE:
        c->arg[c->nargs++] = o->cpu;
        c->arg[c->nargs++] = o->vaddr;
        if (o->op == FOP_STORE)
            c->arg[c->nargs++] = o->value;
        break;
    case FOP_KMAP_TO_PAGE:
    case FOP_KMAP_ATOMIC_TO_PAGE:
        c->arg[c->nargs++] = o->vaddr;
        break;
    case FOP_FLUSH:
        break;
    case FOP_KMAP_LOCAL:
        c->arg[c->nargs++] = o->cpu;
        c->arg[c->nargs++] = o->pfn;
        break;
    case FOP_KUNMAP_LOCAL:
        c->arg[c->nargs++] = o->cpu;
        c->arg[c->nargs++] = o->vaddr;
        break;
    case FOP_SWITCH:
        c->arg[c->nargs++] = o->cpu;
        c->arg[c->nargs++] = o->type;
        break;
    default: /* kmap, kunmap, page_address, kmap_high_get */
        c->arg[c->nargs++] = o->pfn;
        break;
    }
}

/* A `#@` hint when the encoder would pick other operand bytes than o's in the state d: the
 * class of o's main operand if that is enough, else every operand byte. */
static void add_hint(struct kbuf *b, const struct fop_decoder *d, const struct fop_rec *o)
{
    uint8_t enc[1 + FOP_MAX_OPERANDS];
    int n = fop_encode(d, o, FOP_CLASS_ANY, enc), cls;

    if (n == 1 + o->nraw && memcmp(enc + 1, o->raw, o->nraw) == 0)
        return;
    cls = fop_class_of(o);
    n = cls < 0 ? -1 : fop_encode(d, o, cls, enc);
    if (n == 1 + o->nraw && memcmp(enc + 1, o->raw, o->nraw) == 0) {
        kbuf_printf(b, "  #@ %s", fop_class_name(cls));
        return;
    }
    kbuf_add(b, "  #@ bytes", 10);
    for (unsigned i = 0; i < o->nraw; i++)
        kbuf_printf(b, " %u", o->raw[i]);
}

/* The fuzz-only ops: `#@ irq|probe|config|poke ...`. */
static void print_directive(struct kbuf *b, const struct fop_rec *o)
{
    switch (o->op) {
    case FOP_IRQ:
        kbuf_printf(b, "#@ irq %s", o->value ? "on" : "off");
        break;
    case FOP_PROBE:
        kbuf_printf(b, "#@ probe %s %u", probe_names[o->type % KPROBE__COUNT], o->value);
        break;
    case FOP_CONFIG:
        if (o->raw[0] < FOP_NR_ARCHES)
            kbuf_printf(b, "#@ config %s", hm_arch_name(hm_arch_at(o->raw[0])));
        else
            kbuf_printf(b, "#@ config %u", o->raw[0]);
        kbuf_printf(b, " %" PRIu32 " %" PRIu32 " 0x%" PRIx32 " 0x%x", fop_cfg_cpus(o->raw[1]),
                    fop_cfg_window(o->raw[2]), fop_cfg_highmem(o->raw[3]), o->raw[4]);
        break;
    default: /* FOP_POKE */
        if (o->value < KPOKE_NONE)
            kbuf_printf(b, "#@ poke %u none", o->type);
        else
            kbuf_printf(b, "#@ poke %u %u", o->type, o->pfn);
        break;
    }
}

void fop_print_op(FILE *f, const struct fop_decoder *d, int hint, const struct fop_rec *o)
{
    static struct kbuf b;
    struct trace_cmd c;

    kbuf_reset(&b);
    if (trace_op_of[o->op] >= 0) {
        to_cmd(d, o, &c);
        print_cmd(&b, &c);
    } else if (o->op == FOP_IRQ && o->value >= KIRQ_INJECT) { /* a trace command: inject MODE */
        memset(&c, 0, sizeof c);
        c.op = KOP_INJECT;
        c.arg[c.nargs++] = (uint64_t)inject_kinj[(o->value - KIRQ_INJECT) % KIRQ_NR_MODES];
        print_cmd(&b, &c);
    } else {
        print_directive(&b, o);
    }
    if (hint)
        add_hint(&b, d, o);
    kbuf_printf(&b, "    # %s", hm_strerror(o->err));
    if (o->bug)
        kbuf_printf(&b, " (%s)", hm_bug_name(o->bug));
    if (o->err == HM_OK) {
        switch (o->op) {
        case FOP_KMAP:
        case FOP_KMAP_ATOMIC:
        case FOP_KMAP_ATOMIC_PFN:
        case FOP_PAGE_ADDRESS:
        case FOP_KMAP_HIGH_GET:
        case FOP_KMAP_LOCAL:
            kbuf_printf(&b, " 0x%08" PRIx64, o->val);
            break;
        case FOP_LOAD:
            kbuf_printf(&b, " value %" PRIu64, o->val);
            break;
        case FOP_KMAP_TO_PAGE:
        case FOP_KMAP_ATOMIC_TO_PAGE:
            kbuf_printf(&b, " pfn 0x%" PRIx64, o->val);
            break;
        case FOP_POKE:
            kbuf_printf(&b, " pte 0x%llx at 0x%08" PRIx64, (unsigned long long)o->pte, o->vaddr);
            break;
        default:
            break;
        }
    }
    fprintf(f, "%s\n", kbuf_str(&b));
}

/* ---------------------------------------------------------------------------------------
 * Parsing (gen_seeds).
 * ------------------------------------------------------------------------------------- */
#define MAX_WORDS 12

/* Split [s, s + n) into words (at most MAX_WORDS, each NUL-terminated in store) up to the
 * first '#' at or after `from`; *rest is where that '#' is (n if none). Returns the count, or
 * -1 if a word is too long or there are too many. */
static int words(const char *s, size_t n, size_t from, char w[MAX_WORDS][64], size_t *rest)
{
    size_t p = from;
    int k = 0;
    for (;;) {
        size_t st;
        while (p < n && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r'))
            p++;
        if (p >= n || s[p] == '#')
            break;
        st = p;
        while (p < n && s[p] != ' ' && s[p] != '\t' && s[p] != '\r' && s[p] != '#')
            p++;
        if (k == MAX_WORDS || p - st >= 64)
            return -1;
        memcpy(w[k], s + st, p - st);
        w[k++][p - st] = 0;
    }
    *rest = p;
    return k;
}

static int num(const char *w, uint64_t max, uint64_t *v)
{
    return trace_parse_u64(w, strlen(w), v) == 0 && *v <= max ? 0 : -1;
}

#define PARSE_ERR(...)                                                                       \
    do {                                                                                     \
        char m_[512];                                                                        \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                                \
        snprintf(err, errlen, "%lu: %s", line, m_);                                          \
        return -1;                                                                           \
    } while (0)

/* The fuzz-only ops (w[0] = "irq", "probe", "config" or "poke"). */
static int parse_directive(char w[MAX_WORDS][64], int nw, unsigned long line, struct fop_rec *o, char *err,
                           size_t errlen)
{
    uint64_t v[5];
    if (strcmp(w[0], "irq") == 0 && nw == 2 && (strcmp(w[1], "on") == 0 || strcmp(w[1], "off") == 0)) {
        o->op = FOP_IRQ;
        o->value = strcmp(w[1], "on") == 0;
        return 1;
    }
    if (strcmp(w[0], "probe") == 0 && nw == 3) {
        o->op = FOP_PROBE;
        for (o->type = 0; o->type < KPROBE__COUNT && strcmp(probe_names[o->type], w[1]) != 0; o->type++)
            ;
        if (o->type == KPROBE__COUNT || num(w[2], 255, &v[0]) != 0)
            PARSE_ERR("usage: #@ probe null-out|null-ctx|getters-null|getters|names|registry|invariants|stats BYTE");
        o->value = (uint8_t)v[0];
        return 1;
    }
    if (strcmp(w[0], "config") == 0 && nw == 6) {
        int a = model_arch_index(w[1]);
        o->op = FOP_CONFIG;
        o->nraw = 5;
        if (a >= 0 && a < (int)FOP_NR_ARCHES) /* the config op's arch byte: the first five */
            v[0] = (uint64_t)a;
        else if (num(w[1], 255, &v[0]) != 0)
            PARSE_ERR("config: ARCH is an arch name or a byte (%u + broken descriptor)", KCFG_BAD_DESC);
        for (int i = 2; i <= 4; i++) {
            uint32_t k, n = i == 2 ? KCFG_NR_CPUS : i == 3 ? KCFG_NR_WINDOWS : KCFG_NR_HIGHMEM;
            if (num(w[i], UINT32_MAX, &v[i - 1]) != 0)
                PARSE_ERR("config: bad number '%s'", w[i]);
            for (k = 0; k < n; k++)
                if ((i == 2 ? fop_cfg_cpus(k) : i == 3 ? fop_cfg_window(k) : fop_cfg_highmem(k)) == v[i - 1])
                    break;
            if (k == n)
                PARSE_ERR("config: %s is not in kmap_ops.h's table", w[i]);
            v[i - 1] = k;
        }
        if (num(w[5], 255, &v[4]) != 0)
            PARSE_ERR("config: WHAT is a byte");
        for (int i = 0; i < 5; i++)
            o->raw[i] = (uint8_t)v[i];
        return 1;
    }
    if (strcmp(w[0], "poke") == 0 && nw == 3) {
        o->op = FOP_POKE;
        if (num(w[1], UINT32_MAX, &v[0]) != 0 || (strcmp(w[2], "none") != 0 && num(w[2], UINT32_MAX, &v[1]) != 0))
            PARSE_ERR("usage: #@ poke SLOT PFN|none");
        o->type = (uint32_t)v[0];
        if (strcmp(w[2], "none") != 0) {
            o->value = KPOKE_NONE;
            o->pfn = (uint32_t)v[1];
        }
        return 1;
    }
    PARSE_ERR("unknown `#@` line (irq on|off, probe KIND BYTE, config ARCH CPUS WINDOW HIGHMEM WHAT, "
              "poke SLOT PFN|none)");
}

/* A trace command -> the op. */
static int from_cmd(const struct fop_decoder *d, const struct trace_cmd *c, unsigned long line, struct fop_rec *o,
                    char *err, size_t errlen)
{
    int k;
    if (c->op == KOP_INJECT) { /* FOP_IRQ's inject byte */
        for (k = 0; k < (int)KIRQ_NR_MODES && (uint64_t)inject_kinj[k] != c->arg[0]; k++)
            ;
        if (k == (int)KIRQ_NR_MODES)
            PARSE_ERR("inject %s: kmap_ops injects none and the fail-* modes only",
                      trace_inject_name((int)c->arg[0]));
        o->op = FOP_IRQ;
        o->value = (uint8_t)(KIRQ_INJECT + (unsigned)k);
        return 1;
    }
    for (k = 0; k < FOP__COUNT && trace_op_of[k] != c->op; k++)
        ;
    if (k == FOP__COUNT || trace_op_of[k] < 0)
        PARSE_ERR("'%s' is not an op of kmap_ops", trace_op_name(c->op));
    if (k >= FOP_KMAP_HIGH_GET && !d->ext)
        PARSE_ERR("'%s' needs the extended opcode table: `--kernel` in the machine header", trace_op_name(c->op));
    o->op = k;
    for (unsigned i = 0; i < c->nargs; i++)
        if (c->arg[i] > UINT32_MAX || (o->op == FOP_STORE && i == 2 && c->arg[i] > 255))
            PARSE_ERR("argument %u out of range", i + 1);
    switch (o->op) {
    case FOP_KMAP_ATOMIC:
    case FOP_KMAP_ATOMIC_PFN:
    case FOP_KUNMAP_ATOMIC: {
        long t = harness_resolve_type(d->L, &c->type);
        if (t < 0 && c->type.is_name)
            PARSE_ERR("no km_type '%s' on this arch", c->type.name);
        o->cpu = (uint32_t)c->arg[0];
        o->type = t >= 0 ? (uint32_t)t : (uint32_t)c->type.index; /* an index past the last: a bad type */
        if (o->op != FOP_KUNMAP_ATOMIC)
            o->pfn = (uint32_t)c->arg[1];
        else /* no VADDR: what the last kmap_atomic of the slot returned */
            o->vaddr = c->nargs >= 2 ? (uint32_t)c->arg[1] : fop_kunmap_addr(d, o->cpu, o->type, 0);
        break;
    }
    case FOP_LOAD:
    case FOP_STORE:
        o->cpu = (uint32_t)c->arg[0];
        o->vaddr = (uint32_t)c->arg[1];
        o->value = (uint8_t)c->arg[2];
        break;
    case FOP_KMAP_TO_PAGE:
    case FOP_KMAP_ATOMIC_TO_PAGE:
        o->vaddr = (uint32_t)c->arg[0];
        break;
    case FOP_FLUSH:
        break;
    case FOP_KMAP_LOCAL:
        o->cpu = (uint32_t)c->arg[0];
        o->pfn = (uint32_t)c->arg[1];
        break;
    case FOP_KUNMAP_LOCAL:
        o->cpu = (uint32_t)c->arg[0];
        o->vaddr = (uint32_t)c->arg[1];
        break;
    case FOP_SWITCH:
        o->cpu = (uint32_t)c->arg[0];
        o->type = (uint32_t)c->arg[1];
        break;
    default: /* kmap, kunmap, page_address, kmap_high_get */
        o->pfn = (uint32_t)c->arg[0];
        break;
    }
    return 1;
}

int fop_parse_line(const struct fop_decoder *d, const char *s, size_t n, unsigned long line, struct fop_rec *o,
                   int *cls, uint8_t bytes[FOP_MAX_OPERANDS], int *nbytes, char *err, size_t errlen)
{
    char w[MAX_WORDS][64];
    struct trace_cmd c;
    size_t p = 0, rest;
    int rc, nw;

    memset(o, 0, sizeof *o);
    *cls = FOP_CLASS_ANY;
    *nbytes = 0;
    rc = trace_parse_line(s, n, line, &c, err, errlen);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        if (from_cmd(d, &c, line, o, err, errlen) < 0)
            return -1;
        rest = 0;
        while (rest < n && s[rest] != '#')
            rest++;
    } else {
        while (p < n && (s[p] == ' ' || s[p] == '\t'))
            p++;
        if (n - p < 2 || s[p] != '#' || s[p + 1] != '@')
            return 0; /* a comment */
        nw = words(s, n, p + 2, w, &rest);
        if (nw <= 0)
            PARSE_ERR("empty or overlong `#@` line");
        if (parse_directive(w, nw, line, o, err, errlen) < 0)
            return -1;
    }
    /* an encoding hint: `#@ CLASS` or `#@ bytes B...` */
    if (n - rest < 2 || s[rest + 1] != '@')
        return 1;
    nw = words(s, n, rest + 2, w, &rest);
    if (nw == 1 && (*cls = fop_class_find(o->op, w[0])) >= 0)
        return 1;
    if (nw >= 2 && nw - 1 <= (int)FOP_MAX_OPERANDS && strcmp(w[0], "bytes") == 0) {
        for (int i = 1; i < nw; i++) {
            uint64_t v;
            if (num(w[i], 255, &v) != 0)
                PARSE_ERR("hint: '%s' is not a byte", w[i]);
            bytes[i - 1] = (uint8_t)v;
        }
        *nbytes = nw - 1;
        return 1;
    }
    PARSE_ERR("bad hint (a class of the op's main operand, or `bytes B...`)");
}

int fop_parse_machine(const struct trace_header *h, struct hm_config *cfg, uint8_t tail[6], char *err,
                      size_t errlen)
{
    unsigned long line = h->line;
    uint32_t arch = FOP_NR_ARCHES, window = 0, highmem = 0, flags = 0, i, gen = 0;
    uint64_t cpus = 1, v;
    int ext = 0, n = 0, cache = 0;

    for (int k = 0; k < h->nwords; k++) {
        const char *o = h->words[k], *val = k + 1 < h->nwords ? h->words[k + 1] : "";
        if (strcmp(o, "--debug-highmem") == 0) {
            flags |= FOP_FLAG_DEBUG;
            continue;
        }
        if (strcmp(o, "--need-flush") == 0) {
            flags |= FOP_FLAG_NEED_FLUSH;
            continue;
        }
        k++;
        if (strcmp(o, "--arch") == 0) {
            for (arch = 0; arch < FOP_NR_ARCHES + FOP_NR_EXT_ARCHES - 1u &&
                           strcmp(hm_arch_name(hm_arch_at(arch)), val) != 0;
                 arch++)
                ;
        } else if (strcmp(o, "--cpus") == 0) {
            if (num(val, 4, &cpus) != 0 || cpus < 1)
                PARSE_ERR("--cpus: kmap_ops simulates 1 to 4");
        } else if (strcmp(o, "--pkmap-entries") == 0 && num(val, UINT32_MAX, &v) == 0) {
            window = (uint32_t)v;
        } else if (strcmp(o, "--highmem-pages") == 0 && num(val, UINT32_MAX, &v) == 0) {
            highmem = (uint32_t)v;
        } else if (strcmp(o, "--kernel") == 0 && hm_kernel_find(val) >= 0) {
            /* the ext byte: the first value fop_kernel maps to this generation */
            for (gen = 0; fop_kernel(gen) != hm_kernel_find(val); gen++)
                ;
            ext = 1;
        } else if (strcmp(o, "--cache") == 0 && (strcmp(val, "on") == 0 || strcmp(val, "off") == 0)) {
            cache = strcmp(val, "on") == 0; /* the ext byte's FOP_EXT_CACHE */
        } else {
            PARSE_ERR("machine option '%s %s' (--arch, --cpus, --pkmap-entries, --highmem-pages, "
                      "--debug-highmem, --need-flush, --kernel 2.6.24|2.6.30|5.11, --cache on|off)", o, val);
        }
    }
    if (arch == FOP_NR_ARCHES + FOP_NR_EXT_ARCHES - 1u)
        PARSE_ERR("the machine header needs --arch with one of the eight arches");
    if (arch >= FOP_NR_ARCHES || cache) { /* the ext byte: 2.6.24 unless --kernel says otherwise */
        if (!ext)
            ext = 1, gen = 0;
    }
    if (arch >= FOP_NR_ARCHES) /* arm, arm-vipt, xtensa: the ext byte's bits 2-3 name them */
        gen |= (arch - FOP_NR_ARCHES + 1u) << FOP_EXT_ARCH_SHIFT;
    if (cache)
        gen |= FOP_EXT_CACHE;
    memset(cfg, 0, sizeof *cfg);
    cfg->arch = hm_arch_at(arch);
    cfg->nr_cpus = (uint32_t)cpus;
    cfg->last_pkmap = window;
    cfg->highmem_pages = highmem;
    cfg->debug_highmem = (flags & FOP_FLAG_DEBUG) != 0;
    cfg->need_flush = (flags & FOP_FLAG_NEED_FLUSH) != 0;
    cfg->kernel = ext ? fop_kernel(gen) : HM_KERNEL_2_6_24;
    /* the bytes fz_back_range reads, last byte of the input first */
    if (ext)
        tail[n++] = (uint8_t)gen;
    for (i = 0; i < FOP_NR_HIGHMEM && fop_highmem(i) != highmem; i++)
        ;
    tail[n++] = (uint8_t)i;
    if (i == FOP_NR_HIGHMEM)
        PARSE_ERR("--highmem-pages %u is not in kmap_ops.h's table (omit it for the arch's own)", highmem);
    tail[n++] = (uint8_t)(flags | (ext ? FOP_FLAG_EXT : 0u));
    tail[n++] = (uint8_t)(cpus - 1u);
    for (i = 0; i < FOP_NR_WINDOWS && fop_window(i) != window; i++)
        ;
    tail[n++] = (uint8_t)i;
    if (i == FOP_NR_WINDOWS)
        PARSE_ERR("--pkmap-entries %u is not in kmap_ops.h's table (omit it for the arch's own)", window);
    tail[n++] = (uint8_t)(arch < FOP_NR_ARCHES ? arch : 0u);
    return n;
}
